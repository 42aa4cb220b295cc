#include "nfq/nf_queue.h"
#include "core/text.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

#include "nfq/marks.h"
#include "nfq/queue_message.h"

namespace tsnitch::nfq {

namespace {

constexpr size_t kBatch = 16;  // datagrams per recvmmsg
constexpr size_t kBufSize = 0xffff + 4096;

}  // namespace

Result<std::unique_ptr<NfQueue>> NfQueue::open(const NfQueueOptions& o) {
    std::unique_ptr<NfQueue> q(new NfQueue());
    q->queue_num_ = o.queue_num;
    q->nl_ = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!q->nl_) return make_error("opening netfilter netlink socket: " + errno_text(errno), errno);
    if (mnl_socket_bind(q->nl_, 0, MNL_SOCKET_AUTOPID) < 0)
        return make_error("binding netfilter netlink socket: " + errno_text(errno), errno);
    q->portid_ = mnl_socket_get_portid(q->nl_);
    const int fd = mnl_socket_get_fd(q->nl_);
    // A big receive buffer absorbs bursts. NETLINK_NO_ENOBUFS stays off: an overflow is reported
    // once as ENOBUFS (counted), and the socket goes on working.
    int rcvbuf = o.rcvbuf_bytes;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

    if (auto s = q->send_config(NFQNL_CFG_CMD_BIND, nullptr); !s) {
        // The kernel answers EPERM when another socket has bound the queue.
        const bool taken = s.error().code == EPERM || s.error().code == EBUSY;
        return make_error("binding NFQUEUE " + std::to_string(o.queue_num) + ": " +
                              s.error().message + (taken ? " (is another firewall using it?)" : ""),
                          s.error().code);
    }
    q->bound_ = true;
    if (auto s = q->send_config(NFQNL_CFG_CMD_NONE, &o); !s) {
        return make_error(
            "configuring NFQUEUE " + std::to_string(o.queue_num) + ": " + s.error().message,
            s.error().code);
    }
    q->bufs_.assign(kBatch, std::vector<char>(kBufSize));
    return q;
}

Status NfQueue::send_config(uint8_t cmd, const NfQueueOptions* params) {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num_);
    nlh->nlmsg_flags |= NLM_F_ACK;
    if (cmd != NFQNL_CFG_CMD_NONE) nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, cmd);
    if (params) {
        nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, static_cast<int>(params->copy_range));
        nfq_nlmsg_cfg_put_qmaxlen(nlh, params->max_len);
        uint32_t flags = NFQA_CFG_F_UID_GID | NFQA_CFG_F_GSO;
        if (params->fail_open) flags |= NFQA_CFG_F_FAIL_OPEN;
        const uint32_t mask = NFQA_CFG_F_UID_GID | NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;
        mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
        mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
    }
    const uint32_t seq = nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0)
        return make_error(errno_text(errno), errno);
    char rbuf[MNL_SOCKET_BUFFER_SIZE];
    const ssize_t n = mnl_socket_recvfrom(nl_, rbuf, sizeof rbuf);
    if (n < 0) return make_error(errno_text(errno), errno);
    if (mnl_cb_run(rbuf, static_cast<size_t>(n), seq, portid_, nullptr, nullptr) < 0)
        return make_error(errno_text(errno), errno);
    return Ok{};
}

NfQueue::~NfQueue() {
    if (bound_) (void)send_config(NFQNL_CFG_CMD_UNBIND, nullptr);
    if (nl_) mnl_socket_close(nl_);
}

Status NfQueue::receive(const std::function<void(const QueuedPacket&)>& on_packet, bool wait) {
    const int fd = mnl_socket_get_fd(nl_);
    mmsghdr msgs[kBatch] = {};
    iovec iov[kBatch];
    for (size_t i = 0; i < kBatch; ++i) {
        iov[i] = {bufs_[i].data(), bufs_[i].size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const auto from_this_queue = [this, &on_packet](const QueuedPacket& p) {
        QueuedPacket tagged = p;
        tagged.queue = queue_num_;
        on_packet(tagged);
    };
    // MSG_WAITFORONE: blocks for the first datagram only, then takes what else is there.
    int flags = wait ? MSG_WAITFORONE : MSG_DONTWAIT;
    for (;;) {
        const int n = recvmmsg(fd, msgs, kBatch, flags, nullptr);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return Ok{};
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) {
                ++enobufs_;
                continue;
            }
            return make_error(
                "reading NFQUEUE " + std::to_string(queue_num_) + ": " + errno_text(errno), errno);
        }
        flags = MSG_DONTWAIT;
        for (int i = 0; i < n; ++i) {
            const DatagramSummary d = for_each_queued_packet(
                {reinterpret_cast<const uint8_t*>(bufs_[i].data()), msgs[i].msg_len},
                from_this_queue);
            packets_ += d.packets;
            malformed_ += d.malformed;
        }
        if (static_cast<size_t>(n) < kBatch) return Ok{};
    }
}

void NfQueue::wake() {
    // A configuration message without attributes changes nothing; NLM_F_ACK makes the kernel
    // answer it (an error message, with error 0 or not), and that answer is what wakes the
    // reader. Should the socket's buffer be full, the answer is lost, but then the reader is not
    // blocked: it reads until the buffer is empty and looks again whether to stop.
    char buf[64];  // a header alone
    nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num_);
    nlh->nlmsg_flags |= NLM_F_ACK;
    (void)mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len);
}

void NfQueue::set_verdict(uint16_t /*queue*/, uint32_t id, Verdict v, uint32_t mark) {
    char buf[256];
    nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue_num_);
    switch (v) {
        case Verdict::pass:
            nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), NF_ACCEPT);
            break;
        case Verdict::allow:
            nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), NF_ACCEPT);
            nfq_nlmsg_verdict_put_mark(nlh, with_mark(mark, kMarkAllow));
            break;
        case Verdict::deny:
            nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), NF_DROP);
            break;
        case Verdict::reject:
            nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), NF_ACCEPT);
            nfq_nlmsg_verdict_put_mark(nlh, with_mark(mark, kMarkReject));
            break;
    }
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) ++verdict_errors_;
}

NfQueueStats NfQueue::stats() const {
    return {packets_.load(), enobufs_.load(), verdict_errors_.load(), malformed_.load()};
}

}  // namespace tsnitch::nfq
