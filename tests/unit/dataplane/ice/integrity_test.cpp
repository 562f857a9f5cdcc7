// HMAC-SHA1/SHA256 with precomputed pads (ice/integrity.hpp) against RFC 2202
// / RFC 4231 and against OpenSSL's one-shot HMAC(); CRC-32 (ice/fingerprint.hpp)
// against its check value and a bit-at-a-time reference.
#include "ice/integrity.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>
#include <string>
#include <vector>

#include "hex.hpp"
#include "ice/fingerprint.hpp"

namespace isthmus::ice {
namespace {

using isthmus::test::to_hex;

const uint8_t* bytes(std::string_view s) {
    return reinterpret_cast<const uint8_t*>(s.data());
}

// Octets 2-3 of `data` as the "length field": the HMAC is then plain HMAC.
uint16_t length_of(std::string_view data) {
    return static_cast<uint16_t>(static_cast<uint8_t>(data[2]) << 8 |
                                 static_cast<uint8_t>(data[3]));
}

TEST(Hmac, Rfc2202AndRfc4231TestCase2) {
    const std::string_view data = "what do ya want for nothing?";  // 28 octets
    const IntegrityKey key = IntegrityKey::short_term("Jefe");
    uint8_t mac1[20];
    stun_hmac_sha1(key, bytes(data), data.size(), length_of(data), mac1);
    EXPECT_EQ(to_hex(mac1, 20), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    uint8_t mac256[32];
    stun_hmac_sha256(key, bytes(data), data.size(), length_of(data), mac256);
    EXPECT_EQ(to_hex(mac256, 32),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, Rfc4231TestCase6KeyLongerThanABlock) {
    const std::string key(131, '\xaa');
    const std::string_view data = "Test Using Larger Than Block-Size Key - Hash Key First";
    uint8_t mac[32];
    stun_hmac_sha256(IntegrityKey::short_term(key), bytes(data), data.size(), length_of(data), mac);
    EXPECT_EQ(to_hex(mac, 32), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    // RFC 2202 test case 6: 80 octets of 0xaa, same data.
    uint8_t mac1[20];
    stun_hmac_sha1(IntegrityKey::short_term(std::string(80, '\xaa')), bytes(data), data.size(),
                   length_of(data), mac1);
    EXPECT_EQ(to_hex(mac1, 20), "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

// Random keys (0..200 octets: shorter, equal and longer than a block) and
// messages (20..300 octets, every block remainder), the length field
// replaced: the same as OpenSSL's HMAC() over the patched copy.
TEST(Hmac, MatchesOpenSslWithThePatchedLength) {
    std::mt19937 rng(5769);
    for (int round = 0; round < 2000; ++round) {
        std::vector<uint8_t> key(rng() % 201), msg(20 + rng() % 281);
        for (auto& b : key)
            b = static_cast<uint8_t>(rng());
        for (auto& b : msg)
            b = static_cast<uint8_t>(rng());
        const auto length = static_cast<uint16_t>(rng());
        std::vector<uint8_t> patched = msg;
        patched[2] = static_cast<uint8_t>(length >> 8);
        patched[3] = static_cast<uint8_t>(length);
        const IntegrityKey k = IntegrityKey::from_octets(key.data(), key.size());
        ASSERT_FALSE(k.empty());

        uint8_t ours1[20], theirs1[20];
        unsigned int n = 0;
        stun_hmac_sha1(k, msg.data(), msg.size(), length, ours1);
        ASSERT_NE(HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), patched.data(),
                       patched.size(), theirs1, &n),
                  nullptr);
        ASSERT_EQ(to_hex(ours1, 20), to_hex(theirs1, 20)) << round;

        uint8_t ours256[32], theirs256[32];
        stun_hmac_sha256(k, msg.data(), msg.size(), length, ours256);
        ASSERT_NE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), patched.data(),
                       patched.size(), theirs256, &n),
                  nullptr);
        ASSERT_EQ(to_hex(ours256, 32), to_hex(theirs256, 32)) << round;
    }
}

TEST(IntegrityKey, DefaultIsEmpty) {
    EXPECT_TRUE(IntegrityKey{}.empty());
    EXPECT_FALSE(IntegrityKey::short_term("").empty());  // an empty password is still a key
}

uint32_t crc32_bitwise(const std::vector<uint8_t>& v) {
    uint32_t c = 0xFFFFFFFFu;
    for (uint8_t b : v) {
        c ^= b;
        for (int i = 0; i < 8; ++i)
            c = (c & 1u) != 0 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

TEST(Crc32, CheckValueAndContinuation) {
    const std::string_view check = "123456789";
    EXPECT_EQ(crc32(bytes(check), check.size()), 0xCBF43926u);
    EXPECT_EQ(crc32(nullptr, 0), 0u);
    const uint32_t head = crc32(bytes(check), 4);
    EXPECT_EQ(crc32(bytes(check) + 4, 5, head), 0xCBF43926u);
}

TEST(Crc32, MatchesTheBitwiseReferenceAtEveryLength) {
    std::mt19937 rng(7);
    for (std::size_t n = 0; n < 300; ++n) {
        std::vector<uint8_t> v(n);
        for (auto& b : v)
            b = static_cast<uint8_t>(rng());
        ASSERT_EQ(crc32(v.data(), v.size()), crc32_bitwise(v)) << n;
    }
}

}  // namespace
}  // namespace isthmus::ice
