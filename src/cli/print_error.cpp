#include <cstdarg>
#include <cstdio>

#include "cli/commands.h"

namespace tsnitch::cli {

void print_error(const char* fmt, ...) {
    std::fputs("tsnitch: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
}

}  // namespace tsnitch::cli
