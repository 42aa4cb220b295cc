#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "core/default_config.h"
#include "core/fs.h"
#include "core/json_syntax.h"
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

    // A key of OpenSnitch's that means nothing to tsnitch: accepted whatever it holds, and named.
    Handler ignored(std::vector<std::string>& into) {
        return [&into](const YAML::Node&, const std::string& key) { into.push_back(key); };
    }

    // An OpenSnitch section: `known` keys are read, every other key in it is ignored and named
    // (later OpenSnitch versions add keys; they must not stop tsnitch).
    void section(const YAML::Node& n, const std::string& path, std::map<std::string, Handler> known,
                 std::vector<std::string>& ignored_keys) {
        if (!n.IsMap()) fail(n, path, "expected an object, got " + kind(n));
        for (const auto& kv : n) {
            const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "?";
            if (!known.count(name)) known.emplace(name, ignored(ignored_keys));
        }
        object(n, path, known);
    }

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
    // A directory, without the trailing '/' that OpenSnitch's Rules.Path has.
    const auto rules_dir = [&r](const YAML::Node& n, const std::string& k) {
        std::string dir = r.string(n, k);
        while (dir.size() > 1 && dir.ends_with('/'))
            dir.pop_back();
        if (dir.empty()) r.fail(n, k, "expected a directory, got an empty string");
        return dir;
    };
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
                     // OpenSnitch's audit method (auditd) has no counterpart: the default stays.
                     if (n.IsScalar() && n.Scalar() == "audit") {
                         c.ignored_keys.push_back(k + " (audit)");
                         return;
                     }
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
                {"RulesPath", [&](auto& n, auto& k) { c.rules_path = rules_dir(n, k); }},
                // OpenSnitch's keys (its default-config.json).
                {"Server",
                 [&](auto& n, auto& k) {
                     r.section(
                         n, k,
                         {{"LogFile", [&](auto& m, auto& kk) { c.log_file = r.string(m, kk); }}},
                         c.ignored_keys);
                 }},
                {"Rules",
                 [&](auto& n, auto& k) {
                     r.section(
                         n, k,
                         {{"Path", [&](auto& m, auto& kk) { c.rules_path = rules_dir(m, kk); }}},
                         c.ignored_keys);
                 }},
                {"FwOptions",
                 [&](auto& n, auto& k) {
                     r.section(n, k,
                               {{"QueueBypass",
                                 [&](auto& m, auto& kk) { c.queue_bypass = r.boolean(m, kk); }}},
                               c.ignored_keys);
                 }},
                {"Ebpf", [&](auto& n, auto& k) { r.section(n, k, {}, c.ignored_keys); }},
                {"Internal", [&](auto& n, auto& k) { r.section(n, k, {}, c.ignored_keys); }},
                {"LogUTC", r.ignored(c.ignored_keys)},
                {"LogMicro", r.ignored(c.ignored_keys)},
                {"LogLevel",
                 [&](auto& n, auto& k) {
                     // OpenSnitch writes a number: 0 debug, 1 info, 2 important, 3 warning,
                     // 4 error.
                     static const std::map<std::string, LogLevel> levels{
                         {"debug", LogLevel::debug},     {"info", LogLevel::info},
                         {"warning", LogLevel::warning}, {"error", LogLevel::error},
                         {"0", LogLevel::debug},         {"1", LogLevel::info},
                         {"2", LogLevel::info},          {"3", LogLevel::warning},
                         {"4", LogLevel::error}};
                     if (n.IsScalar()) {
                         if (auto it = levels.find(n.Scalar()); it != levels.end()) {
                             c.log_level = it->second;
                             return;
                         }
                     }
                     r.fail(n, k,
                            "expected debug, info, warning, error (or OpenSnitch's 0 to 4), got '" +
                                r.scalar_text(n) + "'");
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
                               {"MaxStats",
                                [&](auto& m, auto& kk) {
                                    c.stats_max_stats =
                                        static_cast<unsigned>(r.number(m, kk, 100'000));
                                }},
                               {"Workers", r.ignored(c.ignored_keys)}});
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
        // A JSON file's error in JSON's words, not the YAML reader's ("end of map flow").
        if (auto json = json_syntax_message(text, origin)) return make_error(*json);
        std::string where(origin);
        if (e.mark.line >= 0) where += ":" + std::to_string(e.mark.line + 1);
        return make_error(printable_text(where) + ": syntax error: " + printable_text(e.msg));
    }
    return c;
}

std::string config_notice(const Config& c) {
    if (c.ignored_keys.empty()) return "";
    std::string s = c.source + ": ignored, no meaning for tsnitch: ";
    for (size_t i = 0; i < c.ignored_keys.size(); ++i)
        s += (i ? ", " : "") + c.ignored_keys[i];
    return s;
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
        // A location this user may not look into (/etc/tsnitch of an older root run, made 0700)
        // is as good as absent: monitor and sockets work for everyone.
        if (::stat(std::string(system_path).c_str(), &st) != 0) {
            if (errno == ENOENT || errno == EACCES || errno == ENOTDIR) return builtin_config();
            return make_error(std::string(system_path) + ": " + std::strerror(errno), errno);
        }
        if (::access(std::string(system_path).c_str(), R_OK) != 0 && errno == EACCES)
            return builtin_config();
        path = system_path;
    }
    auto text = read_settings_file(path, kConfigFileLimit, trust);
    if (!text) return text.error();
    return parse_config(*text, path);
}

}  // namespace tsnitch
