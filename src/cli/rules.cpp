#include "cli/commands.h"

namespace tsnitch::cli {

int rules(int, char**) {
    print_error("'rules' is not built yet in this version");
    return kExitFailure;
}

}  // namespace tsnitch::cli
