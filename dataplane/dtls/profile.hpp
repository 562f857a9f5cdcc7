// DTLS-SRTP protection profiles (RFC 5764 4.1.2, RFC 7714 14.2) and the SRTP
// suites they key, with the key export layout (RFC 5764 4.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "srtp/suite.hpp"

namespace isthmus::dtls {

struct SrtpProfile {
    uint16_t id;            // use_srtp value on the wire
    std::string_view name;  // OpenSSL's (and RFC 5764's) name
    srtp::Suite suite;      // the SRTP/SRTCP transform it selects
};

// In our order of preference (the server picks the first the client also
// offers): GCM first, as browsers prefer it and it costs less per packet.
inline constexpr SrtpProfile kSrtpProfiles[] = {
    {0x0007, "SRTP_AEAD_AES_128_GCM", srtp::Suite::AeadAes128Gcm},
    {0x0008, "SRTP_AEAD_AES_256_GCM", srtp::Suite::AeadAes256Gcm},
    {0x0001, "SRTP_AES128_CM_SHA1_80", srtp::Suite::AesCm128HmacSha1_80},
    {0x0002, "SRTP_AES128_CM_SHA1_32", srtp::Suite::AesCm128HmacSha1_32},
};

// The OpenSSL profile list string of every profile above, in that order.
inline constexpr std::string_view kSrtpProfileList =
    "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32";

constexpr std::optional<SrtpProfile> profile_by_id(unsigned long id) {
    for (const auto& p : kSrtpProfiles)
        if (p.id == id) return p;
    return std::nullopt;
}

constexpr std::optional<SrtpProfile> profile_by_name(std::string_view name) {
    for (const auto& p : kSrtpProfiles)
        if (p.name == name) return p;
    return std::nullopt;
}

}  // namespace isthmus::dtls
