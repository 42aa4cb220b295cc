// libFuzzer target for the sock_diag answer parsers. The first byte picks the parser (even: inet,
// odd: unix); the rest is one received datagram. Any input gives an Error or sockets whose fields
// are consistent, never a read outside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "core/attribution/diag_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    std::span<const uint8_t> datagram(data + 1, size - 1);
    if (data[0] % 2 == 0) {
        std::vector<tsnitch::InetSocket> out;
        auto r = tsnitch::parse_inet_diag_answer(datagram, 0, tsnitch::Protocol::tcp, out);
        if (!r.ok() && r.error().message.empty()) std::abort();
        for (const auto& s : out) {
            if (s.src.family() != s.family || s.dst.family() != s.family) std::abort();
            (void)tsnitch::socket_state_name(s.state);
            (void)s.src.to_string();
        }
    } else {
        std::vector<tsnitch::UnixSocket> out;
        auto r = tsnitch::parse_unix_diag_answer(datagram, 0, out);
        if (!r.ok() && r.error().message.empty()) std::abort();
        // A name can't be longer than the datagram it came in.
        for (const auto& s : out)
            if (s.path.size() > size) std::abort();
    }
    return 0;
}
