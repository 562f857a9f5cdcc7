// The SIP message parser (RFC 3261 7 and 18.3): bytes from a transport in,
// one Message (or a reason why not) out. Sans I/O: the transport owns the
// buffer and calls again when more bytes arrive.
//
// What it checks: the start line (exactly one SP between its three parts,
// RFC 4475 lwsstart/trws; a Request-URI parse_uri accepts, without <> or LWS,
// ltgtruri/lwsruri, and without ?headers, escruri; SIP-Version syntax; a
// 3-digit status code 100..699, bigcode), the header field lines (a token
// name, LWS, ':'), line folding (RFC 3261 7.3.1: a line starting with SP or
// HTAB continues the previous field; the fold and the white space around it
// become one SP), CRLF line ends, Content-Length framing, and the limits.
// What it leaves to validate_request()/validate_response() (validate.hpp):
// the mandatory header fields and their typed grammar.
//
// Line ends: CRLF only. A bare LF or a bare CR is an error (BadLineEnding),
// never taken as a line end: a message means one thing to every hop.
//
// Framing (RFC 3261 18.3):
//  - Stream (TCP, TLS): CRLFs before the start line are skipped (7.5; RFC
//    5626 keepalives). The header section must be complete and
//    Content-Length present; the body is the next Content-Length octets.
//    Incomplete until they have all arrived; `consumed` then says where the
//    next message starts.
//  - Datagram (UDP, and WebSocket: one message per frame, RFC 7118): the
//    message is the whole buffer (leading CRLFs skipped here too; nothing
//    but CRLFs is Empty). Without Content-Length the body is the
//    rest of the buffer; with it, the body is that many octets and anything
//    after them is ignored (RFC 4475 dblreq), and a Content-Length larger
//    than what is there is an error (BodyTruncated, RFC 4475 clerr).
//
// Robustness: never reads outside `bytes`, allocates at most in proportion
// to min(bytes.size(), limits.max_message_bytes), and every loop advances.
// On a stream, the caller must not call again before new bytes arrive: each
// call rescans the buffer (bounded by max_message_bytes).
//
// Thread-safety: any thread; pure function of its arguments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "sip/validate.hpp"

namespace isthmus::sip {

enum class Framing : uint8_t { Stream, Datagram };

// Bounds on what one message may take. Exceeding one is an error naming it
// (the caller answers 513 Message Too Large, or closes / drops and counts).
struct ParseLimits {
    std::size_t max_message_bytes = 65535;  // start line + headers + body
    std::size_t max_headers = 256;          // header field lines (not values)
    std::size_t max_header_line = 8192;     // one field, its folded lines included
    std::size_t max_start_line = 8192;
};

// X(Enumerator, "metric_label", "what it means: what the caller does")
#define ISTHMUS_SIP_PARSE_ERROR(X)                                                               \
    X(None, "none", "no error")                                                                  \
    X(Empty, "empty", "datagram with nothing but CRLFs: dropped")                                \
    X(MessageTooLarge, "message_too_large",                                                      \
      "over max_message_bytes (headers + Content-Length): 513, or close/drop")                   \
    X(StartLineTooLong, "start_line_too_long", "over max_start_line: 414/513, or drop")          \
    X(HeaderLineTooLong, "header_line_too_long", "a field over max_header_line: 513, or drop")   \
    X(TooManyHeaders, "too_many_headers", "over max_headers field lines: 513, or drop")          \
    X(BadLineEnding, "bad_line_ending", "a bare LF or CR (RFC 3261 7: CRLF): 400, or drop")      \
    X(BadStartLine, "bad_start_line",                                                            \
      "not Method SP Request-URI SP SIP-Version nor SIP-Version SP 3DIGIT SP Reason: drop")      \
    X(BadRequestUri, "bad_request_uri",                                                          \
      "a Request-URI in <>, with LWS, with ?headers or unparsable (RFC 4475 3.1.2): 400/drop")   \
    X(BadStatusCode, "bad_status_code", "status code not 3 digits in 100..699: drop")            \
    X(BadHeaderLine, "bad_header_line", "a field line without a token name and ':': 400")        \
    X(BadFolding, "bad_folding", "a continuation line with no field before it: 400")             \
    X(HeadersUnterminated, "headers_unterminated",                                               \
      "datagram without the empty line after the headers: 400/drop")                             \
    X(MissingContentLength, "missing_content_length",                                            \
      "stream message without Content-Length (RFC 3261 18.3): close the connection")             \
    X(BadContentLength, "bad_content_length",                                                    \
      "Content-Length not 1*DIGIT, or more than one (RFC 4475 ncl, mcl01): 400, close a stream") \
    X(BodyTruncated, "body_truncated",                                                           \
      "datagram shorter than Content-Length says (RFC 3261 18.3, RFC 4475 clerr): 400")

enum class ParseError : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_SIP_PARSE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kParseErrorCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_SIP_PARSE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    ;

// The metric label of an error ("bad_content_length"), stable for dashboards.
constexpr std::string_view parse_error_name(ParseError e) {
    constexpr std::array<std::string_view, kParseErrorCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_SIP_PARSE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(e)];
}

enum class ParseStatus : uint8_t {
    Ok,          // `message` is complete; `consumed` octets make it up
    Incomplete,  // Stream only: call again with more bytes
    Error,       // `error` and `reason` say why
};

struct ParseResult {
    ParseStatus status = ParseStatus::Error;
    ParseError error = ParseError::None;
    // One line for a log or a 400 reason phrase, naming the place: "header
    // line 4: no ':'", "Content-Length: not a number". Empty when not Error.
    std::string reason;
    // Ok: the message. Error: what was parsed before the error (the start
    // line and the fields up to it; for Content-Length errors all of them),
    // for a caller that wants to answer 400 rather than drop. Unvalidated.
    // The Content-Length field, when there is one, holds the number as
    // decimal without leading zeros.
    Message message;
    // Ok: octets of `bytes` that made up the message, leading CRLFs included
    // (Stream: the next message starts there; Datagram: the whole buffer).
    // Incomplete: leading CRLFs the caller may drop already (an RFC 5626
    // "\r\n\r\n" keepalive on its own gives 4; answer it with "\r\n").
    // Error: 0.
    std::size_t consumed = 0;
};

// Parses one message from the start of `bytes`. See the file comment for
// framing, limits and errors.
ParseResult parse_message(std::string_view bytes, Framing framing, const ParseLimits& limits = {});

}  // namespace isthmus::sip
