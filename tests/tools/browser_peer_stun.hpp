// browser_peer_stun.hpp: browser_peer's own small STUN codec (RFC 8489
// binding requests and responses, the RFC 8445 ICE attributes, RFC 7675
// consent). browser_peer stands for the browser in tests of the dataplane's
// ICE-lite code, so nothing here comes from dataplane/: an independent
// encoder and decoder, HMAC-SHA1 from OpenSSL, CRC-32 from its own table.
// Pure functions on bytes: no sockets, no clock.
#pragma once

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace browser_peer::stun {

constexpr uint32_t kMagicCookie = 0x2112A442;  // RFC 8489 5
constexpr std::size_t kHeader = 20;
constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kBindingError = 0x0111;

// Attribute types: RFC 8489 18.3, RFC 8445 16.1.
constexpr uint16_t kUsername = 0x0006;
constexpr uint16_t kMessageIntegrity = 0x0008;
constexpr uint16_t kErrorCode = 0x0009;
constexpr uint16_t kXorMappedAddress = 0x0020;
constexpr uint16_t kPriority = 0x0024;
constexpr uint16_t kUseCandidate = 0x0025;
constexpr uint16_t kFingerprint = 0x8028;
constexpr uint16_t kIceControlling = 0x802A;

constexpr uint32_t kFingerprintXor = 0x5354554e;  // RFC 8489 14.7
constexpr std::size_t kIntegrityLen = 20;         // HMAC-SHA1

using TransactionId = std::array<uint8_t, 12>;

inline uint16_t get16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t get32(const uint8_t* p) {
    return uint32_t{get16(p)} << 16 | get16(p + 2);
}
inline void put16(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t* p, uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v);
}

// CRC-32 of ISO 3309 / ITU-T V.42 (reflected polynomial 0xEDB88320), as
// FINGERPRINT requires (RFC 8489 14.7).
inline uint32_t crc32(const uint8_t* p, std::size_t n) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    uint32_t c = 0xFFFFFFFFU;
    for (std::size_t i = 0; i < n; ++i)
        c = table[(c ^ p[i]) & 0xFFU] ^ (c >> 8);
    return c ^ 0xFFFFFFFFU;
}

// HMAC-SHA1 with the short-term credential key (the ICE password, RFC 8489 9.1.1).
inline std::array<uint8_t, kIntegrityLen> hmac_sha1(std::string_view key, const uint8_t* p,
                                                    std::size_t n) {
    std::array<uint8_t, kIntegrityLen> mac{};
    unsigned int len = 0;
    HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), p, n, mac.data(), &len);
    return mac;
}

// Builds one message: header, then attributes in the order they are added;
// MESSAGE-INTEGRITY and FINGERPRINT last (RFC 8489 14.5, 14.7).
class Writer {
  public:
    Writer(uint16_t type, const TransactionId& id) : b_(kHeader) {
        put16(b_.data(), type);
        put32(b_.data() + 4, kMagicCookie);
        std::memcpy(b_.data() + 8, id.data(), id.size());
        id_ = id;
    }

    void add(uint16_t type, const void* value, std::size_t len) {
        const std::size_t at = b_.size();
        b_.resize(at + 4 + ((len + 3) & ~std::size_t{3}), 0);
        put16(b_.data() + at, type);
        put16(b_.data() + at + 2, static_cast<uint32_t>(len));
        if (len != 0) std::memcpy(b_.data() + at + 4, value, len);
        set_length();
    }
    void add_string(uint16_t type, std::string_view s) { add(type, s.data(), s.size()); }
    void add_u32(uint16_t type, uint32_t v) {
        uint8_t x[4];
        put32(x, v);
        add(type, x, sizeof x);
    }
    void add_u64(uint16_t type, uint64_t v) {
        uint8_t x[8];
        put32(x, static_cast<uint32_t>(v >> 32));
        put32(x + 4, static_cast<uint32_t>(v));
        add(type, x, sizeof x);
    }
    // RFC 8489 14.2: port xor the cookie's top half, address xor cookie (||id).
    void add_xor_address(const sockaddr_storage& sa) {
        uint8_t x[20] = {};
        uint8_t mask[16];
        put32(mask, kMagicCookie);
        std::memcpy(mask + 4, id_.data(), id_.size());
        if (sa.ss_family == AF_INET) {
            sockaddr_in s4{};
            std::memcpy(&s4, &sa, sizeof s4);
            x[1] = 0x01;
            put16(x + 2, ntohs(s4.sin_port) ^ (kMagicCookie >> 16));
            std::memcpy(x + 4, &s4.sin_addr, 4);
            for (int i = 0; i < 4; ++i)
                x[4 + i] ^= mask[i];
            add(kXorMappedAddress, x, 8);
        } else {
            sockaddr_in6 s6{};
            std::memcpy(&s6, &sa, sizeof s6);
            x[1] = 0x02;
            put16(x + 2, ntohs(s6.sin6_port) ^ (kMagicCookie >> 16));
            std::memcpy(x + 4, &s6.sin6_addr, 16);
            for (int i = 0; i < 16; ++i)
                x[4 + i] ^= mask[i];
            add(kXorMappedAddress, x, 20);
        }
    }
    // RFC 8489 14.5: HMAC over the message so far, the length field already
    // counting the MESSAGE-INTEGRITY attribute.
    void add_integrity(std::string_view key) {
        const std::size_t at = b_.size();
        put16(b_.data() + 2, static_cast<uint32_t>(at + 4 + kIntegrityLen - kHeader));
        const auto mac = hmac_sha1(key, b_.data(), at);
        add(kMessageIntegrity, mac.data(), mac.size());
    }
    // RFC 8489 14.7: CRC-32 of the message so far (length counting FINGERPRINT).
    void add_fingerprint() {
        const std::size_t at = b_.size();
        put16(b_.data() + 2, static_cast<uint32_t>(at + 8 - kHeader));
        add_u32(kFingerprint, crc32(b_.data(), at) ^ kFingerprintXor);
    }
    const std::vector<uint8_t>& bytes() const { return b_; }

  private:
    void set_length() { put16(b_.data() + 2, static_cast<uint32_t>(b_.size() - kHeader)); }

    std::vector<uint8_t> b_;
    TransactionId id_{};
};

// What browser_peer reads from a message. Offsets are of the attribute
// header (0: attribute absent).
struct Message {
    uint16_t type = 0;
    TransactionId id{};
    std::optional<std::string> username;
    std::optional<sockaddr_storage> xor_mapped;
    int error_code = 0;
    bool use_candidate = false;
    std::size_t integrity_at = 0;
    std::size_t fingerprint_at = 0;
    bool fingerprint_ok = false;  // present, last, and the CRC matches
};

// RFC 8489 5 and 14: a well-formed message or nothing. Attributes after
// MESSAGE-INTEGRITY other than FINGERPRINT are ignored (14.5); FINGERPRINT
// must be the last attribute (14.7).
inline std::optional<Message> parse(const uint8_t* b, std::size_t n) {
    if (n < kHeader || (b[0] & 0xC0) != 0 || get32(b + 4) != kMagicCookie) return std::nullopt;
    if (get16(b + 2) + kHeader != n || (n & 3U) != 0) return std::nullopt;
    Message m;
    m.type = get16(b);
    std::memcpy(m.id.data(), b + 8, m.id.size());
    std::size_t at = kHeader;
    while (at < n) {
        if (n - at < 4) return std::nullopt;
        const uint16_t type = get16(b + at);
        const std::size_t len = get16(b + at + 2);
        const std::size_t padded = (len + 3) & ~std::size_t{3};
        if (n - at - 4 < padded) return std::nullopt;
        const uint8_t* v = b + at + 4;
        if (m.fingerprint_at != 0) return std::nullopt;  // something after FINGERPRINT
        if (type == kFingerprint) {
            if (len != 4) return std::nullopt;
            m.fingerprint_at = at;
            // Last attribute: the length field (checked against n) counts it.
            m.fingerprint_ok = at + 8 == n && (crc32(b, at) ^ kFingerprintXor) == get32(v);
        } else if (m.integrity_at != 0) {
            // ignored (RFC 8489 14.5)
        } else if (type == kMessageIntegrity) {
            if (len != kIntegrityLen) return std::nullopt;
            m.integrity_at = at;
        } else if (type == kUsername) {
            m.username.emplace(reinterpret_cast<const char*>(v), len);
        } else if (type == kUseCandidate) {
            m.use_candidate = true;
        } else if (type == kErrorCode) {
            if (len < 4) return std::nullopt;
            m.error_code = (v[2] & 0x07) * 100 + v[3];  // RFC 8489 14.8
        } else if (type == kXorMappedAddress) {
            if (len < 4) return std::nullopt;
            const auto port = static_cast<uint16_t>(get16(v + 2) ^ (kMagicCookie >> 16));
            uint8_t mask[16];
            put32(mask, kMagicCookie);
            std::memcpy(mask + 4, m.id.data(), m.id.size());
            sockaddr_storage sa{};
            if (v[1] == 0x01 && len == 8) {
                sockaddr_in s4{};
                s4.sin_family = AF_INET;
                s4.sin_port = htons(port);
                uint8_t a[4];
                for (int i = 0; i < 4; ++i)
                    a[i] = v[4 + i] ^ mask[i];
                std::memcpy(&s4.sin_addr, a, 4);
                std::memcpy(&sa, &s4, sizeof s4);
            } else if (v[1] == 0x02 && len == 20) {
                sockaddr_in6 s6{};
                s6.sin6_family = AF_INET6;
                s6.sin6_port = htons(port);
                uint8_t a[16];
                for (int i = 0; i < 16; ++i)
                    a[i] = v[4 + i] ^ mask[i];
                std::memcpy(&s6.sin6_addr, a, 16);
                std::memcpy(&sa, &s6, sizeof s6);
            } else {
                return std::nullopt;
            }
            m.xor_mapped = sa;
        }
        at += 4 + padded;
    }
    return m;
}

// RFC 8489 14.5: MESSAGE-INTEGRITY present and the HMAC keyed with `key`
// over the message up to it (length field counting it) matches.
inline bool integrity_ok(const uint8_t* b, const Message& m, std::string_view key) {
    if (m.integrity_at == 0) return false;
    std::vector<uint8_t> copy(b, b + m.integrity_at);
    put16(copy.data() + 2, static_cast<uint32_t>(m.integrity_at + 4 + kIntegrityLen - kHeader));
    const auto mac = hmac_sha1(key, copy.data(), copy.size());
    return CRYPTO_memcmp(mac.data(), b + m.integrity_at + 4, kIntegrityLen) == 0;
}

}  // namespace browser_peer::stun
