// Socket inode -> process: an index of `proc_root`/*/fd built with readlink only (no stat, as
// ss does), refreshed incrementally. A miss rescans first the processes of the socket's uid: new
// ones, then those that made a socket most recently, then those matched last; it stops at the
// first holder.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tsnitch {

class InodeIndex {
  public:
    explicit InodeIndex(std::string proc_root = "/proc");

    struct Owner {
        int pid = 0;
        int fd = 0;
    };
    // A process holding socket `inode`, nullopt when none does (or none that we may read).
    // `uid`: the socket's owner, whose processes are looked at first.
    std::optional<Owner> find(uint64_t inode, std::optional<uint32_t> uid);

    // Only what the index holds already (checked against the fd link), never a rescan.
    std::optional<Owner> find_known(uint64_t inode);

    // Reads every process's fds now (at start, so that the first packets find a warm index).
    void refresh_all();

    // The owners of every inode in `live` (the socket table's refresh, one call per SocketsDump):
    // inodes no longer live are dropped, new processes are read, and for inodes not yet known the
    // others are read in the rank order of find() until all are found. Known owners are trusted
    // (no readlink per socket); inodes that no process held are not searched again while live.
    const std::unordered_map<uint64_t, Owner>& sync(const std::vector<uint64_t>& live);

    size_t processes() const { return procs_.size(); }
    size_t fd_scans() const { return fd_scans_; }  // processes whose fds were read, ever

  private:
    struct Proc {
        std::optional<uint32_t> uid;
        uint64_t last_hit = 0;   // tick of the last inode found here; 0 never
        uint64_t max_inode = 0;  // inodes count up: the highest tells who made a socket last
        bool scanned = false;
        std::vector<uint64_t> inodes;
    };
    bool verify(uint64_t inode, const Owner& o) const;
    void sync_pids();
    void scan(int pid, Proc& p);
    void forget(int pid, Proc& p);

    std::string root_;
    std::unordered_map<uint64_t, Owner> owners_;
    std::unordered_map<int, Proc> procs_;
    // Inodes no process held at the last full rescan: asked again soon, they cost nothing.
    std::unordered_map<uint64_t, std::chrono::steady_clock::time_point> misses_;
    std::unordered_set<uint64_t> unowned_;  // sync(): live inodes no process held
    uint64_t tick_ = 0;
    size_t fd_scans_ = 0;
};

}  // namespace tsnitch
