// `tsnitch rules`: the rule files of RulesPath, read and changed directly (DESIGN.md §3, §5).
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "core/config.h"
#include "core/fs.h"
#include "core/rules/rule_store.h"
#include "core/text.h"

namespace tsnitch::cli {

namespace {

constexpr const char* kRulesUsage =
    R"(Usage: tsnitch rules [-r DIR] [-c FILE] COMMAND [ARGS]

Works on the rule files of DIR (default: RulesPath of the configuration). Rules are OpenSnitch's
format; see tsnitch-rules(5).
  -r, --rules DIR          the rules directory
  -c, --config FILE        the configuration (default as for run)

Commands:
  list                     every rule: name, enabled, action, duration, what it matches
  check                    read every rule file as tsnitch does; exit 2 when one is broken or
                           refused (for ExecStartPre and CI)
  show NAME                the rule as its file holds it (JSON)
  add NAME --action ACTION [OPTIONS] CONDITION...
                           write a new rule (a taken NAME is an error)
  delete NAME              remove the rule and its file
  enable NAME, disable NAME
  import [--replace] DIR   copy OpenSnitch rules (e.g. /etc/opensnitchd/rules) after checking
                           each one; reports what it skipped and why (exit 1 if any)

Options of add:
  --action allow|deny|reject
  --duration always|DURATION   always (default), or a span like 30s, 5m, 1h30m: the rule file
                               stops applying that long after it was written
  --description TEXT
  --precedence             an allow that wins at once over later rules
  --nolog                  do not log connections this rule decides
  --disabled               write the rule disabled
  A CONDITION is --operand OPERAND followed by its own options:
    --data VALUE           the value to compare (not needed for the operand true)
    --type TYPE            simple (default), regexp, network, range or lists
    --sensitive            compare case-sensitively
  With several conditions all must match (an OpenSnitch list operator).

Operands: true, process.id, process.path, process.parent.path, process.command,
  process.env.NAME, process.hash.md5, process.hash.sha1, user.id, user.name, source.ip,
  source.port, source.network, dest.ip, dest.host, dest.port, dest.network, protocol, iface.in,
  iface.out, lists.domains, lists.domains_regexp, lists.ips, lists.nets, lists.hash.md5

Exit status: 0 ok; 1 a runtime failure (a taken name, a file that cannot be written, import
skipped files); 2 bad usage: a bad option, name, operand, data or regexp, a rules directory that
does not exist (list, show, delete, enable, disable, check), or a broken rule file (list, after listing
the others).

Examples:
  tsnitch rules add allow-curl --action allow --operand process.path --data /usr/bin/curl
  tsnitch rules add deny-example --action deny --operand dest.host --type regexp \
      --data '^(|.*\.)example\.com$' --operand dest.port --data 443
  tsnitch rules add block-ads --action reject --operand lists.domains --type lists \
      --data /etc/tsnitch/blocklists/ads
  tsnitch rules import /etc/opensnitchd/rules
)";

int usage_error(const std::string& what) {
    print_error("rules: %s (see tsnitch rules --help)", what.c_str());
    return kExitUsage;
}

void report(const std::vector<Error>& problems) {
    for (const Error& p : problems)
        print_error("%s", p.message.c_str());
}

std::string yes_no(bool b) {
    return b ? "yes" : "no";
}

int list(RuleStore& store) {
    const auto rules = store.rules();
    struct Row {
        std::string name, enabled, action, duration, what;
    };
    std::vector<Row> rows{{"NAME", "ENABLED", "ACTION", "DURATION", "MATCHES"}};
    for (const StoredRule& r : rules) {
        std::string flags;
        if (r.rule.precedence) flags += " [precedence]";
        // Names and values come from files: escaped, as everything from outside that is printed.
        rows.push_back({printable_text(r.rule.name), yes_no(r.rule.enabled),
                        std::string(action_name(r.rule.action)), r.rule.duration.to_string(),
                        printable_text(describe_operator(r.rule.op)) + flags});
    }
    size_t w[4] = {};
    for (const Row& row : rows) {
        w[0] = std::max(w[0], row.name.size());
        w[1] = std::max(w[1], row.enabled.size());
        w[2] = std::max(w[2], row.action.size());
        w[3] = std::max(w[3], row.duration.size());
    }
    for (const Row& row : rows) {
        std::printf("%-*s  %-*s  %-*s  %-*s  %s\n", static_cast<int>(w[0]), row.name.c_str(),
                    static_cast<int>(w[1]), row.enabled.c_str(), static_cast<int>(w[2]),
                    row.action.c_str(), static_cast<int>(w[3]), row.duration.c_str(),
                    row.what.c_str());
    }
    return kExitOk;
}

int add(RuleStore& store, const std::vector<std::string>& args) {
    if (args.empty()) return usage_error("add: a rule NAME is needed");
    Rule r;
    r.name = args[0];
    bool have_action = false;
    std::vector<RuleOperator> conditions;
    for (size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> const std::string* {
            return i + 1 < args.size() ? &args[++i] : nullptr;
        };
        if (a == "--precedence") {
            r.precedence = true;
        } else if (a == "--nolog") {
            r.nolog = true;
        } else if (a == "--disabled") {
            r.enabled = false;
        } else if (a == "--sensitive") {
            if (conditions.empty()) return usage_error("add: --sensitive before any --operand");
            conditions.back().sensitive = true;
        } else if (a == "--action" || a == "--duration" || a == "--description" ||
                   a == "--operand" || a == "--data" || a == "--type") {
            const std::string* v = value();
            if (!v) return usage_error("add: " + a + " needs a value");
            if (a == "--action") {
                auto act = action_from_name(*v);
                if (!act) return usage_error("add: --action: expected allow, deny or reject");
                r.action = *act;
                have_action = true;
            } else if (a == "--duration") {
                auto d = RuleDuration::parse(*v);
                if (!d || d->kind == RuleDuration::Kind::once ||
                    d->kind == RuleDuration::Kind::until_restart) {
                    return usage_error(
                        "add: --duration: expected always or a span like 5m, 1h "
                        "(once and until restart only mean something to a "
                        "running tsnitch)");
                }
                r.duration = *d;
            } else if (a == "--description") {
                r.description = *v;
            } else if (a == "--operand") {
                RuleOperator o;
                o.operand = *v;
                conditions.push_back(o);
            } else if (conditions.empty()) {
                return usage_error("add: " + a + " before any --operand");
            } else if (a == "--data") {
                conditions.back().data = *v;
            } else {
                auto t = operator_type_from_name(*v);
                if (!t || *t == OperatorType::list) {
                    return usage_error(
                        "add: --type: expected simple, regexp, network, range or lists");
                }
                conditions.back().type = *t;
            }
        } else {
            return usage_error("add: unknown option '" + a + "'");
        }
    }
    if (!have_action) return usage_error("add: --action is needed");
    if (conditions.empty()) return usage_error("add: at least one --operand is needed");
    if (store.find(r.name)) {
        print_error("rules: a rule named '%s' exists already", r.name.c_str());
        return kExitFailure;
    }
    if (conditions.size() == 1) {
        r.op = conditions[0];
    } else {
        r.op.type = OperatorType::list;
        r.op.operand = "list";
        r.op.list = conditions;
    }
    // A bad name, operand, data or regexp is bad usage (2); what fails after that (writing the
    // file) is a runtime failure (1).
    if (Status s = check_rule_name(r.name); !s)
        return usage_error("add: name '" + r.name + "': " + s.error().message);
    if (auto op = CompiledOperator::compile(r.op, default_compile_context(), "operator"); !op)
        return usage_error("add: " + r.name + ": " + op.error().message);
    auto name = store.add(r, true);
    if (!name) {
        print_error("rules: %s: %s", r.name.c_str(), name.error().message.c_str());
        return kExitFailure;
    }
    std::printf("added %s\n", name->c_str());
    return kExitOk;
}

int import(RuleStore& store, const std::string& src, bool replace) {
    UniqueDir d(::opendir(src.c_str()));
    if (!d) {
        print_error("rules: import: %s: %s", src.c_str(), std::strerror(errno));
        return kExitFailure;
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d.get())) {
        if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    }
    d.reset();
    std::sort(names.begin(), names.end());
    int imported = 0, skipped = 0;
    auto skip = [&](const std::string& what) {
        print_error("rules: import: skipped %s", what.c_str());
        ++skipped;
    };
    // Whoever imports vouches for the files (they become root's, mode 0600): not their owner.
    const FileTrust anyone{.uid = 0, .enforce = false};
    for (const std::string& n : names) {
        const std::string path = src + (src.ends_with('/') ? "" : "/") + n;
        if (!is_rule_file_name(n)) {
            skip(path + ": not a rule file (.json, .yml, .yaml)");
            continue;
        }
        auto text = read_settings_file(path, kRuleFileLimit, anyone);
        if (!text) {
            skip(text.error().message);
            continue;
        }
        auto name = store.import_file(path, *text, replace);
        if (!name) {
            skip(name.error().message);
            continue;
        }
        std::printf("imported %s from %s\n", printable_text(*name).c_str(),
                    printable_text(path).c_str());
        ++imported;
    }
    std::printf("imported %d rule%s, skipped %d\n", imported, imported == 1 ? "" : "s", skipped);
    return skipped == 0 ? kExitOk : kExitFailure;
}

// `rules check`: every file is read as a running tsnitch would; exit 2 when one is not loaded
// (for ExecStartPre and CI).
int check(RuleStore& store, const std::vector<Error>& problems, const std::string& dir) {
    report(problems);
    const std::vector<Error> broken = store.broken_files();
    const size_t loaded = store.rules().size();
    if (!broken.empty()) {
        print_error("rules: check: %zu rule file%s of %s not loaded; %zu rule%s would apply",
                    broken.size(), broken.size() == 1 ? "" : "s", dir.c_str(), loaded,
                    loaded == 1 ? "" : "s");
        return kExitUsage;
    }
    std::printf("%s: %zu rule%s, no broken file\n", printable_text(dir).c_str(), loaded,
                loaded == 1 ? "" : "s");
    return kExitOk;
}

std::vector<std::string> without_replace(const std::vector<std::string>& args) {
    std::vector<std::string> rest;
    for (const std::string& a : args)
        if (a != "--replace") rest.push_back(a);
    return rest;
}

// What is wrong with the command's arguments by their count alone (add reads its own); nothing
// when they fit.
std::optional<std::string> arity_error(const std::string& cmd,
                                       const std::vector<std::string>& args) {
    if (cmd == "list" || cmd == "check") {
        if (!args.empty()) return cmd + " takes no arguments";
    } else if (cmd == "show" || cmd == "delete" || cmd == "enable" || cmd == "disable") {
        if (args.size() != 1) return cmd + " takes one rule NAME";
    } else if (cmd == "import") {
        if (without_replace(args).size() != 1) return "import takes one directory";
    } else if (cmd != "add") {
        return "unknown command '" + cmd + "'";
    }
    return std::nullopt;
}

}  // namespace

int rules(int argc, char** argv) {
    std::string dir, config_path;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kRulesUsage, stdout);
            return kExitOk;
        }
        if (a == "-r" || a == "--rules" || a == "-c" || a == "--config") {
            if (i + 1 >= argc) return usage_error(std::string(a) + " needs a value");
            (a == "-r" || a == "--rules" ? dir : config_path) = argv[++i];
        } else if (a.starts_with("--rules=")) {
            dir = a.substr(8);
        } else if (a.starts_with("-")) {
            return usage_error("unknown option '" + std::string(a) + "'");
        } else {
            break;
        }
    }
    if (i >= argc)
        return usage_error(
            "a command is needed: list, check, show, add, delete, enable, "
            "disable or import");
    const std::string cmd = argv[i++];
    std::vector<std::string> args(argv + i, argv + argc);
    if (std::find(args.begin(), args.end(), "--help") != args.end()) {
        std::fputs(kRulesUsage, stdout);
        return kExitOk;
    }
    // The command line's own mistakes are named before any file is read.
    if (auto wrong = arity_error(cmd, args)) return usage_error(*wrong);
    if (dir.empty()) {
        auto config = load_config(config_path);
        if (!config) {
            print_error("%s", config.error().message.c_str());
            return kExitUsage;
        }
        dir = config->rules_path;
    }
    while (dir.size() > 1 && dir.ends_with('/'))
        dir.pop_back();

    // Reading commands need the directory: a mistyped -r or RulesPath is an error, not an empty
    // table. add and import create it.
    if (cmd != "add" && cmd != "import") {
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            print_error("rules: %s: %s", dir.c_str(),
                        errno == ENOENT ? "no such rules directory" : std::strerror(errno));
            return kExitUsage;
        }
    }
    RuleStore store({.dir = dir});
    const std::vector<Error> problems = store.load();

    if (cmd == "list") {
        report(problems);
        // Broken files are bad configuration (2), as for run; the good rules are still listed.
        const int status = list(store);
        return status == kExitOk && !problems.empty() ? kExitUsage : status;
    }
    if (cmd == "show" || cmd == "delete" || cmd == "enable" || cmd == "disable") {
        const std::string* name = &args[0];
        auto r = store.find(*name);
        if (!r) {
            report(problems);
            print_error("rules: no rule named '%s' in %s", name->c_str(), dir.c_str());
            return kExitFailure;
        }
        if (cmd == "show") {
            std::fputs(rule_to_json(r->rule).c_str(), stdout);
            return kExitOk;
        }
        Status s =
            cmd == "delete" ? store.remove(*name) : store.set_enabled(*name, cmd == "enable");
        if (!s) {
            print_error("rules: %s %s: %s", cmd.c_str(), name->c_str(), s.error().message.c_str());
            return kExitFailure;
        }
        std::printf("%s %s\n",
                    cmd == "delete"   ? "deleted"
                    : cmd == "enable" ? "enabled"
                                      : "disabled",
                    name->c_str());
        return kExitOk;
    }
    if (cmd == "add") return add(store, args);
    if (cmd == "check") return check(store, problems, dir);
    if (cmd == "import") {
        const std::vector<std::string> from = without_replace(args);
        return import(store, from[0], from.size() < args.size());
    }
    return kExitUsage;  // arity_error named it
}

}  // namespace tsnitch::cli
