#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/control/control_codec.h"

using namespace tsnitch;
using namespace std::chrono_literals;

namespace {

std::chrono::system_clock::time_point at(long long ns) {
    return std::chrono::system_clock::time_point(std::chrono::nanoseconds(ns));
}

ProcessInfo sample_process() {
    ProcessInfo p;
    p.pid = 4242;
    p.ppid = 1;
    p.uid = 1000;
    p.user = "alice";
    p.comm = "curl";
    p.path = "/usr/bin/curl";
    p.args = {"curl", "-s", "https://example.com/\xff"};
    p.cwd = "/home/alice";
    p.start_time = 123456789;
    p.parents = {{100, "bash", "/usr/bin/bash"}, {1, "systemd", ""}};
    p.env = {{"HOME", "/home/alice"}, {"LANG", "C.UTF-8"}};
    return p;
}

Connection sample_connection() {
    Connection c;
    c.protocol = Protocol::udp;
    c.src = *IpAddress::parse("fe80::1%1");
    c.src_port = 50416;
    c.dst = *IpAddress::parse("2001:db8::53");
    c.dst_port = 53;
    c.uid = 1000;
    c.process = std::make_shared<const ProcessInfo>(sample_process());
    c.dst_host = "dns.example";
    c.iface_in = "";
    c.iface_out = "veth0";
    return c;
}

DecisionEvent sample_decision() {
    DecisionEvent e;
    e.time = at(1795896062123456789LL);
    e.action = Action::reject;
    e.reason = Reason::unknown_process;
    e.rule = "deny-dns";
    e.connection = sample_connection();
    e.method = Method::diag;
    e.attribution_us = 37;
    return e;
}

Rule sample_rule() {
    Rule r;
    r.name = "allow-curl";
    r.description = "curl to 443";
    r.enabled = false;
    r.precedence = true;
    r.nolog = true;
    r.action = Action::allow;
    r.duration = *RuleDuration::parse("1h30m");
    r.op.type = OperatorType::list;
    r.op.operand = "list";
    r.op.list = {{OperatorType::simple, "process.path", true, "/usr/bin/curl", {}},
                 {OperatorType::regexp, "dest.host", false, "^(|.*\\.)example\\.com$", {}}};
    r.op.data = operator_list_json(r.op.list);
    r.created = "2026-11-28T20:01:02.345678+01:00";
    r.updated = "2026-11-28T20:01:02Z";
    return r;
}

PromptRecord sample_prompt() {
    PromptRecord p;
    p.id = 9;
    p.connection = sample_connection();
    p.method = Method::ebpf;
    p.opened = at(1795896060000000000LL);
    p.remaining = 12345ms;
    p.default_action = Action::reject;
    p.joined = 3;
    return p;
}

StatusRecord sample_status() {
    StatusRecord s;
    s.intercepting = true;
    s.queues = {0, 1, 65535};
    s.method = Method::ebpf;
    s.fallback_notice = "none";
    s.firewall = "iptables";
    s.kernel_path = true;
    s.rule_count = 12;
    s.broken_rule_files = 1;
    s.prompts_open = 2;
    s.clients = 3;
    s.allowed = 100;
    s.denied = 5;
    s.rejected = 6;
    s.queue_drops = 7;
    s.over_limit = 8;
    return s;
}

InetSocket sample_inet() {
    InetSocket s;
    s.protocol = Protocol::tcp;
    s.family = Family::v6;
    s.state = 1;
    s.src = *IpAddress::parse("::ffff:10.0.0.1");
    s.src_port = 40000;
    s.dst = *IpAddress::parse("::ffff:10.0.0.2");
    s.dst_port = 443;
    s.ifindex = 2;
    s.uid = 1000;
    s.inode = 12345678;
    s.cookie = 0xffffffffffffffffull;
    s.rqueue = 1;
    s.wqueue = 2;
    s.v6only = false;
    s.bytes_sent = 1000;
    s.bytes_received = 2000;
    return s;
}

SocketTableUpdate sample_table() {
    SocketTableSnapshot table;
    table.taken = at(1795896062000000000LL);
    ProcessSummary ps;
    ps.pid = 4242;
    ps.uid = 1000;
    ps.user = "alice";
    ps.comm = "curl";
    ps.exe = "/usr/bin/curl";
    ps.tcp_established = 1;
    ps.tcp_listen = 2;
    ps.tcp_other = 3;
    ps.udp = 4;
    ps.unix_sockets = 5;
    ps.bytes_sent = 6;
    ps.bytes_received = 7;
    table.processes = {ps};
    table.sockets = 15;
    table.focus_pid = 4242;
    ProcessSockets focus;
    focus.pid = 4242;
    focus.comm = "curl";
    focus.exe = "/usr/bin/curl";
    SocketRow inet_row;
    inet_row.fd = 3;
    inet_row.inode = 12345678;
    inet_row.inet = sample_inet();
    SocketRow unix_row;
    unix_row.fd = 4;
    unix_row.inode = 99;
    unix_row.unix_socket = UnixSocket{1, 10, 99, 98, 7, "@abstract"};
    SocketRow other_row;
    other_row.fd = 5;
    other_row.inode = 100;
    focus.sockets = {inet_row, unix_row, other_row};
    table.focus = focus;
    table.focus_fds = {{0, "/dev/pts/0"}, {1, "/dev/null"}};
    table.focus_error = "";
    table.cpu = 1500us;
    SocketTableUpdate u;
    u.table = std::make_shared<const SocketTableSnapshot>(std::move(table));
    u.host_names = {{*IpAddress::parse("10.0.0.2"), "example.com"}};
    u.error = "refresh failed once";
    return u;
}

std::vector<DaemonEvent> every_event() {
    Snapshot snap;
    snap.status = sample_status();
    snap.rules = {RuleRecord{sample_rule(), 42, at(1795896999000000000LL)},
                  RuleRecord{Rule{}, 0, std::nullopt}};
    snap.prompts = {sample_prompt()};
    snap.recent = {sample_decision()};
    snap.log = {LogRecord{at(1795896062000000001LL), LogLevel::warning, "rule file x: bad"}};
    snap.review = {ReviewRecord{5, sample_decision()}};
    DecisionEvent no_process = sample_decision();
    no_process.connection.process.reset();
    no_process.connection.uid.reset();
    no_process.connection.dst_host.reset();
    no_process.rule.reset();
    PromptRecord waits = sample_prompt();
    waits.remaining.reset();
    return {
        snap,
        Snapshot{},
        DecisionMade{sample_decision()},
        DecisionMade{no_process},
        PromptOpened{sample_prompt()},
        PromptOpened{waits},
        PromptJoined{9, 4},
        PromptClosed{9, Action::allow, Reason::prompt, std::string("allow-curl")},
        PromptClosed{10, Action::deny, Reason::timeout, std::nullopt},
        RulesChanged{snap.rules},
        StatusChanged{sample_status()},
        LogAppended{LogRecord{at(1), LogLevel::error, "line\nwith newline"}},
        ReviewAdded{ReviewRecord{6, no_process}},
        ReviewRemoved{6},
        sample_table(),
        SocketTableUpdate{},
        CommandResult{77, ""},
        CommandResult{78, "no such rule 'x'"},
        ProcessDetailsReply{79, std::make_shared<const ProcessInfo>(sample_process()), ""},
        ProcessDetailsReply{80, nullptr, "no such process"},
        Stopping{"signal"},
    };
}

std::vector<DaemonCommand> every_command() {
    Rule r = sample_rule();
    return {
        {1, AnswerPrompt{9, Action::allow, *RuleDuration::parse("5m"), r}},
        {2, AnswerPrompt{9, Action::deny, RuleDuration{}, std::nullopt}},
        {3, AddRule{r}},
        {4, ChangeRule{"allow-curl", Action::reject, *RuleDuration::parse("until restart")}},
        {5, EnableRule{"allow-curl", false}},
        {6, DeleteRule{"allow-curl"}},
        {7, DismissReview{5}},
        {8, SubscribeSockets{true, 1500ms, 4242, true}},
        {9, SubscribeSockets{false, 100ms, std::nullopt, false}},
        {10, CloseSocket{sample_inet()}},
        {UINT64_MAX, AskProcessDetails{4242}},
    };
}

DaemonEvent decode_event_ok(const std::string& line) {
    auto d = decode_daemon_line(line);
    if (!d) FAIL(d.error().message);
    REQUIRE(std::holds_alternative<DaemonEvent>(*d));
    return std::get<DaemonEvent>(*d);
}

}  // namespace

TEST_CASE("every daemon event survives encode and decode unchanged") {
    for (const DaemonEvent& e : every_event()) {
        const std::string line = encode_event(e);
        CAPTURE(line);
        CHECK(line.find('\n') == std::string::npos);
        const DaemonEvent back = decode_event_ok(line);
        CHECK(back.index() == e.index());
        CHECK(encode_event(back) == line);
    }
}

TEST_CASE("every command survives encode and decode unchanged") {
    for (const DaemonCommand& c : every_command()) {
        const std::string line = encode_command(c);
        CAPTURE(line);
        auto back = decode_command(line);
        REQUIRE_MESSAGE(back.ok(), back.error().message);
        CHECK(back->request == c.request);
        CHECK(back->body.index() == c.body.index());
        CHECK(encode_command(*back) == line);
    }
}

TEST_CASE("decoded fields are the values that were encoded") {
    const DaemonEvent back = decode_event_ok(encode_event(PromptOpened{sample_prompt()}));
    const PromptRecord& p = std::get<PromptOpened>(back).prompt;
    CHECK(p.id == 9);
    CHECK(p.remaining == 12345ms);
    CHECK(p.opened == at(1795896060000000000LL));
    CHECK(p.default_action == Action::reject);
    const Connection& c = p.connection;
    CHECK(c.protocol == Protocol::udp);
    CHECK(c.src == *IpAddress::parse("fe80::1%1"));  // the zone travels as its number
    CHECK(c.src.scope_id() == 1);
    CHECK(c.dst_port == 53);
    CHECK(c.dst_host == "dns.example");
    REQUIRE(c.process != nullptr);
    CHECK(c.process->args == sample_process().args);  // the byte 0xff included
    CHECK(c.process->parents.size() == 2);
    CHECK(c.process->parents[0].path == "/usr/bin/bash");
    CHECK(c.process->env == sample_process().env);

    auto cmd = decode_command(encode_command(
        {1, AnswerPrompt{9, Action::allow, *RuleDuration::parse("5m"), sample_rule()}}));
    REQUIRE(cmd.ok());
    const AnswerPrompt& a = std::get<AnswerPrompt>(cmd->body);
    CHECK(a.rule == sample_rule());
    CHECK(a.duration == *RuleDuration::parse("5m"));
}

TEST_CASE("a script can write commands by hand") {
    auto c = decode_command(
        R"({"type":"answer_prompt","request":1,"prompt_id":3,"action":"allow","duration":"once","rule":null})");
    REQUIRE_MESSAGE(c.ok(), c.error().message);
    CHECK(std::get<AnswerPrompt>(c->body).prompt_id == 3);
    auto d = decode_command(R"({"type":"delete_rule","request":2,"name":"x"})");
    REQUIRE(d.ok());
    CHECK(std::get<DeleteRule>(d->body).name == "x");
}

TEST_CASE("the hello carries the version and the role, and a later version's keys are allowed") {
    const std::string line = encode_hello({ControlHello::Role::daemon, 1, "tsnitch 0.1.0"});
    CHECK(line == R"({"hello":"tsnitch","version":1,"role":"daemon","program":"tsnitch 0.1.0"})");
    auto h = decode_hello(line, ControlHello::Role::daemon);
    REQUIRE(h.ok());
    CHECK(h->program == "tsnitch 0.1.0");
    CHECK(hello_mismatch(*h).empty());

    auto wrong_role = decode_hello(line, ControlHello::Role::client);
    REQUIRE_FALSE(wrong_role.ok());
    CHECK(wrong_role.error().message.find("role") == 0);

    auto later = decode_hello(R"({"hello":"tsnitch","version":2,"role":"client","x":[1]})",
                              ControlHello::Role::client);
    REQUIRE(later.ok());
    CHECK(hello_mismatch(*later) ==
          "protocol version 2 is not spoken here (this tsnitch speaks 1)");
    CHECK_FALSE(
        decode_hello(R"({"hello":"other","version":1,"role":"client"})", ControlHello::Role::client)
            .ok());
    CHECK_FALSE(decode_hello("garbage", ControlHello::Role::client).ok());
}

TEST_CASE("closing is a line of its own") {
    auto d = decode_daemon_line(encode_closing({"not allowed"}));
    REQUIRE(d.ok());
    REQUIRE(std::holds_alternative<ControlClosing>(*d));
    CHECK(std::get<ControlClosing>(*d).reason == "not allowed");
}

TEST_CASE("bad commands are errors that name the field") {
    struct Case {
        const char* line;
        const char* error;
    };
    const Case cases[] = {
        {"not json", "not JSON: at byte 0"},
        {"[1]", ": expected an object, got an array"},
        {R"({"type":"delete_rule","name":"x"})", "request: missing"},
        {R"({"type":"delete_rule","request":-1,"name":"x"})", "request: expected an integer"},
        {R"({"type":"delete_rule","request":1.5,"name":"x"})", "request: expected an integer"},
        {R"({"type":"delete_rule","request":"1","name":"x"})", "request: expected an integer"},
        {R"({"type":"nuke","request":1})", "type: unknown command type \"nuke\""},
        {R"({"type":"delete_rule","request":1,"name":"x","extra":1})", "extra: unknown key"},
        {R"({"type":"delete_rule","request":1,"name":7})", "name: expected a string, got a number"},
        {R"({"type":"enable_rule","request":1,"name":"x","enabled":"yes"})",
         "enabled: expected true or false"},
        {R"({"type":"change_rule","request":1,"name":"x","action":"maybe","duration":"once"})",
         "action: expected one of allow|deny|reject, got \"maybe\""},
        {R"({"type":"change_rule","request":1,"name":"x","action":"deny","duration":"soon"})",
         "duration: expected once, until restart, always or a duration"},
        {R"({"type":"answer_prompt","request":1,"prompt_id":3,"action":"allow","duration":"5m","rule":null})",
         "rule: missing: a duration other than once stores a rule"},
        {R"({"type":"subscribe_sockets","request":1,"on":true,"interval_ms":1,"focus_pid":null,"all_fds":false})",
         "interval_ms: expected an integer 100..3600000, got 1"},
        {R"({"type":"ask_process_details","request":1,"pid":99999999})",
         "pid: expected an integer 1..4194304"},
        {R"({"type":"close_socket","request":1,"socket":{"protocol":"tcp","family":"ipv4","state":1,"src_ip":"10.0.0.1","src_port":70000,"dst_ip":"10.0.0.2","dst_port":1,"ifindex":0,"uid":0,"inode":0,"cookie":0,"rqueue":0,"wqueue":0,"v6only":false,"bytes_sent":0,"bytes_received":0}})",
         "socket.src_port: expected an integer 0..65535, got 70000"},
        {R"({"type":"close_socket","request":1,"socket":{"protocol":"tcp","family":"ipv4","state":1,"src_ip":"10.0.0.256","src_port":1,"dst_ip":"10.0.0.2","dst_port":1,"ifindex":0,"uid":0,"inode":0,"cookie":0,"rqueue":0,"wqueue":0,"v6only":false,"bytes_sent":0,"bytes_received":0}})",
         "socket.src_ip: expected an IP address, got \"10.0.0.256\""},
        {R"({"type":"close_socket","request":1,"socket":{"protocol":"tcp","family":"ipv6","state":1,"src_ip":"10.0.0.1","src_port":1,"dst_ip":"10.0.0.2","dst_port":1,"ifindex":0,"uid":0,"inode":0,"cookie":0,"rqueue":0,"wqueue":0,"v6only":false,"bytes_sent":0,"bytes_received":0}})",
         "socket: src_ip and dst_ip must be of the socket's family"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.line);
        auto d = decode_command(c.line);
        REQUIRE_FALSE(d.ok());
        CHECK_MESSAGE(d.error().message.find(c.error) == 0, d.error().message);
    }
}

TEST_CASE("nested fields are named by their path") {
    Rule r = sample_rule();
    std::string line = encode_command({1, AddRule{r}});
    const std::string from = "\"sensitive\":true";
    line.replace(line.find(from), from.size(), "\"sensitive\":1");
    auto d = decode_command(line);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().message ==
          "rule.operator.list[0].sensitive: expected true or false, got a number");
}

TEST_CASE("oversized lines, strings, lists and nesting are refused before they cost memory") {
    std::string big =
        R"({"type":"delete_rule","request":1,"name":")" + std::string(kMaxClientLine, 'a') + "\"}";
    auto d = decode_command(big);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().message == "message longer than 1048576 bytes");

    auto long_name = decode_command(R"({"type":"delete_rule","request":1,"name":")" +
                                    std::string(5000, 'a') + "\"}");
    REQUIRE_FALSE(long_name.ok());
    CHECK(long_name.error().message == "name: longer than 4096 bytes");

    // An operator list nested deeper than a rule may be.
    std::string op = R"({"type":"simple","operand":"true","sensitive":false,"data":"","list":[]})";
    for (int i = 0; i < 8; ++i)
        op = R"({"type":"list","operand":"list","sensitive":false,"data":"","list":[)" + op + "]}";
    auto deep = decode_command(
        R"({"type":"add_rule","request":1,"rule":{"name":"x","description":"","enabled":true,"precedence":false,"nolog":false,"action":"deny","duration":"always","operator":)" +
        op + R"(,"created":"","updated":""}})");
    REQUIRE_FALSE(deep.ok());
    CHECK(deep.error().message.find("nested deeper") != std::string::npos);

    // Many values in a line under the length limit.
    std::string args = "[";
    for (int i = 0; i < 70000; ++i)
        args += i ? ",0" : "0";
    args += "]";
    auto many = decode_command(R"({"type":"delete_rule","request":1,"name":)" + args + "}");
    REQUIRE_FALSE(many.ok());
    CHECK(many.error().message.find("more than 65536 values") != std::string::npos);
}

TEST_CASE("bad daemon lines are errors too") {
    CHECK_FALSE(decode_daemon_line(R"({"type":"prompt_joined","id":1})").ok());
    CHECK_FALSE(decode_daemon_line(R"({"type":"hello"})").ok());
    auto e = decode_daemon_line(
        R"({"type":"log","line":{"time":"yesterday","level":"info","text":""}})");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().message == "line.time: expected an RFC 3339 time, got \"yesterday\"");
    auto l = decode_daemon_line(
        R"({"type":"log","line":{"time":"2026-11-28T20:01:02Z","level":"loud","text":""}})");
    REQUIRE_FALSE(l.ok());
    CHECK(l.error().message ==
          "line.level: expected one of debug|info|warning|error, got \"loud\"");
}

// TSNITCH_WRITE_CONTROL_CORPUS=DIR writes every message above as a seed of the control fuzz
// target (tests/data/fuzz/control), so that the corpus follows the protocol when it changes.
TEST_CASE("seed corpus for the control fuzz target") {
    const char* dir = std::getenv("TSNITCH_WRITE_CONTROL_CORPUS");
    if (!dir) return;
    int n = 0;
    auto write = [&](const std::string& line) {
        char name[32];
        std::snprintf(name, sizeof name, "/%03d.jsonl", n++);
        FILE* f = std::fopen((std::string(dir) + name).c_str(), "w");
        REQUIRE(f);
        std::fwrite(line.data(), 1, line.size(), f);
        std::fclose(f);
    };
    write(encode_hello({ControlHello::Role::client, 1, "seed"}));
    write(encode_hello({ControlHello::Role::daemon, 1, "seed"}));
    write(encode_closing({"seed"}));
    for (const DaemonEvent& e : every_event())
        write(encode_event(e));
    for (const DaemonCommand& c : every_command())
        write(encode_command(c));
}
