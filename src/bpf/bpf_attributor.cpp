#include "bpf/bpf_attributor.h"

#include <limits.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "bpf/flow_key.h"
#include "bpf/process_reader.h"

namespace tsnitch::bpf {

namespace {

// exec records the path as it was passed to execve (/bin/sh, /usr/bin/python3); /proc/PID/exe
// shows it with the symlinks resolved, and rules are written against that form.
std::string canonical_exe_path(const std::string& path) {
    if (path.empty() || path[0] != '/') return path;
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) return path;
    return resolved;
}

}  // namespace

BpfAttributor::BpfAttributor(const BpfMonitor& monitor, std::string proc_root)
    : monitor_(monitor), proc_root_(std::move(proc_root)), clock_ticks_(sysconf(_SC_CLK_TCK)) {
    if (clock_ticks_ <= 0) clock_ticks_ = 100;
}

std::optional<SocketOwner> BpfAttributor::find_owner(const Connection& c) const {
    const tsn_flow_key key =
        make_flow_key(monitor_.netns_cookie(), c.protocol, c.src, c.src_port, c.dst, c.dst_port);
    if (auto o = monitor_.owner_of_flow(key)) return o;
    if (auto o = monitor_.owner_of_flow(without_source_address(key))) return o;
    if (cookie_finder_) {
        if (auto cookie = cookie_finder_(c)) return monitor_.owner_of_socket(*cookie);
    }
    return std::nullopt;
}

ProcessInfo BpfAttributor::describe(const SocketOwner& owner) const {
    const int pid = static_cast<int>(owner.tgid);
    auto live = read_live_process(proc_root_, pid);
    // A process that started after the socket was used is another one that got the same pid.
    if (live) {
        const uint64_t start_ns =
            live->start_time * (1000000000ull / static_cast<uint64_t>(clock_ticks_));
        if (start_ns > owner.time_ns) live.reset();
    }
    ProcessInfo p;
    if (live) {
        p = std::move(*live);
    } else {
        p.pid = pid;
        if (auto e = monitor_.exec_of(owner.tgid)) {
            p.path = canonical_exe_path(e->path);
            p.ppid = static_cast<int>(e->ppid);
        }
    }
    p.uid = owner.uid;
    // The thread that used the socket may have named itself; the process's comm is the one
    // rules and people know, and the map's is all there is when the process is gone.
    if (p.comm.empty()) p.comm = owner.comm;
    return p;
}

Attribution BpfAttributor::attribute(const Connection& c) {
    const auto start = std::chrono::steady_clock::now();
    Attribution a;
    if (auto owner = find_owner(c)) {
        a.process = describe(*owner);
        a.method = Method::ebpf;
    }
    a.micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count());
    return a;
}

}  // namespace tsnitch::bpf
