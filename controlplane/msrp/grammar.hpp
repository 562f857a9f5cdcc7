// The lexical rules of RFC 4975 9 that the MSRP grammar above builds on:
// character classes, ident, token, utf8text, and decimal numbers.
//
// Pure functions over bytes; no state, no I/O. Thread-safety: any thread.
// Every scanner stops at the end of its input: none reads past a view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace isthmus::msrp {

constexpr bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
constexpr bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}
constexpr bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_upalpha(char c) {
    return c >= 'A' && c <= 'Z';
}
constexpr bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// ident-char = ALPHANUM / "." / "-" / "+" / "%" / "="
constexpr bool is_ident_char(char c) {
    return is_alnum(c) || c == '.' || c == '-' || c == '+' || c == '%' || c == '=';
}

// token = 1*(%x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E)
constexpr bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u <= 0x27) || u == 0x2A || u == 0x2B || u == 0x2D ||
           u == 0x2E || (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5A) ||
           (u >= 0x5E && u <= 0x7E);
}
bool is_token(std::string_view s);

// utf8text = *(HTAB / %x20-7E / UTF8-NONASCII). Octets >= 0x80 are taken as
// they come (not checked as UTF-8): the text is forwarded, not interpreted.
bool is_utf8text(std::string_view s);

// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

// 1*DIGIT as an unsigned number no larger than `max`; nullopt for an empty
// string, any other character, or a value over `max`.
std::optional<uint64_t> parse_decimal(std::string_view s, uint64_t max);

// Trims SP and HTAB at both ends.
std::string_view trim_wsp(std::string_view s);

}  // namespace isthmus::msrp
