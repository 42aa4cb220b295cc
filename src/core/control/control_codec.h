// The control protocol (DESIGN.md §10; documented for scripts in tsnitch(8), section CONTROL
// PROTOCOL): the Daemon seam's records and commands (core/daemon/records.h) as one JSON object per
// line. The first line each way is a hello with the protocol version; then the daemon sends
// events ({"type":"snapshot",...}, {"type":"prompt_opened",...}, ...) and the client commands
// ({"type":"answer_prompt","request":7,...}). Decoding is pure and bounded: a line longer than
// the limit, a value of the wrong type or range, an unknown enum name or key, an over-long string
// or list is an error that names the field ("prompt.connection.src_port: expected an integer
// 0..65535, got 70000"), never an allocation in proportion to what the peer claims.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "core/daemon/records.h"
#include "core/result.h"

namespace tsnitch {

// A client's line (hello or command) may be this long, without its newline.
inline constexpr size_t kMaxClientLine = size_t{1} << 20;
// The daemon's lines carry whole rule lists and socket tables.
inline constexpr size_t kMaxDaemonLine = size_t{16} << 20;

// The first line each way: {"hello":"tsnitch","version":1,"role":"daemon","program":"tsnitch
// 0.1.0"}.
struct ControlHello {
    enum class Role : uint8_t { daemon, client };
    Role role = Role::client;
    unsigned version = kControlProtocolVersion;
    std::string program;  // free text, e.g. "tsnitch 0.1.0"
};

// The daemon's last line to one client before it closes that connection (refused by SO_PEERCRED,
// bad message, version not spoken, stopped reading): {"type":"closing","reason":"..."}.
struct ControlClosing {
    std::string reason;
};

std::string encode_hello(const ControlHello& hello);
std::string encode_closing(const ControlClosing& closing);
std::string encode_event(const DaemonEvent& event);
std::string encode_command(const DaemonCommand& command);
// Each encode_* returns one line without its newline.

// A hello of any version decodes (later versions may add keys to it); whether the version is
// spoken is the caller's decision. `role` is the role the line must have.
Result<ControlHello> decode_hello(std::string_view line, ControlHello::Role role);

// What a client reads after the hello.
using DaemonLine = std::variant<DaemonEvent, ControlClosing>;
Result<DaemonLine> decode_daemon_line(std::string_view line);
// What the daemon reads after the hello.
Result<DaemonCommand> decode_command(std::string_view line);

// "version 2 is not spoken here (this tsnitch speaks 1)", or empty when `hello` is fine.
std::string hello_mismatch(const ControlHello& hello);

}  // namespace tsnitch
