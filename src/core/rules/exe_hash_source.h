// Checksums of a process's executable for the process.hash.* and lists.hash.md5 operands. The
// rules take them through this interface, so that the engine can hand in the attribution layer's
// cache (or a test a fake); hashing a binary is slow (milliseconds) and is done only when a rule
// asks.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "core/attribution/file_hash.h"
#include "core/connection.h"

namespace tsnitch {

class ExeHashSource {
  public:
    virtual ~ExeHashSource() = default;
    // MD5 and SHA-1 of the process's executable, or none when it cannot be read.
    virtual std::optional<FileHashes> hashes(const ProcessInfo& p) = 0;
};

// The default: the attribution layer's ExeHasher (PROC_ROOT/PID/exe, cached by device, inode and
// mtime), shared by the threads that match rules.
class ProcExeHashSource : public ExeHashSource {
  public:
    explicit ProcExeHashSource(std::string proc_root = "/proc") : hasher_(std::move(proc_root)) {}
    std::optional<FileHashes> hashes(const ProcessInfo& p) override;

  private:
    std::mutex mu_;
    ExeHasher hasher_;
};

}  // namespace tsnitch
