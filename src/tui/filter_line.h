// The filter of a list view (Connections, Processes): '/' starts typing it in the bottom line,
// where it takes every key until Enter keeps it or Esc clears it.
#pragma once

#include <string>

#include "tui/screen.h"
#include "tui/view_model.h"

namespace tsnitch::tui {

class FilterLine {
  public:
    const std::string& text() const { return text_; }
    bool editing() const { return editing_; }
    // True when the key was the filter's: '/' starts typing, Esc clears it; while typing, every
    // key is: Enter keeps, Esc clears and stops, Backspace removes one character, a printable
    // character is added (at most 200 bytes), and the filtered `list` starts over at the top.
    bool handle_key(int key, ListCursor& list);
    // The bottom line while typing ("Filter: text_"); false when not typing.
    bool draw(Screen& s) const;

  private:
    void edit(int key);

    std::string text_;
    bool editing_ = false;
};

}  // namespace tsnitch::tui
