// Every operator type and operand of DESIGN.md §5, one connection at a time.
#include <doctest/doctest.h>

#include "rules_helpers.h"

using namespace rules_test;

namespace {

// A process whose executable "hashes" to fixed digests, so tests need no real binary.
struct FakeHasher : ExeHashSource {
    int calls = 0;
    std::optional<FileHashes> hashes(const ProcessInfo& p) override {
        ++calls;
        if (p.path != "/usr/bin/curl") return std::nullopt;
        return FileHashes{"0123456789abcdef0123456789abcdef",
                          "0123456789abcdef0123456789abcdef01234567"};
    }
};

bool matches(const RuleOperator& o, const Connection& c, ExeHashSource* hasher = nullptr) {
    auto compiled = CompiledOperator::compile(o, test_context(), "operator");
    REQUIRE_MESSAGE(compiled, (compiled ? "" : compiled.error().message));
    MatchInput in(c, hasher);
    return compiled->match(in);
}

std::string compile_error(const RuleOperator& o) {
    auto compiled = CompiledOperator::compile(o, test_context(), "operator");
    REQUIRE(!compiled);
    return compiled.error().message;
}

}  // namespace

TEST_CASE("true matches every connection, even one without a process") {
    Connection c = conn();
    CHECK(matches(simple("true", ""), c));
    c.process.reset();
    CHECK(matches(simple("true", ""), c));
}

TEST_CASE("process operands") {
    const Connection c = conn();
    CHECK(matches(simple("process.id", "4242"), c));
    CHECK_FALSE(matches(simple("process.id", "4243"), c));
    CHECK(matches(simple("process.path", "/usr/bin/curl"), c));
    CHECK_FALSE(matches(simple("process.path", "/usr/bin/wget"), c));
    CHECK(matches(simple("process.parent.path", "/usr/bin/bash"), c));
    CHECK(matches(simple("process.parent.path", "/usr/lib/systemd/systemd"), c));
    CHECK_FALSE(matches(simple("process.parent.path", "/usr/bin/curl"), c));
    CHECK(matches(simple("process.command", "/usr/bin/curl -s https://example.com/"), c));
    CHECK(matches(regexp("process.command", "\\s-s\\s"), c));
    CHECK(matches(simple("process.env.HOME", "/home/alice"), c));
    CHECK_FALSE(matches(simple("process.env.HOME", "/root"), c));
    CHECK_FALSE(matches(simple("process.env.NOPE", ""), c));
}

TEST_CASE("process operands never match a connection whose process is unknown") {
    Connection c = conn();
    c.process.reset();
    CHECK_FALSE(matches(simple("process.path", "/usr/bin/curl"), c));
    CHECK_FALSE(matches(regexp("process.path", ".*"), c));
    CHECK_FALSE(matches(simple("process.id", "4242"), c));
    CHECK_FALSE(matches(simple("process.env.HOME", "/home/alice"), c));
    // The kernel's uid still identifies the user.
    CHECK(matches(simple("user.id", "1000"), c));
}

TEST_CASE("process.hash.* compares the executable's digests, case-insensitively") {
    FakeHasher h;
    const Connection c = conn();
    CHECK(matches(simple("process.hash.md5", "0123456789ABCDEF0123456789abcdef"), c, &h));
    CHECK(matches(simple("process.hash.sha1", "0123456789abcdef0123456789abcdef01234567"), c, &h));
    CHECK_FALSE(matches(simple("process.hash.md5", "ffffffffffffffffffffffffffffffff"), c, &h));
    // An unreadable executable matches no checksum.
    CHECK_FALSE(matches(simple("process.hash.md5", "0123456789abcdef0123456789abcdef"),
                        conn("1.2.3.4", 80, "/opt/gone"), &h));
}

TEST_CASE("an executable is hashed once per connection, and only when a rule asks") {
    FakeHasher h;
    const Connection c = conn();
    auto o = all_of({simple("process.hash.md5", "0123456789abcdef0123456789abcdef"),
                     simple("process.hash.sha1", "0123456789abcdef0123456789abcdef01234567")});
    CHECK(matches(o, c, &h));
    CHECK(h.calls == 1);
    CHECK(matches(simple("process.path", "/usr/bin/curl"), c, &h));
    CHECK(h.calls == 1);
}

TEST_CASE("user.id and user.name") {
    const Connection c = conn();
    CHECK(matches(simple("user.id", "1000"), c));
    CHECK_FALSE(matches(simple("user.id", "0"), c));
    // user.name is resolved to a uid when the rule is compiled.
    CHECK(matches(simple("user.name", "alice"), c));
    CHECK_FALSE(matches(simple("user.name", "root"), c));
    CHECK(compile_error(simple("user.name", "nobody-here")).find("unknown user") !=
          std::string::npos);
    CHECK(matches(regexp("user.name", "^ali"), c));
}

TEST_CASE("addresses, ports and networks") {
    const Connection c = conn("93.184.216.34", 443);
    CHECK(matches(simple("source.ip", "10.0.2.15"), c));
    CHECK(matches(simple("source.port", "54321"), c));
    CHECK(matches(simple("source.network", "10.0.0.0/8"), c));
    CHECK(matches(simple("dest.ip", "93.184.216.34"), c));
    CHECK_FALSE(matches(simple("dest.ip", "93.184.216.35"), c));
    CHECK(matches(simple("dest.port", "443"), c));
    CHECK_FALSE(matches(simple("dest.port", "80"), c));
    CHECK(matches(simple("dest.network", "93.184.216.0/24"), c));
    CHECK_FALSE(matches(simple("dest.network", "93.184.217.0/24"), c));
    CHECK(matches(op(OperatorType::network, "dest.network", "93.184.0.0/16"), c));
    CHECK(matches(op(OperatorType::network, "dest.ip", "93.184.0.0/16"), c));
    CHECK(matches(op(OperatorType::network, "source.network", "10.0.2.0/24"), c));
    CHECK_FALSE(matches(op(OperatorType::network, "source.ip", "192.168.0.0/16"), c));
    CHECK(matches(regexp("dest.ip", "^93\\.184\\."), c));
}

TEST_CASE("an IPv4 packet of a dual-stack socket matches IPv4 rules") {
    Connection c = conn("::ffff:93.184.216.34");
    CHECK(matches(simple("dest.ip", "93.184.216.34"), c));
    CHECK(matches(op(OperatorType::network, "dest.network", "93.184.216.0/24"), c));
    c = conn("2001:db8::1");
    CHECK(matches(simple("dest.ip", "2001:DB8:0::1"), c));
    CHECK(matches(op(OperatorType::network, "dest.network", "2001:db8::/32"), c));
    CHECK_FALSE(matches(op(OperatorType::network, "dest.network", "10.0.0.0/8"), c));
}

TEST_CASE("dest.host, with and without case sensitivity") {
    Connection c = conn();
    c.dst_host = "WWW.Example.COM.";
    CHECK(matches(simple("dest.host", "www.example.com"), c));
    CHECK_FALSE(matches(simple("dest.host", "www.example.com", true), c));
    CHECK(matches(simple("dest.host", "WWW.Example.COM", true), c));
    CHECK(matches(regexp("dest.host", "^(|.*\\.)example\\.com$"), c));
    CHECK_FALSE(matches(regexp("dest.host", "^(|.*\\.)example\\.com$", true), c));
    c.dst_host.reset();
    CHECK_FALSE(matches(simple("dest.host", "www.example.com"), c));
    CHECK_FALSE(matches(regexp("dest.host", ".*"), c));
}

TEST_CASE("sensitive decides case for paths and commands too") {
    const Connection c = conn("1.2.3.4", 443, "/opt/App/Bin");
    CHECK(matches(simple("process.path", "/opt/app/bin"), c));
    CHECK_FALSE(matches(simple("process.path", "/opt/app/bin", true), c));
    CHECK(matches(regexp("process.path", "app/bin$"), c));
    CHECK_FALSE(matches(regexp("process.path", "app/bin$", true), c));
}

TEST_CASE("regexps are unanchored, as Go's MatchString") {
    const Connection c = conn();
    CHECK(matches(regexp("process.path", "curl"), c));
    CHECK_FALSE(matches(regexp("process.path", "^curl"), c));
    CHECK(matches(regexp("dest.port", "^44[0-9]$"), c));
}

TEST_CASE("protocol matches OpenSnitch's names, tcp6/udp6 included for IPv6") {
    Connection c = conn();
    CHECK(matches(simple("protocol", "tcp"), c));
    CHECK(matches(simple("protocol", "TCP"), c));
    CHECK_FALSE(matches(simple("protocol", "udp"), c));
    CHECK_FALSE(matches(simple("protocol", "tcp6"), c));
    c = conn("2001:db8::1");
    c.protocol = Protocol::udp;
    CHECK(matches(simple("protocol", "udp6"), c));
    CHECK(matches(simple("protocol", "udp"), c));
    CHECK(matches(regexp("protocol", "^udp6$"), c));
}

TEST_CASE("iface.in and iface.out") {
    Connection c = conn();
    CHECK(matches(simple("iface.out", "eth0"), c));
    CHECK_FALSE(matches(simple("iface.out", "wlan0"), c));
    CHECK_FALSE(matches(simple("iface.in", "eth0"), c));
    c.iface_in = "lo";
    CHECK(matches(simple("iface.in", "lo"), c));
}

TEST_CASE("range on ports, pids and uids") {
    const Connection c = conn("1.2.3.4", 8080);
    CHECK(matches(op(OperatorType::range, "dest.port", "8000-8999"), c));
    CHECK(matches(op(OperatorType::range, "dest.port", "8080-8080"), c));
    CHECK_FALSE(matches(op(OperatorType::range, "dest.port", "1-1023"), c));
    CHECK(matches(op(OperatorType::range, "user.id", "1000-60000"), c));
    CHECK(matches(op(OperatorType::range, "process.id", "4000-5000"), c));
    CHECK(matches(op(OperatorType::range, "source.port", "32768-60999"), c));
    CHECK(compile_error(op(OperatorType::range, "dest.port", "9-1")).find("range") !=
          std::string::npos);
    CHECK(compile_error(op(OperatorType::range, "dest.host", "1-2")).find("operand") !=
          std::string::npos);
}

TEST_CASE("list is an AND of its sub-operators") {
    const Connection c = conn();
    auto both = all_of({simple("process.path", "/usr/bin/curl"), simple("dest.port", "443")});
    CHECK(matches(both, c));
    CHECK_FALSE(matches(both, conn("93.184.216.34", 80)));
    CHECK_FALSE(matches(both, conn("93.184.216.34", 443, "/usr/bin/wget")));
    // Nested lists work too.
    CHECK(matches(all_of({both, regexp("dest.host", "example")}), c));
}

TEST_CASE("errors name the field and what was wrong") {
    CHECK(compile_error(simple("process.colour", "x")) ==
          "operator.operand: unknown operand 'process.colour'");
    CHECK(compile_error(regexp("dest.host", "(")).starts_with("operator.data: bad regexp '('"));
    CHECK(compile_error(op(OperatorType::network, "dest.network", "10.0.0.0/33")) ==
          "operator.data: expected a network like 10.0.0.0/8, got '10.0.0.0/33'");
    CHECK(compile_error(simple("dest.port", "http")) ==
          "operator.data: expected a number, got 'http'");
    CHECK(compile_error(simple("dest.port", "70000")) ==
          "operator.data: expected a number, got '70000'");
    CHECK(compile_error(simple("dest.ip", "example.com")).find("expected an IP address") !=
          std::string::npos);
    CHECK(compile_error(all_of({simple("dest.port", "1"), regexp("dest.host", "[")}))
              .starts_with("operator.list[1].data: bad regexp"));
    CHECK(compile_error(simple("lists.domains", "/tmp")).find("type lists") != std::string::npos);
    CHECK(compile_error(op(OperatorType::lists, "dest.host", "/tmp")).find("type lists") !=
          std::string::npos);
    CHECK(compile_error(op(OperatorType::lists, "lists.domains", "/nonexistent/lists"))
              .find("/nonexistent/lists") != std::string::npos);
}
