// The Engine: a queued packet's way from parse to verdict (DESIGN.md §1) and the interface the
// front ends use (DESIGN.md §2): events out through EngineObserver, commands in (answer a prompt,
// list the open prompts, read the counters).
//
// Threads: the queue readers (one per queue, several at once) call on_packet() and never wait on
// /proc, NSS, netlink or a person; new flows go to the engine's decision thread, which attributes
// them, asks the rules and either decides or holds the packets in a pending decision (a prompt).
// Verdicts go out through the VerdictSink by queue and packet id whenever the decision is made;
// the observers hear of it afterwards, on the relay's thread (ObserverRelay).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/attribution/attributor.h"
#include "core/connection.h"
#include "core/engine/engine_observer.h"
#include "core/engine/flow.h"
#include "core/engine/flow_cache.h"
#include "core/engine/host_names.h"
#include "core/engine/observer_relay.h"
#include "core/engine/packet_queue.h"
#include "core/result.h"
#include "core/rules/rule_matcher.h"

namespace tsnitch {

struct EngineOptions {
    Action default_action = Action::deny;
    // Seconds a prompt waits before DefaultAction applies (reason "timeout"); 0: until answered.
    unsigned prompt_timeout_s = 30;
    bool intercept_unknown = false;  // prompt also when the process is unknown
    // false (headless): what no rule decides gets DefaultAction at once, reason "default".
    bool interactive = false;
    // Decided flows remembered so that retransmits and datagrams queued before the connmark took
    // hold get the same verdict without a new decision.
    std::chrono::seconds flow_ttl{60};
    size_t flow_cache_max = 65536;
    // Bounds that keep a flood of new connections (thousands of ports in a second) from holding
    // the queue: held packets stay below the kernel queue length (NfQueueOptions::max_len, 8192)
    // and open prompts below what a person can answer. Beyond either, DefaultAction at once,
    // counted in EngineStats::over_limit and told to EngineObserver::on_over_limit.
    size_t max_pending_packets = 4096;
    size_t max_open_prompts = 256;
    // Beyond max_pending_packets, a new flow from a socket (protocol, source address and port)
    // that has no flow waiting is still held, up to this many packets more: one socket that
    // sprays datagrams to thousands of ports cannot take every place from the others.
    size_t fair_reserve_packets = 512;
    // How long a flow refused beyond the bounds keeps that answer: its packets meanwhile (a
    // burst, a duplicate from another CPU) get it without a new decision, and a retransmit after
    // it (TCP's first comes after a second) is decided anew, so that a moment of overload does
    // not refuse a connection for its whole life.
    std::chrono::milliseconds over_limit_memory{500};
    std::string proc_root = "/proc";  // where process environments are read (process.env rules)
};

struct EngineStats {
    uint64_t packets = 0;      // outbound packets queued
    uint64_t dns_answers = 0;  // inbound DNS answers read
    uint64_t passed = 0;       // packets that open nothing (RST, ICMP errors), let through
    uint64_t malformed = 0;    // packets that could not be parsed (dropped)
    uint64_t flow_hits = 0;    // packets answered from the flow cache
    uint64_t joined = 0;       // packets that joined a pending decision
    uint64_t decisions = 0;
    uint64_t allowed = 0;
    uint64_t denied = 0;
    uint64_t rejected = 0;
    uint64_t unknown_process = 0;
    uint64_t prompts_opened = 0;
    uint64_t over_limit = 0;  // decisions given DefaultAction because too much was pending
    size_t pending = 0;       // decisions not made yet (attributing or prompting)
    size_t prompts_open = 0;  // of them, questions waiting for a person
    // The kernel's counts for the queues (set_queue_drops): packets dropped because a queue was
    // full, and packets it could not deliver to a reader's socket.
    uint64_t queue_dropped = 0;
    uint64_t queue_user_dropped = 0;
};

class Engine {
  public:
    // `names` may be null (no DNS learning). `fast_attributor` (may be null) is an attribution
    // that answers from memory only, e.g. the eBPF owner map and its process cache: it is tried
    // on the queue readers, and when it finds the process and a rule decides, the verdict is
    // given there at once; otherwise the decision thread goes on with `attributor`. The
    // references must outlive the Engine.
    Engine(EngineOptions options, VerdictSink& sink, Attributor& attributor, RuleMatcher& rules,
           HostNames* names, Attributor* fast_attributor = nullptr);
    ~Engine();  // stop()
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Before start().
    void add_observer(EngineObserver* o);
    void start();
    // Returns once the observers have been told everything the engine did before the call
    // (they are told on the relay's thread, in batches).
    void flush_observers();
    // Ends the decision thread; what is still pending gets DefaultAction (reason "default") so
    // that no packet stays held.
    void stop();

    // A queue reader's entry (called by several readers at once): one packet, answered now (flow
    // cache, DNS answer, a rule on what the fast rung knows, joined or handed to the decision
    // thread). Never blocks on attribution or a person.
    void on_packet(const QueuedPacket& p);

    // Commands from a front end.
    // Decides an open prompt. When the answer also made a rule (the front end adds it to the
    // rule store, e.g. with rule_for_connection), `rule_name` names it in the event.
    Status answer(uint64_t prompt_id, Action action,
                  std::optional<std::string> rule_name = std::nullopt);
    // The rules changed (a rule added from an answer, a file edited): the flow cache is emptied
    // and open prompts that a rule now decides are decided by it (reason "rule"). Returns how
    // many.
    size_t rules_changed();
    // A socket is gone (its local end `src`:`src_port`, its peer `dst`:`dst_port`, unspecified
    // when it was not connected): the verdicts cached for its flows are forgotten, so that another
    // socket that takes over the same addresses and ports (another process, or the same one after
    // an exec) is decided for itself. Returns the flows forgotten that had been allowed.
    std::vector<FlowKey> forget_socket(Protocol protocol, const IpAddress& src, uint16_t src_port,
                                       const IpAddress& dst, uint16_t dst_port);
    // A decision the kernel's verdict cache took (DESIGN.md §8a): counted and told to the
    // observers like the engine's own.
    void on_kernel_decision(DecisionEvent e, bool nolog);
    std::vector<Prompt> prompts() const;
    EngineStats stats() const;
    // The queue's own drop counters, as the kernel reports them (read by the caller, which owns
    // the queues): kept in the stats.
    void set_queue_drops(uint64_t queue_dropped, uint64_t user_dropped);

  private:
    struct Held {
        uint16_t queue;
        uint32_t id;
        uint32_t mark;
    };
    struct Pending {
        uint64_t id = 0;
        std::vector<FlowKey> flows;
        std::vector<Held> packets;
        Connection connection;
        Method method = Method::none;
        uint64_t attribution_us = 0;
        bool attributed = false;  // by the fast rung on a queue reader
        bool prompting = false;
        std::chrono::system_clock::time_point opened;
        std::optional<std::chrono::steady_clock::time_point> deadline;
        PromptKey prompt_key;
    };
    struct Outcome {
        Action action;
        Reason reason;
        std::optional<std::string> rule;
        bool nolog = false;
        bool over_limit = false;  // DefaultAction beyond a bound: remembered for a moment only
    };

    void decision_loop();
    // Gives DefaultAction to the prompts whose deadline has passed; with mu_ held.
    void expire_prompts_locked(std::unique_lock<std::mutex>& lock);
    // A new flow that cannot be held (a bound is reached): DefaultAction now, and an event.
    void refuse_over_limit(const QueuedPacket& qp, const FlowKey& key, Connection c);
    // With mu_ held: the packet joins its flow's pending decision (within the bound on held
    // packets, else DefaultAction) or gets the flow's cached verdict. False when neither: the
    // flow is new. Unlocks when it answers.
    bool joined_or_answered(const QueuedPacket& qp, const FlowKey& key,
                            std::chrono::steady_clock::time_point now,
                            std::unique_lock<std::mutex>& lock);
    // Whether a new flow `key` finds no place to wait (the bound, and the reserve for sockets with
    // no flow waiting); with mu_ held.
    bool over_limit_locked(const FlowKey& key) const;
    // Files a decided flow in the flow cache; `over_limit`: DefaultAction beyond a bound.
    void remember_flow(const FlowKey& key, Action a, bool over_limit,
                       std::chrono::steady_clock::time_point now);
    static FlowKey source_of(const FlowKey& k);
    // Fills in what attribution found and the host name.
    void complete(Connection& c, const Attribution& a);
    void decide_at_once(const QueuedPacket& qp, const FlowKey& key, Connection c,
                        const Attribution& a, const RuleMatch& m);
    void count_locked(Action a);
    void attribute_and_decide(uint64_t pending_id);
    // Takes the pending decision out (under mu_), records its flows, then sends the verdicts
    // and tells the observers (without mu_).
    void finish(std::unique_lock<std::mutex>& lock, uint64_t pending_id, const Outcome& outcome);
    static Prompt prompt_of(const Pending& p);
    // The name of a network interface (iface.in / iface.out rules); takes if_mu_ only.
    std::string interface_name(uint32_t ifindex);

    EngineOptions options_;
    VerdictSink& sink_;
    Attributor& attributor_;
    RuleMatcher& rules_;
    HostNames* names_;
    Attributor* fast_attributor_;
    std::vector<EngineObserver*> observers_;
    ObserverRelay relay_{observers_};  // the observers are called on its thread

    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
    uint64_t next_id_ = 1;
    std::deque<uint64_t> to_attribute_;
    std::unordered_map<uint64_t, Pending> pending_;
    std::unordered_map<FlowKey, uint64_t, FlowKeyHash> pending_flows_;
    // The waiting flows of each source socket (a FlowKey without destination): who may use the
    // reserve beyond the bound (EngineOptions::fair_reserve_packets).
    std::unordered_map<FlowKey, uint32_t, FlowKeyHash> waiting_by_source_;
    std::unordered_map<PromptKey, uint64_t, PromptKeyHash> open_prompts_;
    FlowCache flows_;  // its own locks: the readers look flows up without mu_
    // The open prompts' deadlines, soonest first: what the decision thread waits on.
    std::set<std::pair<std::chrono::steady_clock::time_point, uint64_t>> deadlines_;
    size_t held_packets_ = 0;
    EngineStats stats_;
    // Counted by the readers without mu_; stats() adds them.
    std::atomic<uint64_t> packets_{0}, flow_hits_{0}, passed_{0}, dns_answers_{0}, malformed_{0};
    std::mutex if_mu_;  // if_names_, apart from mu_: the readers' lookups never wait on it long
    std::unordered_map<uint32_t, std::string> if_names_;
};

}  // namespace tsnitch
