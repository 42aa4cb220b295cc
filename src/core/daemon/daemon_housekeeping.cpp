// The Daemon's housekeeping thread: rule files changed on disk, timed rules whose time is up (a
// timer set to the next expiry, not a poll), and the socket table's refreshes. It waits on file
// descriptors only, so it costs nothing while nothing happens.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "core/daemon/daemon.h"

namespace tsnitch {

namespace {

enum : uint64_t { kKick, kExpiry, kRules, kSockets };

bool add_to_epoll(int ep, int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    return ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
}

// "rule files changed on disk: added a; changed b; deleted c", or empty when the rules are the
// same (the store also reloads after its own writes, which were said when made).
std::string reload_text(const RuleStore::Changes& c) {
    std::string out;
    for (const auto& [what, names] :
         {std::pair<const char*, const std::vector<std::string>&>{"added ", c.added},
          {"changed ", c.changed},
          {"deleted ", c.deleted}}) {
        if (names.empty()) continue;
        out += (out.empty() ? "" : "; ") + std::string(what);
        for (size_t i = 0; i < names.size(); ++i)
            out += (i ? ", " : "") + names[i];
    }
    return out.empty() ? out : "rule files changed on disk: " + out;
}

}  // namespace

Status Daemon::start() {
    epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    // Rules expire by the wall clock (RuleStore::next_expiry): an absolute CLOCK_REALTIME timer
    // also fires on time across a clock change or a suspend.
    expiry_timer_ = UniqueFd(::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK));
    kick_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!epoll_ || !expiry_timer_ || !kick_)
        return make_error(std::string("daemon: epoll/timerfd/eventfd: ") + std::strerror(errno),
                          errno);
    add_to_epoll(epoll_.get(), kick_.get(), kKick);
    add_to_epoll(epoll_.get(), expiry_timer_.get(), kExpiry);
    if (rules_.watch_fd() >= 0) add_to_epoll(epoll_.get(), rules_.watch_fd(), kRules);
    arm_expiry_timer();
    engine_.start();
    housekeeping_ = std::thread([this] { housekeeping_loop(); });
    return Ok{};
}

void Daemon::close_front_ends(const std::string& reason) {
    std::lock_guard lock(mu_);
    for (auto& [id, sub] : subscribers_)
        sub.outbox->close(reason);
    subscribers_.clear();
}

void Daemon::stop(const std::string& reason) {
    close_front_ends(reason);
    {
        std::lock_guard lock(mu_);
        if (stopped_) return;
        stopped_ = true;
    }
    stopping_ = true;
    kick();
    if (housekeeping_.joinable()) housekeeping_.join();
    engine_.stop();
    std::lock_guard sockets_lock(sockets_mu_);
    monitor_.reset();
}

void Daemon::kick() {
    if (!kick_) return;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(kick_.get(), &one, sizeof one);
}

void Daemon::add_socket_monitor_to_housekeeping(int wake_fd) {
    if (epoll_) add_to_epoll(epoll_.get(), wake_fd, kSockets);
}

void Daemon::arm_expiry_timer() {
    itimerspec when{};  // zero: disarmed
    if (const auto next = rules_.next_expiry()) {
        const auto ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(next->time_since_epoch()).count();
        // A time already past fires at once (but zero would disarm).
        when.it_value.tv_sec = static_cast<time_t>(std::max<int64_t>(ns, 1) / 1'000'000'000);
        when.it_value.tv_nsec = static_cast<long>(std::max<int64_t>(ns, 1) % 1'000'000'000);
    }
    ::timerfd_settime(expiry_timer_.get(), TFD_TIMER_ABSTIME, &when, nullptr);
}

void Daemon::housekeeping_loop() {
    while (!stopping_) {
        epoll_event events[4];
        const int n = ::epoll_wait(epoll_.get(), events, 4, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            log(LogLevel::error, std::string("housekeeping: epoll_wait: ") + std::strerror(errno));
            return;
        }
        for (int i = 0; i < n && !stopping_; ++i) {
            switch (events[i].data.u64) {
                case kKick: {
                    uint64_t count = 0;
                    (void)!::read(kick_.get(), &count, sizeof count);
                    arm_expiry_timer();
                    break;
                }
                case kExpiry: {
                    uint64_t count = 0;
                    (void)!::read(expiry_timer_.get(), &count, sizeof count);
                    if (const size_t gone = rules_.expire(); gone > 0) {
                        log(LogLevel::info, std::to_string(gone) + " timed rule" +
                                                (gone == 1 ? "" : "s") + " expired");
                        rules_changed();
                    } else {
                        arm_expiry_timer();
                    }
                    break;
                }
                case kRules: {
                    // Other files beside the rules directory wake the watch too; the engine's
                    // flow cache is only dropped when the rules really changed.
                    const uint64_t before = rules_.generation();
                    RuleStore::Changes changes;
                    for (const Error& e : rules_.process_events(&changes))
                        log(LogLevel::error, "rules: " + e.message);
                    if (rules_.generation() != before) {
                        if (auto said = reload_text(changes); !said.empty())
                            log(LogLevel::info, std::move(said));
                        rules_changed();
                    }
                    break;
                }
                case kSockets:
                    publish_socket_table();
                    break;
            }
        }
    }
}

void Daemon::publish_socket_table() {
    std::shared_ptr<const SocketTableSnapshot> snap;
    std::string error;
    {
        std::lock_guard sockets_lock(sockets_mu_);
        if (!monitor_) return;
        snap = monitor_->take(&error);
    }
    if (!snap && error.empty()) return;
    SocketTableUpdate update;
    update.error = error;
    update.table = snap;
    if (snap) {
        // Names of the opened process's peers: the lines that show a host.
        if (names_ && snap->focus) {
            for (const SocketRow& row : snap->focus->sockets) {
                if (!row.inet) continue;
                const IpAddress& peer = row.inet->dst;
                const bool known = std::any_of(update.host_names.begin(), update.host_names.end(),
                                               [&](const auto& kv) { return kv.first == peer; });
                if (known) continue;
                if (auto name = names_->host_for(peer)) update.host_names.emplace_back(peer, *name);
            }
        }
    }
    bool wanted = false;
    {
        std::lock_guard lock(mu_);
        for (auto it = subscribers_.begin(); it != subscribers_.end();) {
            if (!it->second.sockets) {
                ++it;
                continue;
            }
            wanted = true;
            if (it->second.outbox->push(update)) {
                ++it;
            } else {
                it = subscribers_.erase(it);
            }
        }
    }
    if (!wanted) (void)update_socket_monitor();  // its last subscriber went away
}

}  // namespace tsnitch
