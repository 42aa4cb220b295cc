#include "core/rules/exe_hasher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/rules/digest.h"

namespace tsnitch {

namespace {

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

std::optional<ExeDigests> digest_fd(int fd) {
    Md5 md5;
    Sha1 sha1;
    uint8_t buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        md5.update(std::span(buf, static_cast<size_t>(n)));
        sha1.update(std::span(buf, static_cast<size_t>(n)));
    }
    return ExeDigests{md5.hex_digest(), sha1.hex_digest()};
}

FileExeHasher::FileExeHasher(std::string proc_root, size_t max_entries)
    : proc_root_(std::move(proc_root)), max_entries_(max_entries) {}

std::optional<ExeDigests> FileExeHasher::digests(const ProcessInfo& p) {
    Fd f(-1);
    if (p.pid > 0) {
        f.fd = ::open((proc_root_ + "/" + std::to_string(p.pid) + "/exe").c_str(),
                      O_RDONLY | O_CLOEXEC);
    }
    if (f.fd < 0 && !p.path.empty()) f.fd = ::open(p.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd < 0) return std::nullopt;
    struct stat st {};
    if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    const Key key{st.st_dev, st.st_ino,
                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                  static_cast<int64_t>(st.st_size)};
    {
        std::lock_guard lock(mu_);
        if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    }
    auto d = digest_fd(f.fd);
    if (!d) return std::nullopt;
    std::lock_guard lock(mu_);
    // A bound on what a stream of new binaries can grow; a full cache simply starts over.
    if (cache_.size() >= max_entries_) cache_.clear();
    cache_.emplace(key, *d);
    return d;
}

}  // namespace tsnitch
