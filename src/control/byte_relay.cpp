#include "control/byte_relay.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tsnitch {

namespace {

// One direction: bytes read from `from` wait here until `to` takes them.
struct Pipe {
    char buf[64 * 1024];
    size_t len = 0;
    size_t sent = 0;
    bool eof = false;
    bool empty() const { return sent == len; }
};

Status io_error(const char* what) {
    return make_error(std::string(what) + ": " + std::strerror(errno), errno);
}

}  // namespace

Status relay_bytes(int in, int out, int socket) {
    Pipe up;    // in -> socket
    Pipe down;  // socket -> out
    bool up_shut = false;
    for (;;) {
        if (down.eof && down.empty()) return Ok{};
        if (up.eof && up.empty() && !up_shut) {
            ::shutdown(socket,
                       SHUT_WR);  // the daemon sees the client go; its last lines still come
            up_shut = true;
        }
        pollfd fds[4] = {
            {(!up.eof && up.empty()) ? in : -1, POLLIN, 0},
            {!up.empty() ? socket : -1, POLLOUT, 0},
            {(!down.eof && down.empty()) ? socket : -1, POLLIN, 0},
            {!down.empty() ? out : -1, POLLOUT, 0},
        };
        if (::poll(fds, 4, -1) < 0) {
            if (errno == EINTR) continue;
            return io_error("poll");
        }
        if (fds[0].revents) {
            const ssize_t n = ::read(in, up.buf, sizeof up.buf);
            if (n < 0 && errno != EINTR && errno != EAGAIN) return io_error("reading stdin");
            if (n == 0) up.eof = true;
            if (n > 0) up.len = static_cast<size_t>(n), up.sent = 0;
        }
        if (fds[1].revents) {
            const ssize_t n = ::send(socket, up.buf + up.sent, up.len - up.sent, MSG_NOSIGNAL);
            if (n < 0 && errno != EINTR && errno != EAGAIN) {
                // The daemon closed the connection: what it said last is still to be read.
                up.eof = true;
                up.sent = up.len;
                up_shut = true;
            }
            if (n > 0) up.sent += static_cast<size_t>(n);
        }
        if (fds[2].revents) {
            const ssize_t n = ::recv(socket, down.buf, sizeof down.buf, 0);
            if (n < 0 && errno == ECONNRESET)
                down.eof = true;
            else if (n < 0 && errno != EINTR && errno != EAGAIN)
                return io_error("reading the control socket");
            if (n == 0) down.eof = true;
            if (n > 0) down.len = static_cast<size_t>(n), down.sent = 0;
        }
        if (fds[3].revents) {
            const ssize_t n = ::write(out, down.buf + down.sent, down.len - down.sent);
            if (n < 0 && errno != EINTR && errno != EAGAIN) return io_error("writing stdout");
            if (n > 0) down.sent += static_cast<size_t>(n);
        }
    }
}

}  // namespace tsnitch
