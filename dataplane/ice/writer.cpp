#include "ice/writer.hpp"

#include <cstring>

#include "ice/fingerprint.hpp"

namespace isthmus::ice {

namespace {

void store16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void store32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

constexpr std::size_t kMaxBody = 0xFFFC;  // largest length field that is a multiple of 4

}  // namespace

MessageWriter::MessageWriter(uint8_t* out, std::size_t cap, uint16_t type,
                             const uint8_t* transaction_id)
    : out_(out), cap_(cap) {
    if (cap < kHeaderLen) return;
    std::memmove(out + 8, transaction_id, kTransactionIdLen);
    store16(out, static_cast<uint16_t>(type & 0x3FFF));
    store16(out + 2, 0);
    store32(out + 4, kMagicCookie);
    len_ = kHeaderLen;
    ok_ = true;
}

uint8_t* MessageWriter::reserve(uint16_t type, std::size_t len, uint8_t pad) {
    if (!ok_) return nullptr;
    const std::size_t padded = (len + 3) & ~std::size_t{3};
    if (len > 0xFFFF || 4 + padded > cap_ - len_ || len_ - kHeaderLen + 4 + padded > kMaxBody) {
        ok_ = false;
        return nullptr;
    }
    uint8_t* p = out_ + len_;
    store16(p, type);
    store16(p + 2, static_cast<uint16_t>(len));
    std::memset(p + 4 + len, pad, padded - len);
    len_ += 4 + padded;
    store16(out_ + 2, static_cast<uint16_t>(len_ - kHeaderLen));
    return p + 4;
}

void MessageWriter::add(uint16_t type, const uint8_t* value, std::size_t len, uint8_t pad) {
    uint8_t* v = reserve(type, len, pad);
    if (v != nullptr && len != 0) std::memcpy(v, value, len);
}

void MessageWriter::add_text(uint16_t type, std::string_view text, uint8_t pad) {
    add(type, reinterpret_cast<const uint8_t*>(text.data()), text.size(), pad);
}

void MessageWriter::add_u32(uint16_t type, uint32_t v) {
    if (uint8_t* p = reserve(type, 4, 0); p != nullptr) store32(p, v);
}

void MessageWriter::add_u64(uint16_t type, uint64_t v) {
    if (uint8_t* p = reserve(type, 8, 0); p != nullptr) {
        store32(p, static_cast<uint32_t>(v >> 32));
        store32(p + 4, static_cast<uint32_t>(v));
    }
}

void MessageWriter::add_xor_address(uint16_t type, const TransportAddress& a) {
    if (a.family != 4 && a.family != 6) {
        ok_ = false;
        return;
    }
    const std::size_t n = a.family == 4 ? 4 : 16;
    uint8_t* p = reserve(type, 4 + n, 0);
    if (p == nullptr) return;
    // RFC 8489 14.2: family 0x01/0x02; port XOR the cookie's top half;
    // address XOR the cookie (and, for IPv6, the transaction id): header
    // octets 4.., already written.
    p[0] = 0;
    p[1] = a.family == 4 ? 0x01 : 0x02;
    store16(p + 2, static_cast<uint16_t>(a.port ^ (kMagicCookie >> 16)));
    for (std::size_t i = 0; i < n; ++i)
        p[4 + i] = static_cast<uint8_t>(a.addr[i] ^ out_[4 + i]);
}

void MessageWriter::add_error_code(uint16_t code, std::string_view reason) {
    if (code < 300 || code > 699) {
        ok_ = false;
        return;
    }
    uint8_t* p = reserve(attr::kErrorCode, 4 + reason.size(), 0);
    if (p == nullptr) return;
    p[0] = 0;
    p[1] = 0;
    p[2] = static_cast<uint8_t>(code / 100);
    p[3] = static_cast<uint8_t>(code % 100);
    if (!reason.empty()) std::memcpy(p + 4, reason.data(), reason.size());
}

void MessageWriter::add_unknown_attributes(const uint16_t* types, std::size_t n) {
    uint8_t* p = reserve(attr::kUnknownAttributes, 2 * n, 0);
    if (p == nullptr) return;
    for (std::size_t i = 0; i < n; ++i)
        store16(p + 2 * i, types[i]);
}

void MessageWriter::add_message_integrity(const IntegrityKey& key) {
    const std::size_t prefix = len_;
    uint8_t* p = reserve(attr::kMessageIntegrity, kMessageIntegrityLen, 0);
    if (p == nullptr) return;
    stun_hmac_sha1(key, out_, prefix, static_cast<uint16_t>(len_ - kHeaderLen), p);
}

void MessageWriter::add_message_integrity_sha256(const IntegrityKey& key) {
    const std::size_t prefix = len_;
    uint8_t* p = reserve(attr::kMessageIntegritySha256, kMessageIntegritySha256Len, 0);
    if (p == nullptr) return;
    stun_hmac_sha256(key, out_, prefix, static_cast<uint16_t>(len_ - kHeaderLen), p);
}

void MessageWriter::add_fingerprint() {
    const std::size_t prefix = len_;
    uint8_t* p = reserve(attr::kFingerprint, 4, 0);
    if (p == nullptr) return;
    store32(p, stun_fingerprint(out_, prefix));
}

}  // namespace isthmus::ice
