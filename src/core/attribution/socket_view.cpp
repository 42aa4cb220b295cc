#include "core/attribution/socket_view.h"

#include "core/attribution/proc_io.h"
#include "core/attribution/proc_parse.h"
#include "core/json.h"
#include "core/text.h"

namespace tsnitch {

SocketDirectory::SocketDirectory(SocketsSnapshot snapshot) : snap_(std::move(snapshot)) {
    for (size_t i = 0; i < snap_.inet.size(); ++i)
        if (snap_.inet[i].inode != 0) inet_.emplace(snap_.inet[i].inode, i);
    for (size_t i = 0; i < snap_.unix_sockets.size(); ++i)
        unix_.emplace(snap_.unix_sockets[i].inode, i);
}

const InetSocket* SocketDirectory::inet(uint64_t inode) const {
    auto it = inet_.find(inode);
    return it == inet_.end() ? nullptr : &snap_.inet[it->second];
}

const UnixSocket* SocketDirectory::unix_socket(uint64_t inode) const {
    auto it = unix_.find(inode);
    return it == unix_.end() ? nullptr : &snap_.unix_sockets[it->second];
}

Result<ProcessSockets> sockets_of_process(const std::string& proc_root, int pid,
                                          const SocketDirectory& dir) {
    auto fds = list_socket_fds(proc_root, pid);
    if (!fds) return fds.error();
    ProcessSockets p;
    p.pid = pid;
    const std::string base = proc_root + "/" + std::to_string(pid);
    if (auto stat = read_text_file(base + "/stat", 4096))
        if (auto st = parse_proc_stat(*stat)) p.comm = st->comm;
    if (auto exe = read_link(base + "/exe")) p.exe = std::move(*exe);
    for (const SocketFd& f : *fds) {
        SocketRow row;
        row.fd = f.fd;
        row.inode = f.inode;
        if (const InetSocket* s = dir.inet(f.inode)) row.inet = *s;
        if (const UnixSocket* u = dir.unix_socket(f.inode)) row.unix_socket = *u;
        p.sockets.push_back(std::move(row));
    }
    return p;
}

namespace {
// Names come from DNS answers, which anyone can send: the line shows them escaped, and in ASCII
// (DNS names are ASCII on the wire; a look-alike letter shows as \uXXXX).
std::string host_text(const IpAddress& a, const HostNameLookup& names) {
    if (names) {
        if (auto n = names(a)) return printable_text(*n, /*utf8=*/false);
    }
    return address_before_port(a);
}

// A bound UDP socket with no peer: ss's UNCONN and `*:*`, not the kernel's CLOSE and 0.0.0.0:0.
bool is_unconnected_datagram(const InetSocket& i) {
    return (i.protocol == Protocol::udp || i.protocol == Protocol::udplite) && !i.has_peer();
}

std::string state_text(const InetSocket& i) {
    return is_unconnected_datagram(i) ? "unconn" : std::string(socket_state_name(i.state));
}

std::string_view row_type(const SocketRow& row) {
    if (row.inet) return protocol_name(row.inet->protocol);
    if (row.unix_socket) return "unix";
    return "other";
}
}  // namespace

std::string socket_line(const SocketRow& row, const HostNameLookup& names) {
    std::string s = std::to_string(row.fd) + " -> socket[" + std::to_string(row.inode) + "] - ";
    if (row.inet) {
        const InetSocket& i = *row.inet;
        s += std::to_string(i.src_port) + ":" + address_before_port(i.src) + " -> ";
        s += is_unconnected_datagram(i)
                 ? std::string("*:*")
                 : host_text(i.dst, names) + ":" + std::to_string(i.dst_port);
        s += ", state: " + state_text(i);
    } else if (row.unix_socket) {
        s += "unix " + (row.unix_socket->path.empty() ? std::string("-") : row.unix_socket->path);
    } else {
        s += "other";
    }
    return s;
}

std::string socket_json(const ProcessSockets& p, const SocketRow& row,
                        const HostNameLookup& names) {
    std::string j = "{\"pid\":" + std::to_string(p.pid);
    j += ",\"comm\":" + json_quote(p.comm);
    j += ",\"exe\":" + json_quote(p.exe);
    j += ",\"fd\":" + std::to_string(row.fd);
    j += ",\"inode\":" + std::to_string(row.inode);
    j += ",\"type\":" + json_quote(row_type(row));
    if (row.inet) {
        const InetSocket& i = *row.inet;
        j += ",\"family\":" + json_quote(i.family == Family::v6 ? "ipv6" : "ipv4");
        j += ",\"src\":" + json_quote(i.src.to_string());
        j += ",\"src_port\":" + std::to_string(i.src_port);
        j += ",\"dst\":" + json_quote(i.dst.to_string());
        j += ",\"dst_port\":" + std::to_string(i.dst_port);
        auto name = names ? names(i.dst) : std::nullopt;
        j += ",\"dst_host\":" + (name ? json_quote(*name) : std::string("null"));
        j += ",\"state\":" + json_quote(state_text(i));
        j += ",\"uid\":" + std::to_string(i.uid);
        j += ",\"cookie\":" + std::to_string(i.cookie);
        j += ",\"rqueue\":" + std::to_string(i.rqueue);
        j += ",\"wqueue\":" + std::to_string(i.wqueue);
        // TCP payload counters from tcp_info (bytes_sent: payload sent, no SYN or FIN);
        // sock_diag gives none for UDP: null.
        const bool counted = i.protocol == Protocol::tcp;
        j += ",\"bytes_sent\":" + (counted ? std::to_string(i.bytes_sent) : std::string("null"));
        j += ",\"bytes_received\":" +
             (counted ? std::to_string(i.bytes_received) : std::string("null"));
    } else if (row.unix_socket) {
        j += ",\"path\":" + json_quote(row.unix_socket->path);
        j += ",\"peer_inode\":" + std::to_string(row.unix_socket->peer_inode);
    }
    j += ",\"line\":" + json_quote(socket_line(row, names));
    j += "}";
    return j;
}

}  // namespace tsnitch
