// The SIP message serializer: a Message to the octets a transport sends.
//
// The start line, each header field as "Name: value" CRLF in the message's
// order with its canonical name (compact forms expanded), an empty line, the
// body. Content-Length is always written and always says body.size(): in
// the place of the message's first Content-Length field, or last if it has
// none; any other Content-Length field is dropped. A CR or LF inside a
// value, method, reason phrase or URI is written as SP, and a name character
// outside token as '-', so that nothing set by code can inject a header line.
//
// parse_message(serialize(m), Framing::Stream) gives back m (up to the
// Content-Length field and the CR/LF rule) for every m that parse_message
// produced.
//
// Pure function; thread-safety: any thread.
#pragma once

#include <string>

#include "sip/message.hpp"

namespace isthmus::sip {

std::string serialize(const Message& m);

}  // namespace isthmus::sip
