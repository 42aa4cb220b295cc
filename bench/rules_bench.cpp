// Match time per connection: 1,000 rules (simple and regexp), 1,000 OpenSnitch list rules, and a
// domain list of 1,000 vs 100,000 entries (the lookup must not grow with the list).
// Run: build/bench/rules_bench
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/rules/rule_store.h"

using namespace tsnitch;

namespace {

RuleOperator simple(std::string operand, std::string data) {
    RuleOperator o;
    o.operand = std::move(operand);
    o.data = std::move(data);
    return o;
}

RuleOperator regexp(std::string operand, std::string data) {
    RuleOperator o = simple(std::move(operand), std::move(data));
    o.type = OperatorType::regexp;
    return o;
}

Rule make_rule(std::string name, Action a, RuleOperator op) {
    Rule r;
    r.name = std::move(name);
    r.action = a;
    r.op = std::move(op);
    r.duration = {RuleDuration::Kind::until_restart, {}};
    return r;
}

Connection make_conn(std::mt19937& rng, int hosts) {
    Connection c;
    c.src = *IpAddress::parse("10.0.2.15");
    c.src_port = static_cast<uint16_t>(32768 + rng() % 20000);
    c.dst = IpAddress::v4(0x5db8d800u + rng() % 256);
    c.dst_port = static_cast<uint16_t>(rng() % 2 ? 443 : 1000 + rng() % 2000);
    c.uid = 1000;
    ProcessInfo p;
    p.pid = static_cast<int>(1000 + rng() % 30000);
    p.path = "/usr/bin/app" + std::to_string(rng() % 2000);
    p.args = {p.path, "--flag"};
    c.process = std::make_shared<const ProcessInfo>(p);
    const int h = static_cast<int>(rng() % static_cast<unsigned>(hosts));
    c.dst_host = "host" + std::to_string(h) + ".example" + std::to_string(h % 50) + ".com";
    return c;
}

struct Stats {
    double p50_us, p99_us, mean_us;
    size_t matched;
};

Stats measure(RuleStore& store, int hosts, int n = 200'000) {
    std::mt19937 rng(42);
    std::vector<Connection> conns;
    for (int i = 0; i < 4096; ++i)
        conns.push_back(make_conn(rng, hosts));
    std::vector<double> us;
    us.reserve(static_cast<size_t>(n));
    size_t matched = 0;
    for (int i = 0; i < 2000; ++i)
        (void)store.match(conns[static_cast<size_t>(i) % 4096]);
    for (int i = 0; i < n; ++i) {
        const Connection& c = conns[static_cast<size_t>(i) % conns.size()];
        const auto t0 = std::chrono::steady_clock::now();
        auto m = store.match(c);
        const auto t1 = std::chrono::steady_clock::now();
        matched += m.has_value();
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    double sum = 0;
    for (double x : us)
        sum += x;
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us[us.size() * 99 / 100], sum / static_cast<double>(us.size()),
            matched};
}

void print(const char* what, const Stats& s, int n = 200'000) {
    std::printf("%-48s p50 %7.3f us  p99 %7.3f us  mean %7.3f us  (%zu of %d matched)\n", what,
                s.p50_us, s.p99_us, s.mean_us, s.matched, n);
}

RuleStoreOptions memory_options() {
    RuleStoreOptions o;
    o.compile.resolve_user = [](std::string_view) { return std::optional<uint32_t>(1000); };
    return o;
}

void thousand_rules() {
    RuleStore store(memory_options());
    std::mt19937 rng(1);
    for (int i = 0; i < 1000; ++i) {
        const std::string n = "rule-" + std::to_string(i);
        const Action a = i % 3 == 0 ? Action::deny : Action::allow;
        switch (i % 4) {
            case 0:
                (void)store.add(
                    make_rule(n, a, simple("process.path", "/usr/bin/app" + std::to_string(i))));
                break;
            case 1:
                (void)store.add(
                    make_rule(n, a,
                              simple("dest.host", "host" + std::to_string(i) + ".example" +
                                                      std::to_string(i % 50) + ".com")));
                break;
            case 2:
                (void)store.add(make_rule(
                    n, a, regexp("dest.host", "^(|.*\\.)example" + std::to_string(i) + "\\.com$")));
                break;
            default:
                (void)store.add(make_rule(
                    n, a, regexp("process.path", "^/usr/bin/app" + std::to_string(i) + "$")));
                break;
        }
    }
    print("1,000 rules (500 simple, 500 regexp)", measure(store, 2000));
    // What a prompt's answer costs: one more rule means a new snapshot and regexp sets.
    const auto t0 = std::chrono::steady_clock::now();
    (void)store.add(make_rule("one-more", Action::allow, regexp("dest.host", "^one\\.more$")));
    const auto t1 = std::chrono::steady_clock::now();
    std::printf("%-48s %.2f ms\n", "adding rule 1,001 (index rebuilt)",
                std::chrono::duration<double, std::milli>(t1 - t0).count());
}

void thousand_list_rules() {
    RuleStore store(memory_options());
    for (int i = 0; i < 1000; ++i) {
        RuleOperator l;
        l.type = OperatorType::list;
        l.operand = "list";
        l.list = {simple("process.path", "/usr/bin/app" + std::to_string(i)),
                  i % 2
                      ? regexp("dest.host", "^(|.*\\.)example" + std::to_string(i % 50) + "\\.com$")
                      : simple("dest.port", "443")};
        (void)store.add(
            make_rule("list-" + std::to_string(i), i % 3 == 0 ? Action::deny : Action::allow, l));
    }
    print("1,000 list rules (process.path AND host/port)", measure(store, 2000));
}

void domain_list(int entries, const std::string& dir) {
    std::filesystem::create_directories(dir);
    {
        std::ofstream out(dir + "/hosts");
        for (int i = 0; i < entries; ++i) {
            out << "0.0.0.0 host" << i << ".example" << i % 50 << ".com\n";
        }
    }
    RuleStore store(memory_options());
    RuleOperator o;
    o.type = OperatorType::lists;
    o.operand = "lists.domains";
    o.data = dir;
    auto added = store.add(make_rule("block", Action::deny, o));
    if (!added) std::fprintf(stderr, "%s\n", added.error().message.c_str());
    // Half of the hosts asked for are in the list.
    const std::string what = "domain list of " + std::to_string(entries) + " entries";
    print(what.c_str(), measure(store, entries * 2));
}

}  // namespace

int main() {
    thousand_rules();
    thousand_list_rules();
    char tmpl[] = "/tmp/tsnitch-rules-bench-XXXXXX";
    const std::string tmp = ::mkdtemp(tmpl);
    domain_list(1'000, tmp + "/small");
    domain_list(100'000, tmp + "/large");
    std::filesystem::remove_all(tmp);
    return 0;
}
