// Process identity from /proc (or a fixture tree): exe, argv, cwd, uid and user name, comm,
// parent chain, start time. Cached by pid and checked on every read against the start time (a
// reused pid) and against comm, exe and argv (an exec keeps the pid and the start time).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/connection.h"
#include "core/result.h"

namespace tsnitch {

class ProcessReader {
  public:
    explicit ProcessReader(std::string proc_root = "/proc");

    // The process `pid` as it is now. Zombies and kernel threads have no exe, cwd or argv: those
    // stay empty. Fails when the process does not exist. The same object while the process and
    // its program stay the same (validated on every read).
    Result<ProcessRef> read(int pid);

    // The name of `uid` (empty when it has none), cached: a name service may be slow.
    std::string user_name(uint32_t uid);

  private:
    Result<ProcessInfo> read_fresh(int pid, uint64_t start, int ppid, std::string comm);
    std::string path(int pid, const char* entry) const;

    std::string root_;
    std::unordered_map<int, ProcessRef> cache_;  // validated per read, see above
    std::unordered_map<uint32_t, std::string> users_;
};

// The environment of `pid` (read only when a rule asks for process.env.NAME).
Result<std::vector<std::pair<std::string, std::string>>> read_process_env(
    const std::string& proc_root, int pid);

}  // namespace tsnitch
