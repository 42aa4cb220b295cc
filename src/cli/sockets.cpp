// `tsnitch sockets [-p PID | --all] [--json]`: the socket table of one process, or of every process
// of this network namespace (--all: of every namespace), in the socket line format of DESIGN.md
// §3. Without -p each process with sockets gets a header line
// `PID COMM (EXE)` ("(-)" when the exe can't be read) above its socket lines, and a blank line
// after them. Sockets sock_diag does not list (netlink, packet, other network namespaces) print as
// `FD -> socket[INODE] - other`. A process in another network namespace has its sockets looked up
// in that namespace (root). --json prints one array of objects, one per socket.
//
// Host names come from the names file that the running tsnitch of the process's network namespace
// publishes beside its control socket (core/dns/names_file.h; the directory from the
// configuration's Control.Socket, -c FILE as for run), or from `--names FILE` for every process.
// Without a readable file (no tsnitch running there, or not root) the addresses show.
#include <getopt.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "core/attribution/diag_client.h"
#include "core/attribution/proc_io.h"
#include "core/attribution/socket_view.h"
#include "core/config.h"
#include "core/dns/names_file.h"
#include "core/text.h"

namespace tsnitch::cli {

namespace {

constexpr const char* kProcRoot = "/proc";

std::string netns_path(int pid) {
    return std::string(kProcRoot) + "/" + std::to_string(pid) + "/ns/net";
}

// A process's network namespace as its /proc link names it ("net:[4026531840]"), read once per
// process; empty when it cannot be read (the process ended, or we may not look).
std::string netns_of(int pid) {
    auto id = read_link(netns_path(pid));
    return id ? *id : std::string();
}

// The socket snapshot of each network namespace that the listed processes live in, made when a
// process of that namespace first needs it.
class DirectoryByNetns {
  public:
    DirectoryByNetns(SocketsSnapshot own, bool ipv6)
        : ipv6_(ipv6), own_(std::move(own)), none_(SocketsSnapshot{}) {
        if (auto id = read_link(std::string(kProcRoot) + "/self/ns/net")) own_id_ = *id;
    }

    // False only when the network namespace (netns_of) is known to be another one.
    bool is_own(const std::string& netns) const {
        return netns.empty() || own_id_.empty() || netns == own_id_;
    }

    // The sockets of the namespace `netns` that process `pid` lives in.
    const SocketDirectory& for_process(int pid, const std::string& netns) {
        if (is_own(netns)) return own_;
        if (auto it = others_.find(netns); it != others_.end()) return it->second;
        auto client = DiagClient::open_in(netns_path(pid));
        if (!client) return none_;  // not root: its sockets print as "other"
        auto snap = client->sockets_dump(ipv6_, true);
        if (!snap) return none_;
        return others_.emplace(netns, SocketDirectory(std::move(*snap))).first->second;
    }

  private:
    bool ipv6_;
    std::string own_id_;
    SocketDirectory own_;
    SocketDirectory none_;
    std::map<std::string, SocketDirectory> others_;
};

// The names of each network namespace's tsnitch, read when a process of that namespace first
// needs them; or the one file given with --names.
class NamesByNetns {
  public:
    NamesByNetns(std::string control_socket, std::string forced_file)
        : control_socket_(std::move(control_socket)), forced_file_(std::move(forced_file)) {
        if (!forced_file_.empty()) forced_ = load(forced_file_, true);
    }

    // The names of the namespace `netns` (netns_of).
    const NameTable& for_netns(const std::string& netns) {
        if (!forced_file_.empty()) return forced_;
        auto inode = netns.empty() ? std::nullopt : netns_inode_from_link(netns);
        if (!inode) return none_;
        if (auto it = by_netns_.find(*inode); it != by_netns_.end()) return it->second;
        return by_netns_.emplace(*inode, load(names_file_path(control_socket_, *inode), false))
            .first->second;
    }

  private:
    // A missing or unreadable file is normal (no tsnitch, not root) unless it was asked for.
    static NameTable load(const std::string& path, bool asked) {
        // A file asked for is read even when its writer is gone.
        auto file = asked ? read_names_file(path, unix_now()) : read_current_names_file(path);
        if (!file) {
            const int code = file.error().code;
            if (asked || (code != ENOENT && code != EACCES && code != EPERM && code != ESRCH))
                print_error("sockets: host names: %s", file.error().message.c_str());
            return {};
        }
        constexpr size_t kShown = 3;
        for (size_t i = 0; i < file->problems.size() && i < kShown; ++i)
            print_error("sockets: host names: %s (skipped)", file->problems[i].message.c_str());
        if (file->problems.size() > kShown)
            print_error("sockets: host names: %s: %zu more bad lines skipped", path.c_str(),
                        file->problems.size() - kShown);
        return NameTable(file->entries);
    }

    std::string control_socket_;
    std::string forced_file_;
    NameTable forced_, none_;
    std::map<uint64_t, NameTable> by_netns_;
};

void print_usage(FILE* f) {
    std::fputs(
        "Usage: tsnitch sockets [-p PID | --all] [--json] [-c FILE] [--names FILE]\n"
        "\n"
        "One line per socket fd: FD -> socket[INODE] - SPORT:SRC -> HOST:DPORT, state: STATE\n"
        "  -p, --pid PID      only this process (default: every process of this network\n"
        "                     namespace, each under a header)\n"
        "  -a, --all          every process of every network namespace\n"
        "      --json         the same fields as a JSON array (with TCP's byte counters)\n"
        "  -c, --config FILE  configuration whose Control.Socket directory holds the running\n"
        "                     tsnitch's host names (default as for run)\n"
        "      --names FILE   read host names from this names file instead\n",
        f);
}

}  // namespace

int sockets(int argc, char** argv) {
    enum { kNames = 1000 };
    static const option long_options[] = {{"pid", required_argument, nullptr, 'p'},
                                          {"json", no_argument, nullptr, 'j'},
                                          {"config", required_argument, nullptr, 'c'},
                                          {"names", required_argument, nullptr, kNames},
                                          {"all", no_argument, nullptr, 'a'},
                                          {"help", no_argument, nullptr, 'h'},
                                          {nullptr, 0, nullptr, 0}};
    std::optional<int> pid;
    bool json = false;
    bool all_netns = false;
    std::string config_path, names_path;
    optind = 1;
    opterr = 0;
    for (;;) {
        const int opt = getopt_long(argc, argv, ":p:c:jah", long_options, nullptr);
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
            case 'a':
                all_netns = true;
                break;
            case 'c':
                config_path = optarg;
                break;
            case kNames:
                names_path = optarg;
                break;
            case 'h':
                print_usage(stdout);
                return kExitOk;
            case ':':
                print_error("sockets: %s needs an argument", argv[optind - 1]);
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
    if (pid && all_netns) {
        print_error("sockets: -p and --all exclude each other");
        return kExitUsage;
    }

    auto config = load_config(config_path);
    if (!config) {
        print_error("%s", config.error().message.c_str());
        return kExitUsage;
    }
    NamesByNetns names(config->control_socket, names_path);

    auto client = DiagClient::open();
    if (!client) {
        print_error("sockets: %s", client.error().message.c_str());
        return kExitFailure;
    }
    const bool ipv6 = ipv6_enabled(kProcRoot);
    auto snapshot = client->sockets_dump(ipv6, true);
    if (!snapshot) {
        print_error("sockets: %s", snapshot.error().message.c_str());
        return kExitFailure;
    }
    DirectoryByNetns dirs(std::move(*snapshot), ipv6);

    // Each listed process with its namespace, which says whose sockets and names it sees.
    struct Listed {
        ProcessSockets sockets;
        std::string netns;
    };
    std::vector<Listed> procs;
    if (pid) {
        std::string netns = netns_of(*pid);
        auto p = sockets_of_process(kProcRoot, *pid, dirs.for_process(*pid, netns));
        if (!p) {
            if (p.error().code == ENOENT)
                print_error("sockets: no process with pid %d", *pid);
            else
                print_error("sockets: %s", p.error().message.c_str());
            return kExitFailure;
        }
        procs.push_back({std::move(*p), std::move(netns)});
    } else {
        auto pids = list_pids(kProcRoot);
        if (!pids) {
            print_error("sockets: %s", pids.error().message.c_str());
            return kExitFailure;
        }
        std::sort(pids->begin(), pids->end());
        for (int n : *pids) {
            // As the TUI and monitor: this namespace's processes, unless --all.
            std::string netns = netns_of(n);
            if (!all_netns && !dirs.is_own(netns)) continue;
            // Processes that end meanwhile or whose fds we may not read are left out.
            auto p = sockets_of_process(kProcRoot, n, dirs.for_process(n, netns));
            if (p && !p->sockets.empty()) procs.push_back({std::move(*p), std::move(netns)});
        }
    }

    std::string out;
    if (json) {
        out += "[";
        bool first = true;
        for (const auto& [p, netns] : procs) {
            const NameTable& table = names.for_netns(netns);
            for (const SocketRow& row : p.sockets) {
                out += first ? "\n" : ",\n";
                out +=
                    socket_json(p, row, [&table](const IpAddress& a) { return table.lookup(a); });
                first = false;
            }
        }
        out += first ? "]\n" : "\n]\n";
    } else {
        for (const auto& [p, netns] : procs) {
            if (!pid) {
                out += std::to_string(p.pid) + " " + printable_text(p.comm) + " (" +
                       (p.exe.empty() ? std::string("-") : printable_text(p.exe)) + ")\n";
            }
            const NameTable& table = names.for_netns(netns);
            const HostNameLookup lookup = [&table](const IpAddress& a) { return table.lookup(a); };
            for (const SocketRow& row : p.sockets)
                out += printable_text(socket_line(row, lookup)) + "\n";
            if (!pid) out += "\n";
        }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace tsnitch::cli
