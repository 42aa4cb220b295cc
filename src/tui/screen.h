// The terminal: curses set up and torn down (RAII), the glyphs and attributes this terminal can
// show (UTF-8 or ASCII, colour or monochrome/NO_COLOR), keys read without blocking, and text
// drawn clipped to a width. Text given to put() must already be safe (printable_text()).
#pragma once

#include <curses.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/connection.h"
#include "core/result.h"

namespace tsnitch::tui {

struct Glyphs {
    std::string_view h, v, tl, tr, bl, br;  // box lines and corners
    std::string_view left, right;           // choosers: ◀ ▶
    std::string_view arrow;                 // "→"
    std::string_view ellipsis;              // "…"
    std::string_view on, off;               // interception state: ● ○
    std::string_view sep;                   // status line separator "│"
};

struct Styles {
    attr_t normal = A_NORMAL;
    attr_t status = A_REVERSE;    // status line
    attr_t title = A_BOLD;        // headings, box titles
    attr_t header = A_BOLD;       // table headers
    attr_t selected = A_REVERSE;  // the selected row or choice
    attr_t dim = A_DIM;
    attr_t allow = A_BOLD;
    attr_t deny = A_BOLD;
    attr_t reject = A_BOLD;
    attr_t warn = A_BOLD;
    attr_t key = A_BOLD;  // key names in hints
    attr_t border = A_NORMAL;
};

// The style of an action's name: allow green, deny red, reject magenta (bold when monochrome).
attr_t action_style(const Styles& st, Action a);

class Screen {
  public:
    // Starts curses on the terminal (raw keys, no echo, hidden cursor). utf8: whether the locale
    // is UTF-8 (else ASCII glyphs and escapes); color: whether to use colours at all. Fails when
    // TERM names no known terminal.
    static Result<std::unique_ptr<Screen>> open(bool utf8, bool color);
    ~Screen();
    Screen(const Screen&) = delete;
    Screen& operator=(const Screen&) = delete;

    int rows() const { return getmaxy(stdscr); }
    int cols() const { return getmaxx(stdscr); }
    bool utf8() const { return utf8_; }
    const Glyphs& glyphs() const { return glyphs_; }
    const Styles& styles() const { return styles_; }
    // printable_text() (core/text.h) for this terminal.
    std::string safe(std::string_view raw) const;

    // Draws `safe` at (y, x), at most `width` columns (cut with an ellipsis); returns the
    // columns used.
    int put(int y, int x, std::string_view safe, int width, attr_t attr);
    // Spaces from (y, x) over `width` columns.
    void fill(int y, int x, int width, attr_t attr);
    // A box with a title on the top line (and an optional note on the bottom line).
    void box(int y, int x, int h, int w, attr_t attr, std::string_view title = {},
             std::string_view right_title = {}, std::string_view bottom = {});

    // The next key (keys.h codes), or -1 when none is waiting.
    int read_key();
    void begin_frame() { erase(); }
    void end_frame() { refresh(); }

  private:
    Screen(SCREEN* term, bool utf8, bool color);

    SCREEN* term_;
    bool utf8_;
    Glyphs glyphs_;
    Styles styles_;
};

// Sets the locale from the environment (falling back to C.UTF-8 when the environment asks for
// UTF-8 that is not installed); returns whether the terminal's character set is UTF-8.
bool setup_locale();
// NO_COLOR (https://no-color.org): any non-empty value turns colours off.
bool colors_wanted();

}  // namespace tsnitch::tui
