// The header rules of a P-CSCF (TS 24.229 5.2; RFC 3325, RFC 7315, RFC
// 3327, RFC 3581) as pure functions over sip::Message: what a browser may
// not assert, what the P-CSCF asserts in its place, and the Via it stamps
// with the address a request really came from.
//
// Pure functions; thread-safety: any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pcscf/flow.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"

namespace isthmus::pcscf {

// An address as a Peer stores it, as text for Via received: "198.51.100.7"
// for IPv4-mapped addresses, RFC 5952 text ("2001:db8::1") otherwise.
std::string address_text(const std::array<uint8_t, 16>& address);
bool is_unspecified(const std::array<uint8_t, 16>& address);

// RFC 3261 18.2.1 and RFC 3581 4 on the top Via of a request received from
// `source`: `received` = the source address when the sent-by host is not
// that address (always for RFC 7118's `.invalid` hosts), and `rport` given
// the source port when the Via has an empty rport. Nothing is added for an
// unspecified source address. False, and the message unchanged, when the
// top Via does not parse.
bool stamp_via_source(sip::Message& request, const Peer& source);

// Inserts a field after the last field of the same header, else after the
// last Via, else at the end: where a reader expects it (Message::add would
// put it after Content-Length).
void put_field(sip::Message& m, std::string_view name, std::string_view value);
// Inserts a field before the first field of the same header (the top
// Record-Route), else as put_field does.
void put_first(sip::Message& m, std::string_view name, std::string_view value);

// The option tag is among the values of header `name` (Supported, Require).
bool has_option_tag(const sip::Message& m, std::string_view name, std::string_view tag);

// Headers a UE may not set, removed from every request it sends before the
// P-CSCF adds its own (TS 24.229 5.2.6.3: the UE is outside the trust
// domain, RFC 3325 5): P-Asserted-Identity, P-Preferred-Identity (read it
// first: preferred_identities), P-Charging-Vector,
// P-Charging-Function-Addresses, P-Visited-Network-ID, P-Served-User,
// P-Profile-Key, P-Asserted-Service.
void remove_untrusted_from_ue(sip::Message& m);

// Headers that do not leave the IMS toward the UE (TS 24.229 5.2.6.4,
// 5.2.7: charging information): P-Charging-Vector and
// P-Charging-Function-Addresses. Requests and responses alike.
void remove_charging_toward_ue(sip::Message& m);

// The URIs of the P-Preferred-Identity values (RFC 3325 9.2), in order;
// values that do not parse are skipped.
std::vector<sip::Uri> preferred_identities(const sip::Message& m);

// P-Asserted-Identity (RFC 3325 9.1): the identity's URI in angle brackets
// with its display name, without header parameters.
std::string asserted_identity_value(const sip::NameAddr& identity);

// A fresh icid-value (RFC 7315 4.6): 16 hex digits of `random` and the hex
// of `counter`, unique as long as the counter never repeats in a core and
// the random value differs between cores.
std::string make_icid(uint64_t random, uint64_t counter);

// P-Charging-Vector (RFC 7315 4.6, TS 24.229 7.2A.5):
// "icid-value=<icid>;orig-ioi=<orig_ioi>" (orig-ioi left out when empty).
std::string charging_vector(std::string_view icid, std::string_view orig_ioi);

// P-Visited-Network-ID (RFC 7315 4.3): the value as a token when it is one,
// else as a quoted-string.
std::string visited_network_value(std::string_view network);

}  // namespace isthmus::pcscf
