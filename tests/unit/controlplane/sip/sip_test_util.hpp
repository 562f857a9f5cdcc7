// Helpers of the SIP message-layer tests: RFC text (lines ending in "\n")
// to wire bytes (CRLF), the SDP body RFC 4475 repeats, parse shorthands, and
// the parse -> serialize -> parse round trip every accepted message must pass.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

#include "sip/parser.hpp"
#include "sip/serializer.hpp"

namespace isthmus::sip {

// gtest prints a Message as its wire form.
inline void PrintTo(const Message& m, std::ostream* os) {
    *os << serialize(m);
}
inline void PrintTo(ParseError e, std::ostream* os) {
    *os << parse_error_name(e);
}
inline void PrintTo(ParseStatus s, std::ostream* os) {
    *os << (s == ParseStatus::Ok ? "Ok" : s == ParseStatus::Incomplete ? "Incomplete" : "Error");
}

namespace test {

// "\n" -> "\r\n"; every other byte (NULs included) as it is.
inline std::string wire(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 16);
    for (char c : text) {
        if (c == '\n') out.push_back('\r');
        out.push_back(c);
    }
    return out;
}

// The SDP body most RFC 4475 messages carry (CRLF line ends).
inline std::string rfc4475_sdp(std::string_view o_addr, std::string_view c_addr,
                               std::string_view t = "0 0") {
    return wire("v=0\no=mhandley 29739 7272939 IN IP4 " + std::string(o_addr) + "\ns=-\nc=IN IP4 " +
                std::string(c_addr) + "\nt=" + std::string(t) +
                "\nm=audio 49217 RTP/AVP 0 12\nm=video 3227 RTP/AVP 31\na=rtpmap:31 LPC\n");
}

inline ParseResult parse_dgram(std::string_view bytes, const ParseLimits& limits = {}) {
    return parse_message(bytes, Framing::Datagram, limits);
}
inline ParseResult parse_stream(std::string_view bytes, const ParseLimits& limits = {}) {
    return parse_message(bytes, Framing::Stream, limits);
}

inline Message without_content_length(Message m) {
    m.remove("Content-Length");
    return m;
}

// serialize(m) parses back (as a stream, so Content-Length frames it) into m,
// Content-Length aside (the serializer always writes it), and serializing
// that gives the same octets again.
inline void expect_round_trip(const Message& m) {
    const std::string once = serialize(m);
    ParseLimits relaxed;
    relaxed.max_message_bytes = 4 * (once.size() + 1024);
    relaxed.max_headers = 4096;
    relaxed.max_header_line = relaxed.max_message_bytes;
    relaxed.max_start_line = relaxed.max_message_bytes;
    const ParseResult again = parse_stream(once, relaxed);
    ASSERT_EQ(again.status, ParseStatus::Ok) << again.reason << "\n" << once;
    EXPECT_EQ(again.consumed, once.size());
    EXPECT_EQ(without_content_length(again.message), without_content_length(m));
    EXPECT_EQ(serialize(again.message), once);
}

}  // namespace test
}  // namespace isthmus::sip
