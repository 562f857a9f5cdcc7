// The checks a SIP element makes on a parsed message before acting on it
// (RFC 3261 8.1.1, 8.2, 16.3; RFC 4475 3.1.2 and 3.3): mandatory header
// fields present, single where they must be, and well formed.
//
// Pure functions of the message; thread-safety: any thread.
#pragma once

#include <optional>
#include <string>

#include "sip/message.hpp"

namespace isthmus::sip {

// A request's defect, as a reason phrase for "400 <reason>" (nullopt: none):
//   "Missing To header" (also From, CSeq, Call-ID, Max-Forwards, Via: checked
//       in that order, the order of RFC 3261 8.1.1),
//   "Multiple To headers" (To, From, CSeq, Call-ID, Max-Forwards),
//   "Malformed To header" (From, CSeq, Call-ID, Max-Forwards, Via, and when
//       present Contact, Route, Record-Route, Path, Service-Route,
//       Content-Length; a field of a list header with no value, "Route:" or
//       "Via: ,", is malformed too),
//   "CSeq method does not match the request method",
//   "Not a request".
// The SIP-Version is not checked here: see has_supported_version (505).
std::optional<std::string> validate_request(const Message& m);

// A response's defect (nullopt: none); a response with one is dropped and
// counted (RFC 3261 18.1.2 leaves no one to answer):
//   "Missing Via header" (also From, To, CSeq, Call-ID), "Multiple ...",
//   "Malformed ...", "Not a response".
std::optional<std::string> validate_response(const Message& m);

// The version is SIP/2.0 (case-insensitive). A request with another one gets
// "505 Version Not Supported" (RFC 3261 21.5.6; RFC 4475 badvers).
bool has_supported_version(const Message& m);

}  // namespace isthmus::sip
