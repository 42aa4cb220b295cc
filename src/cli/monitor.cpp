#include "cli/commands.h"

namespace tsnitch::cli {

int monitor(int, char**) {
    print_error("'monitor' is not built yet in this version");
    return kExitFailure;
}

}  // namespace tsnitch::cli
