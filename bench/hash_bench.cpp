// Throughput of the MD5 and SHA-1 digests behind process.hash.md5 / process.hash.sha1 (an
// executable is hashed once per (device, inode, mtime)). Hashes a 64 MiB buffer in 64 KiB pieces,
// as ExeHasher reads a file, five times each, and prints the best MB/s of each.
//   hash_bench [MiB]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/attribution/file_hash.h"

namespace {

template <class Digest>
double best_mb_per_s(const std::vector<uint8_t>& data, std::string& out) {
    double best = 0;
    for (int round = 0; round < 5; ++round) {
        const auto t0 = std::chrono::steady_clock::now();
        Digest d;
        for (size_t off = 0; off < data.size(); off += 65536) {
            const size_t n = std::min<size_t>(65536, data.size() - off);
            d.update(std::span<const uint8_t>(data.data() + off, n));
        }
        out = d.hex();
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, static_cast<double>(data.size()) / 1e6 / s);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    const size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 64;
    std::vector<uint8_t> data(mib << 20);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<uint8_t>(i * 2654435761u >> 24);
    std::string md5, sha1;
    const double m = best_mb_per_s<tsnitch::Md5>(data, md5);
    const double s = best_mb_per_s<tsnitch::Sha1>(data, sha1);
    std::printf("md5  %8.1f MB/s  %s\nsha1 %8.1f MB/s  %s\n", m, md5.c_str(), s, sha1.c_str());
    return 0;
}
