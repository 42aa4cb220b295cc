#include "tui/process_list.h"

#include <algorithm>
#include <map>

#include "core/text.h"

namespace tsnitch {

std::string_view process_order_name(ProcessOrder o) {
    switch (o) {
        case ProcessOrder::sockets:
            return "sockets";
        case ProcessOrder::pid:
            return "pid";
        case ProcessOrder::user:
            return "user";
        case ProcessOrder::name:
            return "name";
        case ProcessOrder::established:
            return "established";
        case ProcessOrder::listening:
            return "listening";
        case ProcessOrder::udp:
            return "udp";
        case ProcessOrder::unix_sockets:
            return "unix";
        case ProcessOrder::traffic:
            return "traffic";
    }
    return "?";
}

void sort_processes(std::vector<ProcessSummary>& procs, ProcessOrder order, bool reverse) {
    auto user = [](const ProcessSummary& p) {
        return p.user.empty() ? std::to_string(p.uid) : p.user;
    };
    auto less = [&](const ProcessSummary& a, const ProcessSummary& b) {
        switch (order) {
            case ProcessOrder::sockets:
                if (a.total() != b.total()) return a.total() > b.total();
                break;
            case ProcessOrder::pid:
                break;
            case ProcessOrder::user:
                if (user(a) != user(b)) return user(a) < user(b);
                break;
            case ProcessOrder::name:
                if (a.comm != b.comm) return a.comm < b.comm;
                break;
            case ProcessOrder::established:
                if (a.tcp_established != b.tcp_established)
                    return a.tcp_established > b.tcp_established;
                break;
            case ProcessOrder::listening:
                if (a.tcp_listen != b.tcp_listen) return a.tcp_listen > b.tcp_listen;
                break;
            case ProcessOrder::udp:
                if (a.udp != b.udp) return a.udp > b.udp;
                break;
            case ProcessOrder::unix_sockets:
                if (a.unix_sockets != b.unix_sockets) return a.unix_sockets > b.unix_sockets;
                break;
            case ProcessOrder::traffic: {
                const uint64_t ta = a.bytes_sent + a.bytes_received;
                const uint64_t tb = b.bytes_sent + b.bytes_received;
                if (ta != tb) return ta > tb;
                break;
            }
        }
        return a.pid < b.pid;
    };
    std::sort(procs.begin(), procs.end(), less);
    if (reverse) std::reverse(procs.begin(), procs.end());
}

bool process_matches(const ProcessSummary& p, std::string_view filter) {
    if (filter.empty()) return true;
    const std::string f = ascii_lower(filter);
    for (const std::string& field :
         {std::to_string(p.pid), p.user, std::to_string(p.uid), p.comm, p.exe, p.cmdline}) {
        if (ascii_lower(field).find(f) != std::string::npos) return true;
    }
    return false;
}

void TrafficRates::update(const std::vector<ProcessSummary>& procs, Time taken) {
    std::unordered_map<int, Totals> now;
    rates_.clear();
    const double seconds =
        last_taken_ ? std::chrono::duration<double>(taken - *last_taken_).count() : 0;
    for (const ProcessSummary& p : procs) {
        now[p.pid] = Totals{p.bytes_sent, p.bytes_received};
        auto before = last_.find(p.pid);
        if (seconds <= 0 || before == last_.end()) continue;
        auto growth = [&](uint64_t was, uint64_t is) {
            return is > was ? static_cast<double>(is - was) / seconds : 0.0;
        };
        rates_[p.pid] = Rate{growth(before->second.sent, p.bytes_sent),
                             growth(before->second.received, p.bytes_received)};
    }
    last_ = std::move(now);
    last_taken_ = taken;
}

std::optional<TrafficRates::Rate> TrafficRates::of(int pid) const {
    auto it = rates_.find(pid);
    if (it == rates_.end()) return std::nullopt;
    return it->second;
}

void SocketList::update(std::vector<SocketRow> rows) {
    auto key = [](const SocketRow& r) { return std::make_pair(r.fd, r.inode); };
    std::map<std::pair<int, uint64_t>, Entry> next;
    for (Entry& e : entries_) {
        if (e.change == Change::closed) {
            if (++e.age <= fade_) next.emplace(key(e.row), std::move(e));
            continue;
        }
        e.change = Change::closed;
        e.age = 1;
        if (fade_ > 0) next.emplace(key(e.row), std::move(e));
    }
    for (SocketRow& r : rows) {
        // Still open: the new row carries the current state and addresses.
        auto it = next.find(key(r));
        if (it != next.end()) {
            it->second = Entry{std::move(r), Change::steady, 0};
            continue;
        }
        const auto k = key(r);
        next.emplace(k, Entry{std::move(r), first_ ? Change::steady : Change::added, 0});
    }
    entries_.clear();
    for (auto& [k, e] : next)
        entries_.push_back(std::move(e));
    first_ = false;
}

void SocketList::clear() {
    entries_.clear();
    first_ = true;
}

}  // namespace tsnitch
