// The property the WWSF JSON fuzzing checks, shared by the libFuzzer target
// (json_fuzz.cpp) and the CI regression test (json_fuzz_regress_test.cpp).
// The reader (wwsf/json.hpp) takes every request body the WWSF gets:
//
//  - parse_json_object returns an object, or nullopt with an error;
//  - an object has at most 64 members; every name and string value is
//    valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
//    U+10FFFF); a number is as RFC 8259 6 writes one, a literal is
//    true / false / null;
//  - the object written back (names and strings with json_quote, numbers
//    and literals as read) parses to the same object, and so does what
//    JsonWriter makes of its strings and booleans;
//  - json_quote of any octets is a string literal the reader takes back
//    exactly when the octets are valid UTF-8, to the same octets.
//
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wwsf/json.hpp"

namespace isthmus::wwsf::fuzz {

// RFC 3629 4's UTF8-octets.
inline bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (s.size() - i <= n) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = cp << 6 | (cc & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

// number = [ minus ] int [ frac ] [ exp ] (RFC 8259 6)
inline bool json_number(std::string_view s) {
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t from = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9')
            ++i;
        return i - from;
    };
    if (i < s.size() && s[i] == '-') ++i;
    if (i < s.size() && s[i] == '0') {
        ++i;
    } else if (digits() == 0) {
        return false;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (digits() == 0) return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (digits() == 0) return false;
    }
    return i == s.size();
}

inline bool same(const JsonObject& a, const JsonObject& b) {
    if (a.size() != b.size()) return false;
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
        if (i->first != j->first || i->second.kind != j->second.kind ||
            i->second.text != j->second.text)
            return false;
    return true;
}

inline std::string write_back(const JsonObject& o) {
    std::string out = "{";
    for (const auto& [name, value] : o) {
        if (out.size() > 1) out += ',';
        out += json_quote(name) + ":";
        out += value.kind == JsonScalar::Kind::String ? json_quote(value.text) : value.text;
    }
    return out + "}";
}

inline std::string check_object(const JsonObject& o) {
    if (o.size() > 64) return "more than 64 members";
    for (const auto& [name, value] : o) {
        if (!valid_utf8(name)) return "a member name is not UTF-8";
        switch (value.kind) {
            case JsonScalar::Kind::String:
                if (!valid_utf8(value.text)) return "a string value is not UTF-8";
                break;
            case JsonScalar::Kind::Number:
                if (!json_number(value.text)) return "a number not in RFC 8259 form";
                break;
            case JsonScalar::Kind::Bool:
                if (value.text != "true" && value.text != "false") return "a bad boolean";
                break;
            case JsonScalar::Kind::Null:
                if (value.text != "null") return "a bad null";
                break;
            default:
                return "an unknown kind";
        }
    }
    std::string error;
    const std::string text = write_back(o);
    const auto again = parse_json_object(text, error);
    if (!again) return "written back, it does not parse (" + error + "): " + text;
    if (!same(*again, o)) return "written back, it parses to another object: " + text;
    JsonWriter w;
    JsonObject kept;
    for (const auto& [name, value] : o) {
        if (value.kind == JsonScalar::Kind::String) {
            w.add(name, value.text);
            kept.emplace(name, value);
        } else if (value.kind == JsonScalar::Kind::Bool) {
            w.add(name, value.text == "true");
            kept.emplace(name, value);
        }
    }
    const auto written = parse_json_object(w.str(), error);
    if (!written || !same(*written, kept)) return "JsonWriter's object does not parse back";
    return "";
}

inline std::string check_input(std::string_view text) {
    std::string error;
    const auto o = parse_json_object(text, error);
    if (!o && error.empty()) return "refused without an error";
    if (o) {
        const std::string err = check_object(*o);
        if (!err.empty()) return err;
    }
    // The input as a string value.
    const std::string quoted = "{\"v\":" + json_quote(text) + "}";
    const auto q = parse_json_object(quoted, error);
    if (q.has_value() != valid_utf8(text))
        return q ? "json_quote of invalid UTF-8 parsed" : "json_quote of UTF-8 refused: " + error;
    if (q && (q->size() != 1 || q->begin()->second.text != text))
        return "json_quote does not come back as the same octets";
    return "";
}

}  // namespace isthmus::wwsf::fuzz
