// libFuzzer target for the /proc text parsers (a process chooses its own comm and argv). The first
// byte picks the parser; the rest is the file's text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/attribution/proc_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 5) {
        case 0:
            if (auto st = tsnitch::parse_proc_stat(text); st && st->comm.size() > text.size())
                std::abort();
            break;
        case 1:
            (void)tsnitch::parse_status_uid(text);
            break;
        case 2: {
            size_t total = 0;
            for (const auto& a : tsnitch::split_cmdline(text))
                total += a.size();
            if (total > text.size()) std::abort();
            break;
        }
        case 3:
            for (auto f : {tsnitch::Family::v4, tsnitch::Family::v6}) {
                auto s = tsnitch::parse_proc_net_line(text, tsnitch::Protocol::tcp, f);
                if (s && (s->src.family() != f || s->dst.family() != f)) std::abort();
            }
            break;
        default:
            (void)tsnitch::parse_socket_link(text);
    }
    return 0;
}
