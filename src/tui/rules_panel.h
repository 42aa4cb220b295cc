// The Rules view: the rules by name (the order OpenSnitch evaluates them) or by hits; Space turns
// one on or off, e/Enter opens the edit dialog, x/Del asks before deleting.
#pragma once

#include <vector>

#include "tui/panel.h"

namespace tsnitch::tui {

class RulesPanel : public Panel {
  public:
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    std::vector<Hint> hints() const override;

    const ListCursor& cursor() const { return cursor_; }

  private:
    std::vector<RuleSummary> rows(const UiModel& m) const;

    ListCursor cursor_;
    RuleOrder order_ = RuleOrder::name;
};

}  // namespace tsnitch::tui
