// The `lists` operator's lists (DESIGN.md §5): a directory of files, each one entry per line.
//   lists.domains          hosts-file format ("0.0.0.0 ads.example.com") or one domain a line;
//                          "*.example.com" matches every subdomain of example.com
//   lists.domains_regexp   one RE2 regexp a line, matched case-insensitively against the host
//   lists.ips              one address a line;  lists.nets: one CIDR a line
//   lists.hash.md5         one MD5 checksum a line (of executables)
// Lookups are hash lookups (per domain suffix, per prefix length), so they do not grow with the
// size of the list.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/address.h"
#include "core/result.h"

namespace tsnitch {

enum class ListKind : uint8_t { domains, domains_regexp, ips, nets, hash_md5 };
std::optional<ListKind> list_kind_from_operand(std::string_view operand);  // "lists.domains", ...

// Heterogeneous lookup, so that a suffix of a host name needs no copy.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

class EntryList {
  public:
    explicit EntryList(ListKind kind);
    EntryList(EntryList&&) = default;
    ListKind kind() const { return kind_; }

    // Adds the entries of one list file's text; lines that are not entries of this kind are
    // reported in `problems` ("ORIGIN:LINE: ...") and skipped. Comments start with '#'.
    void parse(std::string_view text, std::string_view origin, std::vector<Error>& problems);
    // Compiles what parse collected (the regexp set); call once after the last parse.
    void finish(std::vector<Error>& problems, std::string_view origin);

    bool contains_domain(std::string_view host) const;  // domains and domains_regexp
    bool contains_ip(const IpAddress& a) const;         // ips and nets
    bool contains_hash(std::string_view hex) const;     // hash_md5
    size_t size() const { return size_; }

  private:
    ListKind kind_;
    size_t size_ = 0;
    std::unordered_set<std::string, StringHash, std::equal_to<>> exact_;     // domains, md5
    std::unordered_set<std::string, StringHash, std::equal_to<>> wildcard_;  // "*.x" stored as "x"
    std::vector<std::string> patterns_;
    std::unique_ptr<RE2::Set> regexps_;
    std::vector<std::unique_ptr<RE2>> singles_;  // when the set's DFA runs out of memory
    std::unordered_set<IpAddress> ips_;
    std::array<std::unordered_set<IpAddress>, 129> nets_v6_;  // index: prefix length
    std::array<std::unordered_set<IpAddress>, 33> nets_v4_;
    std::vector<unsigned> prefixes_v4_, prefixes_v6_;  // the lengths in use, longest first
};

// Loads every regular file of `dir` (hidden files skipped) into one list. Fails when the directory
// cannot be read; bad lines go to `problems` and the rest loads.
Result<std::shared_ptr<const EntryList>> load_list_dir(ListKind kind, const std::string& dir,
                                                       std::vector<Error>& problems);

// Host names as compared: lower case, no trailing dot.
std::string normalize_host(std::string_view host);

// An address without its interface scope, IPv4-mapped IPv6 read as IPv4.
IpAddress plain_address(const IpAddress& a);

}  // namespace tsnitch
