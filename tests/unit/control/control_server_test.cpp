// The control socket server against a fake daemon: real sockets in a private temp directory.
#include <doctest/doctest.h>

#include <deque>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "control/control_server.h"
#include "control/control_socket.h"
#include "control/stream_link.h"
#include "core/control/control_codec.h"

using namespace tsnitch;

namespace {

// What a Daemon's subscription gives a front end, and nothing more.
struct FakeLink final : DaemonLink {
    UniqueFd wake{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    std::mutex mu;
    std::vector<DaemonEvent> events;
    std::vector<DaemonCommand> commands;

    void push(DaemonEvent e) {
        std::lock_guard lock(mu);
        events.push_back(std::move(e));
        const uint64_t one = 1;
        (void)!::write(wake.get(), &one, sizeof one);
    }
    int wake_fd() const override { return wake.get(); }
    std::vector<DaemonEvent> drain() override {
        std::lock_guard lock(mu);
        uint64_t n;
        (void)!::read(wake.get(), &n, sizeof n);
        return std::exchange(events, {});
    }
    void send(DaemonCommand c) override {
        std::lock_guard lock(mu);
        commands.push_back(c);
        if (auto* a = std::get_if<AnswerPrompt>(&c.body)) {
            events.push_back(CommandResult{c.request, ""});
            events.push_back(PromptClosed{a->prompt_id, a->action, Reason::prompt, std::nullopt});
            const uint64_t one = 1;
            (void)!::write(wake.get(), &one, sizeof one);
        }
    }
};

// What the server owns: a handle on a FakeLink that the test keeps a hold of too, so that the test
// may still push to a link the server already closed (a stalled client's).
struct SharedLink final : DaemonLink {
    std::shared_ptr<FakeLink> link;
    int wake_fd() const override { return link->wake_fd(); }
    std::vector<DaemonEvent> drain() override { return link->drain(); }
    void send(DaemonCommand c) override { link->send(std::move(c)); }
};

// Hands out links that the test keeps a hold of; each starts with a Snapshot.
struct FakeDaemon {
    std::mutex mu;
    std::vector<std::shared_ptr<FakeLink>> links;
    std::atomic<int> opened{0};

    ControlServer::OpenLink opener() {
        return [this]() -> std::unique_ptr<DaemonLink> {
            auto l = std::make_shared<FakeLink>();
            Snapshot s;
            s.status.intercepting = true;
            l->push(s);
            std::lock_guard lock(mu);
            links.push_back(l);
            ++opened;
            auto handle = std::make_unique<SharedLink>();
            handle->link = std::move(l);
            return handle;
        };
    }
};

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/tsnitch-control-test-XXXXXX";
        REQUIRE(::mkdtemp(t));
        path = t;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// A scripted client: raw lines over the socket, with a timeout on every read.
struct RawClient {
    UniqueFd fd;
    std::string buffered;

    explicit RawClient(const std::string& path) {
        auto c = connect_control_socket(path);
        REQUIRE_MESSAGE(c.ok(), c.error().message);
        fd = std::move(*c);
    }
    void send_text(const std::string& text) {
        size_t sent = 0;
        while (sent < text.size()) {
            pollfd p{fd.get(), POLLOUT, 0};
            if (::poll(&p, 1, 10000) <= 0) FAIL("cannot write to the server");
            const ssize_t n =
                ::send(fd.get(), text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EAGAIN) continue;
            if (n <= 0) return;  // closed by the server: what it said is still readable
            sent += static_cast<size_t>(n);
        }
    }
    // The next line, or "" when the server closed the connection.
    std::string line() {
        for (;;) {
            if (size_t nl = buffered.find('\n'); nl != std::string::npos) {
                std::string l = buffered.substr(0, nl);
                buffered.erase(0, nl + 1);
                return l;
            }
            pollfd p{fd.get(), POLLIN, 0};
            if (::poll(&p, 1, 10000) <= 0) {
                FAIL("no line from the server within 10 s");
                return "";
            }
            char buf[65536];
            const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
            if (n < 0 && errno == EAGAIN) continue;
            if (n <= 0) return "";
            buffered.append(buf, static_cast<size_t>(n));
        }
    }
    DaemonLine event() {
        const std::string l = line();
        auto d = decode_daemon_line(l);
        REQUIRE_MESSAGE(d.ok(), l);
        return *d;
    }
    void handshake() {
        auto h = decode_hello(line(), ControlHello::Role::daemon);
        REQUIRE(h.ok());
        CHECK(h->program == "tsnitch test");
        send_text(encode_hello({ControlHello::Role::client, kControlProtocolVersion, "test"}) +
                  "\n");
        auto snap = event();
        REQUIRE(std::holds_alternative<DaemonEvent>(snap));
        CHECK(std::holds_alternative<Snapshot>(std::get<DaemonEvent>(snap)));
    }
    // The server closed the connection (after an optional closing line, returned).
    std::string closed_reason() {
        std::string reason;
        for (std::string l; !(l = line()).empty();) {
            auto d = decode_daemon_line(l);
            if (d && std::holds_alternative<ControlClosing>(*d))
                reason = std::get<ControlClosing>(*d).reason;
        }
        return reason;
    }
};

struct Fixture {
    TempDir dir;
    FakeDaemon daemon;
    std::mutex log_mu;
    std::vector<std::string> log;
    std::unique_ptr<ControlServer> server;

    explicit Fixture(std::string group = "", size_t backlog = 0) {
        ControlServerOptions o;
        o.socket_path = dir.path + "/control.sock";
        o.group = std::move(group);
        o.program = "tsnitch test";
        if (backlog) o.max_backlog = backlog;
        auto s = ControlServer::start(o, daemon.opener(), [this](LogLevel, const std::string& t) {
            std::lock_guard lock(log_mu);
            log.push_back(t);
        });
        REQUIRE_MESSAGE(s.ok(), s.error().message);
        server = std::move(*s);
    }
    std::string path() const { return dir.path + "/control.sock"; }
    FakeLink& link(size_t i) {
        for (int tries = 0; tries < 1000; ++tries) {
            {
                std::lock_guard lock(daemon.mu);
                if (daemon.links.size() > i) return *daemon.links[i];
            }
            ::usleep(10000);
        }
        FAIL("no link opened");
        throw;
    }
    bool logged(const std::string& part) {
        std::lock_guard lock(log_mu);
        for (const auto& l : log)
            if (l.find(part) != std::string::npos) return true;
        return false;
    }
};

PromptRecord prompt(uint64_t id) {
    PromptRecord p;
    p.id = id;
    p.connection.src = *IpAddress::parse("10.0.0.1");
    p.connection.dst = *IpAddress::parse("10.0.0.2");
    p.connection.dst_port = 443;
    return p;
}

}  // namespace

TEST_CASE("the socket is 0600 and a second daemon is told that one runs") {
    Fixture f;
    struct stat st {};
    REQUIRE(::stat(f.path().c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(control_daemon_running(f.path()));
    auto second = ControlListener::open(f.path(), "");
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message == "a tsnitch daemon already runs (" + f.path() + ")");
}

TEST_CASE("a stale socket file of a dead daemon is replaced; a file that is no socket is not") {
    TempDir dir;
    const std::string path = dir.path + "/control.sock";
    {
        // A daemon that died: its socket file stays, its lock does not.
        UniqueFd s(::socket(AF_UNIX, SOCK_STREAM, 0));
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, path.c_str());
        REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    CHECK_FALSE(control_daemon_running(path));
    CHECK_FALSE(connect_control_socket(path).ok());
    {
        auto l = ControlListener::open(path, "");
        REQUIRE_MESSAGE(l.ok(), l.error().message);
        CHECK(connect_control_socket(path).ok());
    }
    CHECK_FALSE(std::filesystem::exists(path));  // removed with the listener

    const std::string file = dir.path + "/plain";
    FILE* fp = std::fopen(file.c_str(), "w");
    std::fclose(fp);
    auto l = ControlListener::open(file, "");
    REQUIRE_FALSE(l.ok());
    CHECK(l.error().message.find("exists and is not a socket") != std::string::npos);
    CHECK(std::filesystem::exists(file));
}

TEST_CASE("an unknown Control.Group is an error that names it") {
    TempDir dir;
    auto l = ControlListener::open(dir.path + "/c.sock", "no-such-group-tsnitch");
    REQUIRE_FALSE(l.ok());
    CHECK(l.error().message == "Control.Group 'no-such-group-tsnitch': no such group");
}

TEST_CASE("Control.Group makes the socket 0660 of that group") {
    Fixture f("root");
    struct stat st {};
    REQUIRE(::stat(f.path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0660);
    CHECK(st.st_gid == 0);
}

TEST_CASE("a client gets a hello and a snapshot, then deltas; its answer reaches the daemon") {
    Fixture f;
    RawClient c(f.path());
    c.handshake();
    FakeLink& link = f.link(0);
    link.push(PromptOpened{prompt(7)});
    auto opened = c.event();
    CHECK(std::get<PromptOpened>(std::get<DaemonEvent>(opened)).prompt.id == 7);

    c.send_text(encode_command({42, AnswerPrompt{7, Action::allow, RuleDuration{}, std::nullopt}}) +
                "\n");
    auto result = c.event();
    CHECK(std::get<CommandResult>(std::get<DaemonEvent>(result)).request == 42);
    auto closed = c.event();
    CHECK(std::get<PromptClosed>(std::get<DaemonEvent>(closed)).id == 7);
    std::lock_guard lock(link.mu);
    REQUIRE(link.commands.size() == 1);
    CHECK(std::get<AnswerPrompt>(link.commands[0].body).prompt_id == 7);
}

TEST_CASE("a line cut across writes is read whole") {
    Fixture f;
    RawClient c(f.path());
    c.handshake();
    const std::string line =
        encode_command({5, AnswerPrompt{1, Action::deny, RuleDuration{}, std::nullopt}}) + "\n";
    c.send_text(line.substr(0, 10));
    ::usleep(20000);
    c.send_text(line.substr(10));
    auto result = c.event();
    CHECK(std::get<CommandResult>(std::get<DaemonEvent>(result)).request == 5);
}

TEST_CASE("garbage and an oversized line close only that client, with the reason") {
    Fixture f;
    RawClient good(f.path());
    good.handshake();

    RawClient garbage(f.path());
    garbage.handshake();
    garbage.send_text("this is not json\n");
    CHECK(garbage.closed_reason().find("bad message: not JSON") == 0);

    RawClient big(f.path());
    big.handshake();
    big.send_text(R"({"type":"delete_rule","request":1,"name":")" +
                  std::string(10 * 1024 * 1024, 'x') + "\"}\n");
    CHECK(big.closed_reason() == "message longer than 1048576 bytes");

    RawClient bad_hello(f.path());
    CHECK(decode_hello(bad_hello.line(), ControlHello::Role::daemon).ok());
    bad_hello.send_text(R"({"hello":"tsnitch","version":99,"role":"client"})"
                        "\n");
    CHECK(bad_hello.closed_reason() ==
          "protocol version 99 is not spoken here (this tsnitch speaks 1)");

    // The first client still works.
    f.link(0).push(PromptJoined{3, 2});
    auto joined = good.event();
    CHECK(std::get<PromptJoined>(std::get<DaemonEvent>(joined)).joined == 2);
    CHECK(f.logged("bad message: not JSON"));
}

TEST_CASE("a client that stops reading is closed when its backlog is full; others go on") {
    Fixture f("", 256 * 1024);
    RawClient stalled(f.path());
    stalled.handshake();
    RawClient reader(f.path());
    reader.handshake();
    FakeLink& stalled_link = f.link(0);
    FakeLink& reader_link = f.link(1);

    // Far more than the socket buffers and the backlog hold.
    LogAppended big{LogRecord{{}, LogLevel::info, std::string(60000, 'z')}};
    for (int i = 0; i < 200; ++i) {
        stalled_link.push(big);
        reader_link.push(LogAppended{LogRecord{{}, LogLevel::info, std::to_string(i)}});
        auto e = reader.event();
        CHECK(std::get<LogAppended>(std::get<DaemonEvent>(e)).line.text == std::to_string(i));
    }
    for (int i = 0; i < 500 && !f.logged("not reading"); ++i)
        ::usleep(10000);
    CHECK(f.logged("not reading: more than 262144 bytes waiting"));
    for (int i = 0; i < 500 && f.server->clients() != 1; ++i)
        ::usleep(10000);
    CHECK(f.server->clients() == 1);
}

TEST_CASE("a Stopping from the daemon is the client's last line") {
    Fixture f;
    RawClient c(f.path());
    c.handshake();
    f.link(0).push(Stopping{"signal"});
    auto e = c.event();
    CHECK(std::get<Stopping>(std::get<DaemonEvent>(e)).reason == "signal");
    CHECK(c.line().empty());
}

TEST_CASE("a client that is not root is refused with a message and a log line") {
    if (::geteuid() != 0) {
        MESSAGE("not root: the refusal of another uid cannot be tested");
        return;
    }
    Fixture f;
    ::chmod(f.dir.path.c_str(), 0755);
    ::chmod(f.path().c_str(), 0666);  // let the socket's mode pass, so SO_PEERCRED decides
    int out[2];
    REQUIRE(::pipe(out) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(out[0]);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(3);
        auto fd = connect_control_socket(f.path());
        if (!fd) ::_exit(4);
        pollfd p{fd->get(), POLLIN, 0};
        ::poll(&p, 1, 10000);
        char buf[4096];
        const ssize_t n = ::recv(fd->get(), buf, sizeof buf, 0);
        if (n > 0) (void)!::write(out[1], buf, static_cast<size_t>(n));
        ::_exit(0);
    }
    ::close(out[1]);
    std::string said;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
        said.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(said ==
          encode_closing({"not allowed: uid 65534 is not root (Control.Group names no group)"}) +
              "\n");
    CHECK(f.logged("control: refused uid 65534"));
    CHECK(f.daemon.opened.load() == 0);
}

TEST_CASE("the stream link speaks to the server: hello, events, commands, and the end") {
    Fixture f;
    auto fd = connect_control_socket(f.path());
    REQUIRE(fd.ok());
    UniqueFd out(::fcntl(fd->get(), F_DUPFD_CLOEXEC, 0));
    auto link = std::make_unique<StreamLink>(std::move(*fd), std::move(out), "test client");
    // Events in order, one at a time; one drain may bring several (a loaded machine batches).
    std::deque<DaemonEvent> pending;
    auto next = [&]() -> DaemonEvent {
        while (pending.empty()) {
            pollfd p{link->wake_fd(), POLLIN, 0};
            if (::poll(&p, 1, 10000) <= 0) {
                FAIL("no event within 10 s");
            }
            for (DaemonEvent& e : link->drain())
                pending.push_back(std::move(e));
        }
        DaemonEvent e = std::move(pending.front());
        pending.pop_front();
        return e;
    };
    CHECK(std::holds_alternative<Snapshot>(next()));
    CHECK(link->daemon_program() == "tsnitch test");
    f.link(0).push(PromptOpened{prompt(3)});
    CHECK(std::get<PromptOpened>(next()).prompt.id == 3);
    link->send({9, AnswerPrompt{3, Action::reject, RuleDuration{}, std::nullopt}});
    CHECK(std::get<CommandResult>(next()).request == 9);
    CHECK(std::get<PromptClosed>(next()).action == Action::reject);

    f.server.reset();  // the daemon goes away
    const DaemonEvent last = next();
    REQUIRE(std::holds_alternative<Stopping>(last));
    CHECK(std::get<Stopping>(last).reason == "the daemon closed the connection: the daemon stops");
}

TEST_CASE("the stream link reports a refusal and a peer that is not a daemon") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    UniqueFd peer(sv[1]);
    UniqueFd out(::fcntl(sv[0], F_DUPFD_CLOEXEC, 0));
    StreamLink link(UniqueFd(sv[0]), std::move(out), "x");
    const std::string line = "HTTP/1.1 400 Bad Request\n";
    REQUIRE(::write(peer.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    pollfd p{link.wake_fd(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);
    auto events = link.drain();
    REQUIRE(events.size() == 1);
    CHECK(std::get<Stopping>(events[0]).reason.find("not a tsnitch daemon") == 0);
}
