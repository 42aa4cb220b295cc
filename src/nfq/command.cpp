#include "nfq/command.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "core/unique_fd.h"

namespace tsnitch::nfq {

namespace {

std::string read_all(int fd) {
    std::string s;
    char buf[4096];
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        s.append(buf, static_cast<size_t>(n));
    }
    return s;
}

}  // namespace

Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::string_view input) {
    const std::string& prog = argv.at(0);
    UniqueFd in(memfd_create("tsnitch-in", MFD_CLOEXEC)),
        out(memfd_create("tsnitch-out", MFD_CLOEXEC)),
        err(memfd_create("tsnitch-err", MFD_CLOEXEC));
    if (in.get() < 0 || out.get() < 0 || err.get() < 0)
        return make_error("running " + prog + ": memfd_create: " + std::strerror(errno), errno);
    for (size_t done = 0; done < input.size();) {
        const ssize_t n = ::write(in.get(), input.data() + done, input.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error("running " + prog + ": write: " + std::strerror(errno), errno);
        done += static_cast<size_t>(n);
    }
    lseek(in.get(), 0, SEEK_SET);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in.get(), 0);
    posix_spawn_file_actions_adddup2(&fa, out.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, err.get(), 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, prog.c_str(), &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return make_error("running " + prog + ": " + std::strerror(rc), rc);

    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return make_error("waiting for " + prog + ": " + std::strerror(errno), errno);
    }
    CommandOutput o;
    o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = read_all(out.get());
    o.err = read_all(err.get());
    return o;
}

}  // namespace tsnitch::nfq
