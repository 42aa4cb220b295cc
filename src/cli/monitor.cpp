// `tsnitch monitor [--interval MS] [-c FILE]`: the TUI's Processes/Sockets views alone, over a
// Daemon without a queue whose socket table refreshes on its own thread; no interception, no
// firewall rules, no prompts.
// Without root it shows the processes of this user (the kernel lists every socket, but only our
// /proc/*/fd can be read); root sees all. Host names come from the names file of the tsnitch
// running in this network namespace, if any (core/dns/names_file.h), re-read once a second.
#include <getopt.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string_view>

#include "cli/commands.h"
#include "core/attribution/socket_table.h"
#include "core/config.h"
#include "core/daemon/daemon.h"
#include "core/daemon/in_process_link.h"
#include "core/dns/names_file.h"
#include "core/fs.h"
#include "tui/tui.h"

namespace tsnitch::cli {

namespace {

// The running tsnitch's names, re-read at most once a second (the UI looks names up per line).
class NamesReader {
  public:
    explicit NamesReader(std::string path) : path_(std::move(path)) {}

    std::optional<std::string> lookup(const IpAddress& a) {
        const auto now = std::chrono::steady_clock::now();
        if (path_.empty()) return std::nullopt;
        if (now - loaded_ >= std::chrono::seconds(1)) {
            loaded_ = now;
            table_ = load();
        }
        return table_.lookup(a);
    }

  private:
    NameTable load() const {
        // No tsnitch running (or not ours to read), or one that was killed and left its file.
        auto file = read_current_names_file(path_);
        return file ? NameTable(file->entries) : NameTable();
    }

    std::string path_;
    std::chrono::steady_clock::time_point loaded_{};
    NameTable table_;
};

// The monitor's host names: the running tsnitch's names file (it has no DNS of its own).
class NamesFileHostNames final : public HostNames {
  public:
    explicit NamesFileHostNames(std::string path) : reader_(std::move(path)) {}
    void learn(const PacketInfo&, std::span<const uint8_t>) override {}
    std::optional<std::string> host_for(const IpAddress& a) override {
        std::lock_guard lock(mu_);
        return reader_.lookup(a);
    }

  private:
    std::mutex mu_;
    NamesReader reader_;
};

// A monitor daemon has no queue: nothing is ever queued to its engine, so it decides nothing.
class NoQueue final : public VerdictSink {
  public:
    void set_verdict(uint16_t, uint32_t, Verdict, uint32_t) override {}
};
class NoAttribution final : public Attributor {
  public:
    Attribution attribute(const Connection&) override { return {}; }
    Method method() const override { return Method::none; }
};

void print_usage(FILE* f) {
    std::fputs(
        "Usage: tsnitch monitor [--interval MS] [-c FILE]\n"
        "  live process and socket inspection, no interception\n"
        "  -i, --interval MS   refresh every MS milliseconds (default 1000, at least 100)\n"
        "  -c, --config FILE   where a running tsnitch publishes host names (its\n"
        "                      Control.Socket directory), as for run\n",
        f);
}

}  // namespace

int monitor(int argc, char** argv) {
    static const option long_options[] = {{"interval", required_argument, nullptr, 'i'},
                                          {"config", required_argument, nullptr, 'c'},
                                          {"help", no_argument, nullptr, 'h'},
                                          {nullptr, 0, nullptr, 0}};
    int interval_ms = 1000;
    std::string config_path;
    optind = 1;
    opterr = 0;
    for (;;) {
        const int opt = getopt_long(argc, argv, ":i:c:h", long_options, nullptr);
        if (opt == -1) break;
        switch (opt) {
            case 'i': {
                const std::string_view text = optarg;
                auto [end, ec] =
                    std::from_chars(text.data(), text.data() + text.size(), interval_ms);
                if (ec != std::errc() || end != text.data() + text.size() || interval_ms < 100) {
                    print_error("monitor: --interval: '%s' is not a number of milliseconds >= 100",
                                optarg);
                    return kExitUsage;
                }
                break;
            }
            case 'c':
                config_path = optarg;
                break;
            case 'h':
                print_usage(stdout);
                return kExitOk;
            case ':':
                print_error("monitor: %s needs a value", argv[optind - 1]);
                return kExitUsage;
            default:
                print_error("monitor: unknown option '%s'", argv[optind - 1]);
                print_usage(stderr);
                return kExitUsage;
        }
    }
    if (optind < argc) {
        print_error("monitor: unexpected argument '%s'", argv[optind]);
        return kExitUsage;
    }
    // Fail before taking over the terminal when sock_diag is not there at all. The inode index
    // warms up with the table's first refresh, which reads only the processes it needs.
    ProcessModel::Options po;
    po.warm_index = false;
    ProcessModel processes(po);
    if (auto probe = SocketTable::open(processes); !probe) {
        print_error("monitor: %s", probe.error().message.c_str());
        return kExitFailure;
    }
    auto config = load_config(config_path);
    if (!config) {
        print_error("%s", config.error().message.c_str());
        return kExitUsage;
    }
    std::string names_file;
    if (auto link = read_link("/proc/self/ns/net")) {
        if (auto inode = netns_inode_from_link(*link))
            names_file = names_file_path(config->control_socket, *inode);
    }
    // The same Daemon as `tsnitch run`'s, without a queue: the TUI reaches the socket table
    // through the same DaemonLink (SubscribeSockets), and rule commands are refused.
    NoQueue no_queue;
    NoAttribution no_attribution;
    RuleStore no_rules(RuleStoreOptions{});
    NamesFileHostNames names(names_file);
    DaemonOptions dopt;
    dopt.status.intercepting = false;
    Daemon daemon(dopt, no_queue, no_attribution, no_rules, &names, processes);
    if (auto s = daemon.start(); !s) {
        print_error("monitor: %s", s.error().message.c_str());
        return kExitFailure;
    }
    InProcessLink link(daemon);
    tui::TuiOptions options;
    options.monitor = true;
    options.socket_interval = std::chrono::milliseconds(interval_ms);
    return tui::run_tui(link, options) == 0 ? kExitOk : kExitFailure;
}

}  // namespace tsnitch::cli
