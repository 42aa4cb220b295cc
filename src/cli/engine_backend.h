// The terminal UI's Backend over the Engine in this process (DESIGN.md §2): decisions and prompts
// come in as EngineObserver calls from the engine's threads and go to the UI through an
// UpdateQueue; answers and rule changes go to the Engine and the RuleStore.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/attribution/socket_table.h"
#include "core/engine/engine.h"
#include "core/rules/rule_store.h"
#include "tui/backend.h"
#include "tui/update_queue.h"

namespace tsnitch::cli {

class EngineBackend final : public tui::Backend, public EngineObserver {
  public:
    // `status` carries what does not change while running (queue, firewall, method, notice).
    EngineBackend(Engine& engine, RuleStore& rules, tui::EngineStatus status, Action default_action,
                  size_t max_events);

    // Posts the whole state once; call before run_tui().
    void publish_all();
    // Messages for the log view (standard error would garble the screen).
    void log(LogLevel level, std::string text);
    // The engine is stopping: run_tui() returns.
    void stop() { queue_.stop(); }
    // After a change of the rules (an answer, the Rules view, a file changed on disk): the list,
    // the status, and open prompts that a rule now decides.
    void rules_changed();
    // Names for the Sockets view's lines (the engine's DNS cache; called from the UI thread).
    void set_host_names(HostNameLookup names) { names_ = std::move(names); }

    // tui::Backend, from the UI thread.
    int wake_fd() const override { return queue_.fd(); }
    tui::BackendUpdate drain() override { return queue_.take(); }
    Status answer(uint64_t prompt_id, const tui::Answer& answer) override;
    Status set_rule_enabled(const std::string& name, bool enabled) override;
    Status delete_rule(const std::string& name) override;
    Status change_rule(const std::string& name, Action action, RuleDuration duration) override;
    Status add_rule(const Rule& rule) override;
    SocketMonitor* socket_monitor() override;
    HostNameLookup host_names() override { return names_; }

    // EngineObserver, from the engine's threads.
    void on_decision(const DecisionEvent& e, bool nolog) override;
    void on_prompt_opened(const Prompt& p) override;
    void on_prompt_closed(uint64_t prompt_id, Action action, Reason reason) override;

  private:
    void publish_pending();
    void publish_rules();
    void publish_status();

    Engine& engine_;
    RuleStore& rules_;
    tui::EngineStatus base_status_;
    Action default_action_;
    std::atomic<size_t> rule_count_{0};  // kept here: copying the rules per decision is too slow
    std::atomic<size_t> broken_rule_files_{0};
    tui::UpdateQueue queue_;
    HostNameLookup names_;
    std::unique_ptr<SocketMonitor> sockets_;  // from the first look at the Sockets tab
    bool sockets_failed_ = false;
};

}  // namespace tsnitch::cli
