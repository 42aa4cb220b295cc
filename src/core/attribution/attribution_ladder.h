// The attribution ladder of DESIGN.md §6 behind the Attributor interface: an optional first rung
// (the eBPF monitor, written elsewhere), then the socket (sock_diag, or /proc/net for the proc
// method), then its inode's process and that process's identity — the last two from the shared
// ProcessModel, which the socket table and the eBPF rung use too.
// Per packet it costs a netlink round trip or two and a few small /proc reads, never a walk of
// every process unless the inode is new to the index.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/attribution/attributor.h"
#include "core/attribution/process_model.h"
#include "core/attribution/socket_entry.h"

namespace tsnitch {

class AttributionLadder : public Attributor {
  public:
    struct Options {
        Method method = Method::diag;  // diag or proc: how the socket is found
        // Asked first when set (the eBPF rung); when it finds no process, the ladder goes on.
        // Not owned; it must outlive the ladder.
        Attributor* first_rung = nullptr;
    };

    // Falls back from diag to proc when `processes` has no sock_diag (see fallback()).
    // `processes` must outlive the ladder.
    AttributionLadder(ProcessModel& processes, Options options);

    Attribution attribute(const Connection& c) override;
    Method method() const override;

    // Why the configured socket method is not in use; empty when it is.
    const std::string& fallback() const { return fallback_; }

    // Rung 2 alone: the socket that sent `c`, nullopt when none. Thread-safe like attribute().
    std::optional<InetSocket> find_socket(const Connection& c);

  private:
    // The proc method, with mutex_ held (its cached tables).
    std::optional<InetSocket> find_socket_proc_locked(const Connection& c);
    ProcessRef process_of(uint64_t inode, std::optional<uint32_t> uid);
    std::optional<InetSocket> find_socket_diag(const Connection& c);

    ProcessModel& processes_;
    Options options_;
    Method socket_method_;
    std::string fallback_;
    // The proc method's last read of the /proc/net tables: rendering one takes milliseconds.
    std::vector<InetSocket> proc_tables_;
    std::mutex mutex_;  // proc_tables_
};

}  // namespace tsnitch
