// What the worker component tests share (worker_ring_test.cpp,
// worker_multi_test.cpp): the EAL without hugepages, the access and core
// ports made of memory rings (net_ring), libsrtp2 sessions, frame builders,
// and the WorkerRingTest fixture (one worker on both ports, its rings and
// its published stats block).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <srtp2/srtp.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "dpdk.hpp"
#include "ice/binding.hpp"
#include "ice/writer.hpp"
#include "libsrtp_session.hpp"
#include "pkt/build.hpp"
#include "pkt/parse.hpp"
#include "rtp_packets.hpp"
#include "session_fixtures.hpp"
#include "worker.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <rte_eth_ring.h>
#include <rte_ring.h>
#pragma GCC diagnostic pop

namespace isthmus::dataplane::test_rig {

using Bytes = std::vector<uint8_t>;
using dpif::ResultCode;
using session::Side;
using test::endpoint4;
using test::endpoint6;

inline constexpr uint8_t kBrowserMac[6] = {0x02, 0, 0, 0, 0xb0, 0x01};
inline constexpr uint8_t kImsMac[6] = {0x02, 0, 0, 0, 0x1a, 0x01};
inline constexpr unsigned kRingSize = 256;  // TX rings: small enough to fill in a test

// The process-wide DPDK set-up: EAL, mbuf pool, two ring ports.
struct Dpdk {
    rte_mempool* pool = nullptr;
    rte_ring* rx[2] = {};  // we enqueue: the port receives
    rte_ring* tx[2] = {};  // the port transmits: we dequeue
    uint16_t port[2] = {};
    uint8_t mac[2][6] = {};
};
inline Dpdk* g_dpdk = nullptr;  // set by DpdkEnvironment

inline void start_ring_port(Dpdk& d, int side) {
    const std::string n = side == 0 ? "access" : "core";
    d.rx[side] = rte_ring_create((n + "_rx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    d.tx[side] = rte_ring_create((n + "_tx").c_str(), kRingSize, 0,
                                 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
    ASSERT_NE(d.rx[side], nullptr);
    ASSERT_NE(d.tx[side], nullptr);
    const int id = rte_eth_from_rings(("net_ring_" + n).c_str(), &d.rx[side], 1, &d.tx[side], 1, 0);
    ASSERT_GE(id, 0);
    d.port[side] = static_cast<uint16_t>(id);
    rte_eth_conf conf{};
    ASSERT_EQ(rte_eth_dev_configure(d.port[side], 1, 1, &conf), 0);
    ASSERT_EQ(rte_eth_rx_queue_setup(d.port[side], 0, 1024, 0, nullptr, d.pool), 0);
    ASSERT_EQ(rte_eth_tx_queue_setup(d.port[side], 0, 1024, 0, nullptr), 0);
    ASSERT_EQ(rte_eth_dev_start(d.port[side]), 0);
    rte_ether_addr a{};
    rte_eth_macaddr_get(d.port[side], &a);
    std::memcpy(d.mac[side], a.addr_bytes, 6);
}

class DpdkEnvironment : public ::testing::Environment {
  public:
    void SetUp() override {
        std::vector<std::string> args = {"worker_ring_test",
                                         "-l",
                                         "0",
                                         "--no-huge",
                                         "--no-pci",
                                         "-m",
                                         "256",
                                         "--no-shconf",
                                         "--no-telemetry",
                                         "--log-level",
                                         "lib.eal:error",
                                         "--file-prefix",
                                         "wrt" + std::to_string(getpid())};
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0)
            << rte_strerror(rte_errno);
        static Dpdk d;
        d.pool = rte_pktmbuf_pool_create("wrt_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        ASSERT_NE(d.pool, nullptr);
        start_ring_port(d, 0);
        start_ring_port(d, 1);
        g_dpdk = &d;
    }
    void TearDown() override {
        if (g_dpdk != nullptr) {
            for (uint16_t p : g_dpdk->port) {
                rte_eth_dev_stop(p);
                rte_eth_dev_close(p);
            }
        }
        rte_eal_cleanup();
    }
};

using LibSrtp = test::LibSrtpSession;

inline Bytes rtp(uint16_t seq, std::size_t payload = 160) {
    Bytes b;
    test::append_rtp_fixed_header(
        b, {.payload_type = 8, .seq = seq, .timestamp = seq * 160U, .ssrc = 0x5eed});
    for (std::size_t i = 0; i < payload; ++i)
        b.push_back(static_cast<uint8_t>(seq * 7 + i));
    return b;
}
inline Bytes rtcp_rr() {
    Bytes b;
    test::append_rtcp_common_header(b, 0, 201, 1);
    test::push_be32(b, 0x5eed);
    return b;
}

// A frame as a host would send it, in an mbuf; headroom as the PMD leaves it
// unless `headroom` says otherwise.
inline rte_mbuf* frame(const uint8_t src_mac[6], const uint8_t dst_mac[6],
                       const dpif::IpEndpoint& src, const dpif::IpEndpoint& dst,
                       const Bytes& payload, int headroom = -1) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_dpdk->pool);
    EXPECT_NE(m, nullptr);
    if (headroom >= 0) m->data_off = static_cast<uint16_t>(headroom);
    const pkt::UdpEgress e = test::udp_egress(src_mac, dst_mac, src, dst);
    const std::size_t room = pkt::udp_header_room(src.family);
    uint8_t* pl = mbuf_data(m) + room;
    std::memcpy(pl, payload.data(), payload.size());
    EXPECT_NE(pkt::write_udp_headers(pl, room, payload.size(), e), nullptr);
    m->data_len = static_cast<uint16_t>(room + payload.size());
    m->pkt_len = m->data_len;
    return m;
}

struct Out {
    pkt::Frame f;
    Bytes payload;
    Bytes eth;
};

class WorkerRingTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_NE(g_dpdk, nullptr);
        drain_all();
        WorkerSetup ws;
        for (int s = 0; s < 2; ++s) {
            ws.ports[s].present = true;
            ws.ports[s].port = g_dpdk->port[s];
            std::memcpy(ws.ports[s].mac, g_dpdk->mac[s], 6);
        }
        ws.limits = {64, 0};
        ws.publish_cycles = 0;  // publish on every poll
        worker_ = std::make_unique<Worker>(ws);
        worker_->describe(&block_);
        cmd_ = test::srtp_to_rtp_command(1);
        ASSERT_EQ(command(cmd_).result, ResultCode::Ok);
    }
    void TearDown() override {
        drain_all();
        rte_mbuf* m = nullptr;
        while (worker_->to_kernel.try_pop(m))
            rte_pktmbuf_free(m);
    }
    static void drain_all() {
        for (int s = 0; s < 2; ++s) {
            void* objs[64];
            unsigned n;
            while ((n = rte_ring_dequeue_burst(g_dpdk->tx[s], objs, 64, nullptr)) != 0)
                for (unsigned i = 0; i < n; ++i)
                    rte_pktmbuf_free(static_cast<rte_mbuf*>(objs[i]));
            while ((n = rte_ring_dequeue_burst(g_dpdk->rx[s], objs, 64, nullptr)) != 0)
                for (unsigned i = 0; i < n; ++i)
                    rte_pktmbuf_free(static_cast<rte_mbuf*>(objs[i]));
        }
    }
    // Sends a command through the inbox and returns its Result (SessionInfo
    // events before it go to `infos`).
    dpif::Event command(const dpif::Command& c, std::vector<dpif::Event>* infos = nullptr) {
        WorkerMsg m{};
        m.kind = WorkerMsg::Kind::Command;
        m.cmd = c;
        EXPECT_TRUE(worker_->inbox.try_push(m));
        dpif::Event ev{};
        // Listings (a query of all) take a few passes.
        for (int pass = 0; pass < 16; ++pass) {
            worker_->poll();
            while (worker_->outbox.try_pop(ev)) {
                if (ev.hdr.type == dpif::MsgType::Result) return ev;
                if (infos != nullptr) infos->push_back(ev);
            }
        }
        ADD_FAILURE() << "no Result";
        return ev;
    }
    void next_hop(uint64_t id, Side side, const uint8_t mac[6]) {
        WorkerMsg m{};
        m.kind = WorkerMsg::Kind::SetNextHop;
        m.session_id = id;
        m.side = static_cast<uint8_t>(side);
        std::memcpy(m.mac, mac, 6);
        ASSERT_TRUE(worker_->inbox.try_push(m));
    }
    void inject(Side side, rte_mbuf* m) {
        ASSERT_EQ(rte_ring_enqueue(g_dpdk->rx[static_cast<int>(side)], m), 0);
    }
    std::vector<Out> sent(Side side) {
        std::vector<Out> out;
        void* objs[64];
        unsigned n;
        while ((n = rte_ring_dequeue_burst(g_dpdk->tx[static_cast<int>(side)], objs, 64,
                                           nullptr)) != 0) {
            for (unsigned i = 0; i < n; ++i) {
                auto* m = static_cast<rte_mbuf*>(objs[i]);
                Out o;
                const uint8_t* d = mbuf_data(m);
                EXPECT_EQ(pkt::parse_frame(d, m->data_len, o.f), pkt::Verdict::Udp);
                EXPECT_EQ(m->pkt_len, m->data_len);
                o.payload.assign(d + o.f.payload_offset, d + o.f.payload_offset + o.f.payload_len);
                o.eth.assign(d, d + 12);
                out.push_back(o);
                rte_pktmbuf_free(m);
            }
        }
        return out;
    }
    void run(int polls = 4) {
        for (int i = 0; i < polls; ++i)
            worker_->poll();
    }
    uint64_t stat(const std::string& name) const {
        for (uint32_t i = 0; i < block_.counters; ++i)
            if (name == block_.counter[i].name) return dpif::stat_load(block_.counter[i]);
        ADD_FAILURE() << "no counter " << name;
        return 0;
    }
    rte_mbuf* from_browser(const Bytes& srtp, uint16_t src_port = 5000) {
        dpif::IpEndpoint src = cmd_.access.remote;
        src.port = src_port;
        return frame(kBrowserMac, g_dpdk->mac[0], src, cmd_.access.local, srtp);
    }
    rte_mbuf* from_ims(const Bytes& payload, bool rtcp = false) {
        return frame(kImsMac, g_dpdk->mac[1], rtcp ? cmd_.core.remote_rtcp : cmd_.core.remote,
                     rtcp ? cmd_.core.local_rtcp : cmd_.core.local, payload);
    }

    std::unique_ptr<Worker> worker_;
    dpif::StatBlock block_{};
    dpif::Command cmd_{};
    LibSrtp browser_tx_{test::sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x10), false};
    LibSrtp browser_rx_{test::sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x80), true};
};

}  // namespace isthmus::dataplane::test_rig
