#include "tui/screen.h"

#include <langinfo.h>

#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <cwchar>

#include "core/text.h"
#include "tui/keys.h"
#include "tui/safe_text.h"

namespace tsnitch::tui {

namespace {

constexpr Glyphs kUtf8Glyphs{"─", "│", "┌", "┐", "└", "┘", "◀", "▶", "→", "…", "●", "○", "│"};
constexpr Glyphs kAsciiGlyphs{"-", "|", "+", "+", "+", "+", "<", ">", "->", "~", "*", "o", "|"};

enum Pair : short { kStatus = 1, kAllow, kDeny, kReject, kWarn, kKey, kBorder, kHeader };

int translate(int code, bool function_key) {
    if (!function_key) {
        if (code == '\r') return key::enter;
        if (code == 127 || code == 8) return key::backspace;
        return code;
    }
    switch (code) {
        case KEY_UP:
            return key::up;
        case KEY_DOWN:
            return key::down;
        case KEY_LEFT:
            return key::left;
        case KEY_RIGHT:
            return key::right;
        case KEY_BTAB:
            return key::backtab;
        case KEY_BACKSPACE:
            return key::backspace;
        case KEY_DC:
            return key::del;
        case KEY_HOME:
            return key::home;
        case KEY_END:
            return key::end;
        case KEY_PPAGE:
            return key::page_up;
        case KEY_NPAGE:
            return key::page_down;
        case KEY_ENTER:
            return key::enter;
        case KEY_RESIZE:
            return key::resize;
        default:
            break;
    }
    if (code >= KEY_F(1) && code <= KEY_F(12)) return key::f(code - KEY_F(1) + 1);
    return -2;  // a key we do not use
}

}  // namespace

attr_t action_style(const Styles& st, Action a) {
    switch (a) {
        case Action::allow:
            return st.allow;
        case Action::deny:
            return st.deny;
        case Action::reject:
            return st.reject;
    }
    return st.normal;
}

bool setup_locale() {
    if (!std::setlocale(LC_ALL, "")) {
        // LANG=en_US.UTF-8 without that locale installed: UTF-8 is still what the terminal
        // speaks, and C.UTF-8 is always there on glibc.
        const char* lang = std::getenv("LC_ALL");
        if (!lang || !*lang) lang = std::getenv("LC_CTYPE");
        if (!lang || !*lang) lang = std::getenv("LANG");
        const bool wants_utf8 = lang && (std::strstr(lang, "UTF-8") || std::strstr(lang, "utf8") ||
                                         std::strstr(lang, "UTF8") || std::strstr(lang, "utf-8"));
        if (!wants_utf8 || !std::setlocale(LC_ALL, "C.UTF-8")) std::setlocale(LC_ALL, "C");
    }
    const char* cs = nl_langinfo(CODESET);
    return cs && (std::strcmp(cs, "UTF-8") == 0 || std::strcmp(cs, "utf8") == 0);
}

bool colors_wanted() {
    const char* nc = std::getenv("NO_COLOR");
    return !(nc && *nc);
}

Result<std::unique_ptr<Screen>> Screen::open(bool utf8, bool color) {
    SCREEN* term = newterm(nullptr, stdout, stdin);
    if (!term) {
        const char* t = std::getenv("TERM");
        return make_error(std::string("starting the terminal UI: unknown terminal type '") +
                          (t ? t : "") + "' (TERM)");
    }
    // A terminal that cannot move the cursor (TERM=dumb) would get a stream of garbage.
    char cup[] = "cup";
    const char* cap = tigetstr(cup);
    if (cap == nullptr || cap == reinterpret_cast<char*>(-1)) {
        endwin();
        delscreen(term);
        const char* t = std::getenv("TERM");
        return make_error(std::string("starting the terminal UI: terminal type '") + (t ? t : "") +
                          "' cannot move the cursor (use --headless, or set TERM)");
    }
    return std::unique_ptr<Screen>(new Screen(term, utf8, color));
}

Screen::Screen(SCREEN* term, bool utf8, bool color)
    : term_(term), utf8_(utf8), glyphs_(utf8 ? kUtf8Glyphs : kAsciiGlyphs) {
    set_term(term_);
    ::set_escdelay(25);  // Esc answers a prompt: do not make the person wait a second for it
    raw();               // Ctrl-C asks before quitting instead of killing the firewall's front end
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    if (color && has_colors() && start_color() == OK) {
        use_default_colors();
        init_pair(kStatus, COLOR_BLACK, COLOR_CYAN);
        init_pair(kAllow, COLOR_GREEN, -1);
        init_pair(kDeny, COLOR_RED, -1);
        init_pair(kReject, COLOR_MAGENTA, -1);
        init_pair(kWarn, COLOR_YELLOW, -1);
        init_pair(kKey, COLOR_CYAN, -1);
        init_pair(kBorder, COLOR_CYAN, -1);
        init_pair(kHeader, COLOR_BLACK, COLOR_GREEN);
        styles_.status = COLOR_PAIR(kStatus);
        styles_.allow = COLOR_PAIR(kAllow) | A_BOLD;
        styles_.deny = COLOR_PAIR(kDeny) | A_BOLD;
        styles_.reject = COLOR_PAIR(kReject) | A_BOLD;
        styles_.warn = COLOR_PAIR(kWarn) | A_BOLD;
        styles_.key = COLOR_PAIR(kKey) | A_BOLD;
        styles_.border = COLOR_PAIR(kBorder);
        styles_.header = COLOR_PAIR(kHeader);
    }
}

Screen::~Screen() {
    endwin();
    delscreen(term_);
}

std::string Screen::safe(std::string_view raw) const {
    return printable_text(raw, utf8_);
}

int Screen::put(int y, int x, std::string_view safe, int width, attr_t attr) {
    if (y < 0 || y >= rows() || x < 0 || x >= cols() || width <= 0) return 0;
    width = std::min(width, cols() - x);
    const std::string text = truncate_to_width(safe, width, glyphs_.ellipsis);
    attrset(attr);
    mvaddstr(y, x, text.c_str());
    attrset(A_NORMAL);
    return display_width(text);
}

void Screen::fill(int y, int x, int width, attr_t attr) {
    if (y < 0 || y >= rows() || x < 0 || width <= 0) return;
    width = std::min(width, cols() - x);
    attrset(attr);
    mvaddstr(y, x, std::string(static_cast<size_t>(std::max(width, 0)), ' ').c_str());
    attrset(A_NORMAL);
}

void Screen::box(int y, int x, int h, int w, attr_t attr, std::string_view title,
                 std::string_view right_title, std::string_view bottom) {
    if (h < 2 || w < 2) return;
    std::string line;
    for (int i = 0; i < w - 2; ++i)
        line += glyphs_.h;
    const std::string top = std::string(glyphs_.tl) + line + std::string(glyphs_.tr);
    const std::string bot = std::string(glyphs_.bl) + line + std::string(glyphs_.br);
    put(y, x, top, w, attr);
    put(y + h - 1, x, bot, w, attr);
    for (int r = y + 1; r < y + h - 1; ++r) {
        put(r, x, glyphs_.v, 1, attr);
        fill(r, x + 1, w - 2, styles_.normal);
        put(r, x + w - 1, glyphs_.v, 1, attr);
    }
    int used = 0;
    if (!title.empty())
        used =
            put(y, x + 2, std::string(" ") + std::string(title) + " ", w - 4, styles_.title | attr);
    if (!right_title.empty()) {
        const std::string rt = " " + std::string(right_title) + " ";
        const int rw = display_width(rt);
        if (rw + used + 4 <= w) put(y, x + w - 2 - rw, rt, rw, styles_.warn);
    }
    if (!bottom.empty()) {
        const std::string b = " " + std::string(bottom) + " ";
        put(y + h - 1, x + 2, b, w - 4, styles_.title | attr);
    }
}

int Screen::read_key() {
    for (;;) {
        wint_t ch = 0;
        const int rc = wget_wch(stdscr, &ch);
        if (rc == ERR) return -1;
        const int k = translate(static_cast<int>(ch), rc == KEY_CODE_YES);
        if (k != -2) return k;
    }
}

}  // namespace tsnitch::tui
