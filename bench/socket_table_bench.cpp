// The socket table's refresh (tsnitch monitor, the Sockets tab): CPU time per refresh of
// SocketTable::refresh() on the sockets of this network namespace, first (cold index) and steady.
// Usage: socket_table_bench [--rounds N] [--focus PID]    (run by bench/socket_table_bench.py)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/attribution/socket_table.h"

using namespace tsnitch;
using Clock = std::chrono::steady_clock;

namespace {
double pct(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
    return v[i];
}
}  // namespace

int main(int argc, char** argv) {
    int rounds = 50;
    std::optional<int> focus;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
        if (std::strcmp(argv[i], "--focus") == 0) focus = std::atoi(argv[i + 1]);
    }
    ProcessModel processes(ProcessModel::Options{.warm_index = false});
    auto table = SocketTable::open(processes);
    if (!table) {
        std::fprintf(stderr, "socket_table_bench: %s\n", table.error().message.c_str());
        return 1;
    }
    std::vector<double> cpu, wall;
    size_t procs = 0, sockets = 0, focus_rows = 0;
    double cold_cpu = 0, cold_wall = 0;
    for (int r = 0; r <= rounds; ++r) {
        const auto t0 = Clock::now();
        auto snap = table->refresh(focus, false);
        const double w = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!snap) {
            std::fprintf(stderr, "socket_table_bench: %s\n", snap.error().message.c_str());
            return 1;
        }
        const double c = static_cast<double>(snap->cpu.count()) / 1000.0;
        if (r == 0) {
            cold_cpu = c;
            cold_wall = w;
        } else {
            cpu.push_back(c);
            wall.push_back(w);
        }
        procs = snap->processes.size();
        sockets = snap->sockets;
        focus_rows = snap->focus ? snap->focus->sockets.size() : 0;
    }
    std::printf(
        "socket table: %zu processes with sockets, %zu sockets in the dump%s\n", procs, sockets,
        focus ? (", opened process: " + std::to_string(focus_rows) + " sockets").c_str() : "");
    std::printf("first refresh (cold index): CPU %.2f ms, wall %.2f ms\n", cold_cpu, cold_wall);
    std::printf("refresh CPU  (%d rounds): p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", rounds,
                pct(cpu, 50), pct(cpu, 99), pct(cpu, 100));
    std::printf("refresh wall (%d rounds): p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", rounds,
                pct(wall, 50), pct(wall, 99), pct(wall, 100));
    return 0;
}
