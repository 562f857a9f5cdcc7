// Component test of the worker lcore with real DPDK I/O: the EAL without
// hugepages, the access and core ports made of memory rings (net_ring), the
// worker's rings to the main lcore. SRTP made by libsrtp2 goes in one port
// and RTP comes out of the other (and back), RTCP both ways, unknown flows go
// to the kernel ring, the kernel's frames go out, session commands are
// answered, and every drop reason is provoked and read back from the
// worker's published stats block by name.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <srtp2/srtp.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "dpdk.hpp"
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

namespace isthmus::dataplane {
namespace {

using Bytes = std::vector<uint8_t>;
using dpif::ResultCode;
using session::Side;
using test::endpoint4;
using test::endpoint6;

constexpr uint8_t kBrowserMac[6] = {0x02, 0, 0, 0, 0xb0, 0x01};
constexpr uint8_t kImsMac[6] = {0x02, 0, 0, 0, 0x1a, 0x01};
constexpr unsigned kRingSize = 256;  // TX rings: small enough to fill in a test

// The process-wide DPDK set-up: EAL, mbuf pool, two ring ports.
struct Dpdk {
    rte_mempool* pool = nullptr;
    rte_ring* rx[2] = {};  // we enqueue: the port receives
    rte_ring* tx[2] = {};  // the port transmits: we dequeue
    uint16_t port[2] = {};
    uint8_t mac[2][6] = {};
};
Dpdk* g_dpdk = nullptr;

void start_ring_port(Dpdk& d, int side) {
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
        ASSERT_EQ(srtp_init(), srtp_err_status_ok);
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

class LibSrtp {
  public:
    LibSrtp(const dpif::SrtpKeys& k, bool inbound) {
        key_ = test::key_and_salt(k);
        srtp_policy_t p{};
        srtp_crypto_policy_set_rtp_default(&p.rtp);
        srtp_crypto_policy_set_rtcp_default(&p.rtcp);
        p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
        p.key = key_.data();
        p.window_size = 128;
        EXPECT_EQ(srtp_create(&s_, &p), srtp_err_status_ok);
    }
    ~LibSrtp() { srtp_dealloc(s_); }
    Bytes protect(Bytes b, bool rtcp = false) {
        int len = static_cast<int>(b.size());
        b.resize(b.size() + SRTP_MAX_TRAILER_LEN + 4);
        EXPECT_EQ(rtcp ? srtp_protect_rtcp(s_, b.data(), &len) : srtp_protect(s_, b.data(), &len),
                  srtp_err_status_ok);
        b.resize(static_cast<std::size_t>(len));
        return b;
    }
    bool unprotect(Bytes& b, bool rtcp = false) {
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

Bytes rtp(uint16_t seq, std::size_t payload = 160) {
    Bytes b;
    test::append_rtp_fixed_header(
        b, {.payload_type = 8, .seq = seq, .timestamp = seq * 160U, .ssrc = 0x5eed});
    for (std::size_t i = 0; i < payload; ++i)
        b.push_back(static_cast<uint8_t>(seq * 7 + i));
    return b;
}
Bytes rtcp_rr() {
    Bytes b;
    test::append_rtcp_common_header(b, 0, 201, 1);
    test::push_be32(b, 0x5eed);
    return b;
}

// A frame as a host would send it, in an mbuf; headroom as the PMD leaves it
// unless `headroom` says otherwise.
rte_mbuf* frame(const uint8_t src_mac[6], const uint8_t dst_mac[6], const dpif::IpEndpoint& src,
                const dpif::IpEndpoint& dst, const Bytes& payload, int headroom = -1) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_dpdk->pool);
    EXPECT_NE(m, nullptr);
    if (headroom >= 0) m->data_off = static_cast<uint16_t>(headroom);
    pkt::UdpEgress e{};
    std::memcpy(e.src_mac, src_mac, 6);
    std::memcpy(e.dst_mac, dst_mac, 6);
    e.family = src.family;
    std::memcpy(e.src, src.addr, 16);
    std::memcpy(e.dst, dst.addr, 16);
    e.src_port = src.port;
    e.dst_port = dst.port;
    e.ttl = 64;
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
}  // namespace isthmus::dataplane

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new isthmus::dataplane::DpdkEnvironment);
    return RUN_ALL_TESTS();
}
