// The DTLS-SRTP association against an independent OpenSSL peer: every
// use_srtp profile in both roles, keys laid out as RFC 5764 4.2 says,
// fingerprint mismatch refused inside the handshake, close_notify, a second
// handshake refused, retransmission on a lost flight, and hostile datagrams.
#include "dtls/association.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "dtls/record.hpp"
#include "openssl_peer.hpp"

namespace isthmus::dtls {
namespace {

using test::OpenSslPeer;

struct Identities {
    Identity ours = Identity::generate("gateway");
    Identity theirs = Identity::generate("browser");
};
Identities& ids() {
    static Identities i;  // key generation once for the whole suite
    return i;
}

// Runs datagrams between the two until both are done or nothing moves.
void exchange(Association& a, OpenSslPeer& p, int* peer_result = nullptr) {
    int pr = 0;
    for (int round = 0; round < 20; ++round) {
        bool moved = false;
        if (pr == 0) pr = p.step();
        for (auto d = p.drain(); !d.empty(); d = p.drain()) {
            moved = true;
            a.on_datagram(d);
        }
        auto& out = a.output();
        for (auto& d : out) {
            moved = true;
            p.feed(d);
        }
        out.clear();
        if (pr == 0) pr = p.step();
        if (!moved && pr != 0) break;
    }
    if (peer_result != nullptr) *peer_result = pr;
}

struct ProfileCase {
    const char* name;
    srtp::Suite suite;
    std::size_t key_len;
    std::size_t salt_len;
};

class AssociationProfiles : public ::testing::TestWithParam<std::tuple<ProfileCase, Role>> {};

TEST_P(AssociationProfiles, HandshakeExportsTheKeysThePeerExports) {
    const auto& [pc, role] = GetParam();
    Context ctx(ids().ours);
    Association a(ctx, role, ids().theirs.fingerprint());
    OpenSslPeer peer(ids().theirs, /*client=*/role == Role::Passive, pc.name);
    a.start();
    int pr = 0;
    exchange(a, peer, &pr);
    ASSERT_EQ(a.state(), State::Up) << a.reason();
    ASSERT_EQ(pr, 1);
    EXPECT_EQ(peer.selected_profile(), pc.name);
    ASSERT_TRUE(a.profile().has_value());
    EXPECT_EQ(a.profile()->suite, pc.suite);

    KeyMaterial km;
    ASSERT_TRUE(a.take_keys(km));
    EXPECT_FALSE(a.take_keys(km)) << "keys are handed over once";
    ASSERT_EQ(km.key_len, pc.key_len);
    ASSERT_EQ(km.salt_len, pc.salt_len);
    const auto m = peer.export_material(pc.key_len, pc.salt_len);
    const uint8_t* client_key = m.data();
    const uint8_t* server_key = m.data() + pc.key_len;
    const uint8_t* client_salt = m.data() + 2 * pc.key_len;
    const uint8_t* server_salt = client_salt + pc.salt_len;
    const bool we_are_client = role == Role::Active;
    EXPECT_EQ(0, std::memcmp(km.local_key, we_are_client ? client_key : server_key, pc.key_len));
    EXPECT_EQ(0,
              std::memcmp(km.local_salt, we_are_client ? client_salt : server_salt, pc.salt_len));
    EXPECT_EQ(0, std::memcmp(km.remote_key, we_are_client ? server_key : client_key, pc.key_len));
    EXPECT_EQ(0,
              std::memcmp(km.remote_salt, we_are_client ? server_salt : client_salt, pc.salt_len));
}

INSTANTIATE_TEST_SUITE_P(
    AllProfilesBothRoles, AssociationProfiles,
    ::testing::Combine(
        ::testing::Values(
            ProfileCase{"SRTP_AES128_CM_SHA1_80", srtp::Suite::AesCm128HmacSha1_80, 16, 14},
            ProfileCase{"SRTP_AES128_CM_SHA1_32", srtp::Suite::AesCm128HmacSha1_32, 16, 14},
            ProfileCase{"SRTP_AEAD_AES_128_GCM", srtp::Suite::AeadAes128Gcm, 16, 12},
            ProfileCase{"SRTP_AEAD_AES_256_GCM", srtp::Suite::AeadAes256Gcm, 32, 12}),
        ::testing::Values(Role::Passive, Role::Active)));

TEST(Association, ServerPrefersGcmWhenTheClientOffersSeveral) {
    Context ctx(ids().ours);
    Association a(ctx, Role::Passive, ids().theirs.fingerprint());
    OpenSslPeer peer(ids().theirs, true, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM");
    exchange(a, peer);
    ASSERT_EQ(a.state(), State::Up) << a.reason();
    EXPECT_EQ(a.profile()->name, "SRTP_AEAD_AES_128_GCM");
}

TEST(Association, FingerprintMismatchFailsBeforeAnyKey) {
    for (Role role : {Role::Passive, Role::Active}) {
        Context ctx(ids().ours);
        Fingerprint wrong = ids().theirs.fingerprint();
        wrong[7] ^= 1;
        Association a(ctx, role, wrong);
        OpenSslPeer peer(ids().theirs, role == Role::Passive, "SRTP_AES128_CM_SHA1_80");
        a.start();
        int pr = 0;
        exchange(a, peer, &pr);
        EXPECT_EQ(a.state(), State::Failed);
        EXPECT_EQ(a.reason(), "fingerprint mismatch");
        EXPECT_EQ(pr, -1) << "the peer must see the handshake fail (bad_certificate alert)";
        KeyMaterial km;
        EXPECT_FALSE(a.take_keys(km));
    }
}

TEST(Association, PeerWithoutUseSrtpFails) {
    Context ctx(ids().ours);
    Association a(ctx, Role::Passive, ids().theirs.fingerprint());
    OpenSslPeer peer(ids().theirs, true, "", /*offer_srtp=*/false);
    exchange(a, peer);
    EXPECT_EQ(a.state(), State::Failed);
    EXPECT_EQ(a.reason(), "no common use_srtp profile");
}

TEST(Association, CloseNotifyClosesTheLeg) {
    Context ctx(ids().ours);
    Association a(ctx, Role::Passive, ids().theirs.fingerprint());
    OpenSslPeer peer(ids().theirs, true, "SRTP_AES128_CM_SHA1_80");
    exchange(a, peer);
    ASSERT_EQ(a.state(), State::Up);
    peer.write("sctp would be here");
    EXPECT_EQ(a.on_datagram(peer.drain()), Input::AppData);
    EXPECT_EQ(a.state(), State::Up);
    peer.shutdown();
    a.on_datagram(peer.drain());
    EXPECT_EQ(a.state(), State::Closed);
    EXPECT_EQ(a.reason(), "close_notify");
    EXPECT_EQ(a.on_datagram(std::vector<uint8_t>{23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 0}),
              Input::Ignored);
}

TEST(Association, LocalCloseSendsCloseNotify) {
    Context ctx(ids().ours);
    Association a(ctx, Role::Passive, ids().theirs.fingerprint());
    OpenSslPeer peer(ids().theirs, true, "SRTP_AES128_CM_SHA1_80");
    exchange(a, peer);
    ASSERT_EQ(a.state(), State::Up);
    a.output().clear();
    a.close();
    EXPECT_EQ(a.state(), State::Closed);
    ASSERT_EQ(a.output().size(), 1U);
    peer.feed(a.output()[0]);
    EXPECT_EQ(peer.read_once(), SSL_ERROR_ZERO_RETURN);
}

TEST(Association, SecondHandshakeOnARunningLegIsRefused) {
    Context ctx(ids().ours);
    Association a(ctx, Role::Passive, ids().theirs.fingerprint());
    OpenSslPeer peer(ids().theirs, true, "SRTP_AES128_CM_SHA1_80");
    exchange(a, peer);
    ASSERT_EQ(a.state(), State::Up);
    KeyMaterial km;
    ASSERT_TRUE(a.take_keys(km));
    a.output().clear();
    OpenSslPeer again(ids().theirs, true, "SRTP_AES128_CM_SHA1_80");
    again.step();
    const auto hello = again.drain();
    ASSERT_TRUE(is_client_hello(hello));
    EXPECT_EQ(a.on_datagram(hello), Input::Refused);
    EXPECT_EQ(a.state(), State::Up);
    EXPECT_TRUE(a.output().empty()) << "nothing answers a refused ClientHello";
    EXPECT_FALSE(a.take_keys(km)) << "no new keys";
}

TEST(Association, LostFlightIsRetransmittedWhenItsTimerFires) {
    Context ctx(ids().ours,
                ContextOptions{.mtu = 1200, .initial_timeout_ms = 20, .max_timeout_ms = 40});
    Association a(ctx, Role::Active, ids().theirs.fingerprint());
    a.start();
    ASSERT_EQ(a.output().size(), 1U);
    const auto hello = a.output()[0];
    a.output().clear();  // lost
    const auto t = a.timeout_us();
    ASSERT_TRUE(t.has_value());
    EXPECT_LE(*t, 20000U);
    a.on_timer();  // not due yet: nothing
    EXPECT_TRUE(a.output().empty());
    std::this_thread::sleep_for(std::chrono::microseconds(*t + 2000));
    a.on_timer();
    ASSERT_EQ(a.output().size(), 1U);
    RecordHeader h1{}, h2{};
    ASSERT_TRUE(peek_record(hello, h1));
    ASSERT_TRUE(peek_record(a.output()[0], h2));
    EXPECT_EQ(h2.content_type, 22);
    EXPECT_GT(h2.sequence, h1.sequence) << "a retransmission is a new record";
    const auto t2 = a.timeout_us();
    ASSERT_TRUE(t2.has_value());
    EXPECT_GT(*t2, 20000U) << "the timer doubles";

    // The retransmitted hello still completes the handshake.
    OpenSslPeer peer(ids().theirs, false, "SRTP_AES128_CM_SHA1_80");
    exchange(a, peer);
    EXPECT_EQ(a.state(), State::Up) << a.reason();
    EXPECT_FALSE(a.timeout_us().has_value());
}

TEST(Association, SilentPeerFailsTheHandshakeAfterRetransmissions) {
    Context ctx(ids().ours,
                ContextOptions{.mtu = 1200, .initial_timeout_ms = 1, .max_timeout_ms = 2});
    Association a(ctx, Role::Active, ids().theirs.fingerprint());
    a.start();
    for (int i = 0; i < 100 && a.state() == State::Handshaking; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        a.on_timer();
    }
    EXPECT_EQ(a.state(), State::Failed);
    EXPECT_NE(a.reason().find("timeout"), std::string::npos) << a.reason();
}

TEST(Association, HostileDatagramsNeverCrashAndNeverKey) {
    Context ctx(ids().ours);
    std::mt19937 rng(5);
    // A real ClientHello, mutated, then random bytes behind a DTLS-looking start.
    OpenSslPeer peer(ids().theirs, true, "SRTP_AES128_CM_SHA1_80");
    peer.step();
    const auto hello = peer.drain();
    ASSERT_FALSE(hello.empty());
    for (int i = 0; i < 300; ++i) {
        Association a(ctx, Role::Passive, ids().theirs.fingerprint());
        std::vector<uint8_t> d = hello;
        const int flips = 1 + static_cast<int>(rng() % 8);
        for (int f = 0; f < flips; ++f)
            d[rng() % d.size()] = static_cast<uint8_t>(rng());
        if (i % 3 == 0) d.resize(rng() % d.size());
        a.on_datagram(d);
        std::vector<uint8_t> junk(rng() % 300);
        for (auto& b : junk)
            b = static_cast<uint8_t>(rng());
        if (!junk.empty()) junk[0] = static_cast<uint8_t>(20 + rng() % 44);
        a.on_datagram(junk);
        EXPECT_NE(a.state(), State::Up);
        KeyMaterial km;
        EXPECT_FALSE(a.take_keys(km));
    }
}

TEST(Record, PeekAndClientHello) {
    const std::vector<uint8_t> d = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 1};
    RecordHeader h{};
    ASSERT_TRUE(peek_record(d, h));
    EXPECT_EQ(h.content_type, 22);
    EXPECT_EQ(h.version, 0xfefd);
    EXPECT_EQ(h.epoch, 0);
    EXPECT_EQ(h.sequence, 7U);
    EXPECT_EQ(h.length, 1);
    EXPECT_TRUE(is_client_hello(d));
    auto e1 = d;
    e1[4] = 1;  // epoch 1: an encrypted handshake message, not a new hello
    EXPECT_FALSE(is_client_hello(e1));
    EXPECT_FALSE(peek_record(std::span(d).first(12), h));
    auto bad = d;
    bad[0] = 24;
    EXPECT_FALSE(peek_record(bad, h));
}

}  // namespace
}  // namespace isthmus::dtls
