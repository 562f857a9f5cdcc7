// The SRTP engine against the RFC test vectors (tests/vectors/):
// RFC 3711 B.2 and RFC 6188 7.1 AES-CM keystreams, RFC 7714 16-17 AES-GCM
// SRTP and SRTCP packets, on every IPsec-MB manager this CPU runs.
#include "vectors.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "hex.hpp"
#include "srtp/transform.hpp"
#include "test_engines.hpp"

namespace isthmus::srtp {
namespace {

using test::find_section;
using test::load_vectors;
using test::to_hex;

class Vectors : public ::testing::TestWithParam<ImbArch> {
  protected:
    void SetUp() override { engine_ = test::make_engine_or_skip(GetParam()); }
    std::unique_ptr<Engine> engine_;
};

// SessionKeySet with the same key and salt for SRTP and SRTCP.
SessionKeySet session_keys(const std::vector<uint8_t>& key, const std::vector<uint8_t>& salt) {
    SessionKeySet k;
    std::memcpy(k.rtp.cipher_key.data(), key.data(), key.size());
    std::memcpy(k.rtp.salt.data(), salt.data(), std::min<std::size_t>(salt.size(), 14));
    k.rtcp = k.rtp;
    return k;
}

// RFC 3711 B.2 / RFC 6188 7.1: with SSRC = SEQ = ROC = 0 and an all-zero
// payload, the SRTP ciphertext is the AES-CM keystream itself.
void check_keystream(Engine& engine, Suite suite, const std::string& file,
                     const std::string& section) {
    const auto sec = find_section(load_vectors(file), section);
    const auto key = sec.hex("Session Key");
    auto salt = sec.hex("Session Salt");  // printed shifted: 14 octets + 0000
    ASSERT_EQ(salt.size(), 16U);
    salt.resize(14);
    // The first three keystream blocks listed in the section.
    std::string expected;
    int rows = 0;
    for (const auto& line : sec.lines) {
        // "F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000   E03EAD0935C95E80E166B16DD92B4EB4"
        std::istringstream in(line);
        std::string counter, block;
        if (!(in >> counter >> block) || counter.size() != 32 || block.size() != 32) continue;
        if (rows >= 3) break;
        expected += block;
        ++rows;
    }
    ASSERT_EQ(rows, 3) << "keystream rows in " << section;

    Context ctx;
    ASSERT_EQ(ctx.init_with_session_keys(engine, suite, session_keys(key, salt)), SetupStatus::Ok);
    std::vector<uint8_t> pkt(12 + 48 + 16, 0);
    pkt[0] = 0x80;  // V=2, SSRC 0, SEQ 0, ROC 0
    uint32_t len = 12 + 48;
    ASSERT_EQ(protect_rtp(engine, ctx, pkt.data(), len, static_cast<uint32_t>(pkt.size())),
              Status::Ok);
    EXPECT_EQ(len, 12U + 48 + suite_info(suite).rtp_tag_len);
    std::string got = to_hex(pkt.data() + 12, 48);
    for (auto& c : expected)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(got, expected);
}

TEST_P(Vectors, Rfc3711AesCm128Keystream) {
    check_keystream(*engine_, Suite::AesCm128HmacSha1_80, "rfc3711-vectors.txt", "RFC3711-B.2");
}

TEST_P(Vectors, Rfc6188AesCm256Keystream) {
    check_keystream(*engine_, Suite::AesCm256HmacSha1_80, "rfc6188-vectors.txt", "RFC6188-7.1");
}

// RFC 7714 16.1.1 / 16.2.1: protect gives the printed packet; unprotecting
// that packet gives the plaintext back (16.1.2 / 16.2.2).
void check_gcm_rtp(Engine& engine, Suite suite, const std::string& section) {
    const auto all = load_vectors("rfc7714-vectors.txt");
    const auto& common = find_section(all, "16 common RTP inputs");
    const auto& sec = find_section(all, section);
    const auto plain = common.hex("RTP packet");
    const auto expected = sec.hex("Encrypted and tagged packet");
    Context tx, rx;
    const auto keys = session_keys(sec.hex("Key"), common.hex("salt"));
    ASSERT_EQ(tx.init_with_session_keys(engine, suite, keys), SetupStatus::Ok);
    ASSERT_EQ(rx.init_with_session_keys(engine, suite, keys), SetupStatus::Ok);

    std::vector<uint8_t> buf(plain);
    buf.resize(plain.size() + 16);
    auto len = static_cast<uint32_t>(plain.size());
    ASSERT_EQ(protect_rtp(engine, tx, buf.data(), len, static_cast<uint32_t>(buf.size())),
              Status::Ok);
    buf.resize(len);
    EXPECT_EQ(to_hex(buf), to_hex(expected));

    std::vector<uint8_t> in(expected);
    len = static_cast<uint32_t>(in.size());
    ASSERT_EQ(unprotect_rtp(engine, rx, in.data(), len), Status::Ok);
    in.resize(len);
    EXPECT_EQ(to_hex(in), to_hex(plain));
}

TEST_P(Vectors, Rfc7714SrtpAes128Gcm) {
    check_gcm_rtp(*engine_, Suite::AeadAes128Gcm, "16.1.1");
}
TEST_P(Vectors, Rfc7714SrtpAes256Gcm) {
    check_gcm_rtp(*engine_, Suite::AeadAes256Gcm, "16.2.1");
}

constexpr uint32_t kVectorSsrc = 0x4d617273;  // "Mars", the RTCP vectors' SSRC
constexpr uint32_t kVectorSrtcpIndex = 0x5d4;

// RFC 7714 17.1: SRTCP AEAD_AES_128_GCM with E=1, from the protect side.
TEST_P(Vectors, Rfc7714SrtcpAes128GcmProtect) {
    const auto all = load_vectors("rfc7714-vectors.txt");
    const auto& common = find_section(all, "17 common RTCP inputs");
    const auto& rtp_common = find_section(all, "16 common RTP inputs");
    const auto& sec = find_section(all, "17.1");
    const auto plain = common.hex("RTCP packet");
    const auto expected = sec.hex("SRTCP packet");
    Context tx;
    ASSERT_EQ(tx.init_with_session_keys(*engine_, Suite::AeadAes128Gcm,
                                        session_keys(sec.hex("Key"), rtp_common.hex("salt"))),
              SetupStatus::Ok);
    ASSERT_TRUE(tx.set_next_srtcp_index(kVectorSsrc, kVectorSrtcpIndex));
    std::vector<uint8_t> buf(plain);
    buf.resize(plain.size() + 20);
    auto len = static_cast<uint32_t>(plain.size());
    ASSERT_EQ(protect_rtcp(*engine_, tx, buf.data(), len, static_cast<uint32_t>(buf.size())),
              Status::Ok);
    buf.resize(len);
    EXPECT_EQ(to_hex(buf), to_hex(expected));
    EXPECT_EQ(tx.find_stream(kVectorSsrc)->next_srtcp_index, kVectorSrtcpIndex + 1);
}

// RFC 7714 17.1-17.4 from the receiving side: E=1 (17.1, 17.2) decrypts,
// E=0 (17.3, 17.4) only verifies; both give the RTCP packet back.
void check_gcm_rtcp_unprotect(Engine& engine, Suite suite, const std::string& section) {
    const auto all = load_vectors("rfc7714-vectors.txt");
    const auto& common = find_section(all, "17 common RTCP inputs");
    const auto& rtp_common = find_section(all, "16 common RTP inputs");
    const auto& sec = find_section(all, section);
    const auto plain = common.hex("RTCP packet");
    const auto srtcp = sec.hex("SRTCP packet");
    Context rx;
    ASSERT_EQ(rx.init_with_session_keys(engine, suite,
                                        session_keys(sec.hex("Key"), rtp_common.hex("salt"))),
              SetupStatus::Ok);
    std::vector<uint8_t> in(srtcp);
    auto len = static_cast<uint32_t>(in.size());
    ASSERT_EQ(unprotect_rtcp(engine, rx, in.data(), len), Status::Ok) << section;
    in.resize(len);
    EXPECT_EQ(to_hex(in), to_hex(plain)) << section;
    // The same packet again is a replay.
    std::vector<uint8_t> again(srtcp);
    len = static_cast<uint32_t>(again.size());
    EXPECT_EQ(unprotect_rtcp(engine, rx, again.data(), len), Status::Replay) << section;
    // One flipped bit in the tag fails authentication.
    Context fresh;
    ASSERT_EQ(fresh.init_with_session_keys(engine, suite,
                                           session_keys(sec.hex("Key"), rtp_common.hex("salt"))),
              SetupStatus::Ok);
    std::vector<uint8_t> bad(srtcp);
    bad[bad.size() - 8] ^= 0x01;
    len = static_cast<uint32_t>(bad.size());
    EXPECT_EQ(unprotect_rtcp(engine, fresh, bad.data(), len), Status::AuthFail) << section;
}

TEST_P(Vectors, Rfc7714SrtcpAes128GcmEncrypted) {
    check_gcm_rtcp_unprotect(*engine_, Suite::AeadAes128Gcm, "17.1");
}
TEST_P(Vectors, Rfc7714SrtcpAes256GcmEncrypted) {
    check_gcm_rtcp_unprotect(*engine_, Suite::AeadAes256Gcm, "17.2");
}
TEST_P(Vectors, Rfc7714SrtcpAes128GcmTagOnly) {
    check_gcm_rtcp_unprotect(*engine_, Suite::AeadAes128Gcm, "17.3");
}
TEST_P(Vectors, Rfc7714SrtcpAes256GcmTagOnly) {
    check_gcm_rtcp_unprotect(*engine_, Suite::AeadAes256Gcm, "17.4");
}

INSTANTIATE_TEST_SUITE_P(Managers, Vectors, ::testing::ValuesIn(test::kTestArchs),
                         test::arch_param_name);

}  // namespace
}  // namespace isthmus::srtp
