#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"

using namespace tsnitch;

namespace {
std::string error_of(const char* text) {
    auto c = parse_config(text, "test.json");
    REQUIRE_MESSAGE(!c, text);
    return c.error().message;
}
bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("the built-in default is valid and ships the documented defaults") {
    auto c = parse_config(builtin_config_text(), "built-in default");
    REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
    CHECK(c->default_action == Action::deny);
    CHECK(c->default_duration.kind == RuleDuration::Kind::once);
    CHECK(c->prompt_timeout_s == 30);
    CHECK(c->proc_monitor_method == Method::ebpf);
    CHECK(c->firewall == FirewallBackend::automatic);
    CHECK(c->queue_bypass);
    CHECK_FALSE(c->queue_fail_open);
    CHECK_FALSE(c->intercept_loopback);
    CHECK_FALSE(c->intercept_unknown);
}

TEST_CASE("every key is read") {
    auto c = parse_config(R"({"DefaultAction":"reject","DefaultDuration":"5m","PromptTimeout":0,
        "InterceptUnknown":true,"ProcMonitorMethod":"diag","Firewall":"iptables","QueueNum":7,
        "QueueBypass":false,"QueueFailOpen":true,"InterceptLoopback":true,"RulesPath":"/tmp/r",
        "LogLevel":"debug","LogFile":"/tmp/l","EventsFile":"/tmp/e",
        "Stats":{"MaxEvents":10,"MaxStats":3},"Control":{"Socket":"/tmp/s","Group":"adm"}})",
                          "x.json");
    REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
    CHECK(c->default_action == Action::reject);
    CHECK(c->default_duration.span.count() == 300);
    CHECK(c->prompt_timeout_s == 0);
    CHECK(c->intercept_unknown);
    CHECK(c->proc_monitor_method == Method::diag);
    CHECK(c->firewall == FirewallBackend::iptables);
    CHECK(c->queue_num == 7);
    CHECK_FALSE(c->queue_bypass);
    CHECK(c->queue_fail_open);
    CHECK(c->intercept_loopback);
    CHECK(c->rules_path == "/tmp/r");
    CHECK(c->log_level == LogLevel::debug);
    CHECK(c->log_file == "/tmp/l");
    CHECK(c->events_file == "/tmp/e");
    CHECK(c->stats_max_events == 10);
    CHECK(c->stats_max_stats == 3);
    CHECK(c->control_socket == "/tmp/s");
    CHECK(c->control_group == "adm");
}

TEST_CASE("YAML is accepted too") {
    auto c = parse_config("DefaultAction: allow\nQueueNum: 3\nStats:\n  MaxEvents: 9\n", "c.yaml");
    REQUIRE(c);
    CHECK(c->default_action == Action::allow);
    CHECK(c->queue_num == 3);
    CHECK(c->stats_max_events == 9);
}

TEST_CASE("errors name the file, the line, the key and what was expected") {
    std::string e = error_of("{\n  \"DefaultAction\": \"maybe\"\n}");
    CHECK(contains(e, "test.json:2"));
    CHECK(contains(e, "DefaultAction"));
    CHECK(contains(e, "allow|deny|reject"));
    CHECK(contains(e, "maybe"));

    e = error_of("{\"QueueNum\": 70000}");
    CHECK(contains(e, "QueueNum"));
    CHECK(contains(e, "65535"));

    e = error_of("{\"QueueBypass\": \"yes\"}");
    CHECK(contains(e, "QueueBypass"));
    CHECK(contains(e, "true or false"));

    e = error_of("{\n\n\"Colour\": 1}");
    CHECK(contains(e, "test.json:3"));
    CHECK(contains(e, "'Colour'"));
    CHECK(contains(e, "unknown key"));

    e = error_of("{\"Stats\": {\"MaxEventz\": 1}}");
    CHECK(contains(e, "Stats.MaxEventz"));

    e = error_of("{\"Stats\": 5}");
    CHECK(contains(e, "expected an object"));

    e = error_of("{\"PromptTimeout\": -1}");
    CHECK(contains(e, "PromptTimeout"));

    e = error_of("{\"RulesPath\": [1]}");
    CHECK(contains(e, "expected a string"));

    e = error_of("{\"DefaultDuration\": \"forever\"}");
    CHECK(contains(e, "DefaultDuration"));

    e = error_of("{\"DefaultAction\": \"deny\",");
    CHECK(contains(e, "test.json"));
    CHECK(contains(e, "syntax error"));

    e = error_of("[1, 2]");
    CHECK(contains(e, "expected an object"));
}

TEST_CASE("lookup order: -c FILE, then the system file, then the built-in default") {
    char dir[] = "/tmp/tsnitch-config-XXXXXX";
    REQUIRE(mkdtemp(dir));
    const std::string sys = std::string(dir) + "/system.json";
    const std::string mine = std::string(dir) + "/mine.json";

    auto c = load_config("", sys);  // no system file: the built-in default
    REQUIRE(c);
    CHECK(c->source == "built-in default");

    std::ofstream(sys) << R"({"QueueNum": 5})";
    c = load_config("", sys);
    REQUIRE(c);
    CHECK(c->queue_num == 5);
    CHECK(c->source == sys);

    std::ofstream(mine) << R"({"QueueNum": 6})";
    c = load_config(mine, sys);
    REQUIRE(c);
    CHECK(c->queue_num == 6);

    c = load_config(std::string(dir) + "/missing.json", sys);
    REQUIRE(!c);
    CHECK(contains(c.error().message, "missing.json"));
    CHECK(contains(c.error().message, "No such file"));

    std::remove(sys.c_str());
    std::remove(mine.c_str());
    rmdir(dir);
}

TEST_CASE("a key given twice is an error, in JSON and in YAML") {
    std::string e = error_of(R"({"QueueNum": 1, "QueueNum": 2})");
    CHECK(contains(e, "test.json:1: key 'QueueNum': duplicate key"));
    e = error_of("QueueNum: 1\nLogLevel: info\nQueueNum: 2\n");
    CHECK(contains(e, "test.json:3: key 'QueueNum': duplicate key"));
    e = error_of(R"({"Stats": {"MaxEvents": 1, "MaxEvents": 2}})");
    CHECK(contains(e, "key 'Stats.MaxEvents': duplicate key"));
}

TEST_CASE("values from the file are escaped in errors: no terminal sequence, no cut at a NUL") {
    std::string e = error_of("{\"DefaultAction\": \"\\u001b[2Jallow\"}");
    CHECK(contains(e, "got '\\e[2Jallow'"));
    CHECK(e.find('\x1b') == std::string::npos);
    const std::string with_nul("{\"LogLevel\": \"a\\u0000b\"}");
    auto c = parse_config(with_nul, "test.json");
    REQUIRE(!c);
    CHECK(contains(c.error().message, "got 'a\\x00b'"));
    CHECK(c.error().message.find('\0') == std::string::npos);
}

TEST_CASE("a config file must be a regular file of at most 1 MiB that others cannot write") {
    char dir[] = "/tmp/tsnitch-config-XXXXXX";
    REQUIRE(mkdtemp(dir));
    const std::string d(dir);
    auto c = load_config("/dev/zero");
    REQUIRE(!c);
    CHECK(c.error().message == "/dev/zero: a character device, not a regular file");
    c = load_config(d);
    REQUIRE(!c);
    CHECK(c.error().message == d + ": a directory, not a regular file");
    const std::string fifo = d + "/fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    c = load_config(fifo);  // never waits for a writer
    REQUIRE(!c);
    CHECK(c.error().message == fifo + ": a FIFO, not a regular file");
    const std::string big = d + "/big.json";
    std::ofstream(big) << "{}" << std::string(kConfigFileLimit, ' ');
    c = load_config(big);
    REQUIRE(!c);
    CHECK(c.error().message == big + ": larger than 1 MiB");
    const std::string open = d + "/open.json";
    std::ofstream(open) << R"({"QueueNum": 5})";
    REQUIRE(chmod(open.c_str(), 0666) == 0);
    c = load_config(open);
    REQUIRE(!c);
    CHECK(contains(c.error().message, "mode 0666: writable by others; refused"));
    REQUIRE(chmod(open.c_str(), 0644) == 0);
    c = load_config(open);
    REQUIRE(c);
    CHECK(c->queue_num == 5);
    for (const std::string& f : {fifo, big, open})
        std::remove(f.c_str());
    rmdir(dir);
}

namespace {
std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

TEST_CASE("OpenSnitch's default-config.json of Debian's opensnitch package loads") {
    const std::string path = "tests/data/opensnitch-config/debian-1.5.8-default-config.json";
    auto c = load_config(path);
    REQUIRE_MESSAGE(c, c.error().message);
    CHECK(c->default_action == Action::allow);
    CHECK(c->proc_monitor_method == Method::ebpf);
    CHECK(c->firewall == FirewallBackend::iptables);
    CHECK(c->log_level == LogLevel::info);  // 2, OpenSnitch's "important"
    CHECK(c->log_file == "/var/log/opensnitchd.log");
    CHECK(c->stats_max_events == 150);
    CHECK(c->stats_max_stats == 25);
    CHECK(c->ignored_keys == std::vector<std::string>{"Server.Address"});
    CHECK(config_notice(*c) == path + ": ignored, no meaning for tsnitch: Server.Address");
    CHECK(contains(read_file(path), "\"Server\""));  // the fixture is the package's file
}

TEST_CASE("OpenSnitch's later keys: the ones that mean something are used, the rest named") {
    auto c = parse_config(R"({
        "Server": {"Address": "unix:///tmp/osui.sock", "Authentication": {"Type": "simple"},
                   "LogFile": "/var/log/x.log"},
        "DefaultAction": "deny", "LogLevel": 3, "LogUTC": true, "LogMicro": false,
        "Firewall": "nftables",
        "FwOptions": {"ConfigPath": "/etc/opensnitchd/system-fw.json", "MonitorInterval": "15s",
                      "QueueBypass": false},
        "Rules": {"Path": "/etc/opensnitchd/rules/", "EnableChecksums": false},
        "Ebpf": {"EventsWorkers": 8, "QueueEventsSize": 0},
        "Stats": {"MaxEvents": 250, "MaxStats": 25, "Workers": 6},
        "Internal": {"GCPercent": 100, "FlushConnsOnStart": true},
        "ProcMonitorMethod": "audit"
    })",
                          "os.json");
    REQUIRE_MESSAGE(c, c.error().message);
    CHECK(c->default_action == Action::deny);
    CHECK(c->log_level == LogLevel::warning);
    CHECK(c->log_file == "/var/log/x.log");
    CHECK(c->firewall == FirewallBackend::nftables);
    CHECK_FALSE(c->queue_bypass);
    CHECK(c->rules_path == "/etc/opensnitchd/rules");
    CHECK(c->proc_monitor_method == Method::ebpf);  // audit has no counterpart
    CHECK(c->stats_max_events == 250);
    CHECK(c->ignored_keys ==
          std::vector<std::string>{"Server.Address", "Server.Authentication", "LogUTC", "LogMicro",
                                   "FwOptions.ConfigPath", "FwOptions.MonitorInterval",
                                   "Rules.EnableChecksums", "Ebpf.EventsWorkers",
                                   "Ebpf.QueueEventsSize", "Stats.Workers", "Internal.GCPercent",
                                   "Internal.FlushConnsOnStart", "ProcMonitorMethod (audit)"});
    CHECK(config_notice(builtin_config()).empty());
}

TEST_CASE("OpenSnitch's keys are still checked where tsnitch uses them") {
    CHECK(contains(error_of(R"({"LogLevel": 7})"), "0 to 4"));
    CHECK(contains(error_of(R"({"LogLevel": "loud"})"), "LogLevel"));
    CHECK(contains(error_of(R"({"Rules": {"Path": ""}})"), "Rules.Path"));
    CHECK(contains(error_of(R"({"Rules": 3})"), "expected an object"));
    CHECK(contains(error_of(R"({"FwOptions": {"QueueBypass": "yes"}})"), "FwOptions.QueueBypass"));
    CHECK(contains(error_of(R"({"Server": {"LogFile": []}})"), "Server.LogFile"));
    // Outside OpenSnitch's sections an unknown key is still an error.
    CHECK(contains(error_of(R"({"Colour": 1})"), "unknown key"));
}

TEST_CASE("a default location this user may not read is as good as absent") {
    if (geteuid() != 0) {
        MESSAGE("not root: cannot make a directory that another user may not read");
        return;
    }
    char dir[] = "/tmp/tsnitch-config-XXXXXX";
    REQUIRE(mkdtemp(dir));
    REQUIRE(chmod(dir, 0755) == 0);
    const std::string etc = std::string(dir) + "/etc-tsnitch";
    REQUIRE(mkdir(etc.c_str(), 0700) == 0);  // as an older root run left /etc/tsnitch
    const std::string sys = etc + "/default-config.json";
    std::ofstream(sys) << R"({"QueueNum": 5})";
    const std::string open_file = std::string(dir) + "/private.json";
    std::ofstream(open_file) << R"({"QueueNum": 6})";
    REQUIRE(chmod(open_file.c_str(), 0600) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
        auto c = load_config("", sys);  // in a directory nobody may enter
        if (!c || c->source != "built-in default") _exit(11);
        c = load_config("", open_file);  // a file nobody may read
        if (!c || c->source != "built-in default") _exit(12);
        c = load_config(open_file, sys);  // asked for with -c: an error naming it
        if (c || c.error().message.find("private.json") == std::string::npos) _exit(13);
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    // root reads it.
    auto c = load_config("", sys);
    REQUIRE(c);
    CHECK(c->queue_num == 5);
    std::filesystem::remove_all(dir);
}
