// The names file through which `tsnitch sockets` shows the running tsnitch's host names.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/dns/dns_cache.h"
#include "core/dns/names_file.h"

using namespace tsnitch;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kNow = 1764360000;

NameEntry entry(const char* address, std::string name, int64_t expires = kNow + 300) {
    return NameEntry{*IpAddress::parse(address), std::move(name), expires};
}

size_t count_lines(const std::string& text) {
    size_t n = 0;
    for (char c : text)
        n += c == '\n';
    return n;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/tsnitch-names-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("what the daemon writes, `tsnitch sockets` reads back") {
    const std::vector<NameEntry> in = {entry("140.82.121.4", "github.com"),
                                       entry("2606:50c0:8000::154", "cdn.example.org", kNow + 1)};
    const std::string text = format_names_file(4242, in);
    CHECK(text.starts_with("tsnitch-names 1 4242\n"));
    CHECK(text.find("140.82.121.4 github.com " + std::to_string(kNow + 300) + "\n") !=
          std::string::npos);
    auto f = parse_names_file(text, "names", kNow);
    REQUIRE(f);
    CHECK(f->writer_pid == 4242);
    CHECK(f->problems.empty());
    REQUIRE(f->entries.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        CHECK(f->entries[i].address == in[i].address);
        CHECK(f->entries[i].name == in[i].name);
        CHECK(f->entries[i].expires_unix == in[i].expires_unix);
    }
    auto empty = parse_names_file(format_names_file(1, {}), "names", kNow);
    REQUIRE(empty);
    CHECK(empty->entries.empty());
}

TEST_CASE("a hostile name can add neither a line nor a field, and comes back byte for byte") {
    std::string binary;
    for (int c = 0; c < 256; ++c)
        binary += static_cast<char>(c);
    const std::vector<NameEntry> in = {
        entry("192.0.2.1", "evil.test 0\n10.0.0.1 github.com 9999999999"),
        entry("192.0.2.2", "back\\x41slash"), entry("192.0.2.3", binary),
        entry("192.0.2.4", "\r\x1b[2Jspoof")};
    const std::string text = format_names_file(7, in);
    CHECK(count_lines(text) == 1 + in.size());
    for (unsigned char c : text)
        CHECK(((c >= ' ' && c < 0x7f) || c == '\n'));
    auto f = parse_names_file(text, "names", kNow);
    REQUIRE(f);
    CHECK(f->problems.empty());
    REQUIRE(f->entries.size() == in.size());
    for (size_t i = 0; i < in.size(); ++i)
        CHECK(f->entries[i].name == in[i].name);
    CHECK_FALSE(NameTable(f->entries).lookup(*IpAddress::parse("10.0.0.1")).has_value());
}

TEST_CASE("expired entries are not read") {
    const std::vector<NameEntry> in = {entry("192.0.2.1", "old.test", kNow - 10),
                                       entry("192.0.2.2", "now.test", kNow),
                                       entry("192.0.2.3", "live.test", kNow + 1)};
    auto f = parse_names_file(format_names_file(7, in), "names", kNow);
    REQUIRE(f);
    REQUIRE(f->entries.size() == 1);
    CHECK(f->entries[0].name == "live.test");
    CHECK(f->problems.empty());
}

TEST_CASE("a file cut short gives only whole lines, never a wrong entry") {
    const std::vector<NameEntry> in = {entry("192.0.2.1", "one.test", kNow + 1000),
                                       entry("192.0.2.2", "two.test", kNow + 2000),
                                       entry("fd00::3", "three.test", kNow + 3000)};
    const std::string text = format_names_file(7, in);
    for (size_t cut = 0; cut < text.size(); ++cut) {
        CAPTURE(cut);
        const std::string_view part(text.data(), cut);
        auto f = parse_names_file(part, "names", kNow);
        const size_t header = text.find('\n') + 1;
        if (cut < header) {
            CHECK_FALSE(f);
            continue;
        }
        REQUIRE(f);
        const size_t whole = count_lines(std::string(part)) - 1;
        REQUIRE(f->entries.size() == whole);
        for (size_t i = 0; i < whole; ++i) {
            CHECK(f->entries[i].name == in[i].name);
            CHECK(f->entries[i].expires_unix == in[i].expires_unix);
        }
        const bool mid_line = part.back() != '\n';
        CHECK(f->problems.size() == (mid_line ? 1u : 0u));
        if (mid_line)
            CHECK(f->problems[0].message ==
                  "names:" + std::to_string(whole + 2) + ": cut short (no newline)");
    }
}

TEST_CASE("bad lines are skipped with file and line, the others read") {
    const std::string text =
        "tsnitch-names 1 9\n"
        "192.0.2.1 good.test 9999999999\n"
        "300.1.1.1 bad-address.test 9999999999\n"
        "192.0.2.3 bad\\xZZescape 9999999999\n"
        "192.0.2.4 raw\x01"
        "byte 9999999999\n"
        "192.0.2.5 two  spaces 9999999999\n"
        "192.0.2.6 neg.test -5\n"
        "192.0.2.7 noexpiry\n"
        "192.0.2.8 cut\\x4 9999999999\n"
        "\n" +
        std::string("192.0.2.9 ") + std::string(kNamesFileMaxLine, 'a') + " 9999999999\n" +
        "192.0.2.10 also-good.test 9999999999\n";
    auto f = parse_names_file(text, "/run/tsnitch/names.1", kNow);
    REQUIRE(f);
    REQUIRE(f->entries.size() == 2);
    CHECK(f->entries[0].name == "good.test");
    CHECK(f->entries[1].name == "also-good.test");
    REQUIRE(f->problems.size() == 9);
    CHECK(f->problems[0].message == "/run/tsnitch/names.1:3: bad address '300.1.1.1'");
    CHECK(f->problems[1].message == "/run/tsnitch/names.1:4: bad name");
    CHECK(f->problems[5].message == "/run/tsnitch/names.1:8: expected ADDRESS NAME EXPIRY");
    CHECK(f->problems[8].message == "/run/tsnitch/names.1:11: line too long");
}

TEST_CASE("a file that is not a names file is an error naming it") {
    for (const char* text : {"", "hello\n", "tsnitch-names 2 5\n", "tsnitch-names 1 x\n",
                             "tsnitch-names 1 0\n", "tsnitch-names 1 5"}) {
        CAPTURE(text);
        auto f = parse_names_file(text, "/tmp/f", kNow);
        REQUIRE_FALSE(f);
        CHECK(f.error().message.starts_with("/tmp/f:1: "));
    }
}

TEST_CASE("the table finds names as the DNS cache does") {
    NameTable t({entry("192.0.2.1", "v4.test"), entry("fe80::1", "link.test")});
    CHECK(t.lookup(*IpAddress::parse("192.0.2.1")) == "v4.test");
    CHECK(t.lookup(*IpAddress::parse("::ffff:192.0.2.1")) == "v4.test");
    CHECK(t.lookup(*IpAddress::parse("fe80::1%2")) == "link.test");
    CHECK_FALSE(t.lookup(*IpAddress::parse("192.0.2.2")).has_value());
}

TEST_CASE("the file is per network namespace, beside the control socket") {
    CHECK(names_file_path("/run/tsnitch/control.sock", 4026531840) ==
          "/run/tsnitch/names.4026531840");
    CHECK(names_file_path("/tmp/t/c.sock", 5) == "/tmp/t/names.5");
    CHECK(names_file_path("/c.sock", 5) == "/names.5");
    CHECK(netns_inode_from_link("net:[4026531840]") == 4026531840u);
    CHECK_FALSE(netns_inode_from_link("mnt:[4026531840]").has_value());
    CHECK_FALSE(netns_inode_from_link("net:[]").has_value());
    CHECK_FALSE(netns_inode_from_link("net:[12x]").has_value());
}

TEST_CASE("the daemon publishes its cache when it changed, root-only, and removes the file") {
    TempDir tmp;
    const std::string path = tmp.path + "/run/names.1";  // the directory is created
    DnsCache cache;
    const int64_t start = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    {
        NamesPublisher pub(cache, path, 1234);
        REQUIRE(pub.start());
        auto f = read_names_file(path, start);
        REQUIRE(f);
        CHECK(f->writer_pid == 1234);
        CHECK(f->entries.empty());
        struct stat st {};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);

        cache.add(*IpAddress::parse("192.0.2.1"), "one.test", 300s);
        REQUIRE(pub.publish());
        f = read_names_file(path, start);
        REQUIRE(f);
        REQUIRE(f->entries.size() == 1);
        CHECK(f->entries[0].name == "one.test");
        CHECK(f->entries[0].expires_unix >= start + 299);
        CHECK(f->entries[0].expires_unix <= start + 302);

        // Nothing changed: the file is not written again (it would come back if it were).
        std::filesystem::remove(path);
        REQUIRE(pub.publish());
        CHECK_FALSE(std::filesystem::exists(path));
        cache.add(*IpAddress::parse("192.0.2.2"), "two.test", 300s);
        REQUIRE(pub.publish());
        CHECK(count_lines(slurp(path)) == 3);
    }
    CHECK_FALSE(std::filesystem::exists(path));
    auto gone = read_names_file(path, start);
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == ENOENT);
}
