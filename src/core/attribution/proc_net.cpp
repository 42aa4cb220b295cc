#include "core/attribution/proc_net.h"

#include <cerrno>

#include "core/attribution/proc_io.h"
#include "core/attribution/proc_parse.h"

namespace tsnitch {

Result<std::vector<InetSocket>> read_proc_net(const std::string& proc_root, Protocol protocol,
                                              Family family) {
    std::string name(protocol_name(protocol));
    if (family == Family::v6) name += "6";
    auto text = read_text_file(proc_root + "/net/" + name, size_t{1} << 28);
    std::vector<InetSocket> sockets;
    if (!text) {
        if (text.error().code == ENOENT) return sockets;
        return text.error();
    }
    std::string_view rest = *text;
    while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        if (auto s = parse_proc_net_line(rest.substr(0, nl), protocol, family))
            sockets.push_back(std::move(*s));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
    }
    return sockets;
}

}  // namespace tsnitch
