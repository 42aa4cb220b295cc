// The Processes and Sockets views' model over socket-table snapshots: the processes in the order
// and with the filter the person chose, and the opened process's socket lines across refreshes
// (new ones marked, closed ones fading). No curses here.
#pragma once

#include <string_view>
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
// Case-insensitive: the filter occurs in the pid, user, uid, comm or exe.
bool process_matches(const ProcessSummary& p, std::string_view filter);

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
