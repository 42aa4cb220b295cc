// The rule store: OpenSnitch's evaluation order, durations, changes written to disk, live reload.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/stat.h>

#include <atomic>
#include <random>
#include <thread>

#include "core/fs.h"
#include "core/rules/rule_store.h"
#include "rules_helpers.h"

using namespace rules_test;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
    std::chrono::system_clock::time_point t =
        std::chrono::system_clock::time_point{} + 1'800'000'000s;
    Clock clock() {
        return [this] { return t; };
    }
};

RuleStoreOptions memory_only(FakeClock* clock = nullptr) {
    RuleStoreOptions o;
    o.compile = test_context();
    if (clock) o.clock = clock->clock();
    return o;
}

// The store's options with its rules directory in `d`.
RuleStoreOptions in_dir(const ScratchDir& d, FakeClock* clock = nullptr) {
    RuleStoreOptions o = memory_only(clock);
    o.dir = d.path;
    return o;
}

std::optional<std::string> winner(RuleStore& s, const Connection& c) {
    auto m = s.match(c);
    return m ? std::optional(m->rule_name) : std::nullopt;
}

const RuleDuration kAlways{RuleDuration::Kind::always, {}};

// Waits for the store's inotify fd and applies what changed.
std::vector<Error> wait_and_process(RuleStore& s, RuleStore::Changes* changes = nullptr) {
    pollfd p{s.watch_fd(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    return s.process_events(changes);
}

}  // namespace

TEST_CASE("no rules: no decision") {
    RuleStore s(memory_only());
    CHECK_FALSE(s.match(conn()));
}

TEST_CASE("the last matching allow wins when nothing denies") {
    RuleStore s(memory_only());
    REQUIRE(s.add(rule("b-allow-curl", Action::allow, simple("process.path", "/usr/bin/curl"))));
    REQUIRE(s.add(rule("a-allow-443", Action::allow, simple("dest.port", "443"))));
    REQUIRE(s.add(rule("c-allow-other", Action::allow, simple("dest.port", "80"))));
    CHECK(winner(s, conn()) == "b-allow-curl");
}

TEST_CASE("the first matching deny or reject wins at once, in name order") {
    RuleStore s(memory_only());
    REQUIRE(s.add(rule("a-allow-curl", Action::allow, simple("process.path", "/usr/bin/curl"))));
    REQUIRE(s.add(rule("c-reject-443", Action::reject, simple("dest.port", "443"))));
    REQUIRE(s.add(rule("b-deny-host", Action::deny, regexp("dest.host", "example\\.com$"))));
    REQUIRE(s.add(rule("d-allow-all", Action::allow, simple("true", ""))));
    auto m = s.match(conn());
    REQUIRE(m);
    CHECK(m->rule_name == "b-deny-host");
    CHECK(m->action == Action::deny);
    Connection other = conn("1.2.3.4", 443, "/usr/bin/wget");
    other.dst_host = "example.org";
    CHECK(winner(s, other) == "c-reject-443");
}

TEST_CASE("an allow with precedence wins at once over later denies") {
    RuleStore s(memory_only());
    REQUIRE(s.add(rule("z-deny-all", Action::deny, simple("true", ""))));
    Rule r = rule("a-allow-curl", Action::allow, simple("process.path", "/usr/bin/curl"));
    CHECK(winner(s, conn()) == "z-deny-all");
    r.precedence = true;
    REQUIRE(s.add(r));
    CHECK(winner(s, conn()) == "a-allow-curl");
    // Without precedence an earlier allow is overridden by the later deny.
    r.precedence = false;
    REQUIRE(s.replace("a-allow-curl", r));
    CHECK(winner(s, conn()) == "z-deny-all");
}

TEST_CASE("disabled rules do not apply; nolog is passed on") {
    RuleStore s(memory_only());
    Rule r = rule("deny-curl", Action::deny, simple("process.path", "/usr/bin/curl"));
    r.nolog = true;
    REQUIRE(s.add(r));
    REQUIRE(s.match(conn()));
    CHECK(s.match(conn())->nolog);
    REQUIRE(s.set_enabled("deny-curl", false));
    CHECK_FALSE(s.match(conn()));
    REQUIRE(s.set_enabled("deny-curl", true));
    CHECK(s.match(conn()));
    CHECK_FALSE(s.set_enabled("nope", true));
}

TEST_CASE("a once rule is never stored") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    RuleStore s(o);
    auto name = s.add(rule("once", Action::allow, simple("true", ""), {}));
    REQUIRE(name);
    CHECK(s.rules().empty());
    CHECK_FALSE(s.match(conn()));
    CHECK(std::filesystem::is_empty(d.path));
    // It is still checked, so a prompt's answer with a bad regexp is refused.
    CHECK_FALSE(s.add(rule("once", Action::allow, regexp("dest.host", "("), {})));
}

TEST_CASE("timed rules expire on time, also while nothing is matched") {
    FakeClock clock;
    RuleStore s(memory_only(&clock));
    REQUIRE(s.add(rule("deny-5m", Action::deny, simple("dest.port", "443"),
                       {RuleDuration::Kind::timed, 300s})));
    REQUIRE(s.add(
        rule("allow-30s", Action::allow, simple("true", ""), {RuleDuration::Kind::timed, 30s})));
    REQUIRE(s.next_expiry());
    CHECK(*s.next_expiry() == clock.t + 30s);
    clock.t += 29s;
    CHECK(winner(s, conn()) == "deny-5m");
    CHECK(winner(s, conn("1.1.1.1", 53)) == "allow-30s");
    clock.t += 1s;
    // Expired: it no longer matches, even before anyone calls expire().
    CHECK_FALSE(s.match(conn("1.1.1.1", 53)));
    CHECK(s.expire() == 1);
    CHECK(s.rules().size() == 1);
    CHECK(*s.next_expiry() == clock.t - 30s + 300s);
    clock.t += 270s;
    CHECK(s.expire() == 1);
    CHECK_FALSE(s.next_expiry());
    CHECK(s.rules().empty());
}

TEST_CASE("until restart lives in memory; always is written atomically with mode 0600") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    {
        RuleStore s(o);
        REQUIRE(s.add(rule("mem", Action::allow, simple("dest.port", "22"))));
        auto name = s.add(rule("disk", Action::deny, simple("dest.port", "23"), kAlways));
        REQUIRE(name);
        CHECK(*name == "disk");
        CHECK(s.rules().size() == 2);
        CHECK_FALSE(d.exists("mem.json"));
        REQUIRE(d.exists("disk.json"));
        struct stat st {};
        REQUIRE(::stat(d.file("disk.json").c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        // No temporary file is left behind.
        CHECK(std::distance(std::filesystem::directory_iterator(d.path),
                            std::filesystem::directory_iterator()) == 1);
        auto r = parse_rule(read(d.file("disk.json")), "disk.json");
        REQUIRE(r);
        CHECK(r->name == "disk");
        CHECK(r->action == Action::deny);
        CHECK(parse_rfc3339(r->created));
    }
    // After a restart only the rule on disk is back.
    RuleStore again(o);
    CHECK(again.load().empty());
    REQUIRE(again.rules().size() == 1);
    CHECK(again.rules()[0].rule.name == "disk");
    CHECK(winner(again, conn("1.1.1.1", 23)) == "disk");
}

TEST_CASE("a taken name gets a suffix") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    RuleStore s(o);
    CHECK(*s.add(rule("allow-curl", Action::allow, simple("dest.port", "1"), kAlways)) ==
          "allow-curl");
    CHECK(*s.add(rule("allow-curl", Action::allow, simple("dest.port", "2"), kAlways)) ==
          "allow-curl-2");
    CHECK(*s.add(rule("allow-curl", Action::allow, simple("dest.port", "3"))) == "allow-curl-3");
    CHECK(d.exists("allow-curl.json"));
    CHECK(d.exists("allow-curl-2.json"));
    CHECK(s.rules().size() == 3);
}

TEST_CASE("delete, disable and change reach the files") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    RuleStore s(o);
    REQUIRE(s.add(rule("deny-ssh", Action::deny, simple("dest.port", "22"), kAlways)));
    REQUIRE(s.set_enabled("deny-ssh", false));
    CHECK_FALSE(parse_rule(read(d.file("deny-ssh.json")), "f")->enabled);
    Rule changed = s.find("deny-ssh")->rule;
    changed.name = "allow-ssh";
    changed.action = Action::allow;
    changed.enabled = true;
    REQUIRE(s.replace("deny-ssh", changed));
    CHECK_FALSE(d.exists("deny-ssh.json"));
    REQUIRE(d.exists("allow-ssh.json"));
    CHECK(winner(s, conn("1.1.1.1", 22)) == "allow-ssh");
    REQUIRE(s.remove("allow-ssh"));
    CHECK_FALSE(d.exists("allow-ssh.json"));
    CHECK(s.rules().empty());
    CHECK_FALSE(s.remove("allow-ssh"));
}

TEST_CASE("a timed rule file expires from the time it was created") {
    ScratchDir d;
    FakeClock clock;
    Rule r = rule("allow-1h", Action::allow, simple("dest.port", "443"),
                  {RuleDuration::Kind::timed, 3600s});
    r.created = rfc3339_utc(clock.t - 1800s);
    d.write("allow-1h.json", rule_to_json(r));
    RuleStoreOptions o = in_dir(d, &clock);
    RuleStore s(o);
    CHECK(s.load().empty());
    CHECK(winner(s, conn()) == "allow-1h");
    CHECK(*s.next_expiry() == clock.t + 1800s);
    clock.t += 1800s;
    CHECK_FALSE(s.match(conn()));
    CHECK(s.expire() == 1);
    CHECK_FALSE(d.exists("allow-1h.json"));
}

TEST_CASE("files changed on disk apply without a restart") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    RuleStore s(o);
    CHECK(s.load().empty());
    REQUIRE(s.watch());
    const uint64_t start = s.generation();

    // A new file takes effect.
    REQUIRE(write_file_atomically(
        d.file("deny-curl.json"),
        rule_to_json(
            rule("deny-curl", Action::deny, simple("process.path", "/usr/bin/curl"), kAlways))));
    CHECK(wait_and_process(s).empty());
    CHECK(winner(s, conn()) == "deny-curl");
    CHECK(s.generation() > start);

    // An edit replaces it.
    d.write("deny-curl.json",
            rule_to_json(rule("deny-curl", Action::deny, simple("dest.port", "80"), kAlways)));
    CHECK(wait_and_process(s).empty());
    CHECK_FALSE(s.match(conn()));
    CHECK(winner(s, conn("1.1.1.1", 80)) == "deny-curl");

    // A broken edit is reported; the rule from that file stops applying.
    d.write("deny-curl.json", "{\"name\": \"deny-curl\", \"action\": \"nope\"");
    auto problems = wait_and_process(s);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].message.find(d.file("deny-curl.json")) == 0);
    CHECK_FALSE(s.match(conn("1.1.1.1", 80)));

    // A deleted file stops applying.
    d.write("deny-all.json",
            rule_to_json(rule("deny-all", Action::deny, simple("true", ""), kAlways)));
    CHECK(wait_and_process(s).empty());
    CHECK(s.match(conn()));
    std::filesystem::remove(d.file("deny-all.json"));
    CHECK(wait_and_process(s).empty());
    CHECK_FALSE(s.match(conn()));
}

TEST_CASE("a rules directory removed and made again is watched again") {
    ScratchDir d;
    RuleStoreOptions o = memory_only();
    o.dir = d.file("rules");
    RuleStore s(o);
    REQUIRE(s.watch());
    const auto deny_all = [] {
        return rule_to_json(rule("deny-all", Action::deny, simple("true", ""), kAlways));
    };
    REQUIRE(write_file_atomically(o.dir + "/deny-all.json", deny_all()));
    CHECK(wait_and_process(s).empty());
    CHECK(s.match(conn()));

    // rm -r: its rules go with it.
    std::filesystem::remove_all(o.dir);
    for (int i = 0; i < 10 && s.match(conn()); ++i)
        wait_and_process(s);
    CHECK_FALSE(s.match(conn()));

    // mkdir and a file in it, as a restored backup would be: read without a restart.
    REQUIRE(std::filesystem::create_directory(o.dir));
    REQUIRE(write_file_atomically(o.dir + "/deny-all.json", deny_all()));
    for (int i = 0; i < 10 && !s.match(conn()); ++i)
        wait_and_process(s);
    CHECK(s.match(conn()));
}

TEST_CASE("a rule file renamed within the directory keeps applying") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    RuleStore s(o);
    REQUIRE(s.watch());
    REQUIRE(write_file_atomically(
        d.file("z-deny.json"),
        rule_to_json(rule("deny-all", Action::deny, simple("true", ""), kAlways))));
    CHECK(wait_and_process(s).empty());
    // The new name sorts before the old one: both changes arrive together.
    std::filesystem::rename(d.file("z-deny.json"), d.file("a-deny.json"));
    CHECK(wait_and_process(s).empty());
    REQUIRE(s.find("deny-all"));
    CHECK(s.find("deny-all")->file == d.file("a-deny.json"));
    CHECK(winner(s, conn()) == "deny-all");
}

TEST_CASE("a half-written rule file is never read") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    RuleStore s(o);
    REQUIRE(s.watch());
    // An editor or a copy still writing: the file is open, half of the text is there.
    const std::string text =
        rule_to_json(rule("deny-all", Action::deny, simple("true", ""), kAlways));
    FILE* f = std::fopen(d.file("deny-all.json").c_str(), "w");
    REQUIRE(f);
    std::fwrite(text.data(), 1, text.size() / 2, f);
    std::fflush(f);
    pollfd p{s.watch_fd(), POLLIN, 0};
    // The directory's parent is watched too (for the directory coming back), so other programs'
    // files may wake the store; what matters is that the half file gives no error and no rule.
    (void)::poll(&p, 1, 200);
    CHECK(s.process_events().empty());
    CHECK(s.rules().empty());
    std::fwrite(text.data() + text.size() / 2, 1, text.size() - text.size() / 2, f);
    std::fclose(f);
    CHECK(wait_and_process(s).empty());
    CHECK(s.match(conn()));
    // Temporary and hidden files are ignored entirely.
    d.write(".deny-x.json.tmp-123", "{broken");
    d.write("notes.txt", "not a rule");
    CHECK(::poll(&p, 1, 200) == 1);
    CHECK(s.process_events().empty());
    CHECK(s.rules().size() == 1);
}

TEST_CASE("a changed list directory is read again") {
    ScratchDir d;
    ScratchDir lists;
    lists.write("hosts", "0.0.0.0 ads.example.net\n");
    RuleStoreOptions o = in_dir(d);
    RuleStore s(o);
    REQUIRE(s.watch());
    REQUIRE(s.add(rule("block-ads", Action::reject,
                       op(OperatorType::lists, "lists.domains", lists.path), kAlways)));
    CHECK(wait_and_process(s).empty());  // the store's own write comes back through inotify
    Connection c = conn();
    c.dst_host = "tracker.example.org";
    CHECK_FALSE(s.match(c));
    REQUIRE(write_file_atomically(lists.file("more-hosts"), "0.0.0.0 tracker.example.org\n"));
    CHECK(wait_and_process(s).empty());
    REQUIRE(s.match(c));
    CHECK(s.match(c)->action == Action::reject);
}

TEST_CASE("the store answers as OpenSnitch's rule-by-rule evaluation would") {
    // The index must never change a decision: compare it with a plain loop over random rules.
    std::mt19937 rng(7);
    const char* paths[] = {"/usr/bin/curl", "/usr/bin/wget", "/usr/bin/ssh", "/opt/App"};
    const char* hosts[] = {"www.example.com", "api.example.org", "Example.COM", "a.b.c"};
    const uint16_t ports[] = {22, 80, 443, 8080};
    auto random_op = [&](int depth, auto& self) -> RuleOperator {
        switch (rng() % (depth > 0 ? 6 : 7)) {
            case 0:
                return simple("process.path", paths[rng() % 4], rng() % 2);
            case 1:
                return simple("dest.host", hosts[rng() % 4], rng() % 2);
            case 2:
                return simple("dest.port", std::to_string(ports[rng() % 4]));
            case 3:
                return regexp("dest.host", rng() % 2 ? "example" : "^a\\.", rng() % 2);
            case 4:
                return regexp("process.path", rng() % 2 ? "curl$" : "^/usr", rng() % 2);
            case 5:
                return op(OperatorType::range, "dest.port", rng() % 2 ? "1-100" : "400-9000");
            default:
                return all_of({self(1, self), self(1, self)});
        }
    };
    std::vector<Rule> rules;
    RuleStore s(memory_only());
    for (int i = 0; i < 300; ++i) {
        Rule r = rule("r" + std::to_string(rng() % 1000), static_cast<Action>(rng() % 3),
                      random_op(0, random_op));
        r.precedence = rng() % 10 == 0;
        r.enabled = rng() % 10 != 0;
        auto name = s.add(r);
        REQUIRE(name);
        r.name = *name;
        rules.push_back(r);
    }
    std::sort(rules.begin(), rules.end(), [](auto& a, auto& b) { return a.name < b.name; });
    for (int i = 0; i < 2000; ++i) {
        Connection c = conn("1.2.3.4", ports[rng() % 4], paths[rng() % 4]);
        c.dst_host = hosts[rng() % 4];
        std::optional<std::string> expected;
        for (const Rule& r : rules) {
            if (!r.enabled) continue;
            auto compiled = CompiledOperator::compile(r.op, test_context(), "operator");
            MatchInput in(c, nullptr);
            if (!compiled->match(in)) continue;
            expected = r.name;
            if (r.action != Action::allow || r.precedence) break;
        }
        REQUIRE(winner(s, c) == expected);
    }
}

TEST_CASE("matching goes on while another thread changes the rules") {
    RuleStore s(memory_only());
    REQUIRE(s.add(rule("allow-curl", Action::allow, simple("process.path", "/usr/bin/curl"))));
    std::atomic<bool> stop{false};
    std::atomic<int> wrong{0};
    std::thread matcher([&] {
        const Connection c = conn();
        while (!stop) {
            auto m = s.match(c);
            // Every answer is one a consistent set of rules can give.
            if (!m || (m->rule_name != "allow-curl" && m->rule_name != "deny-443")) ++wrong;
        }
    });
    for (int i = 0; i < 300; ++i) {
        REQUIRE(s.add(rule("deny-443", Action::deny, simple("dest.port", "443"))));
        REQUIRE(s.set_enabled("allow-curl", i % 2 == 0));
        REQUIRE(s.set_enabled("allow-curl", true));
        REQUIRE(s.remove("deny-443"));
    }
    stop = true;
    matcher.join();
    CHECK(wrong == 0);
    CHECK(winner(s, conn()) == "allow-curl");
}

TEST_CASE("a reload says which rules it added, changed and deleted; the same file again, none") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    RuleStore s(o);
    CHECK(s.load().empty());
    REQUIRE(s.watch());
    using Names = std::vector<std::string>;
    const auto deny_curl =
        rule("deny-curl", Action::deny, simple("process.path", "/usr/bin/curl"), kAlways);

    RuleStore::Changes c;
    d.write("deny-curl.json", rule_to_json(deny_curl));
    CHECK(wait_and_process(s, &c).empty());
    CHECK(c.added == Names{"deny-curl"});
    CHECK(c.changed.empty());
    CHECK(c.deleted.empty());

    c = {};
    d.write("deny-curl.json", rule_to_json(deny_curl));  // written again, the same
    CHECK(wait_and_process(s, &c).empty());
    CHECK(c.empty());

    c = {};
    auto off = deny_curl;
    off.enabled = false;
    d.write("deny-curl.json", rule_to_json(off));
    d.write("allow-80.json",
            rule_to_json(rule("allow-80", Action::allow, simple("dest.port", "80"), kAlways)));
    // Both writes may come in one wake-up or two: what counts is what all of them said.
    Names added, changed;
    while (added.empty() || changed.empty()) {
        CHECK(wait_and_process(s, &c).empty());
        added.insert(added.end(), c.added.begin(), c.added.end());
        changed.insert(changed.end(), c.changed.begin(), c.changed.end());
        CHECK(c.deleted.empty());
        c = {};
    }
    CHECK(added == Names{"allow-80"});
    CHECK(changed == Names{"deny-curl"});  // disabled

    std::filesystem::remove(d.file("allow-80.json"));
    CHECK(wait_and_process(s, &c).empty());
    CHECK(c.deleted == Names{"allow-80"});
    CHECK(c.added.empty());
    CHECK(c.changed.empty());
}

TEST_CASE("files beside the rules directory wake the watch but change no rule") {
    ScratchDir d;  // d.path/rules is the rules directory; d.path is its watched parent
    RuleStoreOptions o = memory_only();
    o.dir = d.file("rules");
    RuleStore s(o);
    REQUIRE(s.watch());
    const uint64_t start = s.generation();
    d.write("events.jsonl", "{}\n");  // e.g. the --events file or the names file next to it
    std::rename(d.file("events.jsonl").c_str(), d.file("events2.jsonl").c_str());
    CHECK(wait_and_process(s).empty());
    CHECK(s.generation() == start);
    std::ofstream(o.dir + "/deny-all.json")
        << rule_to_json(rule("deny-all", Action::deny, simple("true", ""), kAlways));
    CHECK(wait_and_process(s).empty());
    CHECK(s.generation() > start);
    CHECK(s.match(conn()));
}

namespace {
std::string deny_all_json(const std::string& name = "deny-all") {
    return rule_to_json(rule(name, Action::deny, simple("true", ""), kAlways));
}
bool any_says(const std::vector<Error>& problems, const std::string& part) {
    for (const Error& e : problems)
        if (e.message.find(part) != std::string::npos) return true;
    return false;
}
}  // namespace

TEST_CASE("a broken rule file is reported and counted; the other rules still apply") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    d.write("a-broken.json", "{\"name\": \"x\", \"action\": ");
    d.write("deny-all.json", deny_all_json());
    RuleStore s(o);
    const auto problems = s.load();
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].message.find(d.file("a-broken.json")) == 0);
    CHECK(winner(s, conn()) == "deny-all");
    const auto broken = s.broken_files();
    REQUIRE(broken.size() == 1);
    CHECK(broken[0].message.find(d.file("a-broken.json")) == 0);
    // Fixed on disk: no longer broken.
    REQUIRE(s.watch());
    d.write("a-broken.json", deny_all_json("a-fixed"));
    CHECK(wait_and_process(s).empty());
    CHECK(s.broken_files().empty());
    CHECK(winner(s, conn()) == "a-fixed");
}

TEST_CASE("rule files and directories others can write to are refused, naming owner and mode") {
    ScratchDir d;
    RuleStoreOptions o = in_dir(d);
    d.write("allow-all.json",
            rule_to_json(rule("allow-all", Action::allow, simple("true", ""), kAlways)));
    REQUIRE(::chmod(d.file("allow-all.json").c_str(), 0666) == 0);
    RuleStore s(o);
    auto problems = s.load();
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].message.find(d.file("allow-all.json") + ": owned by uid ") == 0);
    CHECK(any_says(problems, "mode 0666: writable by others; refused"));
    CHECK_FALSE(s.match(conn()));
    CHECK(s.broken_files().size() == 1);

    // A chmod is seen: the file applies once nobody else can write it.
    REQUIRE(s.watch());
    REQUIRE(::chmod(d.file("allow-all.json").c_str(), 0600) == 0);
    CHECK(wait_and_process(s).empty());
    CHECK(winner(s, conn()) == "allow-all");

    // A world-writable directory: none of its files is obeyed, whoever owns them.
    REQUIRE(::chmod(d.path.c_str(), 0777) == 0);
    problems = wait_and_process(s);
    CHECK(any_says(problems, d.path + ": owned by uid "));
    CHECK(any_says(problems, "mode 0777: writable by others; refused"));
    CHECK(any_says(problems, "none of its 1 rule files is loaded"));
    CHECK_FALSE(s.match(conn()));
    REQUIRE(::chmod(d.path.c_str(), 0700) == 0);
    problems = wait_and_process(s);
    CHECK(any_says(problems, "no longer refused"));
    CHECK(winner(s, conn()) == "allow-all");
    CHECK(s.broken_files().empty());
}

TEST_CASE("symbolic links in the rules directory are said; a loop or a dangling one is broken") {
    ScratchDir d;
    RuleStoreOptions o = memory_only();
    o.dir = d.file("rules");
    REQUIRE(std::filesystem::create_directory(o.dir));
    d.write("elsewhere.json", deny_all_json());
    std::filesystem::create_symlink(d.file("elsewhere.json"), o.dir + "/linked.json");
    std::filesystem::create_symlink(o.dir + "/loop.json", o.dir + "/loop.json");
    RuleStore s(o);
    auto problems = s.load();
    CHECK(any_says(problems, o.dir + "/linked.json: a symbolic link to " +
                                 d.file("elsewhere.json") + "; its rule 'deny-all' is loaded"));
    CHECK(any_says(problems, o.dir + "/loop.json: a symbolic link to " + o.dir +
                                 "/loop.json: Too many levels of symbolic links; not loaded"));
    CHECK(winner(s, conn()) == "deny-all");
    CHECK(s.broken_files().size() == 1);

    // A new link while running: said at once.
    REQUIRE(s.watch());
    d.write("other.json", deny_all_json("a-deny"));
    std::filesystem::create_symlink(d.file("other.json"), o.dir + "/new.json");
    problems = wait_and_process(s);
    CHECK(any_says(problems, o.dir + "/new.json: a symbolic link to " + d.file("other.json")));
    CHECK(winner(s, conn()) == "a-deny");
}

TEST_CASE("a rules directory that goes away is said, with what still applies") {
    ScratchDir d;
    RuleStoreOptions o = memory_only();
    o.dir = d.file("rules");
    REQUIRE(std::filesystem::create_directory(o.dir));
    d.write("rules/deny-all.json", deny_all_json());
    RuleStore s(o);
    CHECK(s.load().empty());
    REQUIRE(s.add(rule("mem", Action::allow, simple("dest.port", "1"))));
    REQUIRE(s.watch());
    std::filesystem::remove_all(o.dir);
    std::vector<Error> problems;
    for (int i = 0; i < 10 && !any_says(problems, "gone"); ++i) {
        auto p = wait_and_process(s);
        problems.insert(problems.end(), p.begin(), p.end());
    }
    CHECK(any_says(problems, o.dir +
                                 ": the rules directory is gone; none of its rules applies until "
                                 "it is back (1 rules in memory still apply)"));
    CHECK_FALSE(s.match(conn()));
    REQUIRE(std::filesystem::create_directory(o.dir));
    problems.clear();
    for (int i = 0; i < 10 && !any_says(problems, "back"); ++i) {
        auto p = wait_and_process(s);
        problems.insert(problems.end(), p.begin(), p.end());
    }
    CHECK(any_says(problems, o.dir + ": the rules directory is back"));
}

TEST_CASE("an imported rule file is copied unchanged, checked as load() checks it") {
    ScratchDir d;
    RuleStoreOptions o = memory_only();
    o.dir = d.file("rules");
    RuleStore s(o);
    CHECK(s.load().empty());
    const std::string text = deny_all_json("imported") + "\n";
    auto name = s.import_file("/elsewhere/x.json", text, false);
    REQUIRE(name.ok());
    CHECK(*name == "imported");
    CHECK(read(o.dir + "/imported.json") == text);
    CHECK(winner(s, conn()) == "imported");
    auto again = s.import_file("/elsewhere/x.json", text, false);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message ==
          "/elsewhere/x.json: a rule named 'imported' exists already (--replace overwrites)");
    CHECK(s.import_file("/elsewhere/x.json", text, true).ok());
    auto bad = s.import_file("/elsewhere/bad.json", "{\"name\": \"../x\"}", false);
    REQUIRE_FALSE(bad.ok());
}

TEST_CASE("only the rules directory itself is private; the parents it makes stay readable") {
    ScratchDir d;
    const mode_t old_umask = ::umask(077);  // the service's UMask
    const std::string rules = d.path + "/etc/tsnitch/rules/";
    REQUIRE(create_rules_dir(rules));
    ::umask(old_umask);
    auto mode = [](const std::string& p) {
        struct stat st {};
        REQUIRE(::stat(p.c_str(), &st) == 0);
        return st.st_mode & 07777;
    };
    CHECK(mode(d.path + "/etc") == 0755);
    CHECK(mode(d.path + "/etc/tsnitch") == 0755);
    CHECK(mode(d.path + "/etc/tsnitch/rules") == 0700);
    // An existing directory keeps its mode.
    ::chmod((d.path + "/etc/tsnitch").c_str(), 0750);
    REQUIRE(create_rules_dir(d.path + "/etc/tsnitch/rules"));
    CHECK(mode(d.path + "/etc/tsnitch") == 0750);
}
