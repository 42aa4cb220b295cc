#include "core/engine/engine.h"

#include <net/if.h>

#include <algorithm>

#include "core/attribution/process_reader.h"
#include "core/packet/packet.h"

namespace tsnitch {

namespace {

Verdict verdict_of(Action a) {
    switch (a) {
        case Action::allow:
            return Verdict::allow;
        case Action::deny:
            return Verdict::deny;
        case Action::reject:
            return Verdict::reject;
    }
    return Verdict::deny;
}

bool is_dns_answer(const PacketInfo& p) {
    return (p.protocol == Protocol::udp || p.protocol == Protocol::tcp) && p.src_port == 53;
}

}  // namespace

Engine::Engine(EngineOptions options, VerdictSink& sink, Attributor& attributor, RuleMatcher& rules,
               HostNames* names, Attributor* fast_attributor)
    : options_(options),
      sink_(sink),
      attributor_(attributor),
      rules_(rules),
      names_(names),
      fast_attributor_(fast_attributor),
      flows_(options.flow_ttl, options.flow_cache_max) {}

Engine::~Engine() {
    stop();
}

void Engine::add_observer(EngineObserver* o) {
    observers_.push_back(o);
}

void Engine::start() {
    relay_.start();
    thread_ = std::thread([this] { decision_loop(); });
}

void Engine::flush_observers() {
    relay_.flush();
}

void Engine::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::unique_lock lock(mu_);
    while (!pending_.empty()) {
        const uint64_t id = pending_.begin()->first;
        finish(lock, id, {options_.default_action, Reason::default_action, std::nullopt});
    }
    lock.unlock();
    relay_.stop();  // every notification delivered; later ones are delivered by their caller
}

void Engine::on_packet(const QueuedPacket& qp) {
    auto parsed = parse_packet(qp.bytes);
    if (!parsed) {
        // Outbound garbage opens nothing we could attribute; inbound is only ever read.
        sink_.set_verdict(qp.queue, qp.id, qp.inbound ? Verdict::pass : Verdict::deny, qp.mark);
        ++malformed_;
        return;
    }
    const PacketInfo& p = *parsed;
    if (qp.inbound) {
        if (names_ && is_dns_answer(p)) names_->learn(p, qp.bytes);
        sink_.set_verdict(qp.queue, qp.id, Verdict::pass, qp.mark);
        ++dns_answers_;
        return;
    }
    if (!opens_connection(p)) {
        sink_.set_verdict(qp.queue, qp.id, Verdict::pass, qp.mark);
        ++passed_;
        return;
    }

    const FlowKey key = flow_of(p);
    const auto now = std::chrono::steady_clock::now();
    ++packets_;
    // Most packets of decided flows end here, without the engine's lock.
    if (auto a = flows_.find(key, now)) {
        ++flow_hits_;
        sink_.set_verdict(qp.queue, qp.id, verdict_of(*a), qp.mark);
        return;
    }
    std::unique_lock lock(mu_);
    // Decided between the look-up above and now: finish() moves a flow from pending to the
    // cache under mu_.
    if (joined_or_answered(qp, key, now, lock)) return;

    Connection c;
    c.protocol = p.protocol;
    c.src = p.src;
    c.src_port = p.src_port;
    c.dst = p.dst;
    c.dst_port = p.dst_port;
    c.uid = qp.uid;
    const bool over_limit = over_limit_locked(key);
    lock.unlock();
    c.iface_in = interface_name(qp.ifindex_in);
    c.iface_out = interface_name(qp.ifindex_out);

    // The fast rung (maps in memory, never /proc, NSS or netlink) answers on this thread; when a
    // rule then decides, the packet needs no trip through the decision thread. Rules that read
    // the process environment (/proc/PID/environ) or hash the executable belong on the decision
    // thread. Over the limit a rule may still decide; only what would wait gets DefaultAction.
    std::optional<Attribution> early;
    if (fast_attributor_ && !rules_.needs_env() && !rules_.needs_exe_hash()) {
        Attribution a = fast_attributor_->attribute(c);
        if (a.process) {
            complete(c, a);
            if (std::optional<RuleMatch> m = rules_.match(c)) {
                decide_at_once(qp, key, std::move(c), a, *m);
                return;
            }
            early = a;
        }
    }
    if (over_limit) {
        // No process in memory, and none can be waited for: the rules still decide when their
        // answer does not depend on the process (a rule on the port alone, say).
        if (!early) {
            complete(c, Attribution{});  // the host name
            if (std::optional<RuleMatch> m = rules_.match_without_process(c)) {
                decide_at_once(qp, key, std::move(c), Attribution{}, *m);
                return;
            }
        }
        refuse_over_limit(qp, key, std::move(c));
        return;
    }

    lock.lock();
    // Another reader may have filed or decided this flow meanwhile (a retransmit sent from
    // another CPU lands in another queue): join it rather than decide the flow twice.
    if (joined_or_answered(qp, key, now, lock)) return;
    const uint64_t id = next_id_++;
    Pending& pd = pending_[id];
    pd.id = id;
    pd.flows.push_back(key);
    pd.packets.push_back({qp.queue, qp.id, qp.mark});
    ++held_packets_;
    pd.connection = std::move(c);
    if (early) {
        pd.attributed = true;
        pd.method = early->method;
        pd.attribution_us = early->micros;
    }
    pending_flows_[key] = id;
    ++waiting_by_source_[source_of(key)];
    to_attribute_.push_back(id);
    lock.unlock();
    cv_.notify_one();
}

void Engine::remember_flow(const FlowKey& key, Action a, bool over_limit,
                           std::chrono::steady_clock::time_point now) {
    // A refusal beyond a bound holds for a moment only (EngineOptions::over_limit_memory).
    if (over_limit) {
        flows_.remember_for(key, a, now, options_.over_limit_memory);
    } else {
        flows_.remember(key, a, now);
    }
}

FlowKey Engine::source_of(const FlowKey& k) {
    FlowKey s;
    s.protocol = k.protocol;
    s.src = k.src;
    s.src_port = k.src_port;
    return s;
}

bool Engine::over_limit_locked(const FlowKey& key) const {
    if (held_packets_ < options_.max_pending_packets) return false;
    if (held_packets_ >= options_.max_pending_packets + options_.fair_reserve_packets) return true;
    return waiting_by_source_.contains(source_of(key));
}

bool Engine::joined_or_answered(const QueuedPacket& qp, const FlowKey& key,
                                std::chrono::steady_clock::time_point now,
                                std::unique_lock<std::mutex>& lock) {
    if (auto it = pending_flows_.find(key); it != pending_flows_.end()) {
        if (held_packets_ < options_.max_pending_packets) {
            pending_[it->second].packets.push_back({qp.queue, qp.id, qp.mark});
            ++held_packets_;
            ++stats_.joined;
            return true;
        }
        // A packet of a flow already waiting, beyond the bound (a retransmit): the flow's own
        // decision comes later. DefaultAction for this packet, but a reject only drops it: a
        // reset now would end the connection before its decision.
        ++stats_.over_limit;
        lock.unlock();
        const Verdict v = options_.default_action == Action::reject
                              ? Verdict::deny
                              : verdict_of(options_.default_action);
        sink_.set_verdict(qp.queue, qp.id, v, qp.mark);
        return true;
    }
    if (auto a = flows_.find(key, now)) {
        ++flow_hits_;
        lock.unlock();
        sink_.set_verdict(qp.queue, qp.id, verdict_of(*a), qp.mark);
        return true;
    }
    return false;
}

void Engine::refuse_over_limit(const QueuedPacket& qp, const FlowKey& key, Connection c) {
    sink_.set_verdict(qp.queue, qp.id, verdict_of(options_.default_action), qp.mark);
    uint64_t total = 0;
    {
        std::lock_guard lock(mu_);
        remember_flow(key, options_.default_action, true, std::chrono::steady_clock::now());
        count_locked(options_.default_action);
        total = ++stats_.over_limit;
    }
    DecisionEvent e;
    e.time = std::chrono::system_clock::now();
    e.action = options_.default_action;
    e.reason = Reason::default_action;
    e.connection = std::move(c);
    relay_.over_limit(total);
    relay_.decision(std::move(e), false);
}

void Engine::complete(Connection& c, const Attribution& a) {
    c.process = a.process;
    if (c.process && !c.uid) c.uid = c.process->uid;
    // The environment is read only when a rule asks for it; a process that is gone by now simply
    // has none, so its process.env rules do not match.
    // Then this connection gets a copy of the shared process with the environment added.
    if (c.process && c.process->env.empty() && rules_.needs_env()) {
        if (auto env = read_process_env(options_.proc_root, c.process->pid))
            copy_to_change(c.process).env = std::move(*env);
    }
    if (names_) c.dst_host = names_->host_for(c.dst);
}

void Engine::decide_at_once(const QueuedPacket& qp, const FlowKey& key, Connection c,
                            const Attribution& a, const RuleMatch& m) {
    // Verdict first. A packet of the same flow read at the same moment by another reader (a
    // retransmit from another CPU) is decided by the same rule there: whichever files the flow
    // first makes the decision, the other only answers its packet.
    sink_.set_verdict(qp.queue, qp.id, verdict_of(m.action), qp.mark);
    {
        std::lock_guard lock(mu_);
        if (!flows_.remember_new(key, m.action, std::chrono::steady_clock::now())) return;
        count_locked(m.action);
    }
    DecisionEvent e;
    e.time = std::chrono::system_clock::now();
    e.action = m.action;
    e.reason = Reason::rule;
    e.rule = m.rule_name;
    e.connection = std::move(c);
    e.method = a.method;
    e.attribution_us = a.micros;
    relay_.decision(std::move(e), m.nolog);
}

void Engine::count_locked(Action a) {
    ++stats_.decisions;
    switch (a) {
        case Action::allow:
            ++stats_.allowed;
            break;
        case Action::deny:
            ++stats_.denied;
            break;
        case Action::reject:
            ++stats_.rejected;
            break;
    }
}

void Engine::decision_loop() {
    std::unique_lock lock(mu_);
    for (;;) {
        // Deadlines first: a prompt's time is kept even while new flows wait for attribution.
        // Expiring unlocks the mutex while observers run, so what the loop waits for is read only
        // after it: a stop() or a packet in that window is seen here, not lost before the wait.
        expire_prompts_locked(lock);
        if (stopping_) break;
        if (!to_attribute_.empty()) {
            const uint64_t id = to_attribute_.front();
            to_attribute_.pop_front();
            lock.unlock();
            attribute_and_decide(id);
            lock.lock();
            continue;
        }
        if (!deadlines_.empty()) {
            // A copy: while waiting, another thread may answer the prompt and erase its entry.
            const auto until = deadlines_.begin()->first;
            cv_.wait_until(lock, until);
        } else {
            cv_.wait(lock);
        }
    }
}

void Engine::expire_prompts_locked(std::unique_lock<std::mutex>& lock) {
    const auto now = std::chrono::steady_clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        const uint64_t id = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        finish(lock, id, {options_.default_action, Reason::timeout, std::nullopt});
    }
}

void Engine::attribute_and_decide(uint64_t id) {
    Connection c;
    Attribution a;
    bool attributed = false;
    {
        std::lock_guard lock(mu_);
        const Pending& pd = pending_.at(id);
        c = pd.connection;
        attributed = pd.attributed;
        a.method = pd.method;
        a.micros = pd.attribution_us;
    }
    if (!attributed) {
        a = attributor_.attribute(c);
        complete(c, a);
    }
    const std::optional<RuleMatch> match = rules_.match(c);

    std::unique_lock lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // decided meanwhile (stop)
    Pending& pd = it->second;
    pd.connection = c;
    pd.method = a.method;
    pd.attribution_us = a.micros;
    if (match) {
        finish(lock, id, {match->action, Reason::rule, match->rule_name, match->nolog});
        return;
    }
    if (!c.process && !options_.intercept_unknown) {
        ++stats_.unknown_process;
        finish(lock, id, {options_.default_action, Reason::unknown_process, std::nullopt});
        return;
    }
    if (!options_.interactive) {
        finish(lock, id, {options_.default_action, Reason::default_action, std::nullopt});
        return;
    }
    // Same process, same destination: one question for all its connections.
    const PromptKey pk = prompt_key_of(c);
    if (auto open = open_prompts_.find(pk); open != open_prompts_.end()) {
        Pending& target = pending_.at(open->second);
        for (const FlowKey& f : pd.flows)
            pending_flows_[f] = target.id;
        target.flows.insert(target.flows.end(), pd.flows.begin(), pd.flows.end());
        target.packets.insert(target.packets.end(), pd.packets.begin(), pd.packets.end());
        const uint64_t target_id = target.id;
        const size_t flows = target.flows.size();
        pending_.erase(it);
        lock.unlock();
        relay_.prompt_joined(target_id, flows);
        return;
    }
    if (open_prompts_.size() >= options_.max_open_prompts) {
        const uint64_t total = ++stats_.over_limit;
        finish(lock, id,
               {options_.default_action, Reason::default_action, std::nullopt, false, true});
        lock.unlock();
        relay_.over_limit(total);
        return;
    }
    pd.prompting = true;
    pd.prompt_key = pk;
    pd.opened = std::chrono::system_clock::now();
    if (options_.prompt_timeout_s > 0) {
        pd.deadline =
            std::chrono::steady_clock::now() + std::chrono::seconds(options_.prompt_timeout_s);
        deadlines_.emplace(*pd.deadline, id);
    }
    open_prompts_[pk] = id;
    ++stats_.prompts_opened;
    const Prompt prompt = prompt_of(pd);
    lock.unlock();
    relay_.prompt_opened(prompt);
    cv_.notify_all();  // the loop's next deadline changed
}

void Engine::finish(std::unique_lock<std::mutex>& lock, uint64_t id, const Outcome& outcome) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Pending pd = std::move(it->second);
    pending_.erase(it);
    const auto now = std::chrono::steady_clock::now();
    for (const FlowKey& f : pd.flows) {
        pending_flows_.erase(f);
        if (auto w = waiting_by_source_.find(source_of(f)); w != waiting_by_source_.end())
            if (--w->second == 0) waiting_by_source_.erase(w);
        remember_flow(f, outcome.action, outcome.over_limit, now);
    }
    if (pd.prompting) open_prompts_.erase(pd.prompt_key);
    if (pd.deadline) deadlines_.erase({*pd.deadline, pd.id});
    held_packets_ -= std::min(held_packets_, pd.packets.size());
    count_locked(outcome.action);
    lock.unlock();

    const Verdict v = verdict_of(outcome.action);
    for (const Held& h : pd.packets)
        sink_.set_verdict(h.queue, h.id, v, h.mark);
    DecisionEvent e;
    e.time = std::chrono::system_clock::now();
    e.action = outcome.action;
    e.reason = outcome.reason;
    e.rule = outcome.rule;
    e.connection = std::move(pd.connection);
    e.method = pd.method;
    e.attribution_us = pd.attribution_us;
    if (pd.prompting) relay_.prompt_closed(pd.id, outcome.action, outcome.reason, outcome.rule);
    relay_.decision(std::move(e), outcome.nolog);
    lock.lock();
}

Status Engine::answer(uint64_t prompt_id, Action action, std::optional<std::string> rule_name) {
    std::unique_lock lock(mu_);
    auto it = pending_.find(prompt_id);
    if (it == pending_.end() || !it->second.prompting)
        return make_error("prompt " + std::to_string(prompt_id) + ": no such open prompt");
    finish(lock, prompt_id, {action, Reason::prompt, std::move(rule_name)});
    lock.unlock();
    cv_.notify_all();
    return Ok{};
}

size_t Engine::rules_changed() {
    std::vector<std::pair<uint64_t, Connection>> open;
    {
        std::lock_guard lock(mu_);
        // Cached verdicts were the old rules': a new connection on a decided 5-tuple (a reused
        // source port) must meet the rules in force now.
        flows_.clear();
        for (const auto& [id, pd] : pending_)
            if (pd.prompting) open.emplace_back(id, pd.connection);
    }
    size_t decided = 0;
    for (const auto& [id, c] : open) {
        const std::optional<RuleMatch> m = rules_.match(c);
        if (!m) continue;
        std::unique_lock lock(mu_);
        auto it = pending_.find(id);
        if (it == pending_.end()) continue;  // answered meanwhile
        finish(lock, id, {m->action, Reason::rule, m->rule_name, m->nolog});
        ++decided;
    }
    if (decided) cv_.notify_all();
    return decided;
}

std::vector<FlowKey> Engine::forget_socket(Protocol protocol, const IpAddress& src,
                                           uint16_t src_port, const IpAddress& dst,
                                           uint16_t dst_port) {
    // Sockets of both families carry IPv4 flows as ::ffff:a.b.c.d; packets name them as IPv4.
    const IpAddress local = src.unmapped(), peer = dst.unmapped();
    const bool connected = dst_port != 0 || !peer.is_unspecified();
    if (connected && !local.is_unspecified()) {
        const FlowKey k{protocol, local, src_port, peer, dst_port, 0};
        if (flows_.forget(k) == Action::allow) return {k};
        return {};
    }
    // Not connected: every destination it sent to.
    return flows_.forget_if([&](const FlowKey& k) {
        return k.protocol == protocol && k.src_port == src_port &&
               (local.is_unspecified() || k.src == local) &&
               (!connected || (k.dst == peer && k.dst_port == dst_port));
    });
}

void Engine::on_kernel_decision(DecisionEvent e, bool nolog) {
    {
        std::lock_guard lock(mu_);
        count_locked(e.action);
    }
    relay_.decision(std::move(e), nolog);
}

std::string Engine::interface_name(uint32_t ifindex) {
    if (ifindex == 0) return {};
    {
        std::lock_guard lock(if_mu_);
        if (auto it = if_names_.find(ifindex); it != if_names_.end()) return it->second;
    }
    // if_indextoname asks the kernel (a socket and an ioctl), so no lock is held meanwhile;
    // interfaces are few, so the answer is kept (a renamed or re-created interface is picked up
    // once the small cache is dropped).
    char name[IF_NAMESIZE] = {};
    std::string found = if_indextoname(ifindex, name) ? name : "";
    std::lock_guard lock(if_mu_);
    if (if_names_.size() >= 256) if_names_.clear();
    if_names_.emplace(ifindex, found);
    return found;
}

Prompt Engine::prompt_of(const Pending& p) {
    Prompt r;
    r.id = p.id;
    r.connection = p.connection;
    r.method = p.method;
    r.attribution_us = p.attribution_us;
    r.opened = p.opened;
    r.deadline = p.deadline;
    r.flows = p.flows.size();
    r.packets = p.packets.size();
    return r;
}

std::vector<Prompt> Engine::prompts() const {
    std::lock_guard lock(mu_);
    std::vector<Prompt> r;
    for (const auto& [id, pd] : pending_)
        if (pd.prompting) r.push_back(prompt_of(pd));
    std::sort(r.begin(), r.end(), [](const Prompt& a, const Prompt& b) { return a.id < b.id; });
    return r;
}

void Engine::set_queue_drops(uint64_t queue_dropped, uint64_t user_dropped) {
    std::lock_guard lock(mu_);
    stats_.queue_dropped = queue_dropped;
    stats_.queue_user_dropped = user_dropped;
}

EngineStats Engine::stats() const {
    EngineStats s;
    {
        std::lock_guard lock(mu_);
        s = stats_;
        s.pending = pending_.size();
        s.prompts_open = open_prompts_.size();
    }
    s.packets = packets_.load();
    s.flow_hits = flow_hits_.load();
    s.passed = passed_.load();
    s.dns_answers = dns_answers_.load();
    s.malformed = malformed_.load();
    return s;
}

}  // namespace tsnitch
