// The lexical rules of RFC 8866 9 that the SDP grammars build on: character
// classes, tokens, numbers, and splitting a field at its spaces.
//
// Pure functions over bytes; no state, no I/O. Thread-safety: any thread.
// Every scanner stops at the end of its input: none reads past a view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/decimal.hpp"

namespace isthmus::sdp {

constexpr bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
constexpr bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// SP / HTAB: RFC 8866 separates fields by one SP; RFC 4568 and some peers
// use 1*WSP, which the typed parsers accept.
constexpr bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E
constexpr bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u <= 0x27) || u == 0x2A || u == 0x2B || u == 0x2D ||
           u == 0x2E || (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5A) ||
           (u >= 0x5E && u <= 0x7E);
}
// Non-empty and made of token characters only.
bool is_token(std::string_view s);

// VCHAR = %x21-7E, and the octets >= 0x80 of UTF-8 text: a field value that
// has no space and no control character.
constexpr bool is_visible(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7F;
}
// Non-empty and made of visible characters only (no SP, no control).
bool is_visible_word(std::string_view s);

// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 5.1)
constexpr bool is_ice_char(char c) {
    return is_alpha(c) || is_digit(c) || c == '+' || c == '/';
}

constexpr char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
// ASCII case-insensitive equality (attribute names, ABNF literals).
bool iequals(std::string_view a, std::string_view b);

// `s` without leading and trailing SP / HTAB.
std::string_view trim_wsp(std::string_view s);

// 1*DIGIT with no sign and no space, at most `max`. Leading zeros are fine.
// nullopt when empty, not all digits, or above `max` (never overflows).
using text::parse_uint;  // text/decimal.hpp

// The words of `s` separated by runs of SP / HTAB; leading and trailing
// white space ignored. The views point into `s`.
std::vector<std::string_view> split_words(std::string_view s);

// `s` split at the first `sep`: {before, after}; after is nullopt if there
// is no `sep`.
std::pair<std::string_view, std::optional<std::string_view>> split_once(std::string_view s,
                                                                        char sep);

}  // namespace isthmus::sdp
