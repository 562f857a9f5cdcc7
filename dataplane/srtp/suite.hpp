// SRTP protection profiles supported by the engine and their parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace isthmus::srtp {

enum class Suite : uint8_t {
    AesCm128HmacSha1_80,  // RFC 3711 / RFC 4568 AES_CM_128_HMAC_SHA1_80
    AesCm128HmacSha1_32,  // RFC 4568 AES_CM_128_HMAC_SHA1_32 (SRTCP keeps an 80-bit tag)
    AesCm256HmacSha1_80,  // RFC 6188 AES_256_CM_HMAC_SHA1_80
    AesCm256HmacSha1_32,  // RFC 6188 AES_256_CM_HMAC_SHA1_32
    AeadAes128Gcm,        // RFC 7714 AEAD_AES_128_GCM (16-octet tag)
    AeadAes256Gcm,        // RFC 7714 AEAD_AES_256_GCM (16-octet tag)
};
inline constexpr int kSuiteCount = 6;

struct SuiteInfo {
    std::string_view name;     // the RFC's name, as SDP a=crypto and the benches spell it
    uint8_t master_key_len;    // octets
    uint8_t master_salt_len;   // octets: 14 for AES-CM, 12 for GCM (RFC 7714 8.1)
    uint8_t session_salt_len;  // octets: same as master_salt_len
    uint8_t rtp_tag_len;       // octets appended to SRTP packets
    uint8_t rtcp_tag_len;      // octets appended to SRTCP packets (before/after index, see RFCs)
    bool aead;                 // GCM: no separate auth key, the tag covers AAD + ciphertext
};

constexpr SuiteInfo suite_info(Suite s) {
    switch (s) {
        case Suite::AesCm128HmacSha1_80:
            return {"AES_CM_128_HMAC_SHA1_80", 16, 14, 14, 10, 10, false};
        case Suite::AesCm128HmacSha1_32:
            return {"AES_CM_128_HMAC_SHA1_32", 16, 14, 14, 4, 10, false};
        case Suite::AesCm256HmacSha1_80:
            return {"AES_256_CM_HMAC_SHA1_80", 32, 14, 14, 10, 10, false};
        case Suite::AesCm256HmacSha1_32:
            return {"AES_256_CM_HMAC_SHA1_32", 32, 14, 14, 4, 10, false};
        case Suite::AeadAes128Gcm:
            return {"AEAD_AES_128_GCM", 16, 12, 12, 16, 16, true};
        case Suite::AeadAes256Gcm:
            return {"AEAD_AES_256_GCM", 32, 12, 12, 16, 16, true};
    }
    return {"?", 0, 0, 0, 0, 0, false};
}

// The suite with this RFC name ("AES_CM_128_HMAC_SHA1_80"), if we support it.
std::optional<Suite> suite_from_name(std::string_view name);

// Every supported suite, in enum order (for tests and benches).
inline constexpr Suite kAllSuites[kSuiteCount] = {
    Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32, Suite::AesCm256HmacSha1_80,
    Suite::AesCm256HmacSha1_32, Suite::AeadAes128Gcm,       Suite::AeadAes256Gcm,
};

}  // namespace isthmus::srtp
