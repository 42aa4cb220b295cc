// The Help view: every key, scrolled with the list keys; Esc goes back to the view before it.
#pragma once

#include "tui/panel.h"

namespace tsnitch::tui {

class HelpPanel : public Panel {
  public:
    // monitor: only the sections about the socket views (`tsnitch monitor` has no others).
    explicit HelpPanel(bool monitor) : monitor_(monitor) {}
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    size_t first_line() const { return scroll_.selected; }

  private:
    bool monitor_;
    ListCursor scroll_;  // selected: the first line shown
};

}  // namespace tsnitch::tui
