// The live socket table behind `tsnitch monitor` and the TUI's Processes/Sockets views: each
// refresh is one SocketsDump plus InodeIndex::sync() (not a walk of every /proc/*/fd), grouped by
// process; the process a person opened is read in full with sockets_of_process(), so that its
// lines are exactly those of `tsnitch sockets -p PID`. No curses here: views read snapshots.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/attribution/diag_client.h"
#include "core/attribution/inode_index.h"
#include "core/attribution/proc_io.h"
#include "core/attribution/process_reader.h"
#include "core/attribution/socket_view.h"
#include "core/result.h"

namespace tsnitch {

// One line of the Processes view.
struct ProcessSummary {
    int pid = 0;
    uint32_t uid = 0;
    std::string user;  // empty when unknown (then the uid is shown)
    std::string comm;
    std::string exe;  // empty when unreadable
    size_t tcp_established = 0;
    size_t tcp_listen = 0;
    size_t tcp_other = 0;  // syn_sent, close_wait, ...
    size_t udp = 0;        // udp and udplite
    size_t unix_sockets = 0;
    // TCP payload of the sockets open now, over their life (tcp_info): sent and acknowledged by
    // the peer, and received. Closed sockets take their bytes with them.
    uint64_t bytes_sent = 0;
    uint64_t bytes_received = 0;

    size_t total() const { return tcp_established + tcp_listen + tcp_other + udp + unix_sockets; }
};

// The sockets of `snap` grouped by the process that holds them (`owners`: inode -> pid), by pid.
// Sockets no process holds are left out; a socket shared by several processes counts once, for
// the owner the index knows.
std::vector<ProcessSummary> summarize_processes(
    const SocketsSnapshot& snap, const std::unordered_map<uint64_t, InodeIndex::Owner>& owners);

enum class ProcessOrder {
    sockets,
    pid,
    user,
    name,
    established,
    listening,
    udp,
    unix_sockets,
    traffic
};
inline constexpr int kProcessOrders = 9;
std::string_view process_order_name(ProcessOrder o);
// Sorted by `order` (counts: most first; pid, user, name: ascending), then by pid; `reverse`
// turns it around.
void sort_processes(std::vector<ProcessSummary>& procs, ProcessOrder order, bool reverse);
// Case-insensitive: the filter occurs in the pid, user, uid, comm or exe.
bool process_matches(const ProcessSummary& p, std::string_view filter);

// An fd of the opened process that is not a socket (`1 -> /dev/pts/0`).
struct FdLink {
    int fd = 0;
    std::string target;
};
// Every fd of `pid` with its link target, in fd order.
Result<std::vector<FdLink>> list_fd_links(const std::string& proc_root, int pid);

// The socket lines of the opened process across refreshes: new ones are marked for the refresh
// they appear in; closed ones stay, marked closed, for `fade` refreshes and then go.
class SocketList {
  public:
    enum class Change { steady, added, closed };
    struct Entry {
        SocketRow row;
        Change change = Change::steady;
        int age = 0;  // refreshes since it closed
    };
    explicit SocketList(int fade = 1) : fade_(fade) {}
    // The rows of the new refresh (fd order). The first update marks nothing as added.
    void update(std::vector<SocketRow> rows);
    void clear();
    const std::vector<Entry>& entries() const { return entries_; }

  private:
    int fade_;
    bool first_ = true;
    std::vector<Entry> entries_;
};

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
    static Result<SocketTable> open(std::string proc_root = "/proc");
    Result<SocketTableSnapshot> refresh(std::optional<int> focus, bool all_fds);

  private:
    SocketTable(DiagClient client, std::string proc_root);
    const ProcessSummary& identity(int pid);

    DiagClient client_;
    std::string root_;
    bool ipv6_;
    InodeIndex index_;
    ProcessReader reader_;
    std::unordered_map<int, ProcessSummary> identities_;  // pid -> user/comm/exe (no counts)
};

// Runs SocketTable::refresh() on its own thread every `interval` (and at once when the opened
// process changes), so that the UI never waits for /proc or netlink. wake_fd() is readable while
// a snapshot is waiting for take().
class SocketMonitor {
  public:
    SocketMonitor(SocketTable table, std::chrono::milliseconds interval);
    ~SocketMonitor();
    SocketMonitor(const SocketMonitor&) = delete;
    SocketMonitor& operator=(const SocketMonitor&) = delete;

    int wake_fd() const { return wake_.get(); }
    // The newest snapshot since the last call (nullptr when none), and the refresh's error if it
    // failed (empty when not).
    std::shared_ptr<const SocketTableSnapshot> take(std::string* error = nullptr);
    // The process whose sockets each snapshot carries in full; refreshes now.
    void set_focus(std::optional<int> pid, bool all_fds);
    // While paused (the view is not on screen) no refresh runs.
    void set_paused(bool paused);
    std::chrono::milliseconds interval() const { return interval_; }

  private:
    void loop();

    SocketTable table_;
    std::chrono::milliseconds interval_;
    UniqueFd wake_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool now_ = true;
    bool paused_ = false;
    std::optional<int> focus_;
    bool all_fds_ = false;
    std::shared_ptr<const SocketTableSnapshot> latest_;
    std::string error_;
    std::thread thread_;
};

// Closes a TCP or UDP socket from outside (SOCK_DESTROY): needs CAP_NET_ADMIN and a kernel with
// CONFIG_INET_DIAG_DESTROY; the error says which is missing.
Status destroy_socket(const InetSocket& s);

}  // namespace tsnitch
