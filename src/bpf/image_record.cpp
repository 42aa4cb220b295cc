#include "bpf/image_record.h"

#include <cstring>

#include "core/attribution/proc_parse.h"

namespace tsnitch::bpf {

namespace {
constexpr std::string_view kDeleted = " (deleted)";

std::string_view component(const tsn_image& image, size_t i) {
    const char* c = image.comp[i];
    return {c, strnlen(c, TSN_NAME_MAX)};
}
}  // namespace

std::optional<std::string> image_path(const tsn_image& image) {
    if (!image.complete) return std::nullopt;
    const size_t depth = image.depth < TSN_PATH_DEPTH ? image.depth : TSN_PATH_DEPTH;
    std::string path;
    if (!image.reachable && !image.pseudo) path = kUnreachablePrefix;
    if (depth == 0) path += '/';
    for (size_t i = depth; i-- > 0;) {
        path += '/';
        path += component(image, i);
    }
    // A memfd's dentry is never hashed: the kernel names it "/NAME (deleted)" (simple_dname).
    if (image.unlinked || image.pseudo) path += kDeleted;
    return path;
}

ImageRecord image_from_map(const tsn_image& image) {
    ImageRecord r;
    r.exe = image.exe;
    r.exec_ns = image.exec_ns;
    r.tgid = image.tgid;
    r.ppid = image.ppid;
    r.path = image_path(image);
    const size_t n = image.args_len < TSN_ARGS_MAX ? image.args_len : TSN_ARGS_MAX;
    r.args = split_cmdline(std::string_view(image.args, n));
    r.args_truncated = image.args_truncated != 0;
    return r;
}

bool set_image_path(tsn_image& image, std::string_view exe_link, bool reachable) {
    image.depth = 0;
    image.complete = 0;
    image.reachable = reachable ? 1 : 0;
    image.pseudo = 0;
    image.unlinked = 0;
    std::memset(image.comp, 0, sizeof(image.comp));
    if (exe_link.ends_with(kDeleted)) {
        image.unlinked = 1;
        exe_link.remove_suffix(kDeleted.size());
    }
    if (!exe_link.starts_with('/')) return false;
    std::vector<std::string_view> parts;
    size_t pos = 1;
    while (pos <= exe_link.size()) {
        size_t end = exe_link.find('/', pos);
        if (end == std::string_view::npos) end = exe_link.size();
        if (end > pos) parts.push_back(exe_link.substr(pos, end - pos));
        pos = end + 1;
    }
    if (parts.size() > TSN_PATH_DEPTH) return false;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (parts[i].size() >= TSN_NAME_MAX) return false;
        // Leaf first, as the kernel walk records it.
        std::memcpy(image.comp[parts.size() - 1 - i], parts[i].data(), parts[i].size());
    }
    image.depth = static_cast<uint8_t>(parts.size());
    image.complete = 1;
    return true;
}

void set_image_args(tsn_image& image, std::string_view cmdline) {
    const size_t n = cmdline.size() < TSN_ARGS_MAX ? cmdline.size() : TSN_ARGS_MAX;
    std::memcpy(image.args, cmdline.data(), n);
    image.args_len = static_cast<uint32_t>(n);
    image.args_truncated = cmdline.size() > TSN_ARGS_MAX ? 1 : 0;
}

}  // namespace tsnitch::bpf
