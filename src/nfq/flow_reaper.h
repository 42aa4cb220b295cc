// A decision never outlives the socket it was made for. When a UDP socket is destroyed, the
// kernel tells sock_diag listeners of its namespace (SKNLGRP_INET_UDP_DESTROY /
// SKNLGRP_INET6_UDP_DESTROY); the reaper then deletes the conntrack entries of the socket's flows
// (they carry tsnitch's allow mark and would let another socket on the same addresses and ports
// pass unqueued) and makes the engine forget their cached verdicts. TCP needs no reaping: every
// SYN is queued (ruleset.h) and the engine keys TCP flows by the SYN's sequence number.
//
// The owner polls fd() and calls on_readable() when it is readable; it returns what to log.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/attribution/socket_entry.h"
#include "core/engine/engine.h"
#include "core/result.h"
#include "nfq/conntrack.h"

struct mnl_socket;

namespace tsnitch::nfq {

class FlowReaper {
  public:
    // Fails when the kernel offers no destroy notifications or ctnetlink.
    static Result<FlowReaper> open(Engine& engine);

    int fd() const;
    // Reaps the flows of every socket destroyed since the last call. Returns errors to log.
    std::vector<std::string> on_readable();

  private:
    struct SocketCloser {
        void operator()(mnl_socket* s) const;
    };
    FlowReaper(Engine& engine, mnl_socket* s, ConntrackClient ct)
        : engine_(engine), sock_(s), ct_(std::move(ct)) {}
    void reap(const InetSocket& s, std::vector<std::string>& errors);

    Engine& engine_;
    std::unique_ptr<mnl_socket, SocketCloser> sock_;
    ConntrackClient ct_;
    bool overflow_said_ = false;
};

// The flows (original conntrack tuples) to delete for a destroyed socket: its own tuple when it
// was connected, and each flow the engine had allowed for it (`allowed`: what forget_socket
// returned), without duplicates.
std::vector<ConntrackTuple> flows_to_reap(const InetSocket& s, std::span<const FlowKey> allowed);

}  // namespace tsnitch::nfq
