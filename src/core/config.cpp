#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <sys/stat.h>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "core/default_config.h"
#include "core/fs.h"
#include "core/text.h"

namespace tsnitch {

std::string_view firewall_backend_name(FirewallBackend b) {
    switch (b) {
        case FirewallBackend::automatic:
            return "auto";
        case FirewallBackend::iptables:
            return "iptables";
        case FirewallBackend::nftables:
            return "nftables";
    }
    return "auto";
}

std::string_view log_level_name(LogLevel l) {
    switch (l) {
        case LogLevel::debug:
            return "debug";
        case LogLevel::info:
            return "info";
        case LogLevel::warning:
            return "warning";
        case LogLevel::error:
            return "error";
    }
    return "info";
}

namespace {

// Raised inside the parser only; parse_config turns it into an Error value.
struct ConfigError {
    std::string message;
};

class Reader {
  public:
    explicit Reader(std::string_view origin) : origin_(origin) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                           const std::string& what) {
        std::string where = origin_;
        if (node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
        // Keys and values come from the file: escaped, so that a message can't drive a terminal
        // and a NUL can't cut it short.
        throw ConfigError{printable_text(where) + ": key '" + printable_text(key) +
                          "': " + printable_text(what)};
    }

    std::string scalar_text(const YAML::Node& n) {
        return n.IsScalar() ? n.Scalar() : "<" + kind(n) + ">";
    }

    static std::string kind(const YAML::Node& n) {
        if (n.IsMap()) return "object";
        if (n.IsSequence()) return "list";
        if (n.IsNull()) return "null";
        return "value";
    }

    std::string string(const YAML::Node& n, const std::string& key) {
        if (!n.IsScalar()) fail(n, key, "expected a string, got " + kind(n));
        return n.Scalar();
    }

    bool boolean(const YAML::Node& n, const std::string& key) {
        if (n.IsScalar()) {
            const std::string& s = n.Scalar();
            if (s == "true") return true;
            if (s == "false") return false;
        }
        fail(n, key, "expected true or false, got '" + scalar_text(n) + "'");
    }

    unsigned long long number(const YAML::Node& n, const std::string& key, unsigned long long max) {
        if (n.IsScalar()) {
            const std::string& s = n.Scalar();
            if (!s.empty() && s.size() <= 20 &&
                s.find_first_not_of("0123456789") == std::string::npos) {
                errno = 0;
                const unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
                if (errno == 0 && v <= max) return v;
            }
        }
        fail(n, key,
             "expected a whole number from 0 to " + std::to_string(max) + ", got '" +
                 scalar_text(n) + "'");
    }

    template <class E>
    E choice(const YAML::Node& n, const std::string& key, const std::map<std::string, E>& values) {
        std::string allowed;
        for (const auto& [name, _] : values)
            allowed += (allowed.empty() ? "" : "|") + name;
        if (n.IsScalar()) {
            auto it = values.find(n.Scalar());
            if (it != values.end()) return it->second;
        }
        fail(n, key, "expected one of " + allowed + ", got '" + scalar_text(n) + "'");
    }

    using Handler = std::function<void(const YAML::Node&, const std::string& key)>;

    void object(const YAML::Node& n, const std::string& path,
                const std::map<std::string, Handler>& keys) {
        if (!n.IsMap())
            fail(n, path.empty() ? "(top level)" : path, "expected an object, got " + kind(n));
        std::set<std::string> seen;
        for (const auto& kv : n) {
            const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "?";
            const std::string full = path.empty() ? name : path + "." + name;
            // YAML and JSON parsers keep one of two equal keys; which one depends on the parser,
            // so a duplicate is a mistake to report, not a value to pick.
            if (!seen.insert(name).second) fail(kv.first, full, "duplicate key");
            auto it = keys.find(name);
            if (it == keys.end()) {
                std::string known;
                for (const auto& [k, _] : keys)
                    known += (known.empty() ? "" : ", ") + k;
                fail(kv.first, full, "unknown key (known keys: " + known + ")");
            }
            it->second(kv.second, full);
        }
    }

  private:
    std::string origin_;
};

}  // namespace

Result<Config> parse_config(std::string_view text, std::string_view origin) {
    Config c;
    c.source = std::string(origin);
    Reader r(origin);
    try {
        YAML::Node root = YAML::Load(std::string(text));
        if (!root.IsDefined() || root.IsNull()) return c;  // an empty file: all defaults
        const std::map<std::string, Action> actions{
            {"allow", Action::allow}, {"deny", Action::deny}, {"reject", Action::reject}};
        r.object(
            root, "",
            {
                {"DefaultAction",
                 [&](auto& n, auto& k) { c.default_action = r.choice(n, k, actions); }},
                {"DefaultDuration",
                 [&](auto& n, auto& k) {
                     auto d = RuleDuration::parse(r.string(n, k));
                     if (!d)
                         r.fail(n, k,
                                "expected once, until restart, always or a duration like 30s, 5m, "
                                "1h; got '" +
                                    n.Scalar() + "'");
                     c.default_duration = *d;
                 }},
                {"PromptTimeout",
                 [&](auto& n, auto& k) {
                     c.prompt_timeout_s = static_cast<unsigned>(r.number(n, k, 86400));
                 }},
                {"InterceptUnknown",
                 [&](auto& n, auto& k) { c.intercept_unknown = r.boolean(n, k); }},
                {"ProcMonitorMethod",
                 [&](auto& n, auto& k) {
                     c.proc_monitor_method =
                         r.choice(n, k,
                                  std::map<std::string, Method>{{"ebpf", Method::ebpf},
                                                                {"diag", Method::diag},
                                                                {"proc", Method::proc}});
                 }},
                {"Firewall",
                 [&](auto& n, auto& k) {
                     c.firewall = r.choice(n, k,
                                           std::map<std::string, FirewallBackend>{
                                               {"auto", FirewallBackend::automatic},
                                               {"iptables", FirewallBackend::iptables},
                                               {"nftables", FirewallBackend::nftables}});
                 }},
                {"QueueNum",
                 [&](auto& n, auto& k) {
                     c.queue_num = static_cast<uint16_t>(r.number(n, k, 65535));
                 }},
                {"QueueBypass", [&](auto& n, auto& k) { c.queue_bypass = r.boolean(n, k); }},
                {"QueueFailOpen", [&](auto& n, auto& k) { c.queue_fail_open = r.boolean(n, k); }},
                {"InterceptLoopback",
                 [&](auto& n, auto& k) { c.intercept_loopback = r.boolean(n, k); }},
                {"RulesPath",
                 [&](auto& n, auto& k) {
                     c.rules_path = r.string(n, k);
                     if (c.rules_path.empty())
                         r.fail(n, k, "expected a directory, got an empty string");
                 }},
                {"LogLevel",
                 [&](auto& n, auto& k) {
                     c.log_level =
                         r.choice(n, k,
                                  std::map<std::string, LogLevel>{{"debug", LogLevel::debug},
                                                                  {"info", LogLevel::info},
                                                                  {"warning", LogLevel::warning},
                                                                  {"error", LogLevel::error}});
                 }},
                {"LogFile", [&](auto& n, auto& k) { c.log_file = r.string(n, k); }},
                {"EventsFile", [&](auto& n, auto& k) { c.events_file = r.string(n, k); }},
                {"Stats",
                 [&](auto& n, auto& k) {
                     r.object(n, k,
                              {{"MaxEvents",
                                [&](auto& m, auto& kk) {
                                    c.stats_max_events =
                                        static_cast<unsigned>(r.number(m, kk, 1'000'000));
                                }},
                               {"MaxStats", [&](auto& m, auto& kk) {
                                    c.stats_max_stats =
                                        static_cast<unsigned>(r.number(m, kk, 100'000));
                                }}});
                 }},
                {"Control",
                 [&](auto& n, auto& k) {
                     r.object(n, k,
                              {{"Socket",
                                [&](auto& m, auto& kk) {
                                    c.control_socket = r.string(m, kk);
                                    if (c.control_socket.empty() || c.control_socket.size() > 107)
                                        r.fail(m, kk, "expected a socket path of 1 to 107 bytes");
                                }},
                               {"Group",
                                [&](auto& m, auto& kk) { c.control_group = r.string(m, kk); }}});
                 }},
            });
    } catch (const ConfigError& e) {
        return make_error(e.message);
    } catch (const YAML::Exception& e) {
        std::string where(origin);
        if (e.mark.line >= 0) where += ":" + std::to_string(e.mark.line + 1);
        return make_error(printable_text(where) + ": syntax error: " + printable_text(e.msg));
    }
    return c;
}

std::string_view builtin_config_text() {
    return kDefaultConfigText;
}

Config builtin_config() {
    auto c = parse_config(kDefaultConfigText, "built-in default");
    // The built-in text is checked by a unit test; a broken build still runs with the defaults.
    return c ? *c : Config{};
}

Result<Config> load_config(const std::string& explicit_path, std::string_view system_path,
                           const FileTrust& trust) {
    std::string path = explicit_path;
    if (path.empty()) {
        struct stat st {};
        if (::stat(std::string(system_path).c_str(), &st) != 0) {
            if (errno == ENOENT) return builtin_config();
            return make_error(std::string(system_path) + ": " + std::strerror(errno), errno);
        }
        path = system_path;
    }
    auto text = read_settings_file(path, kConfigFileLimit, trust);
    if (!text) return text.error();
    return parse_config(*text, path);
}

}  // namespace tsnitch
