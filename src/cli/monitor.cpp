// `tsnitch monitor [--interval MS]`: the TUI's Processes/Sockets views alone, over a socket table
// refreshed on its own thread; no interception, no firewall rules, no prompts. Without root it
// shows the processes of this user (the kernel lists every socket, but only our /proc/*/fd can be
// read); root sees all.
#include <getopt.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <string_view>

#include "cli/commands.h"
#include "core/attribution/socket_table.h"
#include "tui/tui.h"

namespace tsnitch::cli {

namespace {

class MonitorBackend final : public tui::Backend {
  public:
    explicit MonitorBackend(std::chrono::milliseconds interval) : interval_(interval) {}

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
    bool first_ = true;
    bool failed_ = false;
    std::unique_ptr<SocketMonitor> monitor_;
};

void print_usage(FILE* f) {
    std::fputs(
        "Usage: tsnitch monitor [--interval MS]\n"
        "  live process and socket inspection, no interception\n"
        "  -i, --interval MS   refresh every MS milliseconds (default 1000, at least 100)\n",
        f);
}

}  // namespace

int monitor(int argc, char** argv) {
    static const option long_options[] = {{"interval", required_argument, nullptr, 'i'},
                                          {"help", no_argument, nullptr, 'h'},
                                          {nullptr, 0, nullptr, 0}};
    int interval_ms = 1000;
    optind = 1;
    opterr = 0;
    for (;;) {
        const int opt = getopt_long(argc, argv, ":i:h", long_options, nullptr);
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
    MonitorBackend backend{std::chrono::milliseconds(interval_ms)};
    tui::TuiOptions options;
    options.monitor = true;
    return tui::run_tui(backend, options) == 0 ? kExitOk : kExitFailure;
}

}  // namespace tsnitch::cli
