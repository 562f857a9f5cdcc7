// The dataplane's debug line per dpif command (issue 10; docs/operations.md,
// "Logs"): the main lcore writes one when a command's Result leaves for the
// control plane, whether the command service answered it itself (Ping,
// Resync*, refusals) or a worker did (session commands). Level debug only:
// one line per command, never per packet.
//
// Pure functions over an Event: no I/O, any thread. A Result carries no
// keys (SRTP keys and ICE passwords travel only in commands), so nothing
// secret can reach the line.
#pragma once

#include <string>
#include <string_view>

#include "isthmus/dpif/messages.hpp"

namespace isthmus::dataplane {

// "session_create", "ping", "result", ...; "unknown" for a value no
// MsgType has (a command from a newer control plane).
std::string_view msg_type_name(dpif::MsgType type);

// "event=dpif_command type=session_create session=42 seq=7 generation=3
// worker=0 result=ok" for a Result event, with " detail=..." (escaped) when
// the dataplane said why.
std::string command_result_text(const dpif::Event& result);

}  // namespace isthmus::dataplane
