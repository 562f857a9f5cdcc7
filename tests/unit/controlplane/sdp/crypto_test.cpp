// a=crypto (sdp/crypto.hpp): RFC 4568's examples and what IMS UEs send
// (lifetimes, MKIs, several keys, session parameters, GCM and 256-bit
// suites), refusals, to_string -> parse, and base64 both ways.
#include "sdp/crypto.hpp"

#include <gtest/gtest.h>

namespace isthmus::sdp {
namespace {

void expect_reparses(const Crypto& c) {
    const auto again = parse_crypto(to_string(c));
    ASSERT_TRUE(again) << to_string(c);
    EXPECT_EQ(*again, c);
}

TEST(Crypto, Rfc4568Example) {
    // RFC 4568 4 (the key-salt of its example).
    const auto c = parse_crypto(
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->tag, 1U);
    EXPECT_EQ(c->suite, "AES_CM_128_HMAC_SHA1_80");
    ASSERT_EQ(c->keys.size(), 1U);
    const CryptoKey& k = c->keys[0];
    EXPECT_EQ(k.method, "inline");
    EXPECT_EQ(k.key_salt, "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    EXPECT_EQ(k.lifetime, (CryptoLifetime{20, true}));
    EXPECT_EQ(k.lifetime->packets(), 1U << 20);
    EXPECT_EQ(k.mki, (CryptoMki{1, 4}));
    EXPECT_TRUE(c->session_params.empty());
    const auto octets = decode_base64(k.key_salt);
    ASSERT_TRUE(octets);
    EXPECT_EQ(octets->size(), 30U);  // 16-octet key || 14-octet salt
    EXPECT_EQ(to_string(*c),
              "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4");
    expect_reparses(*c);
}

TEST(Crypto, VariantsImsUesSend) {
    // Lifetime only; MKI only; neither; decimal lifetime.
    EXPECT_EQ(parse_crypto(
                  "2 AES_CM_128_HMAC_SHA1_32 inline:AV9+a8Wur0g3JAieklLME7UJUaa2lBJSJ2XP9NeA|2^31")
                  ->keys[0]
                  .lifetime,
              (CryptoLifetime{31, true}));
    const auto mki_only = parse_crypto(
        "1 AES_CM_128_HMAC_SHA1_80 inline:arnx6499M4j0+dWG9m6Z/VQIDfLERvDlhmiwnAih|1:1");
    ASSERT_TRUE(mki_only);
    EXPECT_FALSE(mki_only->keys[0].lifetime);
    EXPECT_EQ(mki_only->keys[0].mki, (CryptoMki{1, 1}));
    const auto plain =
        parse_crypto("3 AEAD_AES_128_GCM inline:L1BSyf0VsZoYxYTQE2NWgZhhPww06EQJ73k4cA==");
    ASSERT_TRUE(plain);
    EXPECT_EQ(decode_base64(plain->keys[0].key_salt)->size(), 28U);  // 16 + 12
    const auto dec = parse_crypto(
        "1 AES_CM_128_HMAC_SHA1_80 inline:arnx6499M4j0+dWG9m6Z/VQIDfLERvDlhmiwnAih|1048576");
    EXPECT_EQ(dec->keys[0].lifetime, (CryptoLifetime{1048576, false}));
    expect_reparses(*dec);
    // Session parameters; a 256-bit suite; two keys (RFC 4568 6.1: MKIs).
    const auto sp = parse_crypto(
        "4 AES_256_CM_HMAC_SHA1_80 "
        "inline:Ex6cRpi0YdtA3ItKKPKriObgfgueK6/Rg8sKQmtrcABspCXxqDNhJvBjtVf1OA==  KDR=0 "
        "UNENCRYPTED_SRTCP");
    ASSERT_TRUE(sp);
    EXPECT_EQ(decode_base64(sp->keys[0].key_salt)->size(), 46U);  // 32 + 14
    EXPECT_EQ(sp->session_params, (std::vector<std::string>{"KDR=0", "UNENCRYPTED_SRTCP"}));
    expect_reparses(*sp);
    const auto two = parse_crypto(
        "1 AES_CM_128_HMAC_SHA1_80 "
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4;"
        "inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP");
    ASSERT_TRUE(two);
    ASSERT_EQ(two->keys.size(), 2U);
    EXPECT_EQ(two->keys[1].mki, (CryptoMki{2, 4}));
    expect_reparses(*two);
    // Another key method: its key-info kept raw.
    const auto uri = parse_crypto("9 AES_CM_128_HMAC_SHA1_80 x-uri:https://k.example/1");
    ASSERT_TRUE(uri);
    EXPECT_EQ(uri->keys[0].method, "x-uri");
    EXPECT_EQ(uri->keys[0].key_salt, "https://k.example/1");
    expect_reparses(*uri);
    EXPECT_EQ(parse_crypto("999999999 X inline:QUJD")->tag, 999999999U);
    EXPECT_EQ(parse_crypto("1 X inline:QUJD|2^63")->keys[0].lifetime->packets(), uint64_t{1} << 63);
}

TEST(Crypto, Refusals) {
    for (const char* bad : {
             "",
             "1 AES_CM_128_HMAC_SHA1_80",                       // no key
             "x AES_CM_128_HMAC_SHA1_80 inline:QUJD",           // tag
             "1234567890 AES_CM_128_HMAC_SHA1_80 inline:QUJD",  // 10 digits
             "1 AES-CM inline:QUJD",                            // suite chars
             "1 X inline",                                      // no ':'
             "1 X inline:",                                     // no key-info
             "1 X :QUJD",                                       // no method
             "1 X inline:QU!D",                                 // not base64
             "1 X inline:QUJDR",                                // 4n+1 characters
             "1 X inline:QUJD===",                              // padding
             "1 X inline:QUJD|2^64",                            // lifetime exponent
             "1 X inline:QUJD|9223372036854775809",             // lifetime > 2**63
             "1 X inline:QUJD|2^x",                             //
             "1 X inline:QUJD|1:0",                             // MKI length 0
             "1 X inline:QUJD|1:129",                           // MKI length > 128
             "1 X inline:QUJD|1:0001",                          // 4 digits
             "1 X inline:QUJD|:4",                              // no MKI value
             "1 X inline:QUJD|1:4|2^20",                        // MKI before lifetime
             "1 X inline:QUJD|2^20|2^20",                       // two lifetimes
             "1 X inline:QUJD|2^20|1:4|x",                      // three fields
             "1 X inline:QUJD;",                                // empty key-param
             "1 X inline:QUJD \x01",                            // control character
         })
        EXPECT_FALSE(parse_crypto(bad)) << bad;
}

TEST(Base64, BothWays) {
    EXPECT_EQ(encode_base64(std::vector<uint8_t>{}), "");
    const std::string_view text = "any carnal pleasure.";
    for (std::size_t n = 0; n <= text.size(); ++n) {
        const std::vector<uint8_t> in(text.begin(), text.begin() + static_cast<long>(n));
        const std::string b64 = encode_base64(in);
        EXPECT_EQ(b64.size() % 4, 0U);
        EXPECT_EQ(decode_base64(b64), in) << b64;
        std::string unpadded = b64;
        while (!unpadded.empty() && unpadded.back() == '=')
            unpadded.pop_back();
        EXPECT_EQ(decode_base64(unpadded), in) << unpadded;
    }
    EXPECT_EQ(encode_base64(std::vector<uint8_t>{'M', 'a', 'n'}), "TWFu");
    EXPECT_EQ(encode_base64(std::vector<uint8_t>{'M', 'a'}), "TWE=");
    EXPECT_EQ(encode_base64(std::vector<uint8_t>{0xFB, 0xFF}), "+/8=");
    EXPECT_EQ(decode_base64("TWE"), (std::vector<uint8_t>{'M', 'a'}));
    EXPECT_EQ(decode_base64("TW=="), (std::vector<uint8_t>{'M'}));
    EXPECT_FALSE(decode_base64("TWE=="));
    EXPECT_FALSE(decode_base64("TW="));
    EXPECT_FALSE(decode_base64("T==="));
    EXPECT_FALSE(decode_base64("T"));
    EXPECT_FALSE(decode_base64("TW=E"));
    EXPECT_FALSE(decode_base64("TW E"));
}

}  // namespace
}  // namespace isthmus::sdp
