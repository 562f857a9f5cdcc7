// Component tests of the worker beyond one session: listings longer than
// the outbox, an outbox nobody reads, and two workers with the software
// hand-off on single-queue ports (same executable and EAL as
// worker_ring_test.cpp).
#include "worker_rig.hpp"

namespace isthmus::dataplane::test_rig {
namespace {

// More sessions than the outbox holds: a query of all and a release of an
// older generation still report every one, then the Result, none lost.
TEST(WorkerListing, ListsLongerThanTheOutboxArriveWhole) {
    WorkerSetup ws;  // no ports: commands only
    ws.limits = {6000, 0};
    Worker w(ws);
    constexpr uint32_t kSessions = 5000;  // outbox: 4096 events
    std::size_t results = 0;
    const auto drain = [&](std::vector<dpif::Event>& infos) {
        dpif::Event ev{};
        while (w.outbox.try_pop(ev)) {
            if (ev.hdr.type == dpif::MsgType::Result) {
                EXPECT_EQ(ev.result, ResultCode::Ok) << ev.detail;
                ++results;
            } else {
                infos.push_back(ev);
            }
        }
    };
    std::vector<dpif::Event> infos;
    for (uint32_t i = 0; i < kSessions; ++i) {
        dpif::Command c = test::srtp_to_rtp_command(i + 1);
        c.access.security = dpif::LegSecurity::Rtp;
        c.access.local.port = static_cast<uint16_t>(2 + 2 * i);
        c.core.local.port = static_cast<uint16_t>(20002 + 2 * i);
        c.core.local_rtcp.port = static_cast<uint16_t>(20003 + 2 * i);
        WorkerMsg m{};
        m.kind = WorkerMsg::Kind::Command;
        m.cmd = c;
        while (!w.inbox.try_push(m)) {
            w.poll();
            drain(infos);
        }
    }
    for (int i = 0; i < 2000 && w.table().size() < kSessions; ++i) {
        w.poll();
        drain(infos);
    }
    ASSERT_EQ(w.table().size(), kSessions);
    ASSERT_EQ(results, kSessions);
    infos.clear();
    results = 0;
    WorkerMsg q{};
    q.kind = WorkerMsg::Kind::Command;
    q.cmd.hdr = {dpif::kAbiVersion, dpif::MsgType::SessionQuery, 0, 77, 1, 0};
    ASSERT_TRUE(w.inbox.try_push(q));
    for (int i = 0; i < 100 && results == 0; ++i) {
        w.poll();
        drain(infos);  // the control plane reads while the worker lists
    }
    EXPECT_EQ(results, 1U);
    EXPECT_EQ(infos.size(), kSessions);
    infos.clear();
    WorkerMsg rel{};
    rel.kind = WorkerMsg::Kind::ReleaseOlder;
    rel.generation = 2;
    ASSERT_TRUE(w.inbox.try_push(rel));
    for (int i = 0; i < 100 && w.table().size() != 0; ++i) {
        w.poll();
        drain(infos);
    }
    EXPECT_EQ(w.table().size(), 0U);
    EXPECT_EQ(infos.size(), kSessions);
    EXPECT_EQ(w.events_dropped(), 0U);
}

// A control plane that does not read: the worker stops taking commands when
// its outbox could not hold their answers, and loses none.
TEST(WorkerListing, AnOutboxNobodyReadsHoldsBackCommandsNotAnswers) {
    WorkerSetup ws;
    ws.limits = {8192, 0};
    Worker w(ws);
    uint32_t pushed = 0;
    for (int round = 0; round < 2000; ++round) {
        for (;;) {
            dpif::Command c = test::srtp_to_rtp_command(pushed + 1);
            c.access.security = dpif::LegSecurity::Rtp;
            c.access.local.port = static_cast<uint16_t>(2 + 2 * pushed);
            c.core.local.port = static_cast<uint16_t>(20002 + 2 * pushed);
            c.core.local_rtcp.port = static_cast<uint16_t>(20003 + 2 * pushed);
            WorkerMsg m{};
            m.kind = WorkerMsg::Kind::Command;
            m.cmd = c;
            if (pushed >= 6000 || !w.inbox.try_push(m)) break;
            ++pushed;
        }
        w.poll();
    }
    EXPECT_EQ(w.events_dropped(), 0U);
    EXPECT_GE(w.outbox.size(), w.outbox.kCapacity - 1);  // full, and waiting
    std::size_t answers = 0;
    dpif::Event ev{};
    for (int round = 0; round < 4000 && answers < pushed; ++round) {
        while (w.outbox.try_pop(ev))
            answers += ev.result == ResultCode::Ok ? 1 : 0;
        w.poll();
    }
    EXPECT_EQ(answers, pushed);
    EXPECT_EQ(w.table().size(), pushed);
    EXPECT_EQ(w.events_dropped(), 0U);
}

// Two workers, single-queue ports: worker 0 receives everything and hands
// each frame to the worker its destination port names; each sends on its
// own TX queue.
TEST(WorkerHandoff, FramesReachTheirOwnerAndLeaveOnItsQueue) {
    ASSERT_NE(g_dpdk, nullptr);
    rte_ring* rx[2];
    rte_ring* tx[2][2];
    uint16_t port[2];
    for (int s = 0; s < 2; ++s) {
        const std::string n = s == 0 ? "ho_access" : "ho_core";
        rx[s] = rte_ring_create((n + "_rx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
        ASSERT_NE(rx[s], nullptr);
        for (int q = 0; q < 2; ++q) {
            tx[s][q] = rte_ring_create((n + "_tx" + std::to_string(q)).c_str(), 1024, 0,
                                       RING_F_SP_ENQ | RING_F_SC_DEQ);
            ASSERT_NE(tx[s][q], nullptr);
        }
        const int id = rte_eth_from_rings(("net_ring_" + n).c_str(), &rx[s], 1, tx[s], 2, 0);
        ASSERT_GE(id, 0);
        port[s] = static_cast<uint16_t>(id);
        rte_eth_conf conf{};
        ASSERT_EQ(rte_eth_dev_configure(port[s], 1, 2, &conf), 0);
        ASSERT_EQ(rte_eth_rx_queue_setup(port[s], 0, 1024, 0, nullptr, g_dpdk->pool), 0);
        for (uint16_t q = 0; q < 2; ++q)
            ASSERT_EQ(rte_eth_tx_queue_setup(port[s], q, 1024, 0, nullptr), 0);
        ASSERT_EQ(rte_eth_dev_start(port[s]), 0);
    }
    WorkerSetup ws;
    ws.workers = 2;
    ws.limits = {16, 0};
    for (int s = 0; s < 2; ++s) {
        ws.ports[s].present = true;
        ws.ports[s].port = port[s];
        ws.ports[s].rx_queues = 1;
    }
    std::unique_ptr<Worker> w[2];
    for (unsigned i = 0; i < 2; ++i) {
        ws.index = i;
        ws.tx_queue = static_cast<uint16_t>(i);
        w[i] = std::make_unique<Worker>(ws);
    }
    for (unsigned j = 0; j < 2; ++j)
        for (unsigned k = 0; k < 2; ++k)
            w[j]->handoff_out[k] = &w[k]->handoff_in[j];
    // Session 1 on worker 0 (ports 40000, 50000/1), session 2 on worker 1
    // (40002, 50002/3): (port / 2) mod 2.
    for (uint64_t id = 1; id <= 2; ++id) {
        dpif::Command c = test::srtp_to_rtp_command(id);
        const auto off = static_cast<uint16_t>((id - 1) * 2);
        c.access.local.port = static_cast<uint16_t>(40000 + off);
        c.core.local.port = static_cast<uint16_t>(50000 + off);
        c.core.local_rtcp.port = static_cast<uint16_t>(50001 + off);
        const unsigned owner = session::owner_of(c.access.local.port, 2);
        ASSERT_EQ(owner, id - 1);
        WorkerMsg m{};
        m.kind = WorkerMsg::Kind::Command;
        m.cmd = c;
        ASSERT_TRUE(w[owner]->inbox.try_push(m));
        m = WorkerMsg{};
        m.kind = WorkerMsg::Kind::SetNextHop;
        m.session_id = id;
        m.side = 1;
        std::memcpy(m.mac, kImsMac, 6);
        ASSERT_TRUE(w[owner]->inbox.try_push(m));
    }
    LibSrtp browser(test::sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x10), false);
    const dpif::Command ref = test::srtp_to_rtp_command(1);
    for (uint16_t seq = 1; seq <= 40; ++seq) {
        dpif::IpEndpoint dst = ref.access.local;
        dst.port = static_cast<uint16_t>(40000 + (seq % 2) * 2);  // odd: session 2
        rte_mbuf* m =
            frame(kBrowserMac, g_dpdk->mac[0], ref.access.remote, dst, browser.protect(rtp(seq)));
        ASSERT_EQ(rte_ring_enqueue(rx[0], m), 0);
    }
    for (int i = 0; i < 8; ++i) {
        w[0]->poll();
        w[1]->poll();
    }
    for (int q = 0; q < 2; ++q) {
        void* objs[64];
        const unsigned n = rte_ring_dequeue_burst(tx[1][q], objs, 64, nullptr);
        EXPECT_EQ(n, 20U) << "TX queue " << q;
        for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<rte_mbuf*>(objs[i]);
            pkt::Frame f;
            EXPECT_EQ(pkt::parse_frame(mbuf_data(m), m->data_len, f), pkt::Verdict::Udp);
            EXPECT_EQ(f.src_port, 50000 + q * 2);  // the owner's session
            rte_pktmbuf_free(m);
        }
    }
    EXPECT_EQ(w[0]->counters().relayed_packets[0], 20U);
    EXPECT_EQ(w[1]->counters().relayed_packets[0], 20U);
    EXPECT_EQ(w[0]->counters().drops[static_cast<std::size_t>(session::RelayDrop::HandoffFull)],
              0U);
    for (uint16_t p : port) {
        rte_eth_dev_stop(p);
        rte_eth_dev_close(p);
    }
}

}  // namespace
}  // namespace isthmus::dataplane::test_rig
