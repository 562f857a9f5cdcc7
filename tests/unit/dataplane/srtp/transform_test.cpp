// The burst transforms' behaviour: every RTP shape round-trips with only the
// payload encrypted, and every failure has its status and counter.
#include "srtp/transform.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "hex.hpp"
#include "rtp_packets.hpp"
#include "srtp/rtp_header.hpp"
#include "test_engines.hpp"

namespace isthmus::srtp {
namespace {

constexpr uint32_t kSlack = 64;  // room for trailers

struct Packet {
    std::vector<uint8_t> buf;
    uint32_t len = 0;
    uint32_t header_len = 0;
    PacketOp op(Context* ctx) {
        return PacketOp{ctx, buf.data(), len, static_cast<uint32_t>(buf.size()), Status::Ok};
    }
};

// An RTP packet: cc CSRCs, an optional extension of ext_words 32-bit words
// (profile 0xBEDE one-byte or 0x1000 two-byte), payload, optional padding.
Packet make_rtp(uint32_t ssrc, uint16_t seq, std::size_t payload, uint8_t cc = 0,
                int ext_words = -1, uint16_t ext_profile = 0xBEDE, uint8_t padding = 0,
                bool marker = false) {
    Packet p;
    std::vector<uint8_t>& b = p.buf;
    test::append_rtp_fixed_header(b, {.padding = padding != 0,
                                      .extension = ext_words >= 0,
                                      .cc = cc,
                                      .marker = marker,
                                      .payload_type = 111,
                                      .seq = seq,
                                      .timestamp = 0x10111213U,
                                      .ssrc = ssrc});
    for (uint8_t i = 0; i < cc; ++i)
        test::push_be32(b, 0xC0000000U + i);
    if (ext_words >= 0) {
        test::push_be16(b, ext_profile);
        test::push_be16(b, static_cast<uint32_t>(ext_words));
        for (int i = 0; i < ext_words * 4; ++i)
            b.push_back(static_cast<uint8_t>(0xE0 + i));
    }
    p.header_len = static_cast<uint32_t>(b.size());
    for (std::size_t i = 0; i < payload; ++i)
        b.push_back(static_cast<uint8_t>(i * 7 + 1));
    test::append_rtp_padding(b, padding);
    p.len = static_cast<uint32_t>(b.size());
    b.resize(b.size() + kSlack);
    return p;
}

Packet make_rtcp(uint32_t ssrc, std::size_t words_after_ssrc) {
    Packet p;
    test::append_rtcp_common_header(p.buf, 1, 200, static_cast<uint32_t>(1 + words_after_ssrc));
    test::push_be32(p.buf, ssrc);
    for (std::size_t i = 0; i < 4 * words_after_ssrc; ++i)
        p.buf.push_back(static_cast<uint8_t>(i));
    p.len = static_cast<uint32_t>(p.buf.size());
    p.header_len = 8;
    p.buf.resize(p.buf.size() + kSlack);
    return p;
}

std::vector<uint8_t> bytes(const Packet& p) {
    return {p.buf.begin(), p.buf.begin() + p.len};
}

class Transform : public ::testing::TestWithParam<Suite> {
  protected:
    void SetUp() override {
        engine_ = std::make_unique<Engine>(ImbArch::Auto);
        init(tx_);
        init(rx_);
    }
    void init(Context& c, ContextOptions o = {}) {
        const SuiteInfo si = suite_info(GetParam());
        std::vector<uint8_t> key(si.master_key_len), salt(si.master_salt_len);
        for (std::size_t i = 0; i < key.size(); ++i)
            key[i] = static_cast<uint8_t>(0xA0 + i);
        for (std::size_t i = 0; i < salt.size(); ++i)
            salt[i] = static_cast<uint8_t>(0x30 + i);
        ASSERT_EQ(c.init(*engine_, GetParam(), key, salt, o), SetupStatus::Ok);
    }
    Status protect(Context& c, Packet& p) {
        return protect_rtp(*engine_, c, p.buf.data(), p.len, static_cast<uint32_t>(p.buf.size()));
    }
    Status unprotect(Context& c, Packet& p) {
        return unprotect_rtp(*engine_, c, p.buf.data(), p.len);
    }
    uint8_t tag() const { return suite_info(GetParam()).rtp_tag_len; }
    uint64_t count(Op op, Status s) const { return engine_->counters().get(op, s); }

    std::unique_ptr<Engine> engine_;
    Context tx_, rx_;
};

TEST_P(Transform, EveryRtpShapeRoundTripsWithOnlyThePayloadEncrypted) {
    struct Shape {
        std::size_t payload;
        uint8_t cc;
        int ext;
        uint16_t profile;
        uint8_t pad;
        bool marker;
    };
    const Shape shapes[] = {
        {160, 0, -1, 0xBEDE, 0, false},  {160, 0, -1, 0xBEDE, 0, true},
        {0, 0, -1, 0xBEDE, 0, false},    {1, 0, -1, 0xBEDE, 0, false},
        {20, 15, -1, 0xBEDE, 0, false},  {33, 2, 1, 0xBEDE, 0, false},
        {50, 0, 3, 0x1000, 0, false},    {50, 0, 0, 0xBEDE, 0, false},
        {40, 1, 2, 0xBEDE, 4, true},     {0, 3, 2, 0x1000, 0, false},
        {1388, 0, -1, 0xBEDE, 0, false}, {17, 0, -1, 0xBEDE, 3, false},
    };
    uint16_t seq = 100;
    for (const Shape& s : shapes) {
        Packet p = make_rtp(0x11223344, seq++, s.payload, s.cc, s.ext, s.profile, s.pad, s.marker);
        const auto plain = bytes(p);
        ASSERT_EQ(protect(tx_, p), Status::Ok);
        ASSERT_EQ(p.len, plain.size() + tag());
        // The header (CSRCs and extension included) is untouched, the payload is not.
        EXPECT_EQ(std::memcmp(p.buf.data(), plain.data(), p.header_len), 0);
        if (plain.size() - p.header_len >= 4) {
            EXPECT_NE(std::memcmp(p.buf.data() + p.header_len, plain.data() + p.header_len,
                                  plain.size() - p.header_len),
                      0);
        }
        ASSERT_EQ(unprotect(rx_, p), Status::Ok) << "payload " << s.payload << " cc " << int{s.cc};
        EXPECT_EQ(test::to_hex(bytes(p)), test::to_hex(plain));
    }
    EXPECT_EQ(count(Op::ProtectRtp, Status::Ok), std::size(shapes));
    EXPECT_EQ(count(Op::UnprotectRtp, Status::Ok), std::size(shapes));
}

TEST_P(Transform, RtcpRoundTripsAndCarriesTheIndex) {
    for (uint32_t i = 0; i < 5; ++i) {
        Packet p = make_rtcp(0xCAFE0001, 6 * i);
        const auto plain = bytes(p);
        ASSERT_EQ(
            protect_rtcp(*engine_, tx_, p.buf.data(), p.len, static_cast<uint32_t>(p.buf.size())),
            Status::Ok);
        const SuiteInfo si = suite_info(GetParam());
        ASSERT_EQ(p.len, plain.size() + 4 + si.rtcp_tag_len);
        // E flag set and index i, after the tag (GCM) or before it (AES-CM).
        const uint8_t* e = si.aead ? p.buf.data() + p.len - 4 : p.buf.data() + plain.size();
        EXPECT_EQ(load_be32(e), 0x80000000U | i);
        EXPECT_EQ(std::memcmp(p.buf.data(), plain.data(), 8), 0);  // header stays clear
        ASSERT_EQ(unprotect_rtcp(*engine_, rx_, p.buf.data(), p.len), Status::Ok);
        EXPECT_EQ(test::to_hex(bytes(p)), test::to_hex(plain));
    }
    EXPECT_EQ(rx_.find_stream(0xCAFE0001)->rtcp.highest(), 4U);
}

TEST_P(Transform, MalformedPacketsGetTheirOwnStatus) {
    Packet p = make_rtp(1, 1, 20);
    // too short for a header + tag
    uint32_t len = 11;
    EXPECT_EQ(protect_rtp(*engine_, tx_, p.buf.data(), len, 100), Status::TooShort);
    len = 12 + tag() - 1;
    EXPECT_EQ(unprotect_rtp(*engine_, rx_, p.buf.data(), len), Status::TooShort);
    EXPECT_EQ(len, 12U + tag() - 1);  // untouched on failure
    // version 1
    Packet v1 = make_rtp(1, 2, 20);
    v1.buf[0] = 0x40;
    EXPECT_EQ(protect(tx_, v1), Status::BadVersion);
    EXPECT_EQ(unprotect(rx_, v1), Status::BadVersion);
    // CSRC count runs past the packet
    Packet cc = make_rtp(1, 3, 8);
    cc.buf[0] = 0x8F;
    EXPECT_EQ(protect(tx_, cc), Status::BadHeader);
    // extension length runs past the packet
    Packet ext = make_rtp(1, 4, 8, 0, 1);
    ext.buf[15] = 200;
    EXPECT_EQ(protect(tx_, ext), Status::BadHeader);
    // no room for the tag
    Packet full = make_rtp(1, 5, 20);
    uint32_t flen = full.len;
    EXPECT_EQ(protect_rtp(*engine_, tx_, full.buf.data(), flen, flen + tag() - 1), Status::NoRoom);
    // RTCP too short / no room for index + tag
    Packet r = make_rtcp(1, 0);
    uint32_t rlen = 7;
    EXPECT_EQ(protect_rtcp(*engine_, tx_, r.buf.data(), rlen, 100), Status::TooShort);
    rlen = 8;
    EXPECT_EQ(protect_rtcp(*engine_, tx_, r.buf.data(), rlen, 8 + 4), Status::NoRoom);
    rlen = 8 + 4 + suite_info(GetParam()).rtcp_tag_len - 1;
    EXPECT_EQ(unprotect_rtcp(*engine_, rx_, r.buf.data(), rlen), Status::TooShort);

    EXPECT_EQ(count(Op::ProtectRtp, Status::TooShort), 1U);
    EXPECT_EQ(count(Op::UnprotectRtp, Status::TooShort), 1U);
    EXPECT_EQ(count(Op::ProtectRtp, Status::BadVersion), 1U);
    EXPECT_EQ(count(Op::UnprotectRtp, Status::BadVersion), 1U);
    EXPECT_EQ(count(Op::ProtectRtp, Status::BadHeader), 2U);
    EXPECT_EQ(count(Op::ProtectRtp, Status::NoRoom), 1U);
    EXPECT_EQ(count(Op::ProtectRtcp, Status::TooShort), 1U);
    EXPECT_EQ(count(Op::ProtectRtcp, Status::NoRoom), 1U);
    EXPECT_EQ(count(Op::UnprotectRtcp, Status::TooShort), 1U);
    EXPECT_EQ(count(Op::ProtectRtp, Status::Ok), 0U);
}

TEST_P(Transform, UnknownOrWipedContext) {
    Packet p = make_rtp(1, 1, 20);
    PacketOp op = p.op(nullptr);
    protect_rtp(*engine_, std::span(&op, 1));
    EXPECT_EQ(op.status, Status::UnknownContext);
    tx_.wipe();
    EXPECT_FALSE(tx_.ready());
    EXPECT_EQ(protect(tx_, p), Status::UnknownContext);
    EXPECT_EQ(count(Op::ProtectRtp, Status::UnknownContext), 2U);
}

TEST_P(Transform, ReplayAndAuthFailureLeaveStateUntouched) {
    Packet p = make_rtp(7, 500, 100);
    ASSERT_EQ(protect(tx_, p), Status::Ok);
    const auto wire = bytes(p);

    // A forged copy (last tag bit flipped) fails and learns nothing...
    Packet forged = p;
    forged.buf[forged.len - 1] ^= 0x80;
    EXPECT_EQ(unprotect(rx_, forged), Status::AuthFail);
    EXPECT_EQ(rx_.find_stream(7), nullptr);
    // ...so the genuine packet still passes, once.
    Packet a = p;
    ASSERT_EQ(unprotect(rx_, a), Status::Ok);
    ASSERT_NE(rx_.find_stream(7), nullptr);
    Packet again;
    again.buf = wire;
    again.buf.resize(wire.size() + kSlack);
    again.len = static_cast<uint32_t>(wire.size());
    EXPECT_EQ(unprotect(rx_, again), Status::Replay);
    // Sending the same index twice is refused too (keystream reuse).
    Packet dup = make_rtp(7, 500, 100);
    EXPECT_EQ(protect(tx_, dup), Status::Replay);

    // 200 packets later, seq 500 is older than the window.
    for (uint16_t s = 501; s <= 700; ++s) {
        Packet q = make_rtp(7, s, 10);
        ASSERT_EQ(protect(tx_, q), Status::Ok);
        ASSERT_EQ(unprotect(rx_, q), Status::Ok);
    }
    Packet old;
    old.buf = wire;
    old.buf.resize(wire.size() + kSlack);
    old.len = static_cast<uint32_t>(wire.size());
    EXPECT_EQ(unprotect(rx_, old), Status::ReplayOld);
    EXPECT_EQ(count(Op::UnprotectRtp, Status::AuthFail), 1U);
    EXPECT_EQ(count(Op::UnprotectRtp, Status::Replay), 1U);
    EXPECT_EQ(count(Op::UnprotectRtp, Status::ReplayOld), 1U);
    EXPECT_EQ(count(Op::ProtectRtp, Status::Replay), 1U);
}

TEST_P(Transform, StreamLimitGivesUnknownSsrc) {
    Context small_tx, small_rx;
    init(small_tx, ContextOptions{.max_streams = 1});
    init(small_rx, ContextOptions{.max_streams = 1});
    Packet a = make_rtp(0xA, 1, 10), b = make_rtp(0xB, 1, 10);
    ASSERT_EQ(protect(small_tx, a), Status::Ok);
    EXPECT_EQ(protect(small_tx, b), Status::UnknownSsrc);
    Packet b2 = make_rtp(0xB, 1, 10);
    ASSERT_EQ(protect(tx_, b2), Status::Ok);  // b2 under the big context, same keys
    ASSERT_EQ(unprotect(small_rx, a), Status::Ok);
    EXPECT_EQ(unprotect(small_rx, b2), Status::UnknownSsrc);
    EXPECT_EQ(count(Op::UnprotectRtp, Status::UnknownSsrc), 1U);
}

TEST_P(Transform, KeyExhaustion) {
    // RFC 3711 3.3.1: at index 2^48 - 1 the key is used up.
    ASSERT_TRUE(tx_.set_rollover_counter(9, 0xffffffffU, 0xfffe));
    Packet last = make_rtp(9, 0xffff, 10);
    EXPECT_EQ(protect(tx_, last), Status::Ok);
    Packet over = make_rtp(9, 0x0000, 10);
    EXPECT_EQ(protect(tx_, over), Status::KeyExhausted);
    // SRTCP: the 31-bit index.
    ASSERT_TRUE(tx_.set_next_srtcp_index(9, 0x7fffffffU));
    Packet r1 = make_rtcp(9, 1), r2 = make_rtcp(9, 1);
    EXPECT_EQ(
        protect_rtcp(*engine_, tx_, r1.buf.data(), r1.len, static_cast<uint32_t>(r1.buf.size())),
        Status::Ok);
    EXPECT_EQ(
        protect_rtcp(*engine_, tx_, r2.buf.data(), r2.len, static_cast<uint32_t>(r2.buf.size())),
        Status::KeyExhausted);
    EXPECT_EQ(count(Op::ProtectRtp, Status::KeyExhausted), 1U);
    EXPECT_EQ(count(Op::ProtectRtcp, Status::KeyExhausted), 1U);
}

TEST_P(Transform, BurstsMixContextsAndResolveDuplicatesInOrder) {
    Context tx2, rx2;
    init(tx2);
    init(rx2);
    // 150 packets (more than kMaxBurst) across two contexts and four SSRCs.
    std::vector<Packet> pk;
    std::vector<std::vector<uint8_t>> plain;
    std::vector<PacketOp> ops;
    for (uint16_t i = 0; i < 150; ++i) {
        pk.push_back(make_rtp(0x100U + (i % 4U), static_cast<uint16_t>(1000 + i / 4), 40 + i));
        plain.push_back(bytes(pk.back()));
    }
    for (std::size_t i = 0; i < pk.size(); ++i)
        ops.push_back(pk[i].op(i % 2 ? &tx2 : &tx_));
    protect_rtp(*engine_, ops);
    for (std::size_t i = 0; i < pk.size(); ++i) {
        ASSERT_EQ(ops[i].status, Status::Ok) << i;
        pk[i].len = ops[i].len;
    }
    // Receive them with a duplicate of packet 3 right after it and a forged
    // packet of a new SSRC in the middle.
    std::vector<Packet> in;
    std::vector<Context*> ctx;
    for (std::size_t i = 0; i < pk.size(); ++i) {
        in.push_back(pk[i]);
        ctx.push_back(i % 2 ? &rx2 : &rx_);
        if (i == 3) {
            in.push_back(pk[i]);
            ctx.push_back(&rx2);
        }
        if (i == 70) {
            Packet f = make_rtp(0xBAD, 5, 30);
            f.len += tag();
            in.push_back(f);
            ctx.push_back(&rx_);
        }
    }
    std::vector<PacketOp> rops;
    for (std::size_t i = 0; i < in.size(); ++i)
        rops.push_back(in[i].op(ctx[i]));
    unprotect_rtp(*engine_, rops);
    std::size_t orig = 0;
    for (std::size_t i = 0; i < rops.size(); ++i) {
        if (i == 4) {
            EXPECT_EQ(rops[i].status, Status::Replay);
            continue;
        }
        if (i == 72) {
            EXPECT_EQ(rops[i].status, Status::AuthFail);
            continue;
        }
        ASSERT_EQ(rops[i].status, Status::Ok) << i;
        EXPECT_EQ(test::to_hex(rops[i].data, rops[i].len), test::to_hex(plain[orig])) << i;
        ++orig;
    }
    EXPECT_EQ(orig, 150U);
    EXPECT_EQ(rx_.find_stream(0xBAD), nullptr);
    EXPECT_NE(rx2.find_stream(0x101), nullptr);
}

TEST_P(Transform, NewSsrcTwiceInOneBurstMakesOneStream) {
    Packet a = make_rtp(0x55, 1, 10), b = make_rtp(0x55, 2, 10);
    ASSERT_EQ(protect(tx_, a), Status::Ok);
    ASSERT_EQ(protect(tx_, b), Status::Ok);
    PacketOp ops[2] = {a.op(&rx_), b.op(&rx_)};
    unprotect_rtp(*engine_, ops);
    EXPECT_EQ(ops[0].status, Status::Ok);
    EXPECT_EQ(ops[1].status, Status::Ok);
    ASSERT_NE(rx_.find_stream(0x55), nullptr);
    EXPECT_EQ(rx_.find_stream(0x55)->rtp.highest(), 2U);
}

INSTANTIATE_TEST_SUITE_P(Suites, Transform, ::testing::ValuesIn(kAllSuites),
                         [](const ::testing::TestParamInfo<Suite>& i) {
                             return std::string(suite_info(i.param).name);
                         });

}  // namespace
}  // namespace isthmus::srtp

namespace isthmus::srtp {
namespace {

class TransformEdges : public ::testing::Test {
  protected:
    void init(Engine& e, Context& c, Suite s = Suite::AesCm128HmacSha1_80, ContextOptions o = {}) {
        const SuiteInfo si = suite_info(s);
        std::vector<uint8_t> key(si.master_key_len, 0x5a), salt(si.master_salt_len, 0x3c);
        ASSERT_EQ(c.init(e, s, key, salt, o), SetupStatus::Ok);
    }
};

// RFC 3711 3.3.1: no index beyond 2^48 - 1 on the receiving side either (a
// wrapped index would reuse the IV and ROC of index 0 and let old packets in).
TEST_F(TransformEdges, ReceiverRefusesIndexBeyond2To48) {
    Engine e(ImbArch::Auto);
    Context rx;
    init(e, rx);
    ASSERT_TRUE(rx.set_rollover_counter(9, 0xffffffffU, 0xfff0));
    std::vector<uint8_t> pkt(64, 0);
    pkt[0] = 0x80;
    pkt[3] = 5;  // seq 5: after 0xfff0 that is ROC 2^32
    store_be32(pkt.data() + 8, 9);
    uint32_t len = 12 + 20 + 10;
    EXPECT_EQ(unprotect_rtp(e, rx, pkt.data(), len), Status::KeyExhausted);
    EXPECT_EQ(e.counters().get(Op::UnprotectRtp, Status::KeyExhausted), 1U);
}

// Keys expanded for one manager are refused by an engine of another: GCM key
// tables differ per architecture, and a mix-up must not fail silently.
TEST_F(TransformEdges, ContextOfAnotherEnginesArchIsRefused) {
    Engine sse(ImbArch::Sse), other(ImbArch::Auto);
    ASSERT_NE(other.arch(), ImbArch::Sse) << "needs a CPU with more than SSE";
    Context tx;
    init(sse, tx, Suite::AeadAes128Gcm);
    std::vector<uint8_t> pkt(64, 0);
    pkt[0] = 0x80;
    store_be32(pkt.data() + 8, 1);
    uint32_t len = 30;
    EXPECT_EQ(protect_rtp(other, tx, pkt.data(), len, 64), Status::UnknownContext);
    EXPECT_EQ(protect_rtp(sse, tx, pkt.data(), len, 64), Status::Ok);
}

// A receiving context's stream slots come back when the control plane
// removes an SSRC that left the session.
TEST_F(TransformEdges, RemovedStreamsFreeTheirSlot) {
    Engine e(ImbArch::Auto);
    Context tx, rx;
    init(e, tx);
    init(e, rx, Suite::AesCm128HmacSha1_80, ContextOptions{.max_streams = 1});
    auto send = [&](uint32_t ssrc, uint16_t seq) {
        std::vector<uint8_t> pkt(64, 0);
        pkt[0] = 0x80;
        pkt[3] = static_cast<uint8_t>(seq);
        store_be32(pkt.data() + 8, ssrc);
        uint32_t len = 30;
        EXPECT_EQ(protect_rtp(e, tx, pkt.data(), len, 64), Status::Ok);
        return unprotect_rtp(e, rx, pkt.data(), len);
    };
    EXPECT_EQ(send(0xA, 1), Status::Ok);
    EXPECT_EQ(send(0xB, 1), Status::UnknownSsrc);
    EXPECT_TRUE(rx.remove_stream(0xA));
    EXPECT_FALSE(rx.remove_stream(0xA));
    EXPECT_EQ(send(0xB, 2), Status::Ok);
    EXPECT_NE(rx.find_stream(0xB), nullptr);
    EXPECT_EQ(rx.find_stream(0xA), nullptr);
}

}  // namespace
}  // namespace isthmus::srtp
