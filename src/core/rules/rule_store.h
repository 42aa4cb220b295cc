// The rules in force: the files of the rules directory plus the rules that live in memory (timed
// and until-restart answers), matched in OpenSnitch's order (DESIGN.md §5):
//   enabled rules sorted by name; the first match whose action is deny or reject, or that has
//   precedence, wins at once; otherwise the last matching allow wins.
// Thread-safe: the engine matches from its decision thread while the UI or the control socket
// change rules. Matching works on an immutable snapshot, so it never waits for a change to finish
// writing a file.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/result.h"
#include "core/rules/exe_hash_source.h"
#include "core/rules/kernel_cacheable.h"
#include "core/rules/operator.h"
#include "core/rules/rule.h"
#include "core/rules/rule_matcher.h"
#include "core/unique_fd.h"

namespace tsnitch {

using Clock = std::function<std::chrono::system_clock::time_point()>;

struct RuleStoreOptions {
    std::string dir;                        // RulesPath; "" keeps every rule in memory
    Clock clock;                            // default: the system clock
    std::shared_ptr<ExeHashSource> hasher;  // default: ProcExeHashSource over /proc
    CompileContext compile;                 // default: system users; lists read from disk
    // Whose rule files are obeyed: root's and the running user's, not group or world writable
    // (fs.h untrusted_reason); a refused file or directory counts as broken.
    FileTrust trust = FileTrust::running_user();
};

struct StoredRule {
    Rule rule;
    std::string file;  // where it is stored; empty for rules that live in memory
    std::optional<std::chrono::system_clock::time_point> expires;  // timed rules
};

class RuleStore final : public RuleMatcher {
  public:
    explicit RuleStore(RuleStoreOptions options);
    ~RuleStore() override;
    RuleStore(const RuleStore&) = delete;
    RuleStore& operator=(const RuleStore&) = delete;

    // Reads every rule file of the directory (*.json, *.yml, *.yaml; hidden files skipped),
    // replacing the rules read from files before. Returns the problems ("FILE: FIELD: what"):
    // broken files are skipped, the others load. A missing directory is no rule, not an error.
    // A symbolic link is followed and reported (its target passes the same checks).
    std::vector<Error> load();
    // The files (and the directory, when refused) whose rules do not apply right now, with why:
    // what `tsnitch rules check` and the status show.
    std::vector<Error> broken_files() const;

    std::optional<RuleMatch> match(const Connection& c) override;
    std::optional<RuleMatch> match_without_process(const Connection& c) override;

    // The decision for `c` when the kernel's verdict cache may repeat it for every flow with the
    // same executable, user, protocol, destination address and port (core/rules/
    // kernel_cacheable.h): a rule matches, and every enabled rule that could match such a flow
    // decides on those fields alone. `expires` is the earliest end of a matching timed rule.
    // `per_address`: some rule read the host name (c.dst_host), so the decision holds only while
    // the DNS cache names the destination address as it does now.
    struct KernelCacheable {
        RuleMatch match;
        std::optional<std::chrono::system_clock::time_point> expires;
        bool per_address = false;
    };
    std::optional<KernelCacheable> match_for_kernel_cache(const Connection& c);

    // Adds a rule; its duration says where it lives: once is never stored (the call only checks
    // it), timed rules expire `span` from now, until restart lives in memory, always is written to
    // DIR/NAME.json (atomically, mode 0600). A taken name gets a suffix ("name-2"). Returns the
    // name the rule got. `timed_on_disk` writes a timed rule to a file too (for a command that
    // exits, like `tsnitch rules add`); its file stops applying `span` after it was created.
    Result<std::string> add(Rule r, bool timed_on_disk = false);
    // Copies a rule file from elsewhere (e.g. OpenSnitch's rules directory) into the directory,
    // unchanged (nothing OpenSnitch wrote is lost), as DIR/NAME.EXT, after the checks load()
    // makes. A taken name is an error unless `replace`. Returns the rule's name.
    Result<std::string> import_file(const std::string& origin, std::string_view text, bool replace);
    // Replaces the rule called `name` (which may change its name, duration, anything).
    Status replace(const std::string& name, Rule r);
    Status remove(const std::string& name);
    Status set_enabled(const std::string& name, bool enabled);

    std::optional<StoredRule> find(const std::string& name) const;
    std::vector<StoredRule> rules() const;  // sorted by name, disabled and expired included

    // When the next timed rule expires; the engine waits on a timer for it and calls expire().
    std::optional<std::chrono::system_clock::time_point> next_expiry() const;
    // Drops the timed rules whose time is up (deleting their files); returns how many.
    size_t expire();

    // What a reload changed, by rule name. A rule counts as changed when what describe_rule
    // says of it, or its being on or off, changed: a file written again the same says nothing.
    struct Changes {
        std::vector<std::string> added, changed, deleted;
        bool empty() const { return added.empty() && changed.empty() && deleted.empty(); }
    };

    // Live reload: inotify on the rules directory and the list directories. The engine polls
    // watch_fd() for reading and calls process_events(), which applies what changed on disk and
    // returns the problems of the files it read (and, into *changes, what changed). A wake-up
    // for no rule file (other files beside the directory) reads nothing and copies nothing.
    Status watch();
    int watch_fd() const;
    std::vector<Error> process_events(Changes* changes = nullptr);

    // Whether some rule reads process.env.*: only then must attribution read /proc/PID/environ.
    bool needs_env() const override;
    bool needs_exe_hash() const override;
    // Called after every change of the rules (from the thread that made it): the kernel path's
    // epoch (DESIGN.md §8a).
    void set_on_change(std::function<void()> f);
    // Counts the changes of the rules: a caller that polls (the housekeeping thread) tells the
    // engine only when it moved, not on every inotify wake-up.
    uint64_t generation() const { return generation_.load(); }

    struct Snapshot;

  private:
    struct Entry;
    std::shared_ptr<const Snapshot> snapshot() const;  // the rules in force now
    // The rule that decides as match() would (name order; a deny, a reject or an allow with
    // precedence at once, else the last allow), walking every enabled, unexpired rule with
    // `reach` (a KeyReach of its operator); `matched` is told of each rule that matches. None when
    // a rule that could match needs more than `reach` knows, or when none matches.
    template <typename Reach, typename Matched>
    const Entry* decided_by_reach(const Snapshot& s, const Reach& reach,
                                  const Matched& matched) const;
    std::chrono::system_clock::time_point now() const;
    Result<std::shared_ptr<const Entry>> compile_entry(Rule r, std::string file);
    std::vector<Error> reload_file_locked(const std::string& path);
    std::vector<std::string> list_rule_files_locked(std::vector<Error>& problems);
    bool directory_trusted_locked() const;
    void rebuild_locked();
    void reload_lists_locked(const std::string& dir, std::vector<Error>& problems);
    void watch_lists_locked();
    std::string unique_name_locked(const std::string& name) const;
    std::string path_for(const std::string& name) const;
    Status store_locked(std::shared_ptr<const Entry> e);
    void changed();

    RuleStoreOptions opt_;
    mutable std::mutex mu_;  // entries_, lists_, watches; serializes changes
    std::map<std::string, std::shared_ptr<const Entry>> entries_;
    std::map<std::pair<ListKind, std::string>, std::shared_ptr<const EntryList>> lists_;
    std::vector<Error> list_problems_;
    mutable std::mutex snap_mu_;  // only the pointer swap
    std::shared_ptr<const Snapshot> snap_;
    UniqueFd inotify_;
    int dir_wd_ = -1;
    int parent_wd_ = -1;  // the rules directory's parent: a removed directory made again
    std::map<int, std::string> list_wds_;        // watch descriptor -> list directory
    std::map<std::string, std::string> broken_;  // file -> why its rule is not loaded
    bool dir_gone_ = false;                      // said once when the directory went
    std::function<void()> on_change_;
    std::atomic<uint64_t> generation_{0};
};

// mkdir -p; the rules directory, when it creates it, gets mode 0700 (rules are nobody else's
// business), the parents it creates 0755.
Status create_rules_dir(const std::string& dir);

// True for the names of files the store reads as rules (not temporary or hidden files).
bool is_rule_file_name(std::string_view name);

}  // namespace tsnitch
