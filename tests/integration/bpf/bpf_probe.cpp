// Test driver for the eBPF rung without the NFQUEUE engine: loads BpfMonitor and answers
// lookups for tuples read from standard input, one JSON object per line on standard output.
//   (start)                           {"ready":true,"netns":N,"sockets":N,"seeded":N,...}
//                                     or {"ready":false,"error":".."}
//   lookup PROTO SRC SPORT DST DPORT  -> {"found":true,"method":"ebpf","pid":N,...} |
//   {"found":false} sweep SECONDS                     -> {"removed":N}
// Exit status 0 after end of input, 1 when the module could not be loaded.
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "bpf/bpf_attributor.h"
#include "bpf/bpf_monitor.h"
#include "core/json.h"

using namespace tsnitch;

namespace {

std::string answer_lookup(bpf::BpfAttributor& attributor, std::istringstream& in) {
    std::string proto, src, dst;
    unsigned sport = 0, dport = 0;
    if (!(in >> proto >> src >> sport >> dst >> dport)) return R"({"error":"bad lookup line"})";
    auto p = protocol_from_name(proto);
    auto s = IpAddress::parse(src);
    auto d = IpAddress::parse(dst);
    if (!p || !s || !d) return R"({"error":"bad protocol or address"})";
    Connection c;
    c.protocol = *p;
    c.src = *s;
    c.src_port = static_cast<uint16_t>(sport);
    c.dst = *d;
    c.dst_port = static_cast<uint16_t>(dport);
    auto match = attributor.find_owner(c);
    Attribution a = attributor.attribute(c);
    if (!a.process || !match) return R"({"found":false})";
    const bpf::SocketOwner* owner = &match->owner;
    const ProcessInfo& pi = *a.process;
    std::string args = "[";
    for (size_t i = 0; i < pi.args.size(); ++i)
        args += (i ? "," : "") + json_quote(pi.args[i]);
    args += "]";
    return std::string("{\"found\":true,\"method\":") + json_quote(method_name(a.method)) +
           ",\"pid\":" + std::to_string(pi.pid) + ",\"thread\":" + std::to_string(owner->pid) +
           ",\"uid\":" + std::to_string(pi.uid) + ",\"comm\":" + json_quote(pi.comm) +
           ",\"path\":" + json_quote(pi.path) + ",\"args\":" + args +
           ",\"released\":" + (owner->released_ns ? "true" : "false") +
           ",\"via\":" + json_quote(bpf::lookup_step_name(match->step)) +
           ",\"micros\":" + std::to_string(a.micros) + "}";
}

}  // namespace

int main() {
    auto monitor = bpf::BpfMonitor::create();
    if (!monitor) {
        std::printf("{\"ready\":false,\"error\":%s}\n",
                    json_quote(monitor.error().message).c_str());
        return 1;
    }
    bpf::BpfAttributor attributor(**monitor);
    const bpf::SeedResult& seeded = (*monitor)->seeded();
    std::printf(
        "{\"ready\":true,\"netns\":%llu,\"cgroup\":%s,\"sockets\":%zu,\"seeded\":%zu,"
        "\"seed_error\":%s}\n",
        static_cast<unsigned long long>((*monitor)->netns_cookie()),
        json_quote((*monitor)->cgroup_root()).c_str(), seeded.sockets, seeded.stored,
        json_quote(seeded.error).c_str());
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        std::string out;
        if (cmd == "lookup") {
            out = answer_lookup(attributor, in);
        } else if (cmd == "sweep") {
            double seconds = 0;
            in >> seconds;
            const auto removed =
                (*monitor)->sweep(std::chrono::nanoseconds(static_cast<long long>(seconds * 1e9)));
            out = "{\"removed\":" + std::to_string(removed) + "}";
        } else {
            out = R"({"error":"unknown command"})";
        }
        std::printf("%s\n", out.c_str());
        std::fflush(stdout);
    }
    return 0;
}
