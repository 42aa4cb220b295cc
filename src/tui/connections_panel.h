// The Connections view: every decision, newest first, through the person's filter; a/d on a row
// makes a rule for that connection in the prompt's form.
#pragma once

#include <vector>

#include "tui/filter_line.h"
#include "tui/panel.h"

namespace tsnitch::tui {

class ConnectionsPanel : public Panel {
  public:
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    std::vector<Hint> hints() const override;
    bool draw_bottom_line(Screen& s) const override;

    // Decisions about to enter the log: the selected row stays selected while new ones arrive
    // above it (row 0, the newest, follows them).
    void events_arriving(const std::vector<DecisionEvent>& events);

    const ListCursor& cursor() const { return cursor_; }
    const FilterLine& filter() const { return filter_; }

  private:
    FilterLine filter_;
    ListCursor cursor_;  // selected 0: the newest
};

}  // namespace tsnitch::tui
