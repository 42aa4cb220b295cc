#include "nfq/ruleset_watch.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tsnitch::nfq {

void RulesetWatch::SocketCloser::operator()(mnl_socket* s) const {
    if (s) mnl_socket_close(s);
}

Result<RulesetWatch> RulesetWatch::open() {
    mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (!s)
        return make_error(std::string("netfilter netlink socket: ") + std::strerror(errno), errno);
    RulesetWatch w(s);
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
        return make_error(std::string("netfilter netlink bind: ") + std::strerror(errno), errno);
    int group = NFNLGRP_NFTABLES;
    if (mnl_socket_setsockopt(s, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
        return make_error(
            std::string("joining the nf_tables notification group: ") + std::strerror(errno),
            errno);
    return w;
}

int RulesetWatch::fd() const {
    return mnl_socket_get_fd(sock_.get());
}

Result<bool> RulesetWatch::drain() {
    std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
    bool changed = false;
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return changed;
        // Notifications were lost: what they said is unknown, so assume a change.
        if (n < 0 && errno == ENOBUFS) {
            changed = true;
            continue;
        }
        if (n < 0)
            return make_error(
                std::string("reading nf_tables notifications: ") + std::strerror(errno), errno);
        if (count_ruleset_changes(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n))) > 0)
            changed = true;
    }
}

size_t count_ruleset_changes(std::span<const uint8_t> datagram) {
    // Not mnl_nlmsg_ok: it compares the length as an int, so a length above 2 GiB passes as
    // negative and the next header is looked for far outside the datagram.
    size_t changes = 0;
    size_t off = 0;
    while (datagram.size() - off >= sizeof(nlmsghdr)) {
        nlmsghdr h;
        std::memcpy(&h, datagram.data() + off, sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > datagram.size() - off) break;
        if ((h.nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES) ++changes;
        const size_t step = NLMSG_ALIGN(h.nlmsg_len);
        if (step > datagram.size() - off) break;
        off += step;
    }
    return changes;
}

}  // namespace tsnitch::nfq
