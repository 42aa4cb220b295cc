#include "control/control_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "core/control/control_codec.h"

namespace tsnitch {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kReadsPerWake = 4;  // so that one busy client cannot starve the others
constexpr std::chrono::milliseconds kBatchInterval{10};

// The supplementary groups of the peer as they were at connect() (SO_PEERGROUPS).
std::vector<gid_t> peer_groups(int fd) {
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 4; ++attempt) {
        socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
            groups.resize(len / sizeof(gid_t));
            return groups;
        }
        if (errno != ERANGE) break;
        groups.resize(len / sizeof(gid_t) + 1);
    }
    return {};
}

}  // namespace

struct ControlServer::Client {
    UniqueFd fd;
    // The link is not looked at again before then: events are sent in batches, so that a busy
    // firewall wakes this thread a hundred times a second per client, not once per decision.
    std::chrono::steady_clock::time_point quiet_until;
    ::ucred cred{};
    std::string in;   // bytes of a line not yet complete
    std::string out;  // bytes not yet written, from out_sent on
    size_t out_sent = 0;
    bool hello = false;            // the client's hello arrived
    bool last_event_sent = false;  // a Stopping was queued: close once it is written
    bool dead = false;
    std::unique_ptr<DaemonLink> link;

    size_t waiting() const { return out.size() - out_sent; }
    std::string who() const {
        return "uid " + std::to_string(cred.uid) + " pid " + std::to_string(cred.pid);
    }
};

Result<std::unique_ptr<ControlServer>> ControlServer::start(ControlServerOptions options,
                                                            OpenLink open_link, Log log) {
    auto listener = ControlListener::open(options.socket_path, options.group);
    if (!listener) return listener.error();
    UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop) return make_error(std::string("eventfd: ") + std::strerror(errno), errno);
    return std::unique_ptr<ControlServer>(
        new ControlServer(std::move(options), std::move(*listener), std::move(open_link),
                          std::move(log), std::move(stop)));
}

ControlServer::ControlServer(ControlServerOptions options, ControlListener listener,
                             OpenLink open_link, Log log, UniqueFd stop)
    : options_(std::move(options)),
      listener_(std::move(listener)),
      open_link_(std::move(open_link)),
      log_(std::move(log)),
      stop_(std::move(stop)) {
    thread_ = std::thread([this] { loop(); });
}

ControlServer::~ControlServer() {
    const uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    thread_.join();
}

std::string ControlServer::refusal(const ::ucred& cred) const {
    if (cred.uid == 0 || cred.uid == ::geteuid()) return {};
    if (const auto gid = listener_.group()) {
        if (cred.gid == *gid) return {};
        return "uid " + std::to_string(cred.uid) + " is neither root nor a member of group " +
               options_.group;
    }
    return "uid " + std::to_string(cred.uid) + " is not root (Control.Group names no group)";
}

void ControlServer::queue_line(Client& c, std::string line) {
    if (c.dead) return;
    if (c.waiting() + line.size() + 1 > options_.max_backlog) {
        close_client(
            c, "not reading: more than " + std::to_string(options_.max_backlog) + " bytes waiting",
            false);
        return;
    }
    if (c.out_sent > 0 && c.out_sent == c.out.size()) {
        c.out.clear();
        c.out_sent = 0;
    }
    c.out += line;
    c.out += '\n';
}

void ControlServer::flush(Client& c) {
    while (!c.dead && c.waiting() > 0) {
        const ssize_t n =
            ::send(c.fd.get(), c.out.data() + c.out_sent, c.waiting(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out_sent += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        close_client(c, std::string("writing: ") + std::strerror(errno), false);
        return;
    }
    if (c.waiting() == 0) {
        c.out.clear();
        c.out_sent = 0;
        if (c.last_event_sent) close_client(c, "the daemon ended this front end's link", false);
    } else if (c.out_sent > (size_t{1} << 20)) {
        c.out.erase(0, c.out_sent);
        c.out_sent = 0;
    }
}

void ControlServer::close_client(Client& c, const std::string& reason, bool tell) {
    if (c.dead) return;
    if (tell) {
        // Best effort: one non-blocking write of what waits and the reason.
        c.out += encode_closing({reason});
        c.out += '\n';
        (void)!::send(c.fd.get(), c.out.data() + c.out_sent, c.waiting(),
                      MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (log_) log_(LogLevel::info, "control: closed client " + c.who() + ": " + reason);
    c.dead = true;
    c.link.reset();  // unsubscribes
}

void ControlServer::accept_clients(std::vector<std::unique_ptr<Client>>& clients) {
    for (;;) {
        UniqueFd fd(::accept4(listener_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED && log_)
                log_(LogLevel::warning, std::string("control: accept: ") + std::strerror(errno));
            return;
        }
        auto c = std::make_unique<Client>();
        c->fd = std::move(fd);
        socklen_t len = sizeof c->cred;
        if (::getsockopt(c->fd.get(), SOL_SOCKET, SO_PEERCRED, &c->cred, &len) != 0) {
            if (log_) log_(LogLevel::warning, "control: SO_PEERCRED failed; client closed");
            continue;
        }
        std::string refused = refusal(c->cred);
        if (!refused.empty() && listener_.group()) {
            const auto groups = peer_groups(c->fd.get());
            if (std::find(groups.begin(), groups.end(), *listener_.group()) != groups.end())
                refused.clear();
        }
        if (refused.empty() && clients.size() >= options_.max_clients)
            refused = "too many clients (" + std::to_string(options_.max_clients) + ")";
        if (!refused.empty()) {
            if (log_) log_(LogLevel::warning, "control: refused " + c->who() + ": " + refused);
            const std::string line = encode_closing({"not allowed: " + refused}) + "\n";
            (void)!::send(c->fd.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            continue;
        }
        queue_line(*c, encode_hello({ControlHello::Role::daemon, kControlProtocolVersion,
                                     options_.program}));
        flush(*c);
        if (log_) log_(LogLevel::info, "control: client " + c->who() + " connected");
        clients.push_back(std::move(c));
        clients_.store(clients.size());
    }
}

void ControlServer::read_from(Client& c) {
    for (size_t reads = 0; reads < kReadsPerWake && !c.dead; ++reads) {
        char buf[kReadChunk];
        const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) {
            close_client(c, "detached", false);
            return;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            close_client(c, std::string("reading: ") + std::strerror(errno), false);
            return;
        }
        size_t start = 0;
        const std::string_view chunk(buf, static_cast<size_t>(n));
        for (size_t nl; !c.dead && (nl = chunk.find('\n', start)) != std::string_view::npos;
             start = nl + 1) {
            if (c.in.empty()) {
                handle_line(c, chunk.substr(start, nl - start));
            } else {
                c.in.append(chunk.substr(start, nl - start));
                const std::string line = std::move(c.in);
                c.in.clear();
                handle_line(c, line);
            }
        }
        if (c.dead) return;
        c.in.append(chunk.substr(start));
        if (c.in.size() > kMaxClientLine) {
            close_client(c, "message longer than " + std::to_string(kMaxClientLine) + " bytes",
                         true);
            return;
        }
    }
}

void ControlServer::handle_line(Client& c, std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    if (!c.hello) {
        auto hello = decode_hello(line, ControlHello::Role::client);
        if (!hello) {
            close_client(c, "bad hello: " + hello.error().message, true);
            return;
        }
        if (const std::string mismatch = hello_mismatch(*hello); !mismatch.empty()) {
            close_client(c, mismatch, true);
            return;
        }
        c.hello = true;
        c.link = open_link_ ? open_link_() : nullptr;
        if (!c.link) {
            close_client(c, "the daemon takes no front ends now", true);
            return;
        }
        forward_events(c);
        return;
    }
    auto command = decode_command(line);
    if (!command) {
        close_client(c, "bad message: " + command.error().message, true);
        return;
    }
    c.link->send(std::move(*command));
    forward_events(c);  // the reply, without another trip through poll
}

void ControlServer::forward_events(Client& c) {
    if (c.dead || !c.link) return;
    for (DaemonEvent& e : c.link->drain()) {
        const bool last = std::holds_alternative<Stopping>(e);
        queue_line(c, encode_event(e));
        if (c.dead) return;
        if (last) {
            c.last_event_sent = true;
            c.link.reset();
            break;
        }
    }
    flush(c);
}

void ControlServer::loop() {
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<pollfd> fds;
    enum class Role { client_socket, client_link };
    std::vector<std::pair<size_t, Role>> owner;  // fds[i + 2] belongs to clients[owner[i].first]
    for (;;) {
        fds.assign({{stop_.get(), POLLIN, 0}, {listener_.fd(), POLLIN, 0}});
        owner.clear();
        const auto now = std::chrono::steady_clock::now();
        int timeout_ms = -1;
        for (size_t i = 0; i < clients.size(); ++i) {
            Client& c = *clients[i];
            short events = c.last_event_sent ? 0 : POLLIN;
            if (c.waiting() > 0) events |= POLLOUT;
            fds.push_back({c.fd.get(), events, 0});
            owner.emplace_back(i, Role::client_socket);
            if (!c.link) continue;
            if (now < c.quiet_until) {
                const auto left = std::chrono::ceil<std::chrono::milliseconds>(c.quiet_until - now);
                if (timeout_ms < 0 || left.count() < timeout_ms)
                    timeout_ms = static_cast<int>(left.count());
                continue;
            }
            fds.push_back({c.link->wake_fd(), POLLIN, 0});
            owner.emplace_back(i, Role::client_link);
        }
        if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
            if (errno == EINTR) continue;
            if (log_) log_(LogLevel::error, std::string("control: poll: ") + std::strerror(errno));
            break;
        }
        if (fds[0].revents) break;
        for (size_t k = 2; k < fds.size(); ++k) {
            if (!fds[k].revents) continue;
            Client& c = *clients[owner[k - 2].first];
            if (c.dead) continue;
            if (owner[k - 2].second == Role::client_link) {
                forward_events(c);
                c.quiet_until = std::chrono::steady_clock::now() + kBatchInterval;
                continue;
            }
            if (fds[k].revents & POLLOUT) flush(c);
            if (!c.dead && (fds[k].revents & (POLLIN | POLLHUP | POLLERR))) {
                if (c.last_event_sent)
                    close_client(c, "detached", false);
                else
                    read_from(c);
            }
        }
        if (fds[1].revents) accept_clients(clients);
        std::erase_if(clients, [](const std::unique_ptr<Client>& c) { return c->dead; });
        clients_.store(clients.size());
    }
    for (auto& c : clients)
        close_client(*c, "the daemon stops", true);
    clients.clear();
    clients_.store(0);
}

}  // namespace tsnitch
