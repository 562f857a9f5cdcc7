// SDES keys for SrtpKeys: RFC 4648 base64 vectors, RFC 4568 a=crypto key
// parameters, and the suite list pinned to the dataplane's srtp::Suite.
#include "isthmus/dpif/sdes.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "srtp/suite.hpp"

namespace isthmus::dpif {
namespace {

std::vector<uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

std::vector<uint8_t> counting(std::size_t n) {
    std::vector<uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<uint8_t>(i);
    return v;
}

// The dataplane casts SrtpKeys::suite to srtp::Suite: same values, names, lengths.
TEST(SdesSuite, MatchesTheSrtpEnginesSuites) {
    static_assert(kSdesSuiteCount == srtp::kSuiteCount);
    for (int i = 0; i < kSdesSuiteCount; ++i) {
        const SdesSuite s = kAllSdesSuites[i];
        const srtp::Suite e = srtp::kAllSuites[i];
        EXPECT_EQ(static_cast<int>(s), static_cast<int>(e));
        EXPECT_EQ(sdes_suite_info(s).name, srtp::suite_info(e).name);
        EXPECT_EQ(sdes_suite_info(s).master_key_len, srtp::suite_info(e).master_key_len);
        EXPECT_EQ(sdes_suite_info(s).master_salt_len, srtp::suite_info(e).master_salt_len);
    }
}

TEST(SdesSuite, FromName) {
    for (SdesSuite s : kAllSdesSuites) {
        EXPECT_EQ(sdes_suite_from_name(sdes_suite_info(s).name), s);
    }
    // ABNF literals match ignoring case (RFC 5234 2.3).
    EXPECT_EQ(sdes_suite_from_name("aes_cm_128_hmac_sha1_80"), SdesSuite::AesCm128HmacSha1_80);
    EXPECT_EQ(sdes_suite_from_name("F8_128_HMAC_SHA1_80"), std::nullopt);
    EXPECT_EQ(sdes_suite_from_name("AES_CM_128_HMAC_SHA1_80 "), std::nullopt);
    EXPECT_EQ(sdes_suite_from_name(""), std::nullopt);
    static_assert(sdes_suite_from_name("AEAD_AES_256_GCM") == SdesSuite::AeadAes256Gcm);
    EXPECT_EQ(sdes_suite_info(static_cast<SdesSuite>(9)).name, "?");
}

// RFC 4648 section 10.
TEST(Base64, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(bytes(plain)), encoded) << plain;
        const auto decoded = base64_decode(encoded);
        ASSERT_TRUE(decoded.has_value()) << encoded;
        EXPECT_EQ(*decoded, bytes(plain)) << encoded;
    }
}

TEST(Base64, RoundTripsEveryLengthAndOctet) {
    for (std::size_t n = 0; n <= 70; ++n) {
        std::vector<uint8_t> data(n);
        for (std::size_t i = 0; i < n; ++i)
            data[i] = static_cast<uint8_t>(i * 37 + n * 101 + 0xf0);
        const std::string text = base64_encode(data);
        EXPECT_EQ(text.size(), (n + 2) / 3 * 4);
        EXPECT_EQ(base64_decode(text), data) << text;
    }
    std::vector<uint8_t> all(256);
    for (std::size_t i = 0; i < all.size(); ++i)
        all[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(base64_decode(base64_encode(all)), all);
}

TEST(Base64, KeySaltLengthsOfEverySuite) {
    // 30, 46 (==), 28 (==), 44 (=) octets: Python's base64.b64encode(bytes(range(n))).
    EXPECT_EQ(base64_encode(counting(28)), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==");
    EXPECT_EQ(base64_encode(counting(44)),
              "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis=");
    EXPECT_EQ(base64_encode(counting(46)),
              "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ==");
}

TEST(Base64, RefusesWhatIsNotStrictBase64) {
    const char* bad[] = {
        "Zg",         // no padding
        "Zg=",        // short padding
        "Zm9",        // length not a multiple of 4
        "Zm9v\n",     // line break
        "Zm 9v",      // space
        "Zm9v Yg==",  // space
        "Zm9-",       // base64url alphabet
        "Zm9_",       //
        "Zm9!",       // not base64 at all
        "Z===",       // too much padding
        "====",       //
        "Zg==Zm9v",   // padding inside
        "Zm=v",       // '=' then data
        "Zh==",       // non-zero bits under the padding (canonical: Zg==)
        "Zm9=",       // ditto (canonical: Zm8=)
    };
    for (const char* text : bad) {
        std::string error;
        EXPECT_EQ(base64_decode(text, &error), std::nullopt) << text;
        EXPECT_FALSE(error.empty()) << text;
    }
    std::string error;
    base64_decode("Zm9!", &error);
    EXPECT_NE(error.find("'!' at offset 3"), std::string::npos) << error;
    base64_decode("Zm\x80v", &error);
    EXPECT_NE(error.find("0x80 at offset 2"), std::string::npos) << error;
    base64_decode("Zg", &error);
    EXPECT_NE(error.find("multiple of 4"), std::string::npos) << error;
}

// RFC 4568 section 6.1 / 9.1 example key (its "|2^20|1:32" lifetime and MKI aside).
constexpr const char* kRfcKey = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
constexpr uint8_t kRfcKeySalt[30] = {
    0x3d, 0x2d, 0x6e, 0x40, 0x25, 0x5e, 0x78, 0x21, 0x42, 0x6a, 0x75, 0x66, 0x72, 0x39, 0x29,
    0x3f, 0x2c, 0x23, 0x35, 0x68, 0x5c, 0x60, 0x3d, 0x26, 0x5d, 0x7b, 0x71, 0x69, 0x50, 0x51,
};

TEST(ParseSdesInline, Rfc4568ExampleKey) {
    SrtpKeys keys{};
    std::string error;
    ASSERT_TRUE(
        parse_sdes_inline(std::string("AES_CM_128_HMAC_SHA1_80 inline:") + kRfcKey, keys, error))
        << error;
    EXPECT_TRUE(error.empty());
    EXPECT_EQ(keys.suite, static_cast<uint8_t>(SdesSuite::AesCm128HmacSha1_80));
    EXPECT_EQ(keys.key_len, 16);
    EXPECT_EQ(keys.salt_len, 14);
    EXPECT_EQ(keys.reserved, 0);
    EXPECT_EQ(0, std::memcmp(keys.master_key, kRfcKeySalt, 16));
    EXPECT_EQ(0, std::memcmp(keys.master_salt, kRfcKeySalt + 16, 14));
    for (std::size_t i = 16; i < sizeof keys.master_key; ++i)
        EXPECT_EQ(keys.master_key[i], 0) << i;
    for (std::size_t i = 14; i < sizeof keys.master_salt; ++i)
        EXPECT_EQ(keys.master_salt[i], 0) << i;
    EXPECT_EQ(format_sdes_inline(keys), std::string("AES_CM_128_HMAC_SHA1_80 inline:") + kRfcKey);
}

TEST(ParseSdesInline, SpacingCaseAndLifetime) {
    const std::string key = kRfcKey;
    const std::string ok[] = {
        "  AES_CM_128_HMAC_SHA1_32\t inline:" + key + "  ",
        "aes_cm_128_hmac_sha1_32 INLINE:" + key,
        "AES_CM_128_HMAC_SHA1_32 inline:" + key + "|2^20",
        "AES_CM_128_HMAC_SHA1_32 inline:" + key + "|2^31",
        "AES_CM_128_HMAC_SHA1_32 inline:" + key + "|1048576",
    };
    for (const std::string& text : ok) {
        SrtpKeys keys{};
        std::string error;
        EXPECT_TRUE(parse_sdes_inline(text, keys, error)) << text << ": " << error;
        EXPECT_EQ(keys.suite, static_cast<uint8_t>(SdesSuite::AesCm128HmacSha1_32)) << text;
        EXPECT_EQ(0, std::memcmp(keys.master_key, kRfcKeySalt, 16)) << text;
    }
}

TEST(ParseSdesInline, EverySuiteRoundTrips) {
    for (SdesSuite s : kAllSdesSuites) {
        const SdesSuiteInfo info = sdes_suite_info(s);
        const std::vector<uint8_t> octets =
            counting(std::size_t{info.master_key_len} + info.master_salt_len);
        const std::string text = std::string(info.name) + " inline:" + base64_encode(octets);
        SrtpKeys keys{};
        std::string error;
        ASSERT_TRUE(parse_sdes_inline(text, keys, error)) << text << ": " << error;
        EXPECT_EQ(keys.suite, static_cast<uint8_t>(s));
        EXPECT_EQ(keys.key_len, info.master_key_len);
        EXPECT_EQ(keys.salt_len, info.master_salt_len);
        EXPECT_EQ(0, std::memcmp(keys.master_key, octets.data(), keys.key_len));
        EXPECT_EQ(0, std::memcmp(keys.master_salt, octets.data() + keys.key_len, keys.salt_len));
        EXPECT_EQ(format_sdes_inline(keys), text);
    }
}

// Each refusal leaves `out` alone and says why.
TEST(ParseSdesInline, Refusals) {
    const std::string key = kRfcKey;
    const std::string b64_46 = base64_encode(counting(46));
    const std::pair<std::string, const char*> bad[] = {
        {"", "no SDES key"},
        {"   ", "no SDES key"},
        {"AES_CM_128_HMAC_SHA1_80", "no key after"},
        {"AES_CM_128_HMAC_SHA1_80 " + key, "not inline:"},
        {"AES_CM_128_HMAC_SHA1_80 uri:" + key, "not inline:"},
        {"F8_128_HMAC_SHA1_80 inline:" + key, "unknown or unsupported crypto suite 'F8_128"},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key, "crypto suite '1'"},
        // wrong lengths: 30 octets for the 46-octet AES-256 suite, and back
        {"AES_256_CM_HMAC_SHA1_80 inline:" + key,
         "key||salt is 30 octets; AES_256_CM_HMAC_SHA1_80 needs 46 (32 key + 14 salt)"},
        {"AES_CM_128_HMAC_SHA1_80 inline:" + b64_46,
         "is 46 octets; AES_CM_128_HMAC_SHA1_80 needs 30"},
        {"AEAD_AES_128_GCM inline:" + key, "AEAD_AES_128_GCM needs 28 (16 key + 12 salt)"},
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 36), "is 27 octets"},
        {"AES_CM_128_HMAC_SHA1_80 inline:", "is 0 octets"},
        // bad base64
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 39), "multiple of 4"},
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 38) + "-R", "bad base64 character '-'"},
        // MKI (RFC 4568 6.1: "|1:32"), with or without a lifetime
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:32", "MKI '|1:32' is not supported"},
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:4", "MKI '|1:4' is not supported"},
        // malformed lifetimes
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^", "bad key lifetime"},
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key + "|", "bad key lifetime"},
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key + "|forever", "bad key lifetime"},
        // several keys, session parameters
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key, "more than one key-params"},
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key + " KDR=1", "session parameters"},
        {"AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNENCRYPTED_SRTP", "session parameters"},
    };
    for (const auto& [text, why] : bad) {
        SrtpKeys keys{};
        keys.suite = 0xaa;
        keys.master_key[0] = 0x55;
        std::string error;
        EXPECT_FALSE(parse_sdes_inline(text, keys, error)) << text;
        EXPECT_NE(error.find(why), std::string::npos) << text << " -> " << error;
        EXPECT_EQ(keys.suite, 0xaa) << text;
        EXPECT_EQ(keys.master_key[0], 0x55) << text;
    }
}

TEST(FormatSdesInline, RefusesKeysOfNoSuite) {
    SrtpKeys keys{};
    keys.suite = 6;
    keys.key_len = 16;
    keys.salt_len = 14;
    EXPECT_EQ(format_sdes_inline(keys), "");
    keys.suite = 0;
    keys.salt_len = 12;
    EXPECT_EQ(format_sdes_inline(keys), "");
}

}  // namespace
}  // namespace isthmus::dpif
