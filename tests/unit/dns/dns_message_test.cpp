#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/dns/dns_message.h"
#include "dns_test_util.h"

using namespace dns_test;
using tsnitch::DnsMessage;
using tsnitch::IpAddress;
using tsnitch::parse_dns_message;

namespace {

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

DnsMessage parse_ok(const Wire& w) {
    auto m = parse_dns_message(w.b);
    REQUIRE_MESSAGE(m.ok(), m.error().message);
    return *m;
}

std::string parse_error(const Wire& w) {
    auto m = parse_dns_message(w.b);
    REQUIRE_FALSE(m.ok());
    return m.error().message;
}

// github.com A: CNAME to a name in the same zone (owner and target compressed), then its A record.
Wire github_via_cname() {
    Wire w;
    w.response(2).question("github.com");
    w.pointer(kQuestionName).record(kCname, 3600, 5);
    const size_t target = w.size();
    w.labels("lb").pointer(kQuestionName);
    w.pointer(target).record(kA, 60, 4).bytes({140, 82, 121, 4});
    return w;
}

}  // namespace

TEST_CASE("an address reached through a CNAME is named by the name that was asked for") {
    DnsMessage m = parse_ok(github_via_cname());
    CHECK(m.is_response);
    CHECK(m.id == 0x4242);
    CHECK(m.qname == "github.com");
    CHECK(m.qtype == kA);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].address == ip("140.82.121.4"));
    CHECK(m.answers[0].name == "github.com");
    CHECK(m.answers[0].canonical == "lb.github.com");
    CHECK(m.answers[0].ttl == 60);
}

TEST_CASE("several CNAME hops lead to the addresses, with the smallest TTL along the chain") {
    Wire w;
    w.response(5).question("www.example.org");
    w.pointer(kQuestionName).record(kCname, 300, 17).name("cdn.example.net");
    const size_t cdn = w.size() - 17;  // where the target name just written starts
    w.pointer(cdn).record(kCname, 30, 24).name("edge-7.cdnprovider.com");
    const size_t edge = w.size() - 24;
    w.pointer(edge).record(kA, 600, 4).bytes({192, 0, 2, 7});
    w.pointer(edge).record(kA, 20, 4).bytes({192, 0, 2, 8});
    w.pointer(edge)
        .record(kAaaa, 600, 16)
        .bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
    DnsMessage m = parse_ok(w);
    REQUIRE(m.answers.size() == 3);
    for (const auto& a : m.answers) {
        CHECK(a.name == "www.example.org");
        CHECK(a.canonical == "edge-7.cdnprovider.com");
    }
    CHECK(m.answers[0].address == ip("192.0.2.7"));
    CHECK(m.answers[0].ttl == 30);  // the second CNAME's
    CHECK(m.answers[1].address == ip("192.0.2.8"));
    CHECK(m.answers[1].ttl == 20);  // its own
    CHECK(m.answers[2].address == ip("2001:db8::7"));
    CHECK(m.answers[2].address.is_v6());
}

TEST_CASE("AAAA answers give IPv6 addresses") {
    Wire w;
    w.response(1).question("ipv6.test", kAaaa);
    w.pointer(kQuestionName)
        .record(kAaaa, 120, 16)
        .bytes({0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
    DnsMessage m = parse_ok(w);
    CHECK(m.qtype == kAaaa);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].address == ip("fd77::2"));
    CHECK(m.answers[0].name == "ipv6.test");
}

TEST_CASE("TXT, MX, unknown types and other classes are skipped by their length") {
    Wire w;
    w.response(5).question("mixed.test");
    w.pointer(kQuestionName).record(kTxt, 60, 6).bytes({5, 'h', 'e', 'l', 'l', 'o'});
    w.pointer(kQuestionName).record(kMx, 60, 4).u16(10).pointer(kQuestionName);
    w.pointer(kQuestionName).record(65280, 60, 3).bytes({1, 2, 3});
    w.pointer(kQuestionName).record(kA, 60, 4, /*klass=*/3).bytes({10, 0, 0, 3});  // CHAOS
    w.pointer(kQuestionName).record(kA, 60, 4).bytes({10, 0, 0, 1});
    DnsMessage m = parse_ok(w);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].address == ip("10.0.0.1"));
}

TEST_CASE("addresses of names the question does not lead to are ignored") {
    Wire w;
    w.response(2).question("asked.test");
    w.name("bank.test").record(kA, 60, 4).bytes({10, 9, 9, 9});
    w.pointer(kQuestionName).record(kA, 60, 4).bytes({10, 1, 1, 1});
    DnsMessage m = parse_ok(w);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].address == ip("10.1.1.1"));
}

TEST_CASE("a CNAME loop ends the chain instead of hanging") {
    Wire w;
    w.response(3).question("a.test");
    w.pointer(kQuestionName).record(kCname, 60, 8).name("b.test");
    w.name("b.test").record(kCname, 60, 8).name("a.test");
    w.name("b.test").record(kA, 60, 4).bytes({10, 2, 2, 2});
    DnsMessage m = parse_ok(w);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].name == "a.test");
    CHECK(m.answers[0].canonical == "b.test");
}

TEST_CASE("names are lower-cased and a dot inside a label stays distinguishable") {
    Wire w;
    w.response(1).question("GitHub.COM");
    w.pointer(kQuestionName).record(kA, 60, 4).bytes({1, 2, 3, 4});
    CHECK(parse_ok(w).answers.at(0).name == "github.com");

    Wire one_label;  // the single label "github.com" is not the name github.com
    one_label.header(1, 0x0100, 1, 0).u8(10);
    for (char c : std::string("github.com"))
        one_label.u8(c);
    one_label.u8(0).u16(kA).u16(kIn);
    CHECK(parse_ok(one_label).qname == "github\\.com");
}

TEST_CASE("a pointer loop is an error, not a hang") {
    SUBCASE("a pointer to itself") {
        Wire w;
        w.response(1).question("x.test");
        const size_t at = w.size();
        w.pointer(at).record(kA, 60, 4).bytes({1, 1, 1, 1});
        CHECK(parse_error(w).find("pointer") != std::string::npos);
    }
    SUBCASE("a pointer back to the start of its own name") {
        // ab -> (pointer to ab): every jump lands before the pointer, yet it never ends.
        Wire w;
        w.response(1).question("x.test");
        const size_t owner = w.size();
        w.u8(2).u8('a').u8('b').pointer(owner).record(kA, 60, 4).bytes({1, 1, 1, 1});
        CHECK(parse_error(w).find("pointer") != std::string::npos);
    }
    SUBCASE("two names pointing at each other") {
        Wire w;
        w.response(2).question("x.test");
        const size_t first = w.size();
        w.pointer(first + 16).record(kA, 60, 4).bytes({1, 1, 1, 1});
        w.pointer(first).record(kA, 60, 4).bytes({1, 1, 1, 1});
        CHECK_FALSE(parse_dns_message(w.b).ok());
    }
}

TEST_CASE("a pointer forward, to where no name was written yet, is an error") {
    Wire w;
    w.response(1).question("x.test");
    const size_t owner = w.size();
    w.pointer(owner + 2 + 10 + 4).record(kA, 60, 4).bytes({1, 1, 1, 1}).name("later.test");
    CHECK(parse_error(w).find("not backwards") != std::string::npos);
}

TEST_CASE("a message cut short at any length is an error") {
    const Wire full = github_via_cname();
    REQUIRE(parse_dns_message(full.b).ok());
    for (size_t n = 0; n < full.size(); ++n) {
        CAPTURE(n);
        Wire cut;
        cut.b.assign(full.b.begin(), full.b.begin() + static_cast<ptrdiff_t>(n));
        auto m = parse_dns_message(cut.b);
        CHECK_FALSE(m.ok());
        if (!m.ok()) CHECK(m.error().message.rfind("DNS message", 0) == 0);
    }
}

TEST_CASE("records whose length does not fit their type are errors") {
    Wire a;
    a.response(1).question("x.test");
    a.pointer(kQuestionName).record(kA, 60, 5).bytes({1, 2, 3, 4, 5});
    CHECK(parse_error(a).find("A record of 5 bytes") != std::string::npos);

    Wire cname;  // the target name runs past the record's end
    cname.response(1).question("x.test");
    cname.pointer(kQuestionName).record(kCname, 60, 3).name("y.test");
    CHECK_FALSE(parse_dns_message(cname.b).ok());
}

TEST_CASE("names longer than 255 bytes and labels longer than 63 are errors") {
    const std::string l63(63, 'a'), l61(61, 'b');
    Wire longest;  // 3 * 64 + 62 + 1 = 255 bytes on the wire: allowed
    longest.header(1, 0x0100, 1, 0).question(l63 + "." + l63 + "." + l63 + "." + l61);
    CHECK(parse_ok(longest).qname.size() == 3 * 64 + 61);

    Wire too_long;
    too_long.header(1, 0x0100, 1, 0).question(l63 + "." + l63 + "." + l63 + "." + l61 + "x");
    CHECK(parse_error(too_long).find("longer than 255") != std::string::npos);

    Wire too_long_by_pointer;  // each part fits, the whole after the jump does not
    too_long_by_pointer.response(1).question(l63 + "." + l63 + "." + l63);
    too_long_by_pointer.labels(l63).pointer(kQuestionName).record(kA, 60, 4).bytes({1, 1, 1, 1});
    CHECK(parse_error(too_long_by_pointer).find("longer than 255") != std::string::npos);

    Wire long_label;  // 64 has the bits 01: no label type we know
    long_label.header(1, 0x0100, 1, 0).u8(64);
    for (int i = 0; i < 64; ++i)
        long_label.u8('a');
    long_label.u8(0).u16(kA).u16(kIn);
    CHECK(parse_error(long_label).find("label type") != std::string::npos);
}

TEST_CASE("a TTL with the top bit set counts as zero") {
    Wire w;
    w.response(1).question("x.test");
    w.pointer(kQuestionName).record(kA, 0x80000000u, 4).bytes({1, 2, 3, 4});
    CHECK(parse_ok(w).answers.at(0).ttl == 0);
}

TEST_CASE("the header's flags are read") {
    Wire w;
    w.header(7, 0x8383, 1, 0).question("nx.test");  // response, TC, NXDOMAIN
    DnsMessage m = parse_ok(w);
    CHECK(m.is_response);
    CHECK(m.truncated);
    CHECK(m.rcode == 3);
    CHECK(m.answers.empty());
}

TEST_CASE("a packet to port 53 names its destination by the query") {
    Wire q;
    q.header(9, 0x0100, 1, 0).question("Example.Test");
    auto name = tsnitch::dns_query_name(q.b);
    REQUIRE(name.ok());
    CHECK(*name == "example.test");

    CHECK_FALSE(tsnitch::dns_query_name(github_via_cname().b).ok());  // an answer
    Wire none;
    none.header(9, 0x0100, 0, 0);
    CHECK_FALSE(tsnitch::dns_query_name(none.b).ok());
    Wire cut;
    cut.header(9, 0x0100, 1, 0).labels("exam");
    CHECK_FALSE(tsnitch::dns_query_name(cut.b).ok());
}

TEST_CASE("the test DNS responder's answers read as the integration tests expect") {
    // Written by tests/integration/dnsresponder.py: www.example.test -> edge.example.test ->
    // example.test -> 10.77.0.2 and fd77::2 (ANY), compressed as that server writes it.
    std::ifstream in("tests/data/fuzz/dns/responder-any", std::ios::binary);
    REQUIRE(in.good());
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    auto m = parse_dns_message(bytes);
    REQUIRE(m.ok());
    REQUIRE(m->answers.size() == 2);
    CHECK(m->answers[0].address == ip("10.77.0.2"));
    CHECK(m->answers[1].address == ip("fd77::2"));
    for (const auto& a : m->answers) {
        CHECK(a.name == "www.example.test");
        CHECK(a.canonical == "example.test");
    }
}
