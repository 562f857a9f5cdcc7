// The slow path's DTLS service: legs opened by workers, handshakes driven by
// datagrams and paths, keys delivered under the leg's serial, events, and
// its bounds (stale serials, concurrent handshakes, deadlines).
#include "dtls/service.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "openssl_peer.hpp"

namespace isthmus::dtls {
namespace {

using test::OpenSslPeer;

const Identity& ours() {
    static const Identity i = Identity::generate("gateway");
    return i;
}
const Identity& browser() {
    static const Identity i = Identity::generate("browser");
    return i;
}

pkt::UdpEgress path_to(uint8_t last) {
    pkt::UdpEgress e{};
    e.family = 4;
    e.src[0] = 198, e.src[1] = 18, e.src[3] = 2;
    e.dst[0] = 198, e.dst[1] = 18, e.dst[3] = last;
    e.src_port = 40000;
    e.dst_port = 50000;
    e.dst_mac[5] = last;
    e.ttl = 64;
    return e;
}

OpenParams params(uint64_t id, uint32_t serial, Role role, const Fingerprint& fp) {
    OpenParams p;
    p.leg = {id, 0, 1, serial};
    p.generation = 3;
    p.role = role;
    p.remote = fp;
    return p;
}

// Shuttles datagrams between the service's leg and the peer.
void run(Service& svc, const LegRef& leg, OpenSslPeer& peer, uint64_t now = 1) {
    for (int round = 0; round < 20; ++round) {
        peer.step();
        bool moved = false;
        for (auto d = peer.drain(); !d.empty(); d = peer.drain()) {
            svc.on_datagram(leg, path_to(1), d, now);
            moved = true;
        }
        for (auto& o : svc.outgoing()) {
            EXPECT_EQ(o.leg, leg);
            peer.feed(o.datagram);
            moved = true;
        }
        svc.outgoing().clear();
        if (!moved) break;
    }
}

TEST(DtlsService, PassiveLegComesUpAndHandsItsKeysToTheWorker) {
    Context ctx(ours());
    Service svc(ctx);
    const auto p = params(7, 1, Role::Passive, browser().fingerprint());
    svc.open(p);
    OpenSslPeer peer(browser(), true, "SRTP_AES128_CM_SHA1_80");
    run(svc, p.leg, peer);
    ASSERT_EQ(svc.keys().size(), 1U);
    const KeyDelivery& kd = svc.keys()[0];
    EXPECT_TRUE(kd.install);
    EXPECT_EQ(kd.leg, p.leg);
    EXPECT_EQ(kd.keys.profile.suite, srtp::Suite::AesCm128HmacSha1_80);
    const auto m = peer.export_material(16, 14);
    EXPECT_EQ(0, std::memcmp(kd.keys.remote_key, m.data(), 16)) << "rx = the client's key";
    ASSERT_EQ(svc.events().size(), 1U);
    EXPECT_EQ(svc.events()[0].kind, ServiceEvent::Kind::Up);
    EXPECT_EQ(svc.events()[0].detail, "SRTP_AES128_CM_SHA1_80");
    EXPECT_EQ(svc.events()[0].generation, 3U);
    EXPECT_EQ(svc.counters().handshakes_up, 1U);
    EXPECT_EQ(svc.handshaking(), 0U);

    // The peer closes: keys withdrawn, reported.
    svc.keys().clear();
    svc.events().clear();
    peer.shutdown();
    svc.on_datagram(p.leg, path_to(1), peer.drain(), 2);
    ASSERT_EQ(svc.keys().size(), 1U);
    EXPECT_FALSE(svc.keys()[0].install);
    ASSERT_EQ(svc.events().size(), 1U);
    EXPECT_EQ(svc.events()[0].kind, ServiceEvent::Kind::Failed);
    EXPECT_EQ(svc.events()[0].detail, "closed: close_notify");
    EXPECT_EQ(svc.counters().closed_by_peer, 1U);
}

// SCTP over DTLS (RFC 8261): a data-channel leg hands its application data
// out and sends the slow path's; another leg counts and drops it.
TEST(DtlsService, DataChannelLegCarriesApplicationDataBothWays) {
    Context ctx(ours());
    Service svc(ctx);
    auto p = params(8, 1, Role::Passive, browser().fingerprint());
    p.app_data = true;
    p.srtp = false;  // a DtlsSctp leg
    svc.open(p);
    auto q = params(9, 1, Role::Passive, browser().fingerprint());
    svc.open(q);
    OpenSslPeer peer(browser(), true, "SRTP_AES128_CM_SHA1_80");
    OpenSslPeer other(browser(), true, "SRTP_AES128_CM_SHA1_80");
    EXPECT_FALSE(svc.send_app_data(p.leg, std::vector<uint8_t>{1, 2, 3}));  // not up yet
    run(svc, p.leg, peer);
    run(svc, q.leg, other);
    ASSERT_EQ(svc.counters().handshakes_up, 2U);
    // The media leg's keys go to its worker; the data channel's never leave.
    ASSERT_EQ(svc.keys().size(), 1U);
    EXPECT_EQ(svc.keys()[0].leg, q.leg);

    peer.write("an SCTP packet");
    svc.on_datagram(p.leg, path_to(1), peer.drain(), 2);
    ASSERT_EQ(svc.app_data().size(), 1U);
    EXPECT_EQ(svc.app_data()[0].leg, p.leg);
    EXPECT_EQ(std::string(svc.app_data()[0].data.begin(), svc.app_data()[0].data.end()),
              "an SCTP packet");
    svc.app_data().clear();
    other.write("not for a data channel");
    svc.on_datagram(q.leg, path_to(1), other.drain(), 2);
    EXPECT_TRUE(svc.app_data().empty());
    EXPECT_EQ(svc.counters().app_data, 2U);
    EXPECT_EQ(svc.counters().app_data_dropped, 1U);

    svc.outgoing().clear();
    const std::string reply = "the gateway's SCTP packet";
    ASSERT_TRUE(svc.send_app_data(
        p.leg, std::span(reinterpret_cast<const uint8_t*>(reply.data()), reply.size())));
    ASSERT_EQ(svc.outgoing().size(), 1U);
    EXPECT_EQ(svc.outgoing()[0].leg, p.leg);
    peer.feed(svc.outgoing()[0].datagram);
    EXPECT_EQ(peer.read_data(), reply);
    EXPECT_EQ(svc.counters().app_data_out, 1U);
    EXPECT_FALSE(svc.send_app_data(p.leg, std::vector<uint8_t>(16385, 0)));   // over a record
    EXPECT_FALSE(svc.send_app_data({77, 0, 1, 1}, std::vector<uint8_t>{1}));  // no such leg
    EXPECT_EQ(svc.counters().app_data_refused, 3U);
}

// A peer that offers no use_srtp (a data-only DTLS client) comes up on a
// data-channel leg, and fails on a media leg (RFC 5764 4.1.1).
TEST(DtlsService, DataChannelLegNeedsNoSrtpProfile) {
    Context ctx(ours());
    Service svc(ctx);
    auto p = params(10, 1, Role::Passive, browser().fingerprint());
    p.app_data = true;
    p.srtp = false;  // a DtlsSctp leg
    svc.open(p);
    const auto q = params(11, 1, Role::Passive, browser().fingerprint());
    svc.open(q);
    OpenSslPeer data_only(browser(), true, "SRTP_AES128_CM_SHA1_80", false);
    OpenSslPeer media(browser(), true, "SRTP_AES128_CM_SHA1_80", false);
    run(svc, p.leg, data_only);
    run(svc, q.leg, media);
    ASSERT_EQ(svc.events().size(), 2U);
    EXPECT_EQ(svc.events()[0].kind, ServiceEvent::Kind::Up);
    EXPECT_EQ(svc.events()[0].detail, "no SRTP");
    EXPECT_EQ(svc.events()[1].kind, ServiceEvent::Kind::Failed);
    EXPECT_EQ(svc.events()[1].detail, "no common use_srtp profile");
    EXPECT_TRUE(svc.keys().size() == 1U && !svc.keys()[0].install);  // q's withdrawal only
    data_only.write("sctp");
    svc.on_datagram(p.leg, path_to(1), data_only.drain(), 2);
    ASSERT_EQ(svc.app_data().size(), 1U);
}

// A kept association whose leg starts or stops carrying SRTP or SCTP (a
// data channel joining or leaving a BUNDLE): SRTP turned on delivers the
// keys the handshake negotiated, the same ones a media leg would have got
// (none if it negotiated no profile), once: turned off and on again
// nothing is withdrawn or delivered (the worker's contexts stay, their
// indexes with them); SCTP turned off drops application data from then on.
TEST(DtlsService, ModesChangeOnAKeptAssociation) {
    Context ctx(ours());
    Service svc(ctx);
    auto p = params(12, 1, Role::Passive, browser().fingerprint());
    p.app_data = true;
    p.srtp = false;
    svc.open(p);
    OpenSslPeer peer(browser(), true, "SRTP_AES128_CM_SHA1_80");
    EXPECT_FALSE(svc.is_up(p.leg));
    run(svc, p.leg, peer);
    ASSERT_TRUE(svc.is_up(p.leg));
    EXPECT_TRUE(svc.keys().empty());
    svc.set_modes(p.leg, /*srtp=*/true, /*app_data=*/true);
    ASSERT_EQ(svc.keys().size(), 1U);
    ASSERT_TRUE(svc.keys()[0].install);
    EXPECT_EQ(svc.keys()[0].leg, p.leg);
    // RFC 5764 4.2 from the browser's side: client write key first.
    const auto m = peer.export_material(16, 14);
    EXPECT_EQ(0, std::memcmp(svc.keys()[0].keys.remote_key, m.data(), 16)) << "the client's";
    EXPECT_EQ(0, std::memcmp(svc.keys()[0].keys.local_key, m.data() + 16, 16)) << "ours";
    svc.keys().clear();
    svc.set_modes(p.leg, true, true);  // no change: nothing
    EXPECT_TRUE(svc.keys().empty());
    // Off and on again: the worker keeps the contexts it has (new ones
    // under the same master key would reuse keystream): nothing either way.
    EXPECT_TRUE(svc.set_modes(p.leg, false, false));
    EXPECT_TRUE(svc.keys().empty());
    EXPECT_TRUE(svc.set_modes(p.leg, true, false));
    EXPECT_TRUE(svc.keys().empty());
    svc.set_modes(p.leg, false, false);
    peer.write("sctp");
    svc.on_datagram(p.leg, path_to(1), peer.drain(), 2);
    EXPECT_TRUE(svc.app_data().empty());
    EXPECT_EQ(svc.counters().app_data_dropped, 1U);

    // Without a negotiated profile there is nothing to deliver.
    auto q = params(13, 1, Role::Passive, browser().fingerprint());
    q.app_data = true;
    q.srtp = false;
    svc.open(q);
    OpenSslPeer data_only(browser(), true, "SRTP_AES128_CM_SHA1_80", false);
    run(svc, q.leg, data_only);
    svc.keys().clear();
    svc.set_modes(q.leg, true, true);
    EXPECT_TRUE(svc.keys().empty());
    // Unknown legs are counted, nothing else.
    const uint64_t unknown = svc.counters().unknown_leg;
    EXPECT_FALSE(svc.set_modes({77, 0, 1, 1}, true, true));
    EXPECT_EQ(svc.counters().unknown_leg, unknown + 1);
}

TEST(DtlsService, ActiveLegStartsOnItsPath) {
    Context ctx(ours());
    Service svc(ctx);
    const auto p = params(8, 4, Role::Active, browser().fingerprint());
    svc.open(p);
    EXPECT_TRUE(svc.outgoing().empty());
    svc.set_path(p.leg, path_to(9), 1);
    ASSERT_EQ(svc.outgoing().size(), 1U) << "the ClientHello";
    EXPECT_EQ(svc.outgoing()[0].path.dst[3], 9);
    OpenSslPeer peer(browser(), false, "SRTP_AEAD_AES_256_GCM");
    for (auto& o : svc.outgoing())
        peer.feed(o.datagram);
    svc.outgoing().clear();
    run(svc, p.leg, peer);
    ASSERT_EQ(svc.keys().size(), 1U);
    EXPECT_EQ(svc.keys()[0].keys.profile.suite, srtp::Suite::AeadAes256Gcm);
    EXPECT_EQ(svc.keys()[0].keys.key_len, 32);
}

TEST(DtlsService, StaleSerialsAndUnknownLegsAreCountedNotServed) {
    Context ctx(ours());
    Service svc(ctx);
    svc.open(params(9, 2, Role::Passive, browser().fingerprint()));
    OpenSslPeer peer(browser(), true, "SRTP_AES128_CM_SHA1_80");
    peer.step();
    const auto hello = peer.drain();
    svc.on_datagram({9, 0, 1, 1}, path_to(1), hello, 1);   // the serial an update replaced
    svc.on_datagram({10, 0, 1, 2}, path_to(1), hello, 1);  // no such session
    EXPECT_EQ(svc.counters().unknown_leg, 2U);
    EXPECT_TRUE(svc.outgoing().empty());
    EXPECT_EQ(svc.counters().handshakes_started, 0U);
    // A non-hello datagram does not start a passive association.
    std::vector<uint8_t> alert = {21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 2, 40};
    svc.on_datagram({9, 0, 1, 2}, path_to(1), alert, 1);
    EXPECT_EQ(svc.counters().handshakes_started, 0U);
}

TEST(DtlsService, FingerprintMismatchIsReportedWithoutKeys) {
    Context ctx(ours());
    Service svc(ctx);
    Fingerprint wrong = browser().fingerprint();
    wrong[0] ^= 0x80;
    const auto p = params(11, 1, Role::Passive, wrong);
    svc.open(p);
    OpenSslPeer peer(browser(), true, "SRTP_AES128_CM_SHA1_80");
    run(svc, p.leg, peer);
    ASSERT_EQ(svc.keys().size(), 1U) << "the worker hears of the failure";
    EXPECT_FALSE(svc.keys()[0].install) << "and gets no keys";
    ASSERT_EQ(svc.events().size(), 1U);
    EXPECT_EQ(svc.events()[0].kind, ServiceEvent::Kind::Failed);
    EXPECT_EQ(svc.events()[0].detail, "fingerprint mismatch");
    EXPECT_EQ(svc.counters().fingerprint_mismatch, 1U);
    // A retry on the dead leg does nothing until the control plane re-opens it.
    OpenSslPeer again(browser(), true, "SRTP_AES128_CM_SHA1_80");
    again.step();
    svc.outgoing().clear();
    svc.on_datagram(p.leg, path_to(1), again.drain(), 2);
    EXPECT_TRUE(svc.outgoing().empty());
    EXPECT_EQ(svc.events().size(), 1U);
}

TEST(DtlsService, SecondHandshakeOnAnUpLegIsRefusedAndCounted) {
    Context ctx(ours());
    Service svc(ctx);
    const auto p = params(12, 1, Role::Passive, browser().fingerprint());
    svc.open(p);
    OpenSslPeer peer(browser(), true, "SRTP_AES128_CM_SHA1_80");
    run(svc, p.leg, peer);
    ASSERT_EQ(svc.counters().handshakes_up, 1U);
    svc.keys().clear();
    OpenSslPeer again(browser(), true, "SRTP_AES128_CM_SHA1_80");
    again.step();
    svc.on_datagram(p.leg, path_to(1), again.drain(), 2);
    EXPECT_EQ(svc.counters().second_handshakes, 1U);
    EXPECT_TRUE(svc.outgoing().empty());
    EXPECT_TRUE(svc.keys().empty());
}

TEST(DtlsService, ConcurrentHandshakesAreBounded) {
    Context ctx(ours());
    Service svc(ctx, ServiceLimits{.max_handshakes = 1, .handshake_timeout_ns = 1'000'000'000});
    svc.open(params(20, 1, Role::Passive, browser().fingerprint()));
    svc.open(params(21, 1, Role::Passive, browser().fingerprint()));
    OpenSslPeer a(browser(), true, "SRTP_AES128_CM_SHA1_80");
    OpenSslPeer b(browser(), true, "SRTP_AES128_CM_SHA1_80");
    a.step();
    b.step();
    svc.on_datagram({20, 0, 1, 1}, path_to(1), a.drain(), 10);
    svc.on_datagram({21, 0, 1, 1}, path_to(1), b.drain(), 10);
    EXPECT_EQ(svc.handshaking(), 1U);
    EXPECT_EQ(svc.counters().handshakes_busy, 1U);
    // The first never finishes: its deadline frees the slot.
    svc.events().clear();
    svc.poll_timers(10 + 1'000'000'001ULL);
    EXPECT_EQ(svc.handshaking(), 0U);
    ASSERT_EQ(svc.events().size(), 1U);
    EXPECT_EQ(svc.events()[0].detail, "handshake timeout");
    EXPECT_EQ(svc.counters().handshake_timeouts, 1U);
}

TEST(DtlsService, CloseSendsCloseNotifyAndForgetsTheLeg) {
    Context ctx(ours());
    Service svc(ctx);
    const auto p = params(30, 1, Role::Passive, browser().fingerprint());
    svc.open(p);
    OpenSslPeer peer(browser(), true, "SRTP_AES128_CM_SHA1_80");
    run(svc, p.leg, peer);
    svc.outgoing().clear();
    svc.close(p.leg);
    ASSERT_EQ(svc.outgoing().size(), 1U);
    peer.feed(svc.outgoing()[0].datagram);
    EXPECT_EQ(peer.read_once(), SSL_ERROR_ZERO_RETURN);
    EXPECT_EQ(svc.legs(), 0U);
}

TEST(DtlsService, EventsCarryTheGenerationTheSessionMovedTo) {
    Context ctx(ours());
    Service svc(ctx);
    const auto p = params(40, 1, Role::Passive, browser().fingerprint());
    svc.open(p);
    svc.set_generation(p.leg, 9);           // an update (or resync) kept the association
    svc.set_generation({40, 0, 1, 2}, 11);  // another serial: not this leg
    OpenSslPeer peer(browser(), true, "SRTP_AES128_CM_SHA1_80");
    run(svc, p.leg, peer);
    ASSERT_EQ(svc.events().size(), 1U);
    EXPECT_EQ(svc.events()[0].generation, 9U);
}

TEST(DtlsService, AFailedActiveLegDoesNotStartAgainOnANewPath) {
    Context ctx(ours());
    Service svc(ctx, ServiceLimits{.max_handshakes = 8, .handshake_timeout_ns = 1000});
    const auto p = params(41, 1, Role::Active, browser().fingerprint());
    svc.open(p);
    svc.set_path(p.leg, path_to(9), 1);
    EXPECT_EQ(svc.counters().handshakes_started, 1U);
    svc.poll_timers(5000);  // past the deadline: failed, its SSL object gone
    EXPECT_EQ(svc.counters().handshake_timeouts, 1U);
    svc.outgoing().clear();
    svc.set_path(p.leg, path_to(10), 6000);  // re-nominated: no second handshake
    EXPECT_EQ(svc.counters().handshakes_started, 1U);
    EXPECT_TRUE(svc.outgoing().empty());
    svc.poll_timers(7000);
    EXPECT_EQ(svc.handshaking(), 0U);
}

}  // namespace
}  // namespace isthmus::dtls
