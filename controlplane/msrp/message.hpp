// An MSRP message (RFC 4975 7 and 9): a request (a method: SEND, REPORT,
// AUTH of RFC 4976, or any other 1*UPALPHA) or a response (a 3-digit code
// and an optional comment), its transaction id, its header fields, its body
// and the continuation flag of its end line.
//
// The header fields MSRP gives meaning to are typed members; every other
// field (MIME fields such as Content-ID or Content-Disposition, extensions
// such as RFC 4976 Use-Path and Expires, RFC 7701 Nickname) is kept in
// `other_headers` in wire order, its name and value as received. The
// serializer writes To-Path, From-Path, the typed fields, the others in
// their order, and Content-Type last (the order of RFC 4975 9's grammar).
//
// A Message is a plain value: no locks, no views into other buffers.
// Const members may be used from any number of threads at once; mutation
// needs the only reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "msrp/uri.hpp"

namespace isthmus::msrp {

// The continuation-flag of the end line (RFC 4975 9, 7.1).
enum class Continuation : uint8_t {
    Complete,  // '$': the last (or only) chunk of the message
    More,      // '+': more chunks of this message follow
    Aborted,   // '#': the sender gave up the message (RFC 4975 7.1)
};
char continuation_char(Continuation c);
std::optional<Continuation> continuation_from_char(char c);

// Byte-Range: range-start "-" range-end "/" total (RFC 4975 7.1.1, 9).
// Octets are numbered from 1; end is the last octet of this chunk, total
// the size of the whole message; nullopt stands for '*' (not known yet).
// "1-0/0" is an empty SEND's (RFC 4975 7.1).
struct ByteRange {
    uint64_t start = 1;
    std::optional<uint64_t> end;
    std::optional<uint64_t> total;
    bool operator==(const ByteRange&) const = default;
};
std::string to_string(const ByteRange& r);

// Success-Report: yes / no (RFC 4975 7.1.1; absent means no).
enum class SuccessReport : uint8_t { Yes, No };
// Failure-Report: yes / no / partial (RFC 4975 7.1.1; absent means yes).
enum class FailureReport : uint8_t { Yes, No, Partial };

// Status: namespace SP status-code [SP text-reason] (RFC 4975 7.1.2, 9),
// the outcome a REPORT carries; namespace 000 for RFC 4975's codes.
struct StatusHeader {
    uint16_t ns = 0;     // 0..999
    uint16_t code = 0;   // 0..999
    std::string reason;  // utf8text; empty: none written
    bool operator==(const StatusHeader&) const = default;
};

// A header field MSRP does not type, as received (value trimmed of SP/HTAB).
struct HeaderField {
    std::string name;
    std::string value;
    bool operator==(const HeaderField&) const = default;
};

enum class MessageKind : uint8_t { Request, Response };

struct Message {
    MessageKind kind = MessageKind::Request;
    // ident: ALPHANUM 3*31ident-char (RFC 4975 9); ends the message in its
    // end line "-------" transaction_id flag.
    std::string transaction_id;
    std::string method;        // Request: "SEND", "REPORT", "AUTH", ...
    uint16_t status_code = 0;  // Response: 0..999 (written as 3 digits)
    std::string comment;       // Response: utf8text; empty: none written

    // Hop by hop first: To-Path's first URI is the next hop, its last the
    // destination; From-Path's first URI is the previous hop, its last the
    // originator (RFC 4975 5.2, RFC 4976).
    std::vector<Uri> to_path;
    std::vector<Uri> from_path;
    std::optional<std::string> message_id;  // ident
    std::optional<ByteRange> byte_range;
    std::optional<SuccessReport> success_report;
    std::optional<FailureReport> failure_report;
    std::optional<StatusHeader> status;
    std::optional<std::string> content_type;  // media-type, as received
    std::vector<HeaderField> other_headers;   // wire order

    // The data of the content-stuff: octets, may hold CR, LF and NUL. A
    // message has content-stuff (a blank line after the headers) when it
    // has a Content-Type; the parser refuses a body without one.
    std::string body;
    Continuation continuation = Continuation::Complete;

    bool is_request() const { return kind == MessageKind::Request; }
    bool is_response() const { return kind == MessageKind::Response; }
    bool is_send() const { return is_request() && method == "SEND"; }
    bool is_report() const { return is_request() && method == "REPORT"; }

    // The value of the first other header called `name` (case-insensitive),
    // or nullopt. The view lives as long as the field is not changed.
    std::optional<std::string_view> header(std::string_view name) const;

    bool operator==(const Message&) const = default;
};

// ident = ALPHANUM 3*31ident-char (RFC 4975 9): transaction ids and
// Message-IDs, 4 to 32 characters.
bool is_ident(std::string_view s);
inline constexpr std::size_t kMinIdentLength = 4;
inline constexpr std::size_t kMaxIdentLength = 32;

// The status codes of RFC 4975 10 (423 is for AUTH, RFC 4976).
namespace status {
inline constexpr uint16_t kOk = 200;
inline constexpr uint16_t kBadRequest = 400;           // unintelligible request
inline constexpr uint16_t kForbidden = 403;            // not allowed
inline constexpr uint16_t kRequestTimeout = 408;       // no response in time
inline constexpr uint16_t kStopSending = 413;          // stop sending this message
inline constexpr uint16_t kUnsupportedMedia = 415;     // media type not understood
inline constexpr uint16_t kIntervalOutOfBounds = 423;  // AUTH Expires (RFC 4976)
inline constexpr uint16_t kSessionDoesNotExist = 481;  // To-Path names no session here
inline constexpr uint16_t kUnknownMethod = 501;        // method not understood
inline constexpr uint16_t kSessionAlreadyBound = 506;  // session on another connection
}  // namespace status
// The comment RFC 4975 uses with a code ("OK", "Session Does Not Exist"),
// or "" for a code it does not define.
std::string_view default_comment(uint16_t code);

}  // namespace isthmus::msrp
