// Builds one STUN message (RFC 8489) into a caller's buffer, attribute by
// attribute: the serializing half of ice/stun.hpp, used by the binding
// responder and by tests. No allocation; the header's length field is kept
// current after every attribute, which is what MESSAGE-INTEGRITY and
// FINGERPRINT need (RFC 8489 14.5, 14.7).
//
// Failure is sticky: an attribute that does not fit the buffer (or the 16-bit
// length field) is not written and every later call does nothing; finish()
// then returns 0. Thread-safety: a writer and its buffer belong to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ice/integrity.hpp"
#include "ice/stun.hpp"

namespace isthmus::ice {

class MessageWriter {
  public:
    // Starts a message of `type` (message_type(method, class)) with the
    // transaction id transaction_id[0, 12) in out[0, cap). The id is copied
    // with memmove, so it may already sit at out + 8 (a response built over
    // its request). Fails (ok() false) when cap < 20.
    MessageWriter(uint8_t* out, std::size_t cap, uint16_t type, const uint8_t* transaction_id);

    // An attribute of `len` value octets (value may be null when len is 0),
    // padded to a multiple of 4 with `pad` octets (RFC 8489 14: any value;
    // 0 unless a test reproduces someone else's bytes).
    void add(uint16_t type, const uint8_t* value, std::size_t len, uint8_t pad = 0);
    void add_text(uint16_t type, std::string_view text, uint8_t pad = 0);
    void add_u32(uint16_t type, uint32_t v);  // PRIORITY
    void add_u64(uint16_t type, uint64_t v);  // ICE-CONTROLLING / ICE-CONTROLLED
    // XOR-MAPPED-ADDRESS (RFC 8489 14.2) of `a`; fails when a.family is
    // neither 4 nor 6.
    void add_xor_address(uint16_t type, const TransportAddress& a);
    // ERROR-CODE (RFC 8489 14.8); fails unless 300 <= code <= 699.
    void add_error_code(uint16_t code, std::string_view reason);
    // UNKNOWN-ATTRIBUTES (RFC 8489 14.9) listing types[0, n).
    void add_unknown_attributes(const uint16_t* types, std::size_t n);
    // MESSAGE-INTEGRITY over everything written so far (RFC 8489 14.5).
    void add_message_integrity(const IntegrityKey& key);
    // MESSAGE-INTEGRITY-SHA256, untruncated (32 octets) (RFC 8489 14.6).
    void add_message_integrity_sha256(const IntegrityKey& key);
    // FINGERPRINT (RFC 8489 14.7): must be the last attribute added.
    void add_fingerprint();

    bool ok() const { return ok_; }
    // Octets written so far (header included).
    std::size_t size() const { return len_; }
    // The message's length in octets, or 0 when any call failed.
    std::size_t finish() const { return ok_ ? len_ : 0; }

  private:
    // Writes an attribute header for `len` value octets plus padding, updates
    // the length field, and returns where the value goes (nullptr: failed).
    uint8_t* reserve(uint16_t type, std::size_t len, uint8_t pad);

    uint8_t* out_;
    std::size_t cap_;
    std::size_t len_ = 0;
    bool ok_ = false;
};

}  // namespace isthmus::ice
