#include "cli/commands.h"

namespace tsnitch::cli {

int attach(int, char**) {
    print_error("'attach' is not built yet in this version");
    return kExitFailure;
}

}  // namespace tsnitch::cli
