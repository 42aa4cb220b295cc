// The text of tsnitch's firewall rules, as pure functions (unit-tested without privileges):
// iptables-restore scripts per family, the nft table, and a reader of iptables-save output that
// finds tsnitch's chains and the jumps into them (to replace stale ones and to notice a flush).
//
// Chains (iptables): mangle OUTPUT -> TSNITCH-OUT queues outbound packets of new flows unless
// their connmark says "allowed"; mangle INPUT -> TSNITCH-IN queues DNS answers; filter OUTPUT ->
// TSNITCH-VERDICT copies the allow mark of an accepted packet to its conntrack entry and answers
// packets carrying the reject mark with a TCP RST or an ICMP port-unreachable; mangle POSTROUTING
// -> TSNITCH-FALLBACK drops reject-marked packets that filter OUTPUT did not answer (so a reject
// that cannot be carried out is a drop, never an allow). Every jump is the first rule of its
// chain: a rule ahead of it (an ACCEPT) would take packets past tsnitch, so repair() checks it.
//
// Verified on this project's kernel (6.18, iptables 1.8.9 nf_tables, in a private netns):
// - A verdict cannot set the connmark itself (NFQA_CT needs CONFIG_NETFILTER_NETLINK_GLUE_CT,
//   which is off), so the verdict sets our bits of the packet mark and a rule copies them with
//   CONNMARK --save-mark. NF_ACCEPT leaves the chain (the rest of mangle OUTPUT is not run), so
//   that rule lives in a later hook: filter OUTPUT.
// - NFQUEUE cannot reject. The reject verdict accepts with the reject mark and filter OUTPUT's
//   REJECT answers: --reject-with tcp-reset gives connect() ECONNREFUSED at once; ICMP
//   port-unreachable gives a connected UDP socket ECONNREFUSED on its next call.
// - TCP SYNs are queued whatever their conntrack state: a new connection on the ports of a closed
//   one can take over its conntrack entry (TIME_WAIT -> SYN_SENT), ESTABLISHED and allow-marked.
// - Deny is NF_DROP. The dropped packet's conntrack entry was never confirmed, so it keeps no mark:
//   SYN retransmits and further datagrams are queued again and the engine's flow cache answers
//   them without a new decision.
// - The nft `queue` expression is missing (CONFIG_NFT_QUEUE off): `nft -c` refuses it, which is
//   how `auto` picks iptables.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/address.h"

namespace tsnitch::nfq {

struct FirewallSpec {
    uint16_t queue_num = 0;  // the first queue
    // Queues queue_num .. queue_num+queue_count-1; more than one: a packet goes to the queue of
    // the CPU that sends it (--queue-balance with --queue-cpu-fanout).
    unsigned queue_count = 1;
    bool queue_bypass = true;  // packets pass while nobody reads the queue
    bool intercept_loopback = false;
    bool ipv6 = true;  // rules for IPv6 too
    // The kernel path's pinned socket filters (DESIGN.md §8a), empty when it is off: new packets
    // whose socket has a kernel decision skip the queue (pass) or are dropped (drop), just before
    // the NFQUEUE rule. iptables only (xt_bpf); nft has no match for a pinned program.
    std::string kernel_pass_pin;
    std::string kernel_drop_pin;
};

inline constexpr std::string_view kChainOut = "TSNITCH-OUT";
inline constexpr std::string_view kChainIn = "TSNITCH-IN";
inline constexpr std::string_view kChainVerdict = "TSNITCH-VERDICT";
inline constexpr std::string_view kChainFallback = "TSNITCH-FALLBACK";
inline constexpr std::string_view kNftTable = "tsnitch";

// What iptables-save shows of tsnitch in one family.
struct IptablesState {
    // "mangle/OUTPUT" -> number of rules jumping to one of our chains.
    std::map<std::string, int> jumps;
    // "mangle/TSNITCH-OUT" -> number of rules in it (0 when declared but empty).
    std::map<std::string, int> chains;
    // Jumps (as in `jumps`) that are not the first rule of their chain.
    std::set<std::string> misplaced;

    bool empty() const { return jumps.empty() && chains.empty(); }
    friend bool operator==(const IptablesState&, const IptablesState&) = default;
};

IptablesState parse_iptables_save(std::string_view text);

// iptables-restore --noflush input that removes whatever `existing` shows and installs the
// rules, in one transaction.
std::string iptables_install_script(const FirewallSpec& spec, Family family,
                                    const IptablesState& existing);
// iptables-restore --noflush input that removes tsnitch's jumps and chains.
std::string iptables_remove_script(const IptablesState& existing);
// The state an installed ruleset shows (to compare with what iptables-save reports).
IptablesState iptables_expected_state(const FirewallSpec& spec);

// nft -f input that replaces table inet tsnitch atomically.
std::string nft_install_script(const FirewallSpec& spec);
std::string nft_remove_script();

}  // namespace tsnitch::nfq
