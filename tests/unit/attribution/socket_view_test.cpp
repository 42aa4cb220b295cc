// The socket line of DESIGN.md §3 and its JSON twin.
#include <doctest/doctest.h>

#include "core/attribution/socket_view.h"

using namespace tsnitch;

namespace {
InetSocket tcp(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t state) {
    InetSocket s;
    s.src = *IpAddress::parse(src);
    s.dst = *IpAddress::parse(dst);
    s.family = s.src.family();
    s.src_port = sport;
    s.dst_port = dport;
    s.state = state;
    s.inode = 12345678;
    return s;
}
}  // namespace

TEST_CASE("inet socket lines: addresses, or the DNS name when one is known") {
    SocketRow row{25, 12345678, tcp("10.0.2.2", 54321, "140.82.121.4", 443, 1), std::nullopt};
    CHECK(socket_line(row) ==
          "25 -> socket[12345678] - 54321:10.0.2.2 -> 140.82.121.4:443, state: established");
    HostNameLookup names = [](const IpAddress& a) -> std::optional<std::string> {
        if (a.to_string() == "140.82.121.4") return "github.com";
        return std::nullopt;
    };
    CHECK(socket_line(row, names) ==
          "25 -> socket[12345678] - 54321:10.0.2.2 -> github.com:443, state: established");
    SocketRow v6{3, 9, tcp("::", 8080, "::", 0, 10), std::nullopt};
    CHECK(socket_line(v6) == "3 -> socket[9] - 8080:[::] -> [::]:0, state: listen");
}

TEST_CASE("IPv6 addresses followed by a port are in brackets; a DNS name is not") {
    SocketRow row{7, 11, tcp("fd77::1", 54321, "fd77::2", 8081, 1), std::nullopt};
    CHECK(socket_line(row) ==
          "7 -> socket[11] - 54321:[fd77::1] -> [fd77::2]:8081, state: established");
    HostNameLookup names = [](const IpAddress&) -> std::optional<std::string> { return "web"; };
    CHECK(socket_line(row, names) ==
          "7 -> socket[11] - 54321:[fd77::1] -> web:8081, state: established");
    SocketRow mapped{7, 11, tcp("::ffff:10.0.0.1", 1, "::ffff:10.0.0.2", 2, 1), std::nullopt};
    CHECK(socket_line(mapped) ==
          "7 -> socket[11] - 1:[::ffff:10.0.0.1] -> [::ffff:10.0.0.2]:2, state: established");
}

TEST_CASE("a bound but unconnected UDP socket reads as ss has it: *:* and unconn") {
    InetSocket u = tcp("0.0.0.0", 5353, "0.0.0.0", 0, 7);
    u.protocol = Protocol::udp;
    SocketRow row{6, 12, u, std::nullopt};
    CHECK(socket_line(row) == "6 -> socket[12] - 5353:0.0.0.0 -> *:*, state: unconn");
    CHECK(socket_json(ProcessSockets{}, row).find("\"state\":\"unconn\"") != std::string::npos);
    InetSocket u6 = tcp("fd77::1", 5353, "::", 0, 7);
    u6.protocol = Protocol::udp;
    CHECK(socket_line(SocketRow{6, 12, u6, std::nullopt}) ==
          "6 -> socket[12] - 5353:[fd77::1] -> *:*, state: unconn");
    // A connected UDP socket has a peer and the kernel's state.
    InetSocket c = tcp("10.0.0.1", 5000, "10.0.0.2", 53, 1);
    c.protocol = Protocol::udp;
    CHECK(socket_line(SocketRow{6, 12, c, std::nullopt}) ==
          "6 -> socket[12] - 5000:10.0.0.1 -> 10.0.0.2:53, state: established");
    // A TCP socket in CLOSE without a peer stays as the kernel says.
    CHECK(socket_line(SocketRow{6, 12, tcp("0.0.0.0", 1, "0.0.0.0", 0, 7), std::nullopt}) ==
          "6 -> socket[12] - 1:0.0.0.0 -> 0.0.0.0:0, state: close");
}

TEST_CASE("the JSON object has TCP's byte counters, null for UDP") {
    InetSocket t = tcp("10.0.2.2", 54321, "140.82.121.4", 443, 1);
    t.bytes_sent = 1201;
    t.bytes_received = 5000;
    const std::string j = socket_json(ProcessSockets{}, SocketRow{1, 2, t, std::nullopt});
    CHECK(j.find("\"bytes_sent\":1201") != std::string::npos);
    CHECK(j.find("\"bytes_received\":5000") != std::string::npos);
    InetSocket u = t;
    u.protocol = Protocol::udp;
    const std::string ju = socket_json(ProcessSockets{}, SocketRow{1, 2, u, std::nullopt});
    CHECK(ju.find("\"bytes_sent\":null") != std::string::npos);
    CHECK(ju.find("\"bytes_received\":null") != std::string::npos);
}

TEST_CASE("unix socket lines: path, abstract, unnamed; unknown sockets") {
    UnixSocket u;
    u.path = "/run/x.sock";
    CHECK(socket_line(SocketRow{4, 7, std::nullopt, u}) == "4 -> socket[7] - unix /run/x.sock");
    u.path = "@abstract";
    CHECK(socket_line(SocketRow{4, 7, std::nullopt, u}) == "4 -> socket[7] - unix @abstract");
    u.path.clear();
    CHECK(socket_line(SocketRow{4, 7, std::nullopt, u}) == "4 -> socket[7] - unix -");
    CHECK(socket_line(SocketRow{5, 8, std::nullopt, std::nullopt}) == "5 -> socket[8] - other");
}

TEST_CASE("the JSON object carries the same fields") {
    ProcessSockets p;
    p.pid = 42;
    p.comm = "curl \"x\"";
    p.exe = "/usr/bin/curl";
    SocketRow row{25, 12345678, tcp("10.0.2.2", 54321, "140.82.121.4", 443, 1), std::nullopt};
    const std::string j = socket_json(p, row);
    CHECK(j.find("\"pid\":42") != std::string::npos);
    CHECK(j.find("\"comm\":\"curl \\\"x\\\"\"") != std::string::npos);
    CHECK(j.find("\"fd\":25") != std::string::npos);
    CHECK(j.find("\"inode\":12345678") != std::string::npos);
    CHECK(j.find("\"type\":\"tcp\"") != std::string::npos);
    CHECK(j.find("\"src\":\"10.0.2.2\"") != std::string::npos);
    CHECK(j.find("\"dst_port\":443") != std::string::npos);
    CHECK(j.find("\"state\":\"established\"") != std::string::npos);
}

TEST_CASE("a process's fds resolve through the snapshot by inode") {
    SocketsSnapshot snap;
    InetSocket s = tcp("10.0.2.2", 54321, "140.82.121.4", 443, 1);
    s.inode = 1001;
    snap.inet.push_back(s);
    UnixSocket u;
    u.inode = 1002;
    u.path = "@bus";
    snap.unix_sockets.push_back(u);
    const SocketDirectory dir(std::move(snap));
    auto p = sockets_of_process("tests/data/proc/basic", 100, dir);
    REQUIRE(p.ok());
    CHECK(p->comm == "curl");
    CHECK(p->exe == "/usr/bin/curl");
    REQUIRE(p->sockets.size() == 3);
    CHECK(socket_line(p->sockets[0]) ==
          "3 -> socket[1001] - 54321:10.0.2.2 -> 140.82.121.4:443, state: established");
    CHECK(socket_line(p->sockets[1]) == "4 -> socket[1002] - unix @bus");
    CHECK(socket_line(p->sockets[2]) == "5 -> socket[7777] - other");
    CHECK_FALSE(sockets_of_process("tests/data/proc/basic", 4242, dir).ok());
}

TEST_CASE("a name from a hostile answer shows escaped in the line, raw in the JSON") {
    SocketRow row{25, 12345678, tcp("10.0.2.2", 54321, "192.0.2.7", 443, 1), std::nullopt};
    HostNameLookup names = [](const IpAddress&) -> std::optional<std::string> {
        return std::string("evil\x1b[2J\\x.test");
    };
    CHECK(socket_line(row, names) ==
          "25 -> socket[12345678] - 54321:10.0.2.2 -> evil\\e[2J\\x.test:443, state: "
          "established");
    ProcessSockets p;
    const std::string j = socket_json(p, row, names);
    CHECK(j.find("\"dst_host\":\"evil\\u001b[2J\\\\x.test\"") != std::string::npos);
    CHECK(socket_json(p, row).find("\"dst_host\":null") != std::string::npos);
}
