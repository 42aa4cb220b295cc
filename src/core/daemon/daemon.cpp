// The Daemon's state and what front ends receive: subscriptions, snapshot, deltas.
#include "core/daemon/daemon.h"

#include <algorithm>

namespace tsnitch {

namespace {

template <class T>
void push_bounded(std::deque<T>& ring, T item, size_t max) {
    ring.push_back(std::move(item));
    while (ring.size() > max)
        ring.pop_front();
}

// The daemon asks the front ends (or waits PromptTimeout for one): the engine always prompts.
EngineOptions prompting(EngineOptions o) {
    o.interactive = true;
    return o;
}

// "curl (1234) -> example.com:443 tcp" for a log line.
std::string connection_text(const Connection& c) {
    std::string who = "unknown process";
    if (c.process) {
        who = c.process->comm.empty() ? c.process->path : c.process->comm;
        who += " (" + std::to_string(c.process->pid) + ")";
    }
    return who + " -> " + c.destination_text() + " " + std::string(protocol_name(c.protocol));
}

// Decisions that nobody made: a person reviews them later and may make a rule from them.
bool reviewable(const DecisionEvent& e) {
    return (e.reason == Reason::timeout || e.reason == Reason::default_action) &&
           e.connection.process != nullptr;
}

}  // namespace

Daemon::Daemon(DaemonOptions options, VerdictSink& sink, Attributor& attributor, RuleStore& rules,
               HostNames* names, ProcessModel& processes, Attributor* fast_attributor)
    : options_(std::move(options)),
      rules_(rules),
      names_(names),
      processes_(processes),
      engine_(prompting(options_.engine), sink, attributor, rules, names, fast_attributor) {
    engine_.add_observer(this);
    rule_count_ = rules_.rules().size();
}

Daemon::~Daemon() {
    stop();
}

Daemon::Subscription Daemon::subscribe() {
    auto outbox = std::make_shared<Outbox>(options_.outbox_max);
    std::lock_guard lock(mu_);
    if (stopped_) {
        outbox->close("tsnitch is stopping");
        return {0, outbox};
    }
    const SubscriberId id = next_subscriber_++;
    Snapshot snap;
    snap.rules = rule_records_locked();
    rule_count_ = snap.rules.size();
    for (const auto& [pid, p] : prompts_)
        snap.prompts.push_back(prompt_record_locked(p));
    snap.recent.assign(recent_.begin(), recent_.end());
    snap.log.assign(log_.begin(), log_.end());
    snap.review.assign(review_.begin(), review_.end());
    // The snapshot goes first, under the same lock as every delta: nothing falls between.
    subscribers_[id].outbox = outbox;
    snap.status = status_locked();
    outbox->push(std::move(snap));
    broadcast_status_locked();  // the others see one more client
    return {id, outbox};
}

void Daemon::unsubscribe(SubscriberId id) {
    {
        std::lock_guard lock(mu_);
        if (subscribers_.erase(id) == 0) return;
        broadcast_status_locked();
    }
    update_socket_monitor();
}

size_t Daemon::subscribers() const {
    std::lock_guard lock(mu_);
    return subscribers_.size();
}

void Daemon::broadcast_locked(const DaemonEvent& e) {
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
        if (it->second.outbox->push(e)) {
            ++it;
            continue;
        }
        // Overflowed (its outbox now says so) or closed: it gets nothing more. A socket table
        // nobody wants any more is paused at its next refresh.
        it = subscribers_.erase(it);
    }
}

void Daemon::broadcast_status_locked() {
    // Decisions on the queue thread come here: nothing is built when nobody listens.
    if (subscribers_.empty()) return;
    broadcast_locked(StatusChanged{status_locked()});
}

void Daemon::reply_locked(SubscriberId to, DaemonEvent e) {
    auto it = subscribers_.find(to);
    if (it == subscribers_.end()) return;
    if (!it->second.outbox->push(std::move(e))) subscribers_.erase(it);
}

StatusRecord Daemon::status_locked() const {
    StatusRecord s = options_.status;
    const EngineStats st = engine_.stats();
    s.rule_count = rule_count_;
    s.broken_rule_files = broken_rule_files_;
    s.prompts_open = prompts_.size();
    s.clients = subscribers_.size();
    s.allowed = st.allowed;
    s.denied = st.denied;
    s.rejected = st.rejected;
    s.over_limit = st.over_limit;
    // The kernel's counts as run's housekeeping reads them (Engine::set_queue_drops), else what
    // set_queue_drops() said.
    s.queue_drops = std::max(
        {options_.status.queue_drops, queue_drops_, st.queue_dropped + st.queue_user_dropped});
    return s;
}

std::vector<RuleRecord> Daemon::rule_records_locked() const {
    std::vector<RuleRecord> out;
    for (StoredRule& s : rules_.rules()) {
        RuleRecord r;
        const auto hit = hits_.find(s.rule.name);
        r.hits = hit == hits_.end() ? 0 : hit->second;
        r.expires = s.expires;
        r.rule = std::move(s.rule);
        out.push_back(std::move(r));
    }
    return out;
}

PromptRecord Daemon::prompt_record_locked(const OpenPrompt& p) const {
    PromptRecord r = p.record;
    if (p.deadline) {
        r.remaining = std::max(std::chrono::milliseconds(0),
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   *p.deadline - std::chrono::steady_clock::now()));
    }
    return r;
}

void Daemon::log(LogLevel level, std::string text) {
    if (sink_) sink_->write(level, text);
    std::lock_guard lock(mu_);
    LogRecord line{std::chrono::system_clock::now(), level, std::move(text)};
    push_bounded(log_, line, options_.log_max);
    broadcast_locked(LogAppended{std::move(line)});
}

void Daemon::set_broken_rule_files(size_t n) {
    std::lock_guard lock(mu_);
    broken_rule_files_ = n;
    broadcast_status_locked();
}

void Daemon::set_queue_drops(uint64_t n) {
    std::lock_guard lock(mu_);
    if (queue_drops_ == n) return;
    queue_drops_ = n;
    broadcast_status_locked();
}

void Daemon::on_decision(const DecisionEvent& e, bool /*nolog*/) {
    std::string said;  // logged after the lock (the log sink writes outside it)
    {
        std::lock_guard lock(mu_);
        // A front end counts hits the same way from DecisionMade after its Snapshot.
        if (e.reason == Reason::rule && e.rule) ++hits_[*e.rule];
        push_bounded(recent_, e, options_.recent_max);
        if (e.reason == Reason::unknown_process) said = unknown_text_locked(e);
        if (subscribers_.empty() && reviewable(e)) {
            push_bounded(review_, ReviewRecord{next_review_++, e}, options_.review_max);
        }
        if (!subscribers_.empty()) {
            broadcast_locked(DecisionMade{e});
            broadcast_status_locked();
        }
    }
    if (!said.empty()) log(LogLevel::info, std::move(said));
}

void Daemon::on_prompt_opened(const Prompt& p) {
    std::lock_guard lock(mu_);
    if (closed_before_open_.erase(p.id) > 0) return;
    OpenPrompt op;
    op.record.id = p.id;
    op.record.connection = p.connection;
    op.record.method = p.method;
    op.record.opened = p.opened;
    op.record.default_action = options_.engine.default_action;
    op.record.joined = static_cast<unsigned>(p.flows > 0 ? p.flows - 1 : 0);
    op.deadline = p.deadline;
    const PromptRecord record = prompt_record_locked(op);
    prompts_.emplace(p.id, std::move(op));
    broadcast_locked(PromptOpened{record});
    broadcast_status_locked();
}

void Daemon::on_prompt_joined(uint64_t prompt_id, size_t flows) {
    std::lock_guard lock(mu_);
    auto it = prompts_.find(prompt_id);
    if (it == prompts_.end()) return;
    it->second.record.joined = static_cast<unsigned>(flows > 0 ? flows - 1 : 0);
    broadcast_locked(PromptJoined{prompt_id, it->second.record.joined});
}

void Daemon::on_prompt_closed(uint64_t prompt_id, Action action, Reason reason,
                              const std::optional<std::string>& rule) {
    std::string said;  // logged after the lock (the log sink writes outside it)
    {
        std::lock_guard lock(mu_);
        auto open = prompts_.find(prompt_id);
        if (open == prompts_.end()) {
            // A rule decided it after the engine opened it and before it told us.
            closed_before_open_.insert(prompt_id);
            return;
        }
        if (reason == Reason::timeout) {
            said = "prompt timed out: " + connection_text(open->second.record.connection) + ": " +
                   std::string(action_name(action)) + " (DefaultAction)";
        }
        prompts_.erase(open);
        broadcast_locked(PromptClosed{prompt_id, action, reason, rule});
        broadcast_status_locked();
    }
    if (!said.empty()) log(LogLevel::info, std::move(said));
}

// What to log for a denial of an unknown process: at most one line a second (a flood must not
// flood the log), counting those left unsaid; empty when this one is not said.
std::string Daemon::unknown_text_locked(const DecisionEvent& e) {
    const auto now = std::chrono::steady_clock::now();
    if (now - unknown_said_ < std::chrono::seconds(1)) {
        ++unknown_unsaid_;
        return "";
    }
    unknown_said_ = now;
    std::string text = std::string(action_name(e.action)) +
                       " (process not found): " + connection_text(e.connection);
    if (unknown_unsaid_ > 0)
        text += " (and " + std::to_string(unknown_unsaid_) + " more since the last such line)";
    unknown_unsaid_ = 0;
    return text;
}

void Daemon::on_over_limit(uint64_t total) {
    {
        std::lock_guard lock(mu_);
        // Said at most once a second: a flood must not flood the log too.
        const auto now = std::chrono::steady_clock::now();
        if (now - over_limit_said_ < std::chrono::seconds(1)) return;
        over_limit_said_ = now;
    }
    log(LogLevel::warning,
        std::to_string(total) +
            " connections got DefaultAction at once because too many were waiting (" +
            std::to_string(options_.engine.max_open_prompts) + " prompts or " +
            std::to_string(options_.engine.max_pending_packets) + " held packets)");
}

}  // namespace tsnitch
