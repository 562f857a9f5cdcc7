// Internal to the parser: the resumable scanner behind parse_message() and
// StreamFramer (parser.hpp says what it checks). Not installed, not for
// other libraries.
//
// A Scanner reads one message from a buffer that starts at the message's
// first octet and grows between calls: advance() picks up where it
// stopped (the start line and each header line are read once, the end
// line search resumes just before where it gave up), so the total work for
// a message is linear in its size however it is split.
//
// Thread-safety: one owner; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "msrp/message.hpp"
#include "msrp/parser.hpp"

namespace isthmus::msrp::detail {

enum class Step : uint8_t {
    Done,      // message() is complete and size() octets long
    NeedMore,  // the buffer ends before the message does
    Failed,    // error() and reason() say why; stays failed
};

class Scanner {
  public:
    explicit Scanner(const ParseLimits& limits) : limits_(limits) {}

    // `buf` holds the message from its first octet: everything the previous
    // call got, and possibly more after it.
    Step advance(std::string_view buf);

    // Done: the message (move it out) and its length in octets.
    Message& message() { return msg_; }
    std::size_t size() const { return size_; }
    // Failed: why.
    ParseError error() const { return error_; }
    const std::string& reason() const { return reason_; }
    // NeedMore: what has not arrived yet, for parse_message's Truncated.
    std::string missing() const;

    // Forgets everything: ready for the next message at a new buffer start.
    void reset();

  private:
    enum class Phase : uint8_t { StartLine, Headers, EndLineAfterHeaders, Body, Finished };

    Step fail(ParseError e, std::string reason);
    // Reads the line starting at pos_: Done with `line` (without its CRLF)
    // and pos_ after the CRLF, NeedMore, or Failed.
    Step read_line(std::string_view buf, std::string_view& line);
    Step on_start_line(std::string_view line);
    Step on_header_line(std::string_view line);
    Step on_headers_end(bool content_stuff);
    Step read_end_line_after_headers(std::string_view buf);
    Step read_body(std::string_view buf);
    std::string at_line(std::string_view name = {}) const;

    ParseLimits limits_;
    Phase phase_ = Phase::StartLine;
    std::size_t pos_ = 0;      // first octet of the line being read
    std::size_t scan_ = 0;     // how far that line has been searched for its CR
    std::size_t line_no_ = 0;  // lines read; the start line is line 1
    std::size_t body_start_ = 0;
    std::size_t search_ = 0;         // Body: where the end line search resumes
    std::size_t after_headers_ = 0;  // Body: octets seen after the blank line
    std::string marker_;             // CRLF "-------" transaction-id
    uint32_t seen_ = 0;              // typed fields seen (bits of FieldBit)
    std::size_t size_ = 0;
    Message msg_;
    ParseError error_ = ParseError::None;
    std::string reason_;
};

}  // namespace isthmus::msrp::detail
