// The client side of the control protocol: a DaemonLink over a byte stream (the control socket,
// or the pipes of `ssh HOST tsnitch attach --stdio`). A thread of its own reads and writes the
// stream, so that drain() and send() never block: the TUI cannot tell it from the daemon in its
// own process. When the stream ends or the daemon says something this side cannot read, the
// last event is a Stopping that says why.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/daemon/records.h"
#include "core/unique_fd.h"

namespace tsnitch {

class StreamLink final : public DaemonLink {
  public:
    // Reads from `in` and writes to `out` (the same socket twice is fine: pass a dup), both made
    // non-blocking. Sends the client hello at once; `program` names this side in it.
    StreamLink(UniqueFd in, UniqueFd out, std::string program);
    ~StreamLink() override;
    StreamLink(const StreamLink&) = delete;
    StreamLink& operator=(const StreamLink&) = delete;

    int wake_fd() const override { return wake_.get(); }
    std::vector<DaemonEvent> drain() override;
    void send(DaemonCommand command) override;

    // The daemon's hello, once it came ("tsnitch 0.1.0"); empty before.
    std::string daemon_program() const;

  private:
    void loop();
    void deliver(DaemonEvent e);              // with mu_ held
    void finish(std::string reason);          // with mu_ held: the last event, then nothing
    bool handle_line(std::string_view line);  // false: the link ended

    UniqueFd in_;
    UniqueFd out_;
    UniqueFd wake_;    // readable while events_ is not empty
    UniqueFd notify_;  // wakes the thread: something to write, or stop
    mutable std::mutex mu_;
    std::deque<DaemonEvent> events_;
    std::string outgoing_;  // encoded commands the thread has not taken yet
    bool stop_ = false;
    bool ended_ = false;
    bool hello_ = false;
    std::string daemon_program_;
    std::thread thread_;
};

}  // namespace tsnitch
