// Certificate fingerprints as SDP writes them (RFC 8122 5: a=fingerprint:
// sha-256 AB:CD:...): the dataplane publishes its own in the region header,
// and a DTLS-SRTP leg carries the peer's (LegSpec::remote_fingerprint).
// Header-only, pure functions; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace isthmus::dpif {

using Sha256Fingerprint = std::array<uint8_t, 32>;

// "AB:CD:..." (upper-case hex pairs joined by colons, 95 characters).
inline std::string fingerprint_text(const Sha256Fingerprint& fp) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string s;
    s.reserve(fp.size() * 3);
    for (std::size_t i = 0; i < fp.size(); ++i) {
        if (i != 0) s += ':';
        s += kHex[fp[i] >> 4];
        s += kHex[fp[i] & 15];
    }
    return s;
}

// Parses "ab:cd:..." (either case, exactly 32 pairs); false on anything else
// (`out` unchanged).
inline bool parse_fingerprint(std::string_view text, Sha256Fingerprint& out) {
    const auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (text.size() != out.size() * 3 - 1) return false;
    Sha256Fingerprint fp{};
    for (std::size_t i = 0; i < fp.size(); ++i) {
        const std::size_t at = i * 3;
        if (i != 0 && text[at - 1] != ':') return false;
        const int hi = hex(text[at]);
        const int lo = hex(text[at + 1]);
        if (hi < 0 || lo < 0) return false;
        fp[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    out = fp;
    return true;
}

}  // namespace isthmus::dpif
