// The Processes and Sockets views' model over socket-table snapshots: the processes in the order
// and with the filter the person chose, and the opened process's socket lines across refreshes
// (new ones marked, closed ones fading). No curses here.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/attribution/socket_table.h"

namespace tsnitch {

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
// Case-insensitive: the filter occurs in the pid, user, uid, comm, exe or command line.
bool process_matches(const ProcessSummary& p, std::string_view filter);

// Bytes per second of each process between the last two refreshes (as nethogs shows them): the
// growth of its totals over the time between the two tables. A total that shrank (a socket closed
// and took its bytes with it, a reused pid) counts as no traffic rather than as a negative rate.
class TrafficRates {
  public:
    using Time = std::chrono::system_clock::time_point;
    struct Rate {
        double sent = 0;
        double received = 0;
    };
    // The processes of the refresh taken at `taken`.
    void update(const std::vector<ProcessSummary>& procs, Time taken);
    // nullopt until two refreshes have seen the process.
    std::optional<Rate> of(int pid) const;

  private:
    struct Totals {
        uint64_t sent = 0;
        uint64_t received = 0;
    };
    std::optional<Time> last_taken_;
    std::unordered_map<int, Totals> last_;
    std::unordered_map<int, Rate> rates_;
};

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

}  // namespace tsnitch
