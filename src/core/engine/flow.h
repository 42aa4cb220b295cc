// Keys the engine files packets under: a flow (one connection's 5-tuple) and a prompt (one
// process talking to one destination, so that its parallel connections share one question).
#pragma once

#include <cstdint>
#include <string>

#include "core/address.h"
#include "core/connection.h"

namespace tsnitch {

struct PacketInfo;

// For TCP the key also holds the SYN's sequence number: a retransmitted SYN carries the same one,
// a new connection that reuses the ports (bound, or handed out again) another, and it must be
// decided for itself, not answered with the verdict of the process that had those ports before.
struct FlowKey {
    Protocol protocol = Protocol::tcp;
    IpAddress src;
    uint16_t src_port = 0;
    IpAddress dst;
    uint16_t dst_port = 0;
    uint32_t tcp_isn = 0;
    friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

struct FlowKeyHash {
    size_t operator()(const FlowKey& k) const noexcept;
};

FlowKey flow_of(const PacketInfo& p);

struct PromptKey {
    int pid = 0;
    std::string path;
    Protocol protocol = Protocol::tcp;
    IpAddress dst;
    uint16_t dst_port = 0;
    friend bool operator==(const PromptKey&, const PromptKey&) = default;
};

struct PromptKeyHash {
    size_t operator()(const PromptKey& k) const noexcept;
};

PromptKey prompt_key_of(const Connection& c);

// Whether an outbound packet can open a connection worth a decision. TCP segments without SYN
// (a RST that REJECT sends, segments of connections older than tsnitch) and ICMP errors answer
// something that already exists, so they pass.
bool opens_connection(const PacketInfo& p);

}  // namespace tsnitch
