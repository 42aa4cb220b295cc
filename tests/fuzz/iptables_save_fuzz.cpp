// iptables-save output, as the firewall check reads it every few seconds: any text gives a state
// and install/remove scripts without a crash, and the scripts only ever name tsnitch's chains.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "nfq/ruleset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const tsnitch::nfq::IptablesState st = tsnitch::nfq::parse_iptables_save(text);
    for (const auto& [key, n] : st.chains) {
        if (key.find("/TSNITCH-") == std::string_view::npos || n < 0) std::abort();
    }
    for (const auto& jump : st.misplaced) {
        if (!st.jumps.contains(jump)) std::abort();  // only jumps that were found
    }
    const std::string install = tsnitch::nfq::iptables_install_script({}, tsnitch::Family::v4, st);
    const std::string remove = tsnitch::nfq::iptables_remove_script(st);
    // Every -X and -D names one of our chains (-D: as the jump target).
    for (const std::string* s : {&install, &remove}) {
        size_t pos = 0;
        while ((pos = s->find("\n-X ", pos)) != std::string::npos) {
            if (s->compare(pos + 4, 8, "TSNITCH-") != 0) std::abort();
            ++pos;
        }
    }
    return 0;
}
