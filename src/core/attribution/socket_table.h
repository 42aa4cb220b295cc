// The live socket table behind `tsnitch monitor` and the TUI's Processes/Sockets views: each
// refresh is one SocketsDump plus the shared ProcessModel's owners_of() (not a walk of every
// /proc/*/fd), grouped by process; the process a person opened is read in full with
// sockets_of_process(), so that its lines are exactly those of `tsnitch sockets -p PID`. No curses
// here: views read snapshots (their order, filter and fading are src/tui/process_list.h; the
// refresh thread is socket_monitor.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/attribution/diag_client.h"
#include "core/attribution/inode_index.h"
#include "core/attribution/proc_io.h"
#include "core/attribution/process_model.h"
#include "core/attribution/socket_view.h"
#include "core/result.h"

namespace tsnitch {

// One line of the Processes view.
inline constexpr size_t kMaxCmdline = 1024;

struct ProcessSummary {
    int pid = 0;
    uint32_t uid = 0;
    std::string user;  // empty when unknown (then the uid is shown)
    std::string comm;
    std::string exe;  // empty when unreadable
    // The command line, arguments joined by spaces (cut at kMaxCmdline bytes): what tells three
    // `python3` apart. Read once per process (cached with its identity); empty for kernel threads.
    std::string cmdline;
    size_t tcp_established = 0;
    size_t tcp_listen = 0;
    size_t tcp_other = 0;  // syn_sent, close_wait, ...
    size_t udp = 0;        // udp and udplite
    size_t unix_sockets = 0;
    // TCP payload of the sockets open now, over their life (tcp_info, without SYN and FIN): sent
    // and received. Closed sockets take their bytes with them; UDP has no counts in sock_diag.
    uint64_t bytes_sent = 0;
    uint64_t bytes_received = 0;

    size_t total() const { return tcp_established + tcp_listen + tcp_other + udp + unix_sockets; }
};

// The arguments as one line (spaces between them), at most kMaxCmdline bytes.
std::string join_cmdline(const std::vector<std::string>& args);

// The sockets of `snap` grouped by the process that holds them (`owners`: inode -> pid), by pid.
// Sockets no process holds are left out; a socket shared by several processes counts once, for
// the owner the index knows.
std::vector<ProcessSummary> summarize_processes(
    const SocketsSnapshot& snap, const std::unordered_map<uint64_t, InodeIndex::Owner>& owners);

// An fd of the opened process that is not a socket (`1 -> /dev/pts/0`).
struct FdLink {
    int fd = 0;
    std::string target;
};
// Every fd of `pid` with its link target, in fd order.
Result<std::vector<FdLink>> list_fd_links(const std::string& proc_root, int pid);

// What one refresh saw.
struct SocketTableSnapshot {
    std::chrono::system_clock::time_point taken;
    std::vector<ProcessSummary> processes;  // by pid
    size_t sockets = 0;                     // in the dump (inet and unix)
    // The opened process (set_focus): its socket rows, or why they could not be read.
    std::optional<int> focus_pid;
    std::optional<ProcessSockets> focus;
    std::vector<FdLink> focus_fds;  // its other fds, when asked for
    std::string focus_error;
    std::chrono::microseconds cpu{0};  // CPU time of this refresh (thread time)
};

class SocketTable {
  public:
    // Fails when `processes` has no sock_diag. `processes` must outlive the table.
    static Result<SocketTable> open(ProcessModel& processes);
    Result<SocketTableSnapshot> refresh(std::optional<int> focus, bool all_fds);

  private:
    explicit SocketTable(ProcessModel& processes) : processes_(&processes) {}
    const ProcessSummary& identity(int pid);

    ProcessModel* processes_;
    std::unordered_map<int, ProcessSummary> identities_;  // pid -> user/comm/exe (no counts)
};

}  // namespace tsnitch
