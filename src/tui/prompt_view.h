// Draws the prompt: a box over the main screen when there is room, the essentials only (process,
// destination, keys) when the terminal is small.
#pragma once

#include <chrono>
#include <string>

#include "tui/prompt_form.h"
#include "tui/screen.h"

namespace tsnitch::tui {

// `more`: how many other prompts wait behind this one.
void draw_prompt(Screen& s, const PromptForm& form, size_t more,
                 std::chrono::steady_clock::time_point now);

// "27s → deny", or empty when the prompt has no deadline.
std::string countdown_text(const PendingPrompt& p, std::chrono::steady_clock::time_point now,
                           std::string_view arrow);
// "bash(4300) < sshd(4100) < systemd(1)", raw.
std::string parent_chain(const ProcessInfo& p);

}  // namespace tsnitch::tui
