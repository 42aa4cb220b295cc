// MD5 and SHA-1 of executables, for the process.hash.md5 / process.hash.sha1 rule operands
// (OpenSnitch's). Neither is used for security here: they name a binary, as OpenSnitch does.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>

#include "core/result.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace tsnitch {

// Incremental digests computed by OpenSSL's libcrypto (EVP); `hex()` ends the computation.
class Digest {
  public:
    void update(std::span<const uint8_t> data);
    std::string hex();

  protected:
    explicit Digest(const char* name);  // "MD5", "SHA1"

  private:
    struct CtxFree {
        void operator()(evp_md_ctx_st* ctx) const;
    };
    std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;
};

class Md5 : public Digest {
  public:
    Md5() : Digest("MD5") {}
};

class Sha1 : public Digest {
  public:
    Sha1() : Digest("SHA1") {}
};

struct FileHashes {
    std::string md5;   // lower-case hex
    std::string sha1;  // lower-case hex
};

// Hashes of the executable of a process (`proc_root`/PID/exe, which still reads when the binary
// was deleted), cached by the file's (device, inode, mtime): a binary is read once, however many
// processes run it.
class ExeHasher {
  public:
    explicit ExeHasher(std::string proc_root = "/proc");
    Result<FileHashes> hashes(int pid);

  private:
    std::string root_;
    using Key = std::tuple<uint64_t, uint64_t, int64_t, int64_t>;  // dev, inode, mtime s, ns
    std::map<Key, FileHashes> cache_;
};

}  // namespace tsnitch
