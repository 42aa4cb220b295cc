// Test driver for the eBPF rung without the NFQUEUE engine: builds the attribution ladder as the
// engine does for ProcMonitorMethod ebpf and answers lookups for tuples read from standard input,
// one JSON object per line on standard output.
//   (start) {"ready":true,"ebpf":true,"netns":N,"sockets":N,"seeded":N,..}
//                                     or, when the module cannot be used,
//                                     {"ready":true,"ebpf":false,"notice":"eBPF unavailable
//                                     (..)..."}
//   lookup PROTO SRC SPORT DST DPORT  -> {"found":true,"method":"ebpf","pid":N,"via":"flow",...,
//                                         "fast_via":"recent","fast_pid":N} | {"found":false}
//                                        (fast_*: as the queue readers find it, from memory)
//   sweep SECONDS                     -> {"removed":N}
//   send IPV4 PORT                    -> {"pid":N,"sport":N}: a datagram from this process, on a
//                                        UDP socket connected first (its port bound by connect());
//                                        the socket stays open
// `--ignore-own-sends` loads the module as `tsnitch run` does (BpfOptions::ignore_own_sends).
// Exit status 0 at the end of input.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bpf/attribution_stack.h"
#include "core/json.h"

using namespace tsnitch;

namespace {

std::string answer_lookup(bpf::AttributionStack& stack, std::istringstream& in) {
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
    std::optional<bpf::OwnerMatch> match;
    if (stack.ebpf) match = stack.ebpf->find_owner(c);
    Attribution a = stack.ladder->attribute(c);
    if (!a.process) return R"({"found":false})";
    const ProcessInfo& pi = *a.process;
    std::string args = "[";
    for (size_t i = 0; i < pi.args.size(); ++i)
        args += (i ? "," : "") + json_quote(pi.args[i]);
    args += "]";
    std::string out = std::string("{\"found\":true,\"method\":") +
                      json_quote(method_name(a.method)) + ",\"pid\":" + std::to_string(pi.pid) +
                      ",\"uid\":" + std::to_string(pi.uid) + ",\"comm\":" + json_quote(pi.comm) +
                      ",\"path\":" + json_quote(pi.path) + ",\"args\":" + args +
                      ",\"micros\":" + std::to_string(a.micros);
    if (match) {
        out += ",\"thread\":" + std::to_string(match->owner.pid) +
               ",\"released\":" + (match->owner.released_ns ? "true" : "false") +
               ",\"via\":" + json_quote(bpf::lookup_step_name(match->step));
    }
    // The queue readers' way (after the lookup above, which filled the attributor's cache).
    if (stack.ebpf) {
        if (auto fast = stack.ebpf->find_owner(c, /*ask_diag=*/false, /*recent=*/true)) {
            out += ",\"fast_via\":" + json_quote(bpf::lookup_step_name(fast->step));
        }
        Attribution f = stack.ebpf->attribute_from_memory(c);
        if (f.process) out += ",\"fast_pid\":" + std::to_string(f.process->pid);
    }
    return out + "}";
}

std::string answer_send(std::istringstream& in, std::vector<int>& open) {
    std::string host;
    unsigned port = 0;
    if (!(in >> host >> port)) return R"({"error":"bad send line"})";
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &to.sin_addr) != 1) return R"({"error":"bad address"})";
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return R"({"error":"socket"})";
    open.push_back(fd);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 ||
        ::send(fd, "x", 1, 0) != 1)
        return std::string(R"({"error":)") + json_quote(std::strerror(errno)) + "}";
    sockaddr_in me{};
    socklen_t len = sizeof me;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len);
    return "{\"pid\":" + std::to_string(::getpid()) +
           ",\"sport\":" + std::to_string(ntohs(me.sin_port)) + "}";
}

}  // namespace

int main(int argc, char** argv) {
    bpf::BpfOptions options;
    if (argc > 1 && std::string(argv[1]) == "--ignore-own-sends") options.ignore_own_sends = true;
    ProcessModel processes;
    bpf::AttributionStack stack = bpf::make_attribution_stack(Method::ebpf, processes, options);
    std::vector<int> sockets;  // of `send`, open until the end
    if (stack.monitor) {
        const bpf::SeedResult& seeded = stack.monitor->seeded();
        std::printf(
            "{\"ready\":true,\"ebpf\":true,\"netns\":%llu,\"cgroup\":%s,\"sockets\":%zu,"
            "\"seeded\":%zu,\"seed_error\":%s}\n",
            static_cast<unsigned long long>(stack.monitor->netns_cookie()),
            json_quote(stack.monitor->cgroup_root()).c_str(), seeded.sockets, seeded.stored,
            json_quote(seeded.error).c_str());
    } else {
        std::printf("{\"ready\":true,\"ebpf\":false,\"method\":%s,\"notice\":%s}\n",
                    json_quote(method_name(stack.ladder->method())).c_str(),
                    json_quote(stack.notice).c_str());
    }
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        std::string out;
        if (cmd == "lookup") {
            out = answer_lookup(stack, in);
        } else if (cmd == "send") {
            out = answer_send(in, sockets);
        } else if (cmd == "sweep" && stack.monitor) {
            double seconds = 0;
            in >> seconds;
            const auto removed = stack.monitor->sweep(
                std::chrono::nanoseconds(static_cast<long long>(seconds * 1e9)));
            out = "{\"removed\":" + std::to_string(removed) + "}";
        } else {
            out = R"({"error":"unknown command"})";
        }
        std::printf("%s\n", out.c_str());
        std::fflush(stdout);
    }
    for (int fd : sockets)
        ::close(fd);
    return 0;
}
