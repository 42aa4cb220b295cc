// Where the engine learns host names: DNS answers read on their way in, then looked up by
// address when a connection is decided. The DNS area's cache implements it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/address.h"

namespace tsnitch {

struct PacketInfo;

class HostNames {
  public:
    virtual ~HostNames() = default;
    // An inbound packet from port 53 (UDP or TCP), `info` parsed from `packet`. Called on the
    // queue thread only: it must not block.
    virtual void learn(const PacketInfo& info, std::span<const uint8_t> packet) = 0;
    virtual std::optional<std::string> host_for(const IpAddress& address) = 0;
};

}  // namespace tsnitch
