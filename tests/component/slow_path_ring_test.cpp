// The slow path with a worker on memory-ring ports (issue 5): an ICE check
// nominates the browser, an independent OpenSSL client (the browser's DTLS)
// handshakes with the slow path through the worker's rings, the keys reach
// the worker, media flows both ways under them, DtlsUp is reported, and a
// delete sends close_notify. Once with the slow path's own TX queue (queue
// 1 of ports that have two) and once through worker 0's ring (ports that
// have one to spare: none).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "datachannel/data_channel.hpp"
#include "dtls/identity.hpp"
#include "ice_check.hpp"
#include "msrp/fields.hpp"
#include "msrp/parser.hpp"
#include "msrp/spec.hpp"
#include "msrp/uri.hpp"
#include "openssl_peer.hpp"
#include "slow_path.hpp"
#include "worker_rig.hpp"

namespace isthmus::dataplane::test_rig {
namespace {

constexpr const char* kIcePwd = "slow-path-ring-ice-password";

// Ports whose TX side has two queues (0: the worker, 1: the slow path).
struct DtlsPorts {
    rte_ring* rx[2] = {};
    rte_ring* tx[2][2] = {};  // [side][queue]
    uint16_t port[2] = {};
    uint8_t mac[2][6] = {};
};

DtlsPorts& dtls_ports() {
    static DtlsPorts p = [] {
        DtlsPorts d;
        for (int side = 0; side < 2; ++side) {
            const std::string n = side == 0 ? "dacc" : "dcor";
            d.rx[side] =
                rte_ring_create((n + "_rx").c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
            for (int q = 0; q < 2; ++q)
                d.tx[side][q] = rte_ring_create((n + "_tx" + std::to_string(q)).c_str(), 1024, 0,
                                                RING_F_SP_ENQ | RING_F_SC_DEQ);
            const int id =
                rte_eth_from_rings(("net_ring_" + n).c_str(), &d.rx[side], 1, d.tx[side], 2, 0);
            EXPECT_GE(id, 0) << rte_strerror(rte_errno);
            d.port[side] = static_cast<uint16_t>(id);
            rte_eth_conf conf{};
            EXPECT_EQ(rte_eth_dev_configure(d.port[side], 1, 2, &conf), 0);
            EXPECT_EQ(rte_eth_rx_queue_setup(d.port[side], 0, 1024, 0, nullptr, g_dpdk->pool), 0);
            for (uint16_t q = 0; q < 2; ++q)
                EXPECT_EQ(rte_eth_tx_queue_setup(d.port[side], q, 1024, 0, nullptr), 0);
            EXPECT_EQ(rte_eth_dev_start(d.port[side]), 0);
            rte_ether_addr a{};
            rte_eth_macaddr_get(d.port[side], &a);
            std::memcpy(d.mac[side], a.addr_bytes, 6);
        }
        return d;
    }();
    return p;
}

const dtls::Identity& browser_identity() {
    static const dtls::Identity id = dtls::Identity::generate("browser");
    return id;
}
const dtls::Identity& gateway_identity() {
    static const dtls::Identity id = dtls::Identity::generate("gateway");
    return id;
}

struct Frame {
    int queue;
    Out out;
};

// The SRTP keys of an AEAD_AES_128_GCM association as the browser (the DTLS
// client) derives them (RFC 5764 4.2: client key, server key, salts).
struct GcmKeys {
    dpif::SrtpKeys client{}, server{};
};
GcmKeys gcm_keys(dtls::test::OpenSslPeer& peer) {
    const auto m = peer.export_material(16, 12);
    GcmKeys k;
    k.client.suite = k.server.suite = static_cast<uint8_t>(srtp::Suite::AeadAes128Gcm);
    k.client.key_len = k.server.key_len = 16;
    k.client.salt_len = k.server.salt_len = 12;
    std::memcpy(k.client.master_key, m.data(), 16);
    std::memcpy(k.server.master_key, m.data() + 16, 16);
    std::memcpy(k.client.master_salt, m.data() + 32, 12);
    std::memcpy(k.server.master_salt, m.data() + 44, 12);
    return k;
}

class SlowPathRingTest : public ::testing::TestWithParam<bool> {  // own TX queue?
  protected:
    void SetUp() override {
        ASSERT_NE(g_dpdk, nullptr);
        DtlsPorts& d = dtls_ports();
        drain();
        WorkerSetup ws;
        for (int s = 0; s < 2; ++s) {
            ws.ports[s].present = true;
            ws.ports[s].port = d.port[s];
            std::memcpy(ws.ports[s].mac, d.mac[s], 6);
        }
        ws.limits = {16, 0};
        ws.publish_cycles = 0;
        worker_ = std::make_unique<Worker>(ws);
        SlowPathSetup ss;
        ss.workers = {worker_.get()};
        for (int s = 0; s < 2; ++s) {
            ss.ports[s] = ws.ports[s];
            ss.tx_queue[s] = GetParam() ? 1 : -1;
        }
        ss.pool = g_dpdk->pool;
        slow_ = std::make_unique<SlowPath>(ss, gateway_identity());

        cmd_ = test::srtp_to_rtp_command(5);
        cmd_.access.local.port = 46000;
        cmd_.access.remote = {};
        cmd_.access.rx = {};
        cmd_.access.tx = {};
        cmd_.access.security = dpif::LegSecurity::DtlsSrtp;
        cmd_.access.dtls_active = active_ ? 1 : 0;
        std::memcpy(cmd_.access.remote_fingerprint, browser_identity().fingerprint().data(), 32);
        std::snprintf(cmd_.access.ice_ufrag, sizeof cmd_.access.ice_ufrag, "gwuf");
        std::snprintf(cmd_.access.ice_pwd, sizeof cmd_.access.ice_pwd, "%s", kIcePwd);
        cmd_.core.local.port = 56000;
        cmd_.core.local_rtcp.port = 56001;
        WorkerMsg m{};
        m.kind = WorkerMsg::Kind::Command;
        m.cmd = cmd_;
        ASSERT_TRUE(worker_->inbox.try_push(m));
        m = WorkerMsg{};
        m.kind = WorkerMsg::Kind::SetNextHop;
        m.session_id = 5;
        m.side = 1;
        std::memcpy(m.mac, kImsMac, 6);
        ASSERT_TRUE(worker_->inbox.try_push(m));
        pump();
        dpif::Event ev{};
        bool created = false;
        while (worker_->outbox.try_pop(ev))
            if (ev.hdr.type == dpif::MsgType::Result) created = ev.result == ResultCode::Ok;
        ASSERT_TRUE(created);
    }
    void TearDown() override {
        slow_.reset();
        drain();
    }
    static void drain() {
        DtlsPorts& d = dtls_ports();
        void* objs[64];
        for (int s = 0; s < 2; ++s) {
            rte_ring* rings[3] = {d.rx[s], d.tx[s][0], d.tx[s][1]};
            for (rte_ring* r : rings) {
                unsigned n;
                while ((n = rte_ring_dequeue_burst(r, objs, 64, nullptr)) != 0)
                    for (unsigned i = 0; i < n; ++i)
                        rte_pktmbuf_free(static_cast<rte_mbuf*>(objs[i]));
            }
        }
    }
    void pump() {
        for (int i = 0; i < 3; ++i) {
            worker_->poll();
            slow_->poll(now_ += 1000);
            worker_->poll();
        }
    }
    void inject(Side side, rte_mbuf* m) {
        ASSERT_EQ(rte_ring_enqueue(dtls_ports().rx[static_cast<int>(side)], m), 0);
    }
    std::vector<Frame> sent(Side side) {
        std::vector<Frame> out;
        void* objs[64];
        for (int q = 0; q < 2; ++q) {
            unsigned n;
            while ((n = rte_ring_dequeue_burst(dtls_ports().tx[static_cast<int>(side)][q], objs, 64,
                                               nullptr)) != 0) {
                for (unsigned i = 0; i < n; ++i) {
                    auto* m = static_cast<rte_mbuf*>(objs[i]);
                    Frame f{q, {}};
                    const uint8_t* data = mbuf_data(m);
                    EXPECT_EQ(pkt::parse_frame(data, m->data_len, f.out.f), pkt::Verdict::Udp);
                    f.out.payload.assign(data + f.out.f.payload_offset,
                                         data + f.out.f.payload_offset + f.out.f.payload_len);
                    f.out.eth.assign(data, data + 12);
                    out.push_back(f);
                    rte_pktmbuf_free(m);
                }
            }
        }
        return out;
    }
    rte_mbuf* from_browser(const Bytes& payload) {
        return frame(kBrowserMac, dtls_ports().mac[0], browser_, cmd_.access.local, payload);
    }
    static Bytes ice_check() { return test::binding_request("gwuf:brws", kIcePwd, true, 5); }
    // A slow path on the test's SCTP stack (data channels), in place of
    // SetUp's (which has session 5's DTLS leg: later sessions only).
    void remake_slow_path(datachannel::SctpStack& stack) {
        DtlsPorts& d = dtls_ports();
        SlowPathSetup ss;
        ss.workers = {worker_.get()};
        for (int s = 0; s < 2; ++s) {
            ss.ports[s].present = true;
            ss.ports[s].port = d.port[s];
            std::memcpy(ss.ports[s].mac, d.mac[s], 6);
            ss.tx_queue[s] = GetParam() ? 1 : -1;
        }
        ss.pool = g_dpdk->pool;
        ss.sctp = &stack;
        slow_ = std::make_unique<SlowPath>(ss, gateway_identity());
    }

    std::unique_ptr<Worker> worker_;
    std::unique_ptr<SlowPath> slow_;
    dpif::Command cmd_{};
    dpif::IpEndpoint browser_ = endpoint4("198.18.0.10", 5000);
    bool active_ = false;  // our DTLS role (set before SetUp)
    uint64_t now_ = 1'000'000'000;
};

TEST_P(SlowPathRingTest, HandshakeThroughTheRingsKeysTheWorkerAndMediaFlows) {
    const int slow_queue = GetParam() ? 1 : 0;
    // ICE: the browser's nomination.
    inject(Side::Access, from_browser(ice_check()));
    pump();
    const auto answers = sent(Side::Access);
    ASSERT_EQ(answers.size(), 1U);
    EXPECT_EQ(answers[0].queue, 0) << "STUN is answered by the worker on its own queue";

    // DTLS: an OpenSSL client as the browser (a=setup:active, we are passive).
    dtls::test::OpenSslPeer peer(browser_identity(), /*client=*/true, "SRTP_AEAD_AES_128_GCM");
    int done = 0;
    std::size_t from_slow_path = 0;
    for (int round = 0; round < 10 && done == 0; ++round) {
        done = peer.step();
        for (auto d = peer.drain(); !d.empty(); d = peer.drain())
            inject(Side::Access, from_browser(d));
        pump();
        for (const Frame& f : sent(Side::Access)) {
            EXPECT_EQ(f.queue, slow_queue);
            EXPECT_EQ(f.out.f.src_port, 46000);
            EXPECT_EQ(f.out.f.dst_port, 5000);
            EXPECT_EQ(0, std::memcmp(f.out.eth.data(), kBrowserMac, 6));
            EXPECT_GE(f.out.payload[0], 20);
            EXPECT_LE(f.out.payload[0], 63);
            peer.feed(f.out.payload);
            ++from_slow_path;
        }
    }
    ASSERT_EQ(done, 1) << "the browser's handshake did not complete";
    EXPECT_GE(from_slow_path, 1U);
    EXPECT_EQ(peer.selected_profile(), "SRTP_AEAD_AES_128_GCM");
    dpif::Event ev{};
    bool up = false;
    while (slow_->outbox.try_pop(ev)) {
        if (ev.hdr.type == dpif::MsgType::DtlsUp && ev.hdr.session_id == 5) {
            up = true;
            EXPECT_STREQ(ev.detail, "access SRTP_AEAD_AES_128_GCM");
        }
    }
    EXPECT_TRUE(up);
    EXPECT_EQ(slow_->counters().handshakes_up, 1U);

    // Media under the exported keys: the browser writes with the client's.
    const GcmKeys k = gcm_keys(peer);
    LibSrtp browser_tx(k.client, false);
    LibSrtp browser_rx(k.server, true);
    inject(Side::Access, from_browser(browser_tx.protect(rtp(1))));
    pump();
    const auto to_ims = sent(Side::Core);
    ASSERT_EQ(to_ims.size(), 1U);
    EXPECT_EQ(to_ims[0].out.payload, rtp(1));
    inject(Side::Core,
           frame(kImsMac, dtls_ports().mac[1], cmd_.core.remote, cmd_.core.local, rtp(2)));
    pump();
    auto to_browser = sent(Side::Access);
    ASSERT_EQ(to_browser.size(), 1U);
    EXPECT_EQ(to_browser[0].queue, 0);
    ASSERT_TRUE(browser_rx.unprotect(to_browser[0].out.payload));
    EXPECT_EQ(to_browser[0].out.payload, rtp(2));

    // Delete: the slow path says close_notify to the browser.
    dpif::Command del{};
    del.hdr.version = dpif::kAbiVersion;
    del.hdr.type = dpif::MsgType::SessionDelete;
    del.hdr.session_id = 5;
    WorkerMsg dm{};
    dm.kind = WorkerMsg::Kind::Command;
    dm.cmd = del;
    ASSERT_TRUE(worker_->inbox.try_push(dm));
    pump();
    const auto bye = sent(Side::Access);
    ASSERT_EQ(bye.size(), 1U);
    EXPECT_EQ(bye[0].queue, slow_queue);
    peer.feed(bye[0].out.payload);
    EXPECT_EQ(peer.read_once(), SSL_ERROR_ZERO_RETURN);
}

// We are the DTLS client (a=setup:active): the handshake starts when ICE
// nominates the browser, and the browser, the server, finishes last: its
// first SRTP can arrive in the same burst as its Finished, before the slow
// path has the keys. That packet is held, then relayed, not dropped.
class SlowPathActiveTest : public SlowPathRingTest {
  protected:
    void SetUp() override {
        active_ = true;
        SlowPathRingTest::SetUp();
    }
};

TEST_P(SlowPathActiveTest, TheBrowsersFirstMediaWaitsForTheKeysNotDropped) {
    dtls::test::OpenSslPeer peer(browser_identity(), /*client=*/false, "SRTP_AES128_CM_SHA1_80");
    inject(Side::Access, from_browser(ice_check()));
    pump();
    int done = 0;
    for (int round = 0; round < 10 && done == 0; ++round) {
        for (const Frame& f : sent(Side::Access))
            if (f.out.payload[0] >= 20 && f.out.payload[0] <= 63) peer.feed(f.out.payload);
        done = peer.step();
        std::vector<Bytes> flight;
        for (auto d = peer.drain(); !d.empty(); d = peer.drain())
            flight.push_back(d);
        if (done == 1) {
            // The browser is up: its last flight and its first media together.
            const auto m = peer.export_material(16, 14);
            dpif::SrtpKeys server{};
            server.suite = static_cast<uint8_t>(srtp::Suite::AesCm128HmacSha1_80);
            server.key_len = 16;
            server.salt_len = 14;
            std::memcpy(server.master_key, m.data() + 16, 16);
            std::memcpy(server.master_salt, m.data() + 32 + 14, 14);
            LibSrtp browser_tx(server, false);
            for (const Bytes& d : flight)
                inject(Side::Access, from_browser(d));
            inject(Side::Access, from_browser(browser_tx.protect(rtp(1))));
            inject(Side::Access, from_browser(browser_tx.protect(rtp(2))));
            worker_->poll();  // the Finished to the slow path, the media held
            EXPECT_EQ(worker_->counters().held_for_keys, 2U);
            pump();
            const auto to_ims = sent(Side::Core);
            ASSERT_EQ(to_ims.size(), 2U);
            EXPECT_EQ(to_ims[0].out.payload, rtp(1));
            EXPECT_EQ(to_ims[1].out.payload, rtp(2));
            EXPECT_EQ(
                worker_->counters().drops[static_cast<std::size_t>(session::RelayDrop::NotKeyed)],
                0U);
            return;
        }
        for (const Bytes& d : flight)
            inject(Side::Access, from_browser(d));
        pump();
    }
    FAIL() << "the browser's handshake did not complete";
}

// A data channel (issue 9): a DtlsSctp access leg without a core leg. The
// browser (an OpenSSL DTLS client offering no use_srtp, and an SCTP
// endpoint on the test's own stack) comes up through the worker's rings;
// the slow path's endpoint takes its DCEP OPEN (and answers the ACK the
// browser sees) and its message; anything but DTLS on the leg is dropped;
// a delete takes the endpoint away.
TEST_P(SlowPathRingTest, DataChannelComesUpThroughTheRings) {
    datachannel::SctpStack stack;  // the slow path's and the browser's associations
    remake_slow_path(stack);
    dpif::Command dc{};
    dc.hdr.version = dpif::kAbiVersion;
    dc.hdr.type = dpif::MsgType::SessionCreate;
    dc.hdr.session_id = 6;
    dc.hdr.generation = cmd_.hdr.generation;
    dc.access.local = cmd_.access.local;
    dc.access.local.port = 46002;
    dc.access.rtcp_mux = 1;
    dc.access.security = dpif::LegSecurity::DtlsSctp;
    std::memcpy(dc.access.remote_fingerprint, browser_identity().fingerprint().data(), 32);
    std::snprintf(dc.access.ice_ufrag, sizeof dc.access.ice_ufrag, "gwdc");
    std::snprintf(dc.access.ice_pwd, sizeof dc.access.ice_pwd, "%s", kIcePwd);
    dc.datachannel.max_message_size = 65536;
    WorkerMsg wm{};
    wm.kind = WorkerMsg::Kind::Command;
    wm.cmd = dc;
    ASSERT_TRUE(worker_->inbox.try_push(wm));
    pump();
    dpif::Event ev{};
    bool created = false;
    while (worker_->outbox.try_pop(ev))
        if (ev.hdr.type == dpif::MsgType::Result && ev.hdr.session_id == 6)
            created = ev.result == ResultCode::Ok;
    ASSERT_TRUE(created) << "a DtlsSctp session without a core leg is accepted";

    const auto to_gw = [&](const Bytes& payload) {
        return frame(kBrowserMac, dtls_ports().mac[0], browser_, dc.access.local, payload);
    };
    inject(Side::Access, to_gw(test::binding_request("gwdc:brws", kIcePwd, true, 5)));
    pump();
    ASSERT_EQ(sent(Side::Access).size(), 1U) << "the ICE check is answered";

    // DTLS without use_srtp, then SCTP inside it.
    dtls::test::OpenSslPeer peer(browser_identity(), /*client=*/true, "SRTP_AES128_CM_SHA1_80",
                                 /*offer_srtp=*/false);
    std::vector<Bytes> browser_out;  // SCTP packets the browser's endpoint wrote
    int acks = 0;
    datachannel::EndpointOptions bo;
    bo.dtls_client = true;
    datachannel::EndpointCallbacks bc;
    bc.send_packet = [&](std::span<const uint8_t> p) {
        browser_out.emplace_back(p.begin(), p.end());
    };
    bc.on_ack = [&](uint16_t) { ++acks; };
    std::unique_ptr<datachannel::DataChannelEndpoint> browser;
    const auto shuttle = [&] {
        for (int round = 0; round < 20; ++round) {
            bool moved = false;
            for (const Bytes& p : browser_out) {
                peer.write(std::string(p.begin(), p.end()));
                moved = true;
            }
            browser_out.clear();
            peer.step();
            for (auto d = peer.drain(); !d.empty(); d = peer.drain()) {
                inject(Side::Access, to_gw(d));
                moved = true;
            }
            pump();
            for (const Frame& f : sent(Side::Access)) {
                EXPECT_EQ(f.out.f.src_port, 46002);
                peer.feed(f.out.payload);
                moved = true;
            }
            if (browser) {
                for (std::string r = peer.read_data(); !r.empty(); r = peer.read_data())
                    browser->receive_packet(
                        std::span(reinterpret_cast<const uint8_t*>(r.data()), r.size()));
            }
            stack.tick(now_ / 1000000);
            if (!moved && browser_out.empty()) break;
        }
    };
    shuttle();
    bool up = false;
    while (slow_->outbox.try_pop(ev))
        if (ev.hdr.type == dpif::MsgType::DtlsUp && ev.hdr.session_id == 6) {
            up = true;
            EXPECT_STREQ(ev.detail, "access no SRTP");
        }
    ASSERT_TRUE(up) << "a data-only DTLS handshake comes up";
    ASSERT_NE(slow_->data_channel(6, 0), nullptr) << "the slow path made the SCTP endpoint";

    // The session's MSRP chat (issue 9) as the command service hands it
    // over: passive, our TCP side on the loopback, where the test is the UE.
    uint16_t tcp_port = 0;
    {
        const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        socklen_t len = sizeof a;
        getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
        tcp_port = ntohs(a.sin_port);
        ::close(probe);
    }
    MsrpOp op;
    op.kind = MsrpOp::Kind::Set;
    op.session_id = 6;
    op.generation = dc.hdr.generation;
    op.access_local = dc.access.local;
    op.spec.setup = dpif::kMsrpPassive;
    op.spec.tcp_local.family = 4;
    op.spec.tcp_local.port = tcp_port;
    const uint8_t lo[4] = {127, 0, 0, 1};
    std::memcpy(op.spec.tcp_local.addr, lo, 4);
    op.spec.channel_id = dpif::kMsrpAnyChannel;
    const std::string browser_path = "msrp://brws.invalid:9/brws6;dc";
    const std::string ue_path = "msrp://127.0.0.1:2855/ue6;tcp";
    msrp::set_spec_text(op.spec.session_id, sizeof op.spec.session_id, "gwchat6");
    msrp::set_spec_text(op.spec.browser_path, sizeof op.spec.browser_path, browser_path);
    msrp::set_spec_text(op.spec.ue_path, sizeof op.spec.ue_path, ue_path);
    const auto legs = msrp::chat_legs(op.spec, op.access_local);
    ASSERT_TRUE(legs.has_value());
    ASSERT_TRUE(slow_->msrp_inbox.try_push(op));
    pump();
    EXPECT_EQ(slow_->msrp_specs(), 1U);

    std::vector<std::string> browser_got;  // MSRP messages the browser's channel received
    bc.on_message = [&](uint16_t, datachannel::MessageKind, std::span<const uint8_t> m) {
        browser_got.emplace_back(reinterpret_cast<const char*>(m.data()), m.size());
    };
    browser = std::make_unique<datachannel::DataChannelEndpoint>(stack, bo, std::move(bc));
    browser->connect();
    shuttle();
    ASSERT_EQ(browser->state(), datachannel::SctpState::Up);

    datachannel::OpenMessage open;
    open.label = "chat";
    open.protocol = "msrp";
    const auto opened = browser->open(open);
    ASSERT_EQ(opened.result, datachannel::SendResult::Ok);
    EXPECT_EQ(opened.id % 2, 0) << "the DTLS client's ids are even";
    shuttle();
    EXPECT_EQ(acks, 1) << "the gateway's DCEP ACK reached the browser";
    EXPECT_EQ(slow_->chats().chats(), 1U) << "the MSRP channel started the session's chat";

    // The UE connects to our TCP URI and sends; the browser gets the SEND.
    const int ue = ::socket(AF_INET, SOCK_STREAM, 0);
    {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(tcp_port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(::connect(ue, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    }
    const auto msrp_send = [](const std::string& tid, const std::string& to,
                              const std::string& from, const std::string& body) {
        return "MSRP " + tid + " SEND\r\nTo-Path: " + to + "\r\nFrom-Path: " + from +
               "\r\nMessage-ID: m" + tid + "\r\nByte-Range: 1-" + std::to_string(body.size()) +
               "/" + std::to_string(body.size()) + "\r\nContent-Type: text/plain\r\n\r\n" + body +
               "\r\n-------" + tid + "$\r\n";
    };
    const std::string from_ue =
        msrp_send("ue6tx1", msrp::to_string(legs->tcp.self), ue_path, "hello from the IMS");
    ASSERT_EQ(::send(ue, from_ue.data(), from_ue.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(from_ue.size()));
    for (int i = 0; i < 200 && browser_got.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        shuttle();
    }
    ASSERT_EQ(browser_got.size(), 1U) << "the UE's SEND crossed the bridge to the channel";
    const msrp::ParseResult got = msrp::parse_message(browser_got[0]);
    ASSERT_TRUE(got.ok()) << got.reason;
    EXPECT_EQ(got.message.body, "hello from the IMS");
    EXPECT_EQ(msrp::to_string(got.message.to_path), browser_path);
    EXPECT_TRUE(slow_->chats().tcp_up(6 << 1));

    // The browser's SEND reaches the UE (after the UE's own 200).
    const std::string hello = msrp_send("brws6tx1", msrp::to_string(legs->channel.self),
                                        browser_path, "hello from the browser");
    ASSERT_EQ(
        browser->send(opened.id, datachannel::MessageKind::Text,
                      std::span(reinterpret_cast<const uint8_t*>(hello.data()), hello.size())),
        datachannel::SendResult::Ok);
    shuttle();
    std::string at_ue;
    for (int i = 0; i < 200 && at_ue.find("hello from the browser") == std::string::npos; ++i) {
        char buf[4096];
        const ssize_t n = ::recv(ue, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) at_ue.append(buf, static_cast<std::size_t>(n));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        shuttle();
    }
    EXPECT_NE(at_ue.find("MSRP ue6tx1 200 OK"), std::string::npos) << at_ue;
    EXPECT_NE(at_ue.find("To-Path: " + ue_path), std::string::npos) << at_ue;
    EXPECT_NE(at_ue.find("hello from the browser"), std::string::npos) << at_ue;

    const SlowPathCounters& c = slow_->own_counters();
    EXPECT_EQ(c.dc_legs_up, 1U);
    EXPECT_EQ(c.dc_channels, 1U);
    EXPECT_EQ(c.dc_messages_in, 1U);
    EXPECT_EQ(c.dc_unrouted, 0U);
    EXPECT_EQ(c.dc_no_leg, 0U);

    // RTP on the data channel's port is not relayed.
    inject(Side::Access, to_gw(rtp(1)));
    pump();
    EXPECT_TRUE(sent(Side::Core).empty());

    dpif::Command del{};
    del.hdr.type = dpif::MsgType::SessionDelete;
    del.hdr.session_id = 6;
    wm.cmd = del;
    ASSERT_TRUE(worker_->inbox.try_push(wm));
    pump();
    EXPECT_EQ(slow_->data_channel(6, 0), nullptr) << "the delete took the endpoint away";
    EXPECT_EQ(slow_->chats().chats(), 0U) << "and its chat";
    EXPECT_EQ(slow_->chats().counters().channel_closed, 1U);
    char buf[256];
    ssize_t n = 0;
    for (int i = 0; i < 100; ++i) {
        n = ::recv(ue, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(n, 0) << "the UE's connection was closed";
    ::close(ue);
    browser.reset();
    slow_.reset();  // its endpoints before the stack
}

// BUNDLE with a data channel (issues 7 and 9): the transport's DTLS carries
// SRTP and SCTP. A DtlsSrtp leg comes up with SRTP; an update to
// DtlsSrtpSctp (the browser's re-offer added a data channel to its bundle)
// keeps the association (no second handshake), the slow path makes the
// SCTP endpoint on it at once, a DCEP channel opens, and media still flows
// under the same keys; an update back to DtlsSrtp takes the endpoint away
// and media flows on. A create as DtlsSrtpSctp gets both from its one
// handshake.
TEST_P(SlowPathRingTest, BundleTransportCarriesSrtpAndTheDataChannel) {
    datachannel::SctpStack stack;
    remake_slow_path(stack);
    const auto command = [&](dpif::MsgType type, dpif::LegSecurity security, uint64_t id,
                             uint16_t access_port, uint16_t core_port) {
        dpif::Command c = cmd_;
        c.hdr.type = type;
        c.hdr.session_id = id;
        c.access.security = security;
        c.access.rtcp_mux = 1;
        c.access.local_rtcp = {};
        c.access.local.port = access_port;
        c.core.local.port = core_port;
        c.core.local_rtcp.port = static_cast<uint16_t>(core_port + 1);
        if (dpif::carries_sctp(security)) c.datachannel.max_message_size = 65536;
        WorkerMsg wm{};
        wm.kind = WorkerMsg::Kind::Command;
        wm.cmd = c;
        EXPECT_TRUE(worker_->inbox.try_push(wm));
        WorkerMsg hop{};
        hop.kind = WorkerMsg::Kind::SetNextHop;
        hop.session_id = id;
        hop.side = 1;
        std::memcpy(hop.mac, kImsMac, 6);
        EXPECT_TRUE(worker_->inbox.try_push(hop));
        pump();
        dpif::Event ev{};
        ResultCode rc = ResultCode::BadType;  // (none came)
        while (worker_->outbox.try_pop(ev))
            if (ev.hdr.type == dpif::MsgType::Result && ev.hdr.session_id == id) rc = ev.result;
        return rc;
    };
    // (Session 5's Open went to the slow path SetUp made: sessions of their own.)
    ASSERT_EQ(command(dpif::MsgType::SessionCreate, dpif::LegSecurity::DtlsSrtp, 8, 46006, 56006),
              ResultCode::Ok);

    // One browser: its DTLS (use_srtp offered), its SRTP and its SCTP.
    struct Browser {
        dpif::IpEndpoint gw;
        std::unique_ptr<dtls::test::OpenSslPeer> dtls;
        std::unique_ptr<LibSrtp> tx, rx;
        std::vector<Bytes> sctp_out;
        std::unique_ptr<datachannel::DataChannelEndpoint> sctp;
        int acks = 0;
        std::vector<Bytes> media;  // SRTP the gateway sent it
    };
    const auto shuttle = [&](Browser& b) {
        for (int round = 0; round < 20; ++round) {
            bool moved = false;
            for (const Bytes& p : b.sctp_out) {
                b.dtls->write(std::string(p.begin(), p.end()));
                moved = true;
            }
            b.sctp_out.clear();
            b.dtls->step();
            for (auto d = b.dtls->drain(); !d.empty(); d = b.dtls->drain()) {
                inject(Side::Access, frame(kBrowserMac, dtls_ports().mac[0], browser_, b.gw, d));
                moved = true;
            }
            pump();
            for (const Frame& f : sent(Side::Access)) {
                EXPECT_EQ(f.out.f.src_port, b.gw.port);
                if (f.out.payload[0] >= 20 && f.out.payload[0] <= 63)
                    b.dtls->feed(f.out.payload);
                else
                    b.media.push_back(f.out.payload);
                moved = true;
            }
            if (b.sctp) {
                for (std::string r = b.dtls->read_data(); !r.empty(); r = b.dtls->read_data())
                    b.sctp->receive_packet(
                        std::span(reinterpret_cast<const uint8_t*>(r.data()), r.size()));
            }
            stack.tick(now_ / 1000000);
            if (!moved && b.sctp_out.empty()) break;
        }
    };
    const auto handshake = [&](Browser& b, const char* ufrag) {
        inject(Side::Access, frame(kBrowserMac, dtls_ports().mac[0], browser_, b.gw,
                                   test::binding_request((std::string(ufrag) + ":brws").c_str(),
                                                         kIcePwd, true, 5)));
        pump();
        ASSERT_EQ(sent(Side::Access).size(), 1U) << "the ICE check is answered";
        b.dtls = std::make_unique<dtls::test::OpenSslPeer>(browser_identity(), /*client=*/true,
                                                           "SRTP_AEAD_AES_128_GCM");
        shuttle(b);
        {
            std::string why;
            dpif::Event ev{};
            while (slow_->outbox.try_pop(ev))
                why += std::string(ev.detail) + "; ";
            ASSERT_EQ(b.dtls->step(), 1)
                << "the browser's handshake completed: " << why << " started "
                << slow_->counters().handshakes_started << " in " << slow_->counters().datagrams_in
                << " unknown " << slow_->counters().unknown_leg;
        }
        const GcmKeys k = gcm_keys(*b.dtls);
        b.tx = std::make_unique<LibSrtp>(k.client, false);
        b.rx = std::make_unique<LibSrtp>(k.server, true);
    };
    const auto media_flows = [&](Browser& b, uint16_t core_port, uint16_t seq) {
        inject(Side::Access,
               frame(kBrowserMac, dtls_ports().mac[0], browser_, b.gw, b.tx->protect(rtp(seq))));
        pump();
        const auto to_ims = sent(Side::Core);
        ASSERT_EQ(to_ims.size(), 1U) << "browser SRTP relayed (seq " << seq << ")";
        EXPECT_EQ(to_ims[0].out.payload, rtp(seq));
        dpif::IpEndpoint core_local = cmd_.core.local;
        core_local.port = core_port;
        inject(Side::Core, frame(kImsMac, dtls_ports().mac[1], cmd_.core.remote, core_local,
                                 rtp(static_cast<uint16_t>(seq + 1000))));
        pump();
        b.media.clear();
        for (const Frame& f : sent(Side::Access))
            b.media.push_back(f.out.payload);
        std::string drops;
        for (std::size_t k = 0; k < worker_->counters().drops.size(); ++k)
            if (worker_->counters().drops[k] != 0)
                drops +=
                    std::to_string(k) + "=" + std::to_string(worker_->counters().drops[k]) + " ";
        ASSERT_EQ(b.media.size(), 1U) << "IMS RTP relayed (seq " << seq << ") " << drops;
        ASSERT_TRUE(b.rx->unprotect(b.media[0]));
        EXPECT_EQ(b.media[0], rtp(static_cast<uint16_t>(seq + 1000)));
    };
    const auto open_channel = [&](Browser& b) {
        datachannel::EndpointOptions bo;
        bo.dtls_client = true;
        datachannel::EndpointCallbacks bc;
        bc.send_packet = [&b](std::span<const uint8_t> p) {
            b.sctp_out.emplace_back(p.begin(), p.end());
        };
        bc.on_ack = [&b](uint16_t) { ++b.acks; };
        b.sctp = std::make_unique<datachannel::DataChannelEndpoint>(stack, bo, std::move(bc));
        b.sctp->connect();
        shuttle(b);
        ASSERT_EQ(b.sctp->state(), datachannel::SctpState::Up);
        datachannel::OpenMessage open;
        open.label = "chat";
        ASSERT_EQ(b.sctp->open(open).result, datachannel::SendResult::Ok);
        shuttle(b);
        EXPECT_EQ(b.acks, 1) << "the gateway's DCEP ACK came back on the same DTLS";
    };

    Browser a;
    a.gw = cmd_.access.local;
    a.gw.port = 46006;
    ASSERT_NO_FATAL_FAILURE(handshake(a, "gwuf"));
    ASSERT_NO_FATAL_FAILURE(media_flows(a, 56006, 1));
    EXPECT_EQ(slow_->data_channel(8, 0), nullptr);

    // The data channel joins the bundle: same association, an endpoint now.
    ASSERT_EQ(
        command(dpif::MsgType::SessionUpdate, dpif::LegSecurity::DtlsSrtpSctp, 8, 46006, 56006),
        ResultCode::Ok);
    EXPECT_EQ(slow_->counters().handshakes_started, 1U) << "no second handshake";
    ASSERT_NE(slow_->data_channel(8, 0), nullptr) << "the endpoint is made on the up association";
    ASSERT_NO_FATAL_FAILURE(open_channel(a));
    EXPECT_EQ(slow_->own_counters().dc_channels, 1U);
    ASSERT_NO_FATAL_FAILURE(media_flows(a, 56006, 2));

    // ... and leaves it: the endpoint goes, the media stays.
    ASSERT_EQ(command(dpif::MsgType::SessionUpdate, dpif::LegSecurity::DtlsSrtp, 8, 46006, 56006),
              ResultCode::Ok);
    EXPECT_EQ(slow_->data_channel(8, 0), nullptr);
    EXPECT_EQ(slow_->counters().handshakes_started, 1U);
    ASSERT_NO_FATAL_FAILURE(media_flows(a, 56006, 3));
    a.sctp.reset();

    // Created as DtlsSrtpSctp: one handshake keys the worker and makes the
    // endpoint.
    ASSERT_EQ(
        command(dpif::MsgType::SessionCreate, dpif::LegSecurity::DtlsSrtpSctp, 7, 46004, 56004),
        ResultCode::Ok);
    Browser b;
    b.gw = cmd_.access.local;
    b.gw.port = 46004;
    ASSERT_NO_FATAL_FAILURE(handshake(b, "gwuf"));
    EXPECT_EQ(slow_->counters().handshakes_up, 2U);
    ASSERT_NE(slow_->data_channel(7, 0), nullptr);
    ASSERT_NO_FATAL_FAILURE(media_flows(b, 56004, 4));
    ASSERT_NO_FATAL_FAILURE(open_channel(b));
    ASSERT_NO_FATAL_FAILURE(media_flows(b, 56004, 5));
    EXPECT_EQ(slow_->own_counters().dc_no_leg, 0U);
    EXPECT_EQ(slow_->counters().app_data_dropped, 0U);

    // A data channel alone first (DtlsSctp, no core leg), then audio joins
    // its bundle: the keys its handshake negotiated reach the worker then,
    // with no second handshake; the channel stays. The audio leaves and
    // comes back: the worker keeps the contexts it had (never re-keyed
    // under the same master key), and media flows on under them.
    const auto chat_alone = [&](dpif::MsgType type) {
        dpif::Command c{};
        c.hdr = cmd_.hdr;
        c.hdr.type = type;
        c.hdr.session_id = 9;
        c.access = cmd_.access;
        c.access.security = dpif::LegSecurity::DtlsSctp;
        c.access.rtcp_mux = 1;
        c.access.local_rtcp = {};
        c.access.local.port = 46008;
        c.datachannel.max_message_size = 65536;
        WorkerMsg wm{};
        wm.kind = WorkerMsg::Kind::Command;
        wm.cmd = c;
        EXPECT_TRUE(worker_->inbox.try_push(wm));
        pump();
        dpif::Event ev{};
        ResultCode rc = ResultCode::BadType;
        while (worker_->outbox.try_pop(ev))
            if (ev.hdr.type == dpif::MsgType::Result && ev.hdr.session_id == 9) rc = ev.result;
        return rc;
    };
    ASSERT_EQ(chat_alone(dpif::MsgType::SessionCreate), ResultCode::Ok);
    Browser c;
    c.gw = cmd_.access.local;
    c.gw.port = 46008;
    ASSERT_NO_FATAL_FAILURE(handshake(c, "gwuf"));
    ASSERT_NO_FATAL_FAILURE(open_channel(c));
    const uint64_t installed = worker_->dtls_keys_installed();
    ASSERT_EQ(
        command(dpif::MsgType::SessionUpdate, dpif::LegSecurity::DtlsSrtpSctp, 9, 46008, 56008),
        ResultCode::Ok);
    EXPECT_EQ(slow_->counters().handshakes_started, 3U) << "no new handshake";
    EXPECT_EQ(worker_->dtls_keys_installed(), installed + 1) << "the keys came now";
    ASSERT_NO_FATAL_FAILURE(media_flows(c, 56008, 6));
    ASSERT_EQ(chat_alone(dpif::MsgType::SessionUpdate), ResultCode::Ok);
    EXPECT_NE(slow_->data_channel(9, 0), nullptr) << "the channel stays";
    ASSERT_EQ(
        command(dpif::MsgType::SessionUpdate, dpif::LegSecurity::DtlsSrtpSctp, 9, 46008, 56008),
        ResultCode::Ok);
    EXPECT_EQ(worker_->dtls_keys_installed(), installed + 1) << "not keyed again";
    ASSERT_NO_FATAL_FAILURE(media_flows(c, 56008, 7));
    EXPECT_EQ(slow_->counters().handshakes_started, 3U);

    b.sctp.reset();
    c.sctp.reset();
    slow_.reset();  // its endpoints before the stack
}

INSTANTIATE_TEST_SUITE_P(OwnQueueOrWorkerRing, SlowPathActiveTest, ::testing::Bool());

INSTANTIATE_TEST_SUITE_P(OwnQueueOrWorkerRing, SlowPathRingTest, ::testing::Bool());

}  // namespace
}  // namespace isthmus::dataplane::test_rig
