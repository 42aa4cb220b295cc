#include "cli/commands.h"

namespace tsnitch::cli {

int sockets(int, char**) {
    print_error("'sockets' is not built yet in this version");
    return kExitFailure;
}

}  // namespace tsnitch::cli
