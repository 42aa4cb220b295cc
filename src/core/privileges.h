// What `tsnitch run` may do once it is set up (cgroup2 mounted, eBPF programs loaded): every
// capability but those the running firewall needs is dropped (bounding set included, so that no
// program it runs gets them back), and NoNewPrivs is set. tsnitch stays uid 0: its files
// (/etc/tsnitch, /run/tsnitch) are root's, and a program it runs (iptables-restore, nft, to repair
// the firewall rules) gets the kept capabilities as root's exec does, bounded by them (no ambient
// capabilities needed). See CAPABILITIES in tsnitch(8).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tsnitch {

// A set of capabilities as the kernel's bit mask (bit N is capability N).
using CapabilityMask = uint64_t;

// The capabilities the running firewall keeps, each with why (measured; tsnitch(8) lists them).
struct KeptCapability {
    int number;
    std::string_view name;  // "CAP_NET_ADMIN"
    std::string_view why;
};
const std::vector<KeptCapability>& running_capabilities();
CapabilityMask running_capability_mask();

// "CAP_NET_ADMIN CAP_BPF ..." of a mask, in number order; unknown bits as "CAP_N".
std::string capability_names(CapabilityMask mask);

// Drops every capability outside `keep` from the bounding, permitted, effective and inheritable
// sets, clears the ambient set and sets NoNewPrivs. Capabilities and NoNewPrivs belong to a
// thread: call it before the process starts any, so that every thread inherits the result.
// Capabilities that are not there to begin with (a systemd CapabilityBoundingSet) are no error.
// Returns what is kept: `keep` and what the process had.
Result<CapabilityMask> keep_only_capabilities(CapabilityMask keep);

// The capability lines and NoNewPrivs of /proc/PID/status.
struct ProcessPrivileges {
    CapabilityMask inheritable = 0, permitted = 0, effective = 0, bounding = 0, ambient = 0;
    bool no_new_privs = false;
};
// Parses the text of /proc/PID/status; nullopt when CapEff or NoNewPrivs is missing or bad.
std::optional<ProcessPrivileges> parse_process_privileges(std::string_view status);

}  // namespace tsnitch
