#include "core/duration.h"

#include <cctype>

namespace tsnitch {

std::optional<RuleDuration> RuleDuration::parse(std::string_view text) {
    if (text == "once") return RuleDuration{Kind::once, {}};
    if (text == "until restart" || text == "restart") return RuleDuration{Kind::until_restart, {}};
    if (text == "always") return RuleDuration{Kind::always, {}};
    if (text.empty()) return std::nullopt;
    long long total = 0;
    size_t i = 0;
    while (i < text.size()) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
        long long n = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            n = n * 10 + (text[i] - '0');
            if (n > 100'000'000) return std::nullopt;  // beyond any sensible rule lifetime
            ++i;
        }
        if (i == text.size()) return std::nullopt;  // a number needs a unit
        switch (text[i++]) {
            case 'h':
                total += n * 3600;
                break;
            case 'm':
                total += n * 60;
                break;
            case 's':
                total += n;
                break;
            default:
                return std::nullopt;
        }
    }
    if (total <= 0) return std::nullopt;
    return RuleDuration{Kind::timed, std::chrono::seconds(total)};
}

std::string RuleDuration::to_string() const {
    switch (kind) {
        case Kind::once:
            return "once";
        case Kind::until_restart:
            return "until restart";
        case Kind::always:
            return "always";
        case Kind::timed:
            break;
    }
    long long s = span.count();
    std::string out;
    if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
    if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
    if (s > 0 || out.empty()) out += std::to_string(s) + "s";
    return out;
}

}  // namespace tsnitch
