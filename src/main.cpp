// tsnitch's command line: the subcommand dispatch (DESIGN.md §3). Each subcommand lives in
// src/cli/ and parses its own options.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "cli/commands.h"
#include "tsnitch_version.h"

namespace {

constexpr const char* kUsage =
    R"(Usage: tsnitch [run] [options]        intercept and prompt in this terminal (root)
       tsnitch attach [--socket PATH] [-c FILE]
                                        the TUI for a running daemon (root or Control.Group)
       tsnitch attach --ssh [USER@]HOST [--socket PATH] [-c FILE] [-- SSH-OPTIONS]
                                        the same for a daemon on another machine, over ssh
       tsnitch attach --stdio [--socket PATH] [-c FILE]
                                        the control protocol on stdin/stdout (what --ssh runs)
       tsnitch monitor [--interval MS] [-c FILE]
                                        live process and socket inspection, no interception
       tsnitch sockets [-p PID | --all] [--json] [-c FILE] [--names FILE]
                                        one-shot socket table (host names from a running tsnitch)
       tsnitch rules [-r DIR] [-c FILE] list | check | show NAME | add ... | delete NAME
                     | enable NAME | disable NAME | import [--replace] DIR
       tsnitch check                    what this kernel offers (BPF hooks, NFQUEUE, ...)
       tsnitch --version | --help       (each command's --help: its own options)

Options of run:
  -c, --config FILE          configuration (default /etc/tsnitch/default-config.json, else the
                             built-in default)
  -r, --rules DIR            rules directory (overrides RulesPath)
      --headless             no TUI: rules, then prompts for attached front ends, then
                             DefaultAction after PromptTimeout
      --method ebpf|diag|proc  attribution method (overrides ProcMonitorMethod)
      --events FILE          append each decision as a JSON line ("-": standard output)
      --queue N              first NFQUEUE number (overrides QueueNum); one queue per
                             online CPU is used: N .. N+CPUs-1

Exit status: 0 ok, 1 runtime failure, 2 bad usage or bad configuration.
See tsnitch(8) and tsnitch-rules(5).
)";

}  // namespace

namespace tsnitch::cli {
void print_tsnitch_usage(FILE* f) {
    std::fputs(kUsage, f);
}
}  // namespace tsnitch::cli

int main(int argc, char** argv) {
    using namespace tsnitch::cli;
    if (argc >= 2) {
        const std::string_view a = argv[1];
        if (a == "--help" || a == "-h" || a == "help") {
            std::fputs(kUsage, stdout);
            return kExitOk;
        }
        if (a == "--version" || a == "-V") {
            std::printf("tsnitch %s\n", TSNITCH_VERSION);
            return kExitOk;
        }
        struct Sub {
            std::string_view name;
            int (*fn)(int, char**);
        };
        static constexpr Sub subs[] = {{"run", run},         {"attach", attach},
                                       {"monitor", monitor}, {"sockets", sockets},
                                       {"rules", rules},     {"check", check}};
        for (const Sub& s : subs) {
            if (a == s.name) return s.fn(argc - 1, argv + 1);
        }
        if (!a.empty() && a[0] != '-') {
            print_error("unknown command '%s' (see tsnitch --help)", argv[1]);
            return kExitUsage;
        }
    }
    // No subcommand: `tsnitch [options]` is `tsnitch run [options]`; getopt skips argv[0].
    return run(argc, argv);
}
