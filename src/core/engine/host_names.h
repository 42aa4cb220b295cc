// Where the engine learns host names: DNS answers read on their way in, then looked up by
// address when a connection is decided. The DNS area's cache implements it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/address.h"

namespace tsnitch {

class HostNames {
  public:
    virtual ~HostNames() = default;
    // A DNS message (for TCP without the 2-byte length prefix). Called on the queue thread: it
    // must not block.
    virtual void learn(std::span<const uint8_t> dns_message) = 0;
    virtual std::optional<std::string> host_for(const IpAddress& address) = 0;
};

}  // namespace tsnitch
