// nf_tables change notifications, as the firewall guard reads them from the kernel: any bytes
// are counted without a read past the end, and never more messages than headers fit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "nfq/ruleset_watch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The kernel's datagrams arrive in an aligned buffer; so do these.
    const std::vector<uint8_t> datagram(data, data + size);
    if (tsnitch::nfq::count_ruleset_changes(datagram) > size / 16) std::abort();
    return 0;
}
