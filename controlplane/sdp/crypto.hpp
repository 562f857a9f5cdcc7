// a=crypto (RFC 4568 9.1, SDES): SRTP keys in the SDP of an RTP/SAVP(F)
// stream, as IMS access networks without DTLS use them.
//
//   crypto = tag 1*WSP crypto-suite 1*WSP key-params *(1*WSP session-param)
//   tag = 1*9DIGIT          crypto-suite = 1*(ALPHA / DIGIT / "_")
//   key-params = key-param *(";" key-param)
//   key-param = key-method ":" key-info
//   inline key-info = key-salt ["|" lifetime] ["|" mki]   (RFC 4568 6.1)
//   key-salt = 1*(base64)   lifetime = ["2^"] 1*DIGIT
//   mki = mki-value ":" mki-length    mki-length = 1*3DIGIT (1..128)
//   session-param = 1*VCHAR   (KDR=, UNENCRYPTED_SRTP, FEC_ORDER=, WSH=, ...)
//
// `1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4`.
// A key method other than "inline" is kept with its key-info raw. The
// key-salt stays base64 as written; decode_base64 gives the octets
// (master key || master salt), whose length the suite decides (the caller
// checks it). An MKI value above 2**64 - 1 or a lifetime above 2**63
// packets is refused (SRTP's own limits are 2**48 and 2**31 packets).
//
// Pure functions; thread-safety: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace isthmus::sdp {

// The SRTP master key lifetime: `2^20` is {20, true}, `1048576` is
// {1048576, false}; kept in the form it was written.
struct CryptoLifetime {
    uint64_t value = 0;
    bool power_of_two = false;
    // The number of packets (2**value for a power of two).
    uint64_t packets() const { return power_of_two ? uint64_t{1} << value : value; }
    bool operator==(const CryptoLifetime&) const = default;
};

struct CryptoMki {
    uint64_t value = 0;
    uint8_t length = 1;  // octets of MKI in each packet, 1..128
    bool operator==(const CryptoMki&) const = default;
};

struct CryptoKey {
    std::string method = "inline";
    // inline: the base64 key||salt. Another method: its whole key-info.
    std::string key_salt;
    std::optional<CryptoLifetime> lifetime;  // inline only
    std::optional<CryptoMki> mki;            // inline only
    bool operator==(const CryptoKey&) const = default;
};

struct Crypto {
    uint32_t tag = 1;             // 1*9DIGIT: 0..999999999
    std::string suite;            // AES_CM_128_HMAC_SHA1_80, AEAD_AES_256_GCM, ... as written
    std::vector<CryptoKey> keys;  // at least one
    std::vector<std::string> session_params;  // as written, in order
    bool operator==(const Crypto&) const = default;
};

std::optional<Crypto> parse_crypto(std::string_view value);
std::string to_string(const Crypto& c);

// RFC 4648 4 base64 with the standard alphabet; padding optional on decode
// (but only at the end, and never more than the data allows), always written
// on encode. nullopt on any other character.
std::optional<std::vector<uint8_t>> decode_base64(std::string_view text);
std::string encode_base64(std::span<const uint8_t> octets);

}  // namespace isthmus::sdp
