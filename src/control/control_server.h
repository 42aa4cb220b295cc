// The control socket server (DESIGN.md §10): serves the Daemon to every front end that connects
// to Control.Socket, on a thread of its own. Per client: an SO_PEERCRED check (root, or a member
// of Control.Group), the hello each way, then the daemon's events out and the client's commands
// in, through a DaemonLink that the daemon opens for it. A client gets a non-blocking socket and
// a bounded write buffer: one that stops reading, sends garbage or an oversized line is closed,
// alone; the firewall never waits for any of them.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "control/control_socket.h"
#include "core/config.h"
#include "core/daemon/records.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace tsnitch {

struct ControlServerOptions {
    std::string socket_path;  // Control.Socket
    std::string group;        // Control.Group; empty: root only
    std::string program;      // in the daemon's hello, e.g. "tsnitch 0.1.0"
    size_t max_clients = 32;
    // Bytes waiting for one client before it counts as not reading and is closed: one
    // daemon line of the longest kind fits.
    size_t max_backlog = (size_t{16} << 20) + (size_t{1} << 20);
};

class ControlServer {
  public:
    // A new front end's link to the daemon: its first event is a Snapshot. Called on the
    // server's thread.
    using OpenLink = std::function<std::unique_ptr<DaemonLink>()>;
    // The daemon's log (refused clients, closed clients). Called on the server's thread.
    using Log = std::function<void(LogLevel, const std::string&)>;

    // Binds Control.Socket (an error when a daemon already runs) and starts serving.
    static Result<std::unique_ptr<ControlServer>> start(ControlServerOptions options,
                                                        OpenLink open_link, Log log);
    ~ControlServer();  // closes every client and removes the socket file
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Clients connected now (handshake done or not).
    size_t clients() const { return clients_.load(); }
    const std::string& path() const { return listener_.path(); }

  private:
    struct Client;
    ControlServer(ControlServerOptions options, ControlListener listener, OpenLink open_link,
                  Log log, UniqueFd stop);
    void loop();
    void accept_clients(std::vector<std::unique_ptr<Client>>& clients);
    void read_from(Client& c);
    void handle_line(Client& c, std::string_view line);
    void forward_events(Client& c);
    void flush(Client& c);
    void close_client(Client& c, const std::string& reason, bool tell);
    void queue_line(Client& c, std::string line);
    std::string refusal(const ::ucred& cred) const;

    ControlServerOptions options_;
    ControlListener listener_;
    OpenLink open_link_;
    Log log_;
    UniqueFd stop_;
    std::atomic<size_t> clients_{0};
    std::thread thread_;
};

}  // namespace tsnitch
