// The events file on a full disk (issue 16 item 7), on a 64 KiB tmpfs of its own in a private mount
// namespace (gone with the process): the first failure is reported once, lost events are counted,
// no partial line is left, and writing resumes when space returns. Needs root (exit 77 without).
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/engine/events_file.h"

using namespace tsnitch;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
    if (!ok) ++failures;
}

// Lines of the file, and whether every one is a whole JSON object.
std::vector<std::string> lines_of(const std::string& path, bool& whole) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    whole = text.empty() || text.back() == '\n';
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string l = text.substr(pos, end - pos);
        whole = whole && l.starts_with("{\"time\":") && l.ends_with("}") &&
                l.find("}{\"time\"") == std::string::npos;  // no second event glued on
        lines.push_back(std::move(l));
        pos = end + 1;
    }
    return lines;
}

void fill(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) return;
    const std::string block(4096, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
    // What is left of the last page goes too, byte by byte.
    f = std::fopen(path.c_str(), "a");
    while (f && std::fputc('x', f) != EOF && std::fflush(f) == 0) {
    }
    if (f) std::fclose(f);
}

}  // namespace

int main() {
    if (::geteuid() != 0) {
        std::puts("skipped: needs root (mounts a tmpfs of its own)");
        return 77;
    }
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr)) {
        std::printf("unshare/mount: %s\n", std::strerror(errno));
        return 1;
    }
    char dir[] = "/tmp/tsnitch-events-full-disk-XXXXXX";
    if (!::mkdtemp(dir)) return 1;
    if (::mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700") != 0) {
        std::printf("mount tmpfs: %s\n", std::strerror(errno));
        ::rmdir(dir);
        return 1;
    }
    const std::string path = std::string(dir) + "/events.jsonl";
    const std::string filler = std::string(dir) + "/filler";
    {
        std::vector<std::string> reports;
        auto opened =
            EventsFile::open(path, 65536, [&](const std::string& m) { reports.push_back(m); });
        check(opened.ok(), "the events file opens");
        if (!opened.ok()) return 1;
        EventsFile& ev = **opened;
        DecisionEvent e;
        e.action = Action::deny;
        e.connection.dst_port = 443;
        e.connection.dst_host = std::string(200, 'h');  // long lines: a page holds a few
        const auto send = [&](int n) {
            for (int i = 0; i < n; ++i)
                ev.on_decision(e, false);
            ev.drain();
        };
        send(20);
        bool whole = false;
        check(lines_of(path, whole).size() == 20 && whole, "20 events, 20 whole lines");

        fill(filler);
        send(50);
        const uint64_t lost = ev.lost();
        const size_t after_full = lines_of(path, whole).size();
        check(lost > 0,
              "on a full disk events are lost, and counted (" + std::to_string(lost) + ")");
        check(after_full + lost == 70, "every event is written or counted as lost (" +
                                           std::to_string(after_full) + " lines)");
        check(whole, "no partial line, nothing glued together");
        check(
            reports.size() == 1 && reports[0].find("No space left on device") != std::string::npos,
            "the error is reported once: " + (reports.empty() ? "" : reports[0]));

        ::unlink(filler.c_str());
        send(10);
        check(lines_of(path, whole).size() == after_full + 10 && whole,
              "writing resumes when space returns");
        check(ev.lost() == lost, "nothing more is lost");
        check(
            reports.size() == 2 && reports[1].find("writing again; " + std::to_string(lost) +
                                                   " events were lost") != std::string::npos,
            "the resumption is reported with the count: " + (reports.size() < 2 ? "" : reports[1]));
    }
    ::umount2(dir, MNT_DETACH);
    ::rmdir(dir);
    return failures == 0 ? 0 : 1;
}
