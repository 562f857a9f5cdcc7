// MessageWriter (ice/writer.hpp): the four RFC 5769 messages rebuilt octet
// for octet (their 0x20 padding included), parse -> write -> parse round
// trips, and the sticky failure when the buffer is too small.
#include "ice/writer.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "hex.hpp"
#include "stun_fixtures.hpp"

namespace isthmus::ice {
namespace {

using isthmus::test::to_hex;
using test::rfc5769;

const uint8_t kTxid21[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                             0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

TEST(MessageWriter, ReproducesRfc5769SampleRequest) {
    std::vector<uint8_t> buf(256);
    MessageWriter w(buf.data(), buf.size(), message_type(kMethodBinding, MessageClass::Request),
                    kTxid21);
    w.add_text(attr::kSoftware, "STUN test client");
    w.add_u32(attr::kPriority, 0x6e0001ff);
    w.add_u64(attr::kIceControlled, 0x932ff9b151263b36ULL);
    w.add_text(attr::kUsername, "evtj:h6vY", 0x20);
    w.add_message_integrity(IntegrityKey::short_term(test::kRfcPassword));
    w.add_fingerprint();
    ASSERT_TRUE(w.ok());
    buf.resize(w.finish());
    EXPECT_EQ(to_hex(buf), to_hex(rfc5769("RFC5769-2.1")));
}

void reproduce_response(const std::string& section, const TransportAddress& mapped) {
    std::vector<uint8_t> buf(256);
    MessageWriter w(buf.data(), buf.size(),
                    message_type(kMethodBinding, MessageClass::SuccessResponse), kTxid21);
    w.add_text(attr::kSoftware, "test vector", 0x20);
    w.add_xor_address(attr::kXorMappedAddress, mapped);
    w.add_message_integrity(IntegrityKey::short_term(test::kRfcPassword));
    w.add_fingerprint();
    ASSERT_TRUE(w.ok());
    buf.resize(w.finish());
    EXPECT_EQ(to_hex(buf), to_hex(rfc5769(section))) << section;
}

TEST(MessageWriter, ReproducesRfc5769SampleIpv4Response) {
    reproduce_response("RFC5769-2.2", test::rfc_ipv4_source());
}

TEST(MessageWriter, ReproducesRfc5769SampleIpv6Response) {
    reproduce_response("RFC5769-2.3", test::rfc_ipv6_source());
}

TEST(MessageWriter, ReproducesRfc5769LongTermRequest) {
    const uint8_t txid[12] = {0x78, 0xad, 0x34, 0x33, 0xc6, 0xad,
                              0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e};
    const std::string user =
        "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
    const std::string material = user + ":example.org:TheMatrIX";
    uint8_t key[16];
    unsigned int n = 0;
    ASSERT_EQ(EVP_Digest(material.data(), material.size(), key, &n, EVP_md5(), nullptr), 1);
    std::vector<uint8_t> buf(256);
    MessageWriter w(buf.data(), buf.size(), message_type(kMethodBinding, MessageClass::Request),
                    txid);
    w.add_text(attr::kUsername, user);
    w.add_text(attr::kNonce, "f//499k954d6OL34oL9FSTvy64sA");
    w.add_text(attr::kRealm, "example.org");
    w.add_message_integrity(IntegrityKey::from_octets(key, sizeof key));
    ASSERT_TRUE(w.ok());
    buf.resize(w.finish());
    EXPECT_EQ(to_hex(buf), to_hex(rfc5769("RFC5769-2.4")));
}

TEST(MessageWriter, RoundTripsThroughTheParser) {
    const uint16_t unknown16[3] = {0x0003, 0x7fff, 0x0040};
    std::vector<uint8_t> buf(512);
    const IntegrityKey key = IntegrityKey::short_term("a-password-of-22-chars");
    MessageWriter w(buf.data(), buf.size(),
                    message_type(kMethodBinding, MessageClass::ErrorResponse), kTxid21);
    w.add_error_code(420, "Unknown Attribute");
    w.add_unknown_attributes(unknown16, 3);
    w.add_u32(attr::kPriority, 7);
    w.add_u64(attr::kIceControlling, 0xfedcba9876543210ULL);
    w.add(attr::kUseCandidate, nullptr, 0);
    w.add_message_integrity(key);
    w.add_message_integrity_sha256(key);
    w.add_fingerprint();
    ASSERT_TRUE(w.ok());
    buf.resize(w.finish());
    EXPECT_EQ(buf.size() % 4, 0U);

    Message m;
    ASSERT_EQ(parse_message(buf.data(), buf.size(), m), Verdict::Ok);
    EXPECT_EQ(m.cls, MessageClass::ErrorResponse);
    EXPECT_EQ(m.length, buf.size() - kHeaderLen);
    uint16_t code = 0;
    std::string_view reason;
    ASSERT_TRUE(decode_error_code(buf.data(), m.error_code, code, reason));
    EXPECT_EQ(code, 420);
    EXPECT_EQ(reason, "Unknown Attribute");
    uint16_t types[8] = {};
    ASSERT_EQ(decode_unknown_attributes(buf.data(), m.unknown_attributes, types, 8), 3U);
    EXPECT_EQ(types[0], 0x0003);
    EXPECT_EQ(types[1], 0x7fff);
    EXPECT_EQ(types[2], 0x0040);
    EXPECT_EQ(m.priority, 7U);
    EXPECT_TRUE(m.ice_controlling);
    EXPECT_EQ(m.tie_breaker, 0xfedcba9876543210ULL);
    EXPECT_TRUE(m.use_candidate);
    EXPECT_EQ(m.message_integrity.len, 20);
    EXPECT_EQ(m.message_integrity_sha256.len, 32);
    EXPECT_TRUE(verify_integrity(buf.data(), m, key));  // the SHA-256 one
    Message sha1_only = m;
    sha1_only.message_integrity_sha256 = {};
    EXPECT_TRUE(verify_integrity(buf.data(), sha1_only, key));  // and the SHA-1 one
    EXPECT_FALSE(verify_integrity(buf.data(), m, IntegrityKey::short_term("another")));

    // Parse -> write -> parse: the attributes rewritten from the parsed
    // message give the same octets.
    std::vector<uint8_t> again(512);
    MessageWriter w2(again.data(), again.size(), m.type, m.transaction_id);
    w2.add_error_code(code, reason);
    w2.add_unknown_attributes(types, 3);
    w2.add_u32(attr::kPriority, m.priority);
    w2.add_u64(attr::kIceControlling, m.tie_breaker);
    w2.add(attr::kUseCandidate, nullptr, 0);
    w2.add_message_integrity(key);
    w2.add_message_integrity_sha256(key);
    w2.add_fingerprint();
    again.resize(w2.finish());
    EXPECT_EQ(to_hex(again), to_hex(buf));
}

TEST(MessageWriter, TooSmallABufferFailsAndWritesNothingPastIt) {
    // The full message, then every smaller buffer.
    auto build = [](uint8_t* out, std::size_t cap) {
        MessageWriter w(out, cap, message_type(kMethodBinding, MessageClass::SuccessResponse),
                        kTxid21);
        w.add_xor_address(attr::kXorMappedAddress, test::rfc_ipv6_source());
        w.add_text(attr::kSoftware, "abcde");
        w.add_message_integrity_sha256(IntegrityKey::short_term("pw"));
        w.add_fingerprint();
        return w.finish();
    };
    std::vector<uint8_t> full(256);
    const std::size_t n = build(full.data(), full.size());
    ASSERT_EQ(n, 20 + 24 + 12 + 36 + 8U);
    for (std::size_t cap = 0; cap < n; ++cap) {
        std::vector<uint8_t> buf(n + 16, 0xee);
        EXPECT_EQ(build(buf.data(), cap), 0U) << cap;
        for (std::size_t i = cap; i < buf.size(); ++i)
            ASSERT_EQ(buf[i], 0xee) << "cap " << cap << " octet " << i;
    }
    std::vector<uint8_t> exact(n);
    EXPECT_EQ(build(exact.data(), exact.size()), n);
    EXPECT_EQ(to_hex(exact), to_hex(full.data(), n));
}

TEST(MessageWriter, RefusesWhatItCannotEncode) {
    uint8_t buf[128];
    {
        MessageWriter w(buf, sizeof buf, 0x0101, kTxid21);
        TransportAddress none;  // family 0
        w.add_xor_address(attr::kXorMappedAddress, none);
        EXPECT_FALSE(w.ok());
        w.add_fingerprint();  // sticky: nothing more is written
        EXPECT_EQ(w.size(), kHeaderLen);
        EXPECT_EQ(w.finish(), 0U);
    }
    for (uint16_t code : std::initializer_list<uint16_t>{0, 299, 700}) {
        MessageWriter w(buf, sizeof buf, 0x0111, kTxid21);
        w.add_error_code(code, "x");
        EXPECT_FALSE(w.ok()) << code;
    }
    const std::vector<uint8_t> value(0x10000, 'v');
    {
        // A value longer than a length field can say.
        std::vector<uint8_t> big(70000);
        MessageWriter w(big.data(), big.size(), 0x0001, kTxid21);
        w.add(attr::kSoftware, value.data(), 0x10000);
        EXPECT_FALSE(w.ok());
    }
    {
        // A message longer than the header's length field can say.
        std::vector<uint8_t> big(70000);
        MessageWriter w(big.data(), big.size(), 0x0001, kTxid21);
        w.add(attr::kSoftware, value.data(), 0xfff0);
        EXPECT_TRUE(w.ok());
        w.add(attr::kSoftware, value.data(), 8);
        EXPECT_FALSE(w.ok());
    }
}

}  // namespace
}  // namespace isthmus::ice
