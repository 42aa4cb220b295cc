// A rule's operator compiled for matching: operands resolved, data checked and parsed once
// (regexps compiled with RE2, networks and ranges parsed, user names resolved to uids, list
// directories loaded), so that matching a connection does no parsing.
#pragma once

#include <re2/re2.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/connection.h"
#include "core/result.h"
#include "core/rules/exe_hash_source.h"
#include "core/rules/lists.h"
#include "core/rules/rule.h"

namespace tsnitch {

enum class Operand : uint8_t {
    always,  // "true"
    process_id,
    process_path,
    process_parent_path,
    process_command,
    process_env,
    process_hash_md5,
    process_hash_sha1,
    user_id,
    user_name,
    source_ip,
    source_port,
    source_network,
    dest_ip,
    dest_host,
    dest_port,
    dest_network,
    protocol,
    iface_in,
    iface_out,
    lists,  // lists.*: the kind is the list's
    list,   // the operand of a `list` operator
    count_
};
inline constexpr size_t kOperandCount = static_cast<size_t>(Operand::count_);

// What compiling needs from the outside world; tests replace both.
struct CompileContext {
    // user.name -> uid (default: the system's user database).
    std::function<std::optional<uint32_t>(std::string_view)> resolve_user;
    // A list directory's entries (default: load_list_dir, no caching).
    std::function<Result<std::shared_ptr<const EntryList>>(ListKind, const std::string&)> load_list;
};
CompileContext default_compile_context();

// One connection while the rules look at it; values of operands are computed once, on first use.
class MatchInput {
  public:
    MatchInput(const Connection& c, ExeHashSource* hasher) : conn_(c), hasher_(hasher) {}
    const Connection& connection() const { return conn_; }
    // The text of a single-valued operand as rules compare it (numbers in decimal, addresses
    // without scope, the host without trailing dot), or none when the connection lacks it.
    const std::string* text(Operand o);
    std::optional<std::string_view> env(std::string_view name) const;
    const FileHashes* digests();

  private:
    const Connection& conn_;
    ExeHashSource* hasher_;
    std::array<std::optional<std::string>, kOperandCount> text_;
    std::array<bool, kOperandCount> done_{};
    std::optional<FileHashes> digests_;
    bool digests_done_ = false;
};

class CompiledOperator {
  public:
    // `field` names the operator in errors ("operator", "operator.list[1]").
    static Result<CompiledOperator> compile(const RuleOperator& op, const CompileContext& ctx,
                                            const std::string& field);

    bool match(MatchInput& in) const;

    OperatorType type() const { return type_; }
    Operand operand() const { return operand_; }
    bool sensitive() const { return sensitive_; }
    // For simple operators on single-valued operands: the value a connection must have (lower
    // case when not sensitive). Lets the rule store index rules by it.
    const std::optional<std::string>& key() const { return key_; }
    const std::string& pattern() const { return pattern_; }  // regexp source as given to RE2
    ListKind list_kind() const { return list_kind_; }        // for lists.* operators
    const std::vector<CompiledOperator>& subs() const { return subs_; }
    // List directories this operator reads (for watching them).
    void list_dirs(std::vector<std::pair<ListKind, std::string>>& out) const;
    bool uses_env() const;
    // process.hash.* or lists.hash.md5: matching reads (and hashes) the executable.
    bool uses_exe_hash() const;

  private:
    bool match_text(std::string_view value) const;

    OperatorType type_ = OperatorType::simple;
    Operand operand_ = Operand::always;
    bool sensitive_ = false;
    std::string env_name_;  // process.env.NAME
    std::string value_;     // simple: compared value (lower case unless sensitive)
    std::optional<std::string> key_;
    std::string pattern_;
    std::shared_ptr<const RE2> re_;
    IpNetwork net_;
    uint64_t lo_ = 0, hi_ = 0;
    ListKind list_kind_ = ListKind::domains;
    std::string list_dir_;
    std::shared_ptr<const EntryList> entries_;
    std::vector<CompiledOperator> subs_;
};

// The operand of an operand string ("process.env.HOME" -> process_env), or none.
std::optional<Operand> operand_from_name(std::string_view name);
// Operands with one text value per connection (indexable by the rule store).
bool operand_is_single_text(Operand o);

}  // namespace tsnitch
