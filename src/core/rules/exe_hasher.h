// Checksums of a process's executable for the process.hash.* operands. Hashing a binary is slow
// (milliseconds), so the default implementation caches by file identity (device, inode, mtime,
// size) and the attribution layer may supply its own cache instead.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "core/connection.h"

namespace tsnitch {

struct ExeDigests {
    std::string md5;   // lower-case hex
    std::string sha1;  // lower-case hex
};

class ExeHasher {
  public:
    virtual ~ExeHasher() = default;
    // Digests of the process's executable, or none when it cannot be read.
    virtual std::optional<ExeDigests> digests(const ProcessInfo& p) = 0;
};

// Reads PROC_ROOT/PID/exe (which still opens a deleted binary), falling back to the path.
class FileExeHasher : public ExeHasher {
  public:
    explicit FileExeHasher(std::string proc_root = "/proc", size_t max_entries = 1024);
    std::optional<ExeDigests> digests(const ProcessInfo& p) override;

  private:
    using Key = std::tuple<uint64_t, uint64_t, int64_t, int64_t>;  // dev, ino, mtime ns, size
    std::string proc_root_;
    size_t max_entries_;
    std::mutex mu_;
    std::map<Key, ExeDigests> cache_;
};

// Digests of one open file, read to the end.
std::optional<ExeDigests> digest_fd(int fd);

}  // namespace tsnitch
