// libFuzzer target for rule files and list files: any input gives a rule or an Error naming the
// file; a rule that compiles can be matched; what tsnitch writes for a rule reads back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/rules/lists.h"
#include "core/rules/operator.h"
#include "core/rules/rule.h"

using namespace tsnitch;

namespace {

Connection sample_connection() {
    Connection c;
    c.src = *IpAddress::parse("10.0.2.15");
    c.dst = *IpAddress::parse("2001:db8::1");
    c.src_port = 40000;
    c.dst_port = 443;
    c.uid = 1000;
    ProcessInfo p;
    p.pid = 42;
    p.path = "/usr/bin/curl";
    p.args = {"/usr/bin/curl", "https://example.com"};
    p.parents = {{1, "init", "/sbin/init"}};
    p.env = {{"HOME", "/root"}};
    c.process = std::make_shared<const ProcessInfo>(p);
    c.dst_host = "www.example.com";
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // List files: every kind, bad lines reported and skipped.
    for (auto kind : {ListKind::domains, ListKind::domains_regexp, ListKind::ips, ListKind::nets,
                      ListKind::hash_md5}) {
        EntryList l(kind);
        std::vector<Error> problems;
        l.parse(text, "fuzz.list", problems);
        l.finish(problems, "fuzz.list");
        for (const Error& p : problems) {
            if (!p.message.starts_with("fuzz.list")) std::abort();
        }
        (void)l.contains_domain("a.b.example.com");
        (void)l.contains_ip(*IpAddress::parse("10.1.2.3"));
    }

    auto rule = parse_rule(text, "fuzz.json");
    if (!rule) {
        if (!rule.error().message.starts_with("fuzz.json")) std::abort();
        return 0;
    }
    if (rule->name.empty()) std::abort();

    CompileContext ctx;
    ctx.resolve_user = [](std::string_view name) -> std::optional<uint32_t> {
        if (name == "root") return 0;
        return std::nullopt;
    };
    // No file system: a lists operator gets an empty list.
    ctx.load_list = [](ListKind kind,
                       const std::string&) -> Result<std::shared_ptr<const EntryList>> {
        return std::make_shared<const EntryList>(kind);
    };
    auto op = CompiledOperator::compile(rule->op, ctx, "operator");
    if (op) {
        const Connection c = sample_connection();
        MatchInput in(c, nullptr);
        (void)op->match(in);
    } else if (!op.error().message.starts_with("operator")) {
        std::abort();
    }

    // What tsnitch writes for this rule must read back.
    auto back = parse_rule(rule_to_json(*rule), "written.json");
    if (!back || back->op.type != rule->op.type || back->action != rule->action ||
        back->enabled != rule->enabled || back->op.list.size() != rule->op.list.size()) {
        std::abort();
    }
    return 0;
}
