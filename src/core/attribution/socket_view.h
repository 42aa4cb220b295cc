// The per-process socket view (`tsnitch sockets`, the TUI's process socket table): each
// `socket:[INODE]` fd of a process resolved through a SocketsDump snapshot, and its socket line
// `FD -> socket[INODE] - SPORT:SRC -> HOST:DPORT, state: STATE` (DESIGN.md §3).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/address.h"
#include "core/attribution/diag_client.h"
#include "core/attribution/socket_entry.h"
#include "core/result.h"

namespace tsnitch {

// Sockets of a snapshot by inode.
class SocketDirectory {
  public:
    explicit SocketDirectory(SocketsSnapshot snapshot);
    const InetSocket* inet(uint64_t inode) const;
    const UnixSocket* unix_socket(uint64_t inode) const;

  private:
    SocketsSnapshot snap_;
    std::unordered_map<uint64_t, size_t> inet_, unix_;
};

// One socket fd. Neither inet nor unix_socket: a socket sock_diag does not list (netlink, packet,
// or one of another network namespace).
struct SocketRow {
    int fd = 0;
    uint64_t inode = 0;
    std::optional<InetSocket> inet;
    std::optional<UnixSocket> unix_socket;
};

struct ProcessSockets {
    int pid = 0;
    std::string comm;
    std::string exe;  // empty when unreadable (kernel thread, zombie, not ours)
    std::vector<SocketRow> sockets;
};

Result<ProcessSockets> sockets_of_process(const std::string& proc_root, int pid,
                                          const SocketDirectory& dir);

// A DNS name for an address, when tsnitch knows one (raw, as the answer had it).
using HostNameLookup = std::function<std::optional<std::string>(const IpAddress&)>;

// HOST is the name escaped for display (printable_text, ASCII only), else the address; an IPv6
// address is in brackets (`54321:[fd77::1] -> [fd77::2]:8081`), and a UDP socket without a peer
// reads `-> *:*, state: unconn`, as in ss.
std::string socket_line(const SocketRow& row, const HostNameLookup& names = {});
// The same fields as one JSON object (with "pid", "comm", "exe" of the process); "dst_host" holds
// the raw name (JSON-quoted) or null; "bytes_sent" and "bytes_received" TCP's counters (0 unless
// the snapshot asked for tcp_info), null for other protocols.
std::string socket_json(const ProcessSockets& p, const SocketRow& row,
                        const HostNameLookup& names = {});

}  // namespace tsnitch
