// The attribution ladder's interface: who owns the socket behind a connection. The engine calls
// it from its attribution worker; a queue reader calls only a rung that answers from memory.
#pragma once

#include <cstdint>
#include <optional>

#include "core/connection.h"

namespace tsnitch {

struct Attribution {
    ProcessRef process;            // null: nothing found (reason unknown-process)
    Method method = Method::none;  // the rung that answered
    uint64_t micros = 0;           // time spent
};

class Attributor {
  public:
    virtual ~Attributor() = default;
    // `c` carries the packet's tuple and the uid the kernel gave (NFQA_UID) when it did.
    virtual Attribution attribute(const Connection& c) = 0;
    // The configured first rung, and the one actually in use (after a fallback).
    virtual Method method() const = 0;
};

}  // namespace tsnitch
