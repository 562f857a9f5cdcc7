#include "sdp/crypto.hpp"

#include <algorithm>
#include <array>

#include "sdp/grammar.hpp"

namespace isthmus::sdp {

namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (is_digit(c)) return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool is_suite_char(char c) {
    return is_alpha(c) || is_digit(c) || c == '_';
}

// lifetime = ["2^"] 1*DIGIT
std::optional<CryptoLifetime> parse_lifetime(std::string_view s) {
    if (s.starts_with("2^")) {
        const auto e = parse_uint(s.substr(2), 63);
        if (!e) return std::nullopt;
        return CryptoLifetime{*e, true};
    }
    const auto v = parse_uint(s, uint64_t{1} << 63);
    if (!v) return std::nullopt;
    return CryptoLifetime{*v, false};
}

// mki = mki-value ":" mki-length
std::optional<CryptoMki> parse_mki(std::string_view s) {
    const auto [value, length] = split_once(s, ':');
    const auto v = parse_uint(value, UINT64_MAX);
    if (!v || !length || length->size() > 3) return std::nullopt;
    const auto n = parse_uint(*length, 128);
    if (!n || *n == 0) return std::nullopt;
    return CryptoMki{*v, static_cast<uint8_t>(*n)};
}

std::optional<CryptoKey> parse_key_param(std::string_view s) {
    const auto [method, info] = split_once(s, ':');
    if (!is_token(method) || !info || info->empty()) return std::nullopt;
    CryptoKey k;
    k.method = std::string(method);
    if (!iequals(method, "inline")) {
        if (!is_visible_word(*info)) return std::nullopt;
        k.key_salt = std::string(*info);
        return k;
    }
    auto [key_salt, rest] = split_once(*info, '|');
    if (!decode_base64(key_salt) || key_salt.empty()) return std::nullopt;
    k.key_salt = std::string(key_salt);
    // ["|" lifetime] ["|" mki]: an MKI has a ':', a lifetime not.
    for (int part = 0; rest && part < 2; ++part) {
        const auto [field, next] = split_once(*rest, '|');
        if (field.find(':') != std::string_view::npos) {
            if (next) return std::nullopt;  // nothing after the MKI
            k.mki = parse_mki(field);
            if (!k.mki) return std::nullopt;
        } else {
            if (part != 0) return std::nullopt;  // lifetime first
            k.lifetime = parse_lifetime(field);
            if (!k.lifetime) return std::nullopt;
        }
        rest = next;
    }
    if (rest) return std::nullopt;
    return k;
}

}  // namespace

std::optional<Crypto> parse_crypto(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() < 3 || w[0].size() > 9) return std::nullopt;
    const auto tag = parse_uint(w[0], 999999999);
    if (!tag || w[1].empty() || !std::all_of(w[1].begin(), w[1].end(), is_suite_char))
        return std::nullopt;
    Crypto c;
    c.tag = static_cast<uint32_t>(*tag);
    c.suite = std::string(w[1]);
    std::optional<std::string_view> keys = w[2];
    while (keys) {
        const auto [one, rest] = split_once(*keys, ';');
        auto k = parse_key_param(one);
        if (!k) return std::nullopt;
        c.keys.push_back(std::move(*k));
        keys = rest;
    }
    for (std::size_t i = 3; i < w.size(); ++i) {
        if (!is_visible_word(w[i])) return std::nullopt;
        c.session_params.emplace_back(w[i]);
    }
    return c;
}

std::string to_string(const Crypto& c) {
    std::string out = std::to_string(c.tag) + ' ' + c.suite + ' ';
    for (std::size_t i = 0; i < c.keys.size(); ++i) {
        const CryptoKey& k = c.keys[i];
        if (i > 0) out += ';';
        out += k.method + ':' + k.key_salt;
        if (k.lifetime)
            out += '|' + std::string(k.lifetime->power_of_two ? "2^" : "") +
                   std::to_string(k.lifetime->value);
        if (k.mki) out += '|' + std::to_string(k.mki->value) + ':' + std::to_string(k.mki->length);
    }
    for (const std::string& p : c.session_params)
        out += ' ' + p;
    return out;
}

std::optional<std::vector<uint8_t>> decode_base64(std::string_view text) {
    std::size_t pad = 0;
    while (!text.empty() && text.back() == '=' && pad < 2) {
        text.remove_suffix(1);
        ++pad;
    }
    // With padding the whole must be a multiple of 4; a single trailing
    // character never makes an octet.
    if ((pad > 0 && (text.size() + pad) % 4 != 0) || text.size() % 4 == 1) return std::nullopt;
    std::vector<uint8_t> out;
    out.reserve(text.size() * 3 / 4);
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = base64_value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
        }
    }
    return out;
}

std::string encode_base64(std::span<const uint8_t> octets) {
    std::string out;
    out.reserve((octets.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < octets.size(); i += 3) {
        const uint32_t v =
            uint32_t{octets[i]} << 16 | uint32_t{octets[i + 1]} << 8 | uint32_t{octets[i + 2]};
        for (int s = 18; s >= 0; s -= 6)
            out += kBase64[(v >> s) & 0x3F];
    }
    if (i + 1 == octets.size()) {
        const uint32_t v = uint32_t{octets[i]} << 16;
        out += kBase64[(v >> 18) & 0x3F];
        out += kBase64[(v >> 12) & 0x3F];
        out += "==";
    } else if (i + 2 == octets.size()) {
        const uint32_t v = uint32_t{octets[i]} << 16 | uint32_t{octets[i + 1]} << 8;
        out += kBase64[(v >> 18) & 0x3F];
        out += kBase64[(v >> 12) & 0x3F];
        out += kBase64[(v >> 6) & 0x3F];
        out += '=';
    }
    return out;
}

}  // namespace isthmus::sdp
