#include "core/privileges.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace tsnitch {

const std::vector<KeptCapability>& running_capabilities() {
    static const std::vector<KeptCapability> kept{
        {CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH",
         "list /proc/PID/fd and read the executables of other users' processes"},
        {CAP_NET_ADMIN, "CAP_NET_ADMIN",
         "NFQUEUE, the firewall rules and their repair, SOCK_DESTROY, cgroup eBPF programs"},
        {CAP_NET_RAW, "CAP_NET_RAW", "iptables-legacy's raw socket, when that is the iptables"},
        {CAP_SYS_PTRACE, "CAP_SYS_PTRACE",
         "/proc/PID/fd, exe and environ of other users' processes"},
        {CAP_BPF, "CAP_BPF", "the eBPF maps, read and written while running"},
    };
    return kept;
}

CapabilityMask running_capability_mask() {
    CapabilityMask m = 0;
    for (const KeptCapability& c : running_capabilities())
        m |= CapabilityMask{1} << c.number;
    return m;
}

std::string capability_names(CapabilityMask mask) {
    static constexpr std::string_view kNames[] = {"CAP_CHOWN",
                                                  "CAP_DAC_OVERRIDE",
                                                  "CAP_DAC_READ_SEARCH",
                                                  "CAP_FOWNER",
                                                  "CAP_FSETID",
                                                  "CAP_KILL",
                                                  "CAP_SETGID",
                                                  "CAP_SETUID",
                                                  "CAP_SETPCAP",
                                                  "CAP_LINUX_IMMUTABLE",
                                                  "CAP_NET_BIND_SERVICE",
                                                  "CAP_NET_BROADCAST",
                                                  "CAP_NET_ADMIN",
                                                  "CAP_NET_RAW",
                                                  "CAP_IPC_LOCK",
                                                  "CAP_IPC_OWNER",
                                                  "CAP_SYS_MODULE",
                                                  "CAP_SYS_RAWIO",
                                                  "CAP_SYS_CHROOT",
                                                  "CAP_SYS_PTRACE",
                                                  "CAP_SYS_PACCT",
                                                  "CAP_SYS_ADMIN",
                                                  "CAP_SYS_BOOT",
                                                  "CAP_SYS_NICE",
                                                  "CAP_SYS_RESOURCE",
                                                  "CAP_SYS_TIME",
                                                  "CAP_SYS_TTY_CONFIG",
                                                  "CAP_MKNOD",
                                                  "CAP_LEASE",
                                                  "CAP_AUDIT_WRITE",
                                                  "CAP_AUDIT_CONTROL",
                                                  "CAP_SETFCAP",
                                                  "CAP_MAC_OVERRIDE",
                                                  "CAP_MAC_ADMIN",
                                                  "CAP_SYSLOG",
                                                  "CAP_WAKE_ALARM",
                                                  "CAP_BLOCK_SUSPEND",
                                                  "CAP_AUDIT_READ",
                                                  "CAP_PERFMON",
                                                  "CAP_BPF",
                                                  "CAP_CHECKPOINT_RESTORE"};
    std::string out;
    for (unsigned n = 0; n < 64; ++n) {
        if (!(mask & (CapabilityMask{1} << n))) continue;
        if (!out.empty()) out += ' ';
        out += n < std::size(kNames) ? std::string(kNames[n]) : "CAP_" + std::to_string(n);
    }
    return out;
}

namespace {
Error errno_error(const std::string& what) {
    const int e = errno;
    return make_error(what + ": " + std::strerror(e), e);
}
}  // namespace

Result<CapabilityMask> keep_only_capabilities(CapabilityMask keep) {
    // The bounding set first: dropping from it needs CAP_SETPCAP, which goes last with the rest.
    for (int cap = 0; cap < 64; ++cap) {
        if (keep & (CapabilityMask{1} << cap)) continue;
        const int in_bounding = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in_bounding < 0) {
            if (errno == EINVAL) break;  // past the last capability this kernel knows
            return errno_error("reading capability " + std::to_string(cap) +
                               " of the bounding set");
        }
        if (in_bounding == 1 && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
            return errno_error("dropping " + capability_names(CapabilityMask{1} << cap) +
                               " from the bounding set");
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return errno_error("clearing the ambient capabilities");

    __user_cap_header_struct header{};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) return errno_error("capget");
    const CapabilityMask permitted =
        (CapabilityMask{data[1].permitted} << 32 | data[0].permitted) & keep;
    for (int i = 0; i < 2; ++i) {
        data[i].permitted = static_cast<uint32_t>(permitted >> (32 * i));
        data[i].effective = data[i].permitted;
        data[i].inheritable = 0;
    }
    if (::syscall(SYS_capset, &header, data) != 0) return errno_error("capset");
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno_error("setting NoNewPrivs");
    return permitted;
}

std::optional<ProcessPrivileges> parse_process_privileges(std::string_view status) {
    ProcessPrivileges p;
    bool have_eff = false, have_nnp = false;
    while (!status.empty()) {
        const size_t nl = status.find('\n');
        std::string_view line = status.substr(0, nl);
        status = nl == std::string_view::npos ? std::string_view{} : status.substr(nl + 1);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view key = line.substr(0, colon);
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        auto number = [&](int base, uint64_t& out) {
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out, base);
            return !value.empty() && ec == std::errc() && end == value.data() + value.size();
        };
        uint64_t v = 0;
        CapabilityMask* target = key == "CapInh"   ? &p.inheritable
                                 : key == "CapPrm" ? &p.permitted
                                 : key == "CapEff" ? &p.effective
                                 : key == "CapBnd" ? &p.bounding
                                 : key == "CapAmb" ? &p.ambient
                                                   : nullptr;
        if (target) {
            if (!number(16, v)) return std::nullopt;
            *target = v;
            if (key == "CapEff") have_eff = true;
        } else if (key == "NoNewPrivs") {
            if (!number(10, v) || v > 1) return std::nullopt;
            p.no_new_privs = v == 1;
            have_nnp = true;
        }
    }
    if (!have_eff || !have_nnp) return std::nullopt;
    return p;
}

}  // namespace tsnitch
