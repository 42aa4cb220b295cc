// What the TUI spends per frame on its data at Stats.MaxEvents = 5000: the Connections filter,
// the Stats tables, and making a long hostile argv safe. Prints p50/p99 of 300 runs each.
#include <algorithm>
#include <chrono>
#include <clocale>
#include <cstdio>
#include <string>
#include <vector>

#include "core/text.h"
#include "tui/view_model.h"

using namespace tsnitch;
using namespace tsnitch::tui;
using Clock = std::chrono::steady_clock;

template <class F>
void measure(const char* what, F&& f) {
    std::vector<double> us;
    for (int i = 0; i < 300; ++i) {
        const auto t0 = Clock::now();
        f();
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf("%-44s p50 %8.1f us   p99 %8.1f us\n", what, us[us.size() / 2],
                us[us.size() * 99 / 100]);
}

int main() {
    std::setlocale(LC_CTYPE, "C.UTF-8");
    EventLog log(5000);
    std::vector<DecisionEvent> events;
    for (int i = 0; i < 5000; ++i) {
        DecisionEvent e;
        e.action = i % 7 == 0 ? Action::deny : Action::allow;
        e.connection.dst = IpAddress::v4(0x0a000000u + static_cast<uint32_t>(i % 300));
        e.connection.dst_port = static_cast<uint16_t>(i % 5 == 0 ? 53 : 443);
        e.connection.dst_host = "host" + std::to_string(i % 200) + ".example.com";
        ProcessInfo p;
        p.comm = "proc" + std::to_string(i % 40);
        p.path = "/usr/bin/" + p.comm;
        p.user = i % 3 ? "alice" : "root";
        e.connection.process = std::make_shared<const ProcessInfo>(p);
        events.push_back(std::move(e));
    }
    log.add(std::move(events));
    size_t sink = 0;
    measure("Connections filter \"host17\" (5000 events)",
            [&] { sink += log.filtered("host17").size(); });
    measure("Connections, no filter (5000 events)", [&] { sink += log.filtered("").size(); });
    measure("Stats tables, top 25 (5000 events)",
            [&] { sink += compute_stats(log, 25).hosts.size(); });
    std::string argv;
    for (int i = 0; i < 400; ++i)
        argv += "arg\x1b[2J\xe6\x97\xa5 ";
    measure("printable_text of a 4 KB hostile argv",
            [&] { sink += printable_text(argv, true).size(); });
    std::printf("(%zu)\n", sink);
    return 0;
}
