#include "core/attribution/process_model.h"

namespace tsnitch {

namespace {
Result<std::unique_ptr<DiagClient>> open_diag() {
    auto c = DiagClient::open();
    if (!c) return c.error();
    return std::make_unique<DiagClient>(std::move(*c));
}
}  // namespace

ProcessModel::ProcessModel(Options options)
    : options_(std::move(options)),
      ipv6_(ipv6_enabled(options_.proc_root)),
      index_(options_.proc_root),
      reader_(options_.proc_root) {
    if (options_.diag) {
        auto lookups = open_diag();
        if (!lookups) {
            diag_error_ = "sock_diag unavailable (" + lookups.error().message + ")";
        } else if (auto dumps = open_diag(); !dumps) {
            diag_error_ = "sock_diag unavailable (" + dumps.error().message + ")";
        } else {
            lookups_ = std::move(*lookups);
            dumps_ = std::move(*dumps);
        }
    } else {
        diag_error_ = "sock_diag not in use";
    }
    if (options_.warm_index) index_.refresh_all();
}

Result<std::optional<InetSocket>> ProcessModel::find_socket(Protocol protocol, const IpAddress& src,
                                                            uint16_t src_port, const IpAddress& dst,
                                                            uint16_t dst_port) {
    if (!lookups_) return make_error(diag_error_);
    std::lock_guard lock(lookup_mu_);
    return lookups_->find(protocol, src, src_port, dst, dst_port);
}

Result<std::vector<InetSocket>> ProcessModel::sockets_on_port(Protocol protocol, Family family,
                                                              uint16_t src_port) {
    if (!lookups_) return make_error(diag_error_);
    std::lock_guard lock(lookup_mu_);
    return lookups_->dump(protocol, family, src_port);
}

Result<SocketsSnapshot> ProcessModel::sockets_dump(bool tcp_info) {
    if (!dumps_) return make_error(diag_error_);
    std::lock_guard lock(dump_mu_);
    return dumps_->sockets_dump(ipv6_, tcp_info);
}

Status ProcessModel::destroy_socket(const InetSocket& s) {
    if (!lookups_) return make_error(diag_error_);
    std::lock_guard lock(lookup_mu_);
    return lookups_->destroy(s);
}

std::optional<InodeIndex::Owner> ProcessModel::owner_of(uint64_t inode,
                                                        std::optional<uint32_t> uid) {
    std::lock_guard lock(index_mu_);
    return index_.find(inode, uid);
}

std::optional<InodeIndex::Owner> ProcessModel::known_owner(uint64_t inode) {
    std::lock_guard lock(index_mu_);
    return index_.find_known(inode);
}

std::unordered_map<uint64_t, InodeIndex::Owner> ProcessModel::owners_of(
    const std::vector<uint64_t>& live) {
    std::lock_guard lock(index_mu_);
    return index_.sync(live);
}

size_t ProcessModel::fd_scans() const {
    std::lock_guard lock(index_mu_);
    return index_.fd_scans();
}

Result<ProcessRef> ProcessModel::process(int pid) {
    std::lock_guard lock(reader_mu_);
    return reader_.read(pid);
}

std::string ProcessModel::user_name(uint32_t uid) {
    std::lock_guard lock(reader_mu_);
    return reader_.user_name(uid);
}

}  // namespace tsnitch
