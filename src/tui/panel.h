// A panel, as htop has them: it owns where the person is in it (selection, scroll, filter),
// handles its own keys and says what it did with each, and draws itself. The views (Connections,
// Rules, ...) are panels, and so are the dialogs over them, kept on a stack whose top panel takes
// the keys first (ui.h).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/daemon/records.h"
#include "tui/screen.h"
#include "tui/ui_model.h"

namespace tsnitch::tui {

using Clock = std::chrono::steady_clock;
using Command = decltype(DaemonCommand::body);

class Panel;

// What a panel may ask of the UI around it.
class PanelHost {
  public:
    // A command to the daemon; `what` names it in an error ("answering the prompt: ..."), and
    // `on_success` (when not empty) is said in the bottom line once it is done.
    virtual void send(Command body, std::string what, std::string on_success = "") = 0;
    // Puts a dialog on top of the stack: it takes the keys until it closes.
    virtual void open(std::unique_ptr<Panel> dialog) = 0;
    // The person's answer to the pending prompt `id` (sent, and no longer shown).
    virtual void answer_prompt(uint64_t id, const Answer& answer) = 0;
    // q, F10, Ctrl-C: asks first where quitting removes a firewall (or leaves a daemon).
    virtual void ask_quit() = 0;
    virtual void quit() = 0;
    // Shown in the bottom line for a few seconds.
    virtual void say(std::string text) = 0;

  protected:
    ~PanelHost() = default;
};

struct KeyContext {
    const UiModel& model;
    PanelHost& host;
    size_t page = 1;  // rows of a list page (PgUp/PgDn)
    Clock::time_point now;
};

// What a panel did with a key.
enum class Outcome {
    ignored,  // not one of its keys: the panel below (or the view keys) may take it
    handled,
    close,  // handled, and the panel is done: a dialog leaves the stack, Help goes back
};

// Keys for the bottom line: "/ filter  a/d rule".
struct Hint {
    std::string_view key;
    std::string_view text;
};

class Panel {
  public:
    virtual ~Panel() = default;
    virtual Outcome handle_key(int key, KeyContext& ctx) = 0;
    virtual void draw(Screen& s, const UiModel& m, Clock::time_point now) = 0;
    // The bottom line's hints while this view shows.
    virtual std::vector<Hint> hints() const { return {}; }
    // True when the panel draws the bottom line itself (a filter being typed).
    virtual bool draw_bottom_line(Screen&) const { return false; }
    // Dialogs stack by layer: a new dialog goes above those of its layer and below higher ones,
    // so that a prompt arriving never hides the quit question.
    virtual int layer() const { return 0; }
};

inline constexpr int kBodyTop = 2;  // status line, tabs
// Rows a list view shows (for paging): minus the header row, the detail line and the bottom line.
int list_rows(const Screen& s);

// Drawing shared by the panels.
void draw_centered(Screen& s, int y, std::string_view text, attr_t attr);
// The selected row in full, above the bottom line: the columns cut what a wide screen would show.
void draw_detail(Screen& s, const std::string& safe);
// A box in the middle of the screen with a title and lines of (safe) text.
void draw_dialog(Screen& s, std::string_view title, const std::vector<std::string>& body);

}  // namespace tsnitch::tui
