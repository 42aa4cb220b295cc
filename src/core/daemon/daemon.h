// The Daemon (DESIGN.md §2): a running firewall and everything a front end sees of it. It owns
// the Engine, keeps the RuleStore current (reload on inotify, timed rules expired on a timer set
// to the next expiry), counts rule hits, keeps a bounded log and the review list, runs the socket
// table while some front end asked for it, and serves any number of front ends through the seam
// of core/daemon/records.h: each subscriber gets a Snapshot, then deltas, in its own bounded
// Outbox; commands come back through execute().
//
// Threads: engine threads (queue, decision) report through the EngineObserver calls; front ends
// call subscribe()/unsubscribe()/execute() from their own threads, at any time, also while a
// prompt is open; a housekeeping thread waits on the rules' inotify fd, the expiry timer and the
// socket table. Nothing here waits on a front end.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/attribution/attributor.h"
#include "core/attribution/process_model.h"
#include "core/attribution/socket_monitor.h"
#include "core/daemon/outbox.h"
#include "core/daemon/records.h"
#include "core/engine/engine.h"
#include "core/engine/host_names.h"
#include "core/rules/rule_store.h"
#include "core/unique_fd.h"

namespace tsnitch {

// Where the daemon's log lines go besides its front ends (standard error, LogFile, the journal).
// Called from any thread, never with the daemon's lock held; must not wait long.
class LogSink {
  public:
    virtual ~LogSink() = default;
    virtual void write(LogLevel level, const std::string& text) = 0;
};

struct DaemonOptions {
    EngineOptions engine;
    // What does not change while running: intercepting, queues, method, notice, firewall,
    // kernel_path. The counters are the daemon's own. Without `intercepting` (tsnitch monitor)
    // rules cannot be changed.
    StatusRecord status;
    size_t recent_max = 200;    // decisions a new front end's Snapshot carries
    size_t log_max = 1000;      // log lines kept
    size_t review_max = 500;    // decisions kept for review while nobody is attached
    size_t outbox_max = 65536;  // events waiting for one front end before it is detached
};

class Daemon final : private EngineObserver {
  public:
    using SubscriberId = uint64_t;
    struct Subscription {
        SubscriberId id = 0;
        std::shared_ptr<Outbox> outbox;  // starts with a Snapshot
    };

    // The references must outlive the Daemon; `names` and `fast_attributor` may be null (see
    // Engine). `processes` is the process model the attributors use: the socket table, process
    // details and closing a socket use the same one.
    Daemon(DaemonOptions options, VerdictSink& sink, Attributor& attributor, RuleStore& rules,
           HostNames* names, ProcessModel& processes, Attributor* fast_attributor = nullptr);
    ~Daemon() override;  // stop()
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Before start(): more observers of every decision (the --events file).
    void add_observer(EngineObserver* o) { engine_.add_observer(o); }
    // The engine's decision thread and the housekeeping thread.
    Status start();
    // Every front end gets Stopping{reason}; housekeeping ends; what is still pending gets
    // DefaultAction. Idempotent.
    void stop(const std::string& reason = "tsnitch is stopping");
    // Every front end attached now gets Stopping{reason} and is detached; the firewall goes on
    // (the queue is drained before stop()).
    void close_front_ends(const std::string& reason);

    // The queue thread's entry (Engine::on_packet).
    void on_packet(const QueuedPacket& p) { engine_.on_packet(p); }

    Subscription subscribe();
    void unsubscribe(SubscriberId id);
    // Runs a command for subscriber `from`; its CommandResult (or ProcessDetailsReply) goes to
    // that subscriber's outbox. Rule changes reach every subscriber as RulesChanged.
    void execute(SubscriberId from, const DaemonCommand& command);

    // A message for the log view of every front end (and the Snapshot of later ones), and for
    // the log sink.
    void log(LogLevel level, std::string text);
    // Before start().
    void set_log_sink(LogSink* sink) { sink_ = sink; }
    // The number of rule files that could not be read (StatusRecord::broken_rule_files).
    void set_broken_rule_files(size_t n);
    // Packets the kernel queue dropped so far (StatusRecord::queue_drops), when known.
    void set_queue_drops(uint64_t n);

    EngineStats engine_stats() const { return engine_.stats(); }
    // For the pieces of `tsnitch run` that act on the engine's flows (the FlowReaper). Front
    // ends never get it: they go through subscribe()/execute().
    Engine& engine() { return engine_; }
    size_t subscribers() const;

  private:
    struct Subscriber {
        std::shared_ptr<Outbox> outbox;
        std::optional<SubscribeSockets> sockets;  // on: wants SocketTableUpdate
    };
    struct OpenPrompt {
        PromptRecord record;
        std::optional<std::chrono::steady_clock::time_point> deadline;
    };

    // EngineObserver
    void on_decision(const DecisionEvent& e, bool nolog) override;
    void on_prompt_opened(const Prompt& p) override;
    void on_prompt_joined(uint64_t prompt_id, size_t flows) override;
    void on_prompt_closed(uint64_t prompt_id, Action action, Reason reason,
                          const std::optional<std::string>& rule) override;
    void on_over_limit(uint64_t total) override;

    // With mu_ held.
    void broadcast_locked(const DaemonEvent& e);
    void broadcast_status_locked();
    void reply_locked(SubscriberId to, DaemonEvent e);
    StatusRecord status_locked() const;
    std::vector<RuleRecord> rule_records_locked() const;
    PromptRecord prompt_record_locked(const OpenPrompt& p) const;
    std::string unknown_text_locked(const DecisionEvent& e);

    // Commands (daemon_commands.cpp); each returns the error text, empty when done.
    std::string answer(const AnswerPrompt& a);
    std::string add_rule(const AddRule& a);
    std::string change_rule(const ChangeRule& c);
    std::string enable_rule(const EnableRule& e);
    std::string delete_rule(const DeleteRule& d);
    std::string dismiss_review(const DismissReview& d);
    std::string subscribe_sockets(SubscriberId from, const SubscribeSockets& s);
    std::string close_socket(const CloseSocket& c);
    ProcessDetailsReply process_details(const AskProcessDetails& a);
    std::string rules_refused(const char* done) const;  // "added", "changed"
    // After any change of the rules: every front end gets the list, open prompts that a rule now
    // decides are decided, and the expiry timer is set anew.
    void rules_changed();

    // Housekeeping (daemon_housekeeping.cpp).
    void housekeeping_loop();
    void arm_expiry_timer();
    void add_socket_monitor_to_housekeeping(int wake_fd);
    void publish_socket_table();
    // Starts, pauses or refocuses the socket table as the subscribers want it.
    std::string update_socket_monitor();  // the error when the table cannot be read
    void kick();

    DaemonOptions options_;
    RuleStore& rules_;
    HostNames* names_;
    ProcessModel& processes_;
    LogSink* sink_ = nullptr;
    Engine engine_;

    mutable std::mutex mu_;
    SubscriberId next_subscriber_ = 1;
    std::map<SubscriberId, Subscriber> subscribers_;
    std::map<uint64_t, OpenPrompt> prompts_;  // by id: oldest first
    std::set<uint64_t> closed_before_open_;   // a rule decided it between opening and telling
    std::deque<DecisionEvent> recent_;
    std::deque<LogRecord> log_;
    std::deque<ReviewRecord> review_;
    uint64_t next_review_ = 1;
    std::unordered_map<std::string, uint64_t> hits_;
    size_t rule_count_ = 0;
    size_t broken_rule_files_ = 0;
    uint64_t queue_drops_ = 0;
    std::chrono::steady_clock::time_point over_limit_said_{};
    // Denials of connections whose process was not found: said at most once a second, with the
    // number that came meanwhile.
    std::chrono::steady_clock::time_point unknown_said_{};
    uint64_t unknown_unsaid_ = 0;
    SubscribeSockets socket_request_;  // the newest: its focus and interval are the table's
    bool stopped_ = false;

    // The socket table, from the first SubscribeSockets on; paused while nobody wants it.
    std::mutex sockets_mu_;  // monitor_ and its creation; taken before mu_, never inside it
    std::unique_ptr<SocketMonitor> monitor_;

    UniqueFd epoll_;
    UniqueFd expiry_timer_;  // CLOCK_REALTIME, absolute: rules expire by the wall clock
    UniqueFd kick_;          // eventfd: set the expiry timer anew / stop
    std::atomic<bool> stopping_{false};
    std::thread housekeeping_;
};

}  // namespace tsnitch
