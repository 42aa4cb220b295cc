// /proc readers against the fixture tree tests/data/proc/basic (and temporary copies of it).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/attribution/file_hash.h"
#include "core/attribution/inode_index.h"
#include "core/attribution/proc_io.h"
#include "core/attribution/proc_net.h"
#include "core/attribution/proc_parse.h"
#include "core/attribution/process_reader.h"

using namespace tsnitch;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = "tests/data/proc/basic";

// A private copy of the fixture that a test may change.
struct TempProc {
    fs::path root;
    TempProc() {
        root = fs::temp_directory_path() /
               ("tsnitch-proc-" + std::to_string(getpid()) + "-" + std::to_string(counter()++));
        fs::copy(kFixture, root, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    }
    ~TempProc() { fs::remove_all(root); }
    static int& counter() {
        static int n = 0;
        return n;
    }
    void write(const std::string& rel, const std::string& text) const {
        std::ofstream(root / rel, std::ios::trunc) << text;
    }
    void relink(const std::string& rel, const std::string& target) const {
        fs::remove(root / rel);
        fs::create_symlink(target, root / rel);
    }
};

}  // namespace

TEST_CASE("socket links") {
    CHECK(parse_socket_link("socket:[12345678]") == 12345678u);
    CHECK_FALSE(parse_socket_link("pipe:[12]"));
    CHECK_FALSE(parse_socket_link("socket:[]"));
    CHECK_FALSE(parse_socket_link("socket:[12x]"));
    CHECK_FALSE(parse_socket_link("/dev/null"));
}

TEST_CASE("stat lines, with a comm that holds parentheses and spaces") {
    auto st = parse_proc_stat(
        "200 (my) app) S 100 200 200 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 6000 1000 0");
    REQUIRE(st);
    CHECK(st->pid == 200);
    CHECK(st->comm == "my) app");
    CHECK(st->state == 'S');
    CHECK(st->ppid == 100);
    CHECK(st->start_time == 6000u);
    CHECK_FALSE(parse_proc_stat("200 (x) S 1 2"));  // cut short
    CHECK_FALSE(parse_proc_stat("garbage"));
}

TEST_CASE("status Uid: the effective uid") {
    CHECK(parse_status_uid("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t0\n") == 0u);
    CHECK(parse_status_uid("Name:\tx\nUid:\t1000\t1001\t0\t0\n") == 1001u);
    CHECK_FALSE(parse_status_uid("Name:\tx\n"));
}

TEST_CASE("cmdline") {
    using V = std::vector<std::string>;
    CHECK(split_cmdline(std::string_view("curl\0-s\0https://x/\0", 19)) ==
          V{"curl", "-s", "https://x/"});
    CHECK(split_cmdline("") == V{});
    CHECK(split_cmdline("no-nul-at-end") == V{"no-nul-at-end"});
}

TEST_CASE("the socket fds of a process, by readlink") {
    auto fds = list_socket_fds(kFixture, 100);
    REQUIRE(fds.ok());
    REQUIRE(fds->size() == 3);  // fd 0 (/dev/null) and fd 6 (a pipe) are no sockets
    CHECK((*fds)[0].fd == 3);
    CHECK((*fds)[0].inode == 1001u);
    CHECK((*fds)[2].inode == 7777u);
    auto unreadable = list_socket_fds(kFixture, 400);
    REQUIRE_FALSE(unreadable.ok());
    CHECK(unreadable.error().message.find(kFixture + "/400/fd") != std::string::npos);
}

TEST_CASE("inode index: the holder of a socket, the socket's uid first") {
    InodeIndex index(kFixture);
    auto o = index.find(2001, 1000);
    REQUIRE(o);
    CHECK(o->pid == 200);
    CHECK(o->fd == 5);
    // Held by a root process and a uid-1000 one: the socket's user decides.
    CHECK(index.find(7777, 1000)->pid == 100);
    CHECK(InodeIndex(kFixture).find(7777, 0)->pid == 500);
    CHECK(index.find(9001, std::nullopt)->pid == 1);
    // Unreadable fds (400), zombies (300) and kernel threads (2) hold nothing, and don't stop it.
    CHECK_FALSE(index.find(424242, 0));
    CHECK_FALSE(index.find(0, 0));
    // Asked again at once, an inode nobody holds costs no second walk of every process.
    const size_t scans = index.fd_scans();
    CHECK_FALSE(index.find(424242, 0));
    CHECK(index.fd_scans() == scans);
}

TEST_CASE("inode index: a known inode costs no rescan, a new process is found incrementally") {
    TempProc t;
    InodeIndex index(t.root.string());
    index.refresh_all();
    const size_t scans = index.fd_scans();
    CHECK(index.find(1001, 1000)->pid == 100);
    CHECK(index.find(5001, 0)->pid == 500);
    CHECK(index.fd_scans() == scans);

    // A new process with a new socket: found by reading that one first.
    fs::create_directories(t.root / "600/fd");
    t.write("600/stat", "600 (new) S 1 600 600 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9900 1 0");
    t.write("600/status", "Name:\tnew\nUid:\t1000\t1000\t1000\t1000\n");
    fs::create_symlink("socket:[6001]", t.root / "600/fd/4");
    CHECK(index.find(6001, 1000)->pid == 600);
    CHECK(index.fd_scans() == scans + 1);

    // The socket moved: the cached holder is checked, and the new holder found.
    fs::remove(t.root / "100/fd/3");
    fs::create_symlink("socket:[1001]", t.root / "500/fd/11");
    auto o = index.find(1001, 0);
    REQUIRE(o);
    CHECK(o->pid == 500);
    CHECK(o->fd == 11);

    // A process that ended takes its sockets with it.
    fs::remove_all(t.root / "600");
    CHECK_FALSE(index.find(6001, 1000));
}

TEST_CASE("process info: exe, argv, cwd, uid and user, parents") {
    ProcessReader reader(kFixture);
    auto p = reader.read(200);
    REQUIRE(p.ok());
    CHECK((*p)->pid == 200);
    CHECK((*p)->comm == "my) app");
    CHECK((*p)->path == "/opt/app/bin/app (deleted)");  // a deleted binary keeps its mark
    CHECK((*p)->args == std::vector<std::string>{"app", "--serve"});
    CHECK((*p)->cwd == "/srv");
    CHECK((*p)->uid == 1000u);
    CHECK((*p)->start_time == 6000u);
    CHECK((*p)->ppid == 100);
    REQUIRE((*p)->parents.size() == 2);
    CHECK((*p)->parents[0].pid == 100);
    CHECK((*p)->parents[0].name == "curl");
    CHECK((*p)->parents[0].path == "/usr/bin/curl");
    CHECK((*p)->parents[1].pid == 1);
    CHECK((*p)->parents[1].path == "/usr/lib/systemd/systemd");

    auto root = reader.read(500);
    REQUIRE(root.ok());
    CHECK((*root)->user == "root");

    // Read again while nothing changed: the same shared object, not a copy.
    auto again = reader.read(200);
    REQUIRE(again.ok());
    CHECK(again->get() == p->get());
}

TEST_CASE("zombies and kernel threads have no exe, cwd or argv, but a name") {
    ProcessReader reader(kFixture);
    auto z = reader.read(300);
    REQUIRE(z.ok());
    CHECK((*z)->comm == "defunct");
    CHECK((*z)->path.empty());
    CHECK((*z)->args.empty());
    CHECK((*z)->cwd.empty());
    auto k = reader.read(2);
    REQUIRE(k.ok());
    CHECK((*k)->comm == "kthreadd");
    CHECK((*k)->path.empty());
    CHECK((*k)->parents.empty());
}

TEST_CASE("a missing process is an error naming it") {
    ProcessReader reader(kFixture);
    auto p = reader.read(4242);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().message.find("4242") != std::string::npos);
}

TEST_CASE("a reused pid never inherits the old process's identity") {
    TempProc t;
    ProcessReader reader(t.root.string());
    auto before = reader.read(100);
    REQUIRE(before.ok());
    CHECK((*before)->path == "/usr/bin/curl");

    // Same pid, same start time, but another program (an exec): never the cached identity.
    t.relink("100/exe", "/usr/bin/changed-under-us");
    CHECK((*reader.read(100))->path == "/usr/bin/changed-under-us");
    t.relink("100/exe", "/usr/bin/curl");
    CHECK((*reader.read(100))->path == "/usr/bin/curl");

    // pid 100 ended and a new process got the number: a new start time.
    t.write("100/stat", "100 (wget) S 1 100 100 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 7777 1 0");
    t.relink("100/exe", "/usr/bin/wget");
    t.write("100/cmdline", std::string("wget\0-q\0", 8));
    auto after = reader.read(100);
    REQUIRE(after.ok());
    CHECK((*after)->path == "/usr/bin/wget");
    CHECK((*after)->comm == "wget");
    CHECK((*after)->args == std::vector<std::string>{"wget", "-q"});
    CHECK((*after)->start_time == 7777u);
}

TEST_CASE("an exec of the same program with other arguments is a new identity") {
    TempProc t;
    ProcessReader reader(t.root.string());
    auto before = reader.read(100);
    REQUIRE(before.ok());
    t.write("100/cmdline", std::string("curl\0https://other.example\0", 27));
    auto after = reader.read(100);
    REQUIRE(after.ok());
    CHECK((*after)->path == (*before)->path);
    CHECK(after->get() != before->get());  // holders of the old identity keep it
    CHECK((*after)->args == std::vector<std::string>{"curl", "https://other.example"});
}

TEST_CASE("md5 and sha1 of known inputs") {
    auto md5 = [](std::string_view s) {
        Md5 h;
        h.update({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
        return h.hex();
    };
    auto sha1 = [](std::string_view s) {
        Sha1 h;
        h.update({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
        return h.hex();
    };
    CHECK(md5("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(md5("abc") == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
          "57edf4a22be3c955ac49da2e2107b67a");
    CHECK(sha1("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(sha1("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    // Fed in pieces across block boundaries: the same digest.
    Sha1 pieces;
    const std::string a(1000, 'a');
    for (size_t i = 0; i < a.size(); i += 7)
        pieces.update(
            {reinterpret_cast<const uint8_t*>(a.data()) + i, std::min<size_t>(7, a.size() - i)});
    CHECK(pieces.hex() == sha1(a));
}

TEST_CASE("exe hashes follow the binary and are cached by (device, inode, mtime)") {
    TempProc t;
    t.write("prog", "abc");
    t.relink("100/exe", (t.root / "prog").string());
    ExeHasher hasher(t.root.string());
    auto h = hasher.hashes(100);
    REQUIRE(h.ok());
    CHECK(h->md5 == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(h->sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d");
    // A new binary at the same path (new inode): new hashes.
    fs::remove(t.root / "prog");
    t.write("prog", "");
    CHECK(hasher.hashes(100)->md5 == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK_FALSE(hasher.hashes(300).ok());  // a zombie has no exe
}

TEST_CASE("proc method tables: /proc/net/tcp, udp and tcp6 lines") {
    auto tcp = read_proc_net(kFixture, Protocol::tcp, Family::v4);
    REQUIRE(tcp.ok());
    REQUIRE(tcp->size() == 2);
    CHECK((*tcp)[0].src.to_string() == "127.0.0.1");
    CHECK((*tcp)[0].src_port == 631);
    CHECK((*tcp)[0].state == 10);
    CHECK((*tcp)[1].src.to_string() == "192.168.1.5");
    CHECK((*tcp)[1].src_port == 54321);
    CHECK((*tcp)[1].dst.to_string() == "140.82.121.4");
    CHECK((*tcp)[1].dst_port == 443);
    CHECK((*tcp)[1].uid == 1000u);
    CHECK((*tcp)[1].inode == 1001u);
    CHECK((*tcp)[1].wqueue == 1u);
    CHECK((*tcp)[1].rqueue == 2u);
    auto tcp6 = read_proc_net(kFixture, Protocol::tcp, Family::v6);
    REQUIRE(tcp6.ok());
    REQUIRE(tcp6->size() == 1);
    CHECK((*tcp6)[0].src.to_string() == "::ffff:192.168.1.5");
    CHECK((*tcp6)[0].dst.to_string() == "::ffff:10.0.2.10");
    CHECK((*tcp6)[0].dst_port == 80);
    auto none = read_proc_net(kFixture, Protocol::udplite, Family::v4);  // no such table
    REQUIRE(none.ok());
    CHECK(none->empty());
    CHECK_FALSE(parse_proc_net_line("  0: 0100007F:0277 garbage", Protocol::tcp, Family::v4));
}
