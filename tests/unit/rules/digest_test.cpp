#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "core/attribution/file_hash.h"
#include "core/rules/exe_hash_source.h"
#include "rules_helpers.h"

using namespace tsnitch;

namespace {

template <class H>
std::string digest(const std::string& s, size_t chunk = 0) {
    H h;
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    if (chunk == 0) chunk = s.size() + 1;
    for (size_t i = 0; i < s.size(); i += chunk) {
        h.update(std::span(p + i, std::min(chunk, s.size() - i)));
    }
    return h.hex();
}

}  // namespace

TEST_CASE("MD5 and SHA-1 give the published test vectors") {
    CHECK(digest<Md5>("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(digest<Md5>("abc") == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(digest<Md5>("The quick brown fox jumps over the lazy dog") ==
          "9e107d9d372bb6826bd81d3542a419d6");
    CHECK(digest<Sha1>("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(digest<Sha1>("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(digest<Sha1>("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    const std::string million(1'000'000, 'a');
    CHECK(digest<Md5>(million, 4093) == "7707d6ae4e027c70eea2a935c2296f21");
    CHECK(digest<Sha1>(million, 17) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("the default hash source reads PROC/PID/exe and notices a new binary") {
    rules_test::ScratchDir dir;
    std::filesystem::create_directories(dir.file("proc/42"));
    std::filesystem::create_symlink(dir.file("prog"), dir.file("proc/42/exe"));
    dir.write("prog", "abc");
    ProcExeHashSource source(dir.file("proc"));
    ProcessInfo p;
    p.pid = 42;
    auto d = source.hashes(p);
    REQUIRE(d);
    CHECK(d->md5 == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(d->sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d");
    // A new binary at the same path is a new file (new inode): hashed again, not served stale.
    dir.write("prog.new", "");
    std::rename(dir.file("prog.new").c_str(), dir.file("prog").c_str());
    d = source.hashes(p);
    REQUIRE(d);
    CHECK(d->md5 == "d41d8cd98f00b204e9800998ecf8427e");
    p.pid = 43;
    CHECK_FALSE(source.hashes(p));
}
