// The `lists` operator: directories of domain, regexp, IP, network and checksum lists.
#include <doctest/doctest.h>

#include "rules_helpers.h"

using namespace rules_test;

namespace {

EntryList parsed(ListKind kind, std::string_view text, std::vector<Error>* problems = nullptr) {
    EntryList l(kind);
    std::vector<Error> p;
    l.parse(text, "list.txt", p);
    l.finish(p, "list.txt");
    if (problems) *problems = p;
    return l;
}

bool lists_match(const char* operand, const char* dir, const Connection& c) {
    auto o = CompiledOperator::compile(op(OperatorType::lists, operand, dir), test_context(),
                                       "operator");
    REQUIRE_MESSAGE(o, (o ? "" : o.error().message));
    MatchInput in(c, nullptr);
    return o->match(in);
}

}  // namespace

TEST_CASE("a hosts-file domain list blocks exactly its names, in any case") {
    auto l = parsed(ListKind::domains,
                    "# comment\n127.0.0.1 localhost\n0.0.0.0 ads.example.net\n"
                    "0.0.0.0 A.example.io b.example.io # two names\nplain.example.org\n");
    CHECK(l.contains_domain("ads.example.net"));
    CHECK(l.contains_domain("ADS.Example.Net."));
    CHECK(l.contains_domain("a.example.io"));
    CHECK(l.contains_domain("b.example.io"));
    CHECK(l.contains_domain("plain.example.org"));
    CHECK_FALSE(l.contains_domain("example.net"));
    CHECK_FALSE(l.contains_domain("x.ads.example.net"));
    // The hosts file's own names are not blocklist entries.
    CHECK_FALSE(l.contains_domain("localhost"));
    CHECK(l.size() == 4);
}

TEST_CASE("*.example.com matches every subdomain, not example.com itself") {
    auto l = parsed(ListKind::domains, "*.example.com\n0.0.0.0 *.ads.example.net\n");
    CHECK(l.contains_domain("www.example.com"));
    CHECK(l.contains_domain("a.b.c.example.com"));
    CHECK_FALSE(l.contains_domain("example.com"));
    CHECK_FALSE(l.contains_domain("notexample.com"));
    CHECK(l.contains_domain("x.ads.example.net"));
    CHECK_FALSE(l.contains_domain("ads.example.net"));
}

TEST_CASE("bad list lines are reported with file and line, the rest loads") {
    std::vector<Error> problems;
    auto l = parsed(ListKind::ips, "203.0.113.7\nnot-an-ip\n2001:db8::1\n", &problems);
    CHECK(l.size() == 2);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].message == "list.txt:2: expected one IP address, got 'not-an-ip'");
}

TEST_CASE("IP and network lists") {
    auto ips = parsed(ListKind::ips, "203.0.113.7\n2001:db8::dead\n");
    CHECK(ips.contains_ip(*IpAddress::parse("203.0.113.7")));
    CHECK(ips.contains_ip(*IpAddress::parse("::ffff:203.0.113.7")));
    CHECK(ips.contains_ip(*IpAddress::parse("2001:db8::dead")));
    CHECK_FALSE(ips.contains_ip(*IpAddress::parse("203.0.113.8")));
    auto nets = parsed(ListKind::nets, "198.51.100.0/24\n10.9.0.0/16\n2001:db8:1::/48\n");
    CHECK(nets.contains_ip(*IpAddress::parse("198.51.100.200")));
    CHECK(nets.contains_ip(*IpAddress::parse("10.9.255.1")));
    CHECK_FALSE(nets.contains_ip(*IpAddress::parse("10.10.0.1")));
    CHECK(nets.contains_ip(*IpAddress::parse("2001:db8:1:ffff::1")));
    CHECK_FALSE(nets.contains_ip(*IpAddress::parse("2001:db8:2::1")));
}

TEST_CASE("regexp and md5 lists") {
    std::vector<Error> problems;
    auto re =
        parsed(ListKind::domains_regexp, "^ad[0-9]+\\.example\\.com$\n(unclosed\n", &problems);
    CHECK(re.contains_domain("ad12.example.com"));
    CHECK(re.contains_domain("AD7.EXAMPLE.COM"));
    CHECK_FALSE(re.contains_domain("ads.example.com"));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].message.find("bad regexp '(unclosed'") != std::string::npos);
    auto md5 =
        parsed(ListKind::hash_md5, "D41D8CD98F00B204E9800998ECF8427E\nnot-a-hash\n", &problems);
    CHECK(md5.contains_hash("d41d8cd98f00b204e9800998ecf8427e"));
    CHECK(md5.size() == 1);
}

TEST_CASE("lists operators read OpenSnitch list directories") {
    Connection c = conn("203.0.113.7");
    c.dst_host = "tracker.example.org";
    CHECK(lists_match("lists.domains", "tests/data/rules/lists/domains", c));
    c.dst_host = "x.doubleclick.example";
    CHECK(lists_match("lists.domains", "tests/data/rules/lists/domains/", c));
    c.dst_host = "telemetry.example.com";
    CHECK(lists_match("lists.domains", "tests/data/rules/lists/domains", c));
    c.dst_host = "www.example.com";
    CHECK_FALSE(lists_match("lists.domains", "tests/data/rules/lists/domains", c));
    c.dst_host = "a.track.example.org";
    CHECK(lists_match("lists.domains_regexp", "tests/data/rules/lists/domains_regexp", c));
    CHECK(lists_match("lists.ips", "tests/data/rules/lists/ips", c));
    CHECK_FALSE(lists_match("lists.ips", "tests/data/rules/lists/ips", conn("203.0.113.8")));
    CHECK(lists_match("lists.nets", "tests/data/rules/lists/nets", conn("198.51.100.9")));
    CHECK_FALSE(lists_match("lists.nets", "tests/data/rules/lists/nets", conn("198.51.101.9")));
}

TEST_CASE("lists.hash.md5 matches the executable's checksum") {
    struct EmptyFileHasher : ExeHashSource {
        std::optional<FileHashes> hashes(const ProcessInfo&) override {
            return FileHashes{"d41d8cd98f00b204e9800998ecf8427e", ""};
        }
    } h;
    auto o = CompiledOperator::compile(
        op(OperatorType::lists, "lists.hash.md5", "tests/data/rules/lists/md5"), test_context(),
        "operator");
    REQUIRE(o);
    const Connection c = conn();
    MatchInput in(c, &h);
    CHECK(o->match(in));
    MatchInput without(c, nullptr);
    CHECK_FALSE(o->match(without));
}
