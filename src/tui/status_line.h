// The top line: the firewall's state (interception, queues, attribution, rules, pending prompts,
// counts) in as many words as the width allows; the monitor's own line without a firewall.
#pragma once

#include "tui/screen.h"
#include "tui/ui_model.h"

namespace tsnitch::tui {

void draw_status_line(Screen& s, const UiModel& m);

}  // namespace tsnitch::tui
