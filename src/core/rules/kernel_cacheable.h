// Which decisions hold on part of what is known of a connection.
//
// The kernel's verdict cache (DESIGN.md §8a) knows a flow only by its key: the executable, the
// user, the protocol, the destination address and port. A decision may go there only when every
// enabled rule that could match a flow with that key decides on those fields alone, so that any
// flow with the same key gets the same answer from the rules as this one did.
//
// A queue reader over its bound of held packets, with no process found in memory, cannot wait
// for one: the rules still decide when every enabled rule that could match reads no field of the
// process (DESIGN.md §8).
#pragma once

#include "core/rules/operator.h"

namespace tsnitch {

// Whether an operand's value is fixed by the kernel cache's key (process.path by the
// executable, user.id/user.name by the uid, dest.ip/port/network, protocol, "true").
bool operand_is_kernel_key(Operand o, const CompiledOperator& op);
// Whether it reads the destination's host name (dest.host, domain lists): fixed by the key's
// address only as long as the DNS cache names that address the same way.
bool operand_reads_host(Operand o, const CompiledOperator& op);

// How one rule's operator relates to the flows that share `in`'s key.
enum class KeyReach : uint8_t {
    cannot_match,  // a key field already rules it out: no flow with this key can match it
    decides,       // it reads key fields only: it says the same for every flow with this key
    needs_more,    // it reads a field the key does not fix (args, env, host, source, ...)
};

// With `reads_host` given, operands that read the host name count as key fields (per address)
// and set it to true when they were looked at; without it they need more than the key.
KeyReach key_reach(const CompiledOperator& op, MatchInput& in, bool* reads_host = nullptr);

// Whether an operand reads the process (its pid, paths, command line, environment, checksums,
// and the user name of a user.name that compiling could not turn into a uid).
bool operand_reads_process(Operand o, const CompiledOperator& op);
// How one rule's operator relates to `in`'s connection when nothing is known of its process:
// user.id (and a user.name, which compiling turns into a uid) is known only when the kernel gave
// a uid with the packet; a user.name that named nobody is not known at all.
KeyReach reach_without_process(const CompiledOperator& op, MatchInput& in);

}  // namespace tsnitch
