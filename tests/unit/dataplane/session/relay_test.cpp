// The relay, fed with frames as a port would give them: SRTP made by
// libsrtp2 in, RTP out (and back), RTCP both ways, every drop reason, source
// checks and learning, IPv6 <-> IPv4. What leaves is parsed again and, where
// it is SRTP, decrypted by libsrtp2.
#include "session/relay.hpp"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "ice/binding.hpp"
#include "ice/writer.hpp"
#include "pkt/build.hpp"
#include "pkt/parse.hpp"
#include "rtp_packets.hpp"
#include "session_fixtures.hpp"

namespace isthmus::session {
namespace {

using dpif::ResultCode;
using test::endpoint4;
using test::endpoint6;
using Bytes = std::vector<uint8_t>;

constexpr uint8_t kAccessMac[6] = {0x02, 0, 0, 0, 0xaa, 0x01};
constexpr uint8_t kCoreMac[6] = {0x02, 0, 0, 0, 0xcc, 0x01};
constexpr uint8_t kBrowserMac[6] = {0x02, 0, 0, 0, 0xb0, 0x01};
constexpr uint8_t kImsMac[6] = {0x02, 0, 0, 0, 0x1a, 0x01};

// A libsrtp2 session for one direction.
class LibSrtp {
  public:
    LibSrtp(const dpif::SrtpKeys& k, bool inbound) {
        static const bool once = [] { return srtp_init() == srtp_err_status_ok; }();
        EXPECT_TRUE(once);
        key_ = test::key_and_salt(k);
        srtp_policy_t p{};
        EXPECT_EQ(k.suite, 0) << "these tests use AES_CM_128_HMAC_SHA1_80 toward libsrtp2";
        srtp_crypto_policy_set_rtp_default(&p.rtp);
        srtp_crypto_policy_set_rtcp_default(&p.rtcp);
        p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
        p.key = key_.data();
        p.window_size = 128;
        EXPECT_EQ(srtp_create(&s_, &p), srtp_err_status_ok);
    }
    ~LibSrtp() { srtp_dealloc(s_); }
    Bytes protect(Bytes b, bool rtcp) {
        int len = static_cast<int>(b.size());
        b.resize(b.size() + SRTP_MAX_TRAILER_LEN + 4);
        EXPECT_EQ(rtcp ? srtp_protect_rtcp(s_, b.data(), &len) : srtp_protect(s_, b.data(), &len),
                  srtp_err_status_ok);
        b.resize(static_cast<std::size_t>(len));
        return b;
    }
    bool unprotect(Bytes& b, bool rtcp) {
        int len = static_cast<int>(b.size());
        const auto st =
            rtcp ? srtp_unprotect_rtcp(s_, b.data(), &len) : srtp_unprotect(s_, b.data(), &len);
        b.resize(static_cast<std::size_t>(len));
        return st == srtp_err_status_ok;
    }

  private:
    srtp_t s_ = nullptr;
    Bytes key_;
};

Bytes rtp(uint16_t seq, uint32_t ssrc = 0x11223344, std::size_t payload = 160) {
    Bytes b;
    test::append_rtp_fixed_header(
        b, {.payload_type = 0, .seq = seq, .timestamp = seq * 160U, .ssrc = ssrc});
    for (std::size_t i = 0; i < payload; ++i)
        b.push_back(static_cast<uint8_t>(seq + i));
    return b;
}
// A receiver report with one report block (RFC 3550 6.4.2).
Bytes rtcp_rr(uint32_t ssrc) {
    Bytes b;
    test::append_rtcp_common_header(b, 1, 201, 7);
    test::push_be32(b, ssrc);
    for (int i = 0; i < 6; ++i)
        test::push_be32(b, 0x01010101U * static_cast<uint32_t>(i + 1));
    return b;
}

// One packet buffer laid out as an mbuf's: headroom, frame, tailroom.
struct Buffer {
    static constexpr uint32_t kHeadroom = 128;
    static constexpr uint32_t kSize = 2048;
    std::array<uint8_t, kSize> mem{};
    RelayPacket pkt{};
};

void frame_into(Buffer& buf, Side arrived, const uint8_t src_mac[6], const uint8_t dst_mac[6],
                const dpif::IpEndpoint& src, const dpif::IpEndpoint& dst, const Bytes& payload) {
    pkt::UdpEgress e{};
    std::memcpy(e.src_mac, src_mac, 6);
    std::memcpy(e.dst_mac, dst_mac, 6);
    e.family = src.family;
    std::memcpy(e.src, src.addr, 16);
    std::memcpy(e.dst, dst.addr, 16);
    e.src_port = src.port;
    e.dst_port = dst.port;
    e.ttl = 64;
    uint8_t* pl = buf.mem.data() + Buffer::kHeadroom + 62;
    std::memcpy(pl, payload.data(), payload.size());
    uint8_t* f = pkt::write_udp_headers(pl, 62 + Buffer::kHeadroom, payload.size(), e);
    ASSERT_NE(f, nullptr);
    buf.pkt = {};
    buf.pkt.data = f;
    buf.pkt.len = static_cast<uint32_t>(pkt::udp_header_room(src.family) + payload.size());
    buf.pkt.headroom = static_cast<uint32_t>(f - buf.mem.data());
    buf.pkt.tailroom = static_cast<uint32_t>(Buffer::kSize - buf.pkt.headroom - buf.pkt.len);
    buf.pkt.arrived = arrived;
}

struct Sent {
    pkt::Frame f;
    Bytes payload;
    const uint8_t* dst_mac;
    const uint8_t* src_mac;
};
Sent parse_sent(const RelayPacket& p) {
    Sent s{};
    EXPECT_EQ(pkt::parse_frame(p.data, p.len, s.f), pkt::Verdict::Udp);
    s.payload.assign(p.data + s.f.payload_offset, p.data + s.f.payload_offset + s.f.payload_len);
    s.dst_mac = p.data;
    s.src_mac = p.data + 6;
    // The buffer bookkeeping stays consistent.
    EXPECT_EQ(p.headroom + p.len + p.tailroom, Buffer::kSize);
    return s;
}
bool is_endpoint(const pkt::Frame& f, bool source, const dpif::IpEndpoint& e) {
    const uint8_t* a = source ? f.src : f.dst;
    const uint16_t port = source ? f.src_port : f.dst_port;
    return f.ip_version == e.family && port == e.port &&
           std::memcmp(a, e.addr, e.family == 6 ? 16 : 4) == 0;
}

class RelayTest : public ::testing::Test {
  protected:
    void SetUp() override {
        cmd_ = test::srtp_to_rtp_command(1);
        std::string why;
        ASSERT_EQ(table_.create(cmd_, why), ResultCode::Ok) << why;
    }
    // Relays one frame; returns its packet.
    RelayPacket& run(Buffer& b) {
        relay_.process(std::span(&b.pkt, 1));
        return b.pkt;
    }
    // A browser SRTP (or SRTCP) packet to the access port.
    void from_browser(Buffer& b, const Bytes& plain, bool rtcp, LibSrtp& tx) {
        frame_into(b, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote, cmd_.access.local,
                   tx.protect(plain, rtcp));
    }
    void from_ims(Buffer& b, const Bytes& plain, bool rtcp) {
        frame_into(b, Side::Core, kImsMac, kCoreMac,
                   rtcp ? cmd_.core.remote_rtcp : cmd_.core.remote,
                   rtcp ? cmd_.core.local_rtcp : cmd_.core.local, plain);
    }
    uint64_t drops(RelayDrop d) const {
        return relay_.counters().drops[static_cast<std::size_t>(d)];
    }

    srtp::Engine engine_{srtp::ImbArch::Auto};
    SessionTable table_{engine_, {16, 0}};
    Relay relay_{table_, engine_, kAccessMac, kCoreMac};
    dpif::Command cmd_{};
    LibSrtp browser_tx_{test::sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x10), false};
    LibSrtp browser_rx_{test::sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x80), true};
};

TEST_F(RelayTest, SrtpFromBrowserLeavesAsRtpTowardTheIms) {
    ASSERT_TRUE(table_.set_next_hop(1, Side::Core, kImsMac));
    for (uint16_t seq = 100; seq < 110; ++seq) {
        Buffer b;
        const Bytes plain = rtp(seq);
        from_browser(b, plain, false, browser_tx_);
        const RelayPacket& p = run(b);
        ASSERT_EQ(p.action, Action::ToCore) << relay_drop_name(p.drop);
        const Sent s = parse_sent(p);
        EXPECT_TRUE(is_endpoint(s.f, true, cmd_.core.local));
        EXPECT_TRUE(is_endpoint(s.f, false, cmd_.core.remote));
        EXPECT_EQ(0, std::memcmp(s.dst_mac, kImsMac, 6));
        EXPECT_EQ(0, std::memcmp(s.src_mac, kCoreMac, 6));
        EXPECT_EQ(s.payload, plain);  // PT, SSRC, seq, timestamp and payload unchanged
    }
    EXPECT_EQ(relay_.counters().relayed_packets[0], 10U);
    EXPECT_EQ(table_.at(table_.slot_of(1)).relayed[0], 10U);
}

TEST_F(RelayTest, RtpFromTheImsLeavesAsSrtpThatLibsrtpDecrypts) {
    // The browser's MAC is learned from its first accepted packet.
    ASSERT_TRUE(table_.set_next_hop(1, Side::Core, kImsMac));
    Buffer first;
    from_browser(first, rtp(1), false, browser_tx_);
    ASSERT_EQ(run(first).action, Action::ToCore);
    for (uint16_t seq = 5000; seq < 5010; ++seq) {
        Buffer b;
        const Bytes plain = rtp(seq, 0xabcdef01);
        from_ims(b, plain, false);
        const RelayPacket& p = run(b);
        ASSERT_EQ(p.action, Action::ToAccess) << relay_drop_name(p.drop);
        Sent s = parse_sent(p);
        EXPECT_TRUE(is_endpoint(s.f, true, cmd_.access.local));
        EXPECT_TRUE(is_endpoint(s.f, false, cmd_.access.remote));
        EXPECT_EQ(0, std::memcmp(s.dst_mac, kBrowserMac, 6));
        EXPECT_EQ(0, std::memcmp(s.src_mac, kAccessMac, 6));
        EXPECT_EQ(s.payload.size(), plain.size() + 10);
        ASSERT_TRUE(browser_rx_.unprotect(s.payload, false));
        EXPECT_EQ(s.payload, plain);
    }
}

TEST_F(RelayTest, RtcpBothWaysMuxedOnTheAccessLegOwnPortsOnTheCore) {
    ASSERT_TRUE(table_.set_next_hop(1, Side::Core, kImsMac));
    Buffer a;
    const Bytes rr = rtcp_rr(0x11223344);
    from_browser(a, rr, true, browser_tx_);
    const RelayPacket& pa = run(a);
    ASSERT_EQ(pa.action, Action::ToCore) << relay_drop_name(pa.drop);
    const Sent sa = parse_sent(pa);
    EXPECT_TRUE(is_endpoint(sa.f, true, cmd_.core.local_rtcp));
    EXPECT_TRUE(is_endpoint(sa.f, false, cmd_.core.remote_rtcp));
    EXPECT_EQ(sa.payload, rr);

    Buffer c;
    const Bytes rr2 = rtcp_rr(0xabcdef01);
    from_ims(c, rr2, true);
    const RelayPacket& pc = run(c);
    ASSERT_EQ(pc.action, Action::ToAccess) << relay_drop_name(pc.drop);
    Sent sc = parse_sent(pc);
    EXPECT_TRUE(is_endpoint(sc.f, true, cmd_.access.local));  // rtcp-mux
    EXPECT_TRUE(is_endpoint(sc.f, false, cmd_.access.remote));
    ASSERT_TRUE(browser_rx_.unprotect(sc.payload, true));
    EXPECT_EQ(sc.payload, rr2);
}

TEST_F(RelayTest, ForgedReplayedAndMisaddressedPacketsAreDroppedAndCounted) {
    ASSERT_TRUE(table_.set_next_hop(1, Side::Core, kImsMac));
    Buffer good;
    from_browser(good, rtp(7), false, browser_tx_);
    const Bytes copy(good.pkt.data, good.pkt.data + good.pkt.len);
    ASSERT_EQ(run(good).action, Action::ToCore);

    Buffer replay;  // the same packet again
    frame_into(replay, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote, cmd_.access.local,
               Bytes(copy.begin() + 42, copy.end()));
    EXPECT_EQ(run(replay).drop, RelayDrop::SrtpIn);

    Buffer forged;
    Bytes srtp = browser_tx_.protect(rtp(8), false);
    srtp[20] ^= 1;
    frame_into(forged, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote, cmd_.access.local,
               srtp);
    EXPECT_EQ(run(forged).drop, RelayDrop::SrtpIn);
    EXPECT_EQ(engine_.counters().get(srtp::Op::UnprotectRtp, srtp::Status::AuthFail), 1U);
    EXPECT_EQ(engine_.counters().get(srtp::Op::UnprotectRtp, srtp::Status::Replay), 1U);

    Buffer stranger;  // right keys, wrong source address
    frame_into(stranger, Side::Access, kBrowserMac, kAccessMac, endpoint4("198.18.0.66", 5000),
               cmd_.access.local, browser_tx_.protect(rtp(9), false));
    EXPECT_EQ(run(stranger).drop, RelayDrop::WrongSource);

    Buffer ims_stranger;  // plain RTP from anyone but the IMS UE
    frame_into(ims_stranger, Side::Core, kImsMac, kCoreMac, endpoint4("198.18.1.21", 6000),
               cmd_.core.local, rtp(1));
    EXPECT_EQ(run(ims_stranger).drop, RelayDrop::WrongSource);

    Buffer stun;
    Bytes binding = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
    binding.resize(20, 0);
    frame_into(stun, Side::Core, kImsMac, kCoreMac, cmd_.core.remote, cmd_.core.local, binding);
    EXPECT_EQ(run(stun).drop, RelayDrop::NotMedia);

    Buffer bad_sum;
    from_ims(bad_sum, rtp(2), false);
    bad_sum.pkt.data[24] ^= 0xff;  // IPv4 header checksum
    EXPECT_EQ(run(bad_sum).drop, RelayDrop::Malformed);
    EXPECT_EQ(relay_.counters().malformed[static_cast<std::size_t>(pkt::Drop::BadIpChecksum)], 1U);

    EXPECT_EQ(drops(RelayDrop::SrtpIn), 2U);
    EXPECT_EQ(drops(RelayDrop::WrongSource), 2U);
    EXPECT_EQ(drops(RelayDrop::NotMedia), 1U);
    EXPECT_EQ(drops(RelayDrop::Malformed), 1U);
    const Session& s = table_.at(table_.slot_of(1));
    EXPECT_EQ(s.dropped[0], 3U);  // replay, forged, stranger
    EXPECT_EQ(s.dropped[1], 2U);  // stranger, STUN (the bad checksum has no session)
}

TEST_F(RelayTest, ALegTakesPacketsOnlyFromItsOwnSidesPort) {
    ASSERT_TRUE(table_.set_next_hop(1, Side::Access, kBrowserMac));
    // "IMS" RTP with the IMS UE's source address, but arriving on the access
    // port (injected from the browsers' network).
    Buffer b;
    frame_into(b, Side::Access, kImsMac, kAccessMac, cmd_.core.remote, cmd_.core.local, rtp(1));
    EXPECT_EQ(run(b).drop, RelayDrop::WrongSource);
    EXPECT_FALSE(table_.at(table_.slot_of(1)).leg[1].mac_known);  // nothing learned from it
}

TEST_F(RelayTest, OnANonMuxedRtpPortEveryPayloadTypeIsRtp) {
    ASSERT_TRUE(table_.set_next_hop(1, Side::Access, kBrowserMac));
    // Marker set and PT 72: the second octet is 200, RTCP's SR type on a
    // muxed port (RFC 5761 4); the core leg is not muxed, so it is RTP.
    Bytes b = rtp(33);
    b[1] = 0x80 | 72;
    Buffer in;
    from_ims(in, b, false);
    ASSERT_EQ(run(in).action, Action::ToAccess) << relay_drop_name(in.pkt.drop);
    Sent s = parse_sent(in.pkt);
    ASSERT_TRUE(browser_rx_.unprotect(s.payload, false));  // protected as SRTP, not SRTCP
    EXPECT_EQ(s.payload, b);
}

TEST_F(RelayTest, WithTxChecksumOffloadTheChecksumsAreLeftToTheNic) {
    ASSERT_TRUE(table_.set_next_hop(1, Side::Core, kImsMac));
    relay_.set_checksums(Side::Core, pkt::Checksums::Offload);
    Buffer b;
    from_browser(b, rtp(5), false, browser_tx_);
    const RelayPacket& p = run(b);
    ASSERT_EQ(p.action, Action::ToCore) << relay_drop_name(p.drop);
    EXPECT_TRUE(p.tx_offload);
    EXPECT_EQ(p.out_family, 4);
    EXPECT_EQ(p.data[14 + 10], 0);  // IPv4 header checksum: the NIC's
    EXPECT_EQ(p.data[14 + 11], 0);
    // The UDP field holds the pseudo-header sum the NIC starts from.
    uint32_t pseudo = pkt::ones_complement_add(p.data + 14 + 12, 8, 0) + 17 + (p.len - 34);
    while ((pseudo >> 16) != 0)
        pseudo = (pseudo & 0xffffU) + (pseudo >> 16);
    EXPECT_EQ((p.data[34 + 6] << 8) | p.data[34 + 7], static_cast<int>(pseudo));
    // The access side still computes in software.
    ASSERT_TRUE(table_.set_next_hop(1, Side::Access, kBrowserMac));
    Buffer c;
    from_ims(c, rtp(6), false);
    ASSERT_EQ(run(c).action, Action::ToAccess);
    EXPECT_FALSE(c.pkt.tx_offload);
    parse_sent(c.pkt);  // checksums verify
}

// ICE-lite on the access leg (issue 5 groundwork): checks answered inline,
// the nominated source becomes the remote, media only from it.
class IceRelayTest : public RelayTest {
  protected:
    static constexpr const char* kPwd = "gw-ice-password-0123456789";
    void SetUp() override {
        RelayTest::SetUp();
        dpif::Command c = test::srtp_to_rtp_command(7);
        c.access.local.port = 44000;
        c.access.remote = {};
        std::snprintf(c.access.ice_ufrag, sizeof c.access.ice_ufrag, "gwuf");
        std::snprintf(c.access.ice_pwd, sizeof c.access.ice_pwd, "%s", kPwd);
        std::snprintf(c.access.remote_ufrag, sizeof c.access.remote_ufrag, "brws");
        c.core.local.port = 54000;
        c.core.local_rtcp.port = 54001;
        std::string why;
        ASSERT_EQ(table_.create(c, why), ResultCode::Ok) << why;
        ASSERT_TRUE(table_.set_next_hop(7, Side::Core, kImsMac));
        ice_cmd_ = c;
    }
    // A Binding request as a controlling browser sends it.
    Bytes check(const char* username, const char* pwd, bool use_candidate) {
        Bytes b(200);
        const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        ice::MessageWriter w(b.data(), b.size(),
                             ice::message_type(ice::kMethodBinding, ice::MessageClass::Request),
                             tid);
        w.add_text(ice::attr::kUsername, username);
        w.add_u32(ice::attr::kPriority, 0x6e001eff);
        w.add_u64(ice::attr::kIceControlling, 0x1122334455667788ULL);
        if (use_candidate) w.add(ice::attr::kUseCandidate, nullptr, 0);
        w.add_message_integrity(ice::IntegrityKey::short_term(pwd));
        w.add_fingerprint();
        b.resize(w.finish());
        return b;
    }
    void from(Buffer& b, const char* ip, uint16_t port, const Bytes& payload) {
        frame_into(b, Side::Access, kBrowserMac, kAccessMac, endpoint4(ip, port),
                   ice_cmd_.access.local, payload);
    }
    dpif::Command ice_cmd_{};
};

TEST_F(IceRelayTest, AnAuthenticatedNominationSelectsTheRemoteAndIsAnsweredInPlace) {
    Buffer media_first;  // SRTP before any check: no remote, nothing learned from it
    from(media_first, "198.18.0.10", 5000, browser_tx_.protect(rtp(1), false));
    EXPECT_EQ(run(media_first).drop, RelayDrop::WrongSource);

    Buffer b;
    from(b, "198.18.0.10", 5000, check("gwuf:brws", kPwd, true));
    const RelayPacket& p = run(b);
    ASSERT_EQ(p.action, Action::ToAccess) << relay_drop_name(p.drop);
    Sent s = parse_sent(p);
    EXPECT_TRUE(is_endpoint(s.f, true, ice_cmd_.access.local));
    EXPECT_TRUE(is_endpoint(s.f, false, endpoint4("198.18.0.10", 5000)));
    EXPECT_EQ(0, std::memcmp(s.dst_mac, kBrowserMac, 6));
    ice::Message m;
    ASSERT_EQ(ice::parse_message(s.payload.data(), s.payload.size(), m), ice::Verdict::Ok);
    EXPECT_EQ(m.cls, ice::MessageClass::SuccessResponse);
    EXPECT_TRUE(ice::verify_integrity(s.payload.data(), m, ice::IntegrityKey::short_term(kPwd)));
    ice::TransportAddress mapped;
    ASSERT_TRUE(ice::decode_xor_address(s.payload.data(), m.xor_mapped_address, mapped));
    EXPECT_EQ(mapped.port, 5000);
    ASSERT_EQ(relay_.events().size(), 1U);
    EXPECT_EQ(relay_.events()[0].session_id, 7U);
    EXPECT_EQ(relay_.events()[0].remote.port, 5000);

    Buffer media;  // now from the nominated address: relayed
    from(media, "198.18.0.10", 5000, browser_tx_.protect(rtp(2), false));
    EXPECT_EQ(run(media).action, Action::ToCore);
    Buffer other;  // valid SRTP from anywhere else: refused
    from(other, "198.18.0.11", 5000, browser_tx_.protect(rtp(3), false));
    EXPECT_EQ(run(other).drop, RelayDrop::WrongSource);
    EXPECT_EQ(relay_.counters().ice_selected, 1U);
}

TEST_F(IceRelayTest, ChecksThatDoNotAuthenticateSelectNothing) {
    Buffer wrong_pwd;
    from(wrong_pwd, "198.18.0.66", 5000, check("gwuf:brws", "not-the-password-at-all!", true));
    const RelayPacket& p = run(wrong_pwd);
    ASSERT_EQ(p.action, Action::ToAccess);  // a 401 goes back
    const Sent s = parse_sent(p);
    ice::Message m;
    ASSERT_EQ(ice::parse_message(s.payload.data(), s.payload.size(), m), ice::Verdict::Ok);
    EXPECT_EQ(m.cls, ice::MessageClass::ErrorResponse);
    Buffer wrong_user;
    from(wrong_user, "198.18.0.66", 5000, check("other:brws", kPwd, true));
    EXPECT_EQ(run(wrong_user).action, Action::ToAccess);
    Buffer no_nomination;  // authenticated but not nominated: answered, not selected
    from(no_nomination, "198.18.0.10", 5000, check("gwuf:brws", kPwd, false));
    EXPECT_EQ(run(no_nomination).action, Action::ToAccess);
    EXPECT_FALSE(table_.at(table_.slot_of(7)).leg[0].remote.set());
    EXPECT_EQ(relay_.counters().ice_selected, 0U);
    Buffer garbage;  // STUN-looking bytes that do not parse: dropped, counted
    Bytes g(20, 0);
    g[1] = 1;
    from(garbage, "198.18.0.10", 5000, g);
    EXPECT_EQ(run(garbage).drop, RelayDrop::StunRefused);
}

TEST_F(IceRelayTest, ConsentExpiresThirtySecondsAfterTheLastValidCheckAndComesBack) {
    constexpr uint64_t kSec = 1000000000ULL;
    relay_.set_now(100 * kSec);
    Buffer nominate;
    from(nominate, "198.18.0.10", 5000, check("gwuf:brws", kPwd, true));
    ASSERT_EQ(run(nominate).action, Action::ToAccess);
    const auto toward_browser = [&](uint16_t seq) {
        Buffer b;
        frame_into(b, Side::Core, kImsMac, kCoreMac, ice_cmd_.core.remote, ice_cmd_.core.local,
                   rtp(seq));
        relay_.process(std::span(&b.pkt, 1));
        return b.pkt;
    };
    EXPECT_EQ(toward_browser(1).action, Action::ToAccess);
    // A valid check at +20 s keeps consent past the first 30 s.
    relay_.set_now(120 * kSec);
    Buffer keep;
    from(keep, "198.18.0.10", 5000, check("gwuf:brws", kPwd, false));
    ASSERT_EQ(run(keep).action, Action::ToAccess);
    relay_.set_now(140 * kSec);
    relay_.check_consent(16);
    EXPECT_TRUE(relay_.events().empty());
    EXPECT_EQ(toward_browser(2).action, Action::ToAccess);
    // Nothing for more than 30 s: consent lost, media toward it stops.
    relay_.set_now(151 * kSec);
    relay_.check_consent(16);
    ASSERT_EQ(relay_.events().size(), 1U);
    EXPECT_EQ(relay_.events()[0].kind, RelayEvent::Kind::ConsentLost);
    EXPECT_EQ(relay_.events()[0].session_id, 7U);
    EXPECT_EQ(toward_browser(3).drop, RelayDrop::NoConsent);
    // A forged check does not bring it back; a valid one does.
    Buffer forged;
    from(forged, "198.18.0.10", 5000, check("gwuf:brws", "not-the-password-at-all!", false));
    run(forged);
    EXPECT_EQ(toward_browser(4).drop, RelayDrop::NoConsent);
    Buffer again;
    from(again, "198.18.0.10", 5000, check("gwuf:brws", kPwd, false));
    relay_.process(std::span(&again.pkt, 1));
    ASSERT_EQ(relay_.events().size(), 1U);
    EXPECT_EQ(relay_.events()[0].kind, RelayEvent::Kind::ConsentRestored);
    EXPECT_EQ(toward_browser(5).action, Action::ToAccess);
}

TEST_F(RelayTest, FramesNoFlowOwnsGoToTheKernel) {
    Buffer other_port;
    frame_into(other_port, Side::Core, kImsMac, kCoreMac, cmd_.core.remote,
               endpoint4("198.18.1.2", 50010), rtp(1));
    EXPECT_EQ(run(other_port).action, Action::ToKernel);
    Buffer arp;
    arp.pkt = {};
    uint8_t* f = arp.mem.data() + Buffer::kHeadroom;
    std::memset(f, 0xff, 6);
    std::memcpy(f + 6, kImsMac, 6);
    f[12] = 0x08;
    f[13] = 0x06;
    arp.pkt.data = f;
    arp.pkt.len = 60;
    arp.pkt.headroom = Buffer::kHeadroom;
    arp.pkt.tailroom = Buffer::kSize - Buffer::kHeadroom - 60;
    arp.pkt.arrived = Side::Core;
    EXPECT_EQ(run(arp).action, Action::ToKernel);
    EXPECT_EQ(relay_.counters().to_kernel, 2U);
}

TEST_F(RelayTest, NothingLeavesWithoutAnAddressOrANextHop) {
    Buffer b;
    from_browser(b, rtp(1), false, browser_tx_);
    EXPECT_EQ(run(b).drop, RelayDrop::NoNeighbour);  // the IMS UE has not been resolved
    Buffer c;
    from_ims(c, rtp(1), false);  // teaches the IMS UE's MAC
    ASSERT_EQ(run(c).action, Action::ToAccess);
    Buffer d;
    from_browser(d, rtp(2), false, browser_tx_);
    EXPECT_EQ(run(d).action, Action::ToCore);
}

TEST_F(RelayTest, AnOpenAccessLegLearnsItsRemoteOnlyFromAnAuthenticPacket) {
    dpif::Command c = test::srtp_to_rtp_command(2);
    c.access.local.port = 41000;
    c.access.remote = {};
    c.core.local.port = 51000;
    c.core.local_rtcp.port = 51001;
    std::string why;
    ASSERT_EQ(table_.create(c, why), ResultCode::Ok) << why;
    ASSERT_TRUE(table_.set_next_hop(2, Side::Core, kImsMac));
    const auto from = [&](Buffer& b, const char* ip, const Bytes& srtp) {
        frame_into(b, Side::Access, kBrowserMac, kAccessMac, endpoint4(ip, 5555), c.access.local,
                   srtp);
    };
    Buffer toward_browser;  // nothing is known about the browser yet
    frame_into(toward_browser, Side::Core, kImsMac, kCoreMac, c.core.remote, c.core.local, rtp(1));
    EXPECT_EQ(run(toward_browser).drop, RelayDrop::NoRemote);

    Buffer forged;
    Bytes bad = browser_tx_.protect(rtp(1), false);
    bad.back() ^= 1;
    from(forged, "198.18.0.77", bad);
    EXPECT_EQ(run(forged).drop, RelayDrop::SrtpIn);
    EXPECT_FALSE(table_.at(table_.slot_of(2)).leg[0].remote.set());

    Buffer good;
    from(good, "198.18.0.11", browser_tx_.protect(rtp(2), false));
    EXPECT_EQ(run(good).action, Action::ToCore);
    const Endpoint& learned = table_.at(table_.slot_of(2)).leg[0].remote;
    ASSERT_TRUE(learned.set());
    EXPECT_EQ(learned.port, 5555);

    Buffer other;  // a second source with valid packets is not followed
    from(other, "198.18.0.12", browser_tx_.protect(rtp(3), false));
    EXPECT_EQ(run(other).drop, RelayDrop::WrongSource);

    Buffer back;
    frame_into(back, Side::Core, kImsMac, kCoreMac, c.core.remote, c.core.local, rtp(2));
    ASSERT_EQ(run(back).action, Action::ToAccess);
    const Sent s = parse_sent(back.pkt);
    EXPECT_TRUE(is_endpoint(s.f, false, endpoint4("198.18.0.11", 5555)));
}

TEST_F(RelayTest, Ipv6BrowserToIpv4Ims) {
    dpif::Command c = test::srtp_to_rtp_command(3);
    c.access.local = endpoint6("2001:2::2", 40000);
    c.access.remote = endpoint6("2001:2::10", 5000);
    c.core.local.port = 53000;
    c.core.local_rtcp.port = 53001;
    std::string why;
    ASSERT_EQ(table_.create(c, why), ResultCode::Ok) << why;
    ASSERT_TRUE(table_.set_next_hop(3, Side::Core, kImsMac));
    ASSERT_TRUE(table_.set_next_hop(3, Side::Access, kBrowserMac));
    Buffer in;
    const Bytes plain = rtp(10);
    frame_into(in, Side::Access, kBrowserMac, kAccessMac, c.access.remote, c.access.local,
               browser_tx_.protect(plain, false));
    ASSERT_EQ(run(in).action, Action::ToCore);
    const Sent s = parse_sent(in.pkt);
    EXPECT_EQ(s.f.ip_version, 4);
    EXPECT_EQ(s.payload, plain);

    Buffer out;
    const Bytes back = rtp(20, 0x99);
    frame_into(out, Side::Core, kImsMac, kCoreMac, c.core.remote, c.core.local, back);
    ASSERT_EQ(run(out).action, Action::ToAccess);
    Sent s6 = parse_sent(out.pkt);  // parse_frame checks the (mandatory) UDP checksum
    EXPECT_EQ(s6.f.ip_version, 6);
    EXPECT_TRUE(is_endpoint(s6.f, false, c.access.remote));
    ASSERT_TRUE(browser_rx_.unprotect(s6.payload, false));
    EXPECT_EQ(s6.payload, back);
}

TEST_F(RelayTest, ABurstOfManySessionsAndKindsKeepsEachVerdict) {
    // 3 sessions x (browser SRTP, IMS RTP) interleaved with junk, one burst.
    std::string why;
    for (uint64_t id = 10; id < 13; ++id) {
        dpif::Command c = test::srtp_to_rtp_command(id);
        const auto off = static_cast<uint16_t>(id * 10);
        c.access.local.port = static_cast<uint16_t>(40000 + off);
        c.core.local.port = static_cast<uint16_t>(50000 + off);
        c.core.local_rtcp.port = static_cast<uint16_t>(50001 + off);
        ASSERT_EQ(table_.create(c, why), ResultCode::Ok) << why;
        ASSERT_TRUE(table_.set_next_hop(id, Side::Core, kImsMac));
        ASSERT_TRUE(table_.set_next_hop(id, Side::Access, kBrowserMac));
    }
    std::vector<Buffer> bufs(9);
    std::vector<Action> want;
    std::vector<Bytes> plain;
    for (uint64_t id = 10; id < 13; ++id) {
        const std::size_t k = (id - 10) * 3;
        const auto off = static_cast<uint16_t>(id * 10);
        const Bytes p = rtp(static_cast<uint16_t>(id));
        frame_into(bufs[k], Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote,
                   endpoint4("198.18.0.2", static_cast<uint16_t>(40000 + off)),
                   browser_tx_.protect(p, false));
        frame_into(bufs[k + 1], Side::Core, kImsMac, kCoreMac, cmd_.core.remote,
                   endpoint4("198.18.1.2", static_cast<uint16_t>(50000 + off)), p);
        frame_into(bufs[k + 2], Side::Core, kImsMac, kCoreMac, cmd_.core.remote,
                   endpoint4("198.18.1.2", static_cast<uint16_t>(50005 + off)), p);
        want.insert(want.end(), {Action::ToCore, Action::ToAccess, Action::ToKernel});
        plain.push_back(p);
    }
    std::vector<RelayPacket> burst;
    for (auto& b : bufs)
        burst.push_back(b.pkt);
    relay_.process(burst);
    for (std::size_t i = 0; i < burst.size(); ++i) {
        EXPECT_EQ(burst[i].action, want[i]) << i << " " << relay_drop_name(burst[i].drop);
        if (burst[i].action == Action::ToCore) {
            EXPECT_EQ(parse_sent(burst[i]).payload, plain[i / 3]);
        }
    }
}

// Hostile input: valid frames mutated at random (bit flips, truncation,
// garbage) in bursts of every size. Nothing crashes (ASan/UBSan run this
// too), every frame gets exactly one verdict, and the counters add up:
// received = relayed + to the kernel + dropped.
TEST_F(RelayTest, MutatedFramesAreAllAccountedFor) {
    ASSERT_TRUE(table_.set_next_hop(1, Side::Core, kImsMac));
    ASSERT_TRUE(table_.set_next_hop(1, Side::Access, kBrowserMac));
    std::mt19937 rng(7983);
    std::vector<Buffer> bufs(64);
    uint64_t offered = 0;
    for (int round = 0; round < 400; ++round) {
        const std::size_t n = 1 + rng() % 64;
        std::vector<RelayPacket> burst;
        for (std::size_t i = 0; i < n; ++i) {
            Buffer& b = bufs[i];
            const uint16_t seq = static_cast<uint16_t>(round * 64 + static_cast<int>(i));
            if (rng() % 2 == 0) {
                from_browser(b, rtp(seq), rng() % 8 == 0, browser_tx_);
            } else {
                from_ims(b, rtp(seq), rng() % 8 == 0);
            }
            switch (rng() % 4) {
                case 0:  // a few bit flips anywhere in the frame
                    for (int k = 0; k < 3; ++k)
                        b.pkt.data[rng() % b.pkt.len] ^= static_cast<uint8_t>(1U << (rng() % 8));
                    break;
                case 1:  // truncated
                    b.pkt.len = static_cast<uint32_t>(rng() % b.pkt.len);
                    b.pkt.tailroom = Buffer::kSize - b.pkt.headroom - b.pkt.len;
                    break;
                case 2:  // garbage after the Ethernet header
                    for (uint32_t k = 14; k < b.pkt.len; ++k)
                        b.pkt.data[k] = static_cast<uint8_t>(rng());
                    break;
                default:  // left valid
                    break;
            }
            burst.push_back(b.pkt);
        }
        offered += n;
        relay_.process(burst);
        for (const RelayPacket& p : burst) {
            if (p.action == Action::Drop) {
                EXPECT_NE(p.drop, RelayDrop::None);
            } else {
                EXPECT_EQ(p.drop, RelayDrop::None);
            }
            EXPECT_GE(p.data, p.data - p.headroom);
        }
    }
    const RelayCounters& c = relay_.counters();
    uint64_t drops = 0;
    for (std::size_t r = 1; r < kRelayDropCount; ++r)
        drops += c.drops[r];
    EXPECT_EQ(c.rx_packets[0] + c.rx_packets[1], offered);
    EXPECT_EQ(c.relayed_packets[0] + c.relayed_packets[1] + c.to_kernel + drops, offered);
    EXPECT_GT(c.relayed_packets[0] + c.relayed_packets[1], 0U);  // the valid ones went through
    EXPECT_GT(drops, 0U);
}

}  // namespace
}  // namespace isthmus::session
