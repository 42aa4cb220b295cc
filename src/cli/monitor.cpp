// `tsnitch monitor [--interval MS] [-c CONFIG]`: the TUI's Processes/Sockets views alone, over a
// socket table refreshed on its own thread; no interception, no firewall rules, no prompts.
// Without root it shows the processes of this user (the kernel lists every socket, but only our
// /proc/*/fd can be read); root sees all. Host names come from the names file of the tsnitch
// running in this network namespace, if any (core/dns/names_file.h), re-read once a second.
#include <getopt.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <string_view>

#include "cli/commands.h"
#include "core/attribution/socket_table.h"
#include "core/config.h"
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

class MonitorBackend final : public tui::Backend {
  public:
    MonitorBackend(std::chrono::milliseconds interval, std::string names_file)
        : interval_(interval), names_(std::make_shared<NamesReader>(std::move(names_file))) {}

    HostNameLookup host_names() override {
        return [names = names_](const IpAddress& a) { return names->lookup(a); };
    }

    int wake_fd() const override { return -1; }
    tui::BackendUpdate drain() override {
        tui::BackendUpdate u;
        if (first_) {
            u.status = tui::EngineStatus{};
            u.pending = std::vector<tui::PendingPrompt>{};
            u.rules = std::vector<tui::RuleSummary>{};
            first_ = false;
        }
        return u;
    }
    Status answer(uint64_t, const tui::Answer&) override { return not_here(); }
    Status set_rule_enabled(const std::string&, bool) override { return not_here(); }
    Status delete_rule(const std::string&) override { return not_here(); }
    Status change_rule(const std::string&, Action, RuleDuration) override { return not_here(); }

    SocketMonitor* socket_monitor() override {
        if (!monitor_ && !failed_) {
            auto table = SocketTable::open();
            if (!table) {
                failed_ = true;
                return nullptr;
            }
            monitor_ = std::make_unique<SocketMonitor>(std::move(*table), interval_);
        }
        return monitor_.get();
    }

  private:
    static Status not_here() {
        return make_error("the monitor has no firewall rules (use tsnitch run)");
    }

    std::chrono::milliseconds interval_;
    std::shared_ptr<NamesReader> names_;
    bool first_ = true;
    bool failed_ = false;
    std::unique_ptr<SocketMonitor> monitor_;
};

void print_usage(FILE* f) {
    std::fputs(
        "Usage: tsnitch monitor [--interval MS] [-c CONFIG]\n"
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
    // Fail before taking over the terminal when sock_diag is not there at all.
    if (auto probe = SocketTable::open(); !probe) {
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
    MonitorBackend backend{std::chrono::milliseconds(interval_ms), names_file};
    tui::TuiOptions options;
    options.monitor = true;
    return tui::run_tui(backend, options) == 0 ? kExitOk : kExitFailure;
}

}  // namespace tsnitch::cli
