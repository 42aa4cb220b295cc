// Runs a firewall tool (iptables-restore, nft, ...) with a text on standard input and collects
// what it prints. Output goes to memfds, so no pipe can fill up and deadlock; the child starts
// with default signal handling and an empty signal mask whatever the caller blocked.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tsnitch::nfq {

struct CommandOutput {
    int status = 0;  // exit status, or 128 + signal
    std::string out;
    std::string err;
};

// Fails only when the program cannot be started; a non-zero exit is in `status`.
Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::string_view input);

}  // namespace tsnitch::nfq
