// The dialogs over the views: panels on the UI's stack that take every key until they close.
#pragma once

#include <string>

#include "tui/panel.h"
#include "tui/prompt_form.h"

namespace tsnitch::tui {

// "Quit tsnitch?" (or "Detach from the daemon?" when attached): y quits, any other key stays.
class QuitConfirm : public Panel {
  public:
    explicit QuitConfirm(bool attached) : attached_(attached) {}
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    int layer() const override { return 2; }

  private:
    bool attached_;
};

// The Sockets view's question before closing a socket (K): y closes, any other key keeps it.
class KillConfirm : public Panel {
  public:
    KillConfirm(InetSocket socket, std::string line)
        : socket_(std::move(socket)), line_(std::move(line)) {}
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;

  private:
    InetSocket socket_;
    std::string line_;  // raw
};

// The Rules view's question before deleting a rule (x): y deletes, any other key keeps it.
class DeleteConfirm : public Panel {
  public:
    explicit DeleteConfirm(std::string name) : name_(std::move(name)) {}
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    const std::string& name() const { return name_; }

  private:
    std::string name_;
};

// Changing a rule's action and duration (the Rules view's e/Enter): Tab moves between the two,
// Left/Right change, Enter saves, Esc cancels.
class RuleEditDialog : public Panel {
  public:
    explicit RuleEditDialog(const RuleSummary& rule);
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    Action action() const { return action_; }

  private:
    std::string name_;
    int field_ = 0;              // 0 action, 1 duration
    Action was_ = Action::deny;  // the rule's action before the edit (the name may say it)
    Action action_ = Action::deny;
    size_t duration_ = 0;  // index into rule_durations()
};

// A rule made from a Sockets or Connections row (a/d): the prompt's form, no prompt. Esc
// cancels; a confirmed answer adds the rule.
class RuleFormDialog : public Panel {
  public:
    explicit RuleFormDialog(PromptForm form) : form_(std::move(form)) {}
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;

  private:
    PromptForm form_;
};

// The oldest pending prompt. It lies above the other dialogs and under the quit question; the
// view keys (1-5, F2-F6) pass through it, so that the views behind can still be looked at.
class PromptPanel : public Panel {
  public:
    explicit PromptPanel(PromptForm form) : form_(std::move(form)) {}
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    int layer() const override { return 1; }
    PromptForm& form() { return form_; }
    const PromptForm& form() const { return form_; }

  private:
    PromptForm form_;
};

}  // namespace tsnitch::tui
