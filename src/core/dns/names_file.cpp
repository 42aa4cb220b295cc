#include "core/dns/names_file.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/fs.h"

namespace tsnitch {

namespace {

constexpr std::string_view kMagic = "tsnitch-names 1 ";

bool plain(unsigned char c) {
    return c > ' ' && c < 0x7f && c != '\\';
}

std::string escape_name(std::string_view name) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(name.size());
    for (unsigned char c : name) {
        if (plain(c)) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> unescape_name(std::string_view field) {
    std::string out;
    out.reserve(field.size());
    for (size_t i = 0; i < field.size(); ++i) {
        const auto c = static_cast<unsigned char>(field[i]);
        if (c == '\\') {
            if (i + 3 >= field.size()) return std::nullopt;
            if (field[i + 1] != 'x') return std::nullopt;
            const int hi = hex_digit(field[i + 2]), lo = hex_digit(field[i + 3]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 3;
        } else if (plain(c)) {
            out += static_cast<char>(c);
        } else {
            return std::nullopt;
        }
    }
    return out;
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
    T n{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || text[0] == '-' || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return n;
}

// One entry line; the error says what is wrong with it.
Result<NameEntry> parse_line(std::string_view line) {
    if (line.size() > kNamesFileMaxLine) return make_error("line too long");
    const size_t a = line.find(' ');
    const size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    if (b == std::string_view::npos || line.find(' ', b + 1) != std::string_view::npos)
        return make_error("expected ADDRESS NAME EXPIRY");
    NameEntry e;
    auto address = IpAddress::parse(line.substr(0, a));
    if (!address) return make_error("bad address '" + escape_name(line.substr(0, a)) + "'");
    e.address = *address;
    auto name = unescape_name(line.substr(a + 1, b - a - 1));
    if (!name || name->empty()) return make_error("bad name");
    e.name = std::move(*name);
    auto expiry = parse_number<int64_t>(line.substr(b + 1));
    if (!expiry) return make_error("bad expiry");
    e.expires_unix = *expiry;
    return e;
}

}  // namespace

std::string format_names_file(int writer_pid, std::span<const NameEntry> entries) {
    std::string out(kMagic);
    out += std::to_string(writer_pid) + "\n";
    for (const NameEntry& e : entries) {
        if (e.name.empty()) continue;
        out += e.address.to_string() + " " + escape_name(e.name) + " " +
               std::to_string(e.expires_unix) + "\n";
    }
    return out;
}

Result<NamesFile> parse_names_file(std::string_view text, std::string_view origin,
                                   int64_t now_unix) {
    const std::string where(origin);
    const size_t header_end = text.find('\n');
    if (header_end == std::string_view::npos || !text.starts_with(kMagic))
        return make_error(where + ":1: not a tsnitch names file (expected 'tsnitch-names 1 PID')");
    auto pid = parse_number<int>(text.substr(kMagic.size(), header_end - kMagic.size()));
    if (!pid || *pid <= 0) return make_error(where + ":1: bad writer pid");
    NamesFile f;
    f.writer_pid = *pid;
    size_t at = header_end + 1;
    for (size_t line_no = 2; at < text.size(); ++line_no) {
        const size_t end = text.find('\n', at);
        const std::string prefix = where + ":" + std::to_string(line_no) + ": ";
        if (end == std::string_view::npos) {
            f.problems.push_back(make_error(prefix + "cut short (no newline)"));
            break;
        }
        auto entry = parse_line(text.substr(at, end - at));
        at = end + 1;
        if (!entry) {
            f.problems.push_back(make_error(prefix + entry.error().message));
            continue;
        }
        if (entry->expires_unix > now_unix) f.entries.push_back(std::move(*entry));
    }
    return f;
}

Result<NamesFile> read_names_file(const std::string& path, int64_t now_unix) {
    auto text = read_text_file(path, kNamesFileMaxBytes);
    if (!text) return text.error();
    return parse_names_file(*text, path, now_unix);
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Result<NamesFile> read_current_names_file(const std::string& path) {
    auto file = read_names_file(path, unix_now());
    if (!file) return file;
    if (::kill(file->writer_pid, 0) != 0 && errno == ESRCH)
        return make_error(path + ": left by tsnitch " + std::to_string(file->writer_pid) +
                              ", which is no longer running",
                          ESRCH);
    return file;
}

std::string names_file_path(std::string_view control_socket, uint64_t netns_inode) {
    const size_t slash = control_socket.rfind('/');
    const std::string dir =
        slash == std::string_view::npos ? "." : std::string(control_socket.substr(0, slash));
    return (dir.empty() ? std::string("/") : dir + "/") + "names." + std::to_string(netns_inode);
}

std::optional<uint64_t> netns_inode_from_link(std::string_view link) {
    if (!link.starts_with("net:[") || !link.ends_with("]")) return std::nullopt;
    return parse_number<uint64_t>(link.substr(5, link.size() - 6));
}

NameTable::NameTable(const std::vector<NameEntry>& entries) {
    for (const NameEntry& e : entries)
        names_.insert_or_assign(dns_cache_key(e.address), e.name);
}

std::optional<std::string> NameTable::lookup(const IpAddress& address) const {
    auto it = names_.find(dns_cache_key(address));
    if (it == names_.end()) return std::nullopt;
    return it->second;
}

NamesPublisher::NamesPublisher(const DnsCache& cache, std::string path, int pid)
    : cache_(cache), path_(std::move(path)), pid_(pid) {}

NamesPublisher::~NamesPublisher() {
    if (started_) ::unlink(path_.c_str());
}

Status NamesPublisher::start() {
    // 0755: the directory may be shared with the control socket, whose group must reach it; the
    // file itself is 0600 (write_file_atomically).
    const std::filesystem::path dir = std::filesystem::path(path_).parent_path();
    if (!dir.empty()) {
        if (Status s = create_directories(dir.string(), 0755); !s) return s;
    }
    started_ = true;
    return write();
}

Status NamesPublisher::publish() {
    if (!started_ || cache_.generation() == written_generation_) return Ok{};
    return write();
}

Status NamesPublisher::write() {
    // The generation is read first: an answer added while the file is written makes it stale.
    const uint64_t generation = cache_.generation();
    const auto steady_now = std::chrono::steady_clock::now();
    const int64_t now = unix_now();
    std::vector<NameEntry> entries;
    for (const DnsCache::Named& n : cache_.live_entries()) {
        const auto left = std::chrono::ceil<std::chrono::seconds>(n.expires - steady_now);
        entries.push_back(NameEntry{n.address, n.name, now + left.count()});
    }
    if (Status s = write_file_atomically(path_, format_names_file(pid_, entries)); !s) return s;
    written_generation_ = generation;
    return Ok{};
}

}  // namespace tsnitch
