// The ladder end to end on the fixture tree (proc method: /proc/net tables, fds, process files),
// and the seam for a first rung (eBPF) in front of it.
#include <doctest/doctest.h>

#include "core/attribution/attribution_ladder.h"
#include "core/attribution/diag_client.h"
#include "core/attribution/process_reader.h"

using namespace tsnitch;

namespace {

const std::string kFixture = "tests/data/proc/basic";

Connection packet(Protocol p, const char* src, uint16_t sport, const char* dst, uint16_t dport) {
    Connection c;
    c.protocol = p;
    c.src = *IpAddress::parse(src);
    c.src_port = sport;
    c.dst = *IpAddress::parse(dst);
    c.dst_port = dport;
    return c;
}

ProcessModel::Options fixture_processes() {
    ProcessModel::Options o;
    o.proc_root = kFixture;
    o.diag = false;
    return o;
}

AttributionLadder::Options fixture_options(Attributor* first = nullptr) {
    AttributionLadder::Options o;
    o.method = Method::proc;
    o.first_rung = first;
    return o;
}

// A stand-in for the eBPF rung: answers for one source port only.
class FakeRung : public Attributor {
  public:
    uint16_t port = 0;
    int calls = 0;
    Attribution attribute(const Connection& c) override {
        ++calls;
        Attribution a;
        if (c.src_port == port) {
            ProcessInfo p;
            p.pid = 4242;
            p.path = "/usr/bin/seen-by-ebpf";
            a.process = std::make_shared<const ProcessInfo>(p);
            a.method = Method::ebpf;
        }
        return a;
    }
    Method method() const override { return Method::ebpf; }
};

}  // namespace

TEST_CASE("proc method: a connected TCP socket goes to the process holding its inode") {
    ProcessModel processes(fixture_processes());
    AttributionLadder ladder(processes, fixture_options());
    Attribution a =
        ladder.attribute(packet(Protocol::tcp, "192.168.1.5", 54321, "140.82.121.4", 443));
    REQUIRE(a.process);
    CHECK(a.process->pid == 100);
    CHECK(a.process->path == "/usr/bin/curl");
    CHECK(a.process->args == std::vector<std::string>{"curl", "https://example.org/"});
    CHECK(a.method == Method::proc);
    CHECK(ladder.method() == Method::proc);

    // The next connection of the same process points at the same ProcessInfo: one process
    // model, no copy per decision.
    Attribution b =
        ladder.attribute(packet(Protocol::udp, "192.168.1.5", 123, "217.144.138.234", 123));
    REQUIRE(b.process);
    CHECK(b.process->pid == 100);
    CHECK(b.process.get() == a.process.get());
    // And whoever else asks the model for that process gets it too.
    auto direct = processes.process(100);
    REQUIRE(direct.ok());
    CHECK(direct->get() == a.process.get());
}

TEST_CASE("proc method: NTP from a wildcard-bound UDP socket, and a dual-stack TCP socket") {
    ProcessModel processes(fixture_processes());
    AttributionLadder ladder(processes, fixture_options());
    auto ntp = ladder.attribute(packet(Protocol::udp, "192.168.1.5", 123, "217.144.138.234", 123));
    REQUIRE(ntp.process);
    CHECK(ntp.process->pid == 100);
    // Held in tcp6 as ::ffff:192.168.1.5 -> ::ffff:10.0.2.10, by the deleted binary of pid 200.
    auto dual = ladder.attribute(packet(Protocol::tcp, "192.168.1.5", 50000, "10.0.2.10", 80));
    REQUIRE(dual.process);
    CHECK(dual.process->pid == 200);
    CHECK(dual.process->path == "/opt/app/bin/app (deleted)");
}

TEST_CASE("nothing found: no process, so the engine applies DefaultAction (unknown-process)") {
    ProcessModel processes(fixture_processes());
    AttributionLadder ladder(processes, fixture_options());
    auto a = ladder.attribute(packet(Protocol::tcp, "192.168.1.5", 1, "140.82.121.4", 443));
    CHECK_FALSE(a.process);
    CHECK(a.method == Method::none);
    auto icmp = ladder.attribute(packet(Protocol::icmp, "192.168.1.5", 0, "1.1.1.1", 0));
    CHECK_FALSE(icmp.process);
}

TEST_CASE("a first rung answers first; when it finds nothing the ladder goes on") {
    FakeRung rung;
    rung.port = 7;
    ProcessModel processes(fixture_processes());
    AttributionLadder ladder(processes, fixture_options(&rung));
    CHECK(ladder.method() == Method::ebpf);
    auto seen = ladder.attribute(packet(Protocol::tcp, "192.168.1.5", 7, "140.82.121.4", 443));
    REQUIRE(seen.process);
    CHECK(seen.process->pid == 4242);
    CHECK(seen.method == Method::ebpf);
    auto fallback =
        ladder.attribute(packet(Protocol::tcp, "192.168.1.5", 54321, "140.82.121.4", 443));
    REQUIRE(fallback.process);
    CHECK(fallback.process->pid == 100);
    CHECK(fallback.method == Method::proc);
    CHECK(rung.calls == 2);
}

TEST_CASE("IPv6 is enabled when the proc tree says so") {
    CHECK(ipv6_enabled(kFixture));
    CHECK_FALSE(ipv6_enabled(kFixture + "/100"));
}

TEST_CASE("the environment, read on demand") {
    auto env = read_process_env(kFixture, 100);
    REQUIRE(env.ok());
    REQUIRE(env->size() == 3);
    CHECK((*env)[0] == std::pair<std::string, std::string>{"HOME", "/home/user"});
    CHECK((*env)[2] == std::pair<std::string, std::string>{"EMPTY", ""});
    CHECK_FALSE(read_process_env(kFixture, 300).ok());
}
