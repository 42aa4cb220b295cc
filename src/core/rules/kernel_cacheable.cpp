#include "core/rules/kernel_cacheable.h"

namespace tsnitch {

bool operand_is_kernel_key(Operand o, const CompiledOperator& op) {
    switch (o) {
        case Operand::always:
        case Operand::process_path:
        case Operand::user_id:
        case Operand::user_name:
        case Operand::dest_ip:
        case Operand::dest_port:
        case Operand::dest_network:
        case Operand::protocol:
            return true;
        case Operand::lists:
            // IP and network lists read the destination address; domain lists read the host
            // name (which DNS may change for an address), md5 lists the file's contents.
            return op.list_kind() == ListKind::ips || op.list_kind() == ListKind::nets;
        default:
            return false;
    }
}

bool operand_reads_host(Operand o, const CompiledOperator& op) {
    return o == Operand::dest_host ||
           (o == Operand::lists &&
            (op.list_kind() == ListKind::domains || op.list_kind() == ListKind::domains_regexp));
}

KeyReach key_reach(const CompiledOperator& op, MatchInput& in, bool* reads_host) {
    if (op.type() != OperatorType::list) {
        if (!operand_is_kernel_key(op.operand(), op)) {
            if (!reads_host || !operand_reads_host(op.operand(), op)) return KeyReach::needs_more;
            *reads_host = true;
        }
        return op.match(in) ? KeyReach::decides : KeyReach::cannot_match;
    }
    // A list is an AND: one key field that fails rules it out for the whole key, whatever the
    // other fields say.
    bool all_key = true;
    for (const CompiledOperator& sub : op.subs()) {
        const KeyReach r = key_reach(sub, in, reads_host);
        if (r == KeyReach::cannot_match) return KeyReach::cannot_match;
        if (r == KeyReach::needs_more) all_key = false;
    }
    return all_key ? KeyReach::decides : KeyReach::needs_more;
}

}  // namespace tsnitch
