// The socket table model: sockets grouped by process, sorted and filtered as the Processes view
// shows them; the opened process's lines across refreshes (new ones marked, closed ones fading);
// the incremental owner index behind a refresh.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <filesystem>
#include <fstream>

#include "core/attribution/attribution_ladder.h"
#include "core/attribution/socket_monitor.h"
#include "core/attribution/socket_table.h"
#include "tui/process_list.h"

using namespace tsnitch;
namespace fs = std::filesystem;

namespace {

constexpr uint8_t kEstablished = 1, kSynSent = 2, kListen = 10, kClose = 7;

InetSocket inet(Protocol proto, uint8_t state, uint64_t inode, uint16_t sport = 1000) {
    InetSocket s;
    s.protocol = proto;
    s.state = state;
    s.inode = inode;
    s.src = *IpAddress::parse("10.0.0.1");
    s.src_port = sport;
    s.dst = *IpAddress::parse("10.0.0.2");
    s.dst_port = 443;
    return s;
}

UnixSocket unix_sock(uint64_t inode) {
    UnixSocket u;
    u.inode = inode;
    return u;
}

// pid 10: 2 established TCP, 1 listening, 1 UDP; pid 20: 1 syn_sent, 2 unix; inode 99 no owner.
SocketsSnapshot fixture() {
    SocketsSnapshot s;
    s.inet = {inet(Protocol::tcp, kEstablished, 1),
              inet(Protocol::tcp, kEstablished, 2),
              inet(Protocol::tcp, kListen, 3),
              inet(Protocol::udp, kClose, 4),
              inet(Protocol::tcp, kSynSent, 5),
              inet(Protocol::tcp, kEstablished, 99),
              inet(Protocol::tcp, 6, 0)};  // time_wait: no inode
    s.unix_sockets = {unix_sock(6), unix_sock(7)};
    return s;
}

std::unordered_map<uint64_t, InodeIndex::Owner> owners() {
    return {{1, {10, 3}}, {2, {10, 4}}, {3, {10, 5}}, {4, {10, 6}},
            {5, {20, 3}}, {6, {20, 4}}, {7, {20, 5}}};
}

SocketRow row(int fd, uint64_t inode, uint8_t state = kEstablished) {
    return SocketRow{fd, inode, inet(Protocol::tcp, state, inode), std::nullopt};
}

// A /proc-like tree of processes with socket fds, for the owner index.
struct Tree {
    fs::path root;
    Tree() {
        static int n = 0;
        root = fs::temp_directory_path() /
               ("tsnitch-table-" + std::to_string(getpid()) + "-" + std::to_string(n++));
        fs::create_directories(root);
    }
    ~Tree() { fs::remove_all(root); }
    void process(int pid) const {
        fs::create_directories(root / std::to_string(pid) / "fd");
        std::ofstream(root / std::to_string(pid) / "status") << "Name:\tx\nUid:\t0\t0\t0\t0\n";
    }
    void socket(int pid, int fd, uint64_t inode) const {
        fs::create_symlink("socket:[" + std::to_string(inode) + "]",
                           root / std::to_string(pid) / "fd" / std::to_string(fd));
    }
};

}  // namespace

TEST_CASE("processes: sockets counted by kind, for the process that holds them") {
    const auto procs = summarize_processes(fixture(), owners());
    REQUIRE(procs.size() == 2);
    CHECK(procs[0].pid == 10);
    CHECK(procs[0].tcp_established == 2);
    CHECK(procs[0].tcp_listen == 1);
    CHECK(procs[0].udp == 1);
    CHECK(procs[0].unix_sockets == 0);
    CHECK(procs[0].total() == 4);
    CHECK(procs[1].pid == 20);
    CHECK(procs[1].tcp_other == 1);
    CHECK(procs[1].unix_sockets == 2);
    CHECK(procs[1].total() == 3);
}

TEST_CASE("processes: TCP traffic summed over the sockets open now, and sorted by it") {
    auto snap = fixture();
    snap.inet[0].bytes_sent = 100;
    snap.inet[1].bytes_received = 50;
    snap.inet[4].bytes_sent = 1000;
    auto procs = summarize_processes(snap, owners());
    CHECK(procs[0].bytes_sent == 100);
    CHECK(procs[0].bytes_received == 50);
    CHECK(procs[1].bytes_sent == 1000);
    sort_processes(procs, ProcessOrder::traffic, false);
    CHECK(procs[0].pid == 20);
}

TEST_CASE("processes: sorted by a column, reversed, and filtered") {
    auto procs = summarize_processes(fixture(), owners());
    procs[0].comm = "zsh";
    procs[0].user = "root";
    procs[1].comm = "curl";
    procs[1].user = "alice";
    procs[1].exe = "/usr/bin/curl";
    sort_processes(procs, ProcessOrder::unix_sockets, false);
    CHECK(procs[0].pid == 20);
    sort_processes(procs, ProcessOrder::sockets, false);
    CHECK(procs[0].pid == 10);
    sort_processes(procs, ProcessOrder::name, false);
    CHECK(procs[0].comm == "curl");
    sort_processes(procs, ProcessOrder::name, true);
    CHECK(procs[0].comm == "zsh");
    sort_processes(procs, ProcessOrder::user, false);
    CHECK(procs[0].user == "alice");

    CHECK(process_matches(procs[0], "USR/BIN"));
    CHECK(process_matches(procs[0], "20"));
    CHECK_FALSE(process_matches(procs[1], "curl"));
    CHECK(process_matches(procs[1], ""));
}

TEST_CASE("socket list: new sockets marked once, closed ones fade for a refresh then go") {
    SocketList list(1);
    list.update({row(3, 100), row(4, 101)});
    REQUIRE(list.entries().size() == 2);
    CHECK(list.entries()[0].change == SocketList::Change::steady);  // opening marks nothing

    list.update({row(3, 100), row(4, 101), row(5, 102)});
    REQUIRE(list.entries().size() == 3);
    CHECK(list.entries()[2].row.fd == 5);
    CHECK(list.entries()[2].change == SocketList::Change::added);

    // fd 4 closed: still listed, marked closed, in its place; the new one is no longer new.
    list.update({row(3, 100), row(5, 102)});
    REQUIRE(list.entries().size() == 3);
    CHECK(list.entries()[1].row.fd == 4);
    CHECK(list.entries()[1].change == SocketList::Change::closed);
    CHECK(list.entries()[2].change == SocketList::Change::steady);

    // The second refresh after the close: gone.
    list.update({row(3, 100), row(5, 102)});
    REQUIRE(list.entries().size() == 2);
    CHECK(list.entries()[1].row.fd == 5);

    // The same fd with a new socket is a new line; state changes update the line in place.
    list.update({row(3, 100, kClose), row(5, 200)});
    REQUIRE(list.entries().size() == 3);
    CHECK(list.entries()[0].row.inet->state == kClose);
    CHECK(list.entries()[0].change == SocketList::Change::steady);
    CHECK(list.entries()[1].row.inode == 102);
    CHECK(list.entries()[1].change == SocketList::Change::closed);
    CHECK(list.entries()[2].row.inode == 200);
    CHECK(list.entries()[2].change == SocketList::Change::added);
}

TEST_CASE("owner index sync: new sockets found by reading few processes, gone ones dropped") {
    Tree t;
    for (int pid = 1; pid <= 20; ++pid) {
        t.process(pid);
        t.socket(pid, 3, 1000 + pid);
    }
    InodeIndex index(t.root.string());
    std::vector<uint64_t> live;
    for (int pid = 1; pid <= 20; ++pid)
        live.push_back(1000 + pid);
    auto owners = index.sync(live);
    CHECK(owners.at(1007).pid == 7);
    const size_t scans = index.fd_scans();
    CHECK(scans == 20);

    // Nothing new: no process is read again.
    index.sync(live);
    CHECK(index.fd_scans() == scans);

    // Process 20 (the newest socket maker) opens another: found by reading it first.
    t.socket(20, 4, 5000);
    live.push_back(5000);
    owners = index.sync(live);
    CHECK(owners.at(5000).pid == 20);
    CHECK(owners.at(5000).fd == 4);
    CHECK(index.fd_scans() == scans + 1);

    // A socket nobody holds costs one search, not one per refresh.
    live.push_back(7777);
    index.sync(live);
    const size_t after_miss = index.fd_scans();
    index.sync(live);
    CHECK(index.fd_scans() == after_miss);
    CHECK_FALSE(index.sync(live).count(7777));

    // Closed: no longer live, no longer owned.
    live.erase(std::find(live.begin(), live.end(), 1007));
    CHECK_FALSE(index.sync(live).count(1007));

    // Through the summary: process 20 now has two sockets.
    SocketsSnapshot snap;
    for (uint64_t inode : live)
        snap.inet.push_back(inet(Protocol::tcp, kEstablished, inode));
    const auto procs = summarize_processes(snap, index.sync(live));
    auto p20 = std::find_if(procs.begin(), procs.end(),
                            [](const ProcessSummary& p) { return p.pid == 20; });
    REQUIRE(p20 != procs.end());
    CHECK(p20->tcp_established == 2);
    CHECK(procs.size() == 19);
}

TEST_CASE("all fds of a process, with their targets, in fd order") {
    Tree t;
    t.process(42);
    t.socket(42, 10, 77);
    fs::create_symlink("/dev/pts/0", t.root / "42/fd/1");
    fs::create_symlink("/dev/null", t.root / "42/fd/0");
    auto fds = list_fd_links(t.root.string(), 42);
    REQUIRE(fds);
    REQUIRE(fds->size() == 3);
    CHECK((*fds)[0].fd == 0);
    CHECK((*fds)[1].target == "/dev/pts/0");
    CHECK((*fds)[2].target == "socket:[77]");
    CHECK_FALSE(list_fd_links(t.root.string(), 43));
}

TEST_CASE("the monitor thread delivers this process's new socket, and pauses when asked") {
    ProcessModel processes(ProcessModel::Options{.warm_index = false});
    auto table = SocketTable::open(processes);
    if (!table) {
        MESSAGE("no sock_diag here: " << table.error().message);
        return;
    }
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(s, 1) == 0);
    struct stat st {};
    REQUIRE(::fstat(s, &st) == 0);

    SocketMonitor monitor(std::move(*table), std::chrono::milliseconds(100));
    monitor.set_focus(::getpid(), false);
    std::shared_ptr<const SocketTableSnapshot> snap;
    for (int i = 0; i < 50 && !(snap && snap->focus_pid == ::getpid()); ++i) {
        pollfd p{monitor.wake_fd(), POLLIN, 0};
        REQUIRE(::poll(&p, 1, 5000) == 1);
        snap = monitor.take();
    }
    REQUIRE(snap);
    REQUIRE(snap->focus);
    auto row = std::find_if(snap->focus->sockets.begin(), snap->focus->sockets.end(),
                            [&](const SocketRow& r) { return r.fd == s; });
    REQUIRE(row != snap->focus->sockets.end());
    CHECK(row->inode == st.st_ino);
    REQUIRE(row->inet);
    CHECK(socket_state_name(row->inet->state) == "listen");
    CHECK(socket_line(*row).find(":127.0.0.1 -> 0.0.0.0:0, state: listen") != std::string::npos);

    // Paused: a refresh already running may still end; after it nothing more arrives.
    monitor.set_paused(true);
    pollfd p{monitor.wake_fd(), POLLIN, 0};
    (void)::poll(&p, 1, 2000);
    (void)monitor.take();
    CHECK(::poll(&p, 1, 400) == 0);
    ::close(s);
}

TEST_CASE("processes: the command line tells same-named processes apart, and the filter finds it") {
    CHECK(join_cmdline({"python3", "-m", "http.server", "8000"}) == "python3 -m http.server 8000");
    CHECK(join_cmdline({}).empty());
    const std::string huge(3 * kMaxCmdline, 'x');
    CHECK(join_cmdline({"a", huge}).size() == kMaxCmdline);
    ProcessSummary a, b;
    a.pid = 1, a.comm = b.comm = "python3";
    b.pid = 2;
    a.cmdline = "python3 -m http.server 8000";
    b.cmdline = "python3 /srv/worker.py";
    CHECK(process_matches(a, "HTTP.SERVER"));
    CHECK_FALSE(process_matches(b, "http.server"));
    CHECK(process_matches(b, "worker"));
}

TEST_CASE("traffic rates: bytes per second between two refreshes, never negative") {
    using Time = TrafficRates::Time;
    const Time t0{};
    TrafficRates r;
    ProcessSummary p;
    p.pid = 7;
    p.bytes_sent = 1000;
    p.bytes_received = 500;
    r.update({p}, t0);
    CHECK_FALSE(r.of(7));  // one refresh: no rate yet
    p.bytes_sent = 3000;
    p.bytes_received = 1500;
    r.update({p}, t0 + std::chrono::seconds(2));
    REQUIRE(r.of(7));
    CHECK(r.of(7)->sent == doctest::Approx(1000));
    CHECK(r.of(7)->received == doctest::Approx(500));
    // A socket closed and took its bytes with it: no traffic, not a negative rate.
    p.bytes_sent = 100;
    ProcessSummary q;
    q.pid = 8;
    r.update({p, q}, t0 + std::chrono::seconds(3));
    REQUIRE(r.of(7));
    CHECK(r.of(7)->sent == 0);
    CHECK(r.of(7)->received == 0);
    CHECK_FALSE(r.of(8));  // new
    // A process that is gone has no rate.
    r.update({q}, t0 + std::chrono::seconds(4));
    CHECK_FALSE(r.of(7));
    REQUIRE(r.of(8));
}

TEST_CASE("one process model: what the socket table learnt, the attribution ladder knows") {
    ProcessModel processes(ProcessModel::Options{.warm_index = false});
    auto table = SocketTable::open(processes);
    if (!table) {
        MESSAGE("no sock_diag here: " << table.error().message);
        return;
    }
    AttributionLadder ladder(processes, {});
    // A UDP socket of this process, bound to a port of its own.
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);

    auto snap = table->refresh(std::nullopt, false);
    REQUIRE(snap);
    auto me = std::find_if(snap->processes.begin(), snap->processes.end(),
                           [](const ProcessSummary& p) { return p.pid == ::getpid(); });
    REQUIRE(me != snap->processes.end());
    const size_t scans = processes.fd_scans();

    Connection c;
    c.protocol = Protocol::udp;
    c.src = *IpAddress::parse("127.0.0.1");
    c.src_port = ntohs(a.sin_port);
    c.dst = *IpAddress::parse("127.0.0.1");
    c.dst_port = 9;
    Attribution found = ladder.attribute(c);
    REQUIRE(found.process);
    CHECK(found.process->pid == ::getpid());
    // The owner came from the index the table's refresh filled: no process's fds read again.
    CHECK(processes.fd_scans() == scans);
    // And the process is the one object the table's refresh read, shared.
    auto direct = processes.process(::getpid());
    REQUIRE(direct);
    CHECK(direct->get() == found.process.get());
    CHECK(ladder.attribute(c).process.get() == found.process.get());
    ::close(s);
}
