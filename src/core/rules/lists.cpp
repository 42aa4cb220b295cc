#include "core/rules/lists.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/fs.h"

namespace tsnitch {

std::optional<ListKind> list_kind_from_operand(std::string_view operand) {
    if (operand == "lists.domains") return ListKind::domains;
    if (operand == "lists.domains_regexp") return ListKind::domains_regexp;
    if (operand == "lists.ips") return ListKind::ips;
    if (operand == "lists.nets") return ListKind::nets;
    if (operand == "lists.hash.md5") return ListKind::hash_md5;
    return std::nullopt;
}

std::string normalize_host(std::string_view host) {
    while (!host.empty() && host.back() == '.')
        host.remove_suffix(1);
    std::string out(host);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

IpAddress plain_address(const IpAddress& a) {
    const IpAddress u = a.unmapped();
    if (u.is_v4() || u.scope_id() == 0) return u;
    return IpAddress::v6_bytes(std::span<const uint8_t, 16>(u.bytes().data(), 16));
}

EntryList::EntryList(ListKind kind) : kind_(kind) {}

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_space(line[i]))
            ++i;
        size_t j = i;
        while (j < line.size() && !is_space(line[j]))
            ++j;
        if (j > i) out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

// Names every hosts file carries for the machine itself; they are not blocklist entries.
bool is_hosts_boilerplate(std::string_view name) {
    static constexpr std::string_view names[] = {
        "localhost",     "localhost.localdomain", "local",        "broadcasthost",
        "ip6-localhost", "ip6-loopback",          "ip6-localnet", "ip6-mcastprefix",
        "ip6-allnodes",  "ip6-allrouters",        "ip6-allhosts", "0.0.0.0"};
    return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

bool valid_domain(std::string_view d) {
    if (d.empty() || d.size() > 253) return false;
    for (char c : d) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '/' || c == '*') return false;
    }
    return true;
}

}  // namespace

void EntryList::parse(std::string_view text, std::string_view origin,
                      std::vector<Error>& problems) {
    size_t line_no = 0;
    size_t reported = 0;
    auto problem = [&](const std::string& what) {
        // A broken list of a million lines must not produce a million messages.
        if (++reported <= 10) {
            problems.push_back(
                make_error(std::string(origin) + ":" + std::to_string(line_no) + ": " + what));
        }
    };
    while (!text.empty()) {
        ++line_no;
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (auto hash = line.find('#');
            hash != std::string_view::npos && kind_ != ListKind::domains_regexp) {
            line = line.substr(0, hash);
        }
        auto f = fields(line);
        if (f.empty()) continue;
        if (kind_ == ListKind::domains_regexp && f[0].starts_with('#')) continue;
        switch (kind_) {
            case ListKind::domains: {
                // Hosts format: an address, then names; or just a name.
                size_t first = 0;
                if (f.size() >= 2 || IpAddress::parse(f[0])) first = 1;
                if (first == 1 && !IpAddress::parse(f[0])) {
                    problem("expected 'ADDRESS NAME...' or one domain");
                    break;
                }
                for (size_t i = first; i < f.size(); ++i) {
                    std::string d = normalize_host(f[i]);
                    if (is_hosts_boilerplate(d)) continue;
                    if (d.starts_with("*.")) {
                        d.erase(0, 2);
                        if (!valid_domain(d)) {
                            problem("bad domain '" + std::string(f[i]) + "'");
                            continue;
                        }
                        if (wildcard_.insert(std::move(d)).second) ++size_;
                    } else if (!valid_domain(d)) {
                        problem("bad domain '" + std::string(f[i]) + "'");
                    } else if (exact_.insert(std::move(d)).second) {
                        ++size_;
                    }
                }
                break;
            }
            case ListKind::domains_regexp: {
                // A regexp may contain spaces: the whole trimmed line is the pattern.
                const size_t b = line.find_first_not_of(" \t\r");
                const size_t e = line.find_last_not_of(" \t\r");
                patterns_.emplace_back(line.substr(b, e - b + 1));
                ++size_;
                break;
            }
            case ListKind::ips: {
                auto a = IpAddress::parse(f[0]);
                if (!a || f.size() > 1) {
                    problem("expected one IP address, got '" + std::string(line) + "'");
                    break;
                }
                if (ips_.insert(plain_address(*a)).second) ++size_;
                break;
            }
            case ListKind::nets: {
                auto n = IpNetwork::parse(f[0]);
                if (!n || f.size() > 1) {
                    problem("expected one network like 10.0.0.0/8, got '" + std::string(line) +
                            "'");
                    break;
                }
                IpAddress a = plain_address(n->address);
                unsigned prefix = n->prefix;
                if (n->address.is_v4_mapped() && prefix >= 96) prefix -= 96;
                a = a.masked(prefix);
                auto& set = a.is_v4() ? nets_v4_[prefix] : nets_v6_[prefix];
                auto& used = a.is_v4() ? prefixes_v4_ : prefixes_v6_;
                if (set.empty()) {
                    used.push_back(prefix);
                    std::sort(used.rbegin(), used.rend());
                }
                if (set.insert(a).second) ++size_;
                break;
            }
            case ListKind::hash_md5: {
                std::string h = normalize_host(f[0]);
                if (h.size() != 32 ||
                    h.find_first_not_of("0123456789abcdef") != std::string::npos) {
                    problem("expected an MD5 checksum (32 hex digits), got '" + std::string(f[0]) +
                            "'");
                    break;
                }
                if (exact_.insert(std::move(h)).second) ++size_;
                break;
            }
        }
    }
    if (reported > 10) {
        problems.push_back(make_error(std::string(origin) + ": " + std::to_string(reported - 10) +
                                      " more bad lines"));
    }
}

void EntryList::finish(std::vector<Error>& problems, std::string_view origin) {
    if (kind_ != ListKind::domains_regexp || patterns_.empty()) return;
    RE2::Options opt;
    opt.set_case_sensitive(false);
    opt.set_log_errors(false);
    opt.set_max_mem(256 << 20);
    regexps_ = std::make_unique<RE2::Set>(opt, RE2::UNANCHORED);
    size_t added = 0;
    for (const std::string& p : patterns_) {
        std::string err;
        if (regexps_->Add(p, &err) < 0) {
            problems.push_back(
                make_error(std::string(origin) + ": bad regexp '" + p + "': " + err));
            --size_;
        } else {
            singles_.push_back(std::make_unique<RE2>(p, opt));
            ++added;
        }
    }
    if (added == 0 || !regexps_->Compile()) {
        if (added > 0) {
            problems.push_back(
                make_error(std::string(origin) + ": the regexps do not fit in memory"));
        }
        regexps_.reset();
        singles_.clear();
        size_ = 0;
    }
    patterns_.clear();
    patterns_.shrink_to_fit();
}

bool EntryList::contains_domain(std::string_view host_in) const {
    const std::string host = normalize_host(host_in);
    if (kind_ == ListKind::domains_regexp) {
        if (!regexps_) return false;
        RE2::Set::ErrorInfo err{};
        if (regexps_->Match(host, nullptr, &err)) return true;
        if (err.kind == RE2::Set::kNoError) return false;
        // The set's DFA ran out of memory on this name: ask each regexp rather than miss.
        for (const auto& re : singles_) {
            if (RE2::PartialMatch(host, *re)) return true;
        }
        return false;
    }
    if (kind_ != ListKind::domains) return false;
    if (exact_.find(std::string_view(host)) != exact_.end()) return true;
    if (wildcard_.empty()) return false;
    // "*.example.com" matches every name with a suffix ".example.com": one lookup per label.
    for (size_t dot = host.find('.'); dot != std::string::npos; dot = host.find('.', dot + 1)) {
        if (wildcard_.find(std::string_view(host).substr(dot + 1)) != wildcard_.end()) return true;
    }
    return false;
}

bool EntryList::contains_ip(const IpAddress& addr) const {
    const IpAddress a = plain_address(addr);
    if (kind_ == ListKind::ips) return ips_.count(a) > 0;
    if (kind_ != ListKind::nets) return false;
    const auto& sets = a.is_v4() ? std::span<const std::unordered_set<IpAddress>>(nets_v4_)
                                 : std::span<const std::unordered_set<IpAddress>>(nets_v6_);
    for (unsigned p : a.is_v4() ? prefixes_v4_ : prefixes_v6_) {
        if (sets[p].count(a.masked(p)) > 0) return true;
    }
    return false;
}

bool EntryList::contains_hash(std::string_view hex) const {
    if (kind_ != ListKind::hash_md5) return false;
    return exact_.find(normalize_host(hex)) != exact_.end();
}

Result<std::shared_ptr<const EntryList>> load_list_dir(ListKind kind, const std::string& dir,
                                                       std::vector<Error>& problems) {
    UniqueDir d(::opendir(dir.c_str()));
    if (!d) return make_error("list directory " + dir + ": " + std::strerror(errno), errno);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d.get())) {
        if (e->d_name[0] == '.') continue;
        names.emplace_back(e->d_name);
    }
    d.reset();
    std::sort(names.begin(), names.end());
    auto list = std::make_shared<EntryList>(kind);
    for (const std::string& n : names) {
        const std::string path = dir + (dir.ends_with('/') ? "" : "/") + n;
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            problems.push_back(make_error(path + ": " + std::strerror(errno), errno));
            continue;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        list->parse(ss.str(), path, problems);
    }
    list->finish(problems, dir);
    return std::shared_ptr<const EntryList>(std::move(list));
}

}  // namespace tsnitch
