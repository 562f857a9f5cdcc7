// The values of the header fields MSRP types (RFC 4975 9), read and
// written one at a time. The parser uses them on each field; the relay
// uses parse_path on an SDP a=path value (RFC 4975 8), which has the same
// form as To-Path.
//
// Each parser takes the value with the SP/HTAB around it already trimmed,
// returns nullopt when it is not valid, and then, when `why` is given, puts
// there what is wrong ("URI 2 \"msrp://x\": no ;transport", "end 3 before
// start 10"). Pure functions; thread-safety: any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "msrp/message.hpp"
#include "msrp/uri.hpp"

namespace isthmus::msrp {

// To-Path / From-Path / a=path: MSRP-URI *( SP MSRP-URI ). Runs of SP or
// HTAB between URIs are accepted.
std::optional<std::vector<Uri>> parse_path(std::string_view value, std::string* why = nullptr);
// The URIs joined by one SP.
std::string to_string(const std::vector<Uri>& path);

// Byte-Range: range-start "-" range-end "/" total, numbers of 1..19 digits.
// Refused: start 0 (octets count from 1), an end before start - 1 ("1-0/0"
// is an empty chunk), an end or a start past a known total.
std::optional<ByteRange> parse_byte_range(std::string_view value, std::string* why = nullptr);

// Success-Report: "yes" / "no"; Failure-Report: "yes" / "no" / "partial"
// (ABNF literals: any case).
std::optional<SuccessReport> parse_success_report(std::string_view value);
std::optional<FailureReport> parse_failure_report(std::string_view value);
std::string_view to_string(SuccessReport v);
std::string_view to_string(FailureReport v);

// Status: namespace SP status-code [SP text-reason], 3 digits each.
std::optional<StatusHeader> parse_status_header(std::string_view value, std::string* why = nullptr);
// "000 200 OK"; codes over 999 are written as 999.
std::string to_string(const StatusHeader& s);

// media-type = type "/" subtype *( ";" gen-param ) (RFC 4975 9): type and
// subtype tokens; each parameter a token name, optionally "=" and a token
// or a quoted-string; SP/HTAB allowed around ';' and '='.
bool is_media_type(std::string_view value);

}  // namespace isthmus::msrp
