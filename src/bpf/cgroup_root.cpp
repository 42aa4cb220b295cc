#include "bpf/cgroup_root.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace tsnitch::bpf {

namespace {

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        size_t j = i;
        while (j < line.size() && line[j] != ' ')
            ++j;
        if (j > i) out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

// The kernel escapes space, tab, newline and backslash in paths as \ooo.
std::string unescape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            const char a = s[i + 1], b = s[i + 2], c = s[i + 3];
            if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
                out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
                i += 3;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

}  // namespace

Result<std::string> cgroup2_mount_point(std::string_view mountinfo) {
    std::string sub_mount;
    size_t pos = 0;
    while (pos < mountinfo.size()) {
        size_t end = mountinfo.find('\n', pos);
        if (end == std::string_view::npos) end = mountinfo.size();
        const auto fields = split_spaces(mountinfo.substr(pos, end - pos));
        pos = end + 1;
        // id parent major:minor root mount-point options [optional...] - fstype source super
        size_t sep = 6;
        while (sep < fields.size() && fields[sep] != "-")
            ++sep;
        if (sep + 1 >= fields.size() || fields.size() < 6) continue;
        if (fields[sep + 1] != "cgroup2") continue;
        if (fields[3] == "/") return unescape(fields[4]);
        if (sub_mount.empty()) sub_mount = unescape(fields[4]);
    }
    if (!sub_mount.empty()) return sub_mount;
    return make_error("no cgroup2 file system is mounted (cgroup v2 is needed for the eBPF hooks)");
}

namespace {

Result<std::string> mount_point_in(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error("reading " + path + ": " + std::strerror(errno), errno);
    std::stringstream ss;
    ss << in.rdbuf();
    return cgroup2_mount_point(ss.str());
}

}  // namespace

Result<std::string> find_cgroup2_root(const std::string& proc_root) {
    return mount_point_in(proc_root + "/self/mountinfo");
}

Result<CgroupRoot> CgroupRoot::open(const std::string& proc_root) {
    auto found = find_cgroup2_root(proc_root);
    if (found) {
        UniqueFd fd(::open(found->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) return make_error("opening " + *found + ": " + std::strerror(errno), errno);
        return CgroupRoot(std::move(fd), *found);
    }
    char dir[] = "/tmp/tsnitch-cgroup2-XXXXXX";
    if (::mkdtemp(dir) == nullptr) {
        return make_error(found.error().message + "; mkdtemp: " + std::strerror(errno), errno);
    }
    UniqueFd fd;
    int err = 0;
    if (::mount("cgroup2", dir, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        err = errno;
    } else {
        fd = UniqueFd(::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) err = errno;
        ::umount2(dir, MNT_DETACH);
    }
    ::rmdir(dir);
    if (!fd) {
        return make_error(
            found.error().message + "; mounting cgroup2 failed: " + std::strerror(err), err);
    }
    return CgroupRoot(std::move(fd), "cgroup2 (mounted privately)");
}

}  // namespace tsnitch::bpf
