#include "core/privileges.h"

#include <doctest/doctest.h>
#include <linux/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

using namespace tsnitch;

namespace {
constexpr const char* kStatus =
    "Name:\tcat\nUmask:\t0022\nState:\tR (running)\n"
    "CapInh:\t0000000000000000\nCapPrm:\t0000008000083004\nCapEff:\t0000008000083004\n"
    "CapBnd:\t0000008000083004\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"
    "Seccomp:\t0\n";

std::string read_all(const char* path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

TEST_CASE("the capability lines and NoNewPrivs of /proc/PID/status are read") {
    auto p = parse_process_privileges(kStatus);
    REQUIRE(p);
    CHECK(p->effective == 0x0000008000083004ull);
    CHECK(p->permitted == 0x0000008000083004ull);
    CHECK(p->bounding == 0x0000008000083004ull);
    CHECK(p->inheritable == 0);
    CHECK(p->ambient == 0);
    CHECK(p->no_new_privs);
    CHECK_FALSE(parse_process_privileges("CapEff:\t0\n"));  // no NoNewPrivs line
    CHECK_FALSE(parse_process_privileges("CapEff:\tzz\nNoNewPrivs:\t0\n"));
    CHECK_FALSE(parse_process_privileges("CapEff:\t0\nNoNewPrivs:\t2\n"));
    CHECK_FALSE(parse_process_privileges(""));
}

TEST_CASE("capability names") {
    CHECK(capability_names(0) == "");
    CHECK(capability_names(CapabilityMask{1} << CAP_NET_ADMIN | CapabilityMask{1} << CAP_BPF) ==
          "CAP_NET_ADMIN CAP_BPF");
    CHECK(capability_names(CapabilityMask{1} << 60) == "CAP_60");
    // The kept set is named as tsnitch(8) and the unit name it.
    CHECK(capability_names(running_capability_mask()) ==
          "CAP_DAC_READ_SEARCH CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_PTRACE CAP_BPF");
}

TEST_CASE("a process keeps only the given capabilities, also in a program it runs") {
    if (geteuid() != 0) {
        MESSAGE("not root: capabilities cannot be checked here");
        return;
    }
    const CapabilityMask keep = running_capability_mask();
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The result travels as the exit status and the pipe.
        auto kept = keep_only_capabilities(keep);
        if (!kept || *kept != keep) _exit(10);
        const std::string own = read_all("/proc/self/status");
        auto p = parse_process_privileges(own);
        if (!p) _exit(11);
        if (p->effective != keep || p->permitted != keep || p->bounding != keep) _exit(12);
        if (p->inheritable != 0 || p->ambient != 0 || !p->no_new_privs) _exit(13);
        // What a program it runs (iptables-restore, repairing the rules) gets.
        dup2(pipe_fds[1], STDOUT_FILENO);
        close(pipe_fds[0]);
        execl("/bin/cat", "cat", "/proc/self/status", static_cast<char*>(nullptr));
        _exit(14);
    }
    close(pipe_fds[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    close(pipe_fds[0]);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    auto exec_d = parse_process_privileges(out);
    REQUIRE(exec_d);
    CHECK(exec_d->effective == keep);  // root's exec: the kept set, no more
    CHECK(exec_d->bounding == keep);
    CHECK(exec_d->no_new_privs);
}
