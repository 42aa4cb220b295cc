#include "core/rules/digest.h"

#include <bit>
#include <cstring>

namespace tsnitch {

namespace {

std::string hex(std::span<const uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

// Shared buffering of the 64-byte block hashes: feeds whole blocks to `block`.
template <class F>
void feed(std::array<uint8_t, 64>& buf, size_t& used, uint64_t& total,
          std::span<const uint8_t> data, F&& block) {
    total += data.size();
    size_t i = 0;
    if (used > 0) {
        const size_t n = std::min(data.size(), 64 - used);
        std::memcpy(buf.data() + used, data.data(), n);
        used += n;
        i = n;
        if (used < 64) return;
        block(buf.data());
        used = 0;
    }
    for (; i + 64 <= data.size(); i += 64)
        block(data.data() + i);
    std::memcpy(buf.data(), data.data() + i, data.size() - i);
    used = data.size() - i;
}

// The padding both use: 0x80, zeros, then the bit length (little- or big-endian).
std::array<uint8_t, 72> padding(size_t used, uint64_t total, bool little_endian, size_t& n) {
    std::array<uint8_t, 72> pad{};
    pad[0] = 0x80;
    n = (used < 56 ? 56 - used : 120 - used);
    const uint64_t bits = total * 8;
    for (int k = 0; k < 8; ++k) {
        pad[n + k] = static_cast<uint8_t>(little_endian ? bits >> (8 * k) : bits >> (56 - 8 * k));
    }
    n += 8;
    return pad;
}

constexpr std::array<uint32_t, 64> md5_table() {
    // floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4.
    return {0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
            0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
            0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
            0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
            0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
            0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
            0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
            0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
            0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
            0xeb86d391};
}

}  // namespace

Md5::Md5() : h_{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476} {}

void Md5::block(const uint8_t* p) {
    static constexpr auto K = md5_table();
    static constexpr int S[4][4] = {
        {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
    uint32_t m[16];
    for (int i = 0; i < 16; ++i) {
        m[i] = uint32_t(p[4 * i]) | uint32_t(p[4 * i + 1]) << 8 | uint32_t(p[4 * i + 2]) << 16 |
               uint32_t(p[4 * i + 3]) << 24;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
    for (int i = 0; i < 64; ++i) {
        uint32_t f;
        int g;
        switch (i / 16) {
            case 0:
                f = (b & c) | (~b & d);
                g = i;
                break;
            case 1:
                f = (d & b) | (~d & c);
                g = (5 * i + 1) % 16;
                break;
            case 2:
                f = b ^ c ^ d;
                g = (3 * i + 5) % 16;
                break;
            default:
                f = c ^ (b | ~d);
                g = (7 * i) % 16;
                break;
        }
        const uint32_t t = d;
        d = c;
        c = b;
        b = b + std::rotl(a + f + K[i] + m[g], S[i / 16][i % 4]);
        a = t;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
}

void Md5::update(std::span<const uint8_t> data) {
    feed(buf_, used_, total_, data, [this](const uint8_t* p) { block(p); });
}

std::string Md5::hex_digest() {
    size_t n = 0;
    const auto pad = padding(used_, total_, true, n);
    update(std::span(pad.data(), n));
    uint8_t out[16];
    for (int i = 0; i < 4; ++i) {
        for (int k = 0; k < 4; ++k)
            out[4 * i + k] = static_cast<uint8_t>(h_[i] >> (8 * k));
    }
    return hex(out);
}

Sha1::Sha1() : h_{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0} {}

void Sha1::block(const uint8_t* p) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
        w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 |
               uint32_t(p[4 * i + 2]) << 8 | uint32_t(p[4 * i + 3]);
    }
    for (int i = 16; i < 80; ++i)
        w[i] = std::rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        const uint32_t t = std::rotl(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = std::rotl(b, 30);
        b = a;
        a = t;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
}

void Sha1::update(std::span<const uint8_t> data) {
    feed(buf_, used_, total_, data, [this](const uint8_t* p) { block(p); });
}

std::string Sha1::hex_digest() {
    size_t n = 0;
    const auto pad = padding(used_, total_, false, n);
    update(std::span(pad.data(), n));
    uint8_t out[20];
    for (int i = 0; i < 5; ++i) {
        for (int k = 0; k < 4; ++k)
            out[4 * i + k] = static_cast<uint8_t>(h_[i] >> (24 - 8 * k));
    }
    return hex(out);
}

}  // namespace tsnitch
