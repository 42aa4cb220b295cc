// How long a decision lasts (OpenSnitch's rule durations): once, a span ("30s", "5m", "1h30m"),
// until restart, or always.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tsnitch {

struct RuleDuration {
    enum class Kind { once, timed, until_restart, always };
    Kind kind = Kind::once;
    std::chrono::seconds span{0};  // only for timed

    // "once", "until restart", "always", or a Go-style duration of h/m/s parts ("30s", "1h30m").
    static std::optional<RuleDuration> parse(std::string_view text);
    std::string to_string() const;  // as OpenSnitch writes it: "once", "5m", "1h30m", ...
    friend bool operator==(const RuleDuration&, const RuleDuration&) = default;
};

}  // namespace tsnitch
