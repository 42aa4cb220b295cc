// `tsnitch [run]`: options, configuration, then the engine.
#include <getopt.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "core/config.h"

namespace tsnitch::cli {

namespace {

struct RunOptions {
    std::string config_path;
    std::string rules_dir;
    bool headless = false;
    std::string method;
    std::string events;
    std::string queue;
};

}  // namespace

int run(int argc, char** argv) {
    RunOptions o;
    enum { kHeadless = 1000, kMethod, kEvents, kQueue };
    static const option longopts[] = {{"config", required_argument, nullptr, 'c'},
                                      {"rules", required_argument, nullptr, 'r'},
                                      {"headless", no_argument, nullptr, kHeadless},
                                      {"method", required_argument, nullptr, kMethod},
                                      {"events", required_argument, nullptr, kEvents},
                                      {"queue", required_argument, nullptr, kQueue},
                                      {nullptr, 0, nullptr, 0}};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+c:r:", longopts, nullptr)) != -1) {
        switch (ch) {
            case 'c':
                o.config_path = optarg;
                break;
            case 'r':
                o.rules_dir = optarg;
                break;
            case kHeadless:
                o.headless = true;
                break;
            case kMethod:
                o.method = optarg;
                break;
            case kEvents:
                o.events = optarg;
                break;
            case kQueue:
                o.queue = optarg;
                break;
            default:
                print_error("run: bad option '%s' (see tsnitch --help)", argv[optind - 1]);
                return kExitUsage;
        }
    }
    if (optind < argc) {
        print_error("run: unexpected argument '%s'", argv[optind]);
        return kExitUsage;
    }
    auto config = load_config(o.config_path);
    if (!config) {
        print_error("%s", config.error().message.c_str());
        return kExitUsage;
    }
    if (!o.method.empty()) {
        auto m = method_from_name(o.method);
        if (!m) {
            print_error("--method: expected ebpf, diag or proc, got '%s'", o.method.c_str());
            return kExitUsage;
        }
        config->proc_monitor_method = *m;
    }
    if (!o.queue.empty()) {
        char* end = nullptr;
        errno = 0;
        const unsigned long q = std::strtoul(o.queue.c_str(), &end, 10);
        if (errno || *end || o.queue[0] == '-' || q > 65535) {
            print_error("--queue: expected a number from 0 to 65535, got '%s'", o.queue.c_str());
            return kExitUsage;
        }
        config->queue_num = static_cast<uint16_t>(q);
    }
    if (!o.rules_dir.empty()) config->rules_path = o.rules_dir;
    if (!o.events.empty()) config->events_file = o.events;
    print_error("interception is not built yet in this version (configuration %s is valid)",
                config->source.c_str());
    return kExitFailure;
}

}  // namespace tsnitch::cli
