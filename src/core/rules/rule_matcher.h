// The engine's view of the rules: the decision for one connection, or none (then: prompt or
// DefaultAction). Called from the engine's decision thread; implementations guard their state.
#pragma once

#include <optional>
#include <string>

#include "core/connection.h"

namespace tsnitch {

struct RuleMatch {
    Action action = Action::deny;
    std::string rule_name;
    bool nolog = false;
};

class RuleMatcher {
  public:
    virtual ~RuleMatcher() = default;
    virtual std::optional<RuleMatch> match(const Connection& c) = 0;
    // The decision for `c`, whose process is not known, when the rules' answer cannot depend on
    // it: no enabled rule that could match reads a field of the process. A queue reader over its
    // bound asks this before it gives DefaultAction. None when that cannot be told.
    virtual std::optional<RuleMatch> match_without_process(const Connection&) {
        return std::nullopt;
    }
    // Whether some rule reads process.env.*: only then does the engine read /proc/PID/environ.
    virtual bool needs_env() const { return false; }
    // Whether some rule reads the executable's checksum (process.hash.*, lists.hash.md5): hashing
    // a binary takes milliseconds, so the queue readers leave such matching to the decision
    // thread.
    virtual bool needs_exe_hash() const { return false; }
};

}  // namespace tsnitch
