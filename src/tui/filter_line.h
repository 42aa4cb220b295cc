// The filter of a list view (Connections, Processes): '/' starts typing it in the bottom line,
// where it takes every key until Enter keeps it or Esc clears it.
#pragma once

#include <string>

#include "tui/screen.h"

namespace tsnitch::tui {

class FilterLine {
  public:
    const std::string& text() const { return text_; }
    bool editing() const { return editing_; }
    void start() { editing_ = true; }
    void clear() { text_.clear(); }
    // A key while editing: Enter keeps, Esc clears and stops, Backspace removes one character,
    // a printable character is added (at most 200 bytes).
    void handle_key(int key);
    // The bottom line while editing: "Filter: text_".
    void draw(Screen& s) const;

  private:
    std::string text_;
    bool editing_ = false;
};

}  // namespace tsnitch::tui
