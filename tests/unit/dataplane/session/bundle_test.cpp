// BUNDLE in the session table and the relay (dpif BundleSpec, RFC 8843):
// an audio and a video m= line on one access transport, each with its own
// core leg. The browser's RTP reaches the m= line its payload type names,
// its RTCP the one whose SSRC it sends or reports on; what either core leg
// receives leaves on the transport under its keys (libsrtp2 decrypts it).
#include "relay_fixture.hpp"

namespace isthmus::session::relay_rig {
namespace {

constexpr uint64_t kAudio = 1;  // the transport (RelayTest's reference session)
constexpr uint64_t kVideo = 2;

dpif::Command video_member(uint64_t transport = kAudio) {
    dpif::Command c = test::srtp_to_rtp_command(kVideo);
    c.access = dpif::LegSpec{};
    c.core.local = endpoint4("198.18.1.2", 50002);
    c.core.local_rtcp = endpoint4("198.18.1.2", 50003);
    c.core.remote = endpoint4("198.18.1.20", 6002);
    c.core.remote_rtcp = endpoint4("198.18.1.20", 6003);
    c.bundle.transport = transport;
    c.bundle.pt_count = 3;
    c.bundle.payload_types[0] = 96;
    c.bundle.payload_types[1] = 97;
    c.bundle.payload_types[2] = 102;
    return c;
}

Bytes rtp_pt(uint8_t pt, uint16_t seq, uint32_t ssrc) {
    Bytes b = rtp(seq, ssrc);
    b[1] = static_cast<uint8_t>((b[1] & 0x80) | pt);
    return b;
}

// A sender report of `sender` with one report block about `about`.
Bytes rtcp_sr(uint32_t sender, uint32_t about) {
    Bytes b;
    test::append_rtcp_common_header(b, 1, 200, 12);
    test::push_be32(b, sender);
    for (int i = 0; i < 5; ++i)  // NTP (2), RTP timestamp, packets, octets
        test::push_be32(b, 0x10 + static_cast<uint32_t>(i));
    test::push_be32(b, about);
    for (int i = 0; i < 5; ++i)
        test::push_be32(b, 0x20 + static_cast<uint32_t>(i));
    return b;
}

// A PLI (RFC 4585 6.3.1) from `sender` about `media`.
Bytes rtcp_pli(uint32_t sender, uint32_t media) {
    Bytes b;
    test::append_rtcp_common_header(b, 1, 206, 2);
    test::push_be32(b, sender);
    test::push_be32(b, media);
    return b;
}

class BundleTest : public RelayTest {
  protected:
    void SetUp() override {
        RelayTest::SetUp();
        // The reference session becomes the transport: audio, PT 0 and 8.
        dpif::Command t = cmd_;
        t.hdr.type = dpif::MsgType::SessionUpdate;
        t.bundle.transport = kAudio;
        t.bundle.pt_count = 2;
        t.bundle.payload_types[0] = 0;
        t.bundle.payload_types[1] = 8;
        std::string why;
        ASSERT_EQ(table_.update(t, why), ResultCode::Ok) << why;
        transport_cmd_ = t;
        video_ = video_member();
        ASSERT_EQ(table_.create(video_, why), ResultCode::Ok) << why;
        ASSERT_TRUE(table_.set_next_hop(kAudio, Side::Core, kImsMac));
        ASSERT_TRUE(table_.set_next_hop(kVideo, Side::Core, kImsMac));
    }
    const Session& session(uint64_t id) const { return table_.at(table_.slot_of(id)); }
    void from_ims_video(Buffer& b, const Bytes& plain, bool rtcp) {
        frame_into(b, Side::Core, kImsMac, kCoreMac,
                   rtcp ? video_.core.remote_rtcp : video_.core.remote,
                   rtcp ? video_.core.local_rtcp : video_.core.local, plain);
    }
    // Sends one browser packet; returns where it went (the frame parsed).
    Sent browser_sends(const Bytes& plain, bool rtcp, Action want = Action::ToCore) {
        Buffer b;
        from_browser(b, plain, rtcp, browser_tx_);
        const RelayPacket& p = run(b);
        EXPECT_EQ(p.action, want) << relay_drop_name(p.drop);
        if (p.action != Action::ToCore && p.action != Action::ToAccess) return Sent{};
        return parse_sent(p);
    }

    dpif::Command transport_cmd_{};
    dpif::Command video_{};
};

TEST_F(BundleTest, TheTableKeepsOneGroupForTheTransportAndItsMembers) {
    EXPECT_EQ(table_.groups_in_use(), 1U);
    const Session& a = session(kAudio);
    const Session& v = session(kVideo);
    EXPECT_EQ(a.leg[0].bundle, kBundleTransport);
    EXPECT_EQ(v.leg[0].bundle, kBundleMember);
    EXPECT_FALSE(v.leg[0].local.set());
    ASSERT_EQ(a.bundle_group, v.bundle_group);
    const BundleGroup& g = table_.group(a.bundle_group);
    EXPECT_EQ(g.refs, 2U);
    EXPECT_EQ(g.transport, table_.slot_of(kAudio));
    EXPECT_EQ(g.pt_index[0], a.bundle_index);
    EXPECT_EQ(g.pt_index[8], a.bundle_index);
    EXPECT_EQ(g.pt_index[96], v.bundle_index);
    EXPECT_EQ(g.pt_index[111], BundleGroup::kNoIndex);
    EXPECT_EQ(table_.sending_leg(v, Side::Access), &a.leg[0]);
    EXPECT_EQ(table_.sending_leg(v, Side::Core), &v.leg[1]);
    // The member's only flows are its core ports.
    EXPECT_EQ(table_.flows().size(), 3U + 2U);
}

TEST_F(BundleTest, MembersAreRefusedWhatTheyCannotBe) {
    std::string why;
    // An access leg of its own.
    dpif::Command c = video_member();
    c.hdr.session_id = 3;
    c.core.local.port = 50004;
    c.core.local_rtcp.port = 50005;
    c.bundle.payload_types[0] = 100;
    c.bundle.pt_count = 1;
    dpif::Command own = c;
    own.access.local = endpoint4("198.18.0.2", 40002);
    EXPECT_EQ(table_.create(own, why), ResultCode::BadParams);
    EXPECT_NE(why.find("transport"), std::string::npos) << why;
    // A transport that is not one.
    dpif::Command nowhere = c;
    nowhere.bundle.transport = 99;
    EXPECT_EQ(table_.create(nowhere, why), ResultCode::BadParams);
    dpif::Command onto_member = c;
    onto_member.bundle.transport = kVideo;
    EXPECT_EQ(table_.create(onto_member, why), ResultCode::BadParams);
    // A payload type another m= line has.
    dpif::Command taken = c;
    taken.bundle.payload_types[0] = 97;
    EXPECT_EQ(table_.create(taken, why), ResultCode::BadParams);
    EXPECT_NE(why.find("97"), std::string::npos) << why;
    // Too many payload types, one twice, one above 127.
    dpif::Command many = c;
    many.bundle.pt_count = dpif::kMaxBundlePayloadTypes + 1;
    EXPECT_EQ(table_.create(many, why), ResultCode::BadParams);
    dpif::Command twice = c;
    twice.bundle.pt_count = 2;
    twice.bundle.payload_types[1] = 100;
    EXPECT_EQ(table_.create(twice, why), ResultCode::BadParams);
    dpif::Command high = c;
    high.bundle.payload_types[0] = 128;
    EXPECT_EQ(table_.create(high, why), ResultCode::BadParams);
    // Nothing of it stayed; the good one goes in.
    EXPECT_EQ(table_.size(), 2U);
    EXPECT_EQ(table_.create(c, why), ResultCode::Ok) << why;
    EXPECT_EQ(table_.group(session(kAudio).bundle_group).refs, 3U);
}

TEST_F(BundleTest, ATransportIsAnSrtpLegAndAnMLineMayHaveNoPayloadType) {
    std::string why;
    dpif::Command plain = test::srtp_to_rtp_command(5);
    plain.access.local.port = 40010;
    plain.access.security = dpif::LegSecurity::Rtp;
    plain.access.rx = plain.access.tx = dpif::SrtpKeys{};
    plain.core.local.port = 50010;
    plain.core.local_rtcp.port = 50011;
    plain.bundle.transport = 5;
    plain.bundle.pt_count = 1;
    EXPECT_EQ(table_.create(plain, why), ResultCode::BadParams);
    EXPECT_NE(why.find("or SDES-SRTP"), std::string::npos) << why;
    // An m= line with no payload type of its own (all another's): only what
    // its core leg receives, and RTCP about it, reach it.
    dpif::Command none = video_member();
    none.hdr.session_id = 6;
    none.core.local.port = 50012;
    none.core.local_rtcp.port = 50013;
    none.bundle.pt_count = 0;
    ASSERT_EQ(table_.create(none, why), ResultCode::Ok) << why;
    EXPECT_EQ(table_.group(session(kAudio).bundle_group).refs, 3U);
}

TEST_F(BundleTest, ShortPacketsAreNeitherDemultiplexedNorLearnedFrom) {
    // A plain RTP core leg's packet of 4 octets: too short to protect
    // (dropped as srtp_out), and its "SSRC" (octets past its end) never
    // learned.
    browser_sends(rtp_pt(0, 1, 0xA0D10), false);
    Buffer b;
    from_ims_video(b, Bytes{0x80, 96, 0, 1}, false);
    EXPECT_EQ(run(b).action, Action::Drop);
    EXPECT_EQ(b.pkt.drop, RelayDrop::SrtpOut);
    EXPECT_EQ(table_.group(session(kAudio).bundle_group).has_out, 0U);
}

TEST_F(BundleTest, AGroupHoldsEightMLinesAtMost) {
    std::string why;
    for (uint64_t id = 3; id < 3 + dpif::kMaxBundleSessions - 2; ++id) {
        dpif::Command c = video_member();
        c.hdr.session_id = id;
        c.core.local.port = static_cast<uint16_t>(50000 + 2 * id);
        c.core.local_rtcp.port = static_cast<uint16_t>(50001 + 2 * id);
        c.bundle.pt_count = 1;
        c.bundle.payload_types[0] = static_cast<uint8_t>(110 + id);
        ASSERT_EQ(table_.create(c, why), ResultCode::Ok) << id << ": " << why;
    }
    dpif::Command ninth = video_member();
    ninth.hdr.session_id = 20;
    ninth.core.local.port = 50040;
    ninth.core.local_rtcp.port = 50041;
    ninth.bundle.pt_count = 1;
    ninth.bundle.payload_types[0] = 127;
    EXPECT_EQ(table_.create(ninth, why), ResultCode::BadParams);
    EXPECT_NE(why.find("8 m= lines"), std::string::npos) << why;
    ASSERT_TRUE(table_.remove(5));
    EXPECT_EQ(table_.create(ninth, why), ResultCode::Ok) << why;
}

TEST_F(BundleTest, UpdatesMoveAMembersPayloadTypesAndEndingTheBundleOrphansMembers) {
    std::string why;
    dpif::Command up = video_;
    up.hdr.type = dpif::MsgType::SessionUpdate;
    up.bundle.pt_count = 1;
    up.bundle.payload_types[0] = 98;
    ASSERT_EQ(table_.update(up, why), ResultCode::Ok) << why;
    const BundleGroup& g = table_.group(session(kAudio).bundle_group);
    EXPECT_EQ(g.pt_index[96], BundleGroup::kNoIndex);
    EXPECT_EQ(g.pt_index[98], session(kVideo).bundle_index);
    EXPECT_EQ(g.refs, 2U);
    // The transport cannot take a member's payload type.
    dpif::Command t = transport_cmd_;
    t.bundle.payload_types[1] = 98;
    EXPECT_EQ(table_.update(t, why), ResultCode::BadParams);
    // The transport leaves the bundle: the member has nowhere to send.
    t = transport_cmd_;
    t.bundle = dpif::BundleSpec{};
    ASSERT_EQ(table_.update(t, why), ResultCode::Ok) << why;
    EXPECT_EQ(session(kAudio).leg[0].bundle, kBundleNone);
    EXPECT_EQ(table_.sending_leg(session(kVideo), Side::Access), nullptr);
    EXPECT_EQ(table_.groups_in_use(), 1U);  // the member's, until it goes
    Buffer b;
    from_ims_video(b, rtp_pt(96, 1, 0x7777), false);
    EXPECT_EQ(run(b).action, Action::Drop);
    EXPECT_EQ(b.pkt.drop, RelayDrop::NoRemote);
    ASSERT_TRUE(table_.remove(kVideo));
    EXPECT_EQ(table_.groups_in_use(), 0U);
}

TEST_F(BundleTest, RemovingEveryMemberFreesTheGroupWhateverTheOrder) {
    ASSERT_TRUE(table_.remove(kAudio));
    EXPECT_EQ(table_.groups_in_use(), 1U);
    EXPECT_EQ(table_.sending_leg(session(kVideo), Side::Access), nullptr);
    ASSERT_TRUE(table_.remove(kVideo));
    EXPECT_EQ(table_.groups_in_use(), 0U);
    EXPECT_EQ(table_.size(), 0U);
    EXPECT_EQ(table_.flows().size(), 0U);
    // And again, the other way round.
    std::string why;
    ASSERT_EQ(table_.create(transport_cmd_, why), ResultCode::Ok) << why;
    ASSERT_EQ(table_.create(video_, why), ResultCode::Ok) << why;
    EXPECT_EQ(table_.groups_in_use(), 1U);
    ASSERT_TRUE(table_.remove(kVideo));
    EXPECT_EQ(table_.group(session(kAudio).bundle_group).refs, 1U);
    ASSERT_TRUE(table_.remove(kAudio));
    EXPECT_EQ(table_.groups_in_use(), 0U);
}

TEST_F(BundleTest, TheBrowsersRtpGoesToTheMLineOfItsPayloadType) {
    for (uint16_t seq = 1; seq <= 3; ++seq) {
        const Bytes audio = rtp_pt(0, seq, 0xA0D10);
        Sent s = browser_sends(audio, false);
        EXPECT_TRUE(is_endpoint(s.f, true, cmd_.core.local));
        EXPECT_TRUE(is_endpoint(s.f, false, cmd_.core.remote));
        EXPECT_EQ(s.payload, audio);
        const Bytes video = rtp_pt(static_cast<uint8_t>(seq == 3 ? 102 : 96), seq, 0x51DE0);
        s = browser_sends(video, false);
        EXPECT_TRUE(is_endpoint(s.f, true, video_.core.local));
        EXPECT_TRUE(is_endpoint(s.f, false, video_.core.remote));
        EXPECT_EQ(s.payload, video);
    }
    EXPECT_EQ(session(kAudio).relayed[0], 3U);
    EXPECT_EQ(session(kVideo).relayed[0], 3U);
    // A payload type no m= line has: dropped, counted on the transport.
    browser_sends(rtp_pt(111, 9, 0xA0D10), false, Action::Drop);
    EXPECT_EQ(drops(RelayDrop::BundleDemux), 1U);
    EXPECT_EQ(session(kAudio).dropped[0], 1U);
}

TEST_F(BundleTest, WhatEitherCoreLegReceivesLeavesOnTheTransport) {
    // The browser's address and MAC are the transport's, learned once.
    browser_sends(rtp_pt(0, 1, 0xA0D10), false);
    for (uint16_t seq = 10; seq < 14; ++seq) {
        const bool video = seq % 2 == 0;
        const Bytes plain = video ? rtp_pt(96, seq, 0x1A5F1D) : rtp_pt(8, seq, 0x1A5A0D);
        Buffer b;
        if (video) {
            from_ims_video(b, plain, false);
        } else {
            from_ims(b, plain, false);
        }
        const RelayPacket& p = run(b);
        ASSERT_EQ(p.action, Action::ToAccess) << relay_drop_name(p.drop);
        Sent s = parse_sent(p);
        EXPECT_TRUE(is_endpoint(s.f, true, cmd_.access.local));
        EXPECT_TRUE(is_endpoint(s.f, false, cmd_.access.remote));
        EXPECT_EQ(0, std::memcmp(s.dst_mac, kBrowserMac, 6));
        ASSERT_TRUE(browser_rx_.unprotect(s.payload, false));  // the transport's keys
        EXPECT_EQ(s.payload, plain);
    }
    EXPECT_EQ(session(kVideo).relayed[1], 2U);
    EXPECT_EQ(session(kAudio).relayed[1], 2U);
    // RTCP from the IMS's video side too.
    Buffer r;
    const Bytes sr = rtcp_sr(0x1A5F1D, 0x51DE0);
    from_ims_video(r, sr, true);
    ASSERT_EQ(run(r).action, Action::ToAccess) << relay_drop_name(r.pkt.drop);
    Sent s = parse_sent(r.pkt);
    ASSERT_TRUE(browser_rx_.unprotect(s.payload, true));
    EXPECT_EQ(s.payload, sr);
}

TEST_F(BundleTest, TheBrowsersRtcpGoesToTheMLineItIsAbout) {
    // The browser sends audio (SSRC A) and video (V); the IMS sends video
    // (I) and audio (J).
    constexpr uint32_t kA = 0xA0D10, kV = 0x51DE0, kI = 0x1A5F1D, kJ = 0x1A5A0D;
    browser_sends(rtp_pt(0, 1, kA), false);
    browser_sends(rtp_pt(96, 1, kV), false);
    for (const auto& [member, ssrc, pt] :
         {std::tuple{true, kI, uint8_t{96}}, std::tuple{false, kJ, uint8_t{0}}}) {
        Buffer b;
        if (member) {
            from_ims_video(b, rtp_pt(pt, 1, ssrc), false);
        } else {
            from_ims(b, rtp_pt(pt, 1, ssrc), false);
        }
        ASSERT_EQ(run(b).action, Action::ToAccess);
    }
    const auto to_video = [&](const Sent& s) {
        return is_endpoint(s.f, true, video_.core.local_rtcp) &&
               is_endpoint(s.f, false, video_.core.remote_rtcp);
    };
    const auto to_audio = [&](const Sent& s) {
        return is_endpoint(s.f, true, cmd_.core.local_rtcp) &&
               is_endpoint(s.f, false, cmd_.core.remote_rtcp);
    };
    // By the sender's SSRC.
    Sent s = browser_sends(rtcp_sr(kV, kI), true);
    EXPECT_TRUE(to_video(s));
    EXPECT_EQ(s.payload, rtcp_sr(kV, kI));
    EXPECT_TRUE(to_audio(browser_sends(rtcp_sr(kA, kJ), true)));
    // A receive-only SSRC: by what it reports on, or asks a picture of.
    EXPECT_TRUE(to_audio(browser_sends(rtcp_rr(1), true)));  // about 0x01010101: unknown
    Bytes rr = rtcp_rr(1);
    rr[8] = 0x00;
    rr[9] = 0x1A;
    rr[10] = 0x5F;
    rr[11] = 0x1D;  // the report block is about kI
    EXPECT_TRUE(to_video(browser_sends(rr, true)));
    EXPECT_TRUE(to_video(browser_sends(rtcp_pli(1, kI), true)));
    EXPECT_TRUE(to_audio(browser_sends(rtcp_pli(1, kJ), true)));
    // Nothing known: the transport's own m= line.
    EXPECT_TRUE(to_audio(browser_sends(rtcp_pli(1, 0xDEAD), true)));
}

}  // namespace
}  // namespace isthmus::session::relay_rig
