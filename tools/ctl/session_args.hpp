// isthmus-ctl's session arguments: command-line text -> dpif::Command, and
// dpif::Event -> one line of key=value. Pure functions (no I/O, no globals):
// any thread may call them; tests/unit/ctl/session_args_test.cpp drives them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isthmus/dpif/messages.hpp"

namespace isthmus::ctl {

// "198.18.0.2:40000" or "[2001:2::2]:40000" -> family 4/6, address, port
// (1..65535, decimal). IPv6 needs the brackets; no zone ids, no host names.
// out: overwritten on success, untouched on failure.
// error: on failure, why (quoting `text`); untouched on success.
bool parse_endpoint(std::string_view text, dpif::IpEndpoint& out, std::string& error);

// "198.18.0.2:40000", "[2001:2::2]:40000"; "-" for family 0 (unset).
std::string format_endpoint(const dpif::IpEndpoint& ep);

// A session id: a decimal u64, not 0 (0 means "no session" on the dpif).
bool parse_session_id(std::string_view text, uint64_t& out, std::string& error);

// `isthmus-ctl session add` options -> a SessionCreate command (hdr.type and
// hdr.session_id set; version, seq and generation are left for Client::send).
//
//   --id N                        required, non-zero
//   --access-local EP             required: the gateway's RTP address on the W3 leg
//   --access-remote EP            optional: unset = learned from the first
//                                 authenticated packet
//   --access-rtcp-mux             RTP and RTCP on one port (RFC 5761)
//   --access-rtcp-local EP        without rtcp-mux only; default local port + 1
//   --access-rtcp-remote EP       without rtcp-mux only; default remote port + 1
//                                 when --access-remote is given
//   --access-rx-key "SUITE inline:B64"  required (SDES; DTLS legs come later):
//   --access-tx-key "SUITE inline:B64"  keys of packets received / sent on the leg
//   --core-local EP, --core-remote EP   both required
//   --core-rtcp-mux, --core-rtcp-local EP, --core-rtcp-remote EP  as on access
//   --core-rx-key, --core-tx-key  both (SRTP, SDES) or neither (plain RTP)
//   --access-police-kbps N, --core-police-kbps N  what the leg may send us,
//                                 kb/s of IP packets, 8..10000000 (default:
//                                 not policed; docs/dataplane.md "Policing")
//
// Every endpoint of one leg must be of one family (IPv4 or IPv6).
// out: overwritten on success (all other fields zero), untouched on failure.
// error: on failure, a message naming the option at fault; untouched on
//   success. Failures: an unknown option or a stray argument; an option given
//   twice; a missing value; a bad id, endpoint or key (see parse_endpoint,
//   dpif::parse_sdes_inline); a required option missing; RTCP endpoints with
//   rtcp-mux, or an RTCP remote without the RTP remote; a default RTCP port
//   past 65535; mixed families on a leg; one core key without the other.
bool parse_session_add(const std::vector<std::string>& args, dpif::Command& out,
                       std::string& error);

// One SessionInfo event as one line:
// "id=N worker=W access_local=EP access_remote=EP core_local=EP core_remote=EP
//  relayed_a2c=N relayed_c2a=N dropped_access=N dropped_core=N" (unset: "-").
std::string format_session_info(const dpif::Event& ev);

// The Ok Result of a SessionCreate as one line:
// "id=N result=ok worker=W access_local=EP core_local=EP".
std::string format_session_created(const dpif::Event& ev);

// The Result's outcome and reason: "not_found no such session" (the reason
// left out when the dataplane gave none).
std::string format_result_error(const dpif::Event& ev);

}  // namespace isthmus::ctl
