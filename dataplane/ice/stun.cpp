#include "ice/stun.hpp"

#include <cstring>

#include "ice/fingerprint.hpp"

namespace isthmus::ice {

namespace {

uint16_t load16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t load32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}
uint64_t load64(const uint8_t* p) {
    return static_cast<uint64_t>(load32(p)) << 32 | load32(p + 4);
}

// Comprehension-required types this codec knows (RFC 8489 18.3.1, RFC 8445
// 16.1); every other type below 0x8000 is reported as unknown.
bool known_required(uint16_t type) {
    switch (type) {
        case attr::kMappedAddress:
        case attr::kUsername:
        case attr::kMessageIntegrity:
        case attr::kErrorCode:
        case attr::kUnknownAttributes:
        case attr::kRealm:
        case attr::kNonce:
        case attr::kMessageIntegritySha256:
        case attr::kPasswordAlgorithm:
        case attr::kUserhash:
        case attr::kXorMappedAddress:
        case attr::kPriority:
        case attr::kUseCandidate:
            return true;
        default:
            return false;
    }
}

void set_ref(AttributeRef& ref, uint32_t offset, uint16_t len) {
    if (!ref.present()) ref = {offset, len};  // the first occurrence counts
}

// One attribute before MESSAGE-INTEGRITY(-SHA256): records it in `m`.
void take_attribute(Message& m, uint16_t type, const uint8_t* v, uint32_t offset, uint16_t len) {
    const auto malformed = [&m, type] {
        if (m.malformed_type == 0) m.malformed_type = type;
    };
    switch (type) {
        case attr::kUsername:
            set_ref(m.username, offset, len);
            break;
        case attr::kXorMappedAddress:
            set_ref(m.xor_mapped_address, offset, len);
            break;
        case attr::kErrorCode:
            set_ref(m.error_code, offset, len);
            break;
        case attr::kUnknownAttributes:
            set_ref(m.unknown_attributes, offset, len);
            break;
        case attr::kSoftware:
            set_ref(m.software, offset, len);
            break;
        case attr::kRealm:
            set_ref(m.realm, offset, len);
            break;
        case attr::kNonce:
            set_ref(m.nonce, offset, len);
            break;
        case attr::kPriority:  // RFC 8445 16.1: 32 bits
            if (len != 4) {
                malformed();
            } else if (!m.has_priority) {
                m.has_priority = true;
                m.priority = load32(v);
            }
            break;
        case attr::kUseCandidate:  // RFC 8445 16.1: no content
            if (len != 0)
                malformed();
            else
                m.use_candidate = true;
            break;
        case attr::kIceControlling:  // RFC 8445 16.1: 64-bit tie-breaker
        case attr::kIceControlled:
            if (len != 8) {
                malformed();
            } else {
                if (!m.ice_controlling && !m.ice_controlled) m.tie_breaker = load64(v);
                (type == attr::kIceControlling ? m.ice_controlling : m.ice_controlled) = true;
            }
            break;
        default:
            if (type < 0x8000 && !known_required(type)) {
                if (m.unknown_count < kMaxUnknown) m.unknown[m.unknown_count] = type;
                ++m.unknown_count;
            }
            break;
    }
}

}  // namespace

Verdict parse_message(const uint8_t* msg, std::size_t len, Message& out) {
    out = Message{};
    if (len < kHeaderLen || (msg[0] & 0xC0) != 0 || load32(msg + 4) != kMagicCookie)
        return Verdict::NotStun;
    out.type = load16(msg);
    out.method = method_of(out.type);
    out.cls = class_of(out.type);
    out.length = load16(msg + 2);
    std::memcpy(out.transaction_id, msg + 8, kTransactionIdLen);
    if (out.length % 4 != 0 || kHeaderLen + out.length != len) return Verdict::BadLength;

    // RFC 8489 14: type, length, value, padding to a multiple of 4. The
    // length field is a multiple of 4, so an attribute header always fits.
    bool after_mi = false;     // MESSAGE-INTEGRITY seen
    bool after_mi256 = false;  // MESSAGE-INTEGRITY-SHA256 seen
    std::size_t pos = kHeaderLen;
    while (pos < len) {
        if (out.fingerprint.present()) return Verdict::FingerprintNotLast;
        const uint16_t type = load16(msg + pos);
        const uint16_t alen = load16(msg + pos + 2);
        const std::size_t value = pos + 4;
        const std::size_t padded = (static_cast<std::size_t>(alen) + 3) & ~std::size_t{3};
        if (padded > len - value) return Verdict::BadAttribute;
        const auto offset = static_cast<uint32_t>(value);
        if (type == attr::kFingerprint) {
            if (alen != 4) return Verdict::BadFingerprint;
            out.fingerprint = {offset, alen};  // checked once known to be last
        } else if (type == attr::kMessageIntegritySha256 && !after_mi256) {
            // RFC 8489 14.6: 16 to 32 octets, a multiple of 4
            if (alen < 16 || alen > kMessageIntegritySha256Len || alen % 4 != 0) {
                if (out.malformed_type == 0) out.malformed_type = type;
            }
            out.message_integrity_sha256 = {offset, alen};
            after_mi256 = true;
        } else if (after_mi || after_mi256) {
            // RFC 8489 9: ignored after the integrity attribute(s)
        } else if (type == attr::kMessageIntegrity) {
            if (alen != kMessageIntegrityLen && out.malformed_type == 0) out.malformed_type = type;
            out.message_integrity = {offset, alen};
            after_mi = true;
        } else {
            take_attribute(out, type, msg + value, offset, alen);
        }
        pos = value + padded;
    }
    // RFC 8489 14.7: CRC-32 of everything before FINGERPRINT, the length
    // field (as received) already counting it.
    if (out.fingerprint.present() &&
        load32(msg + out.fingerprint.offset) != stun_fingerprint(msg, out.fingerprint.offset - 4))
        return Verdict::BadFingerprint;
    return out.malformed_type != 0 ? Verdict::MalformedAttribute : Verdict::Ok;
}

bool decode_xor_address(const uint8_t* msg, AttributeRef a, TransportAddress& out) {
    if (!a.present() || a.len < 4) return false;
    const uint8_t* v = msg + a.offset;
    const uint8_t family = v[1];
    const std::size_t n = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
    if (n == 0 || a.len != 4 + n) return false;
    // RFC 8489 14.2: port XOR the cookie's top 16 bits; the address XOR the
    // cookie (IPv4) or the cookie and transaction id (IPv6), i.e. octets 4..
    // of the header.
    out.family = family == 0x01 ? 4 : 6;
    out.port = static_cast<uint16_t>(load16(v + 2) ^ (kMagicCookie >> 16));
    std::memset(out.addr, 0, sizeof out.addr);
    for (std::size_t i = 0; i < n; ++i)
        out.addr[i] = static_cast<uint8_t>(v[4 + i] ^ msg[4 + i]);
    return true;
}

bool decode_error_code(const uint8_t* msg, AttributeRef a, uint16_t& code,
                       std::string_view& reason) {
    if (!a.present() || a.len < 4) return false;
    const uint8_t* v = msg + a.offset;
    const unsigned cls = v[2] & 0x07u;
    const unsigned number = v[3];
    if (cls < 3 || cls > 6 || number > 99) return false;
    code = static_cast<uint16_t>(cls * 100 + number);
    reason = {reinterpret_cast<const char*>(v + 4), static_cast<std::size_t>(a.len - 4)};
    return true;
}

std::size_t decode_unknown_attributes(const uint8_t* msg, AttributeRef a, uint16_t* types,
                                      std::size_t cap) {
    if (!a.present()) return 0;
    const std::size_t n = a.len / 2;
    for (std::size_t i = 0; i < n && i < cap; ++i)
        types[i] = load16(msg + a.offset + 2 * i);
    return n;
}

}  // namespace isthmus::ice
