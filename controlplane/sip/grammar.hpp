// The lexical rules of RFC 3261 25.1 that every SIP grammar above builds on:
// character classes, linear white space, quoted strings, escapes, numbers,
// and the comma-separated lists of RFC 3261 7.3.1.
//
// Pure functions over bytes; no state, no I/O. Thread-safety: any thread.
// Every scanner stops at the end of its input: none reads past a view.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/decimal.hpp"

namespace isthmus::sip {

// A set of octets made at compile time and tested with one load: the
// character classes below are read for every octet of every header, so a
// search through a list of characters per octet would cost more than the
// parse around it.
class CharSet {
    std::array<bool, 256> in_{};

  public:
    constexpr CharSet() = default;
    constexpr explicit CharSet(std::string_view chars) {
        for (char c : chars)
            in_[static_cast<unsigned char>(c)] = true;
    }
    static constexpr CharSet range(char first, char last) {
        CharSet r;
        for (int c = static_cast<unsigned char>(first); c <= static_cast<unsigned char>(last); ++c)
            r.in_[static_cast<std::size_t>(c)] = true;
        return r;
    }
    constexpr CharSet operator|(const CharSet& o) const {
        CharSet r;
        for (std::size_t i = 0; i < in_.size(); ++i)
            r.in_[i] = in_[i] || o.in_[i];
        return r;
    }
    constexpr bool operator()(char c) const { return in_[static_cast<unsigned char>(c)]; }
};

namespace charset {
inline constexpr CharSet kAlpha = CharSet::range('a', 'z') | CharSet::range('A', 'Z');
inline constexpr CharSet kDigit = CharSet::range('0', '9');
inline constexpr CharSet kAlnum = kAlpha | kDigit;
inline constexpr CharSet kHex = kDigit | CharSet::range('a', 'f') | CharSet::range('A', 'F');
// mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
inline constexpr CharSet kUnreserved = kAlnum | CharSet("-_.!~*'()");
// reserved = ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / ","
inline constexpr CharSet kReserved = CharSet(";/?:@&=+$,");
// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
inline constexpr CharSet kToken = kAlnum | CharSet("-.!%*_+`'~");
// word (Call-ID, RFC 3261 25.1): token characters plus ( ) < > : \ " / [ ] ? { }
inline constexpr CharSet kWord = kToken | CharSet("()<>:\\\"/[]?{}");
// What the list walk below looks at: quotes, escapes, angle brackets, commas.
inline constexpr CharSet kListSpecial = CharSet("\"\\<>,");
}  // namespace charset

constexpr bool is_alpha(char c) {
    return charset::kAlpha(c);
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
constexpr bool is_alnum(char c) {
    return charset::kAlnum(c);
}
constexpr bool is_hex(char c) {
    return charset::kHex(c);
}
// WSP: the SP / HTAB that LWS is made of once folding is undone (RFC 3261 25.1).
constexpr bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

constexpr bool is_unreserved(char c) {
    return charset::kUnreserved(c);
}
constexpr bool is_reserved(char c) {
    return charset::kReserved(c);
}
constexpr bool is_token_char(char c) {
    return charset::kToken(c);
}
// Non-empty and made of token characters only.
bool is_token(std::string_view s);

constexpr bool is_word_char(char c) {
    return charset::kWord(c);
}

constexpr char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
// ASCII case-insensitive equality (names, schemes, hosts, tokens).
// Inline: called for every name compared, mostly with a literal whose
// length then settles most mismatches at once, and mostly with the same
// spelling (a stored canonical name and the literal asked for): eight
// octets at a time while they are equal exactly, then octet by octet.
inline bool iequals(std::string_view a, std::string_view b) {
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        uint64_t y;
        std::memcpy(&x, a.data() + i, 8);
        std::memcpy(&y, b.data() + i, 8);
        if (x != y) break;
    }
    for (; i < n; ++i)
        if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}
std::string to_lower(std::string_view s);

// `s` without leading and trailing SP / HTAB.
inline std::string_view trim_lws(std::string_view s) {
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && is_wsp(s[b]))
        ++b;
    while (e > b && is_wsp(s[e - 1]))
        --e;
    return s.substr(b, e - b);
}
// First index at or after `pos` that is not SP / HTAB (s.size() at the end).
inline std::size_t skip_wsp(std::string_view s, std::size_t pos) {
    while (pos < s.size() && is_wsp(s[pos]))
        ++pos;
    return pos;
}

// A quoted-string starting at s[pos] == '"' (RFC 3261 25.1: qdtext and
// quoted-pair). Result: the index just past the closing quote, or npos when
// the string is unterminated or holds a byte that neither qdtext nor a
// quoted-pair allows (a control character other than HTAB, a lone CR or LF).
std::size_t scan_quoted(std::string_view s, std::size_t pos);
// The text between the quotes of a quoted-string with its quoted-pairs undone
// ("a \"b\"" -> a "b"). `inner` is what scan_quoted delimited, quotes excluded.
std::string unquote(std::string_view inner);
// The inverse: `text` with '"' and '\' escaped as quoted-pairs, ready to go
// between quotes. CR and LF cannot be quoted (RFC 3261 25.1) and are dropped.
std::string quote(std::string_view text);

// Every '%' in `s` starts an escaped = "%" HEXDIG HEXDIG.
bool valid_escapes(std::string_view s);
// `s` with each escape of a character outside `reserved` decoded and each
// remaining escape in upper case: two texts are equivalent in the sense of
// RFC 3261 19.1.4 ("characters other than those in the reserved set are
// equivalent to their % HEX HEX encoding") exactly when these are equal.
// Expects valid_escapes(s).
std::string normalize_escapes(std::string_view s);
// `s` with every escape decoded (for showing or comparing a user part the
// way an application sees it); invalid escapes are copied as they are.
std::string unescape(std::string_view s);

// 1*DIGIT with no sign and no space, at most `max`. Leading zeros are fine.
// nullopt when empty, not all digits, or above `max` (never overflows).
using text::parse_uint;  // text/decimal.hpp

// The elements of a header field value that is a comma-separated list (RFC
// 3261 7.3.1), each trimmed of LWS. Commas inside a quoted-string or between
// < and > do not separate. Empty elements (",,", a trailing ",", an empty
// value) are skipped, as RFC 7230 7 asks of HTTP list recipients: they carry
// no value, and a field made only of them has none (validate.hpp rejects
// such a field). The views point into `value`.
std::vector<std::string_view> split_list(std::string_view value);

// The same elements, in order, given one by one to `element` (a callable
// taking a std::string_view and returning true to go on, false to stop),
// without building a vector: for the lookups that run several times per
// message. Returns false when `element` stopped it.
template <typename F>
bool for_each_list_element(std::string_view value, F&& element) {
    const auto give = [&](std::string_view e) {
        e = trim_lws(e);
        return e.empty() || element(e);
    };
    std::size_t start = 0;
    bool in_quotes = false;
    int angle = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (!charset::kListSpecial(c)) continue;  // most octets
        if (in_quotes) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_quotes = false;
        } else if (c == '"') {
            in_quotes = true;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>') {
            if (angle > 0) --angle;
        } else if (c == ',' && angle == 0) {
            if (!give(value.substr(start, i - start))) return false;
            start = i + 1;
        }
    }
    return start >= value.size() || give(value.substr(start));
}

}  // namespace isthmus::sip
