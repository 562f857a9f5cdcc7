#include "sip/grammar.hpp"

namespace isthmus::sip {

namespace {

int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

char decode_escape(char hi, char lo) {
    return static_cast<char>(hex_value(hi) * 16 + hex_value(lo));
}

constexpr char kUpperHex[] = "0123456789ABCDEF";

}  // namespace

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_token_char(c)) return false;
    return true;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = ascii_lower(c);
    return out;
}

std::size_t scan_quoted(std::string_view s, std::size_t pos) {
    if (pos >= s.size() || s[pos] != '"') return std::string_view::npos;
    for (std::size_t i = pos + 1; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"') return i + 1;
        if (c == '\\') {
            // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
            if (i + 1 >= s.size()) return std::string_view::npos;
            const auto n = static_cast<unsigned char>(s[i + 1]);
            if (n > 0x7F || n == '\r' || n == '\n') return std::string_view::npos;
            ++i;
            continue;
        }
        // qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
        if (c < 0x20 && c != '\t') return std::string_view::npos;
        if (c == 0x7F) return std::string_view::npos;
    }
    return std::string_view::npos;
}

std::string unquote(std::string_view inner) {
    std::string out;
    out.reserve(inner.size());
    for (std::size_t i = 0; i < inner.size(); ++i) {
        if (inner[i] == '\\' && i + 1 < inner.size()) ++i;
        out.push_back(inner[i]);
    }
    return out;
}

std::string quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    for (char c : text) {
        if (c == '\r' || c == '\n') continue;
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\' || (u < 0x20 && c != '\t') || u == 0x7F) out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

bool valid_escapes(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') continue;
        if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
        i += 2;
    }
    return true;
}

std::string normalize_escapes(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            const char d = decode_escape(s[i + 1], s[i + 2]);
            if (is_reserved(d)) {
                const auto u = static_cast<unsigned char>(d);
                out.push_back('%');
                out.push_back(kUpperHex[u >> 4]);
                out.push_back(kUpperHex[u & 0xF]);
            } else {
                out.push_back(d);
            }
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            out.push_back(decode_escape(s[i + 1], s[i + 2]));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::vector<std::string_view> split_list(std::string_view value) {
    std::vector<std::string_view> out;
    for_each_list_element(value, [&out](std::string_view e) {
        out.push_back(e);
        return true;
    });
    return out;
}

}  // namespace isthmus::sip
