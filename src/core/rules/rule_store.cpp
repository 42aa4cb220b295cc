#include "core/rules/rule_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/fs.h"
#include "core/text.h"
#include "core/unique_fd.h"

namespace tsnitch {

using TimePoint = std::chrono::system_clock::time_point;

struct RuleStore::Entry {
    Rule rule;
    CompiledOperator op;
    std::string file;
    std::optional<TimePoint> expires;
};

// What match() reads: the enabled rules in name order and an index that finds the candidates of a
// connection without running every rule. Rules whose operator is one simple comparison are found
// by a hash lookup of the connection's value; a `list` rule by one of its simple sub-operators
// (then checked whole); regexp rules through one RE2::Set per operand. The rest are checked one by
// one.
struct RuleStore::Snapshot {
    std::vector<std::shared_ptr<const Entry>> rules;
    std::vector<bool> implied;  // found through the index means matched
    struct Keyed {
        Operand operand;
        bool sensitive;
        std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>>
            by_value;
    };
    std::vector<Keyed> keyed;
    struct Regexps {
        Operand operand;
        std::unique_ptr<RE2::Set> set;
        std::vector<uint32_t> rule_of;  // set index -> rule index
    };
    std::vector<Regexps> regexps;
    std::vector<uint32_t> others;
    bool needs_env = false;
    bool needs_exe_hash = false;
};

namespace {

const std::string* lookup_text(MatchInput& in, Operand o, bool sensitive, std::string& scratch) {
    const std::string* t = in.text(o);
    if (!t || sensitive) return t;
    scratch = ascii_lower(*t);
    return &scratch;
}

}  // namespace

Status create_rules_dir(const std::string& path) {
    std::string dir = path;
    while (dir.size() > 1 && dir.ends_with('/'))
        dir.pop_back();
    // Only the rules directory itself is private: /etc/tsnitch made on the way stays readable,
    // so that everyone's `tsnitch sockets` finds (or misses) the configuration.
    if (const size_t slash = dir.rfind('/'); slash != std::string::npos && slash > 0)
        if (auto s = create_directories(dir.substr(0, slash), 0755); !s) return s;
    return create_directories(dir, 0700);
}

bool is_rule_file_name(std::string_view name) {
    if (name.empty() || name[0] == '.') return false;
    return name.ends_with(".json") || name.ends_with(".yml") || name.ends_with(".yaml");
}

RuleStore::RuleStore(RuleStoreOptions options) : opt_(std::move(options)) {
    if (!opt_.clock) opt_.clock = [] { return std::chrono::system_clock::now(); };
    if (!opt_.hasher) opt_.hasher = std::make_shared<ProcExeHashSource>();
    CompileContext defaults = default_compile_context();
    if (!opt_.compile.resolve_user) opt_.compile.resolve_user = defaults.resolve_user;
    snap_ = std::make_shared<Snapshot>();
}

RuleStore::~RuleStore() = default;

TimePoint RuleStore::now() const {
    return opt_.clock();
}

std::string RuleStore::path_for(const std::string& name) const {
    return opt_.dir + (opt_.dir.ends_with('/') ? "" : "/") + name + ".json";
}

Result<std::shared_ptr<const RuleStore::Entry>> RuleStore::compile_entry(Rule r, std::string file) {
    // Lists shared by several rules are read once; the cache lives as long as a rule uses it.
    CompileContext ctx = opt_.compile;
    ctx.load_list = [this](ListKind kind,
                           const std::string& dir) -> Result<std::shared_ptr<const EntryList>> {
        auto key = std::make_pair(kind, dir);
        if (auto it = lists_.find(key); it != lists_.end()) return it->second;
        std::vector<Error> problems;
        Result<std::shared_ptr<const EntryList>> l = opt_.compile.load_list
                                                         ? opt_.compile.load_list(kind, dir)
                                                         : load_list_dir(kind, dir, problems);
        for (Error& p : problems)
            list_problems_.push_back(std::move(p));
        if (l) lists_[key] = *l;
        return l;
    };
    auto op = CompiledOperator::compile(r.op, ctx, "operator");
    if (!op) return op.error();
    auto e = std::make_shared<Entry>();
    if (r.duration.kind == RuleDuration::Kind::timed) {
        auto created = parse_rfc3339(r.created);
        e->expires = (created ? *created : now()) + r.duration.span;
    }
    e->rule = std::move(r);
    e->op = std::move(*op);
    e->file = std::move(file);
    return std::shared_ptr<const Entry>(std::move(e));
}

std::vector<Error> RuleStore::load() {
    std::vector<Error> problems;
    {
        std::lock_guard lock(mu_);
        for (auto it = entries_.begin(); it != entries_.end();) {
            it = it->second->file.empty() ? std::next(it) : entries_.erase(it);
        }
        lists_.clear();
        broken_.clear();
        for (const std::string& path : list_rule_files_locked(problems)) {
            auto p = reload_file_locked(path);
            problems.insert(problems.end(), p.begin(), p.end());
        }
        struct stat st {};
        dir_gone_ = !opt_.dir.empty() && ::stat(opt_.dir.c_str(), &st) != 0;
        watch_lists_locked();
        rebuild_locked();
    }
    changed();
    return problems;
}

std::vector<std::string> RuleStore::list_rule_files_locked(std::vector<Error>& problems) {
    std::vector<std::string> paths;
    broken_.erase(opt_.dir);
    if (opt_.dir.empty()) return paths;
    UniqueDir d(::opendir(opt_.dir.c_str()));
    if (!d) {
        if (errno != ENOENT) {
            const std::string why = opt_.dir + ": " + errno_text(errno);
            broken_[opt_.dir] = why;
            problems.push_back(make_error(why, errno));
        }
        return paths;
    }
    std::vector<std::string> names;
    while (dirent* de = ::readdir(d.get())) {
        if (is_rule_file_name(de->d_name)) names.emplace_back(de->d_name);
    }
    std::sort(names.begin(), names.end());
    // A directory that others can write to is obeyed by none of its files (as sshd's
    // StrictModes): anyone could have put a rule there.
    struct stat st {};
    if (::fstat(::dirfd(d.get()), &st) == 0) {
        if (std::string why = untrusted_reason(opt_.dir, st, opt_.trust, true); !why.empty()) {
            why += "; none of its " + std::to_string(names.size()) + " rule files is loaded";
            broken_[opt_.dir] = why;
            problems.push_back(make_error(why, EPERM));
            return paths;
        }
    }
    for (const std::string& n : names)
        paths.push_back(opt_.dir + "/" + n);
    return paths;
}

bool RuleStore::directory_trusted_locked() const {
    struct stat st {};
    if (::stat(opt_.dir.c_str(), &st) != 0) return true;  // gone: nothing to obey
    return untrusted_reason(opt_.dir, st, opt_.trust, true).empty();
}

std::vector<Error> RuleStore::broken_files() const {
    std::lock_guard lock(mu_);
    std::vector<Error> out;
    for (const auto& [file, why] : broken_)
        out.push_back(make_error(why));
    return out;
}

std::vector<Error> RuleStore::reload_file_locked(const std::string& path) {
    std::vector<Error> problems;
    broken_.erase(path);
    const auto broken = [&](Error e) {
        broken_[path] = e.message;
        problems.push_back(std::move(e));
        return problems;
    };
    for (auto it = entries_.begin(); it != entries_.end();) {
        it = it->second->file == path ? entries_.erase(it) : std::next(it);
    }
    struct stat lst {};
    if (::lstat(path.c_str(), &lst) != 0) {
        if (errno == ENOENT) return problems;  // deleted: its rule stops applying
        return broken(make_error(path + ": " + errno_text(errno) + "; not loaded", errno));
    }
    // A link is followed (its target must pass the same checks), and said: a rule that comes
    // from somewhere else than the directory is worth a line in the log.
    std::string link;
    if (S_ISLNK(lst.st_mode)) {
        auto target = read_link(path);
        link = target ? *target : std::string("?");
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0)
            return broken(make_error(path + ": a symbolic link to " + printable_text(link) + ": " +
                                         errno_text(errno) + "; not loaded",
                                     errno));
    }
    auto text = read_settings_file(path, kRuleFileLimit, opt_.trust);
    if (!text) return broken(make_error(text.error().message + "; not loaded", text.error().code));
    auto rule = parse_rule(*text, path);
    if (!rule) return broken(rule.error());
    if (auto it = entries_.find(rule->name); it != entries_.end()) {
        return broken(make_error(
            path + ": name: a rule named '" + printable_text(rule->name) + "' is already loaded" +
            (it->second->file.empty() ? "" : " from " + it->second->file) + "; skipped"));
    }
    list_problems_.clear();
    auto e = compile_entry(std::move(*rule), path);
    for (Error& p : list_problems_)
        problems.push_back(std::move(p));
    list_problems_.clear();
    if (!e) return broken(make_error(path + ": " + e.error().message));
    if (!link.empty())
        problems.push_back(make_error(path + ": a symbolic link to " + printable_text(link) +
                                      "; its rule '" + printable_text((*e)->rule.name) +
                                      "' is loaded"));
    entries_.emplace((*e)->rule.name, std::move(*e));
    return problems;
}

void RuleStore::rebuild_locked() {
    auto s = std::make_shared<Snapshot>();
    const TimePoint t = now();
    for (const auto& [name, e] : entries_) {
        if (!e->rule.enabled) continue;
        if (e->expires && *e->expires <= t) continue;
        s->rules.push_back(e);
    }
    s->implied.assign(s->rules.size(), false);
    std::map<std::pair<Operand, bool>, size_t> keyed_at;
    std::map<Operand, std::vector<uint32_t>> regexp_rules;
    for (uint32_t i = 0; i < s->rules.size(); ++i) {
        const CompiledOperator& op = s->rules[i]->op;
        if (op.uses_env()) s->needs_env = true;
        if (op.uses_exe_hash()) s->needs_exe_hash = true;
        // The operator that can find this rule: the top-level one, or a simple sub-operator of a
        // list (all of them must match, so any one is a necessary condition).
        const CompiledOperator* key_op = nullptr;
        if (op.key()) {
            key_op = &op;
        } else if (op.type() == OperatorType::list) {
            for (const CompiledOperator& sub : op.subs()) {
                if (sub.key()) {
                    key_op = &sub;
                    break;
                }
            }
        }
        if (key_op) {
            auto k = std::make_pair(key_op->operand(), key_op->sensitive());
            auto [it, fresh] = keyed_at.emplace(k, s->keyed.size());
            if (fresh) s->keyed.push_back({k.first, k.second, {}});
            s->keyed[it->second].by_value[*key_op->key()].push_back(i);
            s->implied[i] = key_op == &op;
        } else if (op.type() == OperatorType::regexp && operand_is_single_text(op.operand())) {
            regexp_rules[op.operand()].push_back(i);
        } else {
            s->others.push_back(i);
        }
    }
    for (auto& [operand, idx] : regexp_rules) {
        RE2::Options o;
        o.set_log_errors(false);
        o.set_max_mem(64 << 20);
        auto set = std::make_unique<RE2::Set>(o, RE2::UNANCHORED);
        bool ok = true;
        for (uint32_t i : idx)
            ok = ok && set->Add(s->rules[i]->op.pattern(), nullptr) >= 0;
        if (ok && set->Compile()) {
            for (uint32_t i : idx)
                s->implied[i] = true;
            s->regexps.push_back({operand, std::move(set), idx});
        } else {
            s->others.insert(s->others.end(), idx.begin(), idx.end());
        }
    }
    std::sort(s->others.begin(), s->others.end());
    std::lock_guard lock(snap_mu_);
    snap_ = std::move(s);
}

std::shared_ptr<const RuleStore::Snapshot> RuleStore::snapshot() const {
    std::lock_guard lock(snap_mu_);
    return snap_;
}

std::optional<RuleMatch> RuleStore::match(const Connection& c) {
    const std::shared_ptr<const Snapshot> s = snapshot();
    if (s->rules.empty()) return std::nullopt;
    const TimePoint t = now();
    MatchInput in(c, opt_.hasher.get());
    thread_local std::vector<uint32_t> candidates;
    thread_local std::vector<int> hits;
    thread_local std::string scratch;
    candidates.clear();
    for (const Snapshot::Keyed& k : s->keyed) {
        const std::string* v = lookup_text(in, k.operand, k.sensitive, scratch);
        if (!v) continue;
        if (auto it = k.by_value.find(std::string_view(*v)); it != k.by_value.end()) {
            candidates.insert(candidates.end(), it->second.begin(), it->second.end());
        }
    }
    for (const Snapshot::Regexps& r : s->regexps) {
        const std::string* v = in.text(r.operand);
        if (!v) continue;
        hits.clear();
        RE2::Set::ErrorInfo err{};
        if (r.set->Match(*v, &hits, &err)) {
            for (int h : hits)
                candidates.push_back(r.rule_of[static_cast<size_t>(h)]);
        } else if (err.kind != RE2::Set::kNoError) {
            // The set's DFA ran out of memory on this text: check its rules one by one rather
            // than miss a match.
            for (uint32_t i : r.rule_of) {
                if (s->rules[i]->op.match(in)) candidates.push_back(i);
            }
        }
    }
    candidates.insert(candidates.end(), s->others.begin(), s->others.end());
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

    const Entry* found = nullptr;
    for (uint32_t i : candidates) {
        const Entry& e = *s->rules[i];
        if (e.expires && *e.expires <= t) continue;
        if (!s->implied[i] && !e.op.match(in)) continue;
        found = &e;
        if (e.rule.action != Action::allow || e.rule.precedence) break;
    }
    if (!found) return std::nullopt;
    return RuleMatch{found->rule.action, found->rule.name, found->rule.nolog};
}

template <typename Reach, typename Matched>
const RuleStore::Entry* RuleStore::decided_by_reach(const Snapshot& s, const Reach& reach,
                                                    const Matched& matched) const {
    const TimePoint t = now();
    const Entry* found = nullptr;
    for (const auto& e : s.rules) {
        if (e->expires && *e->expires <= t) continue;
        const KeyReach r = reach(e->op);
        if (r == KeyReach::needs_more) return nullptr;
        if (r == KeyReach::cannot_match) continue;
        found = e.get();
        matched(*e);
        // It matches whatever the fields not known say, so nothing after it changes the outcome.
        if (e->rule.action != Action::allow || e->rule.precedence) break;
    }
    return found;
}

std::optional<RuleMatch> RuleStore::match_without_process(const Connection& c) {
    const std::shared_ptr<const Snapshot> s = snapshot();
    MatchInput in(c, opt_.hasher.get());
    // Every rule, not only the index's candidates: the index finds process.path rules by the
    // process's path, which is not known here.
    const Entry* found = decided_by_reach(
        *s, [&](const CompiledOperator& op) { return reach_without_process(op, in); },
        [](const Entry&) {});
    if (!found) return std::nullopt;
    return RuleMatch{found->rule.action, found->rule.name, found->rule.nolog};
}

std::optional<RuleStore::KernelCacheable> RuleStore::match_for_kernel_cache(const Connection& c) {
    const std::shared_ptr<const Snapshot> s = snapshot();
    if (s->rules.empty()) return std::nullopt;
    MatchInput in(c, opt_.hasher.get());
    // Every rule, not only the index's candidates: one that does not match this connection may
    // still match another with the same key (then the decision is no function of the key).
    std::optional<TimePoint> expires;
    bool reads_host = false;
    const Entry* found = decided_by_reach(
        *s, [&](const CompiledOperator& op) { return key_reach(op, in, &reads_host); },
        [&](const Entry& e) {
            if (e.expires && (!expires || *e.expires < *expires)) expires = e.expires;
        });
    if (!found) return std::nullopt;
    return KernelCacheable{
        {found->rule.action, found->rule.name, found->rule.nolog}, expires, reads_host};
}

std::string RuleStore::unique_name_locked(const std::string& name) const {
    auto taken = [&](const std::string& n) {
        if (entries_.count(n)) return true;
        struct stat st {};
        return !opt_.dir.empty() && ::lstat(path_for(n).c_str(), &st) == 0;
    };
    if (!taken(name)) return name;
    for (int i = 2;; ++i) {
        std::string n = name + "-" + std::to_string(i);
        if (!taken(n)) return n;
    }
}

Status RuleStore::store_locked(std::shared_ptr<const Entry> e) {
    if (!e->file.empty()) {
        if (Status m = create_rules_dir(opt_.dir); !m) return m;
        Status w = write_file_atomically(e->file, rule_to_json(e->rule));
        if (!w) return w;
    }
    entries_[e->rule.name] = std::move(e);
    return Ok{};
}

Result<std::string> RuleStore::add(Rule r, bool timed_on_disk) {
    if (Status s = check_rule_name(r.name); !s) return s.error();
    const std::string stamp = rfc3339_utc(now());
    if (r.created.empty()) r.created = stamp;
    if (r.updated.empty()) r.updated = stamp;
    std::string name;
    {
        std::lock_guard lock(mu_);
        name = r.duration.kind == RuleDuration::Kind::once ? r.name : unique_name_locked(r.name);
        r.name = name;
        if (r.duration.kind == RuleDuration::Kind::timed) r.created = stamp;  // expiry counts now
        const bool to_disk = r.duration.kind == RuleDuration::Kind::always ||
                             (timed_on_disk && r.duration.kind == RuleDuration::Kind::timed);
        if (to_disk && opt_.dir.empty()) return make_error("no rules directory to write to");
        auto e = compile_entry(std::move(r), to_disk ? path_for(name) : std::string());
        if (!e) return e.error();
        if ((*e)->rule.duration.kind == RuleDuration::Kind::once) return name;
        if (Status s = store_locked(std::move(*e)); !s) return s.error();
        rebuild_locked();
    }
    changed();
    return name;
}

Result<std::string> RuleStore::import_file(const std::string& origin, std::string_view text,
                                           bool replace) {
    auto rule = parse_rule(text, origin);
    if (!rule) return rule.error();
    if (Status s = check_rule_name(rule->name); !s)
        return make_error(origin + ": name: " + s.error().message);
    if (opt_.dir.empty()) return make_error("no rules directory to write to");
    const std::string name = rule->name;
    {
        std::lock_guard lock(mu_);
        auto it = entries_.find(name);
        const std::shared_ptr<const Entry> old = it == entries_.end() ? nullptr : it->second;
        if (old && !replace)
            return make_error(origin + ": a rule named '" + name +
                              "' exists already (--replace overwrites)");
        const size_t dot = origin.rfind('.');
        const std::string target =
            opt_.dir + "/" + name + (dot == std::string::npos ? ".json" : origin.substr(dot));
        list_problems_.clear();
        auto e = compile_entry(std::move(*rule), target);
        list_problems_.clear();
        if (!e) return make_error(origin + ": " + e.error().message);
        if (Status m = create_rules_dir(opt_.dir); !m) return m.error();
        if (Status w = write_file_atomically(target, text); !w) return w.error();
        if (old && !old->file.empty() && old->file != target) ::unlink(old->file.c_str());
        entries_[name] = std::move(*e);
        rebuild_locked();
    }
    changed();
    return name;
}

Status RuleStore::replace(const std::string& name, Rule r) {
    if (Status s = check_rule_name(r.name); !s) return s;
    {
        std::lock_guard lock(mu_);
        auto it = entries_.find(name);
        if (it == entries_.end()) return make_error("no rule named '" + name + "'");
        const std::shared_ptr<const Entry> old = it->second;
        if (r.name != name && entries_.count(r.name)) {
            return make_error("a rule named '" + r.name + "' exists already");
        }
        if (r.created.empty()) r.created = old->rule.created;
        r.updated = rfc3339_utc(now());
        if (r.duration.kind == RuleDuration::Kind::timed && !(old->rule.duration == r.duration)) {
            r.created = r.updated;
        }
        const bool to_disk = r.duration.kind == RuleDuration::Kind::always ||
                             (!old->file.empty() && r.duration.kind == RuleDuration::Kind::timed);
        if (to_disk && opt_.dir.empty()) return make_error("no rules directory to write to");
        // A renamed rule moves to its own file; otherwise it keeps the file it came from.
        std::string file;
        if (to_disk) file = (r.name == name && !old->file.empty()) ? old->file : path_for(r.name);
        auto e = compile_entry(std::move(r), file);
        if (!e) return e.error();
        if ((*e)->rule.duration.kind == RuleDuration::Kind::once) {
            return make_error("a rule that lasts once is not stored; delete it instead");
        }
        if (Status s = store_locked(*e); !s) return s;
        if (!old->file.empty() && old->file != (*e)->file) ::unlink(old->file.c_str());
        if ((*e)->rule.name != name) entries_.erase(name);
        rebuild_locked();
    }
    changed();
    return Ok{};
}

Status RuleStore::remove(const std::string& name) {
    {
        std::lock_guard lock(mu_);
        auto it = entries_.find(name);
        if (it == entries_.end()) return make_error("no rule named '" + name + "'");
        if (!it->second->file.empty() && ::unlink(it->second->file.c_str()) != 0 &&
            errno != ENOENT) {
            return make_error("deleting " + it->second->file + ": " + errno_text(errno), errno);
        }
        entries_.erase(it);
        rebuild_locked();
    }
    changed();
    return Ok{};
}

Status RuleStore::set_enabled(const std::string& name, bool enabled) {
    {
        std::lock_guard lock(mu_);
        auto it = entries_.find(name);
        if (it == entries_.end()) return make_error("no rule named '" + name + "'");
        auto e = std::make_shared<Entry>(*it->second);
        if (e->rule.enabled == enabled) return Ok{};
        e->rule.enabled = enabled;
        e->rule.updated = rfc3339_utc(now());
        if (Status s = store_locked(std::move(e)); !s) return s;
        rebuild_locked();
    }
    changed();
    return Ok{};
}

std::optional<StoredRule> RuleStore::find(const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    return StoredRule{it->second->rule, it->second->file, it->second->expires};
}

std::vector<StoredRule> RuleStore::rules() const {
    std::lock_guard lock(mu_);
    std::vector<StoredRule> out;
    for (const auto& [name, e] : entries_)
        out.push_back({e->rule, e->file, e->expires});
    return out;
}

std::optional<TimePoint> RuleStore::next_expiry() const {
    std::lock_guard lock(mu_);
    std::optional<TimePoint> next;
    for (const auto& [name, e] : entries_) {
        if (e->expires && (!next || *e->expires < *next)) next = e->expires;
    }
    return next;
}

size_t RuleStore::expire() {
    size_t n = 0;
    {
        std::lock_guard lock(mu_);
        const TimePoint t = now();
        for (auto it = entries_.begin(); it != entries_.end();) {
            if (it->second->expires && *it->second->expires <= t) {
                if (!it->second->file.empty()) ::unlink(it->second->file.c_str());
                it = entries_.erase(it);
                ++n;
            } else {
                ++it;
            }
        }
        if (n > 0) rebuild_locked();
    }
    if (n > 0) changed();
    return n;
}

namespace {
// IN_ATTRIB: a chmod or chown can make a file (or the directory) one that is refused, or obeyed.
constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB;
// The rules directory also says when an entry is created: a symbolic link is complete at once
// (a regular file only when closed after writing).
constexpr uint32_t kDirWatchMask = kWatchMask | IN_CREATE | IN_ONLYDIR;

// "/etc/tsnitch/rules/" -> "/etc/tsnitch", "rules" -> ".".
std::string parent_dir(std::string dir) {
    while (dir.size() > 1 && dir.back() == '/')
        dir.pop_back();
    const size_t slash = dir.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : dir.substr(0, slash);
}

std::string base_name(std::string dir) {
    while (dir.size() > 1 && dir.back() == '/')
        dir.pop_back();
    const size_t slash = dir.rfind('/');
    return slash == std::string::npos ? dir : dir.substr(slash + 1);
}
}  // namespace

Status RuleStore::watch() {
    std::lock_guard lock(mu_);
    if (inotify_) return Ok{};
    if (opt_.dir.empty()) return make_error("no rules directory to watch");
    inotify_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!inotify_) return make_error("inotify_init1: " + errno_text(errno), errno);
    if (Status m = create_rules_dir(opt_.dir); !m) return m;
    dir_gone_ = false;
    dir_wd_ = ::inotify_add_watch(inotify_.get(), opt_.dir.c_str(), kDirWatchMask);
    if (dir_wd_ < 0) return make_error("watching " + opt_.dir + ": " + errno_text(errno), errno);
    // When the directory is removed and made again (rm -r, a restored backup), the new one must be
    // watched too: its parent says when it appears.
    parent_wd_ = ::inotify_add_watch(inotify_.get(), parent_dir(opt_.dir).c_str(),
                                     IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    watch_lists_locked();
    return Ok{};
}

int RuleStore::watch_fd() const {
    std::lock_guard lock(mu_);
    return inotify_.get();
}

void RuleStore::watch_lists_locked() {
    if (!inotify_) return;
    std::set<std::string> wanted;
    for (const auto& [name, e] : entries_) {
        std::vector<std::pair<ListKind, std::string>> dirs;
        e->op.list_dirs(dirs);
        for (auto& d : dirs)
            wanted.insert(d.second);
    }
    for (auto it = list_wds_.begin(); it != list_wds_.end();) {
        if (!wanted.count(it->second)) {
            ::inotify_rm_watch(inotify_.get(), it->first);
            it = list_wds_.erase(it);
        } else {
            wanted.erase(it->second);
            ++it;
        }
    }
    for (const std::string& d : wanted) {
        const int wd = ::inotify_add_watch(inotify_.get(), d.c_str(), kWatchMask | IN_ONLYDIR);
        if (wd >= 0) list_wds_[wd] = d;
    }
}

void RuleStore::reload_lists_locked(const std::string& dir, std::vector<Error>& problems) {
    for (auto it = lists_.begin(); it != lists_.end();) {
        it = it->first.second == dir ? lists_.erase(it) : std::next(it);
    }
    std::vector<std::string> users;
    for (const auto& [name, e] : entries_) {
        std::vector<std::pair<ListKind, std::string>> dirs;
        e->op.list_dirs(dirs);
        for (auto& d : dirs) {
            if (d.second == dir) {
                users.push_back(name);
                break;
            }
        }
    }
    for (const std::string& name : users) {
        const auto old = entries_[name];
        list_problems_.clear();
        auto e = compile_entry(old->rule, old->file);
        for (Error& p : list_problems_)
            problems.push_back(std::move(p));
        list_problems_.clear();
        if (!e) {
            problems.push_back(
                make_error((old->file.empty() ? name : old->file) + ": " + e.error().message));
            entries_.erase(name);
            continue;
        }
        auto fresh = std::make_shared<Entry>(**e);
        fresh->expires = old->expires;
        entries_[name] = std::move(fresh);
    }
}

namespace {

std::string change_text(const Rule& r) {
    return describe_rule(r) + (r.enabled ? "" : " (disabled)");
}

}  // namespace

std::vector<Error> RuleStore::process_events(Changes* changes) {
    std::vector<Error> problems;
    {
        std::lock_guard lock(mu_);
        if (!inotify_) return problems;
        std::set<std::string> files;
        std::set<std::string> dirs;
        bool rescan = false;
        alignas(inotify_event) char buf[16384];
        for (;;) {
            const ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            for (ssize_t off = 0; off < n;) {
                const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
                off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
                const std::string name = ev->len ? std::string(ev->name) : std::string();
                if (ev->mask & IN_Q_OVERFLOW) {
                    rescan = true;
                } else if (ev->wd == parent_wd_) {
                    if (name == base_name(opt_.dir)) rescan = true;  // the directory (re)appeared
                } else if (ev->wd == dir_wd_) {
                    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
                        rescan = true;
                    } else if ((ev->mask & IN_ATTRIB) && name.empty()) {
                        rescan = true;  // the directory's owner or mode changed
                    } else if ((ev->mask & IN_CREATE) && is_rule_file_name(name)) {
                        struct stat st {};
                        const std::string path = opt_.dir + "/" + name;
                        if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
                            files.insert(path);
                    } else if (is_rule_file_name(name)) {
                        // A half-written file is never read: only closing after writing, or a
                        // rename into the directory, means the file is complete.
                        files.insert(opt_.dir + "/" + name);
                    }
                } else if (auto it = list_wds_.find(ev->wd); it != list_wds_.end()) {
                    if (name.empty() || name[0] != '.') dirs.insert(it->second);
                }
            }
        }
        if (!rescan && files.empty() && dirs.empty()) return problems;
        // The entries are immutable and shared: the rules as they were, for telling what changed.
        const std::map<std::string, std::shared_ptr<const Entry>> before = entries_;
        // A file changed in a directory that others may write to now: the whole directory is
        // checked again (and refused).
        if (!rescan && !files.empty() && !directory_trusted_locked()) rescan = true;
        if (rescan) {
            for (auto it = entries_.begin(); it != entries_.end();) {
                it = it->second->file.empty() ? std::next(it) : entries_.erase(it);
            }
            const bool was_refused = broken_.count(opt_.dir) > 0;
            broken_.clear();  // every file is read again
            // Watch first, then list: a file added in between is seen twice, not missed. Where
            // the directory is gone, its rules are too, until its parent says it is back.
            if (dir_wd_ >= 0) ::inotify_rm_watch(inotify_.get(), dir_wd_);
            dir_wd_ = ::inotify_add_watch(inotify_.get(), opt_.dir.c_str(), kDirWatchMask);
            struct stat st {};
            const bool exists = ::stat(opt_.dir.c_str(), &st) == 0;
            std::vector<std::string> listed = list_rule_files_locked(problems);
            if (broken_.count(opt_.dir)) files.clear();  // refused: none of its files is read
            files.insert(listed.begin(), listed.end());
            const std::string in_memory = std::to_string(entries_.size()) + " rules in memory";
            if (!exists && !dir_gone_) {
                // Its files may have gone one by one before the directory did: what applies now
                // is what lives in memory.
                problems.push_back(make_error(opt_.dir +
                                              ": the rules directory is gone; none of its rules "
                                              "applies until it is back (" +
                                              in_memory + " still apply)"));
            } else if (exists && dir_gone_) {
                problems.push_back(make_error(opt_.dir + ": the rules directory is back; its " +
                                              std::to_string(listed.size()) +
                                              " rule files are read again"));
            } else if (exists && was_refused && !broken_.count(opt_.dir)) {
                problems.push_back(make_error(opt_.dir + ": no longer refused; its " +
                                              std::to_string(listed.size()) +
                                              " rule files are read again"));
            }
            dir_gone_ = !exists;
        }
        for (const std::string& d : dirs)
            reload_lists_locked(d, problems);
        // Every changed file's rules are forgotten before any is read: a rule renamed to a file
        // that sorts first would otherwise collide with its own old copy and be skipped.
        for (auto it = entries_.begin(); it != entries_.end();) {
            it = files.count(it->second->file) ? entries_.erase(it) : std::next(it);
        }
        for (const std::string& f : files) {
            auto p = reload_file_locked(f);
            problems.insert(problems.end(), p.begin(), p.end());
        }
        watch_lists_locked();
        rebuild_locked();
        if (changes) {
            for (const auto& [name, e] : entries_) {
                const auto old = before.find(name);
                if (old == before.end())
                    changes->added.push_back(name);
                else if (old->second != e && change_text(old->second->rule) != change_text(e->rule))
                    changes->changed.push_back(name);
            }
            for (const auto& [name, e] : before)
                if (!entries_.count(name)) changes->deleted.push_back(name);
        }
    }
    changed();
    return problems;
}

bool RuleStore::needs_env() const {
    return snapshot()->needs_env;
}

bool RuleStore::needs_exe_hash() const {
    return snapshot()->needs_exe_hash;
}

void RuleStore::set_on_change(std::function<void()> f) {
    std::lock_guard lock(mu_);
    on_change_ = std::move(f);
}

void RuleStore::changed() {
    ++generation_;
    std::function<void()> f;
    {
        std::lock_guard lock(mu_);
        f = on_change_;
    }
    if (f) f();
}

}  // namespace tsnitch
