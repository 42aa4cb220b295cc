// The Log view: the daemon's messages, newest at the bottom like a terminal; Up goes back in time.
#pragma once

#include "tui/panel.h"

namespace tsnitch::tui {

class LogPanel : public Panel {
  public:
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    size_t back() const { return back_; }

  private:
    size_t back_ = 0;  // lines scrolled back from the newest (clamped when drawn)
};

}  // namespace tsnitch::tui
