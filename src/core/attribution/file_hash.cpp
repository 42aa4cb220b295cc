#include "core/attribution/file_hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/attribution/proc_io.h"

namespace tsnitch {

namespace {

std::string to_hex(const uint8_t* p, size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

// Feeds 64-byte blocks to `block`, keeping the rest in `buf`.
template <class Block>
void feed(std::array<uint8_t, 64>& buf, uint64_t& length, std::span<const uint8_t> data,
          Block&& block) {
    size_t used = length % 64;
    length += data.size();
    size_t i = 0;
    if (used) {
        const size_t take = std::min(data.size(), 64 - used);
        std::memcpy(buf.data() + used, data.data(), take);
        i = take;
        if (used + take < 64) return;
        block(buf.data());
    }
    for (; i + 64 <= data.size(); i += 64)
        block(data.data() + i);
    std::memcpy(buf.data(), data.data() + i, data.size() - i);
}

// The final padding: 0x80, zeros, the length in bits in the last 8 bytes.
template <class Update>
void pad(uint64_t length, bool big_endian, Update&& update) {
    const uint64_t bits = length * 8;
    uint8_t tail[72] = {0x80};
    const size_t zeros = (length % 64 < 56) ? 56 - length % 64 : 120 - length % 64;
    for (int i = 0; i < 8; ++i)
        tail[zeros + i] = static_cast<uint8_t>(bits >> (big_endian ? 56 - 8 * i : 8 * i));
    update(std::span<const uint8_t>(tail, zeros + 8));
}

const std::array<uint32_t, 64>& md5_constants() {
    // K[i] = floor(|sin(i + 1)| * 2^32), as RFC 1321 defines it.
    static const std::array<uint32_t, 64> k = [] {
        std::array<uint32_t, 64> t{};
        for (int i = 0; i < 64; ++i)
            t[i] = static_cast<uint32_t>(std::floor(std::fabs(std::sin(i + 1.0)) * 4294967296.0));
        return t;
    }();
    return k;
}

}  // namespace

void Md5::block(const uint8_t* p) {
    static constexpr int shift[4][4] = {
        {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
    const auto& k = md5_constants();
    uint32_t m[16];
    for (int i = 0; i < 16; ++i)
        m[i] = uint32_t{p[4 * i]} | uint32_t{p[4 * i + 1]} << 8 | uint32_t{p[4 * i + 2]} << 16 |
               uint32_t{p[4 * i + 3]} << 24;
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
    for (int i = 0; i < 64; ++i) {
        uint32_t f;
        int g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        f += a + k[i] + m[g];
        a = d;
        d = c;
        c = b;
        b += std::rotl(f, shift[i / 16][i % 4]);
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
}

void Md5::update(std::span<const uint8_t> data) {
    feed(buf_, length_, data, [this](const uint8_t* p) { block(p); });
}

std::string Md5::hex() {
    pad(length_, false, [this](std::span<const uint8_t> d) { update(d); });
    uint8_t out[16];
    for (int i = 0; i < 16; ++i)
        out[i] = static_cast<uint8_t>(h_[i / 4] >> (8 * (i % 4)));
    return to_hex(out, sizeof out);
}

void Sha1::block(const uint8_t* p) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i)
        w[i] = uint32_t{p[4 * i]} << 24 | uint32_t{p[4 * i + 1]} << 16 |
               uint32_t{p[4 * i + 2]} << 8 | uint32_t{p[4 * i + 3]};
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
    feed(buf_, length_, data, [this](const uint8_t* p) { block(p); });
}

std::string Sha1::hex() {
    pad(length_, true, [this](std::span<const uint8_t> d) { update(d); });
    uint8_t out[20];
    for (int i = 0; i < 20; ++i)
        out[i] = static_cast<uint8_t>(h_[i / 4] >> (24 - 8 * (i % 4)));
    return to_hex(out, sizeof out);
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
