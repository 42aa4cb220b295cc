#include "nfq/conntrack.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace tsnitch::nfq {

std::vector<uint8_t> build_conntrack_delete(const ConntrackTuple& t, uint32_t seq) {
    const IpAddress src = t.src.unmapped(), dst = t.dst.unmapped();
    std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = src.is_v4() ? AF_INET : AF_INET6;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;

    nlattr* tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
    nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    if (src.is_v4()) {
        mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, src.bytes().data());
        mnl_attr_put(nlh, CTA_IP_V4_DST, 4, dst.bytes().data());
    } else {
        mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, src.bytes().data());
        mnl_attr_put(nlh, CTA_IP_V6_DST, 16, dst.bytes().data());
    }
    mnl_attr_nest_end(nlh, ip);
    nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, static_cast<uint8_t>(t.protocol));
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t.src_port));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t.dst_port));
    mnl_attr_nest_end(nlh, proto);
    mnl_attr_nest_end(nlh, tuple);
    buf.resize(nlh->nlmsg_len);
    return buf;
}

void ConntrackClient::SocketCloser::operator()(mnl_socket* s) const {
    if (s) mnl_socket_close(s);
}

Result<ConntrackClient> ConntrackClient::open() {
    mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!s) return make_error(std::string("ctnetlink socket: ") + std::strerror(errno), errno);
    ConntrackClient c(s);
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
        return make_error(std::string("ctnetlink bind: ") + std::strerror(errno), errno);
    return c;
}

Result<bool> ConntrackClient::erase(const ConntrackTuple& t) {
    const uint32_t seq = ++seq_;
    const std::vector<uint8_t> req = build_conntrack_delete(t, seq);
    if (mnl_socket_sendto(sock_.get(), req.data(), req.size()) < 0)
        return make_error(std::string("ctnetlink delete: ") + std::strerror(errno), errno);
    std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
    const unsigned portid = mnl_socket_get_portid(sock_.get());
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return make_error(std::string("ctnetlink answer: ") + std::strerror(errno), errno);
        const int rc =
            mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, nullptr, nullptr);
        if (rc == MNL_CB_STOP) return true;  // the acknowledgement (error 0)
        if (rc < 0 && errno == ENOENT) return false;
        if (rc < 0 && errno == ESRCH) continue;  // an answer to an earlier request
        if (rc < 0)
            return make_error(std::string("ctnetlink delete: ") + std::strerror(errno), errno);
    }
}

}  // namespace tsnitch::nfq
