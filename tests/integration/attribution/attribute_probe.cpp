// Test driver for the attribution ladder on real sockets (the NFQUEUE engine is not needed):
//   attribute_probe [--method diag|proc] [--cold] PROTO SRC SPORT DST DPORT
// prints one JSON object: the socket found and the process it attributes the tuple to.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/attribution/attribution_ladder.h"
#include "core/json.h"

using namespace tsnitch;

int main(int argc, char** argv) {
    AttributionLadder::Options opt;
    ProcessModel::Options po;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; ++i) {
        if (std::strcmp(argv[i], "--method") == 0 && i + 1 < argc) {
            auto m = method_from_name(argv[++i]);
            if (!m) return 2;
            opt.method = *m;
        } else if (std::strcmp(argv[i], "--cold") == 0) {
            po.warm_index = false;
        } else {
            return 2;
        }
    }
    if (argc - i != 5) {
        std::fprintf(stderr,
                     "usage: attribute_probe [--method diag|proc] [--cold] PROTO SRC SPORT DST "
                     "DPORT\n");
        return 2;
    }
    Connection c;
    auto proto = protocol_from_name(argv[i]);
    auto src = IpAddress::parse(argv[i + 1]);
    auto dst = IpAddress::parse(argv[i + 3]);
    if (!proto || !src || !dst) return 2;
    c.protocol = *proto;
    c.src = *src;
    c.src_port = static_cast<uint16_t>(std::atoi(argv[i + 2]));
    c.dst = *dst;
    c.dst_port = static_cast<uint16_t>(std::atoi(argv[i + 4]));

    po.diag = opt.method != Method::proc;
    ProcessModel processes(po);
    AttributionLadder ladder(processes, opt);
    auto sock = ladder.find_socket(c);
    Attribution a = ladder.attribute(c);
    std::string j = "{\"method\":" + json_quote(method_name(a.method));
    j += ",\"fallback\":" + json_quote(ladder.fallback());
    if (sock) {
        j += ",\"inode\":" + std::to_string(sock->inode);
        j += ",\"socket_family\":" + json_quote(sock->family == Family::v6 ? "ipv6" : "ipv4");
        j += ",\"socket_src\":" + json_quote(sock->src.to_string());
        j += ",\"socket_dst\":" + json_quote(sock->dst.to_string());
    }
    if (a.process) {
        j += ",\"pid\":" + std::to_string(a.process->pid);
        j += ",\"path\":" + json_quote(a.process->path);
        j += ",\"comm\":" + json_quote(a.process->comm);
        j += ",\"uid\":" + std::to_string(a.process->uid);
    } else {
        j += ",\"pid\":null";
    }
    j += ",\"micros\":" + std::to_string(a.micros) + "}";
    std::puts(j.c_str());
    return 0;
}
