// The first rung of the attribution ladder (DESIGN.md §6): the owner maps the BPF programs fill.
// Looks the packet's tuple up exactly, then with the source address unspecified (sockets not
// bound to an address), then by the socket cookie that sock_diag reports for the tuple.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "bpf/bpf_monitor.h"
#include "core/attribution/attributor.h"

namespace tsnitch::bpf {

class BpfAttributor : public Attributor {
  public:
    // Finds the cookie of the socket behind a connection (sock_diag); may be empty.
    using CookieFinder = std::function<std::optional<uint64_t>(const Connection&)>;

    explicit BpfAttributor(const BpfMonitor& monitor, std::string proc_root = "/proc");

    void set_cookie_finder(CookieFinder finder) { cookie_finder_ = std::move(finder); }

    Attribution attribute(const Connection& c) override;
    Method method() const override { return Method::ebpf; }

    // The owner as the maps know it, without reading /proc (for tests and the benchmark).
    std::optional<SocketOwner> find_owner(const Connection& c) const;

  private:
    ProcessInfo describe(const SocketOwner& owner) const;

    const BpfMonitor& monitor_;
    std::string proc_root_;
    CookieFinder cookie_finder_;
    long clock_ticks_;
};

}  // namespace tsnitch::bpf
