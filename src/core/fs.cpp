#include "core/fs.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/unique_fd.h"

namespace tsnitch {

namespace {

std::string kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISLNK(m)) return "a symbolic link";
    return "not a regular file";
}

std::string mode_text(mode_t m) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
    return buf;
}

std::string owner_text(uid_t uid) {
    std::string s = "uid " + std::to_string(uid);
    passwd pw{};
    passwd* found = nullptr;
    char buf[1024];
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found)
        s += " (" + std::string(found->pw_name) + ")";
    return s;
}

std::string size_text(size_t bytes) {
    constexpr size_t kMiB = size_t{1} << 20;
    if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
    return std::to_string(bytes) + " bytes";
}

Result<std::string> read_all(int fd, const std::string& path, size_t limit) {
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("reading", path);
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() >= limit) {
            text.resize(limit);
            break;
        }
    }
    return text;
}

}  // namespace

Error errno_error(const std::string& what, const std::string& path) {
    const int e = errno;
    return make_error(what + " " + path + ": " + std::strerror(e), e);
}

Result<std::string> read_text_file(const std::string& path, size_t limit) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno_error("opening", path);
    return read_all(fd.get(), path, limit);
}

Result<std::string> read_link(const std::string& path) {
    char buf[4096];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n < 0) return errno_error("reading link", path);
    return std::string(buf, static_cast<size_t>(n));
}

Status write_file_atomically(const std::string& path, std::string_view text) {
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    // The temporary name starts with '.', so the store (and OpenSnitch) never read it as a rule.
    std::string tmp = dir + "/." + base + ".tmp-XXXXXX";
    UniqueFd f(::mkostemp(tmp.data(), O_CLOEXEC));
    if (f.get() < 0) return errno_error("creating a file in", dir);
    auto fail = [&](const std::string& what) {
        const int e = errno;
        ::unlink(tmp.c_str());
        return make_error(what + " " + tmp + ": " + std::strerror(e), e);
    };
    if (::fchmod(f.get(), 0600) != 0) return fail("setting the mode of");
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(f.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("writing");
        done += static_cast<size_t>(n);
    }
    if (::fsync(f.get()) != 0) return fail("syncing");
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("renaming to " + path + ":");
    UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.get() >= 0) ::fsync(d.get());  // the rename itself lasts a crash
    return Ok{};
}

Status create_directories(const std::string& path, mode_t mode) {
    for (size_t i = 1; i <= path.size(); ++i) {
        if (i < path.size() && path[i] != '/') continue;
        const std::string part = path.substr(0, i);
        if (::mkdir(part.c_str(), mode) == 0) {
            // mkdir's mode is masked by the umask: set it as asked.
            if (::chmod(part.c_str(), mode) != 0) return errno_error("setting the mode of", part);
        } else if (errno != EEXIST) {
            return errno_error("creating", part);
        }
    }
    return Ok{};
}

FileTrust FileTrust::running_user() {
    return FileTrust{::geteuid(), true};
}

std::string untrusted_reason(const std::string& path, const struct stat& st, const FileTrust& t,
                             bool directory) {
    if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
        return path + ": " + kind_of(st.st_mode) + ", not a " +
               (directory ? "directory" : "regular file");
    if (!t.enforce) return "";
    std::string why;
    if (st.st_uid != 0 && st.st_uid != t.uid) {
        why = "not owned by root";
        if (t.uid != 0) why += " or uid " + std::to_string(t.uid);
    } else if (st.st_mode & S_IWOTH) {
        why = "writable by others";
    } else if (st.st_mode & S_IWGRP) {
        why = "writable by its group";
    }
    if (why.empty()) return "";
    return path + ": owned by " + owner_text(st.st_uid) + ", mode " + mode_text(st.st_mode) + ": " +
           why + "; refused (fix with chown root and chmod go-w)";
}

Result<std::string> read_settings_file(const std::string& path, size_t limit,
                                       const FileTrust& trust) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) return errno_error("opening", path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errno_error("checking", path);
    if (std::string why = untrusted_reason(path, st, trust, false); !why.empty())
        return make_error(why, EPERM);
    auto text = read_all(fd.get(), path, limit + 1);
    if (!text) return text;
    if (text->size() > limit) return make_error(path + ": larger than " + size_text(limit), EFBIG);
    return text;
}

}  // namespace tsnitch
