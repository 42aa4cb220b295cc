#include "core/rules/exe_hash_source.h"

namespace tsnitch {

std::optional<FileHashes> ProcExeHashSource::hashes(const ProcessInfo& p) {
    if (p.pid <= 0) return std::nullopt;
    std::lock_guard lock(mu_);
    auto h = hasher_.hashes(p.pid);
    if (!h) return std::nullopt;
    return *h;
}

}  // namespace tsnitch
