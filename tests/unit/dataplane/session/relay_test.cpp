// The relay, fed with frames as a port would give them: SRTP made by
// libsrtp2 in, RTP out (and back), RTCP both ways, every drop reason, source
// checks and learning, IPv6 <-> IPv4. What leaves is parsed again and, where
// it is SRTP, decrypted by libsrtp2.
#include "relay_fixture.hpp"

namespace isthmus::session::relay_rig {
namespace {

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

TEST_F(RelayTest, ReplayedAndForgedSrtcpIsDroppedAndCounted) {
    ASSERT_TRUE(table_.set_next_hop(1, Side::Core, kImsMac));
    Buffer good;
    from_browser(good, rtcp_rr(0x11223344), true, browser_tx_);
    const Bytes copy(good.pkt.data + 42, good.pkt.data + good.pkt.len);
    ASSERT_EQ(run(good).action, Action::ToCore);

    Buffer replay;  // the same SRTCP packet again: same SRTCP index
    frame_into(replay, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote, cmd_.access.local,
               copy);
    EXPECT_EQ(run(replay).drop, RelayDrop::SrtpIn);

    Bytes forged_bytes = browser_tx_.protect(rtcp_rr(0x11223344), true);
    for (const std::size_t at :
         {std::size_t{9}, forged_bytes.size() - 12, forged_bytes.size() - 1}) {
        Bytes f = forged_bytes;  // a bit of the payload, of the E-flag/index word, of the tag
        f[at] ^= 0x01;
        Buffer forged;
        frame_into(forged, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote,
                   cmd_.access.local, f);
        EXPECT_EQ(run(forged).drop, RelayDrop::SrtpIn) << "octet " << at;
    }
    Bytes cut = forged_bytes;  // tag cut short
    cut.resize(cut.size() - 4);
    Buffer truncated;
    frame_into(truncated, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote,
               cmd_.access.local, cut);
    EXPECT_EQ(run(truncated).drop, RelayDrop::SrtpIn);

    // The untouched packet still authenticates (nothing above moved the
    // window), once; then it is a replay too.
    Buffer late;
    frame_into(late, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote, cmd_.access.local,
               forged_bytes);
    ASSERT_EQ(run(late).action, Action::ToCore) << relay_drop_name(late.pkt.drop);
    Buffer again;
    frame_into(again, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote, cmd_.access.local,
               forged_bytes);
    EXPECT_EQ(run(again).drop, RelayDrop::SrtpIn);

    const auto& c = engine_.counters();
    EXPECT_EQ(c.get(srtp::Op::UnprotectRtcp, srtp::Status::Replay), 2U);
    EXPECT_EQ(c.get(srtp::Op::UnprotectRtcp, srtp::Status::AuthFail), 4U);  // three flips, the cut
    EXPECT_EQ(c.get(srtp::Op::UnprotectRtp, srtp::Status::Replay), 0U);
    EXPECT_EQ(relay_.counters().relayed_packets[0], 2U);
    const Session& s = table_.at(table_.slot_of(1));
    EXPECT_EQ(s.relayed[0], 2U);
    EXPECT_EQ(s.dropped[0], 6U);  // replay, three forgeries, the cut one, the second replay
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
            // The buffer bookkeeping stays whole, whatever was rewritten.
            EXPECT_EQ(p.headroom + p.len + p.tailroom, Buffer::kSize);
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
}  // namespace isthmus::session::relay_rig
