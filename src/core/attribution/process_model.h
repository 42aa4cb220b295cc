// The one process model of a running firewall (DESIGN.md §2): which process holds a socket
// (InodeIndex), who that process is (ProcessReader's validated cache), and the sock_diag client
// that finds sockets — shared by the attribution ladder, the eBPF rung, the eBPF module's seeding,
// the kernel path's events and the socket table, so that each process is read once and every
// decision about it points at the same ProcessInfo instead of a copy.
//
// Thread-safe. Each part has its own lock, held only for that part's work: a decision that finds
// its socket never waits for a /proc read of the socket table's refresh. The table's full dumps go
// through a netlink socket of their own, so that a dump of every socket on the machine
// (milliseconds) never holds up the decision thread's one-socket lookups.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/attribution/diag_client.h"
#include "core/attribution/inode_index.h"
#include "core/attribution/process_reader.h"
#include "core/connection.h"
#include "core/result.h"

namespace tsnitch {

class ProcessModel {
  public:
    struct Options {
        std::string proc_root = "/proc";
        bool warm_index = true;  // read every process's fds now, so that the first packets hit
        bool diag = true;        // open sock_diag (false: the proc method, or a fixture tree)
    };
    explicit ProcessModel(Options options);
    ProcessModel() : ProcessModel(Options{}) {}
    ProcessModel(const ProcessModel&) = delete;
    ProcessModel& operator=(const ProcessModel&) = delete;

    const std::string& proc_root() const { return options_.proc_root; }
    bool ipv6() const { return ipv6_; }

    // sock_diag. Without it (not asked for, or it could not be opened: diag_error() says why)
    // every call fails with that reason.
    bool has_diag() const { return lookups_ != nullptr; }
    const std::string& diag_error() const { return diag_error_; }
    Result<std::optional<InetSocket>> find_socket(Protocol protocol, const IpAddress& src,
                                                  uint16_t src_port, const IpAddress& dst,
                                                  uint16_t dst_port);
    Result<std::vector<InetSocket>> sockets_on_port(Protocol protocol, Family family,
                                                    uint16_t src_port);
    // Every socket (IPv6 ones when ipv6()), for the socket table and seeding.
    Result<SocketsSnapshot> sockets_dump(bool tcp_info);
    Status destroy_socket(const InetSocket& s);

    // Socket inode -> process (InodeIndex::find, find_known, sync).
    std::optional<InodeIndex::Owner> owner_of(uint64_t inode, std::optional<uint32_t> uid);
    std::optional<InodeIndex::Owner> known_owner(uint64_t inode);
    std::unordered_map<uint64_t, InodeIndex::Owner> owners_of(const std::vector<uint64_t>& live);
    size_t fd_scans() const;

    // The process `pid` as it is now, shared: the same object until the process changes (another
    // program, another process on the pid). Fails when it does not exist.
    Result<ProcessRef> process(int pid);
    std::string user_name(uint32_t uid);

  private:
    Options options_;
    bool ipv6_;
    std::string diag_error_;
    std::mutex lookup_mu_;
    std::unique_ptr<DiagClient> lookups_;  // find_socket, sockets_on_port, destroy_socket
    std::mutex dump_mu_;
    std::unique_ptr<DiagClient> dumps_;  // sockets_dump
    mutable std::mutex index_mu_;
    InodeIndex index_;
    std::mutex reader_mu_;
    ProcessReader reader_;
};

}  // namespace tsnitch
