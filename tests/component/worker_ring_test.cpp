// Component test of the worker lcore with real DPDK I/O: the EAL without
// hugepages, the access and core ports made of memory rings (net_ring), the
// worker's rings to the main lcore. SRTP made by libsrtp2 goes in one port
// and RTP comes out of the other (and back), RTCP both ways, unknown flows go
// to the kernel ring, the kernel's frames go out, session commands are
// answered, ICE checks answered, and every drop reason is provoked and read
// back from the worker's published stats block by name.
#include "ice_check.hpp"
#include "worker_rig.hpp"

namespace isthmus::dataplane::test_rig {
namespace {

TEST_F(WorkerRingTest, SrtpInRtpOutAndBackThroughRealPorts) {
    next_hop(1, Side::Core, kImsMac);
    for (uint16_t seq = 1; seq <= 100; ++seq)
        inject(Side::Access, from_browser(browser_tx_.protect(rtp(seq))));
    run(8);
    const std::vector<Out> to_ims = sent(Side::Core);
    ASSERT_EQ(to_ims.size(), 100U);
    for (uint16_t i = 0; i < 100; ++i) {
        EXPECT_EQ(to_ims[i].payload, rtp(static_cast<uint16_t>(i + 1))) << i;
        EXPECT_EQ(0, std::memcmp(to_ims[i].eth.data(), kImsMac, 6));
        EXPECT_EQ(0, std::memcmp(to_ims[i].eth.data() + 6, g_dpdk->mac[1], 6));
        EXPECT_EQ(to_ims[i].f.dst_port, 6000);
        EXPECT_EQ(to_ims[i].f.src_port, 50000);
    }
    for (uint16_t seq = 1; seq <= 50; ++seq)
        inject(Side::Core, from_ims(rtp(static_cast<uint16_t>(1000 + seq))));
    run(4);
    std::vector<Out> to_browser = sent(Side::Access);
    ASSERT_EQ(to_browser.size(), 50U);
    for (uint16_t i = 0; i < 50; ++i) {
        ASSERT_TRUE(browser_rx_.unprotect(to_browser[i].payload)) << i;
        EXPECT_EQ(to_browser[i].payload, rtp(static_cast<uint16_t>(1001 + i)));
        EXPECT_EQ(0, std::memcmp(to_browser[i].eth.data(), kBrowserMac, 6));
    }
    EXPECT_EQ(stat("relayed_access_to_core"), 100U);
    EXPECT_EQ(stat("relayed_core_to_access"), 50U);
    EXPECT_EQ(stat("rx_access"), 100U);
    EXPECT_EQ(stat("sessions"), 1U);
    // The busy ratio's two halves: some cycles were busy, never more than all.
    EXPECT_GT(stat("busy_cycles"), 0U);
    EXPECT_LE(stat("busy_cycles"), stat("tsc_cycles"));
}

TEST_F(WorkerRingTest, OffloadedChecksumsAreAskedOfTheNicInTheMbuf) {
    WorkerSetup ws;
    for (int s = 0; s < 2; ++s) {
        ws.ports[s].present = true;
        ws.ports[s].port = g_dpdk->port[s];
        std::memcpy(ws.ports[s].mac, g_dpdk->mac[s], 6);
    }
    ws.ports[1].checksums = pkt::Checksums::Offload;
    ws.limits = {64, 0};
    worker_ = std::make_unique<Worker>(ws);
    ASSERT_EQ(command(cmd_).result, ResultCode::Ok);
    next_hop(1, Side::Core, kImsMac);
    inject(Side::Access, from_browser(browser_tx_.protect(rtp(1))));
    run();
    void* obj = nullptr;
    ASSERT_EQ(rte_ring_dequeue(g_dpdk->tx[1], &obj), 0);
    auto* m = static_cast<rte_mbuf*>(obj);
    EXPECT_EQ(m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM),
              RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
    EXPECT_EQ(m->l2_len, 14U);
    EXPECT_EQ(m->l3_len, 20U);
    rte_pktmbuf_free(m);
}

// ICE-lite through the worker: the check is answered out of the access
// port, the nomination reaches the outbox as IceSelected, media then flows.
TEST_F(WorkerRingTest, AnIceCheckIsAnsweredAndItsNominationReported) {
    const char* pwd = "worker-ring-ice-password";
    dpif::Command c = test::srtp_to_rtp_command(9);
    c.access.local.port = 44000;
    c.access.remote = {};
    std::snprintf(c.access.ice_ufrag, sizeof c.access.ice_ufrag, "gwuf");
    std::snprintf(c.access.ice_pwd, sizeof c.access.ice_pwd, "%s", pwd);
    c.core.local.port = 54000;
    c.core.local_rtcp.port = 54001;
    ASSERT_EQ(command(c).result, ResultCode::Ok);
    next_hop(9, Side::Core, kImsMac);
    const Bytes req = test::binding_request("gwuf:brws", pwd, true, 9);
    const dpif::IpEndpoint browser = endpoint4("198.18.0.10", 5000);
    inject(Side::Access, frame(kBrowserMac, g_dpdk->mac[0], browser, c.access.local, req));
    run();
    const auto answers = sent(Side::Access);
    ASSERT_EQ(answers.size(), 1U);
    EXPECT_EQ(answers[0].f.dst_port, 5000);
    ice::Message m;
    ASSERT_EQ(ice::parse_message(answers[0].payload.data(), answers[0].payload.size(), m),
              ice::Verdict::Ok);
    EXPECT_EQ(m.cls, ice::MessageClass::SuccessResponse);
    dpif::Event ev{};
    bool selected = false;
    while (worker_->outbox.try_pop(ev)) {
        if (ev.hdr.type == dpif::MsgType::IceSelected && ev.hdr.session_id == 9) {
            selected = true;
            EXPECT_EQ(ev.selected_remote.port, 5000);
            EXPECT_STREQ(ev.detail, "access");
        }
    }
    EXPECT_TRUE(selected);
    inject(Side::Access, frame(kBrowserMac, g_dpdk->mac[0], browser, c.access.local,
                               browser_tx_.protect(rtp(1))));
    run();
    EXPECT_EQ(sent(Side::Core).size(), 1U);
    EXPECT_EQ(stat("stun_responses"), 1U);
    EXPECT_EQ(stat("ice_selected"), 1U);
}

TEST_F(WorkerRingTest, RtcpBothWays) {
    next_hop(1, Side::Core, kImsMac);
    next_hop(1, Side::Access, kBrowserMac);
    inject(Side::Access, from_browser(browser_tx_.protect(rtcp_rr(), true)));
    inject(Side::Core, from_ims(rtcp_rr(), true));
    run();
    const auto to_ims = sent(Side::Core);
    ASSERT_EQ(to_ims.size(), 1U);
    EXPECT_EQ(to_ims[0].payload, rtcp_rr());
    EXPECT_EQ(to_ims[0].f.dst_port, 6001);
    EXPECT_EQ(to_ims[0].f.src_port, 50001);
    auto to_browser = sent(Side::Access);
    ASSERT_EQ(to_browser.size(), 1U);
    ASSERT_TRUE(browser_rx_.unprotect(to_browser[0].payload, true));
    EXPECT_EQ(to_browser[0].payload, rtcp_rr());
    EXPECT_EQ(to_browser[0].f.src_port, 40000);  // rtcp-mux on the access leg
}

TEST_F(WorkerRingTest, UnknownFlowsGoToTheKernelAndTheKernelsFramesGoOut) {
    dpif::IpEndpoint elsewhere = cmd_.core.local;
    elsewhere.port = 50100;
    inject(Side::Core, frame(kImsMac, g_dpdk->mac[1], cmd_.core.remote, elsewhere, rtp(1)));
    run();
    rte_mbuf* m = nullptr;
    ASSERT_TRUE(worker_->to_kernel.try_pop(m));
    EXPECT_EQ(m->port, g_dpdk->port[1]);  // the main lcore picks the TAP by it
    // The kernel's answer, say, goes back out of the same port.
    ASSERT_TRUE(worker_->from_kernel[1].try_push(m));
    run();
    EXPECT_EQ(sent(Side::Core).size(), 1U);
    EXPECT_EQ(stat("to_kernel"), 1U);
    EXPECT_EQ(stat("from_kernel"), 1U);
}

TEST_F(WorkerRingTest, SessionCommandsAreAnswered) {
    std::vector<dpif::Event> infos;
    dpif::Command q{};
    q.hdr = {dpif::kAbiVersion, dpif::MsgType::SessionQuery, 0, 9, 1, 0};
    EXPECT_EQ(command(q, &infos).result, ResultCode::Ok);
    ASSERT_EQ(infos.size(), 1U);
    EXPECT_EQ(infos[0].hdr.session_id, 1U);
    EXPECT_EQ(infos[0].core_remote.port, 6000);
    EXPECT_EQ(infos[0].hdr.seq, 9U);

    EXPECT_EQ(command(cmd_).result, ResultCode::Exists);
    dpif::Command del = cmd_;
    del.hdr.type = dpif::MsgType::SessionDelete;
    infos.clear();
    const dpif::Event r = command(del, &infos);
    EXPECT_EQ(r.result, ResultCode::Ok);
    EXPECT_EQ(static_cast<dpif::MsgType>(r.hdr.reserved), dpif::MsgType::SessionDelete);
    EXPECT_EQ(infos.size(), 1U);  // its last figures
    EXPECT_EQ(command(del).result, ResultCode::NotFound);

    // A resync releases what an older generation made, and says so.
    dpif::Command c2 = test::srtp_to_rtp_command(2);
    c2.hdr.generation = 4;
    ASSERT_EQ(command(c2).result, ResultCode::Ok);
    WorkerMsg rel{};
    rel.kind = WorkerMsg::Kind::ReleaseOlder;
    rel.generation = 5;
    ASSERT_TRUE(worker_->inbox.try_push(rel));
    worker_->poll();  // takes the command
    worker_->poll();  // walks the table
    dpif::Event ev{};
    ASSERT_TRUE(worker_->outbox.try_pop(ev));
    EXPECT_EQ(ev.hdr.type, dpif::MsgType::SessionInfo);
    EXPECT_EQ(ev.result, ResultCode::StaleGeneration);
    EXPECT_EQ(ev.hdr.session_id, 2U);
    run();
    EXPECT_EQ(stat("sessions"), 0U);
}

TEST_F(WorkerRingTest, EveryDropReasonIsCountedByName) {
    // no_neighbour: the IMS UE is not resolved yet.
    inject(Side::Access, from_browser(browser_tx_.protect(rtp(1))));
    run();
    EXPECT_EQ(stat("drop_no_neighbour"), 1U);
    next_hop(1, Side::Core, kImsMac);
    next_hop(1, Side::Access, kBrowserMac);
    // wrong_source, not_media, srtp_in (forged, replayed)
    inject(Side::Access, from_browser(browser_tx_.protect(rtp(2)), 5002));
    Bytes stun(20, 0);
    stun[1] = 1;
    inject(Side::Core, from_ims(stun));
    Bytes forged = browser_tx_.protect(rtp(3));
    forged[15] ^= 0x40;
    inject(Side::Access, from_browser(forged));
    const Bytes twice = browser_tx_.protect(rtp(4));
    inject(Side::Access, from_browser(twice));
    inject(Side::Access, from_browser(twice));
    run();
    EXPECT_EQ(stat("drop_wrong_source"), 1U);
    EXPECT_EQ(stat("drop_not_media"), 1U);
    EXPECT_EQ(stat("drop_srtp_in"), 2U);
    EXPECT_EQ(stat("srtp_auth_fail"), 1U);
    EXPECT_EQ(stat("srtp_replay"), 1U);

    // srtp_out: an RTP packet that fills its buffer leaves no room for the tag.
    {
        const std::size_t fill = RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM - 42 - 12;
        inject(Side::Core, from_ims(rtp(10, fill)));
        run();
        EXPECT_EQ(stat("drop_srtp_out"), 1U);
    }
    // no_room: IPv4 in, IPv6 out, and no headroom for the 20 extra octets.
    {
        dpif::Command c = test::srtp_to_rtp_command(3);
        c.access.local = endpoint6("2001:2::2", 41000);
        c.access.remote = endpoint6("2001:2::10", 5000);
        c.core.local.port = 51000;
        c.core.local_rtcp.port = 51001;
        ASSERT_EQ(command(c).result, ResultCode::Ok);
        next_hop(3, Side::Access, kBrowserMac);
        inject(Side::Core, frame(kImsMac, g_dpdk->mac[1], c.core.remote, c.core.local, rtp(11), 0));
        run();
        EXPECT_EQ(stat("drop_no_room"), 1U);
    }
    // no_remote: an access leg that has not learned its browser yet.
    {
        dpif::Command c = test::srtp_to_rtp_command(4);
        c.access.local.port = 42000;
        c.access.remote = {};
        c.core.local.port = 52000;
        c.core.local_rtcp.port = 52001;
        ASSERT_EQ(command(c).result, ResultCode::Ok);
        inject(Side::Core, frame(kImsMac, g_dpdk->mac[1], c.core.remote, c.core.local, rtp(12)));
        run();
        EXPECT_EQ(stat("drop_no_remote"), 1U);
    }
    // malformed, by the parser's reason.
    {
        rte_mbuf* bad_sum = from_ims(rtp(13));
        mbuf_data(bad_sum)[24] ^= 0xff;
        inject(Side::Core, bad_sum);
        rte_mbuf* short_frame = from_ims(rtp(14));
        short_frame->data_len = 30;
        short_frame->pkt_len = 30;
        inject(Side::Core, short_frame);
        rte_mbuf* fragment = from_ims(rtp(15));
        uint8_t* ip = mbuf_data(fragment) + 14;
        ip[6] |= 0x20;  // more fragments; fix the header checksum
        ip[10] = ip[11] = 0;
        const uint16_t sum = pkt::fold_checksum(pkt::ones_complement_add(ip, 20, 0));
        ip[10] = static_cast<uint8_t>(sum >> 8);
        ip[11] = static_cast<uint8_t>(sum);
        inject(Side::Core, fragment);
        rte_mbuf* bad_udp = from_ims(rtp(16));
        mbuf_data(bad_udp)[42 + 20] ^= 0xff;  // payload changed: UDP checksum fails
        inject(Side::Core, bad_udp);
        run();
        EXPECT_EQ(stat("malformed_bad_ip_checksum"), 1U);
        EXPECT_EQ(stat("malformed_too_short"), 1U);
        EXPECT_EQ(stat("malformed_ip_fragment"), 1U);
        EXPECT_EQ(stat("malformed_bad_udp_checksum"), 1U);
        EXPECT_EQ(stat("drop_malformed"), 4U);
    }
    // tx_full: more than the TX ring holds, nothing drained.
    {
        sent(Side::Core);
        for (uint16_t seq = 100; seq < 100 + kRingSize + 40; ++seq)
            inject(Side::Access, from_browser(browser_tx_.protect(rtp(seq))));
        run(16);
        EXPECT_GT(stat("drop_tx_full"), 0U);
        EXPECT_EQ(stat("drop_tx_full") + sent(Side::Core).size(), kRingSize + 40U);
    }
}

}  // namespace
}  // namespace isthmus::dataplane::test_rig

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new isthmus::dataplane::test_rig::DpdkEnvironment);
    return RUN_ALL_TESTS();
}
