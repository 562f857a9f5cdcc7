// Steps 2 and 3 of the IMS-ALG rewrite (sdp/rewrite.hpp): an IMS answer into
// the answer to the browser's offer (ice-lite, our candidate and fingerprint,
// BUNDLE, the offer's order, rejected m= lines), and IMS offers (VoLTE,
// ViLTE, RTP/SAVP) into offers to a browser. Each output parses again.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "isthmus/dpif/sdes.hpp"
#include "sdp/rewrite.hpp"
#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

using test::data;
using test::parse_ok;

constexpr std::string_view kOurFingerprint =
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"
    "99";

WebRtcSide web_side(std::size_t lines) {
    WebRtcSide w;
    w.origin = {"-", "9031", "1", "IN", "IP4", "203.0.113.50"};
    w.address = {"IN", "IP4", "203.0.113.50"};
    w.ice = {"gw01", "0123456789abcdefghijkl"};
    w.fingerprint = {"sha-256", std::string(kOurFingerprint)};
    for (std::size_t i = 0; i < lines; ++i)
        w.ports.push_back(static_cast<uint16_t>(40000 + 2 * i));
    return w;
}

ImsSide ims_side(std::size_t lines, bool srtp = false) {
    ImsSide s;
    s.origin = {"-", "8031", "1", "IN", "IP4", "198.51.100.10"};
    s.address = {"IN", "IP4", "198.51.100.10"};
    s.srtp = srtp;
    for (std::size_t i = 0; i < lines; ++i) {
        CoreMedia m;
        m.port = static_cast<uint16_t>(30000 + 2 * i);
        if (srtp) {
            dpif::SrtpKeys k{};
            k.suite = static_cast<uint8_t>(dpif::SdesSuite::AesCm128HmacSha1_80);
            k.key_len = 16;
            k.salt_len = 14;
            k.master_key[0] = static_cast<uint8_t>(0xA0 + i);
            m.keys = {k};
        }
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

// The browser's Chrome offer, step 1's IMS offer, and the IMS's answer.
struct BrowserCall {
    SessionDescription webrtc_offer = parse_ok(data("chrome_offer.sdp"));
    SessionDescription ims_offer;
    SessionDescription ims_answer = parse_ok(data("ims_answer_to_chrome.sdp"));
    explicit BrowserCall(bool srtp = false) {
        const RewriteResult r = webrtc_offer_to_ims(webrtc_offer, ims_side(3, srtp));
        EXPECT_TRUE(r.ok()) << r.reason;
        ims_offer = r.description;
    }
    RewriteResult answer(const WebRtcSide& web = web_side(3)) const {
        return ims_answer_to_webrtc(webrtc_offer, ims_offer, ims_answer, web);
    }
};

void expect_our_transport(const MediaDescription& m, std::string_view setup) {
    EXPECT_EQ(values(m, "ice-ufrag"), (std::vector<std::string>{"gw01"}));
    EXPECT_EQ(values(m, "ice-pwd"), (std::vector<std::string>{"0123456789abcdefghijkl"}));
    EXPECT_EQ(values(m, "fingerprint"),
              (std::vector<std::string>{"sha-256 " + std::string(kOurFingerprint)}));
    EXPECT_EQ(values(m, "setup"), (std::vector<std::string>{std::string(setup)}));
    EXPECT_TRUE(m.has_attribute("rtcp-mux"));
    EXPECT_FALSE(m.has_attribute("rtcp"));
    EXPECT_FALSE(m.has_attribute("crypto"));
    EXPECT_EQ(m.find('c'), nullptr);
}

TEST(ImsAnswerToWebRtc, VolteLikeAnswerToChrome) {
    const BrowserCall call;
    const RewriteResult r = call.answer();
    const SessionDescription out = reparsed(r);
    ASSERT_EQ(out.media.size(), 3U);
    EXPECT_TRUE(is_ice_lite(out.session));
    EXPECT_EQ(out.origin(), (Origin{"-", "9031", "1", "IN", "IP4", "203.0.113.50"}));
    EXPECT_EQ(out.session.values('c'), (std::vector<std::string_view>{"IN IP4 203.0.113.50"}));
    const auto groups = bundle_groups(out.session);
    ASSERT_EQ(groups.size(), 1U);
    EXPECT_EQ(groups[0].mids, (std::vector<std::string>{"0", "1"}));

    // The offer's order, proto and mids; both bundled lines on the first's port.
    for (std::size_t i = 0; i < 2; ++i) {
        const MediaDescription& m = out.media[i];
        EXPECT_EQ(m.m.media, call.webrtc_offer.media[i].m.media);
        EXPECT_EQ(m.m.proto, "UDP/TLS/RTP/SAVPF");
        EXPECT_EQ(m.m.port, 40000);
        EXPECT_EQ(mid(m), std::to_string(i));
        expect_our_transport(m, "passive");
        // Codecs: what the IMS answered, as it wrote them.
        EXPECT_EQ(m.m.formats, call.ims_answer.media[i].m.formats);
        EXPECT_EQ(values(m, "rtpmap"), values(call.ims_answer.media[i], "rtpmap"));
        EXPECT_EQ(values(m, "fmtp"), values(call.ims_answer.media[i], "fmtp"));
        EXPECT_EQ(direction_of(m), Direction::SendRecv);
    }
    // One host candidate, on the BUNDLE-tagged m= line only.
    EXPECT_EQ(values(out.media[0], "candidate"),
              (std::vector<std::string>{"1 1 udp 2130706431 203.0.113.50 40000 typ host"}));
    EXPECT_TRUE(out.media[0].has_attribute("end-of-candidates"));
    EXPECT_FALSE(out.media[1].has_attribute("candidate"));
    // Preconditions, ptime and bandwidth pass through.
    for (std::string_view name : {"curr", "des", "conf", "ptime", "maxptime"})
        EXPECT_EQ(values(out.media[0], name), values(call.ims_answer.media[0], name)) << name;
    EXPECT_EQ(out.media[0].values('b'), call.ims_answer.media[0].values('b'));
    EXPECT_EQ(values(out.media[1], "extmap"),
              (std::vector<std::string>{"13 urn:3gpp:video-orientation"}));

    // The data channel the IMS rejected stays rejected, out of the group.
    const MediaDescription& dc = out.media[2];
    EXPECT_EQ(dc.m.port, 0);
    EXPECT_EQ(dc.m.proto, "UDP/DTLS/SCTP");
    EXPECT_EQ(dc.m.formats, (std::vector<std::string>{"webrtc-datachannel"}));
    EXPECT_EQ(values(dc, "mid"), (std::vector<std::string>{"2"}));
    EXPECT_EQ(dc.lines.size(), 1U);
}

TEST(ImsAnswerToWebRtc, PlanIsComplete) {
    const BrowserCall call;
    const RewriteResult r = call.answer();
    ASSERT_TRUE(r.ok()) << r.reason;
    const MediaPlan& audio = r.media[0];
    EXPECT_TRUE(audio.active);
    EXPECT_EQ(audio.formats, (std::vector<std::string>{"0", "126"}));
    EXPECT_EQ(audio.access.local_port, 40000);
    EXPECT_EQ(audio.access.dtls_role, SetupRole::Passive);
    EXPECT_EQ(audio.access.remote_ice, (IceCredentials{"EsAw", "bP+XJMM09aR8AiX1jdukzR6Y"}));
    EXPECT_EQ(audio.access.remote_fingerprint->bytes().size(), 32U);
    EXPECT_EQ(audio.access.bundle_transport, 0U);
    EXPECT_EQ(audio.core.local_port, 30000);
    EXPECT_EQ(audio.core.local_rtcp_port, 30001);
    const Connection ims_host{"IN", "IP4", "10.45.0.7"};
    EXPECT_EQ(audio.core.remote_rtp, (TransportAddress{ims_host, 40010}));
    EXPECT_EQ(audio.core.remote_rtcp, (TransportAddress{ims_host, 40011}));
    EXPECT_FALSE(audio.core.rtcp_mux);
    EXPECT_EQ(audio.core.security, dpif::LegSecurity::Rtp);

    const MediaPlan& video = r.media[1];
    EXPECT_TRUE(video.active);
    EXPECT_EQ(video.access.local_port, 40000);
    EXPECT_EQ(video.access.bundle_transport, 0U);
    EXPECT_EQ(video.core.local_port, 30002);
    EXPECT_EQ(video.core.remote_rtp, (TransportAddress{ims_host, 40012}));
    EXPECT_EQ(video.core.remote_rtcp, (TransportAddress{ims_host, 40013}));  // a=rtcp, c= address
    EXPECT_FALSE(r.media[2].active);
    EXPECT_EQ(r.media[2].access.mid, "2");
}

TEST(ImsAnswerToWebRtc, VideoRejectedByImsLeavesTheGroup) {
    BrowserCall call;
    call.ims_answer.media[1].m.port = 0;
    const RewriteResult r = call.answer();
    const SessionDescription out = reparsed(r);
    EXPECT_EQ(bundle_groups(out.session)[0].mids, (std::vector<std::string>{"0"}));
    EXPECT_EQ(out.media[1].m.port, 0);
    EXPECT_EQ(out.media[1].m.proto, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(out.media[1].m.formats, call.webrtc_offer.media[1].m.formats);
    EXPECT_EQ(values(out.media[1], "mid"), (std::vector<std::string>{"1"}));
    EXPECT_EQ(out.media[1].lines.size(), 1U);
    EXPECT_FALSE(r.media[1].active);
    EXPECT_EQ(out.media[0].m.port, 40000);
}

// The IMS rejects the offer's tagged m= line (audio): video becomes the
// group's first, on its own port and with the candidate.
TEST(ImsAnswerToWebRtc, TaggedLineRejected) {
    BrowserCall call;
    call.ims_answer.media[0].m.port = 0;
    const RewriteResult r = call.answer();
    const SessionDescription out = reparsed(r);
    EXPECT_EQ(bundle_groups(out.session)[0].mids, (std::vector<std::string>{"1"}));
    EXPECT_EQ(out.media[0].m.port, 0);
    EXPECT_EQ(out.media[1].m.port, 40002);
    EXPECT_EQ(values(out.media[1], "candidate"),
              (std::vector<std::string>{"1 1 udp 2130706431 203.0.113.50 40002 typ host"}));
    EXPECT_EQ(r.media[1].access.bundle_transport, 1U);
}

TEST(ImsAnswerToWebRtc, NoBundleOffered) {
    BrowserCall call;
    call.webrtc_offer.session.remove_attributes("group");
    const RewriteResult r = call.answer();
    const SessionDescription out = reparsed(r);
    EXPECT_TRUE(bundle_groups(out.session).empty());
    EXPECT_EQ(out.media[0].m.port, 40000);
    EXPECT_EQ(out.media[1].m.port, 40002);
    EXPECT_TRUE(out.media[1].has_attribute("candidate"));
    EXPECT_FALSE(r.media[1].access.bundle_transport);
}

// BUNDLE declined (a dataplane whose sessions cannot share an access
// port): no group in the answer, each accepted m= line on its own port with
// its own candidate and transport in the plan.
TEST(ImsAnswerToWebRtc, BundleDeclined) {
    BrowserCall call;
    WebRtcSide web = web_side(3);
    web.bundle = false;
    const RewriteResult r = call.answer(web);
    const SessionDescription out = reparsed(r);
    EXPECT_TRUE(bundle_groups(out.session).empty());
    EXPECT_EQ(out.media[0].m.port, 40000);
    EXPECT_EQ(out.media[1].m.port, 40002);
    EXPECT_EQ(values(out.media[0], "candidate"),
              (std::vector<std::string>{"1 1 udp 2130706431 203.0.113.50 40000 typ host"}));
    EXPECT_EQ(values(out.media[1], "candidate"),
              (std::vector<std::string>{"1 1 udp 2130706431 203.0.113.50 40002 typ host"}));
    EXPECT_EQ(values(out.media[1], "mid"), (std::vector<std::string>{"1"}));
    EXPECT_FALSE(r.media[0].access.bundle_transport);
    EXPECT_FALSE(r.media[1].access.bundle_transport);
    EXPECT_EQ(r.media[1].access.local_port, 40002);
    EXPECT_TRUE(r.media[1].active);
}

// max-bundle: a bundle-only m= line (port 0) has no transport of its own;
// with BUNDLE declined it is rejected toward the IMS and the browser.
TEST(ImsAnswerToWebRtc, BundleOnlyLineRejectedWhenBundleDeclined) {
    SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
    offer.media[1].m.port = 0;
    offer.media[1].add_attribute("bundle-only", std::nullopt);
    ImsSide ims = ims_side(3);
    ims.bundle = false;
    const RewriteResult o = webrtc_offer_to_ims(offer, ims);
    ASSERT_TRUE(o.ok()) << o.reason;
    EXPECT_EQ(o.description.media[0].m.port, 30000);
    EXPECT_EQ(o.description.media[1].m.port, 0);
    EXPECT_FALSE(o.media[1].active);
    SessionDescription answer = parse_ok(data("ims_answer_to_chrome.sdp"));
    answer.media[1].m.port = 0;
    WebRtcSide web = web_side(3);
    web.bundle = false;
    const RewriteResult r = ims_answer_to_webrtc(offer, o.description, answer, web);
    const SessionDescription out = reparsed(r);
    EXPECT_TRUE(bundle_groups(out.session).empty());
    EXPECT_EQ(out.media[0].m.port, 40000);
    EXPECT_EQ(out.media[1].m.port, 0);
    EXPECT_FALSE(r.media[1].active);
}

TEST(ImsAnswerToWebRtc, HoldAnswerAndKeptDtlsRole) {
    BrowserCall call;
    set_direction(call.ims_answer.media[0], Direction::RecvOnly);
    WebRtcSide web = web_side(3);
    web.dtls_role = SetupRole::Active;  // the association up before this re-offer
    const RewriteResult r = call.answer(web);
    const SessionDescription out = reparsed(r);
    EXPECT_EQ(direction_of(out.media[0]), Direction::RecvOnly);
    EXPECT_EQ(values(out.media[0], "setup"), (std::vector<std::string>{"active"}));
    EXPECT_EQ(r.media[0].access.dtls_role, SetupRole::Active);
    EXPECT_EQ(r.media[0].direction, Direction::RecvOnly);
}

TEST(ImsAnswerToWebRtc, SdesKeysGoToThePlanNotTheBrowser) {
    BrowserCall call(true);
    const std::string theirs =
        "AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
    for (std::size_t i = 0; i < 2; ++i) {
        call.ims_answer.media[i].m.proto = "RTP/SAVP";
        call.ims_answer.media[i].add_attribute("crypto", "1 " + theirs + "|2^31");
    }
    const RewriteResult r = call.answer();
    const SessionDescription out = reparsed(r);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_FALSE(out.media[i].has_attribute("crypto"));
        const CorePlan& core = r.media[i].core;
        EXPECT_EQ(core.security, dpif::LegSecurity::Sdes);
        ASSERT_TRUE(core.tx && core.rx);
        EXPECT_EQ(core.tx->master_key[0], 0xA0 + i);  // ours, tag 1 of step 1
        EXPECT_EQ(dpif::format_sdes_inline(*core.rx), theirs);
    }
}

TEST(ImsAnswerToWebRtc, SdesAnswerNotMatchingOurTags) {
    BrowserCall call(true);
    call.ims_answer.media[0].m.proto = "RTP/SAVP";
    call.ims_answer.media[0].add_attribute(
        "crypto", "7 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    call.ims_answer.media[1].m.port = 0;
    EXPECT_EQ(call.answer().error, RewriteError::CryptoMismatch);
    // RTP/AVP answering RTP/SAVP breaks RFC 3264 6.
    call.ims_answer.media[0].m.proto = "RTP/AVP";
    EXPECT_EQ(call.answer().error, RewriteError::AnswerMismatch);
}

TEST(ImsAnswerToWebRtc, Refusals) {
    {
        BrowserCall call;
        call.ims_answer.media.pop_back();
        EXPECT_EQ(call.answer().error, RewriteError::AnswerMismatch);
    }
    {
        BrowserCall call;
        call.ims_answer.media[1].m.media = "audio";
        EXPECT_EQ(call.answer().error, RewriteError::AnswerMismatch);
    }
    {
        BrowserCall call;
        call.ims_answer.session.remove('c');
        EXPECT_EQ(call.answer().error, RewriteError::BadDescription);
    }
    const BrowserCall call;
    WebRtcSide web = web_side(3);
    web.fingerprint.hash_function = "sha-1";
    EXPECT_EQ(call.answer(web).error, RewriteError::MissingResource);
    web = web_side(3);
    web.ice.pwd = "short";
    EXPECT_EQ(call.answer(web).error, RewriteError::MissingResource);
    web = web_side(3);
    web.ports = {0, 40002};
    EXPECT_EQ(call.answer(web).error, RewriteError::MissingResource);
    web = web_side(3);
    web.address.address.clear();
    EXPECT_EQ(call.answer(web).error, RewriteError::MissingResource);
}

// --- step 3: IMS offers -> WebRTC offers ---

void expect_webrtc_offer(const SessionDescription& ims, const SessionDescription& out) {
    EXPECT_TRUE(is_ice_lite(out.session));
    EXPECT_EQ(out.origin(), (Origin{"-", "9031", "1", "IN", "IP4", "203.0.113.50"}));
    EXPECT_EQ(out.session.values('c'), (std::vector<std::string_view>{"IN IP4 203.0.113.50"}));
    ASSERT_EQ(out.media.size(), ims.media.size());
    for (std::size_t i = 0; i < out.media.size(); ++i) {
        const MediaDescription& m = out.media[i];
        EXPECT_EQ(m.m.media, ims.media[i].m.media);
        EXPECT_EQ(m.m.proto, "UDP/TLS/RTP/SAVPF");
        EXPECT_EQ(m.m.port, 40000 + 2 * i);
        EXPECT_EQ(mid(m), std::to_string(i));
        expect_our_transport(m, "actpass");
        EXPECT_EQ(values(m, "candidate").size(), 1U);
        EXPECT_EQ(m.m.formats, ims.media[i].m.formats);
        for (std::string_view name : {"rtpmap", "fmtp", "curr", "des", "ptime", "rtcp-fb"})
            EXPECT_EQ(values(m, name), values(ims.media[i], name)) << name;
    }
}

TEST(ImsOfferToWebRtc, Volte) {
    const SessionDescription ims = parse_ok(data("volte_offer.sdp"));
    const RewriteResult r = ims_offer_to_webrtc(ims, web_side(1));
    const SessionDescription out = reparsed(r);
    expect_webrtc_offer(ims, out);
    EXPECT_EQ(bundle_groups(out.session)[0].mids, (std::vector<std::string>{"0"}));
    EXPECT_EQ(out.session.find('s')->value, "SS VOIP");
    EXPECT_EQ(direction_of(out.media[0]), Direction::SendRecv);

    const MediaPlan& p = r.media[0];
    EXPECT_TRUE(p.active);
    EXPECT_EQ(p.access.local_port, 40000);
    EXPECT_EQ(p.access.mid, "0");
    EXPECT_FALSE(p.access.dtls_role);  // we offered actpass
    EXPECT_FALSE(p.access.remote_ice);
    const Connection ue{"IN", "IP6", "2001:db8:c0a8:1::2a"};
    EXPECT_EQ(p.core.remote_rtp, (TransportAddress{ue, 1234}));
    EXPECT_EQ(p.core.remote_rtcp, (TransportAddress{ue, 1235}));
    EXPECT_EQ(p.core.security, dpif::LegSecurity::Rtp);
    EXPECT_EQ(p.core.local_port, 0);
}

TEST(ImsOfferToWebRtc, NoBundleOfferedWhenDeclined) {
    const SessionDescription ims = parse_ok(data("vilte_offer.sdp"));
    WebRtcSide web = web_side(2);
    web.bundle = false;
    const RewriteResult r = ims_offer_to_webrtc(ims, web);
    const SessionDescription out = reparsed(r);
    EXPECT_TRUE(bundle_groups(out.session).empty());
    EXPECT_EQ(out.media[0].m.port, 40000);
    EXPECT_EQ(out.media[1].m.port, 40002);
    EXPECT_EQ(values(out.media[1], "candidate"),
              (std::vector<std::string>{"1 1 udp 2130706431 203.0.113.50 40002 typ host"}));
}

TEST(ImsOfferToWebRtc, ViltePinsSessionDirectionAndKeepsFeedback) {
    const SessionDescription ims = parse_ok(data("vilte_offer.sdp"));
    const RewriteResult r = ims_offer_to_webrtc(ims, web_side(2));
    const SessionDescription out = reparsed(r);
    expect_webrtc_offer(ims, out);
    EXPECT_EQ(bundle_groups(out.session)[0].mids, (std::vector<std::string>{"0", "1"}));
    EXPECT_FALSE(direction_of(out.session));
    EXPECT_EQ(direction_of(out.media[0]), Direction::SendRecv);  // from the session level
    EXPECT_EQ(direction_of(out.media[1]), Direction::RecvOnly);
    EXPECT_EQ(values(out.media[1], "extmap"),
              (std::vector<std::string>{"7 urn:3gpp:video-orientation"}));
    EXPECT_EQ(r.media[1].direction, Direction::RecvOnly);
    EXPECT_EQ(r.media[1].core.remote_rtcp->port, 49155);
}

TEST(ImsOfferToWebRtc, SavpKeysStayInThePlan) {
    const SessionDescription ims = parse_ok(data("ims_savp_offer.sdp"));
    const RewriteResult r = ims_offer_to_webrtc(ims, web_side(1));
    const SessionDescription out = reparsed(r);
    expect_webrtc_offer(ims, out);
    EXPECT_EQ(r.media[0].core.security, dpif::LegSecurity::Sdes);
    ASSERT_EQ(r.media[0].core.offered_crypto.size(), 4U);
    EXPECT_EQ(r.media[0].core.offered_crypto[1].suite, "AES_CM_128_HMAC_SHA1_32");
    EXPECT_EQ(r.media[0].core.remote_rtcp->port, 31001);
}

TEST(ImsOfferToWebRtc, RejectedAndUnsupportedLines) {
    SessionDescription ims = parse_ok(data("vilte_offer.sdp"));
    ims.media[1].m.port = 0;
    MediaDescription t38;
    t38.m = {"image", 49160, std::nullopt, "udptl", {"t38"}};
    t38.add_attribute("T38FaxVersion", "0");
    ims.media.push_back(t38);
    const RewriteResult r = ims_offer_to_webrtc(ims, web_side(3));
    const SessionDescription out = reparsed(r);
    EXPECT_EQ(bundle_groups(out.session)[0].mids, (std::vector<std::string>{"0"}));
    EXPECT_EQ(out.media[1].m.port, 0);
    EXPECT_EQ(out.media[1].m.proto, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(values(out.media[1], "mid"), (std::vector<std::string>{"1"}));
    EXPECT_EQ(out.media[1].lines.size(), 1U);
    EXPECT_EQ(out.media[2].m.port, 0);
    EXPECT_EQ(out.media[2].m.proto, "udptl");
    EXPECT_EQ(out.media[2].lines.size(), 1U);
    EXPECT_FALSE(r.media[1].active);
    EXPECT_FALSE(r.media[2].active);
}

TEST(ImsOfferToWebRtc, Refusals) {
    SessionDescription only_t38 = parse_ok(data("volte_offer.sdp"));
    only_t38.media[0].m = {"image", 49160, std::nullopt, "udptl", {"t38"}};
    EXPECT_EQ(ims_offer_to_webrtc(only_t38, web_side(1)).error, RewriteError::NoMedia);

    SessionDescription none = parse_ok(data("volte_offer.sdp"));
    none.media.clear();
    EXPECT_EQ(ims_offer_to_webrtc(none, web_side(1)).error, RewriteError::NoMedia);

    // Only lines the dataplane cannot key: MKI, session parameters.
    SessionDescription savp = parse_ok(data("ims_savp_offer.sdp"));
    savp.media[0].remove_attributes_if([](const Attribute& a) {
        return a.name == "crypto" && a.value &&
               (a.value->starts_with("2 ") || a.value->starts_with("3 "));
    });
    EXPECT_EQ(ims_offer_to_webrtc(savp, web_side(1)).error, RewriteError::CryptoMismatch);

    SessionDescription no_c = parse_ok(data("volte_offer.sdp"));
    no_c.session.remove('c');
    EXPECT_EQ(ims_offer_to_webrtc(no_c, web_side(1)).error, RewriteError::BadDescription);

    const SessionDescription volte = parse_ok(data("volte_offer.sdp"));
    EXPECT_EQ(ims_offer_to_webrtc(volte, web_side(0)).error, RewriteError::MissingResource);
    WebRtcSide web = web_side(1);
    web.fingerprint.value = "AB:CD";
    EXPECT_EQ(ims_offer_to_webrtc(volte, web).error, RewriteError::MissingResource);
}

}  // namespace
}  // namespace isthmus::sdp
