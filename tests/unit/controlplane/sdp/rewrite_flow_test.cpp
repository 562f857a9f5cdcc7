// Step 4 of the IMS-ALG rewrite (sdp/rewrite.hpp) and whole exchanges: IMS
// offers (VoLTE, ViLTE, RTP/SAVP) to the browser and its answer back to the
// IMS; hold and resume both ways; video added by a re-offer. Each output
// parses again.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "isthmus/dpif/sdes.hpp"
#include "sdp/crypto.hpp"
#include "sdp/rewrite.hpp"
#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

using test::data;
using test::parse_ok;

dpif::SrtpKeys key(dpif::SdesSuite suite, uint8_t fill) {
    const dpif::SdesSuiteInfo info = dpif::sdes_suite_info(suite);
    dpif::SrtpKeys k{};
    k.suite = static_cast<uint8_t>(suite);
    k.key_len = info.master_key_len;
    k.salt_len = info.master_salt_len;
    std::fill_n(k.master_key, k.key_len, fill);
    std::fill_n(k.master_salt, k.salt_len, static_cast<uint8_t>(fill + 1));
    return k;
}

WebRtcSide web_side(std::vector<uint16_t> ports, std::string version = "1") {
    WebRtcSide w;
    w.origin = {"-", "9031", std::move(version), "IN", "IP4", "203.0.113.50"};
    w.address = {"IN", "IP4", "203.0.113.50"};
    w.ice = {"gw01", "0123456789abcdefghijkl"};
    w.fingerprint = {"sha-256",
                     "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:"
                     "33:44:55:66:77:88:99"};
    w.ports = std::move(ports);
    return w;
}

ImsSide ims_side(std::vector<uint16_t> ports, std::string version = "1") {
    ImsSide s;
    s.origin = {"-", "8031", std::move(version), "IN", "IP6", "2001:db8:5::10"};
    s.address = {"IN", "IP6", "2001:db8:5::10"};
    for (uint16_t p : ports) {
        CoreMedia m;
        m.port = p;
        s.media.push_back(m);
    }
    return s;
}

SessionDescription reparsed(const RewriteResult& r) {
    EXPECT_TRUE(r.ok()) << rewrite_error_name(r.error) << ": " << r.reason;
    test::expect_stable(r.description);
    EXPECT_EQ(r.media.size(), r.description.media.size());
    return parse_ok(serialize(r.description));
}

std::vector<std::string> values(const Section& s, std::string_view name) {
    std::vector<std::string> out;
    for (const Attribute& a : s.attributes(name))
        out.emplace_back(a.value.value_or(""));
    return out;
}

Direction reverse(Direction d) {
    switch (d) {
        case Direction::SendOnly:
            return Direction::RecvOnly;
        case Direction::RecvOnly:
            return Direction::SendOnly;
        default:
            return d;
    }
}

// What a browser answers to one of our offers (JSEP 5.3): the first codec of
// each m= line in use plus telephone-event, the reverse direction, its own
// ICE and DTLS (setup `setup`), rtcp-mux, BUNDLE of what it accepted, trickle
// port 9 and no candidates yet.
SessionDescription browser_answer(const SessionDescription& offer,
                                  std::string_view setup = "active") {
    SessionDescription a;
    a.session.add('v', "0");
    a.session.add('o', "- 7000000000000000001 2 IN IP4 127.0.0.1");
    a.session.add('s', "-");
    a.session.add('t', "0 0");
    a.session.add_attribute("msid-semantic", " WMS");
    std::string group = "BUNDLE";
    for (const MediaDescription& o : offer.media) {
        MediaDescription m;
        m.m = o.m;
        const std::string id(mid(o).value_or(""));
        if (o.m.port == 0) {
            m.add_attribute("mid", id);
            a.media.push_back(m);
            continue;
        }
        group += ' ' + id;
        m.m.port = 9;
        m.m.formats = {o.m.formats.front()};
        for (const std::string& f : o.m.formats)
            if (auto r = rtpmap_for(o, f); r && r->encoding_name == "telephone-event")
                m.m.formats.push_back(f);
        m.add('c', "IN IP4 0.0.0.0");
        m.add_attribute("rtcp", "9 IN IP4 0.0.0.0");
        m.add_attribute("ice-ufrag", "brws");
        m.add_attribute("ice-pwd", "browserpassword0123456789");
        m.add_attribute("ice-options", "trickle");
        m.add_attribute("fingerprint",
                        "sha-256 83:1F:C4:09:5A:7E:22:B6:3D:90:E8:14:6C:F5:A1:27:8B:0D:E3:59:C6:72:"
                        "4F:1A:B8:95:0E:D7:36:AC:61:F4");
        m.add_attribute("setup", setup);
        m.add_attribute("mid", id);
        m.add_attribute(to_string(reverse(effective_direction(offer.session, o))));
        m.add_attribute("msid", "- 4c8a0d1e-0000-4000-8000-" + id + "00000000000");
        m.add_attribute("rtcp-mux");
        m.add_attribute("rtcp-rsize");
        for (const std::string& f : m.m.formats) {
            for (const Attribute& x : o.all_attributes())
                if ((x.name == "rtpmap" || x.name == "fmtp") && x.value &&
                    x.value->starts_with(f + " "))
                    m.add_attribute(x.name, x.value);
        }
        m.add_attribute("ssrc", "1436017373 cname:Qm2sV9xL4pR7tY1w");
        a.media.push_back(m);
    }
    if (group != "BUNDLE") a.session.add_attribute("group", group);
    return parse_ok(serialize(a));  // as the bytes would arrive
}

// An IMS-originated exchange: the IMS offer, our WebRTC offer, the browser's
// answer, our IMS answer.
struct Terminating {
    SessionDescription ims_offer;
    RewriteResult webrtc_offer;
    SessionDescription webrtc_answer;
    RewriteResult ims_answer;
};
Terminating call_in(const SessionDescription& ims_offer, const WebRtcSide& web, const ImsSide& ims,
                    std::string_view setup = "active") {
    Terminating t;
    t.ims_offer = ims_offer;
    t.webrtc_offer = ims_offer_to_webrtc(ims_offer, web);
    EXPECT_TRUE(t.webrtc_offer.ok()) << t.webrtc_offer.reason;
    t.webrtc_answer = browser_answer(t.webrtc_offer.description, setup);
    t.ims_answer =
        webrtc_answer_to_ims(ims_offer, t.webrtc_offer.description, t.webrtc_answer, ims);
    return t;
}

void expect_ims_only(const SessionDescription& d) {
    for (std::string_view name :
         {"candidate", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "fingerprint", "setup",
          "group", "mid", "rtcp-mux", "rtcp-rsize", "msid", "msid-semantic", "ssrc"}) {
        EXPECT_FALSE(d.session.has_attribute(name)) << name;
        for (const MediaDescription& m : d.media)
            EXPECT_FALSE(m.has_attribute(name)) << name << "\n" << serialize(d);
    }
}

TEST(WebRtcAnswerToIms, Volte) {
    const Terminating t =
        call_in(parse_ok(data("volte_offer.sdp")), web_side({40000}), ims_side({30000}));
    reparsed(t.webrtc_offer);
    const SessionDescription out = reparsed(t.ims_answer);
    expect_ims_only(out);
    EXPECT_EQ(out.origin()->address, "2001:db8:5::10");
    EXPECT_EQ(out.session.values('c'), (std::vector<std::string_view>{"IN IP6 2001:db8:5::10"}));
    const MediaDescription& m = out.media[0];
    EXPECT_EQ(m.m.proto, "RTP/AVP");
    EXPECT_EQ(m.m.port, 30000);
    EXPECT_EQ(m.m.formats, (std::vector<std::string>{"116", "111", "110"}));
    EXPECT_EQ(values(m, "rtpmap"),
              (std::vector<std::string>{"116 AMR-WB/16000/1", "111 telephone-event/16000",
                                        "110 telephone-event/8000"}));
    EXPECT_EQ(values(m, "rtcp"), (std::vector<std::string>{"30001"}));
    EXPECT_EQ(direction_of(m), Direction::SendRecv);

    const MediaPlan& p = t.ims_answer.media[0];
    EXPECT_TRUE(p.active);
    EXPECT_EQ(p.access.dtls_role, SetupRole::Passive);  // the browser answered active
    EXPECT_EQ(p.access.remote_ice, (IceCredentials{"brws", "browserpassword0123456789"}));
    EXPECT_EQ(p.access.local_port, 40000);
    EXPECT_EQ(p.access.bundle_transport, 0U);
    EXPECT_EQ(p.access.mid, "0");
    EXPECT_EQ(p.core.local_port, 30000);
    EXPECT_EQ(p.core.local_rtcp_port, 30001);
    EXPECT_EQ(p.core.remote_rtp->port, 1234);
    EXPECT_EQ(p.core.remote_rtcp->port, 1235);
}

TEST(WebRtcAnswerToIms, BrowserPassiveMakesUsActive) {
    const Terminating t =
        call_in(parse_ok(data("volte_offer.sdp")), web_side({40000}), ims_side({30000}), "passive");
    ASSERT_TRUE(t.ims_answer.ok()) << t.ims_answer.reason;
    EXPECT_EQ(t.ims_answer.media[0].access.dtls_role, SetupRole::Active);
}

TEST(WebRtcAnswerToIms, ChromeAnswerToVilte) {
    const SessionDescription ims_offer = parse_ok(data("vilte_offer.sdp"));
    const RewriteResult ours = ims_offer_to_webrtc(ims_offer, web_side({40000, 40002}));
    ASSERT_TRUE(ours.ok()) << ours.reason;
    const SessionDescription answer = parse_ok(data("chrome_answer_to_vilte.sdp"));
    const RewriteResult r =
        webrtc_answer_to_ims(ims_offer, ours.description, answer, ims_side({30000, 30002}));
    const SessionDescription out = reparsed(r);
    expect_ims_only(out);
    ASSERT_EQ(out.media.size(), 2U);
    EXPECT_EQ(out.media[0].m.proto, "RTP/AVP");
    EXPECT_EQ(out.media[0].m.formats, (std::vector<std::string>{"126", "100"}));
    EXPECT_EQ(values(out.media[0], "rtcp"), (std::vector<std::string>{"30001"}));
    // The IMS offered AVPF video: the answer keeps the proto and the feedback.
    const MediaDescription& video = out.media[1];
    EXPECT_EQ(video.m.proto, "RTP/AVPF");
    EXPECT_EQ(video.m.port, 30002);
    EXPECT_EQ(values(video, "rtcp-fb"),
              (std::vector<std::string>{"112 nack", "112 nack pli", "112 ccm fir"}));
    EXPECT_EQ(values(video, "extmap"), (std::vector<std::string>{"7 urn:3gpp:video-orientation"}));
    EXPECT_EQ(direction_of(video), Direction::SendOnly);  // answers recvonly
    EXPECT_FALSE(video.has_attribute("ssrc-group"));

    // BUNDLE accepted: both on the tagged m= line's port and transport.
    for (const MediaPlan& p : r.media) {
        EXPECT_TRUE(p.active);
        EXPECT_EQ(p.access.bundle_transport, 0U);
        EXPECT_EQ(p.access.local_port, 40000);
        EXPECT_EQ(p.access.dtls_role, SetupRole::Passive);
        EXPECT_EQ(p.access.remote_candidates.size(), 1U);
        EXPECT_EQ(p.core.remote_rtp->connection.address, "2001:db8:77::1:5");
    }
    EXPECT_EQ(r.media[1].core.remote_rtcp->port, 49155);
    EXPECT_EQ(r.media[1].direction, Direction::SendOnly);
}

// What each side declared it receives (b=AS), for the P-CSCF's policing:
// the IMS offer's per line (80 audio, 1006 video), the browser's answer
// none; a line without its own b=AS takes the session's; the largest of
// several; other bandwidth types are not b=AS.
TEST(WebRtcAnswerToIms, BandwidthEachSideDeclared) {
    SessionDescription ims_offer = parse_ok(data("vilte_offer.sdp"));
    const RewriteResult ours = ims_offer_to_webrtc(ims_offer, web_side({40000, 40002}));
    ASSERT_TRUE(ours.ok()) << ours.reason;
    SessionDescription answer = parse_ok(data("chrome_answer_to_vilte.sdp"));
    RewriteResult r =
        webrtc_answer_to_ims(ims_offer, ours.description, answer, ims_side({30000, 30002}));
    ASSERT_TRUE(r.ok()) << r.reason;
    ASSERT_EQ(r.media.size(), 2U);
    EXPECT_EQ(r.media[0].core_as_kbps, 80U);
    EXPECT_EQ(r.media[1].core_as_kbps, 1006U);
    EXPECT_EQ(r.media[0].access_as_kbps, 0U);
    EXPECT_EQ(r.media[1].access_as_kbps, 0U);

    // The browser's answer says b=AS:2500 on its video line, b=TIAS and
    // b=AS:96 and b=AS:64 on audio; the IMS offer's audio line loses its own
    // b=AS (the session's 1086 is then its bound).
    answer.media[1].lines.insert(answer.media[1].lines.begin(), Line{'b', "AS:2500"});
    answer.media[0].lines.insert(
        answer.media[0].lines.begin(),
        {Line{'b', "TIAS:500000"}, Line{'b', "AS:96"}, Line{'b', "AS:64"}});
    std::erase_if(ims_offer.media[0].lines, [](const Line& l) { return l.type == 'b'; });
    r = webrtc_answer_to_ims(ims_offer, ours.description, answer, ims_side({30000, 30002}));
    ASSERT_TRUE(r.ok()) << r.reason;
    EXPECT_EQ(r.media[0].access_as_kbps, 96U);
    EXPECT_EQ(r.media[1].access_as_kbps, 2500U);
    EXPECT_EQ(r.media[0].core_as_kbps, 1086U);
    EXPECT_EQ(r.media[1].core_as_kbps, 1006U);
}

TEST(ImsAnswerToWebRtc, BandwidthEachSideDeclared) {
    const SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
    const RewriteResult ims = webrtc_offer_to_ims(offer, ims_side({30000, 30002}));
    ASSERT_TRUE(ims.ok()) << ims.reason;
    const SessionDescription answer = parse_ok(data("ims_answer_to_chrome.sdp"));
    const RewriteResult r =
        ims_answer_to_webrtc(offer, ims.description, answer, web_side({40000, 40002}));
    ASSERT_TRUE(r.ok()) << r.reason;
    ASSERT_GE(r.media.size(), 2U);
    EXPECT_EQ(r.media[0].core_as_kbps, 41U);  // PCMU under b=AS:41: why policing has a floor
    EXPECT_EQ(r.media[1].core_as_kbps, 1000U);
    EXPECT_EQ(r.media[0].access_as_kbps, 0U);  // Chrome declares none
    EXPECT_EQ(r.media[1].access_as_kbps, 0U);
}

TEST(WebRtcAnswerToIms, SavpOfferAnsweredWithOurKey) {
    const SessionDescription ims_offer = parse_ok(data("ims_savp_offer.sdp"));
    ImsSide ims = ims_side({30000});
    // Line 1 has an MKI and line 4 session parameters: the dataplane takes
    // neither, so with keys for SHA1_80 and SHA1_32 tag 2 is chosen.
    ims.media[0].keys = {key(dpif::SdesSuite::AesCm128HmacSha1_80, 0x11),
                         key(dpif::SdesSuite::AesCm128HmacSha1_32, 0x22)};
    const Terminating t = call_in(ims_offer, web_side({40000}), ims);
    const SessionDescription out = reparsed(t.ims_answer);
    expect_ims_only(out);
    const MediaDescription& m = out.media[0];
    EXPECT_EQ(m.m.proto, "RTP/SAVP");
    const std::vector<std::string> lines = values(m, "crypto");
    ASSERT_EQ(lines.size(), 1U);
    const auto c = parse_crypto(lines[0]);
    ASSERT_TRUE(c) << lines[0];
    EXPECT_EQ(c->tag, 2U);
    EXPECT_EQ(c->suite, "AES_CM_128_HMAC_SHA1_32");
    const auto octets = decode_base64(c->keys[0].key_salt);
    ASSERT_TRUE(octets);
    EXPECT_EQ(octets->size(), 30U);
    EXPECT_EQ((*octets)[0], 0x22);
    EXPECT_FALSE(t.webrtc_offer.description.media[0].has_attribute("crypto"));

    const CorePlan& core = t.ims_answer.media[0].core;
    EXPECT_EQ(core.security, dpif::LegSecurity::Sdes);
    ASSERT_TRUE(core.tx && core.rx);
    EXPECT_EQ(core.tx->master_key[0], 0x22);
    EXPECT_EQ(dpif::format_sdes_inline(*core.rx),
              "AES_CM_128_HMAC_SHA1_32 inline:AV9+a8Wur0g3JAieklLME7UJUaa2lBJSJ2XP9NeA");
}

TEST(WebRtcAnswerToIms, SavpGcmOnly) {
    ImsSide ims = ims_side({30000});
    ims.media[0].keys = {key(dpif::SdesSuite::AeadAes128Gcm, 0x33)};
    const Terminating t = call_in(parse_ok(data("ims_savp_offer.sdp")), web_side({40000}), ims);
    const SessionDescription out = reparsed(t.ims_answer);
    const auto c = parse_crypto(values(out.media[0], "crypto").at(0));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->tag, 3U);
    EXPECT_EQ(c->suite, "AEAD_AES_128_GCM");
    EXPECT_EQ(decode_base64(c->keys[0].key_salt)->size(), 28U);
}

TEST(WebRtcAnswerToIms, SavpWithoutACommonSuite) {
    ImsSide ims = ims_side({30000});
    // SHA1_80 is offered only with an MKI (tag 1): nothing we can take.
    ims.media[0].keys = {key(dpif::SdesSuite::AesCm128HmacSha1_80, 0x11)};
    const Terminating t = call_in(parse_ok(data("ims_savp_offer.sdp")), web_side({40000}), ims);
    EXPECT_EQ(t.ims_answer.error, RewriteError::CryptoMismatch) << t.ims_answer.reason;
    ims.media[0].keys.clear();
    EXPECT_EQ(call_in(t.ims_offer, web_side({40000}), ims).ims_answer.error,
              RewriteError::CryptoMismatch);
}

TEST(WebRtcAnswerToIms, RejectedLinesStayRejected) {
    SessionDescription ims_offer = parse_ok(data("vilte_offer.sdp"));
    MediaDescription t38;
    t38.m = {"image", 49160, std::nullopt, "udptl", {"t38"}};
    ims_offer.media.push_back(t38);
    const RewriteResult ours = ims_offer_to_webrtc(ims_offer, web_side({40000, 40002, 40004}));
    ASSERT_TRUE(ours.ok()) << ours.reason;
    SessionDescription answer = browser_answer(ours.description);
    answer.media[1].m.port = 0;  // the browser rejects video
    answer.session.set_attribute("group", "BUNDLE 0");
    const RewriteResult r =
        webrtc_answer_to_ims(ims_offer, ours.description, answer, ims_side({30000, 30002, 30004}));
    const SessionDescription out = reparsed(r);
    EXPECT_EQ(out.media[0].m.port, 30000);
    EXPECT_EQ(out.media[1].m.port, 0);
    EXPECT_EQ(out.media[1].m.proto, "RTP/AVPF");  // the offer's proto and formats
    EXPECT_EQ(out.media[1].m.formats, ims_offer.media[1].m.formats);
    EXPECT_TRUE(out.media[1].lines.empty());
    EXPECT_EQ(out.media[2].m, (MediaLine{"image", 0, std::nullopt, "udptl", {"t38"}}));
    EXPECT_FALSE(r.media[1].active);
    EXPECT_FALSE(r.media[2].active);
}

TEST(WebRtcAnswerToIms, Refusals) {
    const SessionDescription volte = parse_ok(data("volte_offer.sdp"));
    const RewriteResult ours = ims_offer_to_webrtc(volte, web_side({40000}));
    ASSERT_TRUE(ours.ok());
    const SessionDescription good = browser_answer(ours.description);
    const auto run = [&](const SessionDescription& answer, const ImsSide& ims) {
        return webrtc_answer_to_ims(volte, ours.description, answer, ims).error;
    };
    EXPECT_EQ(run(good, ims_side({30000})), RewriteError::None);

    SessionDescription a = good;
    a.media[0].set_attribute("setup", "actpass");
    EXPECT_EQ(run(a, ims_side({30000})), RewriteError::BadSetup);
    a = good;
    a.media[0].remove_attributes("fingerprint");
    EXPECT_EQ(run(a, ims_side({30000})), RewriteError::MissingFingerprint);
    a = good;
    a.media[0].remove_attributes("ice-ufrag");
    EXPECT_EQ(run(a, ims_side({30000})), RewriteError::MissingIceCredentials);
    a = good;
    a.media[0].remove_attributes("rtcp-mux");
    EXPECT_EQ(run(a, ims_side({30000})), RewriteError::MissingRtcpMux);
    a = good;
    a.media.push_back(a.media[0]);
    EXPECT_EQ(run(a, ims_side({30000})), RewriteError::AnswerMismatch);
    a = good;
    a.media[0].m.media = "video";
    EXPECT_EQ(run(a, ims_side({30000})), RewriteError::AnswerMismatch);
    a = good;
    a.media[0].m.proto = "RTP/AVP";
    EXPECT_EQ(run(a, ims_side({30000})), RewriteError::AnswerMismatch);
    EXPECT_EQ(run(good, ims_side({})), RewriteError::MissingResource);
}

// --- hold, resume, video added ---

TEST(Hold, ImsHoldsAndResumes) {
    SessionDescription ims_offer = parse_ok(data("volte_offer.sdp"));
    for (Direction d : {Direction::SendOnly, Direction::Inactive, Direction::SendRecv}) {
        set_direction(ims_offer.media[0], d);
        const Terminating t = call_in(ims_offer, web_side({40000}, "2"), ims_side({30000}, "2"));
        const SessionDescription offer = reparsed(t.webrtc_offer);
        EXPECT_EQ(direction_of(offer.media[0]), d);
        EXPECT_EQ(offer.origin()->session_version, "2");
        EXPECT_EQ(direction_of(t.webrtc_answer.media[0]), reverse(d));
        const SessionDescription answer = reparsed(t.ims_answer);
        EXPECT_EQ(direction_of(answer.media[0]), reverse(d));
        EXPECT_EQ(answer.media[0].m.port, 30000);
        EXPECT_EQ(t.ims_answer.media[0].direction, reverse(d));
    }
}

TEST(Hold, BrowserHoldsAndResumes) {
    SessionDescription browser_offer = parse_ok(data("chrome_offer.sdp"));
    const SessionDescription ims_answer_base = parse_ok(data("ims_answer_to_chrome.sdp"));
    for (Direction d : {Direction::SendOnly, Direction::Inactive, Direction::SendRecv}) {
        set_direction(browser_offer.media[0], d);
        ImsSide ims = ims_side({30000, 30002, 0}, "3");
        const RewriteResult to_ims = webrtc_offer_to_ims(browser_offer, ims);
        const SessionDescription ims_offer = reparsed(to_ims);
        EXPECT_EQ(direction_of(ims_offer.media[0]), d);
        EXPECT_EQ(ims_offer.origin()->session_version, "3");

        SessionDescription ims_answer = ims_answer_base;
        set_direction(ims_answer.media[0], reverse(d));
        const RewriteResult back = ims_answer_to_webrtc(browser_offer, to_ims.description,
                                                        ims_answer, web_side({40000, 40002, 0}));
        const SessionDescription answer = reparsed(back);
        EXPECT_EQ(direction_of(answer.media[0]), reverse(d));
        EXPECT_EQ(answer.media[0].m.port, 40000);
        EXPECT_EQ(back.media[0].direction, reverse(d));
    }
}

TEST(ReOffer, ImsAddsVideo) {
    // Audio first, then a re-offer with ViLTE video added: the existing line
    // keeps its port (the BUNDLE port, RFC 8843 7.5.1) and video joins it.
    SessionDescription ims_offer = parse_ok(data("vilte_offer.sdp"));
    const MediaDescription video = ims_offer.media[1];
    ims_offer.media.pop_back();
    const Terminating first = call_in(ims_offer, web_side({40000}), ims_side({30000}));
    ASSERT_TRUE(first.ims_answer.ok()) << first.ims_answer.reason;

    ims_offer.media.push_back(video);
    const Terminating second =
        call_in(ims_offer, web_side({40000, 40000}, "2"), ims_side({30000, 30002}, "2"));
    const SessionDescription offer = reparsed(second.webrtc_offer);
    ASSERT_EQ(offer.media.size(), 2U);
    EXPECT_EQ(offer.media[0].m.port, 40000);
    EXPECT_EQ(offer.media[1].m.port, 40000);
    EXPECT_EQ(bundle_groups(offer.session)[0].mids, (std::vector<std::string>{"0", "1"}));
    const SessionDescription answer = reparsed(second.ims_answer);
    EXPECT_EQ(answer.media[0].m.port, 30000);
    EXPECT_EQ(answer.media[1].m.port, 30002);
    EXPECT_EQ(answer.media[1].m.proto, "RTP/AVPF");
    EXPECT_TRUE(second.ims_answer.media[1].active);
    EXPECT_EQ(second.ims_answer.media[1].core.local_port, 30002);
}

TEST(ReOffer, BrowserAddsVideo) {
    SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
    const MediaDescription video = offer.media[1];
    offer.media.erase(offer.media.begin() + 1, offer.media.end());
    offer.session.set_attribute("group", "BUNDLE 0");
    const RewriteResult first = webrtc_offer_to_ims(offer, ims_side({30000}));
    EXPECT_EQ(reparsed(first).media.size(), 1U);

    offer.media.push_back(video);
    offer.session.set_attribute("group", "BUNDLE 0 1");
    const RewriteResult second = webrtc_offer_to_ims(offer, ims_side({30000, 30002}, "2"));
    const SessionDescription out = reparsed(second);
    ASSERT_EQ(out.media.size(), 2U);
    EXPECT_EQ(out.media[0].m.port, 30000);
    EXPECT_EQ(out.media[1].m.port, 30002);
    EXPECT_EQ(values(out.media[1], "rtcp"), (std::vector<std::string>{"30003"}));
    EXPECT_EQ(second.media[1].access.bundle_transport, 0U);
}

}  // namespace
}  // namespace isthmus::sdp
