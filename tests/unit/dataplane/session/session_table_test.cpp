// SessionTable: validation of both legs, slots and SRTP contexts taken and
// given back, flow entries, update semantics, generations.
#include "session/session_table.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "session_fixtures.hpp"

namespace isthmus::session {
namespace {

using dpif::ResultCode;
using test::endpoint4;
using test::endpoint6;
using test::sdes_keys;

class SessionTableTest : public ::testing::Test {
  protected:
    srtp::Engine engine_{srtp::ImbArch::Auto};
};

TEST_F(SessionTableTest, CreateInsertsEveryLocalEndpointAndRemoveFreesThem) {
    SessionTable t(engine_, {8, 0});
    std::string why;
    const dpif::Command c = test::srtp_to_rtp_command(7);
    ASSERT_EQ(t.create(c, why), ResultCode::Ok) << why;
    EXPECT_EQ(t.size(), 1U);
    // access is rtcp-mux (1 flow), core has RTP + RTCP ports (2 flows)
    EXPECT_EQ(t.flows().size(), 3U);
    const uint32_t slot = t.slot_of(7);
    ASSERT_NE(slot, SessionTable::kNoSlot);
    const uint32_t v = t.flows().find(flow_key(to_endpoint(c.core.local_rtcp)));
    ASSERT_NE(v, flow::FlowTable::kNotFound);
    EXPECT_EQ(FlowRef::decode(v).slot, slot);
    EXPECT_EQ(FlowRef::decode(v).side, Side::Core);
    EXPECT_TRUE(FlowRef::decode(v).rtcp_port);
    EXPECT_NE(t.at(slot).leg[0].rx, nullptr);
    EXPECT_TRUE(t.at(slot).leg[0].rx->ready());
    EXPECT_EQ(t.at(slot).leg[1].rx, nullptr);  // plain RTP core leg

    EXPECT_TRUE(t.remove(7));
    EXPECT_FALSE(t.remove(7));
    EXPECT_EQ(t.size(), 0U);
    EXPECT_EQ(t.flows().size(), 0U);
    EXPECT_EQ(t.slot_of(7), SessionTable::kNoSlot);
}

TEST_F(SessionTableTest, RefusesDuplicatesAndTakenPorts) {
    SessionTable t(engine_, {8, 0});
    std::string why;
    ASSERT_EQ(t.create(test::srtp_to_rtp_command(1), why), ResultCode::Ok);
    EXPECT_EQ(t.create(test::srtp_to_rtp_command(1), why), ResultCode::Exists);
    dpif::Command c = test::srtp_to_rtp_command(2);  // same local ports as session 1
    EXPECT_EQ(t.create(c, why), ResultCode::PortInUse);
    EXPECT_NE(why.find("session 1"), std::string::npos) << why;
    c.access.local.port = 41000;
    c.core.local.port = 51000;
    c.core.local_rtcp.port = 51001;
    EXPECT_EQ(t.create(c, why), ResultCode::Ok) << why;
    // one endpoint twice inside a session
    dpif::Command d = test::srtp_to_rtp_command(3);
    d.access.local.port = 42000;
    d.core.local = d.access.local;
    d.core.local_rtcp.port = 42001;
    EXPECT_EQ(t.create(d, why), ResultCode::PortInUse);
    EXPECT_EQ(t.size(), 2U);
}

TEST_F(SessionTableTest, ValidatesLegs) {
    SessionTable t(engine_, {8, 0});
    std::string why;
    const auto expect_bad = [&](dpif::Command c, const char* field) {
        EXPECT_EQ(t.create(c, why), ResultCode::BadParams) << field;
        EXPECT_NE(why.find(field), std::string::npos) << why;
    };
    dpif::Command c = test::srtp_to_rtp_command(1);
    c.hdr.session_id = 0;
    EXPECT_EQ(t.create(c, why), ResultCode::BadParams);

    c = test::srtp_to_rtp_command(1);
    c.access.local.port = 0;
    expect_bad(c, "access.local");
    c = test::srtp_to_rtp_command(1);
    c.core.local_rtcp = {};
    expect_bad(c, "core.local_rtcp");
    c = test::srtp_to_rtp_command(1);
    c.core.remote = {};
    c.core.remote_rtcp = {};
    expect_bad(c, "core.remote");
    c = test::srtp_to_rtp_command(1);
    c.core.remote = endpoint6("2001:2::9", 6000);
    expect_bad(c, "core.remote");
    c = test::srtp_to_rtp_command(1);
    c.access.rx.key_len = 15;
    expect_bad(c, "access: SRTP keys");
    c = test::srtp_to_rtp_command(1);
    c.access.tx.suite = 9;
    expect_bad(c, "access: SRTP keys");
    c = test::srtp_to_rtp_command(1);
    c.access.local_rtcp = endpoint4("198.18.0.2", 40001);  // rtcp-mux leg
    expect_bad(c, "rtcp-mux");
    // a plain RTP access leg cannot learn its remote (no authentication)
    c = test::srtp_to_rtp_command(1);
    c.access.security = dpif::LegSecurity::Rtp;
    c.access.remote = {};
    expect_bad(c, "learned");
    // DTLS-SRTP legs need ICE (dtls_relay_test.cpp has the rest)
    c = test::srtp_to_rtp_command(1);
    c.access.security = dpif::LegSecurity::DtlsSrtp;
    expect_bad(c, "ICE credentials");
    EXPECT_EQ(t.size(), 0U);
    EXPECT_EQ(t.flows().size(), 0U);
}

// A data channel's session (issue 9): a DtlsSctp access leg (ICE, a
// fingerprint, one port) and no core leg.
TEST_F(SessionTableTest, DataChannelSessionsHaveNoCoreLeg) {
    SessionTable t(engine_, {8, 0});
    std::string why;
    const auto datachannel = [] {
        dpif::Command c = test::srtp_to_rtp_command(3);
        c.access.security = dpif::LegSecurity::DtlsSctp;
        c.access.remote = {};
        c.access.rx = {};
        c.access.tx = {};
        std::snprintf(c.access.ice_ufrag, sizeof c.access.ice_ufrag, "dcuf");
        std::snprintf(c.access.ice_pwd, sizeof c.access.ice_pwd, "0123456789abcdefghijkl");
        c.access.remote_fingerprint[0] = 0xAB;
        c.core = {};
        return c;
    };
    const auto expect_bad = [&](dpif::Command c, const char* field) {
        EXPECT_EQ(t.create(c, why), ResultCode::BadParams) << field;
        EXPECT_NE(why.find(field), std::string::npos) << why;
    };
    dpif::Command c = datachannel();
    c.core.local = endpoint4("198.18.1.2", 50000);
    expect_bad(c, "no core leg");
    c = datachannel();
    c.access.rtcp_mux = 0;
    c.access.local_rtcp = endpoint4("198.18.0.2", 40001);
    expect_bad(c, "one port");
    c = datachannel();
    c.access.ice_ufrag[0] = 0;
    c.access.ice_pwd[0] = 0;
    c.access.remote = endpoint4("198.18.0.10", 5000);
    expect_bad(c, "ICE credentials");
    c = datachannel();
    c.datachannel.max_message_size = 100;
    expect_bad(c, "max_message_size");
    c = test::srtp_to_rtp_command(3);
    c.core.security = dpif::LegSecurity::DtlsSctp;
    expect_bad(c, "access leg");
    EXPECT_EQ(t.size(), 0U);
    EXPECT_EQ(t.flows().size(), 0U);

    c = datachannel();
    ASSERT_EQ(t.create(c, why), ResultCode::Ok) << why;
    const Session& s = t.at(t.slot_of(3));
    EXPECT_TRUE(s.dtls[0].on);
    EXPECT_TRUE(s.dtls[0].datachannel);
    EXPECT_EQ(s.dtls[0].sctp.local_sctp_port, 5000);  // the default
    EXPECT_EQ(s.dtls[0].sctp.remote_sctp_port, 5000);
    EXPECT_FALSE(s.leg[1].local.set());
    EXPECT_EQ(t.flows().size(), 1U) << "the access port only";
    EXPECT_FALSE(s.dtls[0].srtp);
    // An update to a media leg (a data channel alone, then audio in its
    // bundle and the data channel gone) keeps the association: the same
    // DTLS, now carrying SRTP (and SCTP while both are there).
    const uint32_t serial = s.dtls[0].serial;
    c.access.security = dpif::LegSecurity::DtlsSrtpSctp;
    c.core = test::srtp_to_rtp_command(3).core;
    ASSERT_EQ(t.update(c, why), ResultCode::Ok) << why;
    EXPECT_TRUE(t.at(t.slot_of(3)).dtls[0].datachannel);
    EXPECT_TRUE(t.at(t.slot_of(3)).dtls[0].srtp);
    EXPECT_EQ(t.at(t.slot_of(3)).leg[0].security, dpif::LegSecurity::DtlsSrtp)
        << "the relay sees an SRTP leg";
    EXPECT_TRUE(t.at(t.slot_of(3)).leg[1].local.set());
    c.access.security = dpif::LegSecurity::DtlsSrtp;
    ASSERT_EQ(t.update(c, why), ResultCode::Ok) << why;
    EXPECT_FALSE(t.at(t.slot_of(3)).dtls[0].datachannel);
    EXPECT_EQ(t.at(t.slot_of(3)).dtls[0].serial, serial);
    // A new fingerprint (another DTLS) does start over.
    c.access.remote_fingerprint[0] ^= 1;
    ASSERT_EQ(t.update(c, why), ResultCode::Ok) << why;
    EXPECT_NE(t.at(t.slot_of(3)).dtls[0].serial, serial);
    // SCTP on the core leg, or a DtlsSrtpSctp leg without mux: refused.
    dpif::Command bad = c;
    bad.core.security = dpif::LegSecurity::DtlsSrtpSctp;
    EXPECT_EQ(t.update(bad, why), ResultCode::BadParams);
    EXPECT_NE(why.find("access leg"), std::string::npos) << why;
    bad = c;
    bad.access.security = dpif::LegSecurity::DtlsSrtpSctp;
    bad.access.rtcp_mux = 0;
    bad.access.local_rtcp = bad.access.local;
    bad.access.local_rtcp.port = static_cast<uint16_t>(bad.access.local.port + 1);
    EXPECT_EQ(t.update(bad, why), ResultCode::BadParams);
    EXPECT_NE(why.find("one port"), std::string::npos) << why;
    EXPECT_TRUE(t.remove(3));
    EXPECT_EQ(t.flows().size(), 0U);
}

TEST_F(SessionTableTest, FullTablesRefuseWithoutSideEffects) {
    SessionTable t(engine_, {2, 3});  // 2 slots, 3 contexts: one SDES leg
    std::string why;
    ASSERT_EQ(t.create(test::srtp_to_rtp_command(1), why), ResultCode::Ok);
    dpif::Command c = test::srtp_to_rtp_command(2);
    c.access.local.port = 41000;
    c.core.local.port = 51000;
    c.core.local_rtcp.port = 51001;
    EXPECT_EQ(t.create(c, why), ResultCode::TableFull);
    EXPECT_NE(why.find("SRTP context"), std::string::npos);
    c.access.security = dpif::LegSecurity::Rtp;  // needs no context
    EXPECT_EQ(t.create(c, why), ResultCode::Ok) << why;
    c.hdr.session_id = 3;
    c.access.local.port = 43000;
    c.core.local.port = 53000;
    c.core.local_rtcp.port = 53001;
    EXPECT_EQ(t.create(c, why), ResultCode::TableFull);
    EXPECT_NE(why.find("slot"), std::string::npos);
    EXPECT_EQ(t.size(), 2U);
    EXPECT_TRUE(t.remove(1));
    EXPECT_EQ(t.create(c, why), ResultCode::Ok) << why;
}

TEST_F(SessionTableTest, UpdateMovesPortsAndKeepsContextsWhenKeysStay) {
    SessionTable t(engine_, {4, 0});
    std::string why;
    dpif::Command c = test::srtp_to_rtp_command(5);
    ASSERT_EQ(t.create(c, why), ResultCode::Ok);
    const uint32_t slot = t.slot_of(5);
    srtp::Context* rx = t.at(slot).leg[0].rx;
    ASSERT_TRUE(rx->set_rollover_counter(0x1234, 3, 0));

    c.hdr.type = dpif::MsgType::SessionUpdate;
    c.core.remote = endpoint4("198.18.1.30", 7000);
    c.core.remote_rtcp = endpoint4("198.18.1.30", 7001);
    c.core.local.port = 52000;
    c.core.local_rtcp.port = 52001;
    ASSERT_EQ(t.update(c, why), ResultCode::Ok) << why;
    EXPECT_EQ(t.at(slot).leg[0].rx, rx);  // same keys: same context, state kept
    ASSERT_NE(rx->find_stream(0x1234), nullptr);
    EXPECT_EQ(t.flows().find(flow_key(to_endpoint(endpoint4("198.18.1.2", 50000)))),
              flow::FlowTable::kNotFound);
    EXPECT_NE(t.flows().find(flow_key(to_endpoint(c.core.local))), flow::FlowTable::kNotFound);
    EXPECT_EQ(t.at(slot).leg[1].remote.port, 7000);

    c.access.rx = sdes_keys(srtp::Suite::AeadAes128Gcm, 0x50);  // re-keyed: fresh state
    ASSERT_EQ(t.update(c, why), ResultCode::Ok) << why;
    ASSERT_NE(t.at(slot).leg[0].rx, nullptr);
    EXPECT_EQ(t.at(slot).leg[0].rx->suite(), srtp::Suite::AeadAes128Gcm);
    EXPECT_EQ(t.at(slot).leg[0].rx->find_stream(0x1234), nullptr);

    c.hdr.session_id = 6;
    EXPECT_EQ(t.update(c, why), ResultCode::NotFound);
}

TEST_F(SessionTableTest, RemoveOlderDropsEarlierGenerationsOnly) {
    SessionTable t(engine_, {8, 0});
    std::string why;
    for (uint64_t id = 1; id <= 4; ++id) {
        dpif::Command c = test::srtp_to_rtp_command(id);
        c.hdr.generation = id <= 2 ? 10 : 11;
        const auto p = static_cast<uint16_t>(id * 10);
        c.access.local.port = static_cast<uint16_t>(40000 + p);
        c.core.local.port = static_cast<uint16_t>(50000 + p);
        c.core.local_rtcp.port = static_cast<uint16_t>(50001 + p);
        ASSERT_EQ(t.create(c, why), ResultCode::Ok) << why;
    }
    std::vector<uint64_t> gone;
    EXPECT_EQ(t.remove_older(11, [&](const Session& s) { gone.push_back(s.id); }), 2U);
    EXPECT_EQ(gone, (std::vector<uint64_t>{1, 2}));
    EXPECT_EQ(t.size(), 2U);
    EXPECT_EQ(t.flows().size(), 6U);
}

TEST_F(SessionTableTest, NextHopsApplyOnlyWhileTheLegStillSendsThere) {
    SessionTable t(engine_, {4, 0});
    std::string why;
    const dpif::Command c = test::srtp_to_rtp_command(1);
    ASSERT_EQ(t.create(c, why), ResultCode::Ok);
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
    const dpif::IpEndpoint other = endpoint4("198.18.1.99", 6000);
    EXPECT_FALSE(t.set_next_hop(1, Side::Core, mac, 4, other.addr));
    EXPECT_FALSE(t.at(t.slot_of(1)).leg[1].mac_known);
    EXPECT_TRUE(t.set_next_hop(1, Side::Core, mac, 4, c.core.remote.addr));
    EXPECT_TRUE(t.at(t.slot_of(1)).leg[1].mac_known);
    EXPECT_FALSE(t.set_next_hop(2, Side::Core, mac));  // no such session
}

TEST_F(SessionTableTest, ChangingOneDirectionsKeyKeepsTheOtherDirectionsState) {
    SessionTable t(engine_, {4, 0});
    std::string why;
    dpif::Command c = test::srtp_to_rtp_command(1);
    ASSERT_EQ(t.create(c, why), ResultCode::Ok);
    const uint32_t slot = t.slot_of(1);
    srtp::Context* tx = t.at(slot).leg[0].tx;
    srtp::Context* rx = t.at(slot).leg[0].rx;
    ASSERT_TRUE(tx->set_next_srtcp_index(0x77, 1234));
    // The browser re-keys its direction only (a new a=crypto in a re-INVITE).
    c.hdr.type = dpif::MsgType::SessionUpdate;
    c.access.rx = sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x33);
    ASSERT_EQ(t.update(c, why), ResultCode::Ok) << why;
    // Our sending context is the same one, its SRTCP index not restarted
    // (no keystream reuse); the receiving one is new.
    EXPECT_EQ(t.at(slot).leg[0].tx, tx);
    ASSERT_NE(tx->find_stream(0x77), nullptr);
    EXPECT_EQ(tx->find_stream(0x77)->next_srtcp_index, 1234U);
    EXPECT_NE(t.at(slot).leg[0].rx, nullptr);
    (void)rx;
}

TEST_F(SessionTableTest, MovingSdesFromOneLegToTheOtherWithAFullPoolIsSafe) {
    SessionTable t(engine_, {2, 2});  // two contexts: exactly one SDES leg
    std::string why;
    dpif::Command c = test::srtp_to_rtp_command(1);
    c.access.security = dpif::LegSecurity::Rtp;
    c.core.security = dpif::LegSecurity::Sdes;
    c.core.rx = sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x10);
    c.core.tx = sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x20);
    ASSERT_EQ(t.create(c, why), ResultCode::Ok) << why;
    c = test::srtp_to_rtp_command(1);  // SDES on the access leg, RTP on the core
    c.hdr.type = dpif::MsgType::SessionUpdate;
    ASSERT_EQ(t.update(c, why), ResultCode::Ok) << why;
    const Session& s = t.at(t.slot_of(1));
    EXPECT_NE(s.leg[0].rx, nullptr);
    EXPECT_NE(s.leg[0].tx, nullptr);
    EXPECT_EQ(s.leg[1].rx, nullptr);
    EXPECT_EQ(s.leg[1].tx, nullptr);
    EXPECT_TRUE(t.remove(1));
}

TEST_F(SessionTableTest, ANewerGenerationsCreateAdoptsALiveSession) {
    SessionTable t(engine_, {4, 0});
    std::string why;
    dpif::Command c = test::srtp_to_rtp_command(1);
    ASSERT_EQ(t.create(c, why), ResultCode::Ok);
    srtp::Context* tx = t.at(t.slot_of(1)).leg[0].tx;
    EXPECT_EQ(t.create(c, why), ResultCode::Exists);  // same generation
    c.hdr.generation = 2;
    ASSERT_EQ(t.create(c, why), ResultCode::Ok) << why;  // a restarted control plane
    EXPECT_EQ(t.size(), 1U);
    EXPECT_EQ(t.at(t.slot_of(1)).generation, 2U);
    EXPECT_EQ(t.at(t.slot_of(1)).leg[0].tx, tx);  // same keys: the call goes on
    EXPECT_EQ(t.remove_older(2, [](const Session&) {}), 0U);
}

TEST_F(SessionTableTest, RemotesMustBeUnicastHosts) {
    SessionTable t(engine_, {4, 0});
    std::string why;
    for (const char* bad : {"224.0.0.1", "255.255.255.255", "0.0.0.0", "127.0.0.1"}) {
        dpif::Command c = test::srtp_to_rtp_command(1);
        c.core.remote = endpoint4(bad, 6000);
        c.core.remote_rtcp = endpoint4(bad, 6001);
        EXPECT_EQ(t.create(c, why), ResultCode::BadParams) << bad;
    }
    for (const char* bad : {"ff02::1", "::", "::1"}) {
        dpif::Command c = test::srtp_to_rtp_command(1);
        c.access.local = endpoint6("2001:2::2", 40000);
        c.access.remote = endpoint6(bad, 5000);
        EXPECT_EQ(t.create(c, why), ResultCode::BadParams) << bad;
    }
}

TEST_F(SessionTableTest, IceCredentialsAreChecked) {
    SessionTable t(engine_, {4, 0});
    std::string why;
    dpif::Command c = test::srtp_to_rtp_command(1);
    c.access.remote = {};
    std::snprintf(c.access.ice_ufrag, sizeof c.access.ice_ufrag, "uf");  // < 4
    std::snprintf(c.access.ice_pwd, sizeof c.access.ice_pwd, "0123456789012345678901");
    EXPECT_EQ(t.create(c, why), ResultCode::BadParams);
    EXPECT_NE(why.find("access.ice"), std::string::npos) << why;
    std::snprintf(c.access.ice_ufrag, sizeof c.access.ice_ufrag, "ufra");
    std::snprintf(c.access.ice_pwd, sizeof c.access.ice_pwd, "short");  // < 22
    EXPECT_EQ(t.create(c, why), ResultCode::BadParams);
    std::snprintf(c.access.ice_pwd, sizeof c.access.ice_pwd, "0123456789012345678901");
    ASSERT_EQ(t.create(c, why), ResultCode::Ok) << why;
    const Session& s = t.at(t.slot_of(1));
    EXPECT_TRUE(s.leg[0].ice);
    EXPECT_FALSE(s.leg[0].learn_remote);  // ICE nominates; media never teaches it
    EXPECT_STREQ(s.ice[0].local_ufrag, "ufra");
    EXPECT_FALSE(s.ice[0].key.empty());
}

// rte_flow steering's rules (one masked UDP destination port match per
// worker) send every port to its owner, and only there, for each
// power-of-two worker count; other counts have no mask (RSS + hand-off).
TEST(OwnerSteering, OneMaskedMatchPerWorkerNamesExactlyItsPorts) {
    for (const uint16_t n : std::initializer_list<uint16_t>{2, 4, 8, 16}) {
        const uint16_t mask = owner_port_mask(n);
        ASSERT_NE(mask, 0) << n;
        for (uint32_t port = 0; port <= 0xffff; ++port) {
            const auto p = static_cast<uint16_t>(port);
            unsigned matches = 0;
            for (uint16_t k = 0; k < n; ++k) {
                if ((p & mask) != owner_port_value(k)) continue;
                ++matches;
                EXPECT_EQ(k, owner_of(p, n)) << "port " << port << ", " << n << " workers";
            }
            ASSERT_EQ(matches, 1U) << "port " << port << ", " << n << " workers";
        }
    }
    for (const uint16_t n : std::initializer_list<uint16_t>{1, 3, 5, 6, 7, 12})
        EXPECT_EQ(owner_port_mask(n), 0) << n;
}

}  // namespace
}  // namespace isthmus::session
