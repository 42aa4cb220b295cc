// MD5 and SHA-1 of executables, for the process.hash.md5 / process.hash.sha1 rule operands
// (OpenSnitch's). Neither is used for security here: they name a binary, as OpenSnitch does.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <tuple>

#include "core/result.h"

namespace tsnitch {

// Incremental digests; `hex()` ends the computation.
class Md5 {
  public:
    void update(std::span<const uint8_t> data);
    std::string hex();

  private:
    void block(const uint8_t* p);
    std::array<uint32_t, 4> h_{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    std::array<uint8_t, 64> buf_{};
    uint64_t length_ = 0;
};

class Sha1 {
  public:
    void update(std::span<const uint8_t> data);
    std::string hex();

  private:
    void block(const uint8_t* p);
    std::array<uint32_t, 5> h_{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    std::array<uint8_t, 64> buf_{};
    uint64_t length_ = 0;
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
