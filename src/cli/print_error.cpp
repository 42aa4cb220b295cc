#include <cstdarg>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "core/text.h"

namespace tsnitch::cli {

// Messages carry names from outside (files, rules, values): escaped here, whatever the caller did,
// so that no message can drive the terminal.
void print_error(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list again;
    va_copy(again, ap);
    const int n = std::vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    std::string text(n > 0 ? static_cast<size_t>(n) : 0, '\0');
    if (n > 0) std::vsnprintf(text.data(), text.size() + 1, fmt, again);
    va_end(again);
    std::fprintf(stderr, "tsnitch: %s\n", printable_text(text).c_str());
}

}  // namespace tsnitch::cli
