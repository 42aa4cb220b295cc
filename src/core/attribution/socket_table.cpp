#include "core/attribution/socket_table.h"

#include <dirent.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include "core/text.h"

namespace tsnitch {

namespace {
constexpr uint8_t kTcpEstablished = 1;
constexpr uint8_t kTcpListen = 10;

std::chrono::microseconds thread_cpu_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::duration_cast<std::chrono::microseconds>(
                                                 std::chrono::nanoseconds(ts.tv_nsec));
}
}  // namespace

std::string join_cmdline(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& a : args) {
        if (!out.empty()) out += ' ';
        out += a;
        if (out.size() >= kMaxCmdline) break;
    }
    if (out.size() > kMaxCmdline) out.resize(kMaxCmdline);
    return out;
}

std::vector<ProcessSummary> summarize_processes(
    const SocketsSnapshot& snap, const std::unordered_map<uint64_t, InodeIndex::Owner>& owners) {
    std::map<int, ProcessSummary> by_pid;
    auto owner_of = [&](uint64_t inode) -> ProcessSummary* {
        if (inode == 0) return nullptr;
        auto it = owners.find(inode);
        if (it == owners.end()) return nullptr;
        ProcessSummary& p = by_pid[it->second.pid];
        p.pid = it->second.pid;
        return &p;
    };
    for (const InetSocket& s : snap.inet) {
        ProcessSummary* p = owner_of(s.inode);
        if (!p) continue;
        p->bytes_sent += s.bytes_sent;
        p->bytes_received += s.bytes_received;
        if (s.protocol != Protocol::tcp)
            ++p->udp;
        else if (s.state == kTcpEstablished)
            ++p->tcp_established;
        else if (s.state == kTcpListen)
            ++p->tcp_listen;
        else
            ++p->tcp_other;
    }
    for (const UnixSocket& u : snap.unix_sockets)
        if (ProcessSummary* p = owner_of(u.inode)) ++p->unix_sockets;
    std::vector<ProcessSummary> out;
    out.reserve(by_pid.size());
    for (auto& [pid, p] : by_pid)
        out.push_back(std::move(p));
    return out;
}

Result<std::vector<FdLink>> list_fd_links(const std::string& proc_root, int pid) {
    const std::string dir = proc_root + "/" + std::to_string(pid) + "/fd";
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) {
        const int e = errno;
        return make_error("reading " + dir + ": " + std::strerror(e), e);
    }
    std::vector<FdLink> out;
    while (const dirent* e = ::readdir(d.get())) {
        const std::string_view name = e->d_name;
        int fd = 0;
        auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), fd);
        if (ec != std::errc() || end != name.data() + name.size()) continue;
        auto target = read_link(dir + "/" + std::string(name));
        if (!target) continue;  // closed meanwhile
        out.push_back({fd, std::move(*target)});
    }
    std::sort(out.begin(), out.end(), [](const FdLink& a, const FdLink& b) { return a.fd < b.fd; });
    return out;
}

Result<SocketTable> SocketTable::open(ProcessModel& processes) {
    if (!processes.has_diag()) return make_error(processes.diag_error());
    return SocketTable(processes);
}

const ProcessSummary& SocketTable::identity(int pid) {
    auto [it, added] = identities_.try_emplace(pid);
    if (added) {
        it->second.pid = pid;
        if (auto info = processes_->process(pid)) {
            const ProcessInfo& p = **info;
            it->second.uid = p.uid;
            it->second.user = p.user;
            it->second.comm = p.comm;
            it->second.exe = p.path;
            it->second.cmdline = join_cmdline(p.args);
        }
    }
    return it->second;
}

Result<SocketTableSnapshot> SocketTable::refresh(std::optional<int> focus, bool all_fds) {
    const auto cpu_start = thread_cpu_now();
    auto snap = processes_->sockets_dump(true);
    if (!snap) return snap.error();
    std::vector<uint64_t> live;
    live.reserve(snap->inet.size() + snap->unix_sockets.size());
    for (const InetSocket& s : snap->inet)
        if (s.inode != 0) live.push_back(s.inode);
    for (const UnixSocket& u : snap->unix_sockets)
        live.push_back(u.inode);

    SocketTableSnapshot out;
    out.taken = std::chrono::system_clock::now();
    out.sockets = live.size();
    out.processes = summarize_processes(*snap, processes_->owners_of(live));
    // Identities of processes that are gone are dropped, so that a reused pid is read again.
    std::unordered_map<int, ProcessSummary> keep;
    for (ProcessSummary& p : out.processes) {
        const ProcessSummary& id = identity(p.pid);
        p.uid = id.uid;
        p.user = id.user;
        p.comm = id.comm;
        p.exe = id.exe;
        p.cmdline = id.cmdline;
        keep.emplace(p.pid, id);
    }
    identities_ = std::move(keep);

    if (focus) {
        out.focus_pid = focus;
        const SocketDirectory dir(std::move(*snap));
        const std::string& root = processes_->proc_root();
        auto p = sockets_of_process(root, *focus, dir);
        if (p) {
            out.focus = std::move(*p);
            if (all_fds) {
                if (auto fds = list_fd_links(root, *focus)) out.focus_fds = std::move(*fds);
            }
        } else {
            out.focus_error = p.error().code == ENOENT
                                  ? "process " + std::to_string(*focus) + " has ended"
                                  : p.error().message;
        }
    }
    out.cpu = thread_cpu_now() - cpu_start;
    return out;
}

}  // namespace tsnitch
