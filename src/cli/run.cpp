// `tsnitch [run]`: options, configuration, then the composition of a running firewall: the queue
// (its reader thread), the firewall rules, the attribution stack, the Daemon (engine, rules and
// their housekeeping) and the front ends that attach to it (the TUI in this terminal).
#include <getopt.h>
#include <linux/capability.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>

#include "bpf/attribution_stack.h"
#include "bpf/kernel_verdicts.h"
#include "cli/commands.h"
#include "control/control_server.h"
#include "control/control_socket.h"
#include "core/attribution/attribution_ladder.h"
#include "core/attribution/diag_client.h"
#include "core/attribution/proc_io.h"
#include "core/config.h"
#include "core/daemon/daemon.h"
#include "core/daemon/in_process_link.h"
#include "core/dns/names_file.h"
#include "core/engine/dns_names.h"
#include "core/engine/engine.h"
#include "core/engine/events_file.h"
#include "core/fs.h"
#include "core/log_line.h"
#include "core/privileges.h"
#include "core/rules/rule_store.h"
#include "core/text.h"
#include "core/unique_fd.h"
#include "nfq/firewall.h"
#include "nfq/firewall_guard.h"
#include "nfq/flow_reaper.h"
#include "nfq/queue_set.h"
#include "tsnitch_version.h"
#include "tui/tui.h"

namespace tsnitch::cli {

namespace {

struct RunOptions {
    std::string config_path;
    std::string rules_dir;
    bool headless = false;
    std::string method;
    std::string events;
    std::string queue;
};

// Where run's messages go: standard error (unless the TUI owns the terminal) and LogFile; once
// the daemon runs, through the daemon, so that its front ends' log views have them too and the
// daemon's own messages (rule files, floods) come here.
class RunLog final : public LogSink {
  public:
    // Messages below `level` are dropped; each kept one also goes to `file` (LogFile) when open.
    explicit RunLog(LogLevel level = LogLevel::info, UniqueFd file = UniqueFd())
        : level_(level), file_(std::move(file)) {}
    // LogFile, opened before anything is installed: appended to, created with mode 0600.
    static Result<UniqueFd> open_file(const std::string& path) {
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
        if (!fd) return make_error("LogFile " + path + ": " + std::strerror(errno), errno);
        return fd;
    }
    // From here on lines go through `daemon` (nullptr: no longer); with `terminal_owned` (the
    // TUI runs in this terminal) not to standard error, which would garble the screen.
    void attach(Daemon* daemon, bool terminal_owned) {
        daemon_ = daemon;
        terminal_owned_ = terminal_owned;
    }
    void info(const std::string& text) { say(LogLevel::info, text); }
    void warning(const std::string& text) { say(LogLevel::warning, text); }
    void error(const std::string& text) { say(LogLevel::error, text); }

    // LogSink: the daemon's lines, and ours that went through it.
    void write(LogLevel level, const std::string& text) override {
        if (level < level_) return;
        // Messages carry names from outside (files, DNS, processes): escaped on the way out (the
        // TUI escapes what it draws itself).
        const std::string safe = printable_text(text);
        if (file_) {
            // One write per line, so that lines of several threads never interleave.
            const std::string line = iso8601_utc_ms(std::chrono::system_clock::now()) + " " +
                                     std::string(log_level_name(level)) + " " + safe + "\n";
            (void)!::write(file_.get(), line.data(), line.size());
        }
        if (!terminal_owned_) std::fputs(stderr_log_line(style_, level, safe).c_str(), stderr);
    }

    // Through the daemon once attached, else straight to write().
    void say(LogLevel level, const std::string& text) {
        if (Daemon* d = daemon_.load()) {
            d->log(level, text);
        } else {
            write(level, text);
        }
    }

  private:
    LogLevel level_;
    LogStyle style_ = stderr_log_style();  // <N> priority prefixes under systemd
    UniqueFd file_;
    std::atomic<Daemon*> daemon_{nullptr};
    std::atomic<bool> terminal_owned_{false};
};

EngineOptions engine_options(const Config& c) {
    EngineOptions eo;
    eo.default_action = c.default_action;
    eo.prompt_timeout_s = c.prompt_timeout_s;
    eo.intercept_unknown = c.intercept_unknown;
    return eo;
}

void add_to_epoll(int ep, int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

// The firewall's housekeeping off the queue thread (spawning iptables-save there would hold every
// queued packet for milliseconds): the firewall rules are re-added when another program changed
// them (noticed at once through nf_tables' notifications, see FirewallGuard), closed UDP sockets'
// flows are reaped (FlowReaper), the kernel queues' drop counters are read, and once a second the
// host names file is republished when the DNS cache changed. (The rules' housekeeping is the
// Daemon's.) Runs until `stop_fd` (an eventfd) is written.
// `bpf` (null without the eBPF module): its maps of closed sockets are swept every 10 s.
void firewall_housekeeping(nfq::Firewall& firewall, nfq::QueueSet& queues, Engine& engine,
                           NamesPublisher* names, bpf::BpfMonitor* bpf, RunLog& log, int stop_fd) {
    UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
    UniqueFd timer(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (ep.get() < 0 || timer.get() < 0) {
        log.error(std::string("housekeeping: epoll/timerfd: ") + std::strerror(errno));
        return;
    }
    const itimerspec every_second{{1, 0}, {1, 0}};
    timerfd_settime(timer.get(), 0, &every_second, nullptr);
    enum : uint64_t { kStop, kTimer, kFirewall, kReaper };
    uint64_t ticks = 0;
    add_to_epoll(ep.get(), stop_fd, kStop);
    add_to_epoll(ep.get(), timer.get(), kTimer);
    nfq::FirewallGuard guard(firewall);
    if (guard.fd() >= 0) {
        add_to_epoll(ep.get(), guard.fd(), kFirewall);
    } else {
        log.info("firewall rules are checked every 5 s (" + guard.watch_problem() + ")");
    }
    auto reaper = nfq::FlowReaper::open(engine);
    if (reaper) {
        add_to_epoll(ep.get(), reaper->fd(), kReaper);
    } else {
        log.error("closed UDP sockets are not followed (" + reaper.error().message +
                  "): their flows' allow marks stay until the conntrack entries time out");
    }
    const auto report = [&](const nfq::GuardNews& news) {
        if (!news.info.empty()) log.info(news.info);
        if (!news.error.empty()) log.error(news.error);
    };
    std::string names_problem;  // said once, not every second
    uint64_t dropped_said = 0;  // kernel queue drops already in the log
    for (;;) {
        epoll_event events[8];
        const int n = epoll_wait(ep.get(), events, 8, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            log.error(std::string("housekeeping: epoll_wait: ") + std::strerror(errno));
            return;
        }
        for (int i = 0; i < n; ++i) {
            switch (events[i].data.u64) {
                case kStop:
                    return;
                case kTimer: {
                    uint64_t expirations = 0;
                    (void)::read(timer.get(), &expirations, sizeof expirations);
                    // The kernel drops what does not fit in a queue without telling the reader.
                    if (auto c = queues.kernel_counters()) {
                        engine.set_queue_drops(c->queue_dropped(), c->user_dropped());
                        if (c->dropped() > dropped_said) {
                            log.error("NFQUEUE " + queues.numbers() + ": " +
                                      nfq::describe_drops(*c) + " so far");
                            dropped_said = c->dropped();
                        }
                    }
                    if (names) {
                        auto published = names->publish();
                        const std::string problem = published ? "" : published.error().message;
                        if (!problem.empty() && problem != names_problem)
                            log.error("host names for `tsnitch sockets`: " + problem);
                        names_problem = problem;
                    }
                    report(guard.on_tick());
                    // Closed sockets' flows stay this long for packets still in the queue.
                    if (bpf && ++ticks % 10 == 0) bpf->sweep(std::chrono::seconds(30));
                    break;
                }
                case kFirewall:
                    report(guard.on_readable());
                    break;
                case kReaper:
                    for (const std::string& e : reaper->on_readable())
                        log.error(e);
                    break;
            }
        }
    }
}

// The queue readers (one thread per queue) run until SIGINT, SIGTERM or SIGHUP, until `stop_fd`
// (an eventfd, -1 for none) is written, or until a reader fails.
int serve(nfq::QueueSet& queues, Daemon& daemon, RunLog& log, int signal_fd, int stop_fd) {
    UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
    if (ep.get() < 0) {
        log.error(std::string("epoll: ") + std::strerror(errno));
        return kExitFailure;
    }
    enum : uint64_t { kQueueFailed, kSignal, kStop };
    add_to_epoll(ep.get(), queues.failed_fd(), kQueueFailed);
    add_to_epoll(ep.get(), signal_fd, kSignal);
    if (stop_fd >= 0) add_to_epoll(ep.get(), stop_fd, kStop);
    queues.start([&daemon](const QueuedPacket& p) { daemon.on_packet(p); });
    struct StopReaders {
        nfq::QueueSet& q;
        ~StopReaders() { q.stop(); }
    } stop_readers{queues};
    for (;;) {
        epoll_event events[3];
        const int n = epoll_wait(ep.get(), events, 3, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            log.error(std::string("epoll_wait: ") + std::strerror(errno));
            return kExitFailure;
        }
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 == kStop) return kExitOk;
            if (events[i].data.u64 == kSignal) {
                signalfd_siginfo si{};
                if (::read(signal_fd, &si, sizeof si) == sizeof si)
                    log.info(std::string("stopping on ") +
                             strsignal(static_cast<int>(si.ssi_signo)));
                return kExitOk;
            }
            log.error(queues.error());
            return kExitFailure;
        }
    }
}

void wake(int event_fd) {
    const uint64_t one = 1;
    (void)::write(event_fd, &one, sizeof one);
}

}  // namespace

int run_engine(const Config& config, bool headless) {
    // Signals are read from a signalfd. They are blocked before any thread starts (the events
    // writer, the rule store, the engine), so that every thread inherits the mask and no signal
    // ends the process behind the cleanup's back.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        sigaddset(&stop_signals, sig);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    UniqueFd signal_fd(signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
    signal(SIGPIPE, SIG_IGN);

    if (geteuid() != 0) {
        print_error(
            "run: needs root (NFQUEUE, firewall rules, eBPF); `tsnitch monitor` and "
            "`tsnitch sockets` work without");
        return kExitFailure;
    }
    // A mistyped RulesPath would run the firewall with no rules: it is created, and said so.
    const bool rules_dir_is_new = ::access(config.rules_path.c_str(), F_OK) != 0 && errno == ENOENT;

    // Everything that can be wrong with the configuration is found before anything is installed.
    RuleStoreOptions ro;
    ro.dir = config.rules_path;
    RuleStore rules(ro);
    // A broken (or refused) rule file never leaves the machine less protected than the other
    // rules: they apply, and the broken one is reported in the log (which the TUI shows) and
    // counted in the status. `tsnitch rules check` is the strict check (ExecStartPre, CI).
    const std::vector<Error> rule_problems = rules.load();
    EventsFile* events_ptr = nullptr;
    std::unique_ptr<EventsFile> events;
    // The events writer's problems (a full disk) go to the log once it exists (the TUI's log view
    // while the TUI owns the terminal), to standard error before and after.
    std::atomic<RunLog*> events_log{nullptr};
    if (!headless && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        print_error("run: the prompt needs a terminal; use --headless without one");
        return kExitUsage;
    }

    UniqueFd log_file;
    if (!config.log_file.empty()) {
        auto f = RunLog::open_file(config.log_file);
        if (!f) {
            print_error("%s", f.error().message.c_str());
            return kExitUsage;
        }
        log_file = std::move(*f);
    }
    RunLog log(config.log_level, std::move(log_file));
    events_log = &log;
    struct ForgetLog {
        std::atomic<RunLog*>& log;
        ~ForgetLog() { log = nullptr; }
    } forget_log{events_log};
    const auto report_rule_problems = [&] {
        for (const Error& e : rule_problems)
            log.error("rules: " + e.message);
        if (const size_t n = rules.broken_files().size(); n > 0)
            log.error("rules: " + std::to_string(n) + " rule file" + (n == 1 ? "" : "s") +
                      " not loaded; the other " + std::to_string(rules.rules().size()) +
                      " rules apply (tsnitch rules check lists them)");
    };
    // Headless, standard error is the log now; with the TUI, the lines wait for its log view.
    if (headless) report_rule_problems();
    if (const std::string notice = config_notice(config); !notice.empty()) log.info(notice);
    if (auto s = rules.watch(); !s)
        log.error("rules: " + s.error().message + " (changes on disk need a restart)");
    if (rules_dir_is_new && ::access(config.rules_path.c_str(), F_OK) == 0)
        log.warning("RulesPath " + config.rules_path +
                    " did not exist: created it, empty (is the path right?)");
    // With ebpf: the module's maps as the first rung (also tried on the queue thread, where a
    // rule can then decide at once), then sock_diag or /proc.
    // One process model for every rung, the kernel path's events and the socket table.
    ProcessModel::Options po;
    po.diag = config.proc_monitor_method != Method::proc;
    ProcessModel processes(po);
    bpf::BpfOptions bpf_options;
    bpf_options.ignore_own_sends = true;
    bpf::AttributionStack attribution =
        bpf::make_attribution_stack(config.proc_monitor_method, processes, bpf_options);
    if (!attribution.notice.empty()) log.info("attribution: " + attribution.notice);
    AttributionLadder& ladder = *attribution.ladder;
    const Method method = attribution.ebpf ? Method::ebpf : ladder.method();

    auto kernel_options = bpf::kernel_path_options_from_env();
    if (!kernel_options) {
        print_error("%s", kernel_options.error().message.c_str());
        return kExitUsage;
    }
    if (attribution.monitor) {
        kernel_options->flows_map_fd = attribution.monitor->flows_map_fd();
        kernel_options->socks_map_fd = attribution.monitor->socks_map_fd();
        kernel_options->recent_map_fd = attribution.monitor->recent_map_fd();
        kernel_options->procs_map_fd = attribution.monitor->procs_map_fd();
    }
    nfq::QueueSetOptions qo;
    qo.first = config.queue_num;
    qo.fail_open = config.queue_fail_open;
    auto queues = nfq::QueueSet::open(qo);
    if (!queues) {
        print_error("%s", queues.error().message.c_str());
        return kExitFailure;
    }
    // The kernel path (DESIGN.md §8a): flows that the rules decide on the kernel cache's key alone
    // skip the queue. Without it the queue decides every flow, and the log says so.
    DnsNames names;
    auto kernel_created =
        bpf::KernelVerdicts::create(rules, &names.cache(), processes, *kernel_options);
    std::unique_ptr<bpf::KernelVerdicts> kernel_path;
    std::string kernel_notice;
    if (kernel_created) {
        kernel_path = std::move(*kernel_created);
    } else {
        kernel_notice = "kernel path unavailable (" + kernel_created.error().message +
                        "): the queue decides every flow";
    }
    nfq::FirewallSpec spec;
    if (kernel_path) {
        spec.kernel_pass_pin = kernel_path->pass_pin();
        spec.kernel_drop_pin = kernel_path->drop_pin();
    }
    spec.queue_num = config.queue_num;
    spec.queue_count = (*queues)->count();
    spec.queue_bypass = config.queue_bypass;
    spec.intercept_loopback = config.intercept_loopback;
    spec.ipv6 = ipv6_enabled();
    auto firewall = nfq::make_firewall(config.firewall, spec);
    if (!firewall) {
        print_error("%s", firewall.error().message.c_str());
        return kExitFailure;
    }

    // Known before the privileges are reduced: a kernel path that cannot be used keeps nothing.
    if (kernel_path && (*firewall)->backend_name() != "iptables") {
        kernel_path.reset();
        kernel_notice = "kernel path unavailable (it needs the iptables backend's xt_bpf)";
    }

    // Set up what needs more (mounting cgroup2, loading the eBPF programs, the nft probe in a
    // namespace of its own): from here on only what the running firewall needs. Before any
    // thread starts (the events writer is the first), as capabilities and NoNewPrivs are each
    // thread's own.
    // The kernel path's own bpf file system is unmounted at exit, which takes CAP_SYS_ADMIN.
    CapabilityMask keep = running_capability_mask();
    if (kernel_path && kernel_path->owns_mount()) keep |= CapabilityMask{1} << CAP_SYS_ADMIN;
    if (auto kept = keep_only_capabilities(keep)) {
        log.info("privileges: kept only " + capability_names(*kept) + "; NoNewPrivs set");
    } else {
        log.warning("privileges: running with every capability: " + kept.error().message);
    }
    if (!config.events_file.empty()) {
        auto ev = EventsFile::open(config.events_file, 65536, [&events_log](const std::string& m) {
            if (RunLog* l = events_log.load()) {
                l->error(m);
            } else {
                print_error("%s", m.c_str());
            }
        });
        if (!ev) {
            print_error("%s", ev.error().message.c_str());
            return kExitUsage;
        }
        events = std::move(*ev);
        events_ptr = events.get();
    }

    if (!kernel_notice.empty()) log.info(kernel_notice);
    DaemonOptions dopt;
    dopt.engine = engine_options(config);
    // Held packets stay well below what the kernel queue holds, so that a flood of new flows
    // never fills it for the traffic behind them.
    dopt.engine.max_pending_packets =
        std::min<size_t>(dopt.engine.max_pending_packets, nfq::NfQueueOptions{}.max_len / 2);
    dopt.status.intercepting = true;
    for (unsigned i = 0; i < (*queues)->count(); ++i)
        dopt.status.queues.push_back(static_cast<uint16_t>(config.queue_num + i));
    dopt.status.method = method;
    dopt.status.fallback_notice = attribution.notice;
    if (!kernel_notice.empty())
        dopt.status.fallback_notice +=
            (dopt.status.fallback_notice.empty() ? "" : "; ") + kernel_notice;
    dopt.status.kernel_path = kernel_path != nullptr;
    dopt.status.firewall = std::string((*firewall)->backend_name());
    dopt.recent_max = config.stats_max_events;
    Daemon daemon(dopt, **queues, ladder, rules, &names, processes, attribution.fast.get());
    if (events_ptr) daemon.add_observer(events_ptr);
    daemon.set_log_sink(&log);
    daemon.set_broken_rule_files(rules.broken_files().size());
    if (kernel_path) {
        daemon.add_observer(kernel_path.get());
        rules.set_on_change([k = kernel_path.get()] { k->invalidate(); });
        names.set_on_rename([k = kernel_path.get()](const IpAddress* a) { k->address_renamed(a); });
    }
    if (auto s = daemon.start(); !s) {
        print_error("%s", s.error().message.c_str());
        return kExitFailure;
    }
    // The control socket before anything is installed: it is also the lock that says a daemon
    // runs here. Clients get the daemon through links of their own (subscribe / execute).
    ControlServerOptions co;
    co.socket_path = config.control_socket;
    co.group = config.control_group;
    co.program = std::string("tsnitch ") + TSNITCH_VERSION;
    auto control = ControlServer::start(
        co, [&daemon] { return std::make_unique<InProcessLink>(daemon); },
        [&log](LogLevel level, const std::string& text) { log.say(level, text); });
    if (!control) {
        print_error("control socket: %s", control.error().message.c_str());
        return kExitFailure;
    }
    if (auto s = (*firewall)->install(); !s) {
        print_error("installing the firewall rules: %s", s.error().message.c_str());
        (void)(*firewall)->remove();
        return kExitFailure;
    }
    if (kernel_path) kernel_path->start(daemon.engine());
    // Every SYN now passes the kernel path's xt_bpf program, which files the flow key of each one
    // that goes on to the queue: sockops would only do it again, on nine callbacks of every TCP
    // socket of the machine.
    if (kernel_path && kernel_path->files_tcp_keys() && attribution.monitor)
        attribution.monitor->detach_sockops();
    log.attach(&daemon, !headless);  // from here on the terminal may belong to the TUI
    if (!headless) report_rule_problems();
    log.info("intercepting: NFQUEUE " + (*queues)->numbers() + " (one reader per CPU), " +
             std::string((*firewall)->backend_name()) +
             (spec.ipv6 ? " (IPv4 and IPv6)" : " (IPv4)") + ", attribution " +
             std::string(method_name(method)) + (kernel_path ? ", kernel path on" : "") + ", " +
             std::to_string(rules.rules().size()) + " rules, DefaultAction " +
             std::string(action_name(config.default_action)));

    // The names file belongs to this network namespace's tsnitch; see core/dns/names_file.h.
    std::unique_ptr<NamesPublisher> names_file;
    auto netns_link = read_link("/proc/self/ns/net");
    auto netns = netns_link ? netns_inode_from_link(*netns_link) : std::nullopt;
    if (netns) {
        names_file = std::make_unique<NamesPublisher>(
            names.cache(), names_file_path(config.control_socket, *netns),
            static_cast<int>(getpid()));
        if (auto s = names_file->start(); !s) {
            log.error("host names for `tsnitch sockets`: " + s.error().message);
            names_file.reset();
        }
    }

    UniqueFd keeper_stop(eventfd(0, EFD_CLOEXEC));
    std::thread keeper(firewall_housekeeping, std::ref(**firewall), std::ref(**queues),
                       std::ref(daemon.engine()), names_file.get(), attribution.monitor.get(),
                       std::ref(log), keeper_stop.get());

    // Front ends attach to the daemon: the TUI in this terminal (unless --headless) through an
    // in-process link, and any number over the control socket. With no front end attached, what
    // no rule decides waits PromptTimeout, then gets DefaultAction and is kept for review.
    int status = kExitOk;
    if (headless) {
        status = serve(**queues, daemon, log, signal_fd.get(), -1);
    } else {
        // The TUI owns the terminal and runs on this thread; the queue thread is another one.
        // Whichever ends first (a signal, or the person quitting) ends the other: a signal
        // stops the daemon, whose Stopping ends the TUI.
        UniqueFd queue_stop(eventfd(0, EFD_CLOEXEC));
        int queue_status = kExitOk;
        InProcessLink link(daemon);
        std::thread queue_thread([&] {
            queue_status = serve(**queues, daemon, log, signal_fd.get(), queue_stop.get());
            daemon.close_front_ends("");
        });
        tui::TuiOptions to;
        to.default_duration = config.default_duration;
        to.max_events = config.stats_max_events;
        to.max_stats = config.stats_max_stats;
        const int tui_status = tui::run_tui(link, to);
        wake(queue_stop.get());
        queue_thread.join();
        log.attach(&daemon, false);
        status = tui_status != 0 ? kExitFailure : queue_status;
    }
    wake(keeper_stop.get());
    keeper.join();
    // Rules first: from here on new flows pass (or wait, without QueueBypass) instead of being
    // queued to a reader that is going away.
    if (auto s = (*firewall)->remove(); !s)
        log.error("removing the firewall rules: " + s.error().message);
    // Packets queued before the rules went are decided rather than dropped with the queue; what
    // is still pending then gets DefaultAction from stop().
    (*queues)->drain([&daemon](const QueuedPacket& p) { daemon.on_packet(p); });
    if (kernel_path) {
        kernel_path->stop();  // its last records are read and reported before the engine stops
        rules.set_on_change(nullptr);
        names.set_on_rename(nullptr);
    }
    daemon.stop();
    control->reset();  // after the daemon's Stopping reached the clients; before the daemon goes
    log.attach(nullptr, false);
    const EngineStats st = daemon.engine_stats();
    const nfq::NfQueueStats qs = (*queues)->stats();
    // Read while the queues are still bound: the kernel forgets a queue's counters with it.
    auto kernel = (*queues)->kernel_counters();
    log.info(std::to_string(st.decisions) + " decisions (" + std::to_string(st.allowed) +
             " allowed, " + std::to_string(st.denied) + " denied, " + std::to_string(st.rejected) +
             " rejected), " + std::to_string(st.flow_hits) +
             " packets answered from the flow cache, " + std::to_string(st.dns_answers) +
             " DNS answers read, " + std::to_string(qs.enobufs) + " receive buffer overflows, " +
             std::to_string(qs.verdict_errors) + " failed verdicts; NFQUEUE " +
             (*queues)->numbers() + ": " +
             (kernel ? nfq::describe_drops(*kernel)
                     : "drop counters unreadable (" + kernel.error().message + ")"));
    if (events) events->drain();
    if (events && events->lost() > 0)
        log.error("events file " + config.events_file + ": " + std::to_string(events->lost()) +
                  " events lost in all");
    if (kernel_path) {
        const bpf::KernelPathStats ks = kernel_path->stats();
        log.info("kernel path: " + std::to_string(ks.decisions) + " decisions, " +
                 std::to_string(ks.stored) + " rule decisions cached, " +
                 std::to_string(ks.not_cacheable) + " not cacheable, " +
                 std::to_string(ks.no_identity) + " without the kernel's executable, " +
                 std::to_string(ks.early_reads) + " early reads (a quarter of the ring waiting), " +
                 "epoch " + std::to_string(ks.epoch));
    }
    return status;
}

int run(int argc, char** argv) {
    RunOptions o;
    enum { kHeadless = 1000, kMethod, kEvents, kQueue };
    static const option longopts[] = {{"config", required_argument, nullptr, 'c'},
                                      {"rules", required_argument, nullptr, 'r'},
                                      {"headless", no_argument, nullptr, kHeadless},
                                      {"method", required_argument, nullptr, kMethod},
                                      {"events", required_argument, nullptr, kEvents},
                                      {"queue", required_argument, nullptr, kQueue},
                                      {"help", no_argument, nullptr, 'h'},
                                      {nullptr, 0, nullptr, 0}};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+c:r:h", longopts, nullptr)) != -1) {
        switch (ch) {
            case 'h':
                print_tsnitch_usage(stdout);
                return kExitOk;
            case 'c':
                o.config_path = optarg;
                break;
            case 'r':
                o.rules_dir = optarg;
                break;
            case kHeadless:
                o.headless = true;
                break;
            case kMethod:
                o.method = optarg;
                break;
            case kEvents:
                o.events = optarg;
                break;
            case kQueue:
                o.queue = optarg;
                break;
            default:
                print_error("run: bad option '%s' (see tsnitch --help)", argv[optind - 1]);
                return kExitUsage;
        }
    }
    if (optind < argc) {
        print_error("run: unexpected argument '%s'", argv[optind]);
        return kExitUsage;
    }
    auto config = load_config(o.config_path);
    if (!config) {
        print_error("%s", config.error().message.c_str());
        return kExitUsage;
    }
    if (!o.method.empty()) {
        auto m = method_from_name(o.method);
        if (!m) {
            print_error("--method: expected ebpf, diag or proc, got '%s'", o.method.c_str());
            return kExitUsage;
        }
        config->proc_monitor_method = *m;
    }
    if (!o.queue.empty()) {
        char* end = nullptr;
        errno = 0;
        const unsigned long q = std::strtoul(o.queue.c_str(), &end, 10);
        if (errno || *end || o.queue[0] == '-' || q > 65535) {
            print_error("--queue: expected a number from 0 to 65535, got '%s'", o.queue.c_str());
            return kExitUsage;
        }
        config->queue_num = static_cast<uint16_t>(q);
    }
    if (!o.rules_dir.empty()) config->rules_path = o.rules_dir;
    if (!o.events.empty()) config->events_file = o.events;
    // One daemon per Control.Socket: a second `tsnitch run` becomes a front end of the first
    // instead of failing on the busy queue (DESIGN.md §3).
    if (control_daemon_running(config->control_socket)) {
        if (o.headless) {
            print_error("run: a tsnitch daemon already runs (%s)", config->control_socket.c_str());
            return kExitFailure;
        }
        print_error("a tsnitch daemon already runs (%s): attaching to it",
                    config->control_socket.c_str());
        return attach_to_daemon(config->control_socket, *config);
    }
    return run_engine(*config, o.headless);
}

}  // namespace tsnitch::cli
