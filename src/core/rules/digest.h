// MD5 (RFC 1321) and SHA-1 (FIPS 180-4) of byte streams, for OpenSnitch's process.hash.md5 and
// process.hash.sha1 operands. Both are identity checks of executables here, not security.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace tsnitch {

class Md5 {
  public:
    Md5();
    void update(std::span<const uint8_t> data);
    std::string hex_digest();  // 32 lower-case hex digits; ends the computation

  private:
    void block(const uint8_t* p);
    std::array<uint32_t, 4> h_;
    std::array<uint8_t, 64> buf_{};
    size_t used_ = 0;
    uint64_t total_ = 0;
};

class Sha1 {
  public:
    Sha1();
    void update(std::span<const uint8_t> data);
    std::string hex_digest();  // 40 lower-case hex digits; ends the computation

  private:
    void block(const uint8_t* p);
    std::array<uint32_t, 5> h_;
    std::array<uint8_t, 64> buf_{};
    size_t used_ = 0;
    uint64_t total_ = 0;
};

}  // namespace tsnitch
