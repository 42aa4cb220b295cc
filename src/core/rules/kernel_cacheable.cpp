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

bool operand_reads_process(Operand o, const CompiledOperator& op) {
    switch (o) {
        case Operand::process_id:
        case Operand::process_path:
        case Operand::process_parent_path:
        case Operand::process_command:
        case Operand::process_env:
        case Operand::process_hash_md5:
        case Operand::process_hash_sha1:
        case Operand::user_name:  // one that compiling could not turn into a uid: p->user
            return true;
        case Operand::lists:
            return op.list_kind() == ListKind::hash_md5;
        default:
            return false;
    }
}

namespace {

// `known(op)`: whether a simple operator's operand is given. A list is an AND: one given field
// that fails rules it out, whatever the other fields say.
template <typename Known>
KeyReach reach(const CompiledOperator& op, MatchInput& in, const Known& known) {
    if (op.type() != OperatorType::list) {
        if (!known(op)) return KeyReach::needs_more;
        return op.match(in) ? KeyReach::decides : KeyReach::cannot_match;
    }
    bool all_known = true;
    for (const CompiledOperator& sub : op.subs()) {
        const KeyReach r = reach(sub, in, known);
        if (r == KeyReach::cannot_match) return KeyReach::cannot_match;
        if (r == KeyReach::needs_more) all_known = false;
    }
    return all_known ? KeyReach::decides : KeyReach::needs_more;
}

}  // namespace

KeyReach key_reach(const CompiledOperator& op, MatchInput& in, bool* reads_host) {
    return reach(op, in, [reads_host](const CompiledOperator& o) {
        if (operand_is_kernel_key(o.operand(), o)) return true;
        if (!reads_host || !operand_reads_host(o.operand(), o)) return false;
        *reads_host = true;
        return true;
    });
}

KeyReach reach_without_process(const CompiledOperator& op, MatchInput& in) {
    const bool has_uid = in.connection().uid.has_value();
    return reach(op, in, [has_uid](const CompiledOperator& o) {
        if (o.operand() == Operand::user_id) return has_uid;
        return !operand_reads_process(o.operand(), o);
    });
}

}  // namespace tsnitch
