// libFuzzer target for the control protocol: any line gives a message or an Error (never a crash
// or an allocation beyond the limits), and whatever decodes encodes to a line that decodes to the
// same message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/control/control_codec.h"
#include "core/json_value.h"

using namespace tsnitch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);

    (void)parse_json(line);
    (void)decode_hello(line, ControlHello::Role::client);
    (void)decode_hello(line, ControlHello::Role::daemon);

    if (auto c = decode_command(line); c.ok()) {
        const std::string again = encode_command(*c);
        auto back = decode_command(again);
        if (!back.ok() || encode_command(*back) != again) std::abort();
    }
    if (auto d = decode_daemon_line(line); d.ok()) {
        if (const auto* e = std::get_if<DaemonEvent>(&*d)) {
            const std::string again = encode_event(*e);
            auto back = decode_daemon_line(again);
            if (!back.ok() || !std::holds_alternative<DaemonEvent>(*back) ||
                encode_event(std::get<DaemonEvent>(*back)) != again)
                std::abort();
        }
    }
    return 0;
}
