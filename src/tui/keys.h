// Keys as the UI logic sees them, independent of curses: printable characters are their code,
// the others are named here (the curses layer translates KEY_* into these).
#pragma once

namespace tsnitch::tui::key {

inline constexpr int tab = '\t';
inline constexpr int enter = '\n';
inline constexpr int escape = 27;
inline constexpr int ctrl_c = 3;
inline constexpr int ctrl_l = 12;

inline constexpr int special = 0x110000;  // past every Unicode code point
inline constexpr int up = special + 1;
inline constexpr int down = special + 2;
inline constexpr int left = special + 3;
inline constexpr int right = special + 4;
inline constexpr int backtab = special + 5;
inline constexpr int backspace = special + 6;
inline constexpr int del = special + 7;
inline constexpr int home = special + 8;
inline constexpr int end = special + 9;
inline constexpr int page_up = special + 10;
inline constexpr int page_down = special + 11;
inline constexpr int resize = special + 12;
inline constexpr int f1 = special + 100;  // f1 + n - 1 for Fn
inline constexpr int f(int n) {
    return f1 + n - 1;
}

}  // namespace tsnitch::tui::key
