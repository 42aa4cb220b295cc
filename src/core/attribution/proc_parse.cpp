#include "core/attribution/proc_parse.h"

#include <charconv>
#include <cstring>

namespace tsnitch {

namespace {

template <class T>
bool to_number(std::string_view s, T& out, int base = 10) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc() && p == s.data() + s.size();
}

// The next whitespace-separated field of `s`, consumed.
std::string_view next_field(std::string_view& s) {
    size_t b = s.find_first_not_of(" \t\n");
    if (b == std::string_view::npos) {
        s = {};
        return {};
    }
    size_t e = s.find_first_of(" \t\n", b);
    std::string_view f = s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    s = e == std::string_view::npos ? std::string_view{} : s.substr(e);
    return f;
}

// "0100007F:1F90": the kernel prints each 32-bit word of the address as a native-endian number.
std::optional<std::pair<IpAddress, uint16_t>> parse_endpoint(std::string_view text, Family f) {
    const size_t colon = text.find(':');
    const size_t hex_len = f == Family::v4 ? 8 : 32;
    if (colon != hex_len) return std::nullopt;
    uint8_t bytes[16] = {};
    for (size_t w = 0; w < hex_len / 8; ++w) {
        uint32_t word = 0;
        if (!to_number(text.substr(w * 8, 8), word, 16)) return std::nullopt;
        std::memcpy(bytes + w * 4, &word, 4);
    }
    uint16_t port = 0;
    if (!to_number(text.substr(colon + 1), port, 16)) return std::nullopt;
    IpAddress a = f == Family::v4 ? IpAddress::v4_bytes(std::span<const uint8_t, 4>(bytes, 4))
                                  : IpAddress::v6_bytes(std::span<const uint8_t, 16>(bytes, 16));
    return std::make_pair(a, port);
}

}  // namespace

std::optional<uint64_t> parse_socket_link(std::string_view link) {
    constexpr std::string_view prefix = "socket:[";
    if (link.size() < prefix.size() + 2 || link.substr(0, prefix.size()) != prefix ||
        link.back() != ']')
        return std::nullopt;
    uint64_t inode = 0;
    if (!to_number(link.substr(prefix.size(), link.size() - prefix.size() - 1), inode))
        return std::nullopt;
    return inode;
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
    ProcStat st;
    const size_t open = text.find(" (");
    const size_t close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2)
        return std::nullopt;
    if (!to_number(text.substr(0, open), st.pid)) return std::nullopt;
    st.comm = std::string(text.substr(open + 2, close - open - 2));
    std::string_view rest = text.substr(close + 1);
    // Fields after comm, counting from 3 (state) as in proc(5).
    std::string_view f[20];
    for (auto& field : f) {
        field = next_field(rest);
        if (field.empty()) return std::nullopt;
    }
    if (f[0].size() != 1) return std::nullopt;
    st.state = f[0][0];
    if (!to_number(f[1], st.ppid)) return std::nullopt;         // field 4
    if (!to_number(f[6], st.flags)) return std::nullopt;        // field 9
    if (!to_number(f[19], st.start_time)) return std::nullopt;  // field 22
    return st;
}

std::optional<uint32_t> parse_status_uid(std::string_view text) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        std::string_view line =
            text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        if (line.substr(0, 4) == "Uid:") {
            std::string_view rest = line.substr(4);
            next_field(rest);  // real
            uint32_t euid = 0;
            if (!to_number(next_field(rest), euid)) return std::nullopt;
            return euid;
        }
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return std::nullopt;
}

std::vector<std::string> split_cmdline(std::string_view text) {
    std::vector<std::string> args;
    while (!text.empty()) {
        size_t nul = text.find('\0');
        args.emplace_back(text.substr(0, nul));
        if (nul == std::string_view::npos) break;
        text.remove_prefix(nul + 1);
    }
    return args;
}

std::optional<InetSocket> parse_proc_net_line(std::string_view line, Protocol protocol,
                                              Family family) {
    // sl local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
    std::string_view f[10];
    for (auto& field : f) {
        field = next_field(line);
        if (field.empty()) return std::nullopt;
    }
    if (f[0].empty() || f[0].back() != ':') return std::nullopt;  // the header line
    auto local = parse_endpoint(f[1], family);
    auto remote = parse_endpoint(f[2], family);
    if (!local || !remote) return std::nullopt;
    InetSocket s;
    s.protocol = protocol;
    s.family = family;
    std::tie(s.src, s.src_port) = *local;
    std::tie(s.dst, s.dst_port) = *remote;
    if (!to_number(f[3], s.state, 16)) return std::nullopt;
    const size_t colon = f[4].find(':');
    if (colon == std::string_view::npos || !to_number(f[4].substr(0, colon), s.wqueue, 16) ||
        !to_number(f[4].substr(colon + 1), s.rqueue, 16))
        return std::nullopt;
    if (!to_number(f[7], s.uid) || !to_number(f[9], s.inode)) return std::nullopt;
    return s;
}

}  // namespace tsnitch
