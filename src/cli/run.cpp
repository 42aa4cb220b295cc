// `tsnitch [run]`: options, configuration, then the engine: the queue, the firewall rules and
// the main loop (packets, signals, timers, rule changes).
#include <getopt.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

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
#include "cli/engine_backend.h"
#include "core/attribution/attribution_ladder.h"
#include "core/attribution/diag_client.h"
#include "core/attribution/proc_io.h"
#include "core/config.h"
#include "core/dns/names_file.h"
#include "core/engine/dns_names.h"
#include "core/engine/engine.h"
#include "core/engine/events_file.h"
#include "core/rules/rule_store.h"
#include "core/unique_fd.h"
#include "nfq/firewall.h"
#include "nfq/firewall_guard.h"
#include "nfq/flow_reaper.h"
#include "nfq/queue_set.h"
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

// Where run's messages go: standard error, or the TUI's log view while it owns the terminal.
class RunLog {
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
    void attach(EngineBackend* tui) { tui_ = tui; }
    void info(const std::string& text) { say(LogLevel::info, text); }
    void error(const std::string& text) { say(LogLevel::error, text); }

  private:
    void say(LogLevel level, const std::string& text) {
        if (level < level_) return;
        if (file_) {
            // One write per line, so that lines of several threads never interleave.
            const std::string line = iso8601_utc_ms(std::chrono::system_clock::now()) + " " +
                                     std::string(log_level_name(level)) + " " + text + "\n";
            (void)!::write(file_.get(), line.data(), line.size());
        }
        if (tui_) {
            tui_->log(level, text);
        } else {
            std::fprintf(stderr, "tsnitch: %s\n", text.c_str());
        }
    }
    LogLevel level_;
    UniqueFd file_;
    EngineBackend* tui_ = nullptr;
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

// Housekeeping off the queue thread (spawning iptables-save there would hold every queued packet
// for milliseconds): a 1 s timer expires timed rules and republishes the host names file when the
// DNS cache changed, the firewall rules are re-added when another program changed them (noticed
// at once through nf_tables' notifications, see FirewallGuard), the kernel queues' drop counters
// are read, and rule files changed on disk are reloaded. Runs until `stop_fd` (an eventfd) is
// written.
void housekeeping(nfq::Firewall& firewall, nfq::QueueSet& queues, RuleStore& rules, Engine& engine,
                  NamesPublisher* names, EngineBackend* tui, RunLog& log, int stop_fd) {
    // The TUI's backend tells the engine and the views; headless, the engine alone is told.
    const auto rules_changed = [&] {
        if (tui) {
            tui->rules_changed();
        } else {
            engine.rules_changed();
        }
    };
    UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
    UniqueFd timer(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (ep.get() < 0 || timer.get() < 0) {
        log.error(std::string("housekeeping: epoll/timerfd: ") + std::strerror(errno));
        return;
    }
    const itimerspec every_second{{1, 0}, {1, 0}};
    timerfd_settime(timer.get(), 0, &every_second, nullptr);
    enum : uint64_t { kStop, kTimer, kRules, kFirewall, kReaper };
    add_to_epoll(ep.get(), stop_fd, kStop);
    add_to_epoll(ep.get(), timer.get(), kTimer);
    if (rules.watch_fd() >= 0) add_to_epoll(ep.get(), rules.watch_fd(), kRules);
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
                    if (rules.expire() > 0) rules_changed();
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
                    break;
                }
                case kFirewall:
                    report(guard.on_readable());
                    break;
                case kReaper:
                    for (const std::string& e : reaper->on_readable())
                        log.error(e);
                    break;
                case kRules: {
                    // Other files beside the rules directory wake the watch too; the engine's
                    // flow cache is only dropped when the rules really changed.
                    const uint64_t before = rules.generation();
                    for (const Error& e : rules.process_events())
                        log.error("rules: " + e.message);
                    if (rules.generation() != before) rules_changed();
                    break;
                }
            }
        }
    }
}

// The queue readers (one thread per queue) run until SIGINT, SIGTERM or SIGHUP, until `stop_fd`
// (an eventfd, -1 for none) is written, or until a reader fails.
int serve(nfq::QueueSet& queues, Engine& engine, RunLog& log, int signal_fd, int stop_fd) {
    UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
    if (ep.get() < 0) {
        log.error(std::string("epoll: ") + std::strerror(errno));
        return kExitFailure;
    }
    enum : uint64_t { kQueueFailed, kSignal, kStop };
    add_to_epoll(ep.get(), queues.failed_fd(), kQueueFailed);
    add_to_epoll(ep.get(), signal_fd, kSignal);
    if (stop_fd >= 0) add_to_epoll(ep.get(), stop_fd, kStop);
    queues.start([&engine](const QueuedPacket& p) { engine.on_packet(p); });
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

    // Everything that can be wrong with the configuration is found before anything is installed.
    RuleStoreOptions ro;
    ro.dir = config.rules_path;
    RuleStore rules(ro);
    if (auto problems = rules.load(); !problems.empty()) {
        for (const Error& e : problems)
            print_error("%s", e.message.c_str());
        print_error("run: fix the rules above; nothing was installed");
        return kExitUsage;
    }
    EventsFile* events_ptr = nullptr;
    std::unique_ptr<EventsFile> events;
    if (!config.events_file.empty()) {
        auto ev = EventsFile::open(config.events_file);
        if (!ev) {
            print_error("%s", ev.error().message.c_str());
            return kExitUsage;
        }
        events = std::move(*ev);
        events_ptr = events.get();
    }
    if (!headless && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        print_error("run: the prompt needs a terminal; use --headless without one");
        return kExitUsage;
    }
    if (geteuid() != 0) {
        print_error("run: needs root (NFQUEUE and firewall rules)");
        return kExitFailure;
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
    if (auto s = rules.watch(); !s)
        log.error("rules: " + s.error().message + " (changes on disk need a restart)");
    // With ebpf: the module's maps as the first rung (also tried on the queue thread, where a
    // rule can then decide at once), then sock_diag or /proc.
    bpf::AttributionStack attribution = bpf::make_attribution_stack(config.proc_monitor_method);
    if (!attribution.notice.empty()) log.info("attribution: " + attribution.notice);
    AttributionLadder& ladder = *attribution.ladder;
    const Method method = attribution.ebpf ? Method::ebpf : ladder.method();

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
        bpf::KernelVerdicts::create(rules, &names.cache(), bpf::kernel_path_options_from_env());
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

    if (kernel_path && (*firewall)->backend_name() != "iptables") {
        kernel_path.reset();
        kernel_notice = "kernel path unavailable (it needs the iptables backend's xt_bpf)";
    }
    if (!kernel_notice.empty()) log.info(kernel_notice);
    EngineOptions eo = engine_options(config);
    eo.interactive = !headless;  // headless: what no rule decides gets DefaultAction at once
    Engine engine(eo, **queues, ladder, rules, &names, attribution.fast.get());
    if (events_ptr) engine.add_observer(events_ptr);
    if (kernel_path) {
        engine.add_observer(kernel_path.get());
        rules.set_on_change([k = kernel_path.get()] { k->invalidate(); });
        names.set_on_rename([k = kernel_path.get()](const IpAddress* a) { k->address_renamed(a); });
    }
    std::unique_ptr<EngineBackend> tui;
    if (!headless) {
        tui::EngineStatus status;
        status.intercepting = true;
        status.queue_num = config.queue_num;
        status.queue_count = (*queues)->count();
        status.method = method;
        status.fallback_notice = attribution.notice;
        if (!kernel_notice.empty())
            status.fallback_notice += (status.fallback_notice.empty() ? "" : "; ") + kernel_notice;
        status.firewall = std::string((*firewall)->backend_name());
        tui = std::make_unique<EngineBackend>(engine, rules, status, config.default_action,
                                              config.stats_max_events);
        engine.add_observer(tui.get());
        tui->set_host_names([&names](const IpAddress& a) { return names.host_for(a); });
    }
    engine.start();
    if (auto s = (*firewall)->install(); !s) {
        print_error("installing the firewall rules: %s", s.error().message.c_str());
        (void)(*firewall)->remove();
        return kExitFailure;
    }
    if (kernel_path) kernel_path->start(engine);
    log.attach(tui.get());  // from here on the terminal may belong to the TUI
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
    std::thread keeper(housekeeping, std::ref(**firewall), std::ref(**queues), std::ref(rules),
                       std::ref(engine), names_file.get(), tui.get(), std::ref(log),
                       keeper_stop.get());
    int status = kExitOk;
    if (headless) {
        status = serve(**queues, engine, log, signal_fd.get(), -1);
    } else {
        // The TUI owns the terminal and runs on this thread; the queue thread is another one.
        // Whichever ends first (a signal, or the person quitting) ends the other.
        UniqueFd queue_stop(eventfd(0, EFD_CLOEXEC));
        int queue_status = kExitOk;
        std::thread queue_thread([&] {
            queue_status = serve(**queues, engine, log, signal_fd.get(), queue_stop.get());
            tui->stop();
        });
        tui->publish_all();
        tui::TuiOptions to;
        to.default_duration = config.default_duration;
        to.max_events = config.stats_max_events;
        to.max_stats = config.stats_max_stats;
        const int tui_status = tui::run_tui(*tui, to);
        wake(queue_stop.get());
        queue_thread.join();
        log.attach(nullptr);
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
    (*queues)->drain([&engine](const QueuedPacket& p) { engine.on_packet(p); });
    if (kernel_path) {
        kernel_path->stop();  // its last records are read and reported before the engine stops
        rules.set_on_change(nullptr);
        names.set_on_rename(nullptr);
    }
    engine.stop();
    const EngineStats st = engine.stats();
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
    if (kernel_path) {
        const bpf::KernelPathStats ks = kernel_path->stats();
        log.info("kernel path: " + std::to_string(ks.decisions) + " decisions, " +
                 std::to_string(ks.stored) + " rule decisions cached, " +
                 std::to_string(ks.not_cacheable) + " not cacheable, " +
                 std::to_string(ks.no_identity) + " without the kernel's executable, epoch " +
                 std::to_string(ks.epoch));
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
                                      {nullptr, 0, nullptr, 0}};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+c:r:", longopts, nullptr)) != -1) {
        switch (ch) {
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
    return run_engine(*config, o.headless);
}

}  // namespace tsnitch::cli
