#include "core/attribution/inode_index.h"

#include <unistd.h>

#include <algorithm>
#include <unordered_set>

#include "core/attribution/proc_io.h"
#include "core/attribution/proc_parse.h"

namespace tsnitch {

namespace {
constexpr auto kMissMemory = std::chrono::seconds(1);
constexpr size_t kMaxMisses = 4096;
}  // namespace

InodeIndex::InodeIndex(std::string proc_root) : root_(std::move(proc_root)) {}

bool InodeIndex::verify(uint64_t inode, const Owner& o) const {
    char buf[64];
    const std::string path = root_ + "/" + std::to_string(o.pid) + "/fd/" + std::to_string(o.fd);
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n <= 0) return false;
    auto found = parse_socket_link(std::string_view(buf, static_cast<size_t>(n)));
    return found && *found == inode;
}

void InodeIndex::forget(int pid, Proc& p) {
    for (uint64_t inode : p.inodes) {
        auto it = owners_.find(inode);
        if (it != owners_.end() && it->second.pid == pid) owners_.erase(it);
    }
    p.inodes.clear();
    p.max_inode = 0;
}

void InodeIndex::sync_pids() {
    auto pids = list_pids(root_);
    if (!pids) return;
    std::unordered_set<int> alive(pids->begin(), pids->end());
    for (auto it = procs_.begin(); it != procs_.end();) {
        if (alive.count(it->first)) {
            ++it;
            continue;
        }
        forget(it->first, it->second);
        it = procs_.erase(it);
    }
    for (int pid : *pids) {
        auto [it, added] = procs_.try_emplace(pid);
        if (!added) continue;
        auto status = read_text_file(root_ + "/" + std::to_string(pid) + "/status", 8192);
        if (status) it->second.uid = parse_status_uid(*status);
    }
}

void InodeIndex::scan(int pid, Proc& p) {
    ++fd_scans_;
    forget(pid, p);
    p.scanned = true;
    auto fds = list_socket_fds(root_, pid);
    if (!fds) return;  // gone, a zombie, or not ours to read: the others may still hold it
    for (const SocketFd& s : *fds) {
        owners_[s.inode] = Owner{pid, s.fd};
        p.inodes.push_back(s.inode);
        p.max_inode = std::max(p.max_inode, s.inode);
    }
}

std::optional<InodeIndex::Owner> InodeIndex::find_known(uint64_t inode) {
    if (inode == 0) return std::nullopt;
    ++tick_;
    auto it = owners_.find(inode);
    if (it == owners_.end()) return std::nullopt;
    if (!verify(inode, it->second)) {
        owners_.erase(it);
        return std::nullopt;
    }
    if (auto p = procs_.find(it->second.pid); p != procs_.end()) p->second.last_hit = tick_;
    return it->second;
}

std::optional<InodeIndex::Owner> InodeIndex::find(uint64_t inode, std::optional<uint32_t> uid) {
    if (inode == 0) return std::nullopt;
    if (auto known = find_known(inode)) return known;
    const auto now = std::chrono::steady_clock::now();
    if (auto it = misses_.find(inode); it != misses_.end()) {
        if (now - it->second < kMissMemory) return std::nullopt;
        misses_.erase(it);
    }

    sync_pids();
    struct Candidate {
        int pid;
        Proc* proc;
    };
    std::vector<Candidate> order;
    order.reserve(procs_.size());
    for (auto& [pid, p] : procs_)
        order.push_back({pid, &p});
    auto rank = [&](const Candidate& c) {
        const bool same_uid = uid && c.proc->uid && *c.proc->uid == *uid;
        // The socket's user first; among them processes not read yet (new ones), then those that
        // made a socket last (the highest inode), then those that held the last sockets found.
        return std::make_tuple(same_uid, !c.proc->scanned, c.proc->max_inode, c.proc->last_hit,
                               c.pid);
    };
    std::sort(order.begin(), order.end(),
              [&](const Candidate& a, const Candidate& b) { return rank(a) > rank(b); });
    for (const Candidate& c : order) {
        scan(c.pid, *c.proc);
        if (auto it = owners_.find(inode); it != owners_.end()) {
            c.proc->last_hit = tick_;
            return it->second;
        }
    }
    if (misses_.size() >= kMaxMisses) misses_.clear();
    misses_[inode] = now;
    return std::nullopt;
}

const std::unordered_map<uint64_t, InodeIndex::Owner>& InodeIndex::sync(
    const std::vector<uint64_t>& live) {
    const std::unordered_set<uint64_t> alive(live.begin(), live.end());
    std::erase_if(owners_, [&](const auto& kv) { return !alive.count(kv.first); });
    std::erase_if(unowned_, [&](uint64_t inode) { return !alive.count(inode); });
    sync_pids();
    for (auto& [pid, p] : procs_)
        if (!p.scanned) scan(pid, p);
    std::unordered_set<uint64_t> missing;
    for (uint64_t inode : live)
        if (inode != 0 && !owners_.count(inode) && !unowned_.count(inode)) missing.insert(inode);
    if (missing.empty()) return owners_;
    ++tick_;
    std::vector<std::pair<int, Proc*>> order;
    order.reserve(procs_.size());
    for (auto& [pid, p] : procs_)
        order.emplace_back(pid, &p);
    // Those that made a socket last first, as in find().
    auto rank = [](const std::pair<int, Proc*>& c) {
        return std::make_tuple(c.second->max_inode, c.second->last_hit, c.first);
    };
    std::sort(order.begin(), order.end(),
              [&](const auto& a, const auto& b) { return rank(a) > rank(b); });
    for (auto& [pid, p] : order) {
        scan(pid, *p);
        bool hit = false;
        for (uint64_t inode : p->inodes)
            hit = missing.erase(inode) > 0 || hit;
        if (hit) p->last_hit = tick_;
        if (missing.empty()) break;
    }
    unowned_.insert(missing.begin(), missing.end());
    return owners_;
}

void InodeIndex::refresh_all() {
    sync_pids();
    for (auto& [pid, p] : procs_)
        scan(pid, p);
}

}  // namespace tsnitch
