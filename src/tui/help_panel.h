// The Help view: every key, scrolled with the list keys; Esc goes back to the view before it.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "tui/panel.h"

namespace tsnitch::tui {

class HelpPanel : public Panel {
  public:
    // monitor: only the sections about the socket views (`tsnitch monitor` has no others).
    explicit HelpPanel(bool monitor);
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    size_t first_line() const { return scroll_.selected; }

  private:
    std::vector<std::pair<std::string_view, std::string_view>> lines_;  // key, what it does
    ListCursor scroll_;  // selected: the first line shown
};

}  // namespace tsnitch::tui
