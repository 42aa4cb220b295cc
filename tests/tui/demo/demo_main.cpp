// tsnitch-tui-demo: the real terminal UI over the real Daemon, which a script feeds with
// connections instead of a kernel queue, so that the UI can be tried and tested without root or a
// firewall. What the UI sends (answers, rule changes) and the prompts that timed out go to
// --answers as JSON lines.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>

#include "core/daemon/in_process_link.h"
#include "core/json.h"
#include "core/rules/rule.h"
#include "tests/tui/demo/script.h"
#include "tests/tui/demo/script_player.h"
#include "tui/tui.h"

namespace {

constexpr const char* kUsage = R"(usage: tsnitch-tui-demo [options] [SCRIPT]

Runs the tsnitch terminal UI over tsnitch's daemon, fed the connections of SCRIPT (YAML or JSON;
without it, a built-in demo) instead of a kernel queue. Options:
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

// The rule file's text on one line (JSON lines). Newlines in rule_to_json's output are layout
// only: inside strings they are written as \n.
std::string one_line(const std::string& json) {
    std::string out;
    for (size_t i = 0; i < json.size(); ++i) {
        if (json[i] != '\n') {
            out += json[i];
            continue;
        }
        while (i + 1 < json.size() && json[i + 1] == ' ')
            ++i;
    }
    return out;
}

// The UI's link to the daemon, writing down what crosses it: each command the UI sends, and each
// prompt that timed out.
class RecordingLink final : public tsnitch::DaemonLink {
  public:
    RecordingLink(tsnitch::Daemon& daemon, std::FILE* out) : link_(daemon), out_(out) {}
    int wake_fd() const override { return link_.wake_fd(); }
    std::vector<tsnitch::DaemonEvent> drain() override {
        auto events = link_.drain();
        for (const auto& e : events) {
            const auto* closed = std::get_if<tsnitch::PromptClosed>(&e);
            if (!closed || closed->reason != tsnitch::Reason::timeout) continue;
            write("{\"prompt\":" + std::to_string(closed->id) +
                  ",\"action\":" + tsnitch::json_quote(tsnitch::action_name(closed->action)) +
                  ",\"duration\":\"once\",\"reason\":\"timeout\",\"rule\":null}");
        }
        return events;
    }
    void send(tsnitch::DaemonCommand command) override {
        using namespace tsnitch;
        std::visit(
            [&](const auto& c) {
                using T = std::decay_t<decltype(c)>;
                if constexpr (std::is_same_v<T, AnswerPrompt>) {
                    write("{\"prompt\":" + std::to_string(c.prompt_id) +
                          ",\"action\":" + json_quote(action_name(c.action)) + ",\"duration\":" +
                          json_quote(c.duration.to_string()) + ",\"reason\":\"prompt\",\"rule\":" +
                          (c.rule ? one_line(rule_to_json(*c.rule)) : "null") + "}");
                } else if constexpr (std::is_same_v<T, EnableRule>) {
                    write("{\"op\":\"enable\",\"rule\":" + json_quote(c.name) +
                          ",\"enabled\":" + (c.enabled ? "true" : "false") + "}");
                } else if constexpr (std::is_same_v<T, ChangeRule>) {
                    write("{\"op\":\"change\",\"rule\":" + json_quote(c.name) +
                          ",\"action\":" + json_quote(action_name(c.action)) +
                          ",\"duration\":" + json_quote(c.duration.to_string()) + "}");
                } else if constexpr (std::is_same_v<T, DeleteRule>) {
                    write("{\"op\":\"delete\",\"rule\":" + json_quote(c.name) + "}");
                } else if constexpr (std::is_same_v<T, AddRule>) {
                    write("{\"op\":\"add\",\"rule\":" + json_quote(c.rule.name) +
                          ",\"action\":" + json_quote(action_name(c.rule.action)) + "}");
                }
            },
            command.body);
        link_.send(std::move(command));
    }
    void write(const std::string& line) {
        if (!out_) return;
        std::fputs(line.c_str(), out_);
        std::fputc('\n', out_);
        std::fflush(out_);
    }

  private:
    tsnitch::InProcessLink link_;
    std::FILE* out_;
};

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
        // The rules directory goes beside the answers (the tests' own directory), so that
        // nothing is left elsewhere even when the demo is killed.
        const std::string parent =
            answers_path.empty() ? "/tmp"
                                 : std::filesystem::absolute(answers_path).parent_path().string();
        tui::demo::ScriptPlayer player(std::move(*script), parent);
        if (auto s = player.start(); !s) {
            std::fprintf(stderr, "tsnitch-tui-demo: %s\n", s.error().message.c_str());
            return 1;
        }
        RecordingLink link(player.daemon(), answers);
        rc = tui::run_tui(link, options);
        if (rc == 0) link.write("{\"op\":\"quit\"}");
    }
    if (answers) std::fclose(answers);
    return rc;
}
