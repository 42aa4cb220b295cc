#include "core/engine/flow.h"

#include <functional>

#include "core/packet/packet.h"

namespace tsnitch {

namespace {

size_t mix(size_t h, size_t v) {
    return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

}  // namespace

size_t FlowKeyHash::operator()(const FlowKey& k) const noexcept {
    std::hash<IpAddress> ha;
    size_t h = static_cast<size_t>(k.protocol);
    h = mix(h, ha(k.src));
    h = mix(h, ha(k.dst));
    h = mix(h, (static_cast<size_t>(k.src_port) << 16) | k.dst_port);
    return mix(h, k.tcp_isn);
}

size_t PromptKeyHash::operator()(const PromptKey& k) const noexcept {
    size_t h = mix(static_cast<size_t>(k.pid), std::hash<std::string>()(k.path));
    h = mix(h, std::hash<IpAddress>()(k.dst));
    return mix(h, (static_cast<size_t>(k.protocol) << 16) | k.dst_port);
}

FlowKey flow_of(const PacketInfo& p) {
    return {p.protocol, p.src,      p.src_port,
            p.dst,      p.dst_port, p.protocol == Protocol::tcp ? p.tcp_seq : 0};
}

PromptKey prompt_key_of(const Connection& c) {
    PromptKey k;
    if (c.process) {
        k.pid = c.process->pid;
        k.path = c.process->path;
    }
    k.protocol = c.protocol;
    k.dst = c.dst;
    k.dst_port = c.dst_port;
    return k;
}

bool opens_connection(const PacketInfo& p) {
    switch (p.protocol) {
        case Protocol::tcp:
            return (p.tcp_flags & (kTcpSyn | kTcpRst)) == kTcpSyn;
        case Protocol::icmp:
            // destination unreachable, source quench, redirect, time exceeded, parameter problem
            return !(p.icmp_type == 3 || p.icmp_type == 4 || p.icmp_type == 5 ||
                     p.icmp_type == 11 || p.icmp_type == 12);
        case Protocol::icmp6:
            return p.icmp_type >= 128;  // 1..127 are errors
        default:
            return true;
    }
}

}  // namespace tsnitch
