// The names file that `tsnitch sockets` reads: any bytes give entries or an Error, and what is read
// is written back and read again unchanged (so a name can't smuggle in a line or a field).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/dns/names_file.h"

using namespace tsnitch;

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    constexpr int64_t now = 1764360000;
    auto f = parse_names_file(text, "fuzz", now);
    if (!f) return 0;
    check(f->writer_pid > 0);
    for (const NameEntry& e : f->entries)
        check(!e.name.empty() && e.expires_unix > now);

    const std::string again = format_names_file(f->writer_pid, f->entries);
    auto g = parse_names_file(again, "again", now);
    check(g && g->problems.empty() && g->entries.size() == f->entries.size());
    for (size_t i = 0; i < f->entries.size(); ++i) {
        check(g->entries[i].address == f->entries[i].address);
        check(g->entries[i].name == f->entries[i].name);
        check(g->entries[i].expires_unix == f->entries[i].expires_unix);
    }
    NameTable table(f->entries);
    for (const NameEntry& e : f->entries)
        check(table.lookup(e.address).has_value());
    return 0;
}
