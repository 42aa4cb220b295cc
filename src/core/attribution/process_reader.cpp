#include "core/attribution/process_reader.h"

#include <pwd.h>

#include <cstring>

#include "core/attribution/proc_io.h"
#include "core/attribution/proc_parse.h"

namespace tsnitch {

namespace {
constexpr size_t kMaxParents = 32;  // a loop in a corrupt tree must end
constexpr size_t kMaxCached = 8192;
}  // namespace

ProcessReader::ProcessReader(std::string proc_root) : root_(std::move(proc_root)) {}

std::string ProcessReader::path(int pid, const char* entry) const {
    return root_ + "/" + std::to_string(pid) + "/" + entry;
}

std::string ProcessReader::user_name(uint32_t uid) {
    if (auto it = users_.find(uid); it != users_.end()) return it->second;
    passwd pw{};
    passwd* found = nullptr;
    char buf[4096];
    std::string name;
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) name = found->pw_name;
    users_.emplace(uid, name);
    return name;
}

Result<ProcessRef> ProcessReader::read(int pid) {
    if (pid <= 0) return make_error("no process with pid " + std::to_string(pid), ESRCH);
    auto text = read_text_file(path(pid, "stat"), 4096);
    if (!text) return text.error();
    auto st = parse_proc_stat(*text);
    if (!st) return make_error(path(pid, "stat") + ": unexpected format");
    if (auto it = cache_.find(pid); it != cache_.end()) {
        // The start time tells pid reuse apart, but an exec keeps it: the program and its
        // arguments must be the same too.
        const ProcessInfo& known = *it->second;
        if (known.start_time == st->start_time && st->comm == known.comm) {
            auto exe = read_link(path(pid, "exe"));
            auto cmdline = read_text_file(path(pid, "cmdline"));
            if (exe && *exe == known.path && cmdline && split_cmdline(*cmdline) == known.args) {
                return it->second;
            }
        }
        cache_.erase(it);  // another process or another program now
    }
    auto info = read_fresh(pid, st->start_time, st->ppid, st->comm);
    if (!info) return info.error();
    if (cache_.size() >= kMaxCached) cache_.clear();
    ProcessRef shared = std::make_shared<const ProcessInfo>(std::move(*info));
    cache_.emplace(pid, shared);
    return shared;
}

Result<ProcessInfo> ProcessReader::read_fresh(int pid, uint64_t start, int ppid, std::string comm) {
    ProcessInfo p;
    p.pid = pid;
    p.ppid = ppid;
    p.start_time = start;
    p.comm = std::move(comm);
    if (auto exe = read_link(path(pid, "exe"))) p.path = std::move(*exe);
    if (auto cwd = read_link(path(pid, "cwd"))) p.cwd = std::move(*cwd);
    if (auto cmdline = read_text_file(path(pid, "cmdline"))) p.args = split_cmdline(*cmdline);
    auto status = read_text_file(path(pid, "status"), 8192);
    if (!status) return status.error();
    auto uid = parse_status_uid(*status);
    if (!uid) return make_error(path(pid, "status") + ": no Uid line");
    p.uid = *uid;
    p.user = user_name(p.uid);

    int next = ppid;
    while (next > 0 && p.parents.size() < kMaxParents) {
        auto ptext = read_text_file(path(next, "stat"), 4096);
        if (!ptext) break;
        auto pst = parse_proc_stat(*ptext);
        if (!pst) break;
        ParentProcess parent;
        parent.pid = next;
        parent.name = pst->comm;
        if (auto exe = read_link(path(next, "exe"))) parent.path = std::move(*exe);
        p.parents.push_back(std::move(parent));
        next = pst->ppid;
    }
    return p;
}

Result<std::vector<std::pair<std::string, std::string>>> read_process_env(
    const std::string& proc_root, int pid) {
    auto text = read_text_file(proc_root + "/" + std::to_string(pid) + "/environ");
    if (!text) return text.error();
    std::vector<std::pair<std::string, std::string>> env;
    for (const std::string& kv : split_cmdline(*text)) {
        const size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return env;
}

}  // namespace tsnitch
