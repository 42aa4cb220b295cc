// `tsnitch attach --stdio`: the bytes of the control protocol between stdin/stdout and the local
// control socket, unchanged (the daemon validates what a client sends). What `attach --ssh` runs
// on the other machine, where sshd has already authenticated the person.
#pragma once

#include <string>

#include "core/result.h"

namespace tsnitch {

// Copies `in` to `socket` and `socket` to `out` until the socket ends (the daemon closed it, or
// closed it after `in` ended). Each direction holds at most 64 KiB and waits for its reader.
Status relay_bytes(int in, int out, int socket);

}  // namespace tsnitch
