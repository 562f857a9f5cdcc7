// STUN messages (RFC 8489) as the ICE-lite responder sees them: the header,
// the attribute walk with its bounds and padding rules, FINGERPRINT checked on
// the way, and where each attribute the responder needs sits in the message.
// Pure functions over bytes: no allocation, no state, no I/O; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ice/verdict.hpp"

namespace isthmus::ice {

inline constexpr uint32_t kMagicCookie = 0x2112A442;  // RFC 8489 5
inline constexpr std::size_t kHeaderLen = 20;
inline constexpr std::size_t kTransactionIdLen = 12;
inline constexpr uint16_t kMethodBinding = 0x001;        // RFC 8489 18.2
inline constexpr uint32_t kFingerprintXor = 0x5354554e;  // RFC 8489 14.7: "STUN"

// RFC 8489 5: the two class bits C1 C0.
enum class MessageClass : uint8_t {
    Request = 0,
    Indication = 1,
    SuccessResponse = 2,
    ErrorResponse = 3
};

// RFC 8489 5: method bits M11..M0 and class bits C1 C0 interleaved into the
// 14-bit message type.
constexpr uint16_t message_type(uint16_t method, MessageClass c) {
    const auto cls = static_cast<unsigned>(c);
    return static_cast<uint16_t>((method & 0x000Fu) | ((method & 0x0070u) << 1) |
                                 ((method & 0x0F80u) << 2) | ((cls & 1u) << 4) | ((cls & 2u) << 7));
}
constexpr uint16_t method_of(uint16_t type) {
    return static_cast<uint16_t>((type & 0x000Fu) | ((type >> 1) & 0x0070u) |
                                 ((type >> 2) & 0x0F80u));
}
constexpr MessageClass class_of(uint16_t type) {
    return static_cast<MessageClass>(((type >> 4) & 1u) | ((type >> 7) & 2u));
}

// Attribute types this codec knows (RFC 8489 18.3, RFC 8445 16.1). Types
// 0x0000-0x7FFF are comprehension-required: one not in this list makes the
// parser report it (Message::unknown).
namespace attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kPasswordAlgorithm = 0x001D;
inline constexpr uint16_t kUserhash = 0x001E;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;
inline constexpr uint16_t kUseCandidate = 0x0025;
// comprehension-optional (0x8000-0xFFFF)
inline constexpr uint16_t kPasswordAlgorithms = 0x8002;
inline constexpr uint16_t kAlternateDomain = 0x8003;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kAlternateServer = 0x8023;
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;
inline constexpr uint16_t kIceControlling = 0x802A;
}  // namespace attr

inline constexpr std::size_t kMessageIntegrityLen = 20;        // HMAC-SHA1 (RFC 8489 14.5)
inline constexpr std::size_t kMessageIntegritySha256Len = 32;  // untruncated (RFC 8489 14.6)
inline constexpr std::size_t kMaxUnknown = 8;  // unknown attributes kept per message

// Where one attribute's value sits in the message; offset 0 means absent
// (a value never starts before octet 24).
struct AttributeRef {
    uint32_t offset = 0;  // of the value, from the start of the message
    uint16_t len = 0;     // value length as in the attribute header (no padding)
    bool present() const { return offset != 0; }
};

// An IP transport address: what XOR-MAPPED-ADDRESS carries and what the
// packet parser reports as a datagram's source (pkt::Frame src/src_port).
struct TransportAddress {
    uint8_t family = 0;     // 4 or 6
    uint16_t port = 0;      // host byte order
    uint8_t addr[16] = {};  // network byte order; IPv4 in the first 4 octets
};

// A parsed message. Attributes after MESSAGE-INTEGRITY other than
// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, and after
// MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT, are walked for bounds but
// otherwise ignored (RFC 8489 9); of repeated attributes the first counts
// (RFC 8489 14).
struct Message {
    uint16_t type = 0;  // 14-bit message type
    uint16_t method = 0;
    MessageClass cls = MessageClass::Request;
    uint16_t length = 0;  // header length field: octets after the header
    uint8_t transaction_id[kTransactionIdLen] = {};

    AttributeRef username;
    AttributeRef message_integrity;         // value is 20 octets when Ok
    AttributeRef message_integrity_sha256;  // 16..32 octets, a multiple of 4, when Ok
    AttributeRef fingerprint;               // last, 4 octets, verified, when Ok
    AttributeRef xor_mapped_address;        // not validated: see decode_xor_address
    AttributeRef error_code;                // not validated: see decode_error_code
    AttributeRef unknown_attributes;
    AttributeRef software;
    AttributeRef realm;
    AttributeRef nonce;

    bool has_priority = false;
    bool use_candidate = false;
    bool ice_controlling = false;
    bool ice_controlled = false;
    uint32_t priority = 0;
    uint64_t tie_breaker = 0;  // of ICE-CONTROLLING or ICE-CONTROLLED (the first seen)

    // Verdict::MalformedAttribute: the first known attribute whose value has
    // the wrong size.
    uint16_t malformed_type = 0;
    // Comprehension-required attribute types this codec does not know, in
    // order of appearance: unknown_count of them, the first kMaxUnknown kept.
    uint16_t unknown_count = 0;
    uint16_t unknown[kMaxUnknown] = {};
};

// Parses the STUN message that is the whole of msg[0, len) (a UDP payload).
// Reads nothing outside it. Returns:
//   - Ok: every field of `out` set as above;
//   - NotStun: len < 20, the top two bits of the type not 0, or the magic
//     cookie not 0x2112A442 (out.type and the transaction id unset);
//   - BadLength: the length field not a multiple of 4 or not len - 20;
//   - BadAttribute: an attribute header, value or padding runs past the end;
//   - FingerprintNotLast: an attribute follows FINGERPRINT;
//   - BadFingerprint: FINGERPRINT is not 4 octets or its CRC-32 does not match;
//   - MalformedAttribute: the framing and FINGERPRINT (if any) are fine but a
//     known attribute has a value of the wrong size (MESSAGE-INTEGRITY not
//     20, MESSAGE-INTEGRITY-SHA256 not 16..32 in steps of 4, PRIORITY not 4,
//     USE-CANDIDATE not 0, ICE-CONTROLLING/-CONTROLLED not 8);
//     out.malformed_type names the first, the rest of `out` is set as for Ok.
// After NotStun/BadLength/BadAttribute/FingerprintNotLast/BadFingerprint the
// header fields of `out` may be set but nothing else is promised.
// Checks neither MESSAGE-INTEGRITY (that needs a key: verify_integrity in
// ice/integrity.hpp) nor whether the class and method make sense.
Verdict parse_message(const uint8_t* msg, std::size_t len, Message& out);

// A text attribute's value (USERNAME, SOFTWARE, REALM, NONCE, the reason of
// ERROR-CODE is separate), as the octets received; empty when absent.
inline std::string_view attribute_text(const uint8_t* msg, AttributeRef a) {
    if (!a.present()) return {};
    return {reinterpret_cast<const char*>(msg + a.offset), a.len};
}

// Decodes an XOR-MAPPED-ADDRESS (RFC 8489 14.2) of the message `msg` (whose
// transaction id masks IPv6 addresses). Returns false, `out` untouched, when
// the attribute is absent, its family is not 0x01 (IPv4, 8 octets) or 0x02
// (IPv6, 20 octets), or its length does not match the family.
bool decode_xor_address(const uint8_t* msg, AttributeRef a, TransportAddress& out);

// Decodes ERROR-CODE (RFC 8489 14.8): code = class * 100 + number. Returns
// false when absent, shorter than 4 octets, class not 3..6 or number > 99.
bool decode_error_code(const uint8_t* msg, AttributeRef a, uint16_t& code,
                       std::string_view& reason);

// Number of types in an UNKNOWN-ATTRIBUTES value (RFC 8489 14.9), the first
// up to `cap` copied into `types`; 0 when absent.
std::size_t decode_unknown_attributes(const uint8_t* msg, AttributeRef a, uint16_t* types,
                                      std::size_t cap);

}  // namespace isthmus::ice
