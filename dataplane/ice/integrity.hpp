// STUN MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 14.5) and
// MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, RFC 8489 14.6) with the key's HMAC
// pads hashed once, at setup (RFC 2104: the hash states after key ^ ipad and
// key ^ opad), so a message costs its own blocks plus one outer block.
//
// The hashing is OpenSSL's SHA-1 / SHA-256 block functions (SHA-NI where the
// CPU has it) driven through the low-level SHA1_* / SHA256_* calls, which can
// start from a saved state: no EVP context, no allocation, no locks. Those
// calls are deprecated in OpenSSL 3 but present in every 3.x build; they are
// confined to integrity.cpp.
//
// Thread-safety: an IntegrityKey is immutable after construction; any number
// of threads may use one at once. The functions have no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ice/stun.hpp"

namespace isthmus::ice {

// The HMAC key of one credential, precomputed for both hashes (104 octets).
class IntegrityKey {
  public:
    // No key: every check against it fails (empty() is true).
    IntegrityKey() = default;

    // The key octets key[0, len): for the short-term mechanism (ICE) the
    // password (RFC 8489 9.1.1; ICE passwords are ice-chars, which OpaqueString
    // leaves as they are); for the long-term one MD5(username ":" realm ":"
    // password) (RFC 8489 9.2.2), computed by the caller. Keys longer than a
    // block are hashed first (RFC 2104 2). Setup path: a few microseconds.
    static IntegrityKey from_octets(const uint8_t* key, std::size_t len);
    // from_octets over the password's octets (an ICE-lite leg's local ice-pwd).
    static IntegrityKey short_term(std::string_view password);

    bool empty() const { return empty_; }

  private:
    friend void stun_hmac_sha1(const IntegrityKey&, const uint8_t*, std::size_t, uint16_t,
                               uint8_t*);
    friend void stun_hmac_sha256(const IntegrityKey&, const uint8_t*, std::size_t, uint16_t,
                                 uint8_t*);
    uint32_t sha1_inner_[5] = {};  // SHA-1 chaining value after key ^ ipad
    uint32_t sha1_outer_[5] = {};  // ... after key ^ opad
    uint32_t sha256_inner_[8] = {};
    uint32_t sha256_outer_[8] = {};
    bool empty_ = true;
};

// HMAC-SHA1 of the message prefix msg[0, n) (n >= 20: the header and the
// attributes before MESSAGE-INTEGRITY) read as if the header's length field
// were `length` (RFC 8489 14.5: the length counts up to and including
// MESSAGE-INTEGRITY, whatever follows it). Writes 20 octets to `mac`, which
// may not overlap msg[0, n). An empty key gives an unspecified `mac`.
void stun_hmac_sha1(const IntegrityKey& key, const uint8_t* msg, std::size_t n, uint16_t length,
                    uint8_t* mac);

// The same with HMAC-SHA256 (RFC 8489 14.6); writes 32 octets.
void stun_hmac_sha256(const IntegrityKey& key, const uint8_t* msg, std::size_t n, uint16_t length,
                      uint8_t* mac);

// Whether the parsed message `m` (parse_message Ok or MalformedAttribute
// with the integrity attributes well formed) of msg is authenticated by
// `key`: MESSAGE-INTEGRITY-SHA256 when present (its 16..32 octets compared),
// else MESSAGE-INTEGRITY (RFC 8489 9.1.3). False when neither is present,
// when the present one is of a wrong size, or when the key is empty.
// Compares in constant time.
bool verify_integrity(const uint8_t* msg, const Message& m, const IntegrityKey& key);

}  // namespace isthmus::ice
