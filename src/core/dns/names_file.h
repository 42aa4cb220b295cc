// The running tsnitch's host names for other processes (`tsnitch sockets`): a snapshot of its DNS
// cache in a file beside the control socket, one line per address:
//
//   tsnitch-names 1 PID              header: format version, the writing tsnitch's pid
//   ADDRESS NAME EXPIRY_UNIX         e.g. "140.82.121.4 github.com 1764365000"
//
// NAME writes '\' and every byte outside '!'..'~' as \xNN, so a hostile name can add neither a
// field nor a line. The file is per network namespace (DIR/names.NETNS_INODE): `ip netns exec`
// shares /run, and two tsnitch instances of different namespaces must not overwrite each other.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/address.h"
#include "core/dns/dns_cache.h"
#include "core/result.h"

namespace tsnitch {

struct NameEntry {
    IpAddress address;
    std::string name;  // raw, as the answer had it: escape it for display
    int64_t expires_unix = 0;
};

struct NamesFile {
    int writer_pid = 0;
    std::vector<NameEntry> entries;  // the unexpired ones
    std::vector<Error> problems;     // "ORIGIN:LINE: what" for each skipped line
};

// Limits for the reader: a file over them is cut there (the rest is not read).
inline constexpr size_t kNamesFileMaxBytes = 16u << 20;
inline constexpr size_t kNamesFileMaxLine = 2048;

std::string format_names_file(int writer_pid, std::span<const NameEntry> entries);

// Entries that expire at or before `now_unix` are left out. A bad line, or a last line without
// its newline (a file cut short), is skipped with a problem; a missing or wrong header is an error.
Result<NamesFile> parse_names_file(std::string_view text, std::string_view origin,
                                   int64_t now_unix);

// ENOENT (no tsnitch running) comes back as an Error with that code.
Result<NamesFile> read_names_file(const std::string& path, int64_t now_unix);

// Seconds since the epoch by the wall clock (what the file's expiry times count in).
int64_t unix_now();

// The file as a reader uses it now: entries expired by the wall clock left out, and a file whose
// writer is gone (a tsnitch that was killed left it; its names are no one's) an Error with code
// ESRCH.
Result<NamesFile> read_current_names_file(const std::string& path);

// DIR/names.NETNS_INODE, DIR being the control socket's directory.
std::string names_file_path(std::string_view control_socket, uint64_t netns_inode);
// The inode from a /proc/PID/ns/net link text ("net:[4026531840]").
std::optional<uint64_t> netns_inode_from_link(std::string_view link);

// Address -> name, looked up as the DNS cache does (::ffff:a.b.c.d finds a.b.c.d).
class NameTable {
  public:
    NameTable() = default;
    explicit NameTable(const std::vector<NameEntry>& entries);
    std::optional<std::string> lookup(const IpAddress& address) const;
    size_t size() const { return names_.size(); }

  private:
    std::unordered_map<IpAddress, std::string> names_;
};

// The writing side, run from the daemon's housekeeping thread: publish() rewrites the file
// (atomically, mode 0600) when the cache changed since the last time; the destructor removes it.
class NamesPublisher {
  public:
    NamesPublisher(const DnsCache& cache, std::string path, int pid);
    ~NamesPublisher();
    NamesPublisher(const NamesPublisher&) = delete;
    NamesPublisher& operator=(const NamesPublisher&) = delete;

    // Creates the directory and writes the (maybe empty) file, replacing one a crash left behind.
    Status start();
    Status publish();
    const std::string& path() const { return path_; }

  private:
    Status write();
    const DnsCache& cache_;
    std::string path_;
    int pid_;
    bool started_ = false;
    uint64_t written_generation_ = 0;
};

}  // namespace tsnitch
