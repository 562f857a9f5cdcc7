// The SHA1_* / SHA256_* calls are deprecated in OpenSSL 3 (not removed): they
// are the only OpenSSL calls that resume a hash from a saved chaining value
// without an allocating EVP context (see integrity.hpp).
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "ice/integrity.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace isthmus::ice {

namespace {

constexpr std::size_t kBlock = 64;  // SHA-1 and SHA-256 block size

// A context that has hashed exactly one block and holds `state`.
SHA_CTX sha1_resume(const uint32_t (&state)[5]) {
    SHA_CTX c;
    std::memset(&c, 0, sizeof c);
    c.h0 = state[0];
    c.h1 = state[1];
    c.h2 = state[2];
    c.h3 = state[3];
    c.h4 = state[4];
    c.Nl = kBlock * 8;
    return c;
}

SHA256_CTX sha256_resume(const uint32_t (&state)[8]) {
    SHA256_CTX c;
    std::memset(&c, 0, sizeof c);
    std::memcpy(c.h, state, sizeof state);
    c.Nl = kBlock * 8;
    c.md_len = SHA256_DIGEST_LENGTH;
    return c;
}

void pad_block(const uint8_t* key, std::size_t len, uint8_t x, uint8_t (&block)[kBlock]) {
    std::memset(block, x, kBlock);
    for (std::size_t i = 0; i < len; ++i)
        block[i] = static_cast<uint8_t>(key[i] ^ x);
}

// The header with its length field replaced.
void patched_header(const uint8_t* msg, uint16_t length, uint8_t (&hdr)[kHeaderLen]) {
    std::memcpy(hdr, msg, kHeaderLen);
    hdr[2] = static_cast<uint8_t>(length >> 8);
    hdr[3] = static_cast<uint8_t>(length);
}

}  // namespace

IntegrityKey IntegrityKey::from_octets(const uint8_t* key, std::size_t len) {
    IntegrityKey k;
    uint8_t block[kBlock];

    uint8_t k1[SHA_DIGEST_LENGTH];
    const uint8_t* key1 = key;
    std::size_t len1 = len;
    if (len1 > kBlock) {
        SHA1(key, len, k1);
        key1 = k1;
        len1 = sizeof k1;
    }
    SHA_CTX c1;
    SHA1_Init(&c1);
    pad_block(key1, len1, 0x36, block);
    SHA1_Update(&c1, block, kBlock);
    const uint32_t inner1[5] = {c1.h0, c1.h1, c1.h2, c1.h3, c1.h4};
    SHA1_Init(&c1);
    pad_block(key1, len1, 0x5c, block);
    SHA1_Update(&c1, block, kBlock);
    const uint32_t outer1[5] = {c1.h0, c1.h1, c1.h2, c1.h3, c1.h4};
    std::memcpy(k.sha1_inner_, inner1, sizeof inner1);
    std::memcpy(k.sha1_outer_, outer1, sizeof outer1);

    uint8_t k256[SHA256_DIGEST_LENGTH];
    const uint8_t* key256 = key;
    std::size_t len256 = len;
    if (len256 > kBlock) {
        SHA256(key, len, k256);
        key256 = k256;
        len256 = sizeof k256;
    }
    SHA256_CTX c256;
    SHA256_Init(&c256);
    pad_block(key256, len256, 0x36, block);
    SHA256_Update(&c256, block, kBlock);
    std::memcpy(k.sha256_inner_, c256.h, sizeof k.sha256_inner_);
    SHA256_Init(&c256);
    pad_block(key256, len256, 0x5c, block);
    SHA256_Update(&c256, block, kBlock);
    std::memcpy(k.sha256_outer_, c256.h, sizeof k.sha256_outer_);

    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(k1, sizeof k1);
    OPENSSL_cleanse(k256, sizeof k256);
    k.empty_ = false;
    return k;
}

IntegrityKey IntegrityKey::short_term(std::string_view password) {
    return from_octets(reinterpret_cast<const uint8_t*>(password.data()), password.size());
}

void stun_hmac_sha1(const IntegrityKey& key, const uint8_t* msg, std::size_t n, uint16_t length,
                    uint8_t* mac) {
    uint8_t hdr[kHeaderLen];
    patched_header(msg, length, hdr);
    uint8_t inner[SHA_DIGEST_LENGTH];
    SHA_CTX c = sha1_resume(key.sha1_inner_);
    SHA1_Update(&c, hdr, kHeaderLen);
    SHA1_Update(&c, msg + kHeaderLen, n - kHeaderLen);
    SHA1_Final(inner, &c);
    c = sha1_resume(key.sha1_outer_);
    SHA1_Update(&c, inner, sizeof inner);
    SHA1_Final(mac, &c);
}

void stun_hmac_sha256(const IntegrityKey& key, const uint8_t* msg, std::size_t n, uint16_t length,
                      uint8_t* mac) {
    uint8_t hdr[kHeaderLen];
    patched_header(msg, length, hdr);
    uint8_t inner[SHA256_DIGEST_LENGTH];
    SHA256_CTX c = sha256_resume(key.sha256_inner_);
    SHA256_Update(&c, hdr, kHeaderLen);
    SHA256_Update(&c, msg + kHeaderLen, n - kHeaderLen);
    SHA256_Final(inner, &c);
    c = sha256_resume(key.sha256_outer_);
    SHA256_Update(&c, inner, sizeof inner);
    SHA256_Final(mac, &c);
}

bool verify_integrity(const uint8_t* msg, const Message& m, const IntegrityKey& key) {
    if (key.empty()) return false;
    // Both attributes start 4 octets after their header; the length field
    // covers the message up to the end of the attribute checked.
    if (m.message_integrity_sha256.present()) {
        const AttributeRef a = m.message_integrity_sha256;
        if (a.len < 16 || a.len > kMessageIntegritySha256Len || a.len % 4 != 0) return false;
        const std::size_t prefix = a.offset - 4;
        uint8_t mac[kMessageIntegritySha256Len];
        stun_hmac_sha256(key, msg, prefix, static_cast<uint16_t>(a.offset + a.len - kHeaderLen),
                         mac);
        return CRYPTO_memcmp(mac, msg + a.offset, a.len) == 0;
    }
    if (m.message_integrity.present()) {
        const AttributeRef a = m.message_integrity;
        if (a.len != kMessageIntegrityLen) return false;
        uint8_t mac[kMessageIntegrityLen];
        stun_hmac_sha1(key, msg, a.offset - 4,
                       static_cast<uint16_t>(a.offset + kMessageIntegrityLen - kHeaderLen), mac);
        return CRYPTO_memcmp(mac, msg + a.offset, kMessageIntegrityLen) == 0;
    }
    return false;
}

}  // namespace isthmus::ice
