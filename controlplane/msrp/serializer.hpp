// The MSRP message serializer: a Message to the octets a transport sends
// (RFC 4975 9).
//
//   "MSRP" SP transaction-id SP method CRLF          (request)
//   "MSRP" SP transaction-id SP code [SP comment] CRLF (response, 3 digits)
//   To-Path, From-Path, Message-ID, Byte-Range, Success-Report,
//   Failure-Report, Status (each when set), the other headers in order,
//   then, when the message has a Content-Type or a body:
//   Content-Type CRLF, CRLF, the body, CRLF
//   "-------" transaction-id flag CRLF
//
// Header values are written as "Name: value". A CR or LF in a value, a
// comment or a method is written as SP, and a name character outside token
// as '-', so nothing set by code can inject a header line. Codes over 999
// are written as 999. The transaction id is written as it is: one that is
// not an ident, or whose end line occurs in the body (end_line_in_body),
// makes octets no receiver frames as intended.
//
// parse_message(serialize(m)) gives back m for every m that parse_message
// (or StreamFramer) produced, and for every m built by code that keeps to
// the rules above (To-Path and From-Path set, a Content-Type whenever there
// is a body, a body no longer than its Byte-Range, no response body).
//
// Pure functions; thread-safety: any thread.
#pragma once

#include <string>
#include <string_view>

#include "msrp/message.hpp"

namespace isthmus::msrp {

std::string serialize(const Message& m);

// True when `body` holds CRLF "-------" transaction_id, the start of that
// id's end line: framed with that id, it might end early. A sender that
// gets true picks another transaction id (RFC 4975 7.1).
bool end_line_in_body(std::string_view body, std::string_view transaction_id);

}  // namespace isthmus::msrp
