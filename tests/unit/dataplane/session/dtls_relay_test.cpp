// DTLS-SRTP legs in the session table and the relay (issue 5): the contexts
// reserved at create, DTLS datagrams from the nominated remote only, media
// dropped until the slow path's keys arrive and relayed with them, keys
// tied to the leg's association (serial), kept or re-made by updates.
#include "ice/binding.hpp"
#include "ice/writer.hpp"
#include "ice_check.hpp"
#include "relay_fixture.hpp"

namespace isthmus::session::relay_rig {
namespace {

constexpr const char* kIcePwd = "gw-ice-password-0123456789";

// A session whose access leg is ICE-lite + DTLS-SRTP (passive), core plain RTP.
dpif::Command dtls_command(uint64_t id, uint16_t access_port, uint16_t core_port) {
    dpif::Command c = test::srtp_to_rtp_command(id);
    c.access.local.port = access_port;
    c.access.remote = {};
    c.access.security = dpif::LegSecurity::DtlsSrtp;
    c.access.rx = {};
    c.access.tx = {};
    c.access.dtls_active = 0;
    for (int i = 0; i < 32; ++i)
        c.access.remote_fingerprint[i] = static_cast<uint8_t>(i + 1);
    std::snprintf(c.access.ice_ufrag, sizeof c.access.ice_ufrag, "gwuf");
    std::snprintf(c.access.ice_pwd, sizeof c.access.ice_pwd, "%s", kIcePwd);
    std::snprintf(c.access.remote_ufrag, sizeof c.access.remote_ufrag, "brws");
    c.core.local.port = core_port;
    c.core.local_rtcp.port = static_cast<uint16_t>(core_port + 1);
    return c;
}

class DtlsRelayTest : public RelayTest {
  protected:
    static constexpr const char* kPwd = kIcePwd;
    static constexpr uint64_t kId = 9;
    void SetUp() override {
        RelayTest::SetUp();
        cmd9_ = dtls_command(kId, 46000, 56000);
        std::string why;
        ASSERT_EQ(table_.create(cmd9_, why), ResultCode::Ok) << why;
        ASSERT_TRUE(table_.set_next_hop(kId, Side::Core, kImsMac));
    }
    static Bytes check(bool use_candidate) {
        return test::binding_request("gwuf:brws", kIcePwd, use_candidate, 9);
    }
    void from(Buffer& b, const char* ip, uint16_t port, const Bytes& payload) {
        frame_into(b, Side::Access, kBrowserMac, kAccessMac, endpoint4(ip, port),
                   cmd9_.access.local, payload);
    }
    RelayPacket toward_browser(uint16_t seq) {
        Buffer b;
        frame_into(b, Side::Core, kImsMac, kCoreMac, cmd9_.core.remote, cmd9_.core.local, rtp(seq));
        relay_.process(std::span(&b.pkt, 1));
        last_ = b;
        return b.pkt;
    }
    void nominate() {
        Buffer b;
        from(b, "198.18.0.10", 5000, check(true));
        ASSERT_EQ(run(b).action, Action::ToAccess);
    }
    const Session& session() const { return table_.at(table_.slot_of(kId)); }
    // The keys the slow path would deliver: the browser's tx are our rx.
    bool install(uint32_t serial) {
        const auto brx = test::sdes_keys(srtp::Suite::AeadAes128Gcm, 0x31);  // browser -> us
        const auto btx = test::sdes_keys(srtp::Suite::AeadAes128Gcm, 0x62);  // us -> browser
        return table_.install_dtls_keys(kId, Side::Access, serial, srtp::Suite::AeadAes128Gcm,
                                        std::span<const uint8_t>(brx.master_key, brx.key_len),
                                        std::span<const uint8_t>(brx.master_salt, brx.salt_len),
                                        std::span<const uint8_t>(btx.master_key, btx.key_len),
                                        std::span<const uint8_t>(btx.master_salt, btx.salt_len));
    }
    static Bytes dtls_record() {  // a ClientHello's first octets (content type 22)
        return Bytes{22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0};
    }
    dpif::Command cmd9_{};
    Buffer last_;
    LibSrtp gcm_browser_tx_{test::sdes_keys(srtp::Suite::AeadAes128Gcm, 0x31), false};
    LibSrtp gcm_browser_rx_{test::sdes_keys(srtp::Suite::AeadAes128Gcm, 0x62), true};
};

TEST_F(DtlsRelayTest, CreateReservesTwoContextsAndStartsUnkeyed) {
    const Session& s = session();
    EXPECT_TRUE(s.dtls[0].on);
    EXPECT_FALSE(s.dtls[0].active);
    EXPECT_NE(s.dtls[0].serial, 0U);
    EXPECT_NE(s.dtls[0].reserved[0], nullptr);
    EXPECT_NE(s.dtls[0].reserved[1], nullptr);
    EXPECT_EQ(s.leg[0].rx, nullptr);
    EXPECT_EQ(s.leg[0].tx, nullptr);
    EXPECT_FALSE(s.dtls[1].on);
    EXPECT_EQ(s.dtls[1].serial, 0U);
}

TEST_F(DtlsRelayTest, DtlsGoesToTheSlowPathOnlyFromTheNominatedRemote) {
    Buffer early;
    from(early, "198.18.0.10", 5000, dtls_record());
    EXPECT_EQ(run(early).drop, RelayDrop::WrongSource) << "no pair nominated yet";
    nominate();
    Buffer ok;
    from(ok, "198.18.0.10", 5000, dtls_record());
    const RelayPacket& p = run(ok);
    EXPECT_EQ(p.action, Action::ToSlowPath);
    EXPECT_EQ(p.slot, table_.slot_of(kId));
    EXPECT_EQ(p.arrived, Side::Access);
    EXPECT_EQ(relay_.counters().to_slow_path, 1U);
    Buffer elsewhere;
    from(elsewhere, "198.18.0.11", 5000, dtls_record());
    EXPECT_EQ(run(elsewhere).drop, RelayDrop::WrongSource);
    // DTLS on an SDES leg is not the slow path's.
    Buffer sdes;
    frame_into(sdes, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote, cmd_.access.local,
               dtls_record());
    EXPECT_EQ(run(sdes).drop, RelayDrop::NotMedia);
}

TEST_F(DtlsRelayTest, MediaWaitsForTheKeysThenFlowsBothWays) {
    nominate();
    Buffer early;  // the browser's first media, before the keys: held, not dropped
    from(early, "198.18.0.10", 5000, gcm_browser_tx_.protect(rtp(1), false));
    EXPECT_EQ(run(early).action, Action::HoldForKeys);
    EXPECT_EQ(early.pkt.slot, table_.slot_of(kId));
    EXPECT_EQ(relay_.counters().held_for_keys, 1U);
    Buffer stranger;  // not from the nominated remote: not held
    from(stranger, "198.18.0.11", 5000, gcm_browser_tx_.protect(rtp(9), false));
    EXPECT_EQ(run(stranger).drop, RelayDrop::WrongSource);
    EXPECT_EQ(toward_browser(1).drop, RelayDrop::NotKeyed);

    EXPECT_FALSE(install(session().dtls[0].serial + 1)) << "another association's keys";
    ASSERT_TRUE(install(session().dtls[0].serial));
    EXPECT_FALSE(install(session().dtls[0].serial)) << "keys are installed once";

    ASSERT_EQ(run(early).action, Action::ToCore) << "the held packet, given again";
    EXPECT_EQ(parse_sent(early.pkt).payload, rtp(1));
    Buffer in;
    from(in, "198.18.0.10", 5000, gcm_browser_tx_.protect(rtp(2), false));
    ASSERT_EQ(run(in).action, Action::ToCore) << relay_drop_name(in.pkt.drop);
    EXPECT_EQ(parse_sent(in.pkt).payload, rtp(2));
    const RelayPacket out = toward_browser(3);
    ASSERT_EQ(out.action, Action::ToAccess) << relay_drop_name(out.drop);
    Sent s = parse_sent(last_.pkt);
    EXPECT_TRUE(is_endpoint(s.f, false, endpoint4("198.18.0.10", 5000)));
    ASSERT_TRUE(gcm_browser_rx_.unprotect(s.payload, false));
    EXPECT_EQ(s.payload, rtp(3));

    // The association ends (close_notify): keys withdrawn, media stops.
    EXPECT_FALSE(table_.withdraw_dtls_keys(kId, Side::Access, session().dtls[0].serial + 1));
    ASSERT_TRUE(table_.withdraw_dtls_keys(kId, Side::Access, session().dtls[0].serial));
    EXPECT_EQ(toward_browser(4).drop, RelayDrop::NotKeyed);
    Buffer late;  // the association is over: nothing is held for it any more
    from(late, "198.18.0.10", 5000, gcm_browser_tx_.protect(rtp(5), false));
    EXPECT_EQ(run(late).drop, RelayDrop::NotKeyed);
}

TEST_F(DtlsRelayTest, UpdatesKeepTheAssociationUnlessRoleFingerprintOrIceChange) {
    nominate();
    const uint32_t serial = session().dtls[0].serial;
    ASSERT_TRUE(install(serial));
    std::string why;
    dpif::Command same = cmd9_;
    same.hdr.type = dpif::MsgType::SessionUpdate;
    ASSERT_EQ(table_.update(same, why), ResultCode::Ok) << why;
    EXPECT_EQ(session().dtls[0].serial, serial);
    EXPECT_EQ(toward_browser(1).action, Action::ToAccess) << "keys and pair kept";

    dpif::Command refp = same;
    refp.access.remote_fingerprint[0] ^= 0xff;  // a new certificate: a new association
    ASSERT_EQ(table_.update(refp, why), ResultCode::Ok) << why;
    EXPECT_NE(session().dtls[0].serial, serial);
    EXPECT_EQ(session().leg[0].rx, nullptr);
    EXPECT_EQ(toward_browser(2).drop, RelayDrop::NotKeyed);
    EXPECT_FALSE(install(serial)) << "the old association's keys are refused";
    ASSERT_TRUE(install(session().dtls[0].serial));
    EXPECT_EQ(toward_browser(3).action, Action::ToAccess);

    dpif::Command role = refp;
    role.access.dtls_active = 1;
    const uint32_t s2 = session().dtls[0].serial;
    ASSERT_EQ(table_.update(role, why), ResultCode::Ok) << why;
    EXPECT_NE(session().dtls[0].serial, s2);
    EXPECT_TRUE(session().dtls[0].active);

    // To SDES and back to RTP core: the reserved contexts go back.
    dpif::Command sdes = test::srtp_to_rtp_command(kId);
    sdes.hdr.type = dpif::MsgType::SessionUpdate;
    sdes.access.local.port = 46000;
    sdes.core.local.port = 56000;
    sdes.core.local_rtcp.port = 56001;
    ASSERT_EQ(table_.update(sdes, why), ResultCode::Ok) << why;
    EXPECT_FALSE(session().dtls[0].on);
    EXPECT_EQ(session().dtls[0].serial, 0U);
    EXPECT_NE(session().leg[0].rx, nullptr);
}

TEST_F(DtlsRelayTest, DtlsLegsNeedIceAndAFingerprint) {
    std::string why;
    const dpif::Command c = dtls_command(30, 47000, 57000);
    dpif::Command no_fp = c;
    std::memset(no_fp.access.remote_fingerprint, 0, 32);
    EXPECT_EQ(table_.create(no_fp, why), ResultCode::BadParams);
    EXPECT_NE(why.find("fingerprint"), std::string::npos) << why;
    dpif::Command no_ice = c;
    std::memset(no_ice.access.ice_ufrag, 0, sizeof no_ice.access.ice_ufrag);
    std::memset(no_ice.access.ice_pwd, 0, sizeof no_ice.access.ice_pwd);
    no_ice.access.remote = endpoint4("198.18.0.10", 5000);
    EXPECT_EQ(table_.create(no_ice, why), ResultCode::BadParams);
    EXPECT_NE(why.find("ICE"), std::string::npos) << why;
    EXPECT_EQ(table_.slot_of(30), SessionTable::kNoSlot);
}

// An IMS offer's session (issue 7): made when the offer goes to the
// browser, whose checks may come before its answer (RFC 8445 7.3).
dpif::Command awaiting_command(uint64_t id, uint16_t access_port) {
    dpif::Command c = dtls_command(id, access_port, 57100);
    c.access.awaiting_answer = 1;
    std::memset(c.access.remote_ufrag, 0, sizeof c.access.remote_ufrag);
    std::memset(c.access.remote_fingerprint, 0, sizeof c.access.remote_fingerprint);
    c.core = {};
    return c;
}

TEST_F(DtlsRelayTest, ALegAwaitingTheAnswerTakesChecksAndTheAnswerStartsDtlsOnItsPair) {
    constexpr uint64_t kEarly = 12;
    const dpif::Command early = awaiting_command(kEarly, 47000);
    std::string why;
    ASSERT_EQ(table_.create(early, why), ResultCode::Ok) << why;
    const Session& s = table_.at(table_.slot_of(kEarly));
    EXPECT_TRUE(s.awaiting_answer);
    EXPECT_TRUE(table_.awaits_answer(kEarly));
    EXPECT_FALSE(s.dtls[0].on) << "no association before the fingerprint";
    EXPECT_FALSE(s.leg[1].local.set()) << "no core leg before the answer";
    const auto send = [&](const char* ip, uint16_t port, const Bytes& payload) {
        Buffer b;
        frame_into(b, Side::Access, kBrowserMac, kAccessMac, endpoint4(ip, port),
                   early.access.local, payload);
        relay_.process(std::span(&b.pkt, 1));
        last_ = b;
        return b.pkt;
    };
    const auto success = [&](const RelayPacket& p) {
        if (p.action != Action::ToAccess) return false;
        const Sent sent = parse_sent(p);
        ice::Message m;
        return ice::parse_message(sent.payload.data(), sent.payload.size(), m) ==
                   ice::Verdict::Ok &&
               m.cls == ice::MessageClass::SuccessResponse;
    };
    // Any remote ufrag (the browser's is not known yet), our password.
    EXPECT_TRUE(
        success(send("198.18.0.10", 5000, test::binding_request("gwuf:x7Qp", kPwd, false))));
    EXPECT_FALSE(
        success(send("198.18.0.10", 5000,
                     test::binding_request("gwuf:x7Qp", "not-our-password-0123456", true))));
    EXPECT_FALSE(table_.at(table_.slot_of(kEarly)).leg[0].remote.set());
    EXPECT_EQ(send("198.18.0.11", 5000, test::binding_request("gwuf:x7Qp", kPwd, false)).action,
              Action::ToAccess);
    EXPECT_EQ(send("198.18.0.10", 5000, test::binding_request("gwuf:x7Qp", kPwd, true, 3)).action,
              Action::ToAccess);
    ASSERT_EQ(relay_.events().size(), 1U);
    EXPECT_EQ(relay_.events()[0].kind, RelayEvent::Kind::IceSelected);
    EXPECT_EQ(relay_.events()[0].session_id, kEarly);
    // Nothing but checks until the answer.
    EXPECT_EQ(send("198.18.0.10", 5000, dtls_record()).drop, RelayDrop::NotKeyed);
    EXPECT_EQ(send("198.18.0.10", 5000, gcm_browser_tx_.protect(rtp(1), false)).drop,
              RelayDrop::NotKeyed);
    Buffer to_core_port;
    frame_into(to_core_port, Side::Core, kImsMac, kCoreMac, cmd9_.core.remote,
               dtls_command(kEarly, 47000, 57100).core.local, rtp(1));
    EXPECT_EQ(run(to_core_port).action, Action::ToKernel);
    const uint64_t checked_at = table_.at(table_.slot_of(kEarly)).ice[0].last_check_ns;

    // The answer: the browser's ufrag and fingerprint, the IMS side.
    dpif::Command done = dtls_command(kEarly, 47000, 57100);
    done.hdr.type = dpif::MsgType::SessionUpdate;
    ASSERT_EQ(table_.update(done, why), ResultCode::Ok) << why;
    const Session& t = table_.at(table_.slot_of(kEarly));
    EXPECT_FALSE(t.awaiting_answer);
    EXPECT_FALSE(table_.awaits_answer(kEarly));
    EXPECT_TRUE(t.dtls[0].on);
    EXPECT_NE(t.dtls[0].serial, 0U);
    EXPECT_TRUE(t.leg[1].local.set());
    EXPECT_EQ(t.leg[0].remote.port, 5000) << "the pair nominated before the answer stays";
    EXPECT_TRUE(t.leg[0].mac_known);
    EXPECT_EQ(t.ice[0].last_check_ns, checked_at) << "and its consent";
    EXPECT_EQ(send("198.18.0.10", 5000, dtls_record()).action, Action::ToSlowPath);
    // The other valid pair stays valid: its media passes the source check
    // (and waits for the keys like the nominated pair's).
    EXPECT_EQ(send("198.18.0.11", 5000, gcm_browser_tx_.protect(rtp(2), false)).action,
              Action::HoldForKeys);
    EXPECT_EQ(send("198.18.0.12", 5000, gcm_browser_tx_.protect(rtp(3), false)).drop,
              RelayDrop::WrongSource);
}

// A call ringing longer than the media timeout is not idle: the clock
// starts with the answer.
TEST_F(DtlsRelayTest, ASessionAwaitingTheAnswerIsNeverIdle) {
    constexpr uint64_t kSec = 1000000000ULL;
    constexpr uint64_t kEarly = 13;
    std::string why;
    ASSERT_EQ(table_.create(awaiting_command(kEarly, 47300), why), ResultCode::Ok) << why;
    relay_.set_idle_timeout(60 * kSec);
    const auto idle_at = [&](uint64_t sec) {
        relay_.set_now(sec * kSec);
        relay_.check_consent(table_.capacity());
        for (const RelayEvent& e : relay_.events())
            if (e.session_id == kEarly && e.kind == RelayEvent::Kind::Idle) return true;
        return false;
    };
    EXPECT_FALSE(idle_at(100));
    EXPECT_FALSE(idle_at(200));
    EXPECT_FALSE(idle_at(300));
    dpif::Command done = dtls_command(kEarly, 47300, 57300);
    done.hdr.type = dpif::MsgType::SessionUpdate;
    ASSERT_EQ(table_.update(done, why), ResultCode::Ok) << why;
    EXPECT_FALSE(idle_at(310));  // answered at 300: its clock starts
    EXPECT_FALSE(idle_at(360));
    EXPECT_TRUE(idle_at(371)) << "idle 61 s after the first scan since the answer";
}

TEST_F(DtlsRelayTest, OnlyADtlsAccessLegWithoutItsAnswerAwaitsIt) {
    std::string why;
    const dpif::Command ok = awaiting_command(31, 47200);
    const auto refused = [&](dpif::Command c, const char* says) {
        why.clear();
        EXPECT_EQ(table_.create(c, why), ResultCode::BadParams) << says;
        EXPECT_NE(why.find(says), std::string::npos) << why;
        EXPECT_EQ(table_.slot_of(31), SessionTable::kNoSlot);
    };
    dpif::Command core = ok;
    core.core = dtls_command(31, 47200, 57200).core;
    refused(core, "core: unset");
    dpif::Command fp = ok;
    fp.access.remote_fingerprint[0] = 1;
    refused(fp, "no remote_fingerprint");
    dpif::Command uf = ok;
    std::snprintf(uf.access.remote_ufrag, sizeof uf.access.remote_ufrag, "brws");
    refused(uf, "no remote_fingerprint");
    dpif::Command sdes = ok;
    sdes.access.security = dpif::LegSecurity::Sdes;
    refused(sdes, "awaiting_answer");
    dpif::Command chat = ok;  // a chat is made with the answer
    chat.access.security = dpif::LegSecurity::DtlsSctp;
    refused(chat, "only a DTLS-SRTP access leg");
    dpif::Command two = ok;
    two.access.awaiting_answer = 2;
    refused(two, "awaiting_answer: 0 or 1");
    dpif::Command bundled = ok;
    bundled.bundle.transport = 31;
    refused(bundled, "not bundled yet");
    dpif::Command on_core = dtls_command(31, 47200, 57200);
    on_core.core.awaiting_answer = 1;
    refused(on_core, "core.awaiting_answer");
    ASSERT_EQ(table_.create(ok, why), ResultCode::Ok) << why;
    // A complete leg does not go back to awaiting one (its association and
    // core leg would go).
    dpif::Command done = dtls_command(31, 47200, 57200);
    done.hdr.type = dpif::MsgType::SessionUpdate;
    ASSERT_EQ(table_.update(done, why), ResultCode::Ok) << why;
    dpif::Command back = ok;
    back.hdr.type = dpif::MsgType::SessionUpdate;
    why.clear();
    EXPECT_EQ(table_.update(back, why), ResultCode::BadParams);
    EXPECT_NE(why.find("does not await an answer again"), std::string::npos) << why;
    EXPECT_TRUE(table_.at(table_.slot_of(31)).dtls[0].on);
}

TEST(DtlsTable, ContextsAreCountedReservedAndGivenBack) {
    srtp::Engine engine{srtp::ImbArch::Auto};
    SessionTable t(engine, {4, 3});  // 3 contexts: one DTLS leg (2) fits, two do not
    std::string why;
    const dpif::Command a = dtls_command(1, 46000, 56000);
    const dpif::Command b = dtls_command(2, 46100, 56100);
    for (int round = 0; round < 3; ++round) {
        ASSERT_EQ(t.create(a, why), ResultCode::Ok) << why;
        EXPECT_EQ(t.create(b, why), ResultCode::TableFull);
        ASSERT_TRUE(t.remove(1));
    }
    ASSERT_EQ(t.create(b, why), ResultCode::Ok) << why;
}

}  // namespace
}  // namespace isthmus::session::relay_rig
