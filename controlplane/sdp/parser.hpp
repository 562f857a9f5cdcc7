// The SDP parser (RFC 8866 5): the bytes of an application/sdp body in, a
// SessionDescription (description.hpp) or the line at fault and why out.
//
// What it checks:
//  - every line is `<letter>=<text>` with no NUL and no CR but the one
//    before LF; lines end in CRLF or a bare LF (RFC 8866 5: a parser should
//    accept LF; the serializer writes CRLF). The last line may lack its line
//    end, and empty lines are allowed only at the very end (dropped);
//  - the first three lines are v=0, o= (six fields, fields.hpp) and s=;
//  - at least one t= (two decimal times) comes before the first m=, and an
//    r= only after a t=;
//  - v= o= s= u= e= p= t= r= z= appear only at the session level, each of
//    v= o= s= once;
//  - each c= is `nettype addrtype address` (parse_connection);
//  - each m= line parses (parse_media_line), its port(s) numbers in range;
//  - each a= has a non-empty name (the text before its first ':');
//  - the limits below.
// What it leaves to the typed views and the caller: attribute values (each
// is parsed on demand), b=, k=, z=, i=, u=, e=, p= text, the RFC order of the
// optional lines (kept as received, see serializer.hpp), whether each media
// description has a connection (effective_connection), and type letters it
// does not know (kept as lines, never refused).
//
// Robustness: never reads outside `bytes`; refuses more than
// limits.max_bytes before looking further, so everything it allocates is in
// proportion to min(bytes.size(), max_bytes); every loop advances.
//
// Thread-safety: any thread; pure function of its arguments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sdp/description.hpp"

namespace isthmus::sdp {

// Bounds on one description. Exceeding one is an error naming it. The
// defaults hold any real offer (a browser's with simulcast, candidates and
// ssrc lines stays under 16 KiB and 400 lines).
struct ParseLimits {
    std::size_t max_bytes = 65536;
    std::size_t max_lines = 2000;
    std::size_t max_media = 64;                    // m= lines
    std::size_t max_attributes_per_section = 512;  // a= lines of one level
};

// X(Enumerator, "metric_label", "what it means"). A SIP element answers
// any of them as a malformed body (400, or 488 for an offer it cannot use).
#define ISTHMUS_SDP_PARSE_ERROR(X)                                                      \
    X(None, "none", "no error")                                                         \
    X(Empty, "empty", "no bytes, or nothing but line ends")                             \
    X(TooLarge, "too_large", "more than max_bytes")                                     \
    X(TooManyLines, "too_many_lines", "more than max_lines lines")                      \
    X(TooManyMedia, "too_many_media", "more than max_media m= lines")                   \
    X(TooManyAttributes, "too_many_attributes", "more than max_attributes_per_section") \
    X(BadLine, "bad_line",                                                              \
      "not <letter>=<text>, a NUL or bare CR in it, or an empty line before the end")   \
    X(BadVersion, "bad_version", "the first line is not v=0")                           \
    X(MissingOrigin, "missing_origin", "the second line is not o=")                     \
    X(BadOrigin, "bad_origin", "o= is not six fields")                                  \
    X(MissingSessionName, "missing_session_name", "the third line is not s=")           \
    X(MissingTiming, "missing_timing", "no t= before the first m= or the end")          \
    X(BadTiming, "bad_timing", "t= is not two decimal times")                           \
    X(BadConnection, "bad_connection", "c= is not nettype addrtype address")            \
    X(BadAttribute, "bad_attribute", "a= with an empty name")                           \
    X(BadMediaLine, "bad_media_line", "m= is not media port proto fmt...")              \
    X(BadPort, "bad_port", "m= port not 0..65535, or port count not 1..65535")          \
    X(MisplacedLine, "misplaced_line",                                                  \
      "v= o= s= u= e= p= t= r= z= in a media description, a second v= o= s=, r= before t=")

enum class ParseError : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_SDP_PARSE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kParseErrorCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_SDP_PARSE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    ;

// The metric label of an error ("bad_media_line"), stable for dashboards.
constexpr std::string_view parse_error_name(ParseError e) {
    constexpr std::array<std::string_view, kParseErrorCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_SDP_PARSE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(e)];
}

struct ParseResult {
    ParseError error = ParseError::None;
    // The 1-based number of the line at fault: for a missing line, the line
    // where it was expected (one past the last for the end of the input).
    // 0 for TooLarge and Empty.
    std::size_t line = 0;
    // One line for a log or a warning header: "line 5: m= port is not a
    // number in 0..65535". Empty when ok().
    std::string reason;
    // ok(): the description. Otherwise empty.
    SessionDescription description;

    bool ok() const { return error == ParseError::None; }
};

ParseResult parse_sdp(std::string_view bytes, const ParseLimits& limits = {});

}  // namespace isthmus::sdp
