// ICE-lite and consent freshness in the relay (issue 5): checks answered in
// place, the nominated source as the only remote, consent lost after 30 s
// and restored by the next valid check (fake clock).
#include "ice/binding.hpp"
#include "ice/writer.hpp"
#include "ice_check.hpp"
#include "relay_fixture.hpp"

namespace isthmus::session::relay_rig {
namespace {

// ICE-lite on the access leg (issue 5 groundwork): checks answered inline,
// the nominated source becomes the remote, media only from it.
class IceRelayTest : public RelayTest {
  protected:
    static constexpr const char* kPwd = "gw-ice-password-0123456789";
    void SetUp() override {
        RelayTest::SetUp();
        dpif::Command c = test::srtp_to_rtp_command(7);
        c.access.local.port = 44000;
        c.access.remote = {};
        std::snprintf(c.access.ice_ufrag, sizeof c.access.ice_ufrag, "gwuf");
        std::snprintf(c.access.ice_pwd, sizeof c.access.ice_pwd, "%s", kPwd);
        std::snprintf(c.access.remote_ufrag, sizeof c.access.remote_ufrag, "brws");
        c.core.local.port = 54000;
        c.core.local_rtcp.port = 54001;
        std::string why;
        ASSERT_EQ(table_.create(c, why), ResultCode::Ok) << why;
        ASSERT_TRUE(table_.set_next_hop(7, Side::Core, kImsMac));
        ice_cmd_ = c;
    }
    // A Binding request as a controlling browser sends it.
    static Bytes check(const char* username, const char* pwd, bool use_candidate) {
        return test::binding_request(username, pwd, use_candidate);
    }
    void from(Buffer& b, const char* ip, uint16_t port, const Bytes& payload) {
        frame_into(b, Side::Access, kBrowserMac, kAccessMac, endpoint4(ip, port),
                   ice_cmd_.access.local, payload);
    }
    // A check from ip:port answered with a success response.
    bool checked(const char* ip, uint16_t port, bool nominate = false,
                 const char* username = "gwuf:brws", const char* pwd = kPwd) {
        Buffer b;
        from(b, ip, port, check(username, pwd, nominate));
        const RelayPacket& p = run(b);
        if (p.action != Action::ToAccess) return false;
        ice::Message m;
        const Sent s = parse_sent(p);
        return ice::parse_message(s.payload.data(), s.payload.size(), m) == ice::Verdict::Ok &&
               m.cls == ice::MessageClass::SuccessResponse;
    }
    // The browser's SRTP packet `seq` from ip:port: None when relayed to
    // the core, else why it was dropped.
    RelayDrop media_from(const char* ip, uint16_t port, uint16_t seq) {
        Buffer b;
        from(b, ip, port, browser_tx_.protect(rtp(seq), false));
        const RelayPacket& p = run(b);
        if (p.action == Action::ToCore) return RelayDrop::None;
        return p.action == Action::Drop ? p.drop : RelayDrop::Malformed;
    }
    dpif::Command ice_cmd_{};
};

TEST_F(IceRelayTest, AnAuthenticatedNominationSelectsTheRemoteAndIsAnsweredInPlace) {
    Buffer media_first;  // SRTP before any check: no remote, nothing learned from it
    from(media_first, "198.18.0.10", 5000, browser_tx_.protect(rtp(1), false));
    EXPECT_EQ(run(media_first).drop, RelayDrop::WrongSource);

    Buffer b;
    from(b, "198.18.0.10", 5000, check("gwuf:brws", kPwd, true));
    const RelayPacket& p = run(b);
    ASSERT_EQ(p.action, Action::ToAccess) << relay_drop_name(p.drop);
    Sent s = parse_sent(p);
    EXPECT_TRUE(is_endpoint(s.f, true, ice_cmd_.access.local));
    EXPECT_TRUE(is_endpoint(s.f, false, endpoint4("198.18.0.10", 5000)));
    EXPECT_EQ(0, std::memcmp(s.dst_mac, kBrowserMac, 6));
    ice::Message m;
    ASSERT_EQ(ice::parse_message(s.payload.data(), s.payload.size(), m), ice::Verdict::Ok);
    EXPECT_EQ(m.cls, ice::MessageClass::SuccessResponse);
    EXPECT_TRUE(ice::verify_integrity(s.payload.data(), m, ice::IntegrityKey::short_term(kPwd)));
    ice::TransportAddress mapped;
    ASSERT_TRUE(ice::decode_xor_address(s.payload.data(), m.xor_mapped_address, mapped));
    EXPECT_EQ(mapped.port, 5000);
    ASSERT_EQ(relay_.events().size(), 1U);
    EXPECT_EQ(relay_.events()[0].session_id, 7U);
    EXPECT_EQ(relay_.events()[0].remote.port, 5000);

    Buffer media;  // now from the nominated address: relayed
    from(media, "198.18.0.10", 5000, browser_tx_.protect(rtp(2), false));
    EXPECT_EQ(run(media).action, Action::ToCore);
    Buffer other;  // valid SRTP from anywhere else: refused
    from(other, "198.18.0.11", 5000, browser_tx_.protect(rtp(3), false));
    EXPECT_EQ(run(other).drop, RelayDrop::WrongSource);
    EXPECT_EQ(relay_.counters().ice_selected, 1U);
}

TEST_F(IceRelayTest, ChecksThatDoNotAuthenticateSelectNothing) {
    Buffer wrong_pwd;
    from(wrong_pwd, "198.18.0.66", 5000, check("gwuf:brws", "not-the-password-at-all!", true));
    const RelayPacket& p = run(wrong_pwd);
    ASSERT_EQ(p.action, Action::ToAccess);  // a 401 goes back
    const Sent s = parse_sent(p);
    ice::Message m;
    ASSERT_EQ(ice::parse_message(s.payload.data(), s.payload.size(), m), ice::Verdict::Ok);
    EXPECT_EQ(m.cls, ice::MessageClass::ErrorResponse);
    Buffer wrong_user;
    from(wrong_user, "198.18.0.66", 5000, check("other:brws", kPwd, true));
    EXPECT_EQ(run(wrong_user).action, Action::ToAccess);
    Buffer no_nomination;  // authenticated but not nominated: answered, not selected
    from(no_nomination, "198.18.0.10", 5000, check("gwuf:brws", kPwd, false));
    EXPECT_EQ(run(no_nomination).action, Action::ToAccess);
    EXPECT_FALSE(table_.at(table_.slot_of(7)).leg[0].remote.set());
    EXPECT_EQ(relay_.counters().ice_selected, 0U);
    Buffer garbage;  // STUN-looking bytes that do not parse: dropped, counted
    Bytes g(20, 0);
    g[1] = 1;
    from(garbage, "198.18.0.10", 5000, g);
    EXPECT_EQ(run(garbage).drop, RelayDrop::StunRefused);
}

TEST_F(IceRelayTest, ConsentExpiresThirtySecondsAfterTheLastValidCheckAndComesBack) {
    constexpr uint64_t kSec = 1000000000ULL;
    relay_.set_now(100 * kSec);
    Buffer nominate;
    from(nominate, "198.18.0.10", 5000, check("gwuf:brws", kPwd, true));
    ASSERT_EQ(run(nominate).action, Action::ToAccess);
    const auto toward_browser = [&](uint16_t seq) {
        Buffer b;
        frame_into(b, Side::Core, kImsMac, kCoreMac, ice_cmd_.core.remote, ice_cmd_.core.local,
                   rtp(seq));
        relay_.process(std::span(&b.pkt, 1));
        return b.pkt;
    };
    EXPECT_EQ(toward_browser(1).action, Action::ToAccess);
    // A valid check at +20 s keeps consent past the first 30 s.
    relay_.set_now(120 * kSec);
    Buffer keep;
    from(keep, "198.18.0.10", 5000, check("gwuf:brws", kPwd, false));
    ASSERT_EQ(run(keep).action, Action::ToAccess);
    relay_.set_now(140 * kSec);
    relay_.check_consent(16);
    EXPECT_TRUE(relay_.events().empty());
    EXPECT_EQ(toward_browser(2).action, Action::ToAccess);
    // Nothing for more than 30 s: consent lost, media toward it stops.
    relay_.set_now(151 * kSec);
    relay_.check_consent(16);
    ASSERT_EQ(relay_.events().size(), 1U);
    EXPECT_EQ(relay_.events()[0].kind, RelayEvent::Kind::ConsentLost);
    EXPECT_EQ(relay_.events()[0].session_id, 7U);
    EXPECT_EQ(toward_browser(3).drop, RelayDrop::NoConsent);
    // A forged check does not bring it back; a valid one does.
    Buffer forged;
    from(forged, "198.18.0.10", 5000, check("gwuf:brws", "not-the-password-at-all!", false));
    run(forged);
    EXPECT_EQ(toward_browser(4).drop, RelayDrop::NoConsent);
    Buffer again;
    from(again, "198.18.0.10", 5000, check("gwuf:brws", kPwd, false));
    relay_.process(std::span(&again.pkt, 1));
    ASSERT_EQ(relay_.events().size(), 1U);
    EXPECT_EQ(relay_.events()[0].kind, RelayEvent::Kind::ConsentRestored);
    EXPECT_EQ(toward_browser(5).action, Action::ToAccess);
}

// An update that keeps the ICE session and its pair (a re-INVITE for hold,
// a data channel joining the bundle) keeps consent: the scan after it does
// not stop media toward the browser. One that restarts ICE (a new ufrag)
// starts over without a pair, so no consent question arises.
TEST_F(IceRelayTest, AnUpdateKeepingTheIceSessionKeepsConsent) {
    constexpr uint64_t kSec = 1000000000ULL;
    relay_.set_now(1000 * kSec);
    Buffer nominate;
    from(nominate, "198.18.0.10", 5000, check("gwuf:brws", kPwd, true));
    ASSERT_EQ(run(nominate).action, Action::ToAccess);
    dpif::Command u = ice_cmd_;
    u.hdr.type = dpif::MsgType::SessionUpdate;
    u.police_kbps[0] = 200;  // something changes
    std::string why;
    ASSERT_EQ(table_.update(u, why), ResultCode::Ok) << why;
    relay_.set_now(1010 * kSec);
    relay_.check_consent(16);
    EXPECT_TRUE(relay_.events().empty()) << "consent was not lost by the update";
    Buffer b;
    frame_into(b, Side::Core, kImsMac, kCoreMac, ice_cmd_.core.remote, ice_cmd_.core.local, rtp(1));
    relay_.process(std::span(&b.pkt, 1));
    EXPECT_EQ(b.pkt.action, Action::ToAccess) << relay_drop_name(b.pkt.drop);
    // It still expires 30 s after the last check, not after the update.
    relay_.set_now(1031 * kSec);
    relay_.check_consent(16);
    ASSERT_EQ(relay_.events().size(), 1U);
    EXPECT_EQ(relay_.events()[0].kind, RelayEvent::Kind::ConsentLost);
}

// RFC 8445 12.1: a full agent may send media on any valid pair, and
// Chrome moves to a better one as soon as its check succeeds, nominating it
// only with its next check (a second of the browser's media was lost at
// every incoming call with two candidates). Media from an address whose
// check passed in this ICE session is taken, before a nomination too; DTLS
// is not, nor media from an address never checked or checked with a wrong
// password; what goes to the browser stays on the nominated pair. An ICE
// restart of either side forgets them, an update keeping the ICE session
// keeps them.
TEST_F(IceRelayTest, MediaFromAnotherValidPairIsTakenAndSentOnlyToTheNominatedOne) {
    ASSERT_TRUE(checked("198.18.0.20", 5002));  // valid before any nomination
    EXPECT_EQ(media_from("198.18.0.20", 5002, 1), RelayDrop::None);
    EXPECT_EQ(relay_.counters().media_other_pair, 1U);

    ASSERT_TRUE(checked("198.18.0.10", 5000, true));  // .10 nominated; .20 stays valid
    EXPECT_EQ(media_from("198.18.0.20", 5002, 2), RelayDrop::None);
    Buffer toward;  // the browser's media goes to the nominated pair only
    frame_into(toward, Side::Core, kImsMac, kCoreMac, ice_cmd_.core.remote, ice_cmd_.core.local,
               rtp(3));
    ASSERT_EQ(run(toward).action, Action::ToAccess);
    EXPECT_TRUE(is_endpoint(parse_sent(toward.pkt).f, false, endpoint4("198.18.0.10", 5000)));

    Bytes hello(60, 0);  // DTLS only from the nominated remote
    hello[0] = 22;
    hello[1] = 0xfe;
    hello[2] = 0xfd;
    Buffer dtls;
    from(dtls, "198.18.0.20", 5002, hello);
    EXPECT_EQ(run(dtls).drop, RelayDrop::WrongSource);
    EXPECT_EQ(media_from("198.18.0.30", 5004, 4), RelayDrop::WrongSource);  // never checked
    EXPECT_FALSE(checked("198.18.0.40", 5006, false, "gwuf:brws", "not-the-password-at-all!"));
    EXPECT_EQ(media_from("198.18.0.40", 5006, 5), RelayDrop::WrongSource);
    // The pair is the transport address, port included.
    EXPECT_EQ(media_from("198.18.0.20", 5003, 6), RelayDrop::WrongSource);

    // An update keeping the ICE session keeps .20 valid.
    dpif::Command u = ice_cmd_;
    u.hdr.type = dpif::MsgType::SessionUpdate;
    u.police_kbps[0] = 200;
    std::string why;
    ASSERT_EQ(table_.update(u, why), ResultCode::Ok) << why;
    EXPECT_EQ(media_from("198.18.0.20", 5002, 7), RelayDrop::None);
    EXPECT_EQ(relay_.counters().media_other_pair, 3U);

    // An ICE restart by the browser (its new ufrag) forgets every pair of
    // the old session, and so does one of ours.
    std::snprintf(u.access.remote_ufrag, sizeof u.access.remote_ufrag, "brw2");
    ASSERT_EQ(table_.update(u, why), ResultCode::Ok) << why;
    EXPECT_EQ(media_from("198.18.0.20", 5002, 8), RelayDrop::WrongSource);
    ASSERT_TRUE(checked("198.18.0.20", 5002, false, "gwuf:brw2"));
    EXPECT_EQ(media_from("198.18.0.20", 5002, 9), RelayDrop::None);
    std::snprintf(u.access.ice_ufrag, sizeof u.access.ice_ufrag, "gwu2");
    ASSERT_EQ(table_.update(u, why), ResultCode::Ok) << why;
    EXPECT_EQ(media_from("198.18.0.20", 5002, 10), RelayDrop::WrongSource);
}

// A valid pair's media is taken while its last check is under 30 s old
// (RFC 7675's window); the next check makes it fresh again.
TEST_F(IceRelayTest, AValidPairGoesStaleThirtySecondsAfterItsLastCheck) {
    constexpr uint64_t kSec = 1000000000ULL;
    relay_.set_now(500 * kSec);
    ASSERT_TRUE(checked("198.18.0.20", 5002));
    relay_.set_now(529 * kSec);
    EXPECT_EQ(media_from("198.18.0.20", 5002, 1), RelayDrop::None);
    relay_.set_now(531 * kSec);
    EXPECT_EQ(media_from("198.18.0.20", 5002, 2), RelayDrop::WrongSource);
    ASSERT_TRUE(checked("198.18.0.20", 5002));
    EXPECT_EQ(media_from("198.18.0.20", 5002, 3), RelayDrop::None);
}

// A plain RTP leg cannot authenticate what it takes: with ICE, it takes
// media from its nominated remote alone, never from another valid pair.
TEST_F(IceRelayTest, APlainRtpIceLegTakesNoOtherPair) {
    dpif::Command c = ice_cmd_;
    c.hdr.session_id = 8;
    c.access.security = dpif::LegSecurity::Rtp;
    c.access.local.port = 44010;
    c.core.local.port = 54010;
    c.core.local_rtcp.port = 54011;
    std::string why;
    ASSERT_EQ(table_.create(c, why), ResultCode::Ok) << why;
    ASSERT_TRUE(table_.set_next_hop(8, Side::Core, kImsMac));
    const auto to_plain = [&](const char* ip, const Bytes& payload) {
        Buffer b;
        frame_into(b, Side::Access, kBrowserMac, kAccessMac, endpoint4(ip, 5000), c.access.local,
                   payload);
        const RelayPacket& p = run(b);
        return p.action == Action::Drop ? p.drop : RelayDrop::None;
    };
    ASSERT_EQ(to_plain("198.18.0.10", check("gwuf:brws", kPwd, true)), RelayDrop::None);
    ASSERT_EQ(to_plain("198.18.0.20", check("gwuf:brws", kPwd, false)), RelayDrop::None);
    EXPECT_EQ(to_plain("198.18.0.10", rtp(1)), RelayDrop::None);
    EXPECT_EQ(to_plain("198.18.0.20", rtp(2)), RelayDrop::WrongSource);
    EXPECT_EQ(relay_.counters().media_other_pair, 0U);
}

// The set is bounded (Session::Ice::kValidSources): a fifth address
// replaces the oldest.
TEST_F(IceRelayTest, TheValidPairsKeptAreTheLastFour) {
    const char* ips[] = {"198.18.0.21", "198.18.0.22", "198.18.0.23", "198.18.0.24", "198.18.0.25"};
    for (const char* ip : ips)
        ASSERT_TRUE(checked(ip, 6000)) << ip;
    uint16_t seq = 1;
    for (const char* ip : ips) {
        const bool oldest = std::strcmp(ip, "198.18.0.21") == 0;
        EXPECT_EQ(media_from(ip, 6000, seq++), oldest ? RelayDrop::WrongSource : RelayDrop::None)
            << ip;
    }
    // A check from a known address does not push another out.
    ASSERT_TRUE(checked("198.18.0.25", 6000));
    EXPECT_EQ(media_from("198.18.0.22", 6000, seq++), RelayDrop::None);
}

// Media inactivity ([dataplane] media_timeout_s): a session that relays
// nothing either way for the timeout is reported idle once, and active
// again when media comes back (fake clock; the scan's own slices).
TEST_F(IceRelayTest, ASessionThatRelaysNothingIsReportedIdleOnceAndActiveAgain) {
    constexpr uint64_t kSec = 1000000000ULL;
    relay_.set_idle_timeout(60 * kSec);
    relay_.set_now(100 * kSec);
    const auto toward_browser = [&](uint16_t seq) {
        Buffer b;
        frame_into(b, Side::Core, kImsMac, kCoreMac, ice_cmd_.core.remote, ice_cmd_.core.local,
                   rtp(seq));
        relay_.process(std::span(&b.pkt, 1));
        return b.pkt;
    };
    const auto scan_at = [&](uint64_t sec) {
        relay_.set_now(sec * kSec);
        // The browser's consent checks go on (they are not media).
        Buffer keep;
        from(keep, "198.18.0.10", 5000, check("gwuf:brws", kPwd, false));
        run(keep);
        relay_.check_consent(table_.capacity());  // a whole pass
        std::vector<RelayEvent::Kind> kinds;
        for (const RelayEvent& e : relay_.events())  // (the fixture's other sessions aside)
            if (e.session_id == 7 &&
                (e.kind == RelayEvent::Kind::Idle || e.kind == RelayEvent::Kind::Active))
                kinds.push_back(e.kind);
        return kinds;
    };
    Buffer nominate;
    from(nominate, "198.18.0.10", 5000, check("gwuf:brws", kPwd, true));
    ASSERT_EQ(run(nominate).action, Action::ToAccess);
    EXPECT_TRUE(scan_at(100).empty());  // first seen: the clock starts
    EXPECT_EQ(toward_browser(1).action, Action::ToAccess);
    EXPECT_TRUE(scan_at(130).empty());  // moved: the clock restarts at 130
    EXPECT_TRUE(scan_at(189).empty());  // 59 s without a packet
    const auto idle = scan_at(191);
    ASSERT_EQ(idle.size(), 1U);
    EXPECT_EQ(idle[0], RelayEvent::Kind::Idle);
    EXPECT_TRUE(scan_at(250).empty());  // once only
    EXPECT_EQ(toward_browser(2).action, Action::ToAccess);
    const auto active = scan_at(251);
    ASSERT_EQ(active.size(), 1U);
    EXPECT_EQ(active[0], RelayEvent::Kind::Active);
    EXPECT_TRUE(scan_at(252).empty());
    // Off (0): never reported.
    relay_.set_idle_timeout(0);
    EXPECT_TRUE(scan_at(1000).empty());
}

}  // namespace
}  // namespace isthmus::session::relay_rig
