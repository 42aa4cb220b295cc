// Shared helpers of the rules tests: connections, operators and a scratch directory.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/rules/operator.h"
#include "core/rules/rule.h"

namespace rules_test {

using namespace tsnitch;

inline Connection conn(const char* dst = "93.184.216.34", uint16_t dport = 443,
                       const char* path = "/usr/bin/curl") {
    Connection c;
    c.protocol = Protocol::tcp;
    c.src = *IpAddress::parse("10.0.2.15");
    c.src_port = 54321;
    c.dst = *IpAddress::parse(dst);
    c.dst_port = dport;
    c.uid = 1000;
    ProcessInfo p;
    p.pid = 4242;
    p.ppid = 1;
    p.uid = 1000;
    p.user = "alice";
    p.path = path;
    p.args = {path, "-s", "https://example.com/"};
    p.parents = {{100, "bash", "/usr/bin/bash"}, {1, "systemd", "/usr/lib/systemd/systemd"}};
    p.env = {{"HOME", "/home/alice"}, {"LANG", "C.UTF-8"}};
    c.process = std::make_shared<const ProcessInfo>(p);
    c.dst_host = "www.example.com";
    c.iface_out = "eth0";
    return c;
}

inline RuleOperator op(OperatorType t, std::string operand, std::string data,
                       bool sensitive = false) {
    RuleOperator o;
    o.type = t;
    o.operand = std::move(operand);
    o.data = std::move(data);
    o.sensitive = sensitive;
    return o;
}

inline RuleOperator simple(std::string operand, std::string data, bool sensitive = false) {
    return op(OperatorType::simple, std::move(operand), std::move(data), sensitive);
}

inline RuleOperator regexp(std::string operand, std::string data, bool sensitive = false) {
    return op(OperatorType::regexp, std::move(operand), std::move(data), sensitive);
}

inline RuleOperator all_of(std::vector<RuleOperator> subs) {
    RuleOperator o;
    o.type = OperatorType::list;
    o.operand = "list";
    o.list = std::move(subs);
    return o;
}

inline CompileContext test_context() {
    CompileContext ctx = default_compile_context();
    ctx.resolve_user = [](std::string_view name) -> std::optional<uint32_t> {
        if (name == "alice") return 1000;
        if (name == "root") return 0;
        return std::nullopt;
    };
    return ctx;
}

inline Rule rule(std::string name, Action a, RuleOperator o,
                 RuleDuration d = {RuleDuration::Kind::until_restart, {}}) {
    Rule r;
    r.name = std::move(name);
    r.action = a;
    r.op = std::move(o);
    r.duration = d;
    return r;
}

// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct ScratchDir {
    std::string path;
    ScratchDir() {
        char tmpl[] = "/tmp/tsnitch-rules-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~ScratchDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name) const { return path + "/" + name; }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(file(name), std::ios::binary) << text;
    }
    bool exists(const std::string& name) const { return std::filesystem::exists(file(name)); }
};

inline std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace rules_test
