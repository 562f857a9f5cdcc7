// The MSRP message parser (RFC 4975 9): bytes in, Messages (or a reason
// why not) out. Two entry points over one scanner:
//  - parse_message(): one complete message in a byte span (a datagram-like
//    unit: a test vector, a data channel message), nothing after it;
//  - StreamFramer: a TCP byte stream (RFC 4975) fed in pieces of any
//    size, complete messages out in order.
// Sans I/O: the caller reads the socket and owns the clock.
//
// Framing (RFC 4975 5.1, 7.1, 9). A message is
//   "MSRP" SP transact-id SP (method / status-code [SP comment]) CRLF
//   header lines, each name ":" SP value CRLF
//   [ CRLF data CRLF ]                     -- content-stuff, requests only
//   "-------" transact-id ("$" / "+" / "#") CRLF
// The data is not length-prefixed: it ends at the first CRLF "-------"
// transact-id flag CRLF of *this* message's transaction id, so a body may
// hold anything else, the end line of another transaction included (a
// sender picks an id that does not occur in its data, RFC 4975 7.1). The
// search resumes where the last one stopped: feeding a message byte by
// byte costs the same as feeding it whole.
//
// What it checks: the start line (the literal "MSRP", a transaction id that
// is an ident of 4..32 characters, a 1*UPALPHA method or a 3-digit status
// code, a utf8text comment), CRLF line ends (a bare CR or LF is an error,
// never a line end), header lines (token name, ':', utf8text value; SP/HTAB
// around the value trimmed), the typed fields (To-Path and From-Path: one
// or more MSRP URIs separated by SP; Message-ID: ident; Byte-Range; Success-
// and Failure-Report; Status; Content-Type: type "/" subtype [params]), each
// typed field at most once, To-Path and From-Path in every message,
// Message-ID in SEND and REPORT, Status in REPORT, a Content-Type before any
// body, no body in a response, a body no longer than its Byte-Range says,
// the end line's transaction id, and the limits below.
// What it accepts that the grammar is stricter about: header fields in any
// order (RFC 4975 9 puts To-Path and From-Path first and Content-Type
// last; the serializer does), names in any case, and a body shorter than
// its Byte-Range (an interrupted chunk, RFC 4975 7.1: the receiver goes by
// the octets it got).
//
// Robustness: never reads outside the bytes given; memory is bounded by the
// limits (the framer never holds more than max_buffered_bytes, whatever a
// single feed carries); every loop advances.
//
// Thread-safety: parse_message is a pure function (any thread). A
// StreamFramer is one connection's: one thread at a time, no callbacks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "msrp/message.hpp"

namespace isthmus::msrp {

// Bounds on what one message, and one connection's buffer, may take.
// Exceeding one is an error naming it; the caller closes the connection
// (RFC 4975 has no way to resynchronise a stream mid-message).
struct ParseLimits {
    // The start line, the header lines and the blank line after them.
    std::size_t max_header_bytes = 8192;
    // The data of one message (one chunk). Senders may chunk as they like
    // (RFC 4975 5.1); 64 KiB holds what browsers and IMS clients send.
    std::size_t max_body_bytes = 65536;
    // StreamFramer only: octets held while waiting for the rest of a
    // message. At least max_header_bytes + max_body_bytes + 44 (the longest
    // CRLF + end line) for the two limits above to be the ones that trip.
    std::size_t max_buffered_bytes = 8192 + 65536 + 1024;
};

// X(Enumerator, "metric_label", "what it means: what the caller does")
#define ISTHMUS_MSRP_PARSE_ERROR(X)                                                                \
    X(None, "none", "no error")                                                                    \
    X(BadStartLine, "bad_start_line",                                                              \
      "not \"MSRP\" SP transact-id SP method / status-code [SP comment]: close")                   \
    X(BadTransactionId, "bad_transaction_id",                                                      \
      "transaction id not an ident of 4..32 characters (RFC 4975 9): close")                       \
    X(BadStatusCode, "bad_status_code", "response code not 3 digits: close")                       \
    X(BadLineEnding, "bad_line_ending", "a bare CR or LF in the start line or headers: close")     \
    X(BadHeaderLine, "bad_header_line",                                                            \
      "a header line without a token name and ':', or a control character: close")                 \
    X(DuplicateHeader, "duplicate_header", "a typed header field given twice: close")              \
    X(MissingHeader, "missing_header",                                                             \
      "To-Path or From-Path missing, Message-ID missing in SEND/REPORT, Status in REPORT")         \
    X(BadPath, "bad_path", "To-Path or From-Path not SP-separated MSRP URIs: close")               \
    X(BadMessageId, "bad_message_id", "Message-ID not an ident of 4..32 characters: close")        \
    X(BadByteRange, "bad_byte_range",                                                              \
      "Byte-Range not start-end/total, start 0, end before start - 1, or past total: close")       \
    X(BadReportHeader, "bad_report_header",                                                        \
      "Success-Report not yes/no, or Failure-Report not yes/no/partial: close")                    \
    X(BadStatusHeader, "bad_status_header",                                                        \
      "Status not namespace SP status-code [SP reason] (3 digits each): close")                    \
    X(BadContentType, "bad_content_type", "Content-Type not type/subtype [;params]: close")        \
    X(BodyWithoutContentType, "body_without_content_type",                                         \
      "a blank line and data after headers without Content-Type (RFC 4975 9): close")              \
    X(ResponseWithBody, "response_with_body", "a response with content-stuff (RFC 4975 9)")        \
    X(BodyExceedsByteRange, "body_exceeds_byte_range",                                             \
      "more data than the Byte-Range end - start + 1 says: close")                                 \
    X(BadEndLine, "bad_end_line",                                                                  \
      "an end line for another transaction id, or a flag not $ + #, after the headers: close")     \
    X(HeaderTooLarge, "header_too_large", "start line + headers over max_header_bytes: close")     \
    X(BodyTooLarge, "body_too_large", "data over max_body_bytes, or no end line within it: close") \
    X(BufferFull, "buffer_full", "framer: over max_buffered_bytes without a message: close")       \
    X(Truncated, "truncated", "parse_message: the bytes end before the end line")                  \
    X(TrailingBytes, "trailing_bytes", "parse_message: bytes after the end line")

enum class ParseError : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_MSRP_PARSE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kParseErrorCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_MSRP_PARSE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    ;

// The metric label of an error ("bad_byte_range"), stable for dashboards.
constexpr std::string_view parse_error_name(ParseError e) {
    constexpr std::array<std::string_view, kParseErrorCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_MSRP_PARSE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(e)];
}

struct ParseResult {
    ParseError error = ParseError::None;
    // One line for a log, naming the place and what is wrong: "To-Path
    // missing", "header line 4 (Byte-Range): end 3 before start 10",
    // "transaction id \"ab\" not 4..32 characters", "end line missing within
    // 65536 bytes of data". Empty when error is None.
    std::string reason;
    // None: the message. Otherwise what was read before the error (start
    // line and fields), for a log; unvalidated.
    Message message;
    // None: octets that made up the message (bytes.size()). Otherwise 0.
    std::size_t consumed = 0;

    bool ok() const { return error == ParseError::None; }
};

// Parses `bytes` as exactly one message: its first octet is the 'M' of
// "MSRP", its last the LF of the end line. Truncated when the end line has
// not been reached, TrailingBytes when anything follows it, and every other
// error of the list above.
ParseResult parse_message(std::string_view bytes, const ParseLimits& limits = {});

namespace detail {
class Scanner;
}

// One TCP connection's MSRP framing. Feed it what the socket gives; it
// hands back each complete message once. After an error it stays failed
// (every feed returns the same error, nothing more is parsed): the caller
// closes the connection.
//
// Owner: the connection that reads the socket; not shared between threads.
class StreamFramer {
  public:
    explicit StreamFramer(const ParseLimits& limits = {});
    ~StreamFramer();
    StreamFramer(StreamFramer&&) noexcept;
    StreamFramer& operator=(StreamFramer&&) noexcept;
    StreamFramer(const StreamFramer&) = delete;
    StreamFramer& operator=(const StreamFramer&) = delete;

    // Takes `bytes` (any size, any split), appends each message they
    // complete to `out` in order, and returns None, or the error that
    // stopped the stream (messages before it in the same feed are still
    // appended). Never holds more than limits.max_buffered_bytes.
    ParseError feed(std::string_view bytes, std::vector<Message>& out);

    ParseError error() const { return error_; }
    // The error's reason (see ParseResult::reason); empty while None.
    const std::string& reason() const { return reason_; }
    // Octets held for a message not complete yet.
    std::size_t buffered() const { return buffer_.size() - start_; }

  private:
    ParseError fail(ParseError e, std::string reason);

    ParseLimits limits_;
    std::string buffer_;  // [start_, size) is the message being read
    std::size_t start_ = 0;
    ParseError error_ = ParseError::None;
    std::string reason_;
    std::unique_ptr<detail::Scanner> scanner_;  // a pointer keeps scanner.hpp private
};

}  // namespace isthmus::msrp
