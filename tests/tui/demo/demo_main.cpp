// tsnitch-tui-demo: the real terminal UI against a scripted fake backend, so that the UI can be
// tried and tested without root or a firewall. Answers go to --answers as JSON lines.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tui/demo/fake_backend.h"
#include "tui/demo/script.h"
#include "tui/tui.h"

namespace {

constexpr const char* kUsage = R"(usage: tsnitch-tui-demo [options] [SCRIPT]

Runs the tsnitch terminal UI against a fake backend that plays SCRIPT (YAML or JSON; without
it, a built-in demo). Options:
  --answers FILE         append each answer and rule change as one JSON line
  --key-delay MS         keys typed this soon after a prompt appears are ignored (default 500)
  --default-duration D   DefaultDuration preselected in prompts (default: the script's, or once)
  --timeout S            PromptTimeout in seconds, 0 for none (default: the script's, or 30)
  --print-builtin        print the built-in script (an example of the format) and exit

Answer lines:
  {"prompt":1,"action":"allow","duration":"always","reason":"prompt","rule":{OpenSnitch rule}}
  {"prompt":2,"action":"deny","duration":"once","reason":"timeout","rule":null}
  {"op":"enable"|"delete"|"change",...}   {"op":"quit"}
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace tsnitch;
    enum { kAnswers = 1000, kKeyDelay, kDuration, kTimeout, kPrintBuiltin, kHelp };
    static const option longopts[] = {{"answers", required_argument, nullptr, kAnswers},
                                      {"key-delay", required_argument, nullptr, kKeyDelay},
                                      {"default-duration", required_argument, nullptr, kDuration},
                                      {"timeout", required_argument, nullptr, kTimeout},
                                      {"print-builtin", no_argument, nullptr, kPrintBuiltin},
                                      {"help", no_argument, nullptr, kHelp},
                                      {nullptr, 0, nullptr, 0}};
    std::string answers_path, duration_text;
    long key_delay_ms = 500;
    long timeout = -1;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, nullptr)) != -1) {
        switch (ch) {
            case kAnswers:
                answers_path = optarg;
                break;
            case kKeyDelay:
                key_delay_ms = std::strtol(optarg, nullptr, 10);
                break;
            case kDuration:
                duration_text = optarg;
                break;
            case kTimeout:
                timeout = std::strtol(optarg, nullptr, 10);
                break;
            case kPrintBuiltin:
                std::fputs(std::string(tui::demo::builtin_script()).c_str(), stdout);
                return 0;
            case kHelp:
                std::fputs(kUsage, stdout);
                return 0;
            default:
                std::fputs(kUsage, stderr);
                return 2;
        }
    }
    std::string text(tui::demo::builtin_script());
    std::string origin = "built-in script";
    if (optind < argc) {
        origin = argv[optind];
        std::ifstream in(origin);
        if (!in) {
            std::fprintf(stderr, "tsnitch-tui-demo: cannot read %s\n", origin.c_str());
            return 2;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    auto script = tui::demo::parse_script(text, origin);
    if (!script) {
        std::fprintf(stderr, "tsnitch-tui-demo: %s\n", script.error().message.c_str());
        return 2;
    }
    if (timeout >= 0) script->timeout_s = static_cast<unsigned>(timeout);
    if (!duration_text.empty()) {
        const auto d = RuleDuration::parse(duration_text);
        if (!d) {
            std::fprintf(stderr, "tsnitch-tui-demo: --default-duration: bad duration '%s'\n",
                         duration_text.c_str());
            return 2;
        }
        script->default_duration = *d;
    }
    std::FILE* answers = nullptr;
    if (!answers_path.empty()) {
        answers = std::fopen(answers_path.c_str(), "a");
        if (!answers) {
            std::perror(answers_path.c_str());
            return 2;
        }
    }
    tui::TuiOptions options;
    options.default_duration = script->default_duration;
    options.prompt_key_delay = std::chrono::milliseconds(key_delay_ms);
    int rc;
    {
        tui::demo::FakeBackend backend(std::move(*script), answers);
        rc = tui::run_tui(backend, options);
        if (rc == 0) backend.write_line("{\"op\":\"quit\"}");
    }
    if (answers) std::fclose(answers);
    return rc;
}
