#include "control/stream_link.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/control/control_codec.h"

namespace tsnitch {

namespace {

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void signal_fd(int fd) {
    const uint64_t one = 1;
    (void)!::write(fd, &one, sizeof one);
}

void clear_fd(int fd) {
    uint64_t n = 0;
    (void)!::read(fd, &n, sizeof n);
}

}  // namespace

StreamLink::StreamLink(UniqueFd in, UniqueFd out, std::string program)
    : in_(std::move(in)),
      out_(std::move(out)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      notify_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    set_nonblocking(in_.get());
    set_nonblocking(out_.get());
    outgoing_ =
        encode_hello({ControlHello::Role::client, kControlProtocolVersion, std::move(program)}) +
        "\n";
    thread_ = std::thread([this] { loop(); });
}

StreamLink::~StreamLink() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    signal_fd(notify_.get());
    thread_.join();
}

std::vector<DaemonEvent> StreamLink::drain() {
    std::lock_guard lock(mu_);
    std::vector<DaemonEvent> out(std::make_move_iterator(events_.begin()),
                                 std::make_move_iterator(events_.end()));
    events_.clear();
    clear_fd(wake_.get());
    return out;
}

void StreamLink::send(DaemonCommand command) {
    std::string line = encode_command(command) + "\n";
    {
        std::lock_guard lock(mu_);
        if (ended_) return;
        outgoing_ += line;
    }
    signal_fd(notify_.get());
}

std::string StreamLink::daemon_program() const {
    std::lock_guard lock(mu_);
    return daemon_program_;
}

void StreamLink::deliver(DaemonEvent e) {
    if (ended_) return;
    const bool last = std::holds_alternative<Stopping>(e);
    events_.push_back(std::move(e));
    signal_fd(wake_.get());
    if (last) ended_ = true;
}

void StreamLink::finish(std::string reason) {
    deliver(Stopping{std::move(reason)});
}

bool StreamLink::handle_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return true;
    std::lock_guard lock(mu_);
    if (!hello_) {
        // A refusal comes instead of the hello.
        if (auto closing = decode_daemon_line(line);
            closing && std::holds_alternative<ControlClosing>(*closing)) {
            finish("the daemon closed the connection: " +
                   std::get<ControlClosing>(*closing).reason);
            return false;
        }
        auto hello = decode_hello(line, ControlHello::Role::daemon);
        if (!hello) {
            finish("not a tsnitch daemon (" + hello.error().message + ")");
            return false;
        }
        if (const std::string mismatch = hello_mismatch(*hello); !mismatch.empty()) {
            finish("the daemon speaks " + mismatch);
            return false;
        }
        hello_ = true;
        daemon_program_ = hello->program;
        return true;
    }
    auto decoded = decode_daemon_line(line);
    if (!decoded) {
        finish("bad message from the daemon: " + decoded.error().message);
        return false;
    }
    if (auto* closing = std::get_if<ControlClosing>(&*decoded)) {
        finish("the daemon closed the connection: " + closing->reason);
        return false;
    }
    deliver(std::move(std::get<DaemonEvent>(*decoded)));
    return !ended_;
}

void StreamLink::loop() {
    std::string in;   // bytes of a line not yet complete
    std::string out;  // bytes being written
    size_t out_sent = 0;
    bool reading = true;
    for (;;) {
        {
            std::lock_guard lock(mu_);
            if (stop_) return;
            if (ended_) reading = false;
            if (!outgoing_.empty()) {
                out.erase(0, out_sent);
                out_sent = 0;
                out += outgoing_;
                outgoing_.clear();
            }
        }
        pollfd fds[3] = {{notify_.get(), POLLIN, 0},
                         {reading ? in_.get() : -1, POLLIN, 0},
                         {out_sent < out.size() && reading ? out_.get() : -1, POLLOUT, 0}};
        if (::poll(fds, 3, -1) < 0 && errno != EINTR) {
            std::lock_guard lock(mu_);
            finish(std::string("poll: ") + std::strerror(errno));
            reading = false;
            continue;
        }
        if (fds[0].revents) clear_fd(notify_.get());
        if (fds[2].revents) {
            const ssize_t n = ::write(out_.get(), out.data() + out_sent, out.size() - out_sent);
            if (n > 0) {
                out_sent += static_cast<size_t>(n);
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                std::lock_guard lock(mu_);
                finish(std::string("writing to the daemon: ") + std::strerror(errno));
                reading = false;
            }
        }
        if (fds[1].revents) {
            char buf[64 * 1024];
            const ssize_t n = ::read(in_.get(), buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                std::lock_guard lock(mu_);
                finish(n == 0 ? "the daemon closed the connection"
                              : std::string("reading from the daemon: ") + std::strerror(errno));
                reading = false;
                continue;
            }
            if (n < 0) continue;
            // Only the new bytes are searched for the end of the line.
            size_t from = in.size();
            in.append(buf, static_cast<size_t>(n));
            size_t start = 0;
            for (size_t nl; reading && (nl = in.find('\n', from)) != std::string::npos;
                 start = from = nl + 1)
                reading = handle_line(std::string_view(in).substr(start, nl - start));
            in.erase(0, start);
            if (reading && in.size() > kMaxDaemonLine) {
                std::lock_guard lock(mu_);
                finish("bad message from the daemon: longer than " +
                       std::to_string(kMaxDaemonLine) + " bytes");
                reading = false;
            }
        }
    }
}

}  // namespace tsnitch
