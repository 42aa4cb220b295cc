#include "cli/commands.h"

namespace tsnitch::cli {

int check(int, char**) {
    print_error("'check' is not built yet in this version");
    return kExitFailure;
}

}  // namespace tsnitch::cli
