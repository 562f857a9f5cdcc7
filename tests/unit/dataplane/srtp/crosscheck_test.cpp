// Byte-for-byte cross-checks of the SRTP engine against libsrtp2 2.5, the
// implementation most WebRTC and IMS peers run, for every suite in
// kAllSuites and every IPsec-MB manager this CPU runs:
//   - SRTP output equals libsrtp's for randomised packets of every RTP shape,
//     and each side unprotects the other's (SRTP and SRTCP);
//   - sequence-number wrap and out-of-band ROC (RFC 3711 3.3.1).
// Replay decisions, forgeries and truncations are in crosscheck_replay_test.cpp,
// bursts in crosscheck_burst_test.cpp; what they share in crosscheck_support.hpp.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "crosscheck_support.hpp"

namespace isthmus::srtp::crosscheck {
namespace {

// 1. SRTP: same octets as libsrtp for every RTP shape, four SSRCs under one
// context, random starting sequence numbers; each side unprotects the other.
TEST_P(SrtpCrossCheck, RtpMatchesLibsrtpByteForByte) {
    SeededRng rng(seed(1));
    Peers p = peers(rng);
    ASSERT_EQ(p.lib_tx.create_status(), srtp_err_status_ok);
    ASSERT_EQ(p.lib_rx.create_status(), srtp_err_status_ok);

    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 4);
    std::vector<uint16_t> seqs;
    for (std::size_t k = 0; k < ssrcs.size(); ++k)
        seqs.push_back(static_cast<uint16_t>(rng.u32()));
    for (int i = 0; i < 400; ++i) {
        const std::size_t k = rng.range(0, 3);
        const Bytes plain = random_rtp(rng, ssrcs[k], seqs[k]++);
        ASSERT_TRUE(rtp_both_ways(p, plain)) << "packet " << i;
    }
    for (const uint32_t ssrc : ssrcs) {
        ASSERT_TRUE(p.lib_tx.roc(ssrc).has_value());
        EXPECT_EQ(our_roc(*p.ours_tx, ssrc), *p.lib_tx.roc(ssrc)) << "ssrc " << hex32(ssrc);
        EXPECT_EQ(our_roc(*p.ours_rx, ssrc), *p.lib_rx.roc(ssrc)) << "ssrc " << hex32(ssrc);
    }
}

// 1. SRTCP: our first index is 0 (RFC 3711 3.4) and libsrtp's is 1, so our
// sender sends one extra packet per SSRC first; after it both senders use the
// same index for the same packet and must produce the same octets.
TEST_P(SrtpCrossCheck, RtcpMatchesLibsrtpOnceIndicesAlign) {
    SeededRng rng(seed(2));
    Peers p = peers(rng);
    ASSERT_EQ(p.lib_tx.create_status(), srtp_err_status_ok);
    ASSERT_EQ(p.lib_rx.create_status(), srtp_err_status_ok);

    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 3);
    for (const uint32_t ssrc : ssrcs) {
        const Bytes plain = random_rtcp(rng, ssrc);
        Bytes first = plain;
        ASSERT_EQ(name(protect_c(*p.ours_tx, first)), name(Status::Ok));
        const std::size_t idx_at = first.size() - 4 - (info_.aead ? 0 : info_.rtcp_tag_len);
        EXPECT_EQ(to_hex(first.data() + idx_at, 4), "80000000") << "E=1, index 0";
        ASSERT_EQ(p.lib_rx.unprotect_rtcp(first), srtp_err_status_ok) << to_hex(plain);
        ASSERT_TRUE(same_bytes(first, plain));
    }
    for (int i = 0; i < 200; ++i) {
        const uint32_t ssrc = ssrcs[rng.range(0, 2)];
        const Bytes plain = random_rtcp(rng, ssrc);
        Bytes ours = plain, lib = plain;
        ASSERT_EQ(name(protect_c(*p.ours_tx, ours)), name(Status::Ok)) << to_hex(plain);
        ASSERT_EQ(p.lib_tx.protect_rtcp(lib), srtp_err_status_ok) << to_hex(plain);
        ASSERT_TRUE(same_bytes(ours, lib)) << "packet " << i << ", plaintext " << to_hex(plain);
        ASSERT_EQ(p.lib_rx.unprotect_rtcp(ours), srtp_err_status_ok) << "packet " << i;
        ASSERT_TRUE(same_bytes(ours, plain)) << "libsrtp unprotecting ours, packet " << i;
        ASSERT_EQ(name(unprotect_c(*p.ours_rx, lib)), name(Status::Ok)) << "packet " << i;
        ASSERT_TRUE(same_bytes(lib, plain)) << "ours unprotecting libsrtp's, packet " << i;
    }
}

// SRTCP with E=0 (RFC 3711 3.4; RFC 7714 9.3 for GCM: the whole packet is
// authenticated data) from libsrtp is accepted and left as sent.
TEST_P(SrtpCrossCheck, UnencryptedSrtcpFromLibsrtpIsAccepted) {
    SeededRng rng(seed(3));
    const MasterKey mk = random_master_key(rng, suite_);
    auto ours_rx = context(mk);
    LibSession lib_tx(suite_, mk, ssrc_any_outbound, 0, /*rtcp_encrypt=*/false);
    ASSERT_EQ(lib_tx.create_status(), srtp_err_status_ok);
    const uint32_t ssrc = rng.u32();
    for (int i = 0; i < 50; ++i) {
        const Bytes plain = random_rtcp(rng, ssrc);
        Bytes lib = plain;
        ASSERT_EQ(lib_tx.protect_rtcp(lib), srtp_err_status_ok);
        ASSERT_TRUE(std::equal(plain.begin(), plain.end(), lib.begin())) << "E=0 leaves RTCP clear";
        const std::size_t idx_at = lib.size() - 4 - (info_.aead ? 0 : info_.rtcp_tag_len);
        EXPECT_EQ(lib[idx_at] & 0x80, 0) << "E flag";
        Bytes forged = lib;
        forged[info_.aead ? lib.size() - 5 : lib.size() - 1] ^= 0x01;  // a tag octet
        EXPECT_NE(name(unprotect_c(*ours_rx, forged)), name(Status::Ok)) << to_hex(lib);
        ASSERT_EQ(name(unprotect_c(*ours_rx, lib)), name(Status::Ok))
            << "packet " << i << ": " << to_hex(plain);
        ASSERT_TRUE(same_bytes(lib, plain));
    }
}

// 2. A stream across seq 65535 -> 0: same octets, and ROC 1 afterwards on
// both sides of both implementations (RFC 3711 3.3.1).
TEST_P(SrtpCrossCheck, SequenceWrapAdvancesRoc) {
    SeededRng rng(seed(4));
    Peers p = peers(rng);
    ASSERT_EQ(p.lib_tx.create_status(), srtp_err_status_ok);
    ASSERT_EQ(p.lib_rx.create_status(), srtp_err_status_ok);
    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 2);
    std::vector<uint16_t> seqs = {static_cast<uint16_t>(65500 + rng.range(0, 30)),
                                  static_cast<uint16_t>(65500 + rng.range(0, 30))};
    for (int i = 0; i < 400; ++i) {
        const std::size_t k = rng.range(0, 1);
        const Bytes plain = random_rtp(rng, ssrcs[k], seqs[k]++);
        ASSERT_TRUE(rtp_both_ways(p, plain)) << "packet " << i << ", seq " << seqs[k] - 1;
    }
    for (const uint32_t ssrc : ssrcs) {
        EXPECT_EQ(our_roc(*p.ours_tx, ssrc), 1U);
        EXPECT_EQ(our_roc(*p.ours_rx, ssrc), 1U);
        EXPECT_EQ(p.lib_tx.roc(ssrc).value_or(0), 1U);
        EXPECT_EQ(p.lib_rx.roc(ssrc).value_or(0), 1U);
    }
}

// 2. A ROC set out of band (Context::set_rollover_counter vs
// srtp_set_stream_roc): same octets from the first packet on, including a
// wrap from ROC 0xfffffffe to 0xffffffff; a receiver that was not told the
// ROC refuses the packets.
TEST_P(SrtpCrossCheck, OutOfBandRocMatchesLibsrtp) {
    SeededRng rng(seed(5));
    struct Case {
        uint32_t roc;
        uint16_t seq;
    };
    const Case cases[] = {
        {rng.range(1, 0x7fffffff), static_cast<uint16_t>(rng.u32())},
        {rng.range(0x80000000U, 0xfffffff0U), static_cast<uint16_t>(rng.range(0, 60000))},
        {0xfffffffeU, static_cast<uint16_t>(65400 + rng.range(0, 100))},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE("ROC " + hex32(c.roc) + ", first seq " + std::to_string(c.seq));
        const MasterKey mk = random_master_key(rng, suite_);
        const uint32_t ssrc = rng.u32();
        auto ours_tx = context(mk), ours_rx = context(mk), ours_unaware = context(mk);
        LibSession lib_tx(suite_, mk, ssrc_specific, ssrc), lib_rx(suite_, mk, ssrc_specific, ssrc);
        ASSERT_EQ(lib_tx.create_status(), srtp_err_status_ok);
        ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);
        ASSERT_EQ(srtp_set_stream_roc(lib_tx.get(), ssrc, c.roc), srtp_err_status_ok);
        ASSERT_EQ(srtp_set_stream_roc(lib_rx.get(), ssrc, c.roc), srtp_err_status_ok);
        ASSERT_TRUE(ours_tx->set_rollover_counter(ssrc, c.roc, c.seq));
        ASSERT_TRUE(ours_rx->set_rollover_counter(ssrc, c.roc, c.seq));
        uint16_t seq = c.seq;
        for (int i = 0; i < 300; ++i) {
            const Bytes plain = random_rtp(rng, ssrc, seq++);
            Bytes sent;
            ASSERT_TRUE(rtp_both_ways(*ours_tx, lib_tx, *ours_rx, lib_rx, plain, &sent))
                << "packet " << i << ", seq " << seq - 1;
            if (i == 0) {
                EXPECT_NE(name(unprotect(*ours_unaware, sent)), name(Status::Ok))
                    << "a receiver at ROC 0 took a packet of ROC " << hex32(c.roc);
            }
        }
        const uint32_t end_roc =
            static_cast<uint32_t>(((uint64_t{c.roc} << 16) + c.seq + 299) >> 16);
        EXPECT_EQ(our_roc(*ours_tx, ssrc), end_roc);
        EXPECT_EQ(our_roc(*ours_rx, ssrc), end_roc);
        EXPECT_EQ(lib_tx.roc(ssrc).value_or(0), end_roc);
        EXPECT_EQ(lib_rx.roc(ssrc).value_or(0), end_roc);
    }
}

// The suite x manager instantiation for every TEST_P of SrtpCrossCheck,
// crosscheck_replay_test.cpp's included.
INSTANTIATE_TEST_SUITE_P(Libsrtp, SrtpCrossCheck,
                         ::testing::Combine(::testing::Values(ImbArch::Sse, ImbArch::Avx2,
                                                              ImbArch::Avx512),
                                            ::testing::ValuesIn(kAllSuites)),
                         param_name);

}  // namespace
}  // namespace isthmus::srtp::crosscheck
