#include "tui/view_model.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "core/text.h"
#include "tui/keys.h"

namespace tsnitch::tui {

namespace {

std::string user_of(const DecisionEvent& e) {
    const auto& p = e.connection.process;
    if (p && !p->user.empty()) return p->user;
    if (p) return std::to_string(p->uid);
    if (e.connection.uid) return std::to_string(*e.connection.uid);
    return "unknown";
}

std::vector<Counted> top_of(const std::map<std::string, Counted>& m, size_t top) {
    std::vector<Counted> v;
    v.reserve(m.size());
    for (const auto& [k, c] : m)
        v.push_back(c);
    std::sort(v.begin(), v.end(), [](const Counted& a, const Counted& b) {
        return a.count != b.count ? a.count > b.count : a.key < b.key;
    });
    if (v.size() > top) v.resize(top);
    return v;
}

void count(std::map<std::string, Counted>& m, std::string key, bool blocked) {
    Counted& c = m[key];
    c.key = std::move(key);
    ++c.count;
    if (blocked) ++c.blocked;
}

}  // namespace

void EventLog::add(std::vector<DecisionEvent> events) {
    for (auto& e : events) {
        haystacks_.push_back(event_haystack(e));
        events_.push_back(std::move(e));
        if (events_.size() > capacity_) {
            events_.pop_front();
            haystacks_.pop_front();
        }
    }
}

std::string event_process(const DecisionEvent& e) {
    const auto& p = e.connection.process;
    if (!p) return "unknown";
    if (!p->comm.empty()) return p->comm;
    const size_t slash = p->path.rfind('/');
    if (!p->path.empty()) return slash == std::string::npos ? p->path : p->path.substr(slash + 1);
    return "unknown";
}

std::string event_destination(const DecisionEvent& e) {
    return e.connection.destination_text();
}

std::string event_rule(const DecisionEvent& e) {
    if (e.rule && !e.rule->empty()) return *e.rule;
    return "(" + std::string(reason_name(e.reason)) + ")";
}

std::string event_time(const DecisionEvent& e) {
    const std::time_t t = std::chrono::system_clock::to_time_t(e.time);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

std::string event_haystack(const DecisionEvent& e) {
    const Connection& c = e.connection;
    std::string hay(action_name(e.action));
    hay += ' ' + event_process(e) + ' ' + event_destination(e) + ' ' + c.dst.to_string() + ' ' +
           event_rule(e) + ' ' + std::string(protocol_name(c.protocol)) + ' ' + user_of(e);
    if (c.process) hay += ' ' + c.process->path + ' ' + std::to_string(c.process->pid);
    return ascii_lower(hay);
}

bool event_matches(const DecisionEvent& e, std::string_view filter) {
    return filter.empty() || event_haystack(e).find(ascii_lower(filter)) != std::string::npos;
}

std::vector<const DecisionEvent*> EventLog::filtered(std::string_view filter) const {
    std::vector<const DecisionEvent*> out;
    out.reserve(events_.size());
    const std::string needle = ascii_lower(filter);
    for (size_t i = events_.size(); i-- > 0;) {
        if (needle.empty() || haystacks_[i].find(needle) != std::string::npos) {
            out.push_back(&events_[i]);
        }
    }
    return out;
}

StatsTables compute_stats(const EventLog& log, size_t top) {
    std::map<std::string, Counted> hosts, processes, ports, users;
    for (const DecisionEvent& e : log.events()) {
        const Connection& c = e.connection;
        const bool blocked = e.action != Action::allow;
        count(hosts, c.dst_host.value_or(c.dst.unmapped().to_string()), blocked);
        std::string proc = c.process ? c.process->path : "";
        if (proc.empty()) proc = event_process(e);
        count(processes, proc, blocked);
        std::string port(protocol_name(c.protocol));
        if (protocol_has_ports(c.protocol)) port = std::to_string(c.dst_port) + "/" + port;
        count(ports, port, blocked);
        count(users, user_of(e), blocked);
    }
    return {top_of(hosts, top), top_of(processes, top), top_of(ports, top), top_of(users, top)};
}

std::vector<RuleSummary> sorted_rules(std::vector<RuleSummary> rules, RuleOrder order) {
    std::sort(rules.begin(), rules.end(), [order](const RuleSummary& a, const RuleSummary& b) {
        if (order == RuleOrder::hits && a.hits != b.hits) return a.hits > b.hits;
        return a.name < b.name;
    });
    return rules;
}

std::vector<PendingPrompt> prompt_queue(std::vector<PendingPrompt> pending,
                                        const std::vector<uint64_t>& answered) {
    std::erase_if(pending, [&](const PendingPrompt& p) {
        return std::find(answered.begin(), answered.end(), p.id) != answered.end();
    });
    std::sort(pending.begin(), pending.end(), [](const PendingPrompt& a, const PendingPrompt& b) {
        return a.opened != b.opened ? a.opened < b.opened : a.id < b.id;
    });
    return pending;
}

bool ListCursor::handle_key(int k, size_t page) {
    switch (k) {
        case key::up:
        case 'k':
            if (selected > 0) --selected;
            return true;
        case key::down:
        case 'j':
            ++selected;
            return true;
        case key::page_up:
            selected -= std::min(selected, page);
            return true;
        case key::page_down:
            selected += page;
            return true;
        case key::home:
            selected = 0;
            return true;
        case key::end:
            selected = static_cast<size_t>(-1) / 2;
            return true;
        default:
            return false;
    }
}

std::vector<int> fit_columns(const std::vector<int>& wants, const std::vector<int>& mins,
                             int total) {
    const size_t n = wants.size();
    std::vector<int> out(n, 0);
    if (n == 0) return out;
    auto width = [&](size_t i, int cap) { return std::max(mins[i], std::min(wants[i], cap)); };
    auto sum = [&](int cap) {
        int t = 0;
        for (size_t i = 0; i < n; ++i)
            t += width(i, cap);
        return t;
    };
    // The largest common cap that fits (the minimums alone may not: then they are all it gets).
    int lo = 0, hi = *std::max_element(wants.begin(), wants.end());
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (sum(mid) <= total)
            lo = mid;
        else
            hi = mid - 1;
    }
    int used = 0;
    for (size_t i = 0; i < n; ++i)
        used += out[i] = width(i, lo);
    // What is left: first to the columns that were cut (one each, in order), then to the last.
    for (size_t i = 0; i < n && used < total; ++i) {
        if (out[i] < wants[i]) ++out[i], ++used;
    }
    if (used < total) out[n - 1] += total - used;
    return out;
}

void clamp_scroll(size_t& selected, size_t& top, size_t count, int rows) {
    if (count == 0) {
        selected = top = 0;
        return;
    }
    selected = std::min(selected, count - 1);
    const auto r = static_cast<size_t>(std::max(rows, 1));
    if (selected < top) top = selected;
    if (selected >= top + r) top = selected - r + 1;
}

}  // namespace tsnitch::tui
