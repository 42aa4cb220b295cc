// The Stats view: top hosts, processes, ports and users over the decisions in the log.
#pragma once

#include "tui/panel.h"

namespace tsnitch::tui {

class StatsPanel : public Panel {
  public:
    Outcome handle_key(int, KeyContext&) override { return Outcome::ignored; }
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
};

}  // namespace tsnitch::tui
