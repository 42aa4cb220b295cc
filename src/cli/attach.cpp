// `tsnitch attach`: a front end for a daemon that runs already (DESIGN.md §3, §10) — the TUI over
// the control socket, the same over ssh, or the protocol's bytes on stdin/stdout for ssh to carry.
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "control/byte_relay.h"
#include "control/control_socket.h"
#include "control/stream_link.h"
#include "core/config.h"
#include "core/control/control_codec.h"
#include "tsnitch_version.h"
#include "tui/tui.h"

namespace tsnitch::cli {

namespace {

constexpr const char* kAttachUsage =
    "Usage: tsnitch attach [--socket PATH] [-c FILE]\n"
    "       tsnitch attach --ssh [USER@]HOST [--socket PATH] [-c FILE] [-- SSH-OPTIONS...]\n"
    "       tsnitch attach --stdio [--socket PATH] [-c FILE]\n"
    "  the terminal UI for a running tsnitch daemon (root or a member of Control.Group);\n"
    "  quitting detaches and leaves the daemon and its firewall running\n"
    "      --socket PATH    the daemon's control socket (default: Control.Socket of the\n"
    "                       configuration)\n"
    "  -c, --config FILE    configuration (default as for run): Control.Socket, and\n"
    "                       DefaultDuration and Stats.* for the terminal UI\n"
    "      --ssh [USER@]HOST  the daemon of another machine: runs\n"
    "                       ssh [SSH-OPTIONS] -- HOST tsnitch attach --stdio [--socket PATH]\n"
    "      --stdio          relay the control protocol between stdin/stdout and the socket\n"
    "                       (what --ssh runs there)\n"
    "Exit status: 0 detached, 1 no daemon or the connection failed, 2 bad usage or bad\n"
    "configuration.\n";

// A usage error: the message, then the usage, on standard error.
int usage_error(const std::string& message) {
    print_error("attach: %s", message.c_str());
    std::fputs(kAttachUsage, stderr);
    return kExitUsage;
}

std::string program_name() {
    return std::string("tsnitch ") + TSNITCH_VERSION;
}

// A word for the remote shell that ssh hands its command to.
std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'')
            q += "'\\''";
        else
            q += c;
    }
    return q + "'";
}

// The TUI over a link; the reason the link ended (when it did) goes to standard error.
int attached_tui(DaemonLink& link, const Config& config) {
    tui::TuiOptions options;
    options.default_duration = config.default_duration;
    options.max_events = config.stats_max_events;
    options.max_stats = config.stats_max_stats;
    options.attached = true;
    return tui::run_tui(link, options) == 0 ? kExitOk : kExitFailure;
}

int attach_stdio(const std::string& socket) {
    auto fd = connect_control_socket(socket);
    if (!fd) {
        // The client at the other end of ssh shows this line as the reason.
        const std::string line = encode_closing({fd.error().message}) + "\n";
        (void)!::write(STDOUT_FILENO, line.data(), line.size());
        print_error("attach: %s", fd.error().message.c_str());
        return kExitFailure;
    }
    auto relayed = relay_bytes(STDIN_FILENO, STDOUT_FILENO, fd->get());
    if (!relayed) {
        print_error("attach: %s", relayed.error().message.c_str());
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace

int attach_to_daemon(const std::string& socket, const Config& config) {
    auto fd = connect_control_socket(socket);
    if (!fd) {
        print_error("attach: %s", fd.error().message.c_str());
        return kExitFailure;
    }
    UniqueFd out(::fcntl(fd->get(), F_DUPFD_CLOEXEC, 0));
    if (!out) {
        print_error("attach: dup: %s", std::strerror(errno));
        return kExitFailure;
    }
    StreamLink link(std::move(*fd), std::move(out), program_name());
    return attached_tui(link, config);
}

namespace {

// ssh's standard error while the TUI owns the terminal: kept (bounded) and printed afterwards.
class CapturedOutput {
  public:
    explicit CapturedOutput(UniqueFd read_end)
        : fd_(std::move(read_end)), thread_([this] { collect(); }) {}
    ~CapturedOutput() {
        if (thread_.joinable()) thread_.join();
    }
    // Waits until the writer closed its end.
    std::string text() {
        if (thread_.joinable()) thread_.join();
        return text_;
    }

  private:
    void collect() {
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(fd_.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            if (text_.size() < 64 * 1024) text_.append(buf, static_cast<size_t>(n));
        }
    }
    UniqueFd fd_;
    std::string text_;
    std::thread thread_;
};

int attach_ssh(const std::string& host, const std::vector<std::string>& ssh_options,
               const std::string& socket, const Config& config) {
    std::string remote = "tsnitch attach --stdio";
    if (!socket.empty()) remote += " --socket " + shell_quote(socket);
    std::vector<std::string> args{"ssh"};
    args.insert(args.end(), ssh_options.begin(), ssh_options.end());
    // "--" keeps a HOST that starts with '-' from being read as an option.
    args.insert(args.end(), {"--", host, remote});

    int stream[2];
    int errors[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream) != 0 ||
        ::pipe2(errors, O_CLOEXEC) != 0) {
        print_error("attach: %s", std::strerror(errno));
        return kExitFailure;
    }
    UniqueFd ours(stream[0]), theirs(stream[1]), errors_read(errors[0]), errors_write(errors[1]);
    const pid_t pid = ::fork();
    if (pid < 0) {
        print_error("attach: fork: %s", std::strerror(errno));
        return kExitFailure;
    }
    if (pid == 0) {
        ::dup2(theirs.get(), STDIN_FILENO);
        ::dup2(theirs.get(), STDOUT_FILENO);
        ::dup2(errors_write.get(), STDERR_FILENO);
        std::vector<char*> argv;
        for (std::string& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execvp("ssh", argv.data());
        std::fprintf(stderr, "tsnitch: attach: running ssh: %s\n", std::strerror(errno));
        ::_exit(127);
    }
    theirs.reset();
    errors_write.reset();
    CapturedOutput ssh_errors(std::move(errors_read));
    int status = kExitFailure;
    {
        UniqueFd out(::fcntl(ours.get(), F_DUPFD_CLOEXEC, 0));
        StreamLink link(std::move(ours), std::move(out), program_name());
        status = attached_tui(link, config);
    }  // the link's end closes ssh's stdin: ssh ends
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    const std::string said = ssh_errors.text();
    if (!said.empty()) std::fputs(said.c_str(), stderr);
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 255) return kExitFailure;  // ssh's own error
    return status;
}

}  // namespace

int attach(int argc, char** argv) {
    std::string config_path;
    std::string socket;
    std::string ssh_host;
    bool stdio = false;
    static const option longopts[] = {
        {"socket", required_argument, nullptr, 's'}, {"ssh", required_argument, nullptr, 'H'},
        {"stdio", no_argument, nullptr, 'i'},        {"config", required_argument, nullptr, 'c'},
        {"help", no_argument, nullptr, 'h'},         {nullptr, 0, nullptr, 0}};
    optind = 1;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "+:c:h", longopts, nullptr)) != -1;) {
        switch (c) {
            case 's':
                socket = optarg;
                break;
            case 'H':
                ssh_host = optarg;
                break;
            case 'i':
                stdio = true;
                break;
            case 'c':
                config_path = optarg;
                break;
            case 'h':
                std::fputs(kAttachUsage, stdout);
                return kExitOk;
            case ':':
                return usage_error(std::string(argv[optind - 1]) + " needs an argument");
            default:
                return usage_error("unknown option '" + std::string(argv[optind - 1]) + "'");
        }
    }
    // After "--" (only with --ssh): options for ssh itself.
    std::vector<std::string> ssh_options;
    const bool dashdash = optind > 1 && std::strcmp(argv[optind - 1], "--") == 0;
    for (int i = optind; i < argc; ++i)
        ssh_options.emplace_back(argv[i]);
    if (!ssh_options.empty() && (ssh_host.empty() || !dashdash)) {
        return usage_error("unexpected argument '" + ssh_options.front() + "'");
    }
    if (stdio && !ssh_host.empty()) {
        return usage_error("--stdio and --ssh exclude each other");
    }
    auto config = load_config(config_path);
    if (!config) {
        print_error("%s", config.error().message.c_str());
        return kExitUsage;
    }
    // --ssh passes --socket on to the other machine only when given: there, its own
    // configuration names the socket.
    if (!ssh_host.empty()) return attach_ssh(ssh_host, ssh_options, socket, *config);
    if (socket.empty()) socket = config->control_socket;
    if (stdio) return attach_stdio(socket);
    return attach_to_daemon(socket, *config);
}

}  // namespace tsnitch::cli
