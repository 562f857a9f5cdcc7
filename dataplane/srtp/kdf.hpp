// SRTP key derivation (RFC 3711 4.3, key derivation rate 0) with the AES-CM
// PRF of RFC 3711 4.3.3 (AES-128) and RFC 6188 (AES-256), also used by the
// GCM suites (RFC 7714 11).
//
// Setup path only: runs when a context is created, uses OpenSSL's AES, may
// be called from any thread. Pure: no state, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "srtp/suite.hpp"

namespace isthmus::srtp {

// RFC 3711 4.3.1 / 4.3.2 labels.
enum class KdfLabel : uint8_t {
    RtpCipher = 0x00,
    RtpAuth = 0x01,
    RtpSalt = 0x02,
    RtcpCipher = 0x03,
    RtcpAuth = 0x04,
    RtcpSalt = 0x05,
};

// Session keys of one direction-independent half (SRTP or SRTCP).
// Only the leading octets named by the suite are meaningful.
struct SessionKeys {
    std::array<uint8_t, 32> cipher_key{};  // suite_info().master_key_len octets
    std::array<uint8_t, 14> salt{};        // suite_info().session_salt_len octets
    std::array<uint8_t, 20> auth_key{};    // HMAC-SHA1 key (unused by GCM)
};

struct SessionKeySet {
    SessionKeys rtp;
    SessionKeys rtcp;
};

// The AES-CM PRF: out = AES-CTR keystream under master_key starting at
// ((label || 0^48) XOR master_salt) * 2^16. master_key is 16 or 32 octets;
// master_salt is up to 14 octets, right-padded with zeros to 14 (so a
// 12-octet GCM master salt gives RFC 7714 11's input).
// Returns false (and leaves out untouched) for an unsupported key length.
bool aes_cm_prf(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt,
                uint8_t label, std::span<uint8_t> out);

// Derives all six session values for a suite. Returns false when the key or
// salt length does not match the suite.
bool derive_session_keys(Suite suite, std::span<const uint8_t> master_key,
                         std::span<const uint8_t> master_salt, SessionKeySet& out);

}  // namespace isthmus::srtp
