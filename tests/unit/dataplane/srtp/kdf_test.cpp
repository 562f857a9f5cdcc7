// RFC 3711 4.3 key derivation against RFC 3711 B.3 and RFC 6188 7.2.
#include "srtp/kdf.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "hex.hpp"
#include "vectors.hpp"

namespace isthmus::srtp {
namespace {

using test::find_section;
using test::load_vectors;
using test::to_hex;

std::string lower(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The first `octets` of the B.3 auth key table (key blocks in the first
// column of the rows after the "auth key ... AES input blocks" heading).
std::string b3_auth_key(const test::VectorSection& sec, std::size_t octets) {
    std::string key;
    bool in_table = false;
    for (const auto& line : sec.lines) {
        if (line.rfind("auth key", 0) == 0) {
            in_table = true;
            continue;
        }
        if (!in_table) continue;
        std::istringstream in(line);
        std::string block;
        if (in >> block) key += block;
    }
    return lower(key.substr(0, 2 * octets));
}

TEST(Kdf, Rfc3711B3Aes128) {
    const auto sec = find_section(load_vectors("rfc3711-vectors.txt"), "RFC3711-B.3");
    const auto mk = sec.hex("master key");
    const auto ms = sec.hex("master salt");
    ASSERT_EQ(mk.size(), 16U);
    ASSERT_EQ(ms.size(), 14U);
    SessionKeySet keys;
    ASSERT_TRUE(derive_session_keys(Suite::AesCm128HmacSha1_80, mk, ms, keys));
    EXPECT_EQ(to_hex(keys.rtp.cipher_key.data(), 16), to_hex(sec.hex("cipher key")));
    EXPECT_EQ(to_hex(keys.rtp.salt.data(), 14), to_hex(sec.hex("cipher salt")));
    EXPECT_EQ(to_hex(keys.rtp.auth_key.data(), 20), b3_auth_key(sec, 20));

    // The PRF itself, longer than one block: 94 octets of the auth key table.
    std::vector<uint8_t> long_out(94);
    ASSERT_TRUE(aes_cm_prf(mk, ms, 0x01, long_out));
    EXPECT_EQ(to_hex(long_out), b3_auth_key(sec, 94));
}

TEST(Kdf, Rfc6188Aes256) {
    const auto sec = find_section(load_vectors("rfc6188-vectors.txt"), "RFC6188-7.2");
    const auto mk = sec.hex("master key");
    const auto ms = sec.hex("master salt");
    ASSERT_EQ(mk.size(), 32U);
    SessionKeySet keys;
    ASSERT_TRUE(derive_session_keys(Suite::AesCm256HmacSha1_80, mk, ms, keys));
    EXPECT_EQ(to_hex(keys.rtp.cipher_key.data(), 32), to_hex(sec.hex("cipher key")));
    EXPECT_EQ(to_hex(keys.rtp.salt.data(), 14), to_hex(sec.hex("cipher salt")));
    EXPECT_EQ(to_hex(keys.rtp.auth_key.data(), 20), to_hex(sec.hex("auth key")));
}

TEST(Kdf, SrtcpKeysUseTheirOwnLabels) {
    const auto sec = find_section(load_vectors("rfc3711-vectors.txt"), "RFC3711-B.3");
    const auto mk = sec.hex("master key");
    const auto ms = sec.hex("master salt");
    SessionKeySet keys;
    ASSERT_TRUE(derive_session_keys(Suite::AesCm128HmacSha1_80, mk, ms, keys));
    std::vector<uint8_t> k3(16), k4(20), k5(14);
    ASSERT_TRUE(aes_cm_prf(mk, ms, 0x03, k3));
    ASSERT_TRUE(aes_cm_prf(mk, ms, 0x04, k4));
    ASSERT_TRUE(aes_cm_prf(mk, ms, 0x05, k5));
    EXPECT_EQ(to_hex(keys.rtcp.cipher_key.data(), 16), to_hex(k3));
    EXPECT_EQ(to_hex(keys.rtcp.auth_key.data(), 20), to_hex(k4));
    EXPECT_EQ(to_hex(keys.rtcp.salt.data(), 14), to_hex(k5));
    EXPECT_NE(to_hex(keys.rtcp.cipher_key.data(), 16), to_hex(keys.rtp.cipher_key.data(), 16));
}

TEST(Kdf, GcmSaltIsTwelveOctetsAndNoAuthKey) {
    const std::vector<uint8_t> mk(16, 0x11);
    const std::vector<uint8_t> ms(12, 0x22);
    SessionKeySet keys;
    ASSERT_TRUE(derive_session_keys(Suite::AeadAes128Gcm, mk, ms, keys));
    // RFC 7714 11: the 12-octet master salt enters the PRF zero-padded.
    std::vector<uint8_t> padded(ms);
    padded.resize(14, 0);
    std::vector<uint8_t> k0(16), k2(12);
    ASSERT_TRUE(aes_cm_prf(mk, padded, 0x00, k0));
    ASSERT_TRUE(aes_cm_prf(mk, padded, 0x02, k2));
    EXPECT_EQ(to_hex(keys.rtp.cipher_key.data(), 16), to_hex(k0));
    EXPECT_EQ(to_hex(keys.rtp.salt.data(), 12), to_hex(k2));
    EXPECT_EQ(to_hex(keys.rtp.auth_key.data(), 20), std::string(40, '0'));
}

TEST(Kdf, RejectsWrongLengths) {
    SessionKeySet keys;
    const std::vector<uint8_t> k16(16), k32(32), s14(14), s12(12), k24(24);
    EXPECT_FALSE(derive_session_keys(Suite::AesCm128HmacSha1_80, k32, s14, keys));
    EXPECT_FALSE(derive_session_keys(Suite::AesCm128HmacSha1_80, k16, s12, keys));
    EXPECT_FALSE(derive_session_keys(Suite::AesCm256HmacSha1_32, k16, s14, keys));
    EXPECT_FALSE(derive_session_keys(Suite::AeadAes128Gcm, k16, s14, keys));
    EXPECT_FALSE(derive_session_keys(Suite::AeadAes256Gcm, k24, s12, keys));
    EXPECT_TRUE(derive_session_keys(Suite::AeadAes256Gcm, k32, s12, keys));
    std::vector<uint8_t> out(16);
    EXPECT_FALSE(aes_cm_prf(k24, s14, 0, out));  // AES-192 is not offered
}

TEST(Suites, NamesRoundTrip) {
    for (Suite s : kAllSuites) {
        const auto found = suite_from_name(suite_info(s).name);
        ASSERT_TRUE(found.has_value()) << suite_info(s).name;
        EXPECT_EQ(*found, s);
    }
    EXPECT_FALSE(suite_from_name("AES_CM_192_HMAC_SHA1_80").has_value());
    EXPECT_FALSE(suite_from_name("").has_value());
    // SRTCP keeps an 80-bit tag under the _32 suites (RFC 4568 6.2.1).
    EXPECT_EQ(suite_info(Suite::AesCm128HmacSha1_32).rtp_tag_len, 4);
    EXPECT_EQ(suite_info(Suite::AesCm128HmacSha1_32).rtcp_tag_len, 10);
}

}  // namespace
}  // namespace isthmus::srtp
