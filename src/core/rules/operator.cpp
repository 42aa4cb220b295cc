#include "core/rules/operator.h"

#include <pwd.h>
#include <unistd.h>

#include <charconv>

namespace tsnitch {

namespace {

struct OperandName {
    std::string_view name;
    Operand operand;
};

constexpr OperandName kOperands[] = {
    {"true", Operand::always},
    {"process.id", Operand::process_id},
    {"process.path", Operand::process_path},
    {"process.parent.path", Operand::process_parent_path},
    {"process.command", Operand::process_command},
    {"process.hash.md5", Operand::process_hash_md5},
    {"process.hash.sha1", Operand::process_hash_sha1},
    {"user.id", Operand::user_id},
    {"user.name", Operand::user_name},
    {"source.ip", Operand::source_ip},
    {"source.port", Operand::source_port},
    {"source.network", Operand::source_network},
    {"dest.ip", Operand::dest_ip},
    {"dest.host", Operand::dest_host},
    {"dest.port", Operand::dest_port},
    {"dest.network", Operand::dest_network},
    {"protocol", Operand::protocol},
    {"iface.in", Operand::iface_in},
    {"iface.out", Operand::iface_out},
    {"list", Operand::list},
};

constexpr std::string_view kEnvPrefix = "process.env.";

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = lower(c);
    return out;
}

bool equal_ignoring_case(std::string_view a, std::string_view lower_b) {
    if (a.size() != lower_b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower_b[i]) return false;
    }
    return true;
}

std::optional<uint64_t> parse_number(std::string_view s, uint64_t max) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max) {
        return std::nullopt;
    }
    return v;
}

bool is_numeric(Operand o) {
    return o == Operand::process_id || o == Operand::user_id || o == Operand::source_port ||
           o == Operand::dest_port;
}

uint64_t numeric_max(Operand o) {
    return o == Operand::source_port || o == Operand::dest_port ? 65535 : 0xffffffffu;
}

std::optional<uint32_t> system_user(std::string_view name) {
    const std::string n(name);
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::string buf(16384, '\0');
    if (::getpwnam_r(n.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
        return std::nullopt;
    }
    return found->pw_uid;
}

}  // namespace

std::optional<Operand> operand_from_name(std::string_view name) {
    for (const auto& o : kOperands) {
        if (o.name == name) return o.operand;
    }
    if (name.starts_with(kEnvPrefix) && name.size() > kEnvPrefix.size())
        return Operand::process_env;
    if (list_kind_from_operand(name)) return Operand::lists;
    return std::nullopt;
}

bool operand_is_single_text(Operand o) {
    switch (o) {
        case Operand::process_id:
        case Operand::process_path:
        case Operand::process_command:
        case Operand::user_id:
        case Operand::source_ip:
        case Operand::source_port:
        case Operand::dest_ip:
        case Operand::dest_host:
        case Operand::dest_port:
        case Operand::iface_in:
        case Operand::iface_out:
            return true;
        default:
            return false;
    }
}

CompileContext default_compile_context() {
    CompileContext ctx;
    ctx.resolve_user = system_user;
    ctx.load_list = [](ListKind kind, const std::string& dir) {
        std::vector<Error> ignored;
        return load_list_dir(kind, dir, ignored);
    };
    return ctx;
}

const std::string* MatchInput::text(Operand o) {
    const auto i = static_cast<size_t>(o);
    if (done_[i]) return text_[i] ? &*text_[i] : nullptr;
    done_[i] = true;
    const ProcessInfo* p = conn_.process ? &*conn_.process : nullptr;
    std::optional<std::string>& v = text_[i];
    switch (o) {
        case Operand::process_id:
            if (p) v = std::to_string(p->pid);
            break;
        case Operand::process_path:
            if (p) v = p->path;
            break;
        case Operand::process_command:
            if (p) {
                std::string cmd;
                for (const std::string& a : p->args) {
                    if (!cmd.empty()) cmd += ' ';
                    cmd += a;
                }
                v = std::move(cmd);
            }
            break;
        case Operand::user_id:
            if (conn_.uid) {
                v = std::to_string(*conn_.uid);
            } else if (p) {
                v = std::to_string(p->uid);
            }
            break;
        case Operand::user_name:
            if (p && !p->user.empty()) v = p->user;
            break;
        case Operand::source_ip:
        case Operand::source_network:
            v = plain_address(conn_.src).to_string();
            break;
        case Operand::dest_ip:
        case Operand::dest_network:
            v = plain_address(conn_.dst).to_string();
            break;
        case Operand::source_port:
            v = std::to_string(conn_.src_port);
            break;
        case Operand::dest_port:
            v = std::to_string(conn_.dst_port);
            break;
        case Operand::dest_host:
            if (conn_.dst_host && !conn_.dst_host->empty()) {
                std::string_view h = *conn_.dst_host;
                while (!h.empty() && h.back() == '.')
                    h.remove_suffix(1);
                v = std::string(h);
            }
            break;
        case Operand::protocol:
            v = std::string(protocol_name(conn_.protocol));
            break;
        case Operand::iface_in:
            if (!conn_.iface_in.empty()) v = conn_.iface_in;
            break;
        case Operand::iface_out:
            if (!conn_.iface_out.empty()) v = conn_.iface_out;
            break;
        case Operand::process_hash_md5:
            if (auto d = digests()) v = d->md5;
            break;
        case Operand::process_hash_sha1:
            if (auto d = digests()) v = d->sha1;
            break;
        default:
            break;
    }
    return v ? &*v : nullptr;
}

std::optional<std::string_view> MatchInput::env(std::string_view name) const {
    if (!conn_.process) return std::nullopt;
    for (const auto& [k, val] : conn_.process->env) {
        if (k == name) return std::string_view(val);
    }
    return std::nullopt;
}

const FileHashes* MatchInput::digests() {
    if (!digests_done_) {
        digests_done_ = true;
        if (hasher_ && conn_.process) digests_ = hasher_->hashes(*conn_.process);
    }
    return digests_ ? &*digests_ : nullptr;
}

Result<CompiledOperator> CompiledOperator::compile(const RuleOperator& op,
                                                   const CompileContext& ctx,
                                                   const std::string& field) {
    CompiledOperator c;
    c.type_ = op.type;
    c.sensitive_ = op.sensitive;
    const std::string data_field = field + ".data";
    auto fail = [](const std::string& where, const std::string& what) {
        return make_error(where + ": " + what);
    };

    if (op.type == OperatorType::list) {
        c.operand_ = Operand::list;
        for (size_t i = 0; i < op.list.size(); ++i) {
            auto sub = compile(op.list[i], ctx, field + ".list[" + std::to_string(i) + "]");
            if (!sub) return sub.error();
            c.subs_.push_back(std::move(*sub));
        }
        if (c.subs_.empty()) return fail(field + ".list", "a list operator needs sub-operators");
        return c;
    }

    auto operand = operand_from_name(op.operand);
    if (!operand) return fail(field + ".operand", "unknown operand '" + op.operand + "'");
    c.operand_ = *operand;
    if (c.operand_ == Operand::list) {
        return fail(field + ".operand", "the operand 'list' needs the operator type list");
    }
    if (c.operand_ == Operand::process_env) c.env_name_ = op.operand.substr(kEnvPrefix.size());
    if ((c.operand_ == Operand::lists) != (op.type == OperatorType::lists)) {
        return fail(field + ".operand", "lists.* operands go with the operator type lists, got '" +
                                            op.operand + "' with type " +
                                            std::string(operator_type_name(op.type)));
    }

    switch (op.type) {
        case OperatorType::list:
            break;
        case OperatorType::simple: {
            const Operand o = c.operand_;
            if (o == Operand::always) break;
            if (is_numeric(o)) {
                auto n = parse_number(op.data, numeric_max(o));
                if (!n) return fail(data_field, "expected a number, got '" + op.data + "'");
                c.value_ = std::to_string(*n);
            } else if (o == Operand::user_name) {
                auto uid = ctx.resolve_user ? ctx.resolve_user(op.data) : std::nullopt;
                if (!uid) return fail(data_field, "unknown user '" + op.data + "'");
                c.operand_ = Operand::user_id;
                c.value_ = std::to_string(*uid);
            } else if (o == Operand::source_ip || o == Operand::dest_ip) {
                auto a = IpAddress::parse(op.data);
                if (!a) return fail(data_field, "expected an IP address, got '" + op.data + "'");
                c.value_ = plain_address(*a).to_string();
            } else if (o == Operand::source_network || o == Operand::dest_network) {
                auto n = IpNetwork::parse(op.data);
                if (!n) {
                    return fail(data_field,
                                "expected a network like 10.0.0.0/8, got '" + op.data + "'");
                }
                c.net_ = *n;
            } else if (o == Operand::dest_host) {
                std::string_view h = op.data;
                while (!h.empty() && h.back() == '.')
                    h.remove_suffix(1);
                c.value_ = op.sensitive ? std::string(h) : lowered(h);
            } else if (o == Operand::process_hash_md5 || o == Operand::process_hash_sha1 ||
                       o == Operand::protocol) {
                c.sensitive_ = false;  // hex digits and protocol names have no case
                c.value_ = lowered(op.data);
            } else {
                c.value_ = op.sensitive ? op.data : lowered(op.data);
            }
            // Numbers and addresses are canonical: case cannot matter for them.
            if (is_numeric(c.operand_) || c.operand_ == Operand::source_ip ||
                c.operand_ == Operand::dest_ip) {
                c.sensitive_ = true;
            }
            if (operand_is_single_text(c.operand_)) c.key_ = c.value_;
            break;
        }
        case OperatorType::regexp: {
            RE2::Options opt;
            opt.set_case_sensitive(op.sensitive);
            opt.set_log_errors(false);
            auto re = std::make_shared<RE2>(op.data, opt);
            if (!re->ok()) {
                return fail(data_field, "bad regexp '" + op.data + "': " + re->error());
            }
            c.re_ = std::move(re);
            c.pattern_ = op.sensitive ? op.data : "(?i)" + op.data;
            break;
        }
        case OperatorType::network: {
            const Operand o = c.operand_;
            if (o != Operand::source_ip && o != Operand::source_network && o != Operand::dest_ip &&
                o != Operand::dest_network) {
                return fail(field + ".operand",
                            "network operators take source.ip, source.network, dest.ip or "
                            "dest.network, got '" +
                                op.operand + "'");
            }
            auto n = IpNetwork::parse(op.data);
            if (!n) {
                return fail(data_field,
                            "expected a network like 10.0.0.0/8, got '" + op.data + "'");
            }
            c.net_ = *n;
            break;
        }
        case OperatorType::range: {
            if (!is_numeric(c.operand_)) {
                return fail(field + ".operand",
                            "range operators take source.port, dest.port, process.id or user.id, "
                            "got '" +
                                op.operand + "'");
            }
            const std::string_view d = op.data;
            const size_t dash = d.find('-');
            auto lo = parse_number(d.substr(0, dash), numeric_max(c.operand_));
            auto hi = dash == std::string_view::npos
                          ? lo
                          : parse_number(d.substr(dash + 1), numeric_max(c.operand_));
            if (!lo || !hi || *lo > *hi) {
                return fail(data_field, "expected a range like 1000-2000, got '" + op.data + "'");
            }
            c.lo_ = *lo;
            c.hi_ = *hi;
            break;
        }
        case OperatorType::lists: {
            c.list_kind_ = *list_kind_from_operand(op.operand);
            if (op.data.empty()) return fail(data_field, "expected a list directory");
            c.list_dir_ = op.data;
            if (!ctx.load_list) return fail(data_field, "lists cannot be loaded here");
            auto l = ctx.load_list(c.list_kind_, op.data);
            if (!l) return fail(data_field, l.error().message);
            c.entries_ = std::move(*l);
            break;
        }
    }
    return c;
}

bool CompiledOperator::match_text(std::string_view value) const {
    if (type_ == OperatorType::regexp) return RE2::PartialMatch(value, *re_);
    return sensitive_ ? value == value_ : equal_ignoring_case(value, value_);
}

bool CompiledOperator::match(MatchInput& in) const {
    const Connection& conn = in.connection();
    switch (type_) {
        case OperatorType::list:
            for (const CompiledOperator& s : subs_) {
                if (!s.match(in)) return false;
            }
            return true;
        case OperatorType::network: {
            const bool src = operand_ == Operand::source_ip || operand_ == Operand::source_network;
            return net_.contains(plain_address(src ? conn.src : conn.dst));
        }
        case OperatorType::range: {
            const std::string* t = in.text(operand_);
            if (!t) return false;
            auto v = parse_number(*t, ~uint64_t{0});
            return v && *v >= lo_ && *v <= hi_;
        }
        case OperatorType::lists:
            switch (list_kind_) {
                case ListKind::domains:
                case ListKind::domains_regexp: {
                    const std::string* h = in.text(Operand::dest_host);
                    return h && entries_->contains_domain(*h);
                }
                case ListKind::ips:
                case ListKind::nets:
                    return entries_->contains_ip(conn.dst);
                case ListKind::hash_md5: {
                    const FileHashes* d = in.digests();
                    return d && entries_->contains_hash(d->md5);
                }
            }
            return false;
        case OperatorType::simple:
        case OperatorType::regexp:
            break;
    }

    // simple and regexp: compare the operand's value(s).
    switch (operand_) {
        case Operand::always:
            return true;
        case Operand::source_network:
        case Operand::dest_network:
            if (type_ == OperatorType::simple) {
                return net_.contains(
                    plain_address(operand_ == Operand::source_network ? conn.src : conn.dst));
            }
            break;
        case Operand::process_parent_path:
            if (!conn.process) return false;
            for (const ParentProcess& pp : conn.process->parents) {
                if (!pp.path.empty() && match_text(pp.path)) return true;
            }
            return false;
        case Operand::process_env: {
            auto v = in.env(env_name_);
            return v && match_text(*v);
        }
        case Operand::protocol: {
            // OpenSnitch names IPv6 flows "tcp6", "udp6": both spellings match.
            const std::string* p = in.text(Operand::protocol);
            if (match_text(*p)) return true;
            return plain_address(conn.dst).is_v6() && match_text(*p + "6");
        }
        default:
            break;
    }
    const std::string* t = in.text(operand_);
    return t && match_text(*t);
}

void CompiledOperator::list_dirs(std::vector<std::pair<ListKind, std::string>>& out) const {
    if (type_ == OperatorType::lists) out.emplace_back(list_kind_, list_dir_);
    for (const CompiledOperator& s : subs_)
        s.list_dirs(out);
}

bool CompiledOperator::uses_env() const {
    if (operand_ == Operand::process_env) return true;
    for (const CompiledOperator& s : subs_) {
        if (s.uses_env()) return true;
    }
    return false;
}

bool CompiledOperator::uses_exe_hash() const {
    if (operand_ == Operand::process_hash_md5 || operand_ == Operand::process_hash_sha1)
        return true;
    if (operand_ == Operand::lists && list_kind_ == ListKind::hash_md5) return true;
    for (const CompiledOperator& s : subs_) {
        if (s.uses_exe_hash()) return true;
    }
    return false;
}

}  // namespace tsnitch
