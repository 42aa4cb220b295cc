// The data behind the views, without a terminal: the bounded event log and its filter, the
// statistics computed from it, the rules in display order, and the pending prompts in the order
// they are answered.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tui/ui_records.h"

namespace tsnitch::tui {

// The newest `capacity` decisions (Stats.MaxEvents); older ones fall off.
class EventLog {
  public:
    explicit EventLog(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
    void add(std::vector<DecisionEvent> events);
    size_t size() const { return events_.size(); }
    const std::deque<DecisionEvent>& events() const { return events_; }  // oldest first
    // Newest first; those whose text (action, process, destination, port, user, rule) contains
    // `filter` case-insensitively; everything when the filter is empty.
    std::vector<const DecisionEvent*> filtered(std::string_view filter) const;

  private:
    size_t capacity_;
    std::deque<DecisionEvent> events_;
    std::deque<std::string> haystacks_;  // per event, lower case: filtering is one find() each
};

// The text a row shows, raw (the views make it safe).
std::string event_process(const DecisionEvent& e);      // comm, else the path's last part, else "?"
std::string event_destination(const DecisionEvent& e);  // "example.com:443" or "10.0.2.2:53"
std::string event_rule(const DecisionEvent& e);         // the rule name, else the reason
std::string event_time(const DecisionEvent& e);         // local "HH:MM:SS"
bool event_matches(const DecisionEvent& e, std::string_view filter);
// The lower-case text the filter searches in.
std::string event_haystack(const DecisionEvent& e);

struct Counted {
    std::string key;
    uint64_t count = 0;
    uint64_t blocked = 0;  // of which denied or rejected
};

struct StatsTables {
    std::vector<Counted> hosts;      // dst_host, else the address
    std::vector<Counted> processes;  // the executable path (comm when unknown)
    std::vector<Counted> ports;      // "443/tcp"
    std::vector<Counted> users;      // user name, else uid
};

// Counts over the events in the log, each table sorted by count (then key), at most `top` rows.
StatsTables compute_stats(const EventLog& log, size_t top);

// Rules by name (the order in which OpenSnitch evaluates them), or by hits (most first).
enum class RuleOrder { name, hits };
std::vector<RuleSummary> sorted_rules(std::vector<RuleSummary> rules,
                                      RuleOrder order = RuleOrder::name);

// Pending prompts oldest first (opened, then id), without those already answered here.
std::vector<PendingPrompt> prompt_queue(std::vector<PendingPrompt> pending,
                                        const std::vector<uint64_t>& answered);

// Widths for columns whose texts need `wants` columns, each at least its `mins`, sharing `total`
// (separators already taken off): when everything fits each gets what it needs and the last
// column the rest; otherwise the widest are cut first, down to one common width, so that a long
// rule name is not cut while short destinations leave room unused.
std::vector<int> fit_columns(const std::vector<int>& wants, const std::vector<int>& mins,
                             int total);

// Keeps `selected` inside a list of `count` and visible in a window of `rows` rows from `top`.
void clamp_scroll(size_t& selected, size_t& top, size_t count, int rows);

// Where the person is in one list view: the selected row and the first row shown. Each list
// view owns its own, so that switching views keeps the place in each.
struct ListCursor {
    size_t selected = 0;
    size_t top = 0;
    // Up/Down/j/k, PgUp/PgDn (`page` rows), Home/End: true when the key is one of those. The
    // selection may run past the end: drawing clamps it (the view knows the count).
    bool handle_key(int key, size_t page);
    void clamp(size_t count, int rows) { clamp_scroll(selected, top, count, rows); }
};

}  // namespace tsnitch::tui
