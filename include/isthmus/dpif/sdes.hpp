// SDES keying material for SrtpKeys (RFC 4568 a=crypto): the crypto suites a
// Command may name, a strict base64 codec (RFC 4648 section 4), and the parser
// of "<SUITE> inline:<key||salt>" that fills one direction's SrtpKeys.
//
// Header-only, no DPDK: the control plane (isthmus-pcscf, isthmus-ctl) builds
// Commands with it. Every function is pure: no I/O, no globals, no locks, so
// any thread may call any of them at any time. Setup-path code: the parsers
// report errors as a message for the operator, not as a status enum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "isthmus/dpif/messages.hpp"

namespace isthmus::dpif {

// The value of SrtpKeys::suite. Numerically equal to isthmus::srtp::Suite
// (dataplane/srtp/suite.hpp), which the dataplane casts it to; a test pins
// the two lists together.
enum class SdesSuite : uint8_t {
    AesCm128HmacSha1_80 = 0,  // RFC 4568 6.2.1 AES_CM_128_HMAC_SHA1_80
    AesCm128HmacSha1_32 = 1,  // RFC 4568 6.2.2 AES_CM_128_HMAC_SHA1_32
    AesCm256HmacSha1_80 = 2,  // RFC 6188 7.1 AES_256_CM_HMAC_SHA1_80
    AesCm256HmacSha1_32 = 3,  // RFC 6188 7.1 AES_256_CM_HMAC_SHA1_32
    AeadAes128Gcm = 4,        // RFC 7714 12.2 AEAD_AES_128_GCM
    AeadAes256Gcm = 5,        // RFC 7714 12.2 AEAD_AES_256_GCM
};
inline constexpr int kSdesSuiteCount = 6;

// Every SDES suite, in enum order.
inline constexpr SdesSuite kAllSdesSuites[kSdesSuiteCount] = {
    SdesSuite::AesCm128HmacSha1_80, SdesSuite::AesCm128HmacSha1_32, SdesSuite::AesCm256HmacSha1_80,
    SdesSuite::AesCm256HmacSha1_32, SdesSuite::AeadAes128Gcm,       SdesSuite::AeadAes256Gcm,
};

struct SdesSuiteInfo {
    std::string_view name;    // as SDP a=crypto spells it
    uint8_t master_key_len;   // octets
    uint8_t master_salt_len;  // octets: 14 for AES-CM, 12 for GCM (RFC 7714 8.1)
};

// Name and master key/salt lengths of `s`.
// Result: {"?", 0, 0} for a value outside the enum (e.g. a cast from a wire
// byte). Thread-safe (constexpr, pure).
constexpr SdesSuiteInfo sdes_suite_info(SdesSuite s) {
    switch (s) {
        case SdesSuite::AesCm128HmacSha1_80:
            return {"AES_CM_128_HMAC_SHA1_80", 16, 14};
        case SdesSuite::AesCm128HmacSha1_32:
            return {"AES_CM_128_HMAC_SHA1_32", 16, 14};
        case SdesSuite::AesCm256HmacSha1_80:
            return {"AES_256_CM_HMAC_SHA1_80", 32, 14};
        case SdesSuite::AesCm256HmacSha1_32:
            return {"AES_256_CM_HMAC_SHA1_32", 32, 14};
        case SdesSuite::AeadAes128Gcm:
            return {"AEAD_AES_128_GCM", 16, 12};
        case SdesSuite::AeadAes256Gcm:
            return {"AEAD_AES_256_GCM", 32, 12};
    }
    return {"?", 0, 0};
}

namespace detail {

constexpr char ascii_upper(char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
    }
    return true;
}

// RFC 4648 table 1; -1 for a character outside the alphabet ('=' included).
constexpr int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

inline std::string printable(char c) {
    if (c >= 0x21 && c <= 0x7e) return std::string("'") + c + "'";
    static constexpr char hex[] = "0123456789abcdef";
    const auto u = static_cast<unsigned char>(c);
    return std::string("0x") + hex[u >> 4] + hex[u & 0xf];
}

}  // namespace detail

// The suite with this RFC name ("AES_CM_128_HMAC_SHA1_80").
// name: compared ignoring ASCII case (SDP's grammar is ABNF, whose quoted
//   strings are case-insensitive, RFC 5234 2.3); no surrounding spaces.
// Result: the suite, or nullopt for a name we do not support (F8, NULL
//   ciphers, the 2-/3-letter aliases of RFC 4568 drafts...).
// Thread-safe (constexpr, pure).
constexpr std::optional<SdesSuite> sdes_suite_from_name(std::string_view name) {
    for (SdesSuite s : kAllSdesSuites) {
        if (detail::iequals(sdes_suite_info(s).name, name)) return s;
    }
    return std::nullopt;
}

// RFC 4648 section 4 base64 of `data`, with '=' padding to a multiple of 4.
// Result: the text ("" for no data). Throws only std::bad_alloc.
// Thread-safe (pure).
inline std::string base64_encode(std::span<const uint8_t> data) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const uint32_t v = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8 | data[i + 2];
        out += kAlphabet[v >> 18 & 0x3f];
        out += kAlphabet[v >> 12 & 0x3f];
        out += kAlphabet[v >> 6 & 0x3f];
        out += kAlphabet[v & 0x3f];
    }
    const std::size_t rest = data.size() - i;
    if (rest > 0) {
        uint32_t v = uint32_t{data[i]} << 16;
        if (rest == 2) v |= uint32_t{data[i + 1]} << 8;
        out += kAlphabet[v >> 18 & 0x3f];
        out += kAlphabet[v >> 12 & 0x3f];
        out += rest == 2 ? kAlphabet[v >> 6 & 0x3f] : '=';
        out += '=';
    }
    return out;
}

// Strict RFC 4648 section 4 base64 decoding, as RFC 4568 key-params carry it.
// text: the encoded characters only (no line breaks, no spaces).
// Result: the octets ("" decodes to no octets), or nullopt when `text`
//   - has a length that is not a multiple of 4 (padding is required),
//   - holds a character outside A-Z a-z 0-9 + / (RFC 4648 3.3: rejected,
//     not skipped), or '=' anywhere but the last one or two positions,
//   - has non-zero bits under the padding (a non-canonical encoding,
//     RFC 4648 3.5).
// error: when non-null and the result is nullopt, receives why, naming the
//   offending character and its offset; untouched on success.
// Throws only std::bad_alloc. Thread-safe (pure).
inline std::optional<std::vector<uint8_t>> base64_decode(std::string_view text,
                                                         std::string* error = nullptr) {
    const auto fail = [error](std::string why) -> std::optional<std::vector<uint8_t>> {
        if (error != nullptr) *error = std::move(why);
        return std::nullopt;
    };
    if (text.size() % 4 != 0) {
        return fail("base64 length " + std::to_string(text.size()) +
                    " is not a multiple of 4 (padding '=' is required)");
    }
    std::size_t pad = 0;
    if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
    std::vector<uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const std::size_t data_chars = last ? 4 - pad : 4;
        uint32_t v = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            int d = 0;
            if (j < data_chars) {
                d = detail::base64_value(c);
                if (d < 0) {
                    return fail("bad base64 character " + detail::printable(c) + " at offset " +
                                std::to_string(i + j));
                }
            }
            v = v << 6 | static_cast<uint32_t>(d);
        }
        out.push_back(static_cast<uint8_t>(v >> 16));
        if (data_chars >= 3) out.push_back(static_cast<uint8_t>(v >> 8));
        if (data_chars == 4) out.push_back(static_cast<uint8_t>(v));
        if (last && pad > 0 && (v & (pad == 1 ? 0xffu : 0xffffu)) != 0) {
            return fail("base64 has non-zero bits under its padding (not canonical)");
        }
    }
    return out;
}

// One direction's keys from RFC 4568 9.1 text "<crypto-suite> inline:<key||salt>",
// e.g. "AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR".
// text: the suite and one key-params, separated by spaces or tabs; spaces
//   around are ignored; the suite name and "inline:" match ignoring case.
//   The key-params may end in "|<lifetime>" (RFC 4568 6.1: "2^31" or a
//   decimal count), which is checked for form and then ignored (the dataplane
//   rekeys nothing; the SRTP limit of 2^48 packets stands).
// out: on success, overwritten whole: suite, key_len, salt_len and the key
//   and salt octets, zero elsewhere. Untouched on failure.
// error: on failure, a message for the operator; untouched on success.
// Result: true on success. False, with the reason, for: an unknown suite; a
//   key method other than "inline"; bad base64 (see base64_decode); a decoded
//   length other than the suite's master key + salt length; an MKI part
//   ("|1:4": not supported); a malformed lifetime; more than one key-params
//   (';') or session parameters after the key (not supported).
// Throws only std::bad_alloc. Thread-safe (pure).
inline bool parse_sdes_inline(std::string_view text, SrtpKeys& out, std::string& error) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    const auto next_token = [&](std::string_view& rest) {
        while (!rest.empty() && is_space(rest.front()))
            rest.remove_prefix(1);
        std::size_t n = 0;
        while (n < rest.size() && !is_space(rest[n]))
            ++n;
        const std::string_view tok = rest.substr(0, n);
        rest.remove_prefix(n);
        return tok;
    };
    std::string_view rest = text;
    const std::string_view suite_name = next_token(rest);
    const std::string_view key_params = next_token(rest);
    const std::string_view extra = next_token(rest);
    if (suite_name.empty()) {
        error = "no SDES key given (expected \"<SUITE> inline:<base64 key||salt>\")";
        return false;
    }
    const std::optional<SdesSuite> suite = sdes_suite_from_name(suite_name);
    if (!suite) {
        error = "unknown or unsupported crypto suite '" + std::string(suite_name) +
                "' (supported: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, "
                "AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM, "
                "AEAD_AES_256_GCM)";
        return false;
    }
    const SdesSuiteInfo info = sdes_suite_info(*suite);
    constexpr std::string_view kInline = "inline:";
    if (key_params.empty()) {
        error = "no key after " + std::string(info.name) + " (expected inline:<base64 key||salt>)";
        return false;
    }
    if (key_params.size() < kInline.size() ||
        !detail::iequals(key_params.substr(0, kInline.size()), kInline)) {
        error = "key method of '" + std::string(key_params) +
                "' is not inline: (RFC 4568 6.1; the only method SDP SDES defines)";
        return false;
    }
    if (!extra.empty()) {
        error = "session parameters after the key are not supported ('" + std::string(extra) + "')";
        return false;
    }
    std::string_view params = key_params.substr(kInline.size());
    if (params.find(';') != std::string_view::npos) {
        error = "more than one key-params (';') is not supported";
        return false;
    }
    // key-info = key-salt ["|" lifetime] ["|" mki]  (RFC 4568 9.2)
    const std::string_view key_salt = params.substr(0, params.find('|'));
    params.remove_prefix(key_salt.size());
    while (!params.empty()) {
        params.remove_prefix(1);  // the '|'
        const std::string_view part = params.substr(0, params.find('|'));
        params.remove_prefix(part.size());
        if (part.find(':') != std::string_view::npos) {
            error = "MKI '|" + std::string(part) + "' is not supported (give the key without MKI)";
            return false;
        }
        // lifetime = ["2^"] 1*(DIGIT)
        std::string_view digits = part;
        if (digits.substr(0, 2) == "2^") digits.remove_prefix(2);
        bool ok = !digits.empty();
        for (char c : digits)
            ok = ok && c >= '0' && c <= '9';
        if (!ok) {
            error = "bad key lifetime '|" + std::string(part) + "' (expected 2^N or a number)";
            return false;
        }
    }
    std::string why;
    const std::optional<std::vector<uint8_t>> octets = base64_decode(key_salt, &why);
    if (!octets) {
        error = "key of " + std::string(info.name) + ": " + why;
        return false;
    }
    const std::size_t want = std::size_t{info.master_key_len} + info.master_salt_len;
    if (octets->size() != want) {
        error = "key||salt is " + std::to_string(octets->size()) + " octets; " +
                std::string(info.name) + " needs " + std::to_string(want) + " (" +
                std::to_string(info.master_key_len) + " key + " +
                std::to_string(info.master_salt_len) + " salt)";
        return false;
    }
    SrtpKeys keys{};
    static_assert(sizeof keys.master_key >= 32 && sizeof keys.master_salt >= 14);
    keys.suite = static_cast<uint8_t>(*suite);
    keys.key_len = info.master_key_len;
    keys.salt_len = info.master_salt_len;
    std::memcpy(keys.master_key, octets->data(), info.master_key_len);
    std::memcpy(keys.master_salt, octets->data() + info.master_key_len, info.master_salt_len);
    out = keys;
    return true;
}

// The inverse of parse_sdes_inline: "<SUITE> inline:<base64 key||salt>".
// keys: suite, key_len and salt_len must be those of a supported suite.
// Result: the text, or "" when `keys` names no supported suite or its lengths
//   are not the suite's. Throws only std::bad_alloc. Thread-safe (pure).
inline std::string format_sdes_inline(const SrtpKeys& keys) {
    if (keys.suite >= kSdesSuiteCount) return {};
    const SdesSuiteInfo info = sdes_suite_info(static_cast<SdesSuite>(keys.suite));
    if (keys.key_len != info.master_key_len || keys.salt_len != info.master_salt_len) return {};
    uint8_t octets[sizeof keys.master_key + sizeof keys.master_salt];
    std::memcpy(octets, keys.master_key, keys.key_len);
    std::memcpy(octets + keys.key_len, keys.master_salt, keys.salt_len);
    return std::string(info.name) + " inline:" +
           base64_encode(
               std::span<const uint8_t>(octets, std::size_t{keys.key_len} + keys.salt_len));
}

}  // namespace isthmus::dpif
