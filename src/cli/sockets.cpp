// `tsnitch sockets [-p PID] [--json]`: the socket table of one process, or of every process, in
// the socket line format of DESIGN.md §3. Without -p each process with sockets gets a header line
// `PID COMM (EXE)` ("(-)" when the exe can't be read) above its socket lines, and a blank line
// after them. Sockets sock_diag does not list (netlink, packet, other network namespaces) print as
// `FD -> socket[INODE] - other`. A process in another network namespace has its sockets looked up
// in that namespace (root). --json prints one array of objects, one per socket.
#include <getopt.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "core/attribution/diag_client.h"
#include "core/attribution/proc_io.h"
#include "core/attribution/socket_view.h"

namespace tsnitch::cli {

namespace {

constexpr const char* kProcRoot = "/proc";

// A process name or socket path may hold control bytes: never send them to the terminal raw.
std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            char esc[5];
            std::snprintf(esc, sizeof esc, "\\x%02x", c);
            out += esc;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// The socket snapshot of each network namespace that the listed processes live in, made when a
// process of that namespace first needs it.
class DirectoryByNetns {
  public:
    DirectoryByNetns(SocketsSnapshot own, bool ipv6)
        : ipv6_(ipv6), own_(std::move(own)), none_(SocketsSnapshot{}) {
        if (auto id = read_link(std::string(kProcRoot) + "/self/ns/net")) own_id_ = *id;
    }

    const SocketDirectory& for_pid(int pid) {
        const std::string path = std::string(kProcRoot) + "/" + std::to_string(pid) + "/ns/net";
        auto id = read_link(path);
        if (!id || own_id_.empty() || *id == own_id_) return own_;
        if (auto it = others_.find(*id); it != others_.end()) return it->second;
        auto client = DiagClient::open_in(path);
        if (!client) return none_;  // not root: its sockets print as "other"
        auto snap = client->sockets_dump(ipv6_);
        if (!snap) return none_;
        return others_.emplace(*id, SocketDirectory(std::move(*snap))).first->second;
    }

  private:
    bool ipv6_;
    std::string own_id_;
    SocketDirectory own_;
    SocketDirectory none_;
    std::map<std::string, SocketDirectory> others_;
};

void print_usage(FILE* f) {
    std::fputs("Usage: tsnitch sockets [-p PID] [--json]\n", f);
}

}  // namespace

int sockets(int argc, char** argv) {
    static const option long_options[] = {{"pid", required_argument, nullptr, 'p'},
                                          {"json", no_argument, nullptr, 'j'},
                                          {"help", no_argument, nullptr, 'h'},
                                          {nullptr, 0, nullptr, 0}};
    std::optional<int> pid;
    bool json = false;
    optind = 1;
    opterr = 0;
    for (;;) {
        const int opt = getopt_long(argc, argv, ":p:jh", long_options, nullptr);
        if (opt == -1) break;
        switch (opt) {
            case 'p': {
                const std::string_view text = optarg;
                int n = 0;
                auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
                if (ec != std::errc() || end != text.data() + text.size() || n <= 0) {
                    print_error("sockets: -p: '%s' is not a process id", optarg);
                    return kExitUsage;
                }
                pid = n;
                break;
            }
            case 'j':
                json = true;
                break;
            case 'h':
                print_usage(stdout);
                return kExitOk;
            case ':':
                print_error("sockets: %s needs a process id", argv[optind - 1]);
                return kExitUsage;
            default:
                print_error("sockets: unknown option '%s'", argv[optind - 1]);
                print_usage(stderr);
                return kExitUsage;
        }
    }
    if (optind < argc) {
        print_error("sockets: unexpected argument '%s'", argv[optind]);
        return kExitUsage;
    }

    auto client = DiagClient::open();
    if (!client) {
        print_error("sockets: %s", client.error().message.c_str());
        return kExitFailure;
    }
    const bool ipv6 = ipv6_enabled(kProcRoot);
    auto snapshot = client->sockets_dump(ipv6);
    if (!snapshot) {
        print_error("sockets: %s", snapshot.error().message.c_str());
        return kExitFailure;
    }
    DirectoryByNetns dirs(std::move(*snapshot), ipv6);

    std::vector<ProcessSockets> procs;
    if (pid) {
        auto p = sockets_of_process(kProcRoot, *pid, dirs.for_pid(*pid));
        if (!p) {
            if (p.error().code == ENOENT)
                print_error("sockets: no process with pid %d", *pid);
            else
                print_error("sockets: %s", p.error().message.c_str());
            return kExitFailure;
        }
        procs.push_back(std::move(*p));
    } else {
        auto pids = list_pids(kProcRoot);
        if (!pids) {
            print_error("sockets: %s", pids.error().message.c_str());
            return kExitFailure;
        }
        std::sort(pids->begin(), pids->end());
        for (int n : *pids) {
            // Processes that end meanwhile or whose fds we may not read are left out.
            auto p = sockets_of_process(kProcRoot, n, dirs.for_pid(n));
            if (p && !p->sockets.empty()) procs.push_back(std::move(*p));
        }
    }

    std::string out;
    if (json) {
        out += "[";
        bool first = true;
        for (const ProcessSockets& p : procs) {
            for (const SocketRow& row : p.sockets) {
                out += first ? "\n" : ",\n";
                out += socket_json(p, row);
                first = false;
            }
        }
        out += first ? "]\n" : "\n]\n";
    } else {
        for (const ProcessSockets& p : procs) {
            if (!pid) {
                out += std::to_string(p.pid) + " " + printable(p.comm) + " (" +
                       (p.exe.empty() ? std::string("-") : printable(p.exe)) + ")\n";
            }
            for (const SocketRow& row : p.sockets)
                out += printable(socket_line(row)) + "\n";
            if (!pid) out += "\n";
        }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace tsnitch::cli
