// The IMS-ALG rewrite of an MSRP data channel (issue 9, RFC 8873 gateway):
// the browser's m=application line with an MSRP a=dcmap goes to the IMS as
// m=message TCP/MSRP with our a=path, and the IMS's answer comes back as
// the data channel's answer with our ;dc URI; the plans carry what the
// dataplane's chat needs (dpif::MsrpSpec).
#include <gtest/gtest.h>

#include <string>

#include "sdp/rewrite.hpp"
#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

using test::parse_ok;
using test::wire;

const char* const kFp =
    "D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:"
    "E6:0F";

std::string wic_offer(const std::string& dc_extra = "") {
    return wire(std::string("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n") +
                "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\n"
                "a=ice-ufrag:EsAw\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\n"
                "a=fingerprint:sha-256 " +
                kFp +
                "\na=setup:actpass\na=mid:0\na=sendrecv\n"
                "a=rtcp-mux\na=rtpmap:111 opus/48000/2\n"
                "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\n"
                "a=ice-ufrag:Dc01\na=ice-pwd:dcpassworddcpassword0123\n"
                "a=fingerprint:sha-256 " +
                kFp +
                "\na=setup:actpass\na=mid:1\n"
                "a=sctp-port:5000\na=max-message-size:262144\n" +
                dc_extra);
}

const char* const kChatLines =
    "a=dcmap:2 label=\"chat\";subprotocol=\"MSRP\";ordered=1\n"
    "a=dcsa:2 path:msrp://wic7.invalid:9/wic7chat;dc\n"
    "a=dcsa:2 accept-types:message/cpim text/plain\n"
    "a=dcsa:2 accept-wrapped-types:*\n"
    "a=dcsa:2 setup:actpass\n"
    "a=dcsa:3 accept-types:image/png\n";

ImsSide ims_side(bool chat = true) {
    ImsSide s;
    s.origin = {"-", "8031", "1", "IN", "IP4", "198.51.100.10"};
    s.address = {"IN", "IP4", "198.51.100.10"};
    s.bundle = false;
    CoreMedia audio;
    audio.port = 30000;
    CoreMedia dc;
    dc.port = 30002;
    if (chat) dc.msrp_session_id = "gwsid01";
    s.media = {audio, dc};
    return s;
}

WebRtcSide web_side() {
    WebRtcSide w;
    w.origin = {"-", "9031", "1", "IN", "IP4", "203.0.113.50"};
    w.address = {"IN", "IP4", "203.0.113.50"};
    w.ice = {"gw01", "0123456789abcdefghijkl"};
    w.fingerprint = *parse_fingerprint(std::string("sha-256 ") + kFp);
    w.ports = {40000, 40002};
    w.bundle = false;
    return w;
}

std::string ims_answer(const std::string& msrp_extra, uint16_t port = 2855) {
    return wire(
        "v=0\no=ue 1 1 IN IP4 198.51.100.77\ns=-\nc=IN IP4 198.51.100.77\nt=0 0\n"
        "m=audio 40000 RTP/AVP 111\na=rtpmap:111 opus/48000/2\n"
        "m=message " +
        std::to_string(port) +
        " TCP/MSRP *\na=accept-types:text/plain\n"
        "a=path:msrp://198.51.100.77:2855/ue77;tcp\n" +
        msrp_extra);
}

TEST(RewriteMsrp, BrowserChatGoesToTheImsAsMessageLine) {
    const SessionDescription offer = parse_ok(wic_offer(kChatLines));
    const RewriteResult r = webrtc_offer_to_ims(offer, ims_side());
    ASSERT_TRUE(r.ok()) << r.reason;
    ASSERT_EQ(r.description.media.size(), 2U);
    const std::string text = serialize(r.description);
    EXPECT_NE(text.find("m=message 30002 TCP/MSRP *\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("a=path:msrp://198.51.100.10:30002/gwsid01;tcp\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=accept-types:message/cpim text/plain\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=accept-wrapped-types:*\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=setup:actpass\r\n"), std::string::npos);
    // Nothing of the browser's transport or its channel's own lines.
    for (const char* gone : {"dcmap", "dcsa", "sctp-port", "max-message-size", "ice-ufrag:Dc01",
                             "fingerprint", "wic7chat", "image/png"})
        EXPECT_EQ(text.find(gone), std::string::npos) << gone << "\n" << text;
    const MediaPlan& p = r.media[1];
    ASSERT_TRUE(p.msrp.has_value());
    EXPECT_TRUE(p.active);
    EXPECT_EQ(p.msrp->session_id, "gwsid01");
    EXPECT_EQ(p.msrp->stream_id, 2);
    EXPECT_EQ(p.msrp->browser_path, "msrp://wic7.invalid:9/wic7chat;dc");
    EXPECT_EQ(p.msrp->tcp_port, 30002);
    EXPECT_EQ(p.msrp->peer_max_message_size, 262144U);
    EXPECT_FALSE(p.msrp->tcp_role.has_value());  // the IMS answer decides
    ASSERT_TRUE(p.access.remote_ice.has_value());
    EXPECT_EQ(p.access.remote_ice->ufrag, "Dc01");
    EXPECT_EQ(p.access.dtls_role, SetupRole::Passive);
    EXPECT_FALSE(r.media[0].msrp.has_value());
}

TEST(RewriteMsrp, ImsAnswerComesBackAsTheDataChannelsAnswer) {
    const SessionDescription offer = parse_ok(wic_offer(kChatLines));
    const RewriteResult o = webrtc_offer_to_ims(offer, ims_side());
    ASSERT_TRUE(o.ok()) << o.reason;
    const SessionDescription answer = parse_ok(ims_answer("a=setup:active\n"));
    const RewriteResult a = ims_answer_to_webrtc(offer, o.description, answer, web_side());
    ASSERT_TRUE(a.ok()) << a.reason;
    test::expect_stable(a.description);
    const std::string text = serialize(a.description);
    EXPECT_NE(text.find("m=application 40002 UDP/DTLS/SCTP webrtc-datachannel\r\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("a=dcmap:2 label=\"chat\";subprotocol=\"MSRP\";ordered=1\r\n"),
              std::string::npos);
    EXPECT_NE(text.find("a=dcsa:2 path:msrp://203.0.113.50:40002/gwsid01;dc\r\n"),
              std::string::npos);
    EXPECT_NE(text.find("a=dcsa:2 accept-types:text/plain\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=sctp-port:5000\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=max-message-size:65536\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=candidate:1 1 udp 2130706431 203.0.113.50 40002 typ host"),
              std::string::npos);
    // The data channel's m= line: no RTP attributes, no IMS transport.
    const std::string dc = text.substr(text.find("m=application"));
    for (const char* gone : {"rtcp-mux", "a=path", "TCP/MSRP", "198.51.100.77"})
        EXPECT_EQ(dc.find(gone), std::string::npos) << gone << "\n" << dc;
    const MediaPlan& p = a.media[1];
    ASSERT_TRUE(p.msrp.has_value());
    EXPECT_TRUE(p.active);
    EXPECT_EQ(p.access.local_port, 40002);
    EXPECT_EQ(p.msrp->ue_path, "msrp://198.51.100.77:2855/ue77;tcp");
    EXPECT_EQ(p.msrp->tcp_role, SetupRole::Passive);  // the UE connects (a=setup:active)
    EXPECT_FALSE(p.msrp->ue_address.has_value());
    EXPECT_EQ(p.msrp->tcp_port, 30002);
    EXPECT_EQ(p.msrp->session_id, "gwsid01");
    EXPECT_EQ(p.msrp->max_message_size, 65536U);
    EXPECT_TRUE(a.media[0].active);
}

TEST(RewriteMsrp, OurTcpRoleFollowsTheAnswersSetup) {
    const SessionDescription offer = parse_ok(wic_offer(kChatLines));
    const RewriteResult o = webrtc_offer_to_ims(offer, ims_side());
    ASSERT_TRUE(o.ok()) << o.reason;
    // passive, or none (RFC 4975: the offerer connects): we connect to the
    // IMS side's address.
    for (const char* setup : {"a=setup:passive\n", ""}) {
        const RewriteResult a =
            ims_answer_to_webrtc(offer, o.description, parse_ok(ims_answer(setup)), web_side());
        ASSERT_TRUE(a.ok()) << a.reason;
        ASSERT_TRUE(a.media[1].msrp.has_value());
        EXPECT_EQ(a.media[1].msrp->tcp_role, SetupRole::Active) << setup;
        ASSERT_TRUE(a.media[1].msrp->ue_address.has_value());
        EXPECT_EQ(a.media[1].msrp->ue_address->connection.address, "198.51.100.77");
        EXPECT_EQ(a.media[1].msrp->ue_address->port, 2855);
    }
    const RewriteResult bad = ims_answer_to_webrtc(
        offer, o.description, parse_ok(ims_answer("a=setup:actpass\n")), web_side());
    EXPECT_EQ(bad.error, RewriteError::BadSetup) << bad.reason;
    const RewriteResult no_path = ims_answer_to_webrtc(
        offer, o.description,
        parse_ok(wire("v=0\no=ue 1 1 IN IP4 198.51.100.77\ns=-\nc=IN IP4 198.51.100.77\nt=0 0\n"
                      "m=audio 40000 RTP/AVP 111\nm=message 2855 TCP/MSRP *\n"
                      "a=accept-types:text/plain\n")),
        web_side());
    EXPECT_EQ(no_path.error, RewriteError::BadDescription) << no_path.reason;
}

TEST(RewriteMsrp, ARejectedChatStaysRejectedAndOthersAreRejectedAsBefore) {
    const SessionDescription offer = parse_ok(wic_offer(kChatLines));
    const RewriteResult o = webrtc_offer_to_ims(offer, ims_side());
    ASSERT_TRUE(o.ok()) << o.reason;
    // The IMS rejects the chat: the browser's data channel is rejected.
    const RewriteResult a =
        ims_answer_to_webrtc(offer, o.description, parse_ok(ims_answer("", 0)), web_side());
    ASSERT_TRUE(a.ok()) << a.reason;
    EXPECT_NE(serialize(a.description).find("m=application 0 UDP/DTLS/SCTP"), std::string::npos);
    EXPECT_FALSE(a.media[1].active);
    EXPECT_FALSE(a.media[1].msrp.has_value());

    // No MSRP session-id from the caller: rejected toward the IMS, as a data
    // channel always was; so is one that is not MSRP.
    const RewriteResult plain = webrtc_offer_to_ims(offer, ims_side(false));
    ASSERT_TRUE(plain.ok()) << plain.reason;
    EXPECT_NE(serialize(plain.description).find("m=application 0 UDP/DTLS/SCTP"),
              std::string::npos);
    EXPECT_FALSE(plain.media[1].msrp.has_value());
    const RewriteResult other = webrtc_offer_to_ims(
        parse_ok(wic_offer("a=dcmap:2 label=\"x\";subprotocol=\"bfcp\"\n")), ims_side());
    ASSERT_TRUE(other.ok()) << other.reason;
    EXPECT_FALSE(other.media[1].msrp.has_value());
    EXPECT_EQ(other.description.media[1].m.port, 0);
}

TEST(RewriteMsrp, ABrokenChatOfferIsRefused) {
    // No path for the MSRP stream.
    RewriteResult r = webrtc_offer_to_ims(
        parse_ok(wic_offer("a=dcmap:2 subprotocol=\"MSRP\"\na=dcsa:2 accept-types:text/plain\n")),
        ims_side());
    EXPECT_EQ(r.error, RewriteError::BadDescription);
    EXPECT_NE(r.reason.find("path"), std::string::npos) << r.reason;
    // Two MSRP channels on one m= line.
    r = webrtc_offer_to_ims(
        parse_ok(wic_offer(std::string(kChatLines) + "a=dcmap:4 subprotocol=\"msrp\"\n")),
        ims_side());
    EXPECT_EQ(r.error, RewriteError::BadDescription);
    // No DTLS fingerprint on the channel's transport.
    std::string no_fp = wic_offer(kChatLines);
    const std::size_t dc = no_fp.find("m=application");
    const std::size_t fp = no_fp.find("a=fingerprint", dc);
    no_fp.erase(fp, no_fp.find("\r\n", fp) + 2 - fp);
    r = webrtc_offer_to_ims(parse_ok(no_fp), ims_side());
    EXPECT_EQ(r.error, RewriteError::MissingFingerprint) << r.reason;
    // A chat alone (no audio) still goes to the IMS.
    std::string chat_only = wic_offer(kChatLines);
    chat_only.erase(chat_only.find("m=audio"), dc - chat_only.find("m=audio"));
    ImsSide one = ims_side();
    one.media = {one.media[1]};
    r = webrtc_offer_to_ims(parse_ok(chat_only), one);
    ASSERT_TRUE(r.ok()) << r.reason;
    EXPECT_EQ(r.description.media[0].m.media, "message");
}

// The IMS calls in with a chat (steps 3 and 4): m=message TCP/MSRP becomes
// a data channel negotiated in SDP toward the browser, the browser's answer
// becomes m=message on our core port with our ;tcp path.
std::string ims_chat_offer(const std::string& setup_line) {
    return wire(
        "v=0\no=ue 1 1 IN IP4 198.51.100.77\ns=-\nc=IN IP4 198.51.100.77\nt=0 0\n"
        "m=message 2855 TCP/MSRP *\na=accept-types:message/cpim text/plain\n"
        "a=path:msrp://198.51.100.77:2855/ue77;tcp\n" +
        setup_line);
}

TEST(RewriteMsrp, ImsOfferedChatReachesTheBrowserAsANegotiatedChannel) {
    WebRtcSide web = web_side();
    web.ports = {40002};
    web.msrp_session_ids = {"gwsid02"};
    const SessionDescription offer = parse_ok(ims_chat_offer(""));
    const RewriteResult o = ims_offer_to_webrtc(offer, web);
    ASSERT_TRUE(o.ok()) << o.reason;
    test::expect_stable(o.description);
    const std::string text = serialize(o.description);
    EXPECT_NE(text.find("m=application 40002 UDP/DTLS/SCTP webrtc-datachannel\r\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("a=dcmap:2 label=\"msrp\";subprotocol=\"MSRP\"\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=dcsa:2 path:msrp://203.0.113.50:40002/gwsid02;dc\r\n"),
              std::string::npos);
    EXPECT_NE(text.find("a=dcsa:2 accept-types:message/cpim text/plain\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=setup:actpass\r\n"), std::string::npos);
    EXPECT_EQ(text.find("rtcp-mux"), std::string::npos);
    EXPECT_EQ(text.find("TCP/MSRP"), std::string::npos);
    ASSERT_TRUE(o.media[0].msrp.has_value());
    EXPECT_EQ(o.media[0].msrp->tcp_role, SetupRole::Passive);  // the UE (offerer) connects
    EXPECT_EQ(o.media[0].msrp->ue_path, "msrp://198.51.100.77:2855/ue77;tcp");

    // The browser answers (its channel's path, DTLS active): the IMS gets
    // m=message on our core port.
    const SessionDescription answer =
        parse_ok(wire(std::string("v=0\no=- 5 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n") +
                      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\n"
                      "a=ice-ufrag:Ans1\na=ice-pwd:answerpasswordanswer0123\n"
                      "a=fingerprint:sha-256 " +
                      kFp +
                      "\na=setup:active\na=mid:0\na=sctp-port:5000\na=max-message-size:262144\n"
                      "a=dcmap:2 label=\"msrp\";subprotocol=\"MSRP\"\n"
                      "a=dcsa:2 path:msrp://wic9.invalid:9/wic9;dc\n"
                      "a=dcsa:2 accept-types:text/plain\n"));
    ImsSide ims = ims_side();
    ims.media = {ims.media[1]};
    ims.media[0].msrp_session_id = "gwsid02";
    const RewriteResult a = webrtc_answer_to_ims(offer, o.description, answer, ims);
    ASSERT_TRUE(a.ok()) << a.reason;
    test::expect_stable(a.description);
    const std::string back = serialize(a.description);
    EXPECT_NE(back.find("m=message 30002 TCP/MSRP *\r\n"), std::string::npos) << back;
    EXPECT_NE(back.find("a=path:msrp://198.51.100.10:30002/gwsid02;tcp\r\n"), std::string::npos);
    EXPECT_NE(back.find("a=setup:passive\r\n"), std::string::npos);
    EXPECT_NE(back.find("a=accept-types:text/plain\r\n"), std::string::npos);
    EXPECT_EQ(back.find("actpass"), std::string::npos);
    const MediaPlan& p = a.media[0];
    ASSERT_TRUE(p.msrp.has_value());
    EXPECT_TRUE(p.active);
    EXPECT_EQ(p.msrp->browser_path, "msrp://wic9.invalid:9/wic9;dc");
    EXPECT_EQ(p.msrp->stream_id, 2);
    EXPECT_EQ(p.msrp->tcp_role, SetupRole::Passive);
    EXPECT_EQ(p.msrp->tcp_port, 30002);
    EXPECT_EQ(p.access.dtls_role, SetupRole::Passive);  // the browser is the DTLS client
    EXPECT_EQ(p.access.local_port, 40002);
    ASSERT_TRUE(p.access.remote_ice.has_value());
    EXPECT_EQ(p.access.remote_ice->ufrag, "Ans1");
}

TEST(RewriteMsrp, ImsOfferedChatWithAPassiveUeMakesUsConnect) {
    WebRtcSide web = web_side();
    web.ports = {40002};
    web.msrp_session_ids = {"gwsid03"};
    const RewriteResult o = ims_offer_to_webrtc(parse_ok(ims_chat_offer("a=setup:passive\n")), web);
    ASSERT_TRUE(o.ok()) << o.reason;
    ASSERT_TRUE(o.media[0].msrp.has_value());
    EXPECT_EQ(o.media[0].msrp->tcp_role, SetupRole::Active);
    ASSERT_TRUE(o.media[0].msrp->ue_address.has_value());
    EXPECT_EQ(o.media[0].msrp->ue_address->port, 2855);
    // Without a session-id from the caller the chat is rejected as before.
    web.msrp_session_ids.clear();
    const RewriteResult none = ims_offer_to_webrtc(parse_ok(ims_chat_offer("")), web);
    EXPECT_EQ(none.error, RewriteError::NoMedia) << none.reason;
}

}  // namespace
}  // namespace isthmus::sdp
