#include "core/attribution/file_hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/attribution/proc_io.h"

namespace tsnitch {

void Digest::CtxFree::operator()(evp_md_ctx_st* ctx) const {
    EVP_MD_CTX_free(ctx);
}

Digest::Digest(const char* name) : ctx_(EVP_MD_CTX_new()) {
    // MD5 and SHA-1 name binaries here (as OpenSnitch's operands do); they guard nothing.
    // A libcrypto without it (FIPS mode refuses MD5) gives an empty digest: no rule matches.
    const EVP_MD* md = EVP_get_digestbyname(name);
    if (ctx_ && (md == nullptr || EVP_DigestInit_ex(ctx_.get(), md, nullptr) != 1)) ctx_.reset();
}

void Digest::update(std::span<const uint8_t> data) {
    if (ctx_) EVP_DigestUpdate(ctx_.get(), data.data(), data.size());
}

std::string Digest::hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!ctx_ || EVP_DigestFinal_ex(ctx_.get(), out, &n) != 1) return {};
    ctx_.reset();
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(n * 2);
    for (unsigned int i = 0; i < n; ++i) {
        s += digits[out[i] >> 4];
        s += digits[out[i] & 15];
    }
    return s;
}

ExeHasher::ExeHasher(std::string proc_root) : root_(std::move(proc_root)) {}

Result<FileHashes> ExeHasher::hashes(int pid) {
    const std::string path = root_ + "/" + std::to_string(pid) + "/exe";
    auto fd = open_read_only(path);
    if (!fd) return fd.error();
    auto failed = [&path](const char* what) {
        const int e = errno;
        return make_error(std::string(what) + " " + path + ": " + std::strerror(e), e);
    };
    struct stat st {};
    if (fstat(fd->get(), &st) != 0) return failed("reading");
    const Key key{st.st_dev, st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    Md5 md5;
    Sha1 sha1;
    std::vector<uint8_t> buf(65536);
    for (;;) {
        const ssize_t n = ::read(fd->get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return failed("reading");
        }
        if (n == 0) break;
        md5.update({buf.data(), static_cast<size_t>(n)});
        sha1.update({buf.data(), static_cast<size_t>(n)});
    }
    // Bounded: one entry per distinct binary; a machine has a few thousand at most.
    if (cache_.size() >= 4096) cache_.clear();
    FileHashes h{md5.hex(), sha1.hex()};
    cache_.emplace(key, h);
    return h;
}

}  // namespace tsnitch
