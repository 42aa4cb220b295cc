// The configuration parser (JSON or YAML from -c FILE): any text gives a Config or an error,
// never a crash, and an error message never carries a control character from the text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto c = tsnitch::parse_config(text, "fuzz.json");
    if (!c) {
        for (const char ch : c.error().message) {
            const auto b = static_cast<uint8_t>(ch);
            if (b < 0x20 || b == 0x7f) std::abort();
        }
    }
    return 0;
}
