// The IMS-ALG in the P-CSCF core (media_alg.hpp, issue 7): calls both ways
// at the message level, the SDP each side receives, and the dpif commands
// the core queues for the dataplane — created on the answer, updated when a
// later answer moves a leg, deleted with the dialog (BYE either way, a
// failed or cancelled INVITE, a timeout, a closed WebSocket); re-offers,
// repeats, glare, forking, late offers, resync, and refusals.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

#include "core_testing.hpp"
#include "isthmus/dpif/messages.hpp"
#include "sdp/attributes.hpp"
#include "sdp/parser.hpp"

namespace isthmus::pcscf::test {
namespace {

constexpr std::string_view kBrowserFingerprint =
    "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"
    "FF:00";
constexpr std::string_view kDataplaneFingerprint =
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:"
    "88:99";

std::string browser_offer(std::string_view direction = "sendrecv") {
    return wire(
        "v=0\n"
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1\n"
        "s=-\n"
        "t=0 0\n"
        "a=group:BUNDLE 0\n"
        "a=msid-semantic: WMS\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 126\n"
        "c=IN IP4 0.0.0.0\n"
        "a=rtcp:9 IN IP4 0.0.0.0\n"
        "a=candidate:1 1 udp 2122260223 198.51.100.7 50123 typ host generation 0\n"
        "a=ice-ufrag:brws\n"
        "a=ice-pwd:browserpassword0123456789\n"
        "a=ice-options:trickle\n"
        "a=fingerprint:sha-256 " +
        std::string(kBrowserFingerprint) +
        "\n"
        "a=setup:actpass\n"
        "a=mid:0\n"
        "a=" +
        std::string(direction) +
        "\n"
        "a=rtcp-mux\n"
        "a=rtpmap:111 opus/48000/2\n"
        "a=fmtp:111 minptime=10;useinbandfec=1\n"
        "a=rtpmap:0 PCMU/8000\n"
        "a=rtpmap:126 telephone-event/8000\n");
}

std::string browser_answer(std::string_view setup = "active") {
    return wire(
        "v=0\n"
        "o=- 7100 2 IN IP4 127.0.0.1\n"
        "s=-\n"
        "t=0 0\n"
        "a=group:BUNDLE 0\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 0 126\n"
        "c=IN IP4 0.0.0.0\n"
        "a=candidate:1 1 udp 2122260223 198.51.100.7 50123 typ host generation 0\n"
        "a=ice-ufrag:brws\n"
        "a=ice-pwd:browserpassword0123456789\n"
        "a=fingerprint:sha-256 " +
        std::string(kBrowserFingerprint) +
        "\n"
        "a=setup:" +
        std::string(setup) +
        "\n"
        "a=mid:0\n"
        "a=sendrecv\n"
        "a=rtcp-mux\n"
        "a=rtpmap:0 PCMU/8000\n"
        "a=rtpmap:126 telephone-event/8000\n");
}

std::string ims_sdp(std::string_view address = "198.18.5.20", uint16_t port = 40010,
                    std::string_view version = "1", std::string_view direction = "sendrecv") {
    return wire(
        "v=0\n"
        "o=- 1 " +
        std::string(version) + " IN IP4 " + std::string(address) +
        "\n"
        "s=-\n"
        "c=IN IP4 " +
        std::string(address) +
        "\n"
        "t=0 0\n"
        "m=audio " +
        std::to_string(port) +
        " RTP/AVP 0 126\n"
        "a=rtpmap:0 PCMU/8000\n"
        "a=rtpmap:126 telephone-event/8000\n"
        "a=" +
        std::string(direction) + "\n");
}

sdp::SessionDescription sdp_of(const Message& m) {
    EXPECT_EQ(text(m, "Content-Type"), "application/sdp");
    sdp::ParseResult r = sdp::parse_sdp(m.body);
    EXPECT_TRUE(r.ok()) << r.reason << "\n" << m.body;
    return r.description;
}

std::vector<std::string> attrs(const sdp::Section& s, std::string_view name) {
    std::vector<std::string> out;
    for (const sdp::Attribute& a : s.attributes(name))
        out.emplace_back(a.value.value_or(""));
    return out;
}

std::string ip_of(const dpif::IpEndpoint& ep) {
    char buf[64] = {};
    ::inet_ntop(ep.family == 6 ? AF_INET6 : AF_INET, ep.addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ep.port);
}

// A browser video m= line for BUNDLE tests (mid 1, VP8 96 and its RTX 97).
std::string browser_video(std::string_view setup = "actpass") {
    return wire(
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97\n"
        "c=IN IP4 0.0.0.0\n"
        "a=ice-ufrag:brws\n"
        "a=ice-pwd:browserpassword0123456789\n"
        "a=fingerprint:sha-256 " +
        std::string(kBrowserFingerprint) +
        "\n"
        "a=setup:" +
        std::string(setup) +
        "\n"
        "a=mid:1\n"
        "a=sendrecv\n"
        "a=rtcp-mux\n"
        "a=rtpmap:96 VP8/90000\n"
        "a=rtpmap:97 rtx/90000\n"
        "a=fmtp:97 apt=96\n");
}

std::string with_group(std::string sdp, std::string_view group) {
    const std::string from = "a=group:BUNDLE 0\r\n";
    const auto at = sdp.find(from);
    if (at == std::string::npos) throw std::logic_error("no group");
    sdp.replace(at, from.size(), "a=group:" + std::string(group) + "\r\n");
    return sdp;
}

std::string ims_video(uint16_t port = 40020, std::string_view formats = "96 97") {
    return wire("m=video " + std::to_string(port) + " RTP/AVP " + std::string(formats) +
                "\n"
                "a=rtpmap:96 VP8/90000\n"
                "a=rtpmap:97 rtx/90000\n"
                "a=fmtp:97 apt=96\n"
                "a=sendrecv\n");
}

std::vector<uint8_t> pts_of(const dpif::BundleSpec& b) {
    return {b.payload_types, b.payload_types + b.pt_count};
}

class CoreMediaTest : public CoreFixture {
  protected:
    CoreMediaTest() {
        // The S-CSCF by the address its Record-Route names.
        config.static_routes.push_back(StaticRoute{"198.18.0.11", std::nullopt, scscf()});
        config.media.enabled = true;
        config.media.access_address = "198.18.7.1";
        config.media.core_address = "198.18.8.1";
        config.media.access_ports = {20000, 20019};
        config.media.core_ports = {30000, 30019};
        config.media.workers = 2;
        config.media.max_calls_per_flow = 16;
        config.media.secret_random = [n = uint8_t{0}](uint8_t* out, std::size_t len) mutable {
            for (std::size_t i = 0; i < len; ++i)
                out[i] = n++;
        };
        make_core();
        core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
        commands();  // the first resync
        register_flow();
    }

    // The one output that is not a 100 Trying (an INVITE's server
    // transaction sends one first).
    static Sent main_output(const std::vector<Sent>& out) {
        std::vector<Sent> rest;
        for (const Sent& s : out)
            if (s.msg.status_code != 100) rest.push_back(s);
        return only(rest);
    }

    // The one output toward the browser (a non-2xx final also makes the
    // ACK toward the IMS).
    static Message to_browser(const std::vector<Sent>& out) {
        std::vector<Sent> rest;
        for (const Sent& s : out)
            if (s.to.transport == Transport::Wss) rest.push_back(s);
        return only(rest).msg;
    }

    std::vector<dpif::Command> commands() {
        std::vector<dpif::Command> out;
        while (auto c = core->poll_command())
            out.push_back(*c);
        return out;
    }
    const MediaAlg& alg() const {
        const MediaAlg* a = core->media();
        if (a == nullptr) throw std::logic_error("media disabled");
        return *a;
    }

    Message invite_from_browser(std::string body, std::string_view branch = "z9hG4bK-inv1") {
        Message m = browser_request("INVITE", branch, 1, "call-1");
        m.add("Contact", "<" + std::string(kContact) + ">");
        m.add("Content-Type", "application/sdp");
        m.body = std::move(body);
        return m;
    }
    Message invite_from_ims(std::string body) {
        Message m = ims_request("INVITE", "z9hG4bK-ims-inv1");
        m.add("Contact", "<sip:bob@198.18.5.20:5070>");
        m.add("Record-Route", "<sip:198.18.0.11:5060;lr>");
        if (!body.empty()) {
            m.add("Content-Type", "application/sdp");
            m.body = std::move(body);
        }
        return m;
    }
    static Message with_sdp(Message m, std::string body) {
        m.add("Content-Type", "application/sdp");
        m.body = std::move(body);
        return m;
    }

    // The browser calls bob: the INVITE as the IMS got it.
    Message call_out() {
        const Sent fwd = main_output(feed(invite_from_browser(browser_offer()), browser()));
        return fwd.msg;
    }
    // The IMS's 200 with SDP to `invite`, relayed to the browser.
    Message answer_from_ims(const Message& invite, uint16_t code = 200,
                            std::string_view tag = "ims-tag", std::string body = ims_sdp()) {
        Message r =
            with_sdp(response_to(invite, code, code == 200 ? "OK" : "Session Progress", tag),
                     std::move(body));
        r.add("Contact", "<sip:bob@198.18.5.20:5070>");
        return only(feed(r, scscf())).msg;
    }
    // A re-INVITE of the browser's confirmed call (to-tag ims-tag), routed
    // as its route set says.
    Message reinvite_from_browser(std::string body, std::string_view branch = "z9hG4bK-reinv",
                                  uint32_t cseq = 2) {
        Message m = invite_from_browser(std::move(body), branch);
        m.set("To", "<sip:bob@ims.example.net>;tag=ims-tag");
        m.set("CSeq", std::to_string(cseq) + " INVITE");
        m.add("Route", "<sip:" + token() + "@pcscf.example.net:443;transport=ws;lr>");
        m.add("Route", "<sip:198.18.0.1:5060;lr>");
        m.add("Route", "<sip:198.18.0.11:5060;lr>");
        return m;
    }
    // An IMS re-INVITE of the browser's call (call-1, to-tag ue-tag).
    // The browser's 200 (browser_answer(), her Contact) to an INVITE the
    // IMS sent her: what reached the IMS.
    Sent browser_answers(const Message& invite) {
        Message ok = with_sdp(response_to(invite, 200, "OK", "ue-tag2"), browser_answer());
        ok.add("Contact", "<" + std::string(kContact) + ">");
        return only(feed(ok, browser()));
    }
    // invite_from_ims as call `n` of a test (its own Call-ID and branch).
    Message nth_invite_from_ims(int n, std::string body) {
        Message m = invite_from_ims(std::move(body));
        m.set("Call-ID", "ims-call-n" + std::to_string(n));
        std::string via = std::string(text(m, "Via"));
        via.replace(via.find("z9hG4bK-ims-inv1"), 16, "z9hG4bK-ims-n" + std::to_string(n) + "xx");
        m.set("Via", via);
        return m;
    }
    Message ims_reinvite(std::string body) {
        Message m = invite_from_ims(std::move(body));
        m.set("Call-ID", "call-1");
        m.set("From", "<sip:bob@ims.example.net>;tag=ims-tag");
        m.set("To", "<sip:alice@ims.example.net>;tag=ue-tag");
        m.set("Route", "<sip:198.18.0.1:5060;lr>");
        m.add("Route", w2_rr());
        m.remove("Record-Route");
        return m;
    }
    // A BYE for the browser's call from the browser.
    Message bye_from_browser(std::string_view to_tag = "ims-tag") {
        Message m = browser_request("BYE", "z9hG4bK-bye1", 2, "call-1");
        m.set("To", "<sip:bob@ims.example.net>;tag=" + std::string(to_tag));
        m.add("Route", "<sip:" + token() + "@pcscf.example.net:443;transport=ws;lr>");
        m.add("Route", "<sip:198.18.0.1:5060;lr>");
        m.add("Route", "<sip:198.18.0.11:5060;lr>");
        return m;
    }
};

TEST_F(CoreMediaTest, BrowserCallsTheOfferBecomesRtpAvpOnOurCorePorts) {
    const Message inv = call_out();
    const sdp::SessionDescription ims = sdp_of(inv);
    ASSERT_EQ(ims.media.size(), 1u);
    EXPECT_EQ(ims.media[0].m.proto, "RTP/AVP");
    EXPECT_GE(ims.media[0].m.port, 30000);
    EXPECT_LE(ims.media[0].m.port, 30019);
    EXPECT_EQ(ims.media[0].m.port % 2, 0);
    EXPECT_EQ(ims.session.find('c')->value, "IN IP4 198.18.8.1");
    EXPECT_TRUE(attrs(ims.media[0], "ice-ufrag").empty());
    EXPECT_TRUE(attrs(ims.media[0], "fingerprint").empty());
    EXPECT_TRUE(attrs(ims.session, "group").empty());
    EXPECT_EQ(ims.media[0].m.formats, (std::vector<std::string>{"111", "0", "126"}));
    // Nothing for the dataplane before the answer; the ports are held.
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().calls(), 1u);
    EXPECT_EQ(alg().ports().in_use(), 1u);
}

TEST_F(CoreMediaTest, AnswerProgramsTheDataplaneAndTheBrowserGetsIceLiteAndOurFingerprint) {
    const Message inv = call_out();
    const uint16_t core_port = sdp_of(inv).media[0].m.port;
    const Message ok = answer_from_ims(inv);
    const sdp::SessionDescription web = sdp_of(ok);
    EXPECT_EQ(attrs(web.session, "ice-lite").size(), 1u);
    ASSERT_EQ(web.media.size(), 1u);
    const auto& m = web.media[0];
    EXPECT_EQ(m.m.proto, "UDP/TLS/RTP/SAVPF");
    EXPECT_GE(m.m.port, 20000);
    EXPECT_LE(m.m.port, 20019);
    EXPECT_EQ(attrs(m, "fingerprint"),
              (std::vector<std::string>{"sha-256 " + std::string(kDataplaneFingerprint)}));
    EXPECT_EQ(attrs(m, "setup"), (std::vector<std::string>{"passive"}));
    EXPECT_EQ(attrs(m, "candidate"),
              (std::vector<std::string>{"1 1 udp 2130706431 198.18.7.1 " +
                                        std::to_string(m.m.port) + " typ host"}));
    // The browser's BUNDLE group of one m= line, accepted (RFC 8843 7.3).
    EXPECT_EQ(attrs(web.session, "group"), (std::vector<std::string>{"BUNDLE 0"}));
    const auto ufrag = attrs(m, "ice-ufrag");
    const auto pwd = attrs(m, "ice-pwd");
    ASSERT_EQ(ufrag.size(), 1u);
    ASSERT_EQ(pwd.size(), 1u);

    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    const dpif::Command& c = cmds[0];
    EXPECT_EQ(c.hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_NE(c.hdr.session_id, 0u);
    EXPECT_EQ(ip_of(c.access.local), "198.18.7.1:" + std::to_string(m.m.port));
    EXPECT_EQ(c.access.remote.family, 0);  // learned from ICE
    EXPECT_EQ(c.access.security, dpif::LegSecurity::DtlsSrtp);
    EXPECT_EQ(c.access.rtcp_mux, 1);
    EXPECT_EQ(c.access.dtls_active, 0);
    EXPECT_EQ(std::string(c.access.ice_ufrag), ufrag[0]);
    EXPECT_EQ(std::string(c.access.ice_pwd), pwd[0]);
    EXPECT_EQ(std::string(c.access.remote_ufrag), "brws");
    EXPECT_EQ(c.access.remote_fingerprint[0], 0x11);
    EXPECT_EQ(c.access.remote_fingerprint[31], 0x00);
    EXPECT_EQ(ip_of(c.core.local), "198.18.8.1:" + std::to_string(core_port));
    EXPECT_EQ(ip_of(c.core.local_rtcp), "198.18.8.1:" + std::to_string(core_port + 1));
    EXPECT_EQ(ip_of(c.core.remote), "198.18.5.20:40010");
    EXPECT_EQ(ip_of(c.core.remote_rtcp), "198.18.5.20:40011");
    EXPECT_EQ(c.core.security, dpif::LegSecurity::Rtp);
    // Both legs on one worker (docs/dataplane.md "Ownership").
    EXPECT_EQ((c.access.local.port / 2) % 2, (c.core.local.port / 2) % 2);
    EXPECT_EQ(c.bundle.transport, 0u);  // a transport of one m= line is an ordinary session
    // Neither side declared a bandwidth: both legs policed at the audio floor.
    EXPECT_EQ(c.police_kbps[0], 200u);
    EXPECT_EQ(c.police_kbps[1], 200u);
    EXPECT_EQ(alg().sessions(), 1u);
}

// docs/pcscf.md "Media policing": what the browser may send is what the IMS
// side declared it receives (b=AS x 150 %, above the floor), and the other
// way round; a re-answer with another b=AS updates the session; an answer
// that changes nothing sends nothing.
TEST_F(CoreMediaTest, TheOtherSidesBandwidthPolicesEachLeg) {
    const auto with_as = [](std::string sdp, std::string_view as) {
        const std::size_t m = sdp.find("m=audio");
        const std::size_t eol = sdp.find("\r\n", m);
        return sdp.insert(eol + 2, "b=AS:" + std::string(as) + "\r\n");
    };
    const Message inv = call_out();
    answer_from_ims(inv, 200, "ims-tag", with_as(ims_sdp(), "300"));
    auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].police_kbps[0], 450u);  // the browser may send 300 x 150 %
    EXPECT_EQ(cmds[0].police_kbps[1], 200u);  // the IMS: the browser declared none
    // b=AS under the floor (PCMU under b=AS:41, as some UEs write it): the floor.
    const Message reinvite = reinvite_from_browser(browser_offer());
    const Sent fwd = main_output(feed(reinvite, browser()));
    only(feed(with_sdp(response_to(fwd.msg, 200, "OK"),
                       with_as(ims_sdp("198.18.5.20", 40010, "2"), "41")),
              scscf()));
    cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(cmds[0].police_kbps[0], 200u);
    EXPECT_EQ(cmds[0].police_kbps[1], 200u);
    // The resync after a dataplane restart carries the rates.
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
    cmds = commands();
    ASSERT_EQ(cmds.size(), 3u);
    EXPECT_EQ(cmds[1].police_kbps[0], 200u);
    EXPECT_EQ(cmds[1].police_kbps[1], 200u);
}

TEST_F(CoreMediaTest, PolicingOffOrOtherFloors) {
    config.media.police.audio_kbps = 96;
    config.media.police.percent = 200;
    make_core();
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
    commands();
    register_flow();
    std::string ims = ims_sdp();
    ims.insert(ims.find("m=audio"), "b=AS:64\r\n");  // the session's b=AS bounds its lines
    answer_from_ims(call_out(), 200, "ims-tag", ims);
    auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].police_kbps[0], 128u);  // 64 x 200 %
    EXPECT_EQ(cmds[0].police_kbps[1], 96u);

    config.media.police.enabled = false;
    make_core();
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
    commands();
    register_flow();
    answer_from_ims(call_out(), 200, "ims-tag", ims);
    cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].police_kbps[0], 0u);
    EXPECT_EQ(cmds[0].police_kbps[1], 0u);
}

TEST_F(CoreMediaTest, SameAnswerAgainIsTheSameBytesAndNoCommand) {
    const Message inv = call_out();
    const Message early = answer_from_ims(inv, 183);
    EXPECT_EQ(commands().size(), 1u);
    const Message ok = answer_from_ims(inv, 200);
    EXPECT_EQ(ok.body, early.body);
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().stats()[MediaCounter::Repeats], 1u);
}

TEST_F(CoreMediaTest, ByeFromTheBrowserDeletesTheSessionAndFreesThePorts) {
    const Message inv = call_out();
    answer_from_ims(inv);
    const auto created = commands();
    ASSERT_EQ(created.size(), 1u);
    only(feed(bye_from_browser(), browser()));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(cmds[0].hdr.session_id, created[0].hdr.session_id);
    EXPECT_EQ(alg().calls(), 0u);
    EXPECT_EQ(alg().sessions(), 0u);
    EXPECT_EQ(alg().ports().in_use(), 0u);
}

TEST_F(CoreMediaTest, ByeFromTheImsDeletesTheSession) {
    const Message inv = call_out();
    answer_from_ims(inv);
    commands();
    Message bye = ims_request("BYE", "z9hG4bK-ims-bye");
    bye.set("Call-ID", "call-1");
    bye.set("From", "<sip:bob@ims.example.net>;tag=ims-tag");
    bye.set("To", "<sip:alice@ims.example.net>;tag=ue-tag");
    bye.set("Route", "<sip:198.18.0.1:5060;lr>");
    bye.add("Route", w2_rr());
    only(feed(bye, scscf()));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(alg().calls(), 0u);
}

TEST_F(CoreMediaTest, ImsCallsTheBrowserGetsAWebRtcOfferAndItsAnswerGoesBackAsRtpAvp) {
    const Sent to_browser = main_output(feed(invite_from_ims(ims_sdp()), scscf()));
    const sdp::SessionDescription offer = sdp_of(to_browser.msg);
    ASSERT_EQ(offer.media.size(), 1u);
    EXPECT_EQ(offer.media[0].m.proto, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(attrs(offer.media[0], "setup"), (std::vector<std::string>{"actpass"}));
    EXPECT_EQ(attrs(offer.session, "ice-lite").size(), 1u);
    EXPECT_EQ(attrs(offer.session, "group"), (std::vector<std::string>{"BUNDLE 0"}));
    // The session comes with the offer: the browser checks our candidate
    // while it makes its answer. Its access leg awaits that answer.
    auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(cmds[0].access.awaiting_answer, 1);
    EXPECT_EQ(cmds[0].access.security, dpif::LegSecurity::DtlsSrtp);
    EXPECT_EQ(ip_of(cmds[0].access.local), "198.18.7.1:" + std::to_string(offer.media[0].m.port));
    EXPECT_EQ(std::string(cmds[0].access.ice_ufrag), attrs(offer.media[0], "ice-ufrag").at(0));
    EXPECT_EQ(std::string(cmds[0].access.ice_pwd), attrs(offer.media[0], "ice-pwd").at(0));
    EXPECT_EQ(cmds[0].access.remote_ufrag[0], '\0');
    EXPECT_EQ(cmds[0].core.local.family, 0) << "no core leg before the answer";
    EXPECT_EQ(alg().sessions(), 1u);

    const Sent to_ims = browser_answers(to_browser.msg);
    const sdp::SessionDescription ans = sdp_of(to_ims.msg);
    ASSERT_EQ(ans.media.size(), 1u);
    EXPECT_EQ(ans.media[0].m.proto, "RTP/AVP");
    EXPECT_EQ(ans.session.find('c')->value, "IN IP4 198.18.8.1");
    EXPECT_TRUE(attrs(ans.media[0], "ice-ufrag").empty());

    // The answer completes it.
    cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(cmds[0].access.awaiting_answer, 0);
    EXPECT_NE(cmds[0].access.remote_ufrag[0], '\0');
    EXPECT_EQ(cmds[0].access.dtls_active, 0);  // the browser is active
    EXPECT_EQ(ip_of(cmds[0].core.remote), "198.18.5.20:40010");
    EXPECT_EQ(ip_of(cmds[0].core.local), "198.18.8.1:" + std::to_string(ans.media[0].m.port));
    EXPECT_EQ(ip_of(cmds[0].access.local), "198.18.7.1:" + std::to_string(offer.media[0].m.port));
    EXPECT_EQ(alg().sessions(), 1u);
}

// The sessions made with an IMS offer go with it: the browser refuses the
// call, or its WebSocket closes before it answers.
TEST_F(CoreMediaTest, SessionsAwaitingTheBrowsersAnswerGoWhenItNeverComes) {
    for (int variant = 0; variant < 2; ++variant) {
        SCOPED_TRACE(variant == 0 ? "486 from the browser" : "WebSocket closed");
        const Sent to_browser = main_output(feed(nth_invite_from_ims(variant, ims_sdp()), scscf()));
        auto cmds = commands();
        ASSERT_EQ(cmds.size(), 1u);
        ASSERT_EQ(cmds[0].access.awaiting_answer, 1);
        const uint64_t id = cmds[0].hdr.session_id;
        if (variant == 0) {
            feed(response_to(to_browser.msg, 486, "Busy Here", "ue-tag2"), browser());
        } else {
            close_flow(42);
        }
        cmds = commands();
        ASSERT_EQ(cmds.size(), 1u);
        EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
        EXPECT_EQ(cmds[0].hdr.session_id, id);
        EXPECT_EQ(alg().calls(), 0u);
        EXPECT_EQ(alg().sessions(), 0u);
        EXPECT_EQ(alg().ports().in_use(), 0u);
        if (variant == 0) drain();
    }
}

// An IMS re-offer adding video to an audio call: the new line's session
// awaits the browser's answer on its own port; refused, it goes, and the
// audio's stays as it was.
TEST_F(CoreMediaTest, AnImsReOfferAddingALineAwaitsTheAnswerForThatLineOnly) {
    answer_from_ims(call_out());
    const auto created = commands();
    ASSERT_EQ(created.size(), 1u);
    const Sent re =
        main_output(feed(ims_reinvite(ims_sdp("198.18.5.20", 40010, "2") + ims_video()), scscf()));
    const sdp::SessionDescription reoffer = sdp_of(re.msg);
    ASSERT_EQ(reoffer.media.size(), 2u);
    auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(cmds[0].hdr.session_id, created[0].hdr.session_id + 1);
    EXPECT_EQ(cmds[0].access.awaiting_answer, 1);
    EXPECT_EQ(cmds[0].access.local.port, reoffer.media[1].m.port);
    EXPECT_EQ(alg().sessions(), 2u);
    feed(response_to(re.msg, 488, "Not Acceptable Here", "ue-tag"), browser());
    cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(cmds[0].hdr.session_id, created[0].hdr.session_id + 1);
    EXPECT_EQ(alg().sessions(), 1u);
    EXPECT_EQ(alg().calls(), 1u);
}

// The same re-offer answered: her 200 (the dialog's, with her To tag)
// completes the video line's session.
TEST_F(CoreMediaTest, AnImsReOfferAddingALineIsCompletedByHerAnswer) {
    answer_from_ims(call_out());
    const auto created = commands();
    ASSERT_EQ(created.size(), 1u);
    const uint64_t video = created[0].hdr.session_id + 1;
    const Sent re =
        main_output(feed(ims_reinvite(ims_sdp("198.18.5.20", 40010, "2") + ims_video()), scscf()));
    ASSERT_EQ(commands().size(), 1u);  // the video's, awaiting
    Message ok = with_sdp(response_to(re.msg, 200, "OK", "ue-tag"),
                          browser_answer() + browser_video("active"));
    ok.add("Contact", "<" + std::string(kContact) + ">");
    only(feed(ok, browser()));
    const auto cmds = commands();
    bool completed = false;
    for (const dpif::Command& c : cmds) {
        EXPECT_NE(c.hdr.type, dpif::MsgType::SessionCreate);
        EXPECT_NE(c.hdr.type, dpif::MsgType::SessionDelete);
        if (c.hdr.session_id != video) continue;
        EXPECT_EQ(c.hdr.type, dpif::MsgType::SessionUpdate);
        EXPECT_EQ(c.access.awaiting_answer, 0);
        EXPECT_NE(c.access.remote_ufrag[0], '\0');
        EXPECT_EQ(ip_of(c.core.remote), "198.18.5.20:40020");
        completed = true;
    }
    EXPECT_TRUE(completed) << cmds.size() << " commands";
    EXPECT_EQ(alg().sessions(), 2u);
}

TEST_F(CoreMediaTest, BrowserAnsweringPassiveMakesTheDataplaneActive) {
    const Sent to_browser = main_output(feed(invite_from_ims(ims_sdp()), scscf()));
    Message ok =
        with_sdp(response_to(to_browser.msg, 200, "OK", "ue-tag2"), browser_answer("passive"));
    only(feed(ok, browser()));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);  // created with the offer, completed by the answer
    EXPECT_EQ(cmds[1].hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(cmds[1].access.dtls_active, 1);
}

TEST_F(CoreMediaTest, CancelledCallEndsWithoutSessions) {
    const Message inv = call_out();
    answer_from_ims(inv, 183);  // early media: a session
    ASSERT_EQ(commands().size(), 1u);
    Message cancel = browser_request("CANCEL", "z9hG4bK-inv1", 1, "call-1");
    feed(cancel, browser());
    EXPECT_EQ(to_browser(feed(response_to(inv, 487, "Request Terminated"), scscf())).status_code,
              487);
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(alg().calls(), 0u);
    EXPECT_EQ(alg().ports().in_use(), 0u);
}

TEST_F(CoreMediaTest, RejectedCallFreesItsPorts) {
    const Message inv = call_out();
    EXPECT_EQ(to_browser(feed(response_to(inv, 486, "Busy Here"), scscf())).status_code, 486);
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().calls(), 0u);
    EXPECT_EQ(alg().ports().in_use(), 0u);
}

TEST_F(CoreMediaTest, UnansweredCallEndsAtTimerB) {
    call_out();
    run_until(40000);  // Timer B (64*T1) without any response
    EXPECT_EQ(alg().calls(), 0u);
    EXPECT_EQ(alg().ports().in_use(), 0u);
}

TEST_F(CoreMediaTest, ClosedWebSocketDeletesItsCallsSessions) {
    const Message inv = call_out();
    answer_from_ims(inv);
    ASSERT_EQ(commands().size(), 1u);
    close_flow(42);
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(alg().calls(), 0u);
    EXPECT_EQ(alg().sessions(), 0u);
}

// TS 24.229 5.2.8.1.2: the browser is gone mid-call; the P-CSCF ends its
// dialog toward the IMS with a BYE on its behalf (route set without our own
// entries, the IMS party's Contact, a CSeq above the browser's).
TEST_F(CoreMediaTest, ClosedWebSocketByesTheImsSideOfAnOriginatingCall) {
    const Message inv = call_out();
    Message ok = with_sdp(response_to(inv, 200, "OK"), ims_sdp());
    ok.add("Contact", "<sip:bob@198.18.5.20:5070;transport=udp>");
    ok.add("Record-Route", "<sip:198.18.0.11:5060;lr>");
    for (std::string_view rr : inv.headers("Record-Route"))
        ok.add("Record-Route", rr);
    only(feed(ok, scscf()));
    commands();
    const auto out = close_flow(42);
    std::vector<Sent> byes;
    for (const Sent& s : out)
        if (s.msg.method == "BYE") byes.push_back(s);
    const Sent bye = only(byes);
    EXPECT_EQ(bye.to, scscf());
    EXPECT_EQ(sip::to_string(bye.msg.request_uri), "sip:bob@198.18.5.20:5070;transport=udp");
    EXPECT_EQ(values(bye.msg, "Route"), (std::vector<std::string>{"<sip:198.18.0.11:5060;lr>"}));
    EXPECT_EQ(text(bye.msg, "From"), "<sip:alice@ims.example.net>;tag=ue-tag");
    EXPECT_EQ(text(bye.msg, "To"), "<sip:bob@ims.example.net>;tag=ims-tag");
    EXPECT_EQ(text(bye.msg, "Call-ID"), "call-1");
    EXPECT_EQ(text(bye.msg, "CSeq"), "2 BYE");
    EXPECT_NE(text(bye.msg, "Reason").find("cause=480"), std::string::npos);
    EXPECT_EQ(values(bye.msg, "Via").size(), 1u);
    EXPECT_EQ(stats().byes_sent, 1u);
    // Its 200 stops here.
    EXPECT_TRUE(feed(response_to(bye.msg, 200, "OK"), scscf()).empty());
    EXPECT_EQ(alg().calls(), 0u);
}

TEST_F(CoreMediaTest, ClosedWebSocketByesTheImsSideOfATerminatingCall) {
    const Sent to_browser = main_output(feed(invite_from_ims(ims_sdp()), scscf()));
    browser_answers(to_browser.msg);
    const auto out = close_flow(42);
    std::vector<Sent> byes;
    for (const Sent& s : out)
        if (s.msg.method == "BYE") byes.push_back(s);
    const Sent bye = only(byes);
    EXPECT_EQ(sip::to_string(bye.msg.request_uri), "sip:bob@198.18.5.20:5070");
    EXPECT_EQ(values(bye.msg, "Route"), (std::vector<std::string>{"<sip:198.18.0.11:5060;lr>"}));
    EXPECT_EQ(text(bye.msg, "From"), "<sip:alice@ims.example.net>;tag=ue-tag2");
    EXPECT_EQ(text(bye.msg, "To"), "<sip:bob@ims.example.net>;tag=bob-tag");
    EXPECT_EQ(text(bye.msg, "Call-ID"), "ims-call-1");
    EXPECT_EQ(text(bye.msg, "CSeq"), "1 BYE");
}

// An unanswered call is CANCELled instead (the proxy's own rule), no BYE.
TEST_F(CoreMediaTest, ClosedWebSocketDuringAnEarlyCallSendsNoBye) {
    const Message inv = call_out();
    answer_from_ims(inv, 183);
    const auto out = close_flow(42);
    for (const Sent& s : out)
        EXPECT_NE(s.msg.method, "BYE");
    EXPECT_EQ(stats().byes_sent, 0u);
}

// Media that cannot flow ends a confirmed call: a BYE to each side.
class CoreMediaFailureTest : public CoreMediaTest {
  protected:
    // A confirmed originating call; returns its session id.
    uint64_t confirmed_call() {
        const Message inv = call_out();
        Message ok = with_sdp(response_to(inv, 200, "OK"), ims_sdp());
        ok.add("Contact", "<sip:bob@198.18.5.20:5070>");
        ok.add("Record-Route", "<sip:198.18.0.11:5060;lr>");
        for (std::string_view rr : inv.headers("Record-Route"))
            ok.add("Record-Route", rr);
        only(feed(ok, scscf()));
        const auto cmds = commands();
        EXPECT_EQ(cmds.size(), 1u);
        return cmds.empty() ? 0 : cmds[0].hdr.session_id;
    }
    std::vector<Sent> event(dpif::MsgType type, uint64_t session, dpif::ResultCode result,
                            std::string_view detail, dpif::MsgType answers = {}) {
        dpif::Event ev{};
        ev.hdr.type = type;
        ev.hdr.session_id = session;
        ev.hdr.reserved = static_cast<uint32_t>(answers);
        ev.result = result;
        std::memcpy(ev.detail, detail.data(), std::min(detail.size(), sizeof ev.detail - 1));
        core->on_dataplane_event(ev, at(now_ms));
        return drain();
    }
    // `deleted`: the session existed and is deleted (not after a refused create).
    void expect_byes_both_ways(const std::vector<Sent>& out, bool deleted = true,
                               std::string_view cause = "cause=503") {
        std::vector<Sent> byes;
        for (const Sent& s : out)
            if (s.msg.method == "BYE") byes.push_back(s);
        ASSERT_EQ(byes.size(), 2u);
        const Sent& to_browser = byes[0].to.transport == Transport::Wss ? byes[0] : byes[1];
        const Sent& to_ims = byes[0].to.transport == Transport::Wss ? byes[1] : byes[0];
        EXPECT_EQ(to_browser.to, browser());
        EXPECT_EQ(sip::to_string(to_browser.msg.request_uri), kContact);
        EXPECT_EQ(text(to_browser.msg, "From"), "<sip:bob@ims.example.net>;tag=ims-tag");
        EXPECT_EQ(text(to_browser.msg, "To"), "<sip:alice@ims.example.net>;tag=ue-tag");
        EXPECT_EQ(text(to_browser.msg, "CSeq"), "1 BYE");
        EXPECT_TRUE(values(to_browser.msg, "Route").empty());
        EXPECT_EQ(to_ims.to, scscf());
        EXPECT_EQ(text(to_ims.msg, "From"), "<sip:alice@ims.example.net>;tag=ue-tag");
        EXPECT_EQ(text(to_ims.msg, "CSeq"), "2 BYE");
        EXPECT_NE(text(to_ims.msg, "Reason").find(cause), std::string::npos);
        const auto cmds = commands();
        ASSERT_EQ(cmds.size(), deleted ? 1u : 0u);
        if (deleted) {
            EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
        }
        EXPECT_EQ(alg().calls(), 0u);
        EXPECT_EQ(alg().sessions(), 0u);
        EXPECT_EQ(alg().stats()[MediaCounter::MediaFailedCalls], 1u);
    }
};

TEST_F(CoreMediaFailureTest, SessionTheDataplaneRefusesEndsTheCall) {
    const uint64_t id = confirmed_call();
    expect_byes_both_ways(event(dpif::MsgType::Result, id, dpif::ResultCode::TableFull, "",
                                dpif::MsgType::SessionCreate),
                          false);
    EXPECT_EQ(alg().stats()[MediaCounter::DataplaneRefused], 1u);
}

// A refused update leaves the session as it was: no BYE.
TEST_F(CoreMediaFailureTest, RefusedUpdateKeepsTheCall) {
    const uint64_t id = confirmed_call();
    EXPECT_TRUE(event(dpif::MsgType::Result, id, dpif::ResultCode::BadParams, "",
                      dpif::MsgType::SessionUpdate)
                    .empty());
    EXPECT_EQ(alg().calls(), 1u);
    EXPECT_EQ(alg().sessions(), 1u);
}

// The browser answered an IMS offer, but the dataplane refused the update
// completing the session that awaited it (no SRTP context left): that leg
// can carry no media, so the confirmed call ends (BYEs both ways). Once an
// update was taken, a later refusal leaves the call as it was.
TEST_F(CoreMediaFailureTest, ARefusedCompletionEndsTheCallAnAcceptedOneDoesNot) {
    int n = 0;
    for (const dpif::ResultCode first : {dpif::ResultCode::TableFull, dpif::ResultCode::Ok}) {
        SCOPED_TRACE(dpif::result_name(first));
        const Sent to_browser = main_output(feed(nth_invite_from_ims(n++, ims_sdp()), scscf()));
        browser_answers(to_browser.msg);
        const auto cmds = commands();
        ASSERT_EQ(cmds.size(), 2u);
        ASSERT_EQ(cmds[1].hdr.type, dpif::MsgType::SessionUpdate);
        const uint64_t id = cmds[1].hdr.session_id;
        std::vector<Sent> out =
            event(dpif::MsgType::Result, id, first, "", dpif::MsgType::SessionUpdate);
        if (first == dpif::ResultCode::Ok) {
            EXPECT_TRUE(out.empty());
            out = event(dpif::MsgType::Result, id, dpif::ResultCode::BadParams, "",
                        dpif::MsgType::SessionUpdate);
            EXPECT_TRUE(out.empty());
            EXPECT_TRUE(commands().empty());
            EXPECT_EQ(alg().calls(), 1u);
            EXPECT_EQ(alg().sessions(), 1u);
            continue;
        }
        std::size_t byes = 0;
        for (const Sent& s : out)
            byes += s.msg.method == "BYE" ? 1U : 0U;
        EXPECT_EQ(byes, 2u);
        const auto deleted = commands();
        ASSERT_EQ(deleted.size(), 1u);
        EXPECT_EQ(deleted[0].hdr.type, dpif::MsgType::SessionDelete);
        EXPECT_EQ(deleted[0].hdr.session_id, id);
        EXPECT_EQ(alg().calls(), 0u);
        EXPECT_EQ(alg().sessions(), 0u);
        EXPECT_EQ(alg().stats()[MediaCounter::MediaFailedCalls], 1u);
    }
}

// An IMS re-offer adds video, fails, and adds it again: the same session id
// created twice. The first create's refusal, come late, is not the second
// one's: the call still deletes that session at its end.
TEST_F(CoreMediaFailureTest, ALateRefusalOfAnEarlierCreateLeavesTheLatestAlone) {
    const uint64_t audio = confirmed_call();
    const uint64_t video = audio + 1;
    const auto reoffer = [&](int n) {
        Message m =
            ims_reinvite(ims_sdp("198.18.5.20", 40010, std::to_string(2 + n)) + ims_video());
        std::string via = std::string(text(m, "Via"));
        via.replace(via.find("z9hG4bK-ims-inv1"), 16, "z9hG4bK-ims-re" + std::to_string(n) + "x");
        m.set("Via", via);
        m.set("CSeq", std::to_string(8 + n) + " INVITE");
        return main_output(feed(m, scscf())).msg;
    };
    const Message first = reoffer(0);
    auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.session_id, video);
    feed(response_to(first, 488, "Not Acceptable Here", "ue-tag"), browser());
    drain();
    ASSERT_EQ(commands().size(), 1u);  // its delete
    reoffer(1);
    cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(cmds[0].hdr.session_id, video);
    // The first create's refusal comes now.
    EXPECT_TRUE(event(dpif::MsgType::Result, video, dpif::ResultCode::TableFull, "",
                      dpif::MsgType::SessionCreate)
                    .empty());
    EXPECT_EQ(alg().sessions(), 2u);
    only(feed(bye_from_browser(), browser()));
    cmds = commands();
    ASSERT_EQ(cmds.size(), 2u) << "both sessions deleted";
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(cmds[1].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(cmds[1].hdr.session_id, video);
    EXPECT_EQ(alg().sessions(), 0u);
}

// A resync while the completion is on the ring re-creates the session
// whole: a later refusal of an update is an ordinary one.
TEST_F(CoreMediaFailureTest, AResyncSendsACompletionWhole) {
    const Sent to_browser = main_output(feed(invite_from_ims(ims_sdp()), scscf()));
    browser_answers(to_browser.msg);
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);
    const uint64_t id = cmds[1].hdr.session_id;
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
    drain();
    const auto resync = commands();
    ASSERT_EQ(resync.size(), 3u);
    EXPECT_EQ(resync[1].hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(resync[1].hdr.session_id, id);
    EXPECT_EQ(resync[1].access.awaiting_answer, 0);
    EXPECT_NE(resync[1].core.local.family, 0);
    EXPECT_TRUE(event(dpif::MsgType::Result, id, dpif::ResultCode::BadParams, "",
                      dpif::MsgType::SessionUpdate)
                    .empty());
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().calls(), 1u);
}

// Early media refused: the 200 with the same SDP makes the session again.
TEST_F(CoreMediaFailureTest, EarlySessionRefusedIsMadeAgainByTheNextAnswer) {
    const Message inv = call_out();
    answer_from_ims(inv, 183);
    const auto first = commands();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_TRUE(event(dpif::MsgType::Result, first[0].hdr.session_id, dpif::ResultCode::TableFull,
                      "", dpif::MsgType::SessionCreate)
                    .empty());
    EXPECT_EQ(alg().sessions(), 0u);
    answer_from_ims(inv, 200);
    const auto again = commands();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(alg().sessions(), 1u);
}

// A new dataplane process: the confirmed call is ended (BYEs), not resynced.
TEST_F(CoreMediaFailureTest, RestartedDataplaneEndsConfirmedCalls) {
    confirmed_call();
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms), true);
    std::vector<Sent> byes;
    for (const Sent& s : drain())
        if (s.msg.method == "BYE") byes.push_back(s);
    EXPECT_EQ(byes.size(), 2u);
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);  // an empty resync
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::ResyncBegin);
    EXPECT_EQ(cmds[1].hdr.type, dpif::MsgType::ResyncEnd);
    EXPECT_EQ(alg().calls(), 0u);
}

TEST_F(CoreMediaFailureTest, FailedDtlsHandshakeEndsTheCall) {
    const uint64_t id = confirmed_call();
    expect_byes_both_ways(
        event(dpif::MsgType::DtlsFailed, id, dpif::ResultCode::Ok, "access fingerprint mismatch"));
    EXPECT_EQ(alg().stats()[MediaCounter::DtlsFailed], 1u);
    EXPECT_EQ(alg().stats()[MediaCounter::DtlsClosed], 0u);
}

TEST_F(CoreMediaFailureTest, DtlsClosedAfterItWasUpIsLeftToTheBrowser) {
    const uint64_t id = confirmed_call();
    EXPECT_TRUE(
        event(dpif::MsgType::DtlsFailed, id, dpif::ResultCode::Ok, "access closed: close_notify")
            .empty());
    EXPECT_TRUE(
        event(dpif::MsgType::Result, id, dpif::ResultCode::Ok, "", dpif::MsgType::SessionCreate)
            .empty());
    EXPECT_EQ(alg().calls(), 1u);
    EXPECT_TRUE(commands().empty());
    // Counted as a close, not as a failure.
    EXPECT_EQ(alg().stats()[MediaCounter::DtlsClosed], 1u);
    EXPECT_EQ(alg().stats()[MediaCounter::DtlsFailed], 0u);
}

// Media inactivity: the dataplane reports a session that relayed nothing
// for [dataplane] media_timeout_s (SessionIdle); a confirmed call none of
// whose sessions relays is ended with BYEs both ways.
TEST_F(CoreMediaFailureTest, AConfirmedCallWhoseOnlySessionIsIdleEnds) {
    const uint64_t id = confirmed_call();
    const auto out = event(dpif::MsgType::SessionIdle, id, dpif::ResultCode::Ok, "access");
    expect_byes_both_ways(out, true, "cause=408");
    for (const Sent& s : out) {  // RFC 3326: why
        if (s.msg.method == "BYE") {
            EXPECT_EQ(text(s.msg, "Reason"), "SIP;cause=408;text=\"Media timeout\"");
        }
    }
    EXPECT_EQ(alg().stats()[MediaCounter::SessionsIdle], 1u);
    EXPECT_EQ(alg().stats()[MediaCounter::MediaTimeouts], 1u);
}

TEST_F(CoreMediaFailureTest, ACallEndsOnlyWhenAllItsSessionsAreIdle) {
    // Audio and video: two m= lines (video not in the BUNDLE group), two sessions.
    const std::string video = browser_video();
    const Message inv =
        main_output(feed(invite_from_browser(browser_offer() + video), browser())).msg;
    ASSERT_EQ(sdp_of(inv).media.size(), 2u);
    Message ok = with_sdp(response_to(inv, 200, "OK"), ims_sdp() + ims_video(40020, "96"));
    ok.add("Contact", "<sip:bob@198.18.5.20:5070>");
    ok.add("Record-Route", "<sip:198.18.0.11:5060;lr>");
    for (std::string_view rr : inv.headers("Record-Route"))
        ok.add("Record-Route", rr);
    only(feed(ok, scscf()));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);
    const uint64_t audio = cmds[0].hdr.session_id;
    const uint64_t vid = cmds[1].hdr.session_id;
    // Video idle (the camera off): nothing ends.
    EXPECT_TRUE(event(dpif::MsgType::SessionIdle, vid, dpif::ResultCode::Ok, "access").empty());
    // Audio idle, then active again before the video went quiet for good.
    EXPECT_TRUE(event(dpif::MsgType::SessionActive, vid, dpif::ResultCode::Ok, "access").empty());
    EXPECT_TRUE(event(dpif::MsgType::SessionIdle, audio, dpif::ResultCode::Ok, "access").empty());
    EXPECT_EQ(alg().calls(), 1u);
    // Both idle: the call is over, both sessions deleted.
    std::size_t byes = 0;
    for (const Sent& out : event(dpif::MsgType::SessionIdle, vid, dpif::ResultCode::Ok, "access"))
        if (out.msg.method == "BYE") ++byes;
    EXPECT_EQ(byes, 2u);
    const auto deletes = commands();
    ASSERT_EQ(deletes.size(), 2u);
    EXPECT_EQ(deletes[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(deletes[1].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(alg().stats()[MediaCounter::MediaTimeouts], 1u);
    EXPECT_EQ(alg().calls(), 0u);
}

TEST_F(CoreMediaFailureTest, EventsForAnEndedCallAreIgnored) {
    const uint64_t id = confirmed_call();
    only(feed(bye_from_browser(), browser()));
    commands();
    EXPECT_TRUE(
        event(dpif::MsgType::DtlsFailed, id, dpif::ResultCode::Ok, "access handshake timeout")
            .empty());
    EXPECT_EQ(alg().stats()[MediaCounter::MediaFailedCalls], 0u);
}

TEST_F(CoreMediaTest, ABrowsersBundleIsAnsweredAndItsMLinesShareOneTransport) {
    const std::string offer = with_group(browser_offer() + browser_video(), "BUNDLE 0 1");
    const Message inv = main_output(feed(invite_from_browser(offer), browser())).msg;
    const sdp::SessionDescription ims = sdp_of(inv);
    ASSERT_EQ(ims.media.size(), 2u);
    EXPECT_TRUE(attrs(ims.session, "group").empty());  // no BUNDLE into the IMS
    EXPECT_NE(ims.media[0].m.port, ims.media[1].m.port);
    // Both m= lines' ports on one worker.
    EXPECT_EQ((ims.media[0].m.port / 2) % 2, (ims.media[1].m.port / 2) % 2);

    const Message ok = answer_from_ims(inv, 200, "ims-tag", ims_sdp() + ims_video());
    const sdp::SessionDescription web = sdp_of(ok);
    ASSERT_EQ(web.media.size(), 2u);
    EXPECT_EQ(attrs(web.session, "group"), (std::vector<std::string>{"BUNDLE 0 1"}));
    EXPECT_EQ(web.media[0].m.port, web.media[1].m.port);  // the BUNDLE address
    EXPECT_EQ(attrs(web.media[0], "candidate").size(), 1u);
    EXPECT_TRUE(attrs(web.media[1], "candidate").empty());

    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);
    const dpif::Command& t = cmds[0];
    const dpif::Command& v = cmds[1];
    EXPECT_EQ(t.hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(v.hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(t.bundle.transport, t.hdr.session_id);
    EXPECT_EQ(pts_of(t.bundle), (std::vector<uint8_t>{0, 126}));
    EXPECT_EQ(t.access.local.port, web.media[0].m.port);
    EXPECT_EQ(t.access.security, dpif::LegSecurity::DtlsSrtp);
    EXPECT_EQ(v.bundle.transport, t.hdr.session_id);
    EXPECT_EQ(pts_of(v.bundle), (std::vector<uint8_t>{96, 97}));
    static const dpif::LegSpec kUnset{};
    EXPECT_EQ(std::memcmp(&v.access, &kUnset, sizeof kUnset), 0);  // the transport's
    EXPECT_EQ(ip_of(v.core.local), "198.18.8.1:" + std::to_string(ims.media[1].m.port));
    EXPECT_EQ(ip_of(v.core.remote), "198.18.5.20:40020");
    EXPECT_EQ(alg().sessions(), 2u);

    // The BYE deletes both.
    main_output(feed(bye_from_browser(), browser()));
    const auto dels = commands();
    ASSERT_EQ(dels.size(), 2u);
    EXPECT_EQ(dels[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(dels[1].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(alg().sessions(), 0u);
}

TEST_F(CoreMediaTest, TheTransportIsCreatedFirstWhateverItsIndexAndOnEveryResync) {
    // The group names video first: its m= line is the BUNDLE-tagged one.
    const std::string offer = with_group(browser_offer() + browser_video(), "BUNDLE 1 0");
    const Message inv = main_output(feed(invite_from_browser(offer), browser())).msg;
    const Message ok = answer_from_ims(inv, 200, "ims-tag", ims_sdp() + ims_video());
    EXPECT_EQ(attrs(sdp_of(ok).session, "group"), (std::vector<std::string>{"BUNDLE 1 0"}));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);
    const uint64_t video = cmds[0].hdr.session_id;
    EXPECT_EQ(video & 31, 1u);
    EXPECT_EQ(cmds[0].bundle.transport, video);
    EXPECT_EQ(cmds[1].bundle.transport, video);
    EXPECT_EQ(cmds[1].access.local.family, 0);
    // A re-attachment re-sends them in the same order.
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
    const auto resync = commands();
    ASSERT_EQ(resync.size(), 4u);  // ResyncBegin, two creates, ResyncEnd
    EXPECT_EQ(resync[1].hdr.session_id, video);
    EXPECT_EQ(resync[2].bundle.transport, video);
    EXPECT_NE(resync[2].hdr.session_id, video);
}

TEST_F(CoreMediaTest, AnImsOfferGoesToTheBrowserBundledAndItsAnswerTiesTheSessions) {
    const Sent to_browser = main_output(feed(invite_from_ims(ims_sdp() + ims_video()), scscf()));
    const sdp::SessionDescription offer = sdp_of(to_browser.msg);
    ASSERT_EQ(offer.media.size(), 2u);
    EXPECT_EQ(attrs(offer.session, "group"), (std::vector<std::string>{"BUNDLE 0 1"}));
    EXPECT_NE(offer.media[0].m.port, offer.media[1].m.port);  // RFC 8843 7.2: unique
    // Each m= line's session awaits the answer on its own port (the
    // browser may check either before it answers).
    auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(cmds[i].hdr.type, dpif::MsgType::SessionCreate);
        EXPECT_EQ(cmds[i].access.awaiting_answer, 1);
        EXPECT_EQ(cmds[i].access.local.port, offer.media[i].m.port);
        EXPECT_EQ(cmds[i].bundle.transport, 0u);
    }

    // The browser bundles both on the first m= line's transport.
    std::string answer = with_group(browser_answer() + browser_video("active"), "BUNDLE 0 1");
    Message ok = with_sdp(response_to(to_browser.msg, 200, "OK", "ue-tag2"), answer);
    ok.add("Contact", "<" + std::string(kContact) + ">");
    only(feed(ok, browser()));
    cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(cmds[1].hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(cmds[0].access.awaiting_answer, 0);
    EXPECT_EQ(cmds[0].bundle.transport, cmds[0].hdr.session_id);
    EXPECT_EQ(cmds[0].access.local.port, offer.media[0].m.port);
    EXPECT_EQ(cmds[1].bundle.transport, cmds[0].hdr.session_id);
    EXPECT_EQ(cmds[1].access.local.family, 0);
    EXPECT_EQ(pts_of(cmds[1].bundle), (std::vector<uint8_t>{96, 97}));
}

TEST_F(CoreMediaTest, AnImsOfferWhoseMLinesShareAPayloadTypeIsNotBundled) {
    // AMR-WB and H.264 both on 96, as two VoLTE UEs' defaults might be.
    const std::string audio96 = wire(
        "v=0\n"
        "o=- 1 1 IN IP4 198.18.5.20\n"
        "s=-\n"
        "c=IN IP4 198.18.5.20\n"
        "t=0 0\n"
        "m=audio 40010 RTP/AVP 96\n"
        "a=rtpmap:96 AMR-WB/16000\n");
    const std::string video96 = wire(
        "m=video 40020 RTP/AVP 96\n"
        "a=rtpmap:96 H264/90000\n");
    const Sent to_browser = main_output(feed(invite_from_ims(audio96 + video96), scscf()));
    const sdp::SessionDescription offer = sdp_of(to_browser.msg);
    ASSERT_EQ(offer.media.size(), 2u);
    EXPECT_TRUE(attrs(offer.session, "group").empty());
}

TEST_F(CoreMediaTest, ASecondBundledVideoLineWithTheSamePayloadTypesIsRejected) {
    // Camera and screen: two video m= lines of one group, both VP8 96/97.
    std::string screen = browser_video();
    screen.replace(screen.find("a=mid:1"), 7, "a=mid:2");
    const std::string offer =
        with_group(browser_offer() + browser_video() + screen, "BUNDLE 0 1 2");
    const Message inv = main_output(feed(invite_from_browser(offer), browser())).msg;
    const sdp::SessionDescription ims = sdp_of(inv);
    ASSERT_EQ(ims.media.size(), 3u);
    EXPECT_NE(ims.media[1].m.port, 0);
    EXPECT_EQ(ims.media[2].m.port, 0);  // rejected toward the IMS
    EXPECT_EQ(alg().stats()[MediaCounter::BundleRejected], 1u);
    const Message ok = answer_from_ims(inv, 200, "ims-tag",
                                       ims_sdp() + ims_video() + wire("m=video 0 RTP/AVP 96\n"));
    const sdp::SessionDescription web = sdp_of(ok);
    ASSERT_EQ(web.media.size(), 3u);
    EXPECT_EQ(web.media[2].m.port, 0);  // and in the answer
    EXPECT_EQ(attrs(web.session, "group"), (std::vector<std::string>{"BUNDLE 0 1"}));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);
    EXPECT_EQ(pts_of(cmds[1].bundle), (std::vector<uint8_t>{96, 97}));
    EXPECT_EQ(alg().stats()[MediaCounter::BundleConflicts], 0u);
}

TEST_F(CoreMediaTest, AnImsReOfferInABundledCallKeepsTheTransportAndItsPort) {
    // The browser tagged video (index 1): its session is the transport.
    const std::string offer = with_group(browser_offer() + browser_video(), "BUNDLE 1 0");
    const Message inv = main_output(feed(invite_from_browser(offer), browser())).msg;
    const Message ok = answer_from_ims(inv, 200, "ims-tag", ims_sdp() + ims_video());
    const uint16_t bundle_port = sdp_of(ok).media[1].m.port;
    const auto created = commands();
    ASSERT_EQ(created.size(), 2u);
    const uint64_t transport = created[0].hdr.session_id;
    EXPECT_EQ(transport & 31, 1u);
    // bob holds: the IMS re-offers both m= lines sendonly.
    const Sent re = main_output(
        feed(ims_reinvite(ims_sdp("198.18.5.20", 40010, "2", "sendonly") + ims_video()), scscf()));
    const sdp::SessionDescription reoffer = sdp_of(re.msg);
    ASSERT_EQ(reoffer.media.size(), 2u);
    EXPECT_EQ(attrs(reoffer.session, "group"), (std::vector<std::string>{"BUNDLE 0 1"}));
    // Both on the BUNDLE address the browser has (RFC 8843 7.5).
    EXPECT_EQ(reoffer.media[0].m.port, bundle_port);
    EXPECT_EQ(reoffer.media[1].m.port, bundle_port);
    // Her answer tags audio now; the transport stays where it is.
    std::string answer = with_group(browser_answer() + browser_video("active"), "BUNDLE 0 1");
    Message ans = with_sdp(response_to(re.msg, 200, "OK", "ue-tag"), answer);
    ans.add("Contact", "<" + std::string(kContact) + ">");
    only(feed(ans, browser()));
    for (const dpif::Command& c : commands()) {
        EXPECT_NE(c.hdr.type, dpif::MsgType::SessionCreate);
        EXPECT_NE(c.hdr.type, dpif::MsgType::SessionDelete);
        EXPECT_EQ(c.bundle.transport, transport) << c.hdr.session_id;
        if (c.hdr.session_id == transport) {
            EXPECT_EQ(c.access.local.port, bundle_port);
        }
    }
}

TEST_F(CoreMediaTest, AnImsReOfferLineABundleCouldNotTellApartIsRejected) {
    const std::string offer = with_group(browser_offer() + browser_video(), "BUNDLE 0 1");
    const Message inv = main_output(feed(invite_from_browser(offer), browser())).msg;
    answer_from_ims(inv, 200, "ims-tag", ims_sdp() + ims_video());
    commands();
    // The re-offer puts PCMU's 0 on the video line too: the video line goes
    // to the browser rejected, the call goes on.
    const Sent r = main_output(
        feed(ims_reinvite(ims_sdp("198.18.5.20", 40010, "2") + ims_video(40020, "96 0")), scscf()));
    ASSERT_EQ(r.msg.method, "INVITE");
    const sdp::SessionDescription reoffer = sdp_of(r.msg);
    ASSERT_EQ(reoffer.media.size(), 2u);
    EXPECT_NE(reoffer.media[0].m.port, 0);
    EXPECT_EQ(reoffer.media[1].m.port, 0);
    EXPECT_EQ(alg().stats()[MediaCounter::BundleRejected], 1u);
    EXPECT_EQ(alg().calls(), 1u);
}

TEST_F(CoreMediaTest, ABrowserReOfferDroppingTheTransportsLineIsRefused) {
    const std::string offer = with_group(browser_offer() + browser_video(), "BUNDLE 0 1");
    const Message inv = main_output(feed(invite_from_browser(offer), browser())).msg;
    answer_from_ims(inv, 200, "ims-tag", ims_sdp() + ims_video());
    commands();
    // Audio (the transport's line) stopped, video kept.
    std::string reoffer = with_group(browser_offer() + browser_video(), "BUNDLE 1");
    reoffer.replace(reoffer.find("m=audio 9 "), 10, "m=audio 0 ");
    const Sent r = main_output(feed(reinvite_from_browser(reoffer), browser()));
    EXPECT_EQ(r.msg.status_code, 488);
    EXPECT_EQ(alg().stats()[MediaCounter::BundleRejected], 1u);
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().sessions(), 2u);
}

TEST_F(CoreMediaTest, AnImsAnswerRenumberingOntoAnotherLinesPayloadTypeLosesThatLine) {
    const std::string offer = with_group(browser_offer() + browser_video(), "BUNDLE 0 1");
    const Message inv = main_output(feed(invite_from_browser(offer), browser())).msg;
    // The IMS answers video with PT 0 (renumbered; PCMU's on the audio line).
    const Message ok = answer_from_ims(inv, 200, "ims-tag",
                                       ims_sdp() + wire("m=video 40020 RTP/AVP 0\n"
                                                        "a=rtpmap:0 VP8/90000\n"));
    const sdp::SessionDescription web = sdp_of(ok);
    ASSERT_EQ(web.media.size(), 2u);
    EXPECT_EQ(web.media[1].m.port, 0);
    EXPECT_EQ(attrs(web.session, "group"), (std::vector<std::string>{"BUNDLE 0"}));
    EXPECT_EQ(alg().stats()[MediaCounter::BundleConflicts], 1u);
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].bundle.transport, 0u);  // audio alone: an ordinary session
}

TEST_F(CoreMediaTest, ABundleOnlyLineGetsItsPortsAndIsBundled) {
    // max-bundle (RFC 8843 6): the later line with port 0 and bundle-only.
    std::string video = browser_video();
    video.replace(video.find("m=video 9 "), 10, "m=video 0 ");
    video += "a=bundle-only\r\n";
    const std::string offer = with_group(browser_offer() + video, "BUNDLE 0 1");
    const Message inv = main_output(feed(invite_from_browser(offer), browser())).msg;
    const sdp::SessionDescription ims = sdp_of(inv);
    ASSERT_EQ(ims.media.size(), 2u);
    EXPECT_NE(ims.media[1].m.port, 0);
    answer_from_ims(inv, 200, "ims-tag", ims_sdp() + ims_video());
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);
    EXPECT_EQ(cmds[1].bundle.transport, cmds[0].hdr.session_id);
}

TEST_F(CoreMediaTest, MLinesWhoseTransportCannotBeProgrammedAreNot) {
    // The tagged audio line's IMS address is a name, not an IP literal: its
    // session cannot be made, so neither can the video's on it.
    const std::string offer = with_group(browser_offer() + browser_video(), "BUNDLE 0 1");
    const Message inv = main_output(feed(invite_from_browser(offer), browser())).msg;
    std::string ims = ims_sdp() + wire(
                                      "m=video 40020 RTP/AVP 96 97\n"
                                      "c=IN IP4 198.18.5.21\n"
                                      "a=rtpmap:96 VP8/90000\n"
                                      "a=rtpmap:97 rtx/90000\n");
    ims.replace(ims.find("c=IN IP4 198.18.5.20"), 20, "c=IN IP4 bob.example");
    answer_from_ims(inv, 200, "ims-tag", ims);
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().sessions(), 0u);
    EXPECT_EQ(alg().stats()[MediaCounter::BadRemote], 1u);
    EXPECT_EQ(alg().stats()[MediaCounter::BundleTransportLost], 1u);
}

TEST_F(CoreMediaTest, HoldByReInviteKeepsPortsAndTheSession) {
    const Message inv = call_out();
    const uint16_t core_port = sdp_of(inv).media[0].m.port;
    answer_from_ims(inv);
    commands();
    const Message reinvite = reinvite_from_browser(browser_offer("sendonly"));
    const Sent fwd = main_output(feed(reinvite, browser()));
    const sdp::SessionDescription ims = sdp_of(fwd.msg);
    EXPECT_EQ(ims.media[0].m.port, core_port);
    EXPECT_EQ(sdp::direction_of(ims.media[0]), sdp::Direction::SendOnly);
    Message ok =
        with_sdp(response_to(fwd.msg, 200, "OK"), ims_sdp("198.18.5.20", 40010, "2", "recvonly"));
    const Sent back = only(feed(ok, scscf()));
    EXPECT_EQ(sdp::direction_of(sdp_of(back.msg).media[0]), sdp::Direction::RecvOnly);
    // Same legs: nothing to tell the dataplane.
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().sessions(), 1u);
    EXPECT_EQ(alg().ports().in_use(), 1u);
}

TEST_F(CoreMediaTest, FailedReInviteLeavesTheCallAsItWas) {
    const Message inv = call_out();
    answer_from_ims(inv);
    commands();
    Message reinvite = invite_from_browser(browser_offer("sendonly"), "z9hG4bK-reinv");
    reinvite.set("To", "<sip:bob@ims.example.net>;tag=ims-tag");
    reinvite.set("CSeq", "2 INVITE");
    reinvite.add("Route", "<sip:198.18.0.1:5060;lr>");
    reinvite.add("Route", "<sip:198.18.0.11:5060;lr>");
    const Sent fwd = main_output(feed(reinvite, browser()));
    EXPECT_EQ(
        to_browser(feed(response_to(fwd.msg, 488, "Not Acceptable Here"), scscf())).status_code,
        488);
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().calls(), 1u);
    EXPECT_EQ(alg().sessions(), 1u);
}

TEST_F(CoreMediaTest, ImsMovingItsMediaUpdatesTheSession) {
    const Message inv = call_out();
    answer_from_ims(inv, 183, "fork-a", ims_sdp("198.18.5.20", 40010));
    ASSERT_EQ(commands().size(), 1u);
    // A second early dialog (forking) answers from elsewhere, then confirms.
    answer_from_ims(inv, 183, "fork-b", ims_sdp("198.18.5.30", 41000, "7"));
    auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(ip_of(cmds[0].core.remote), "198.18.5.30:41000");
    answer_from_ims(inv, 200, "fork-b", ims_sdp("198.18.5.30", 41000, "7"));
    EXPECT_TRUE(commands().empty());
    // The BYE of the confirmed dialog ends the call.
    only(feed(bye_from_browser("fork-b"), browser()));
    cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
}

TEST_F(CoreMediaTest, LateOfferInTheBrowsersAnswerAndTheAnswerInTheAck) {
    const Sent to_browser = main_output(feed(invite_from_ims(""), scscf()));
    EXPECT_TRUE(to_browser.msg.body.empty());
    // The browser offers in its 200; the IMS answers in the ACK.
    Message ok = with_sdp(response_to(to_browser.msg, 200, "OK", "ue-tag2"), browser_offer());
    const Sent to_ims = only(feed(ok, browser()));
    const sdp::SessionDescription offer = sdp_of(to_ims.msg);
    EXPECT_EQ(offer.media[0].m.proto, "RTP/AVP");
    EXPECT_TRUE(commands().empty());
    Message ack = ims_request("ACK", "z9hG4bK-ims-ack");
    ack.set("CSeq", "7 ACK");
    ack.set("To", "<sip:alice@ims.example.net>;tag=ue-tag2");
    ack.set("Route", "<sip:198.18.0.1:5060;lr>");
    ack.add("Route", w2_rr());
    ack = with_sdp(ack, ims_sdp());
    const Sent ack_out = only(feed(ack, scscf()));
    const sdp::SessionDescription answer = sdp_of(ack_out.msg);
    EXPECT_EQ(answer.media[0].m.proto, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(attrs(answer.media[0], "setup"), (std::vector<std::string>{"passive"}));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionCreate);
}

// 100rel (RFC 3262) and UPDATE (RFC 3311): the answer in a reliable 183,
// a PRACK without SDP, an UPDATE re-offer answered in its 200, a 200 to
// the INVITE without SDP.
TEST_F(CoreMediaTest, ReliableEarlyAnswerThenUpdateBeforeTheCallIsAnswered) {
    const Message inv = call_out();
    const uint16_t core_port = sdp_of(inv).media[0].m.port;
    Message early = with_sdp(response_to(inv, 183, "Session Progress"), ims_sdp());
    early.add("Require", "100rel");
    early.add("RSeq", "1");
    early.add("Contact", "<sip:bob@198.18.5.20:5070>");
    const Sent to_browser = only(feed(early, scscf()));
    EXPECT_EQ(text(to_browser.msg, "Require"), "100rel");
    EXPECT_EQ(sdp_of(to_browser.msg).media[0].m.proto, "UDP/TLS/RTP/SAVPF");
    ASSERT_EQ(commands().size(), 1u);

    Message prack = browser_request("PRACK", "z9hG4bK-prack", 2, "call-1");
    prack.set("To", "<sip:bob@ims.example.net>;tag=ims-tag");
    prack.add("RAck", "1 1 INVITE");
    prack.add("Route", "<sip:198.18.0.1:5060;lr>");
    prack.add("Route", "<sip:198.18.0.11:5060;lr>");
    const Sent prack_out = only(feed(prack, browser()));
    EXPECT_EQ(prack_out.msg.method, "PRACK");
    EXPECT_TRUE(prack_out.msg.body.empty());
    only(feed(response_to(prack_out.msg, 200, "OK"), scscf()));

    Message update = browser_request("UPDATE", "z9hG4bK-upd", 3, "call-1");
    update.set("To", "<sip:bob@ims.example.net>;tag=ims-tag");
    update.add("Route", "<sip:198.18.0.1:5060;lr>");
    update.add("Route", "<sip:198.18.0.11:5060;lr>");
    update = with_sdp(update, browser_offer("sendonly"));
    const Sent upd_out = only(feed(update, browser()));
    const sdp::SessionDescription re = sdp_of(upd_out.msg);
    EXPECT_EQ(re.media[0].m.proto, "RTP/AVP");
    EXPECT_EQ(re.media[0].m.port, core_port);
    EXPECT_EQ(sdp::direction_of(re.media[0]), sdp::Direction::SendOnly);
    // The IMS answers from elsewhere: the session follows.
    Message upd_ok = with_sdp(response_to(upd_out.msg, 200, "OK"),
                              ims_sdp("198.18.5.40", 42000, "2", "recvonly"));
    const Sent upd_back = only(feed(upd_ok, scscf()));
    EXPECT_EQ(sdp::direction_of(sdp_of(upd_back.msg).media[0]), sdp::Direction::RecvOnly);
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(ip_of(cmds[0].core.remote), "198.18.5.40:42000");

    // The 200 to the INVITE carries no SDP (the exchange was done).
    Message ok = response_to(inv, 200, "OK");
    ok.add("Contact", "<sip:bob@198.18.5.20:5070>");
    const Sent ok_out = only(feed(ok, scscf()));
    EXPECT_TRUE(ok_out.msg.body.empty());
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().calls(), 1u);
    EXPECT_EQ(alg().sessions(), 1u);
}

// The IMS calls without SDP; the browser offers in a reliable 180 and the
// IMS answers in the PRACK.
TEST_F(CoreMediaTest, OfferInAReliableProvisionalAnswerInThePrack) {
    const Sent to_browser = main_output(feed(invite_from_ims(""), scscf()));
    Message ringing =
        with_sdp(response_to(to_browser.msg, 180, "Ringing", "ue-tag2"), browser_offer());
    ringing.add("Require", "100rel");
    ringing.add("RSeq", "1");
    const Sent to_ims = only(feed(ringing, browser()));
    EXPECT_EQ(sdp_of(to_ims.msg).media[0].m.proto, "RTP/AVP");
    Message prack = ims_request("PRACK", "z9hG4bK-ims-prack");
    prack.set("CSeq", "8 PRACK");
    prack.set("To", "<sip:alice@ims.example.net>;tag=ue-tag2");
    prack.set("Route", "<sip:198.18.0.1:5060;lr>");
    prack.add("Route", w2_rr());
    prack.add("RAck", "1 7 INVITE");
    prack = with_sdp(prack, ims_sdp());
    const Sent prack_out = main_output(feed(prack, scscf()));
    EXPECT_EQ(prack_out.msg.method, "PRACK");
    const sdp::SessionDescription answer = sdp_of(prack_out.msg);
    EXPECT_EQ(answer.media[0].m.proto, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(attrs(answer.media[0], "setup"), (std::vector<std::string>{"passive"}));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(ip_of(cmds[0].core.remote), "198.18.5.20:40010");
}

// DTMF (RFC 4733): telephone-event keeps its payload type both ways; the
// dataplane relays payload types unchanged.
TEST_F(CoreMediaTest, TelephoneEventPassesBothWays) {
    const Message inv = call_out();
    EXPECT_EQ(attrs(sdp_of(inv).media[0], "rtpmap")[2], "126 telephone-event/8000");
    const sdp::SessionDescription web = sdp_of(answer_from_ims(inv));
    EXPECT_EQ(web.media[0].m.formats, (std::vector<std::string>{"0", "126"}));
    EXPECT_EQ(attrs(web.media[0], "rtpmap")[1], "126 telephone-event/8000");
}

// The 200 again (UDP retransmission) after the exchange closed: the same
// answer bytes, nothing programmed, and the call's next re-offer is an offer.
TEST_F(CoreMediaTest, RetransmittedTwoHundredIsTheSameAnswer) {
    const Message inv = call_out();
    const Message first = answer_from_ims(inv);
    ASSERT_EQ(commands().size(), 1u);
    const Message again = answer_from_ims(inv);
    EXPECT_EQ(again.body, first.body);
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().stats()[MediaCounter::OffersFromIms], 0u);
    Message reinvite = invite_from_browser(browser_offer("sendonly"), "z9hG4bK-reinv");
    reinvite.set("To", "<sip:bob@ims.example.net>;tag=ims-tag");
    reinvite.set("CSeq", "2 INVITE");
    reinvite.add("Route", "<sip:198.18.0.1:5060;lr>");
    reinvite.add("Route", "<sip:198.18.0.11:5060;lr>");
    const Sent fwd = main_output(feed(reinvite, browser()));
    EXPECT_EQ(sdp_of(fwd.msg).media[0].m.proto, "RTP/AVP");
    EXPECT_EQ(alg().stats()[MediaCounter::OffersFromBrowser], 2u);
}

// A second fork's 2xx after the call is confirmed: the browser gets an
// answer (it will ACK and BYE that dialog), the session stays on fork a.
TEST_F(CoreMediaTest, SecondForksTwoHundredIsAnAnswerThatProgramsNothing) {
    const Message inv = call_out();
    answer_from_ims(inv, 200, "fork-a", ims_sdp("198.18.5.20", 40010));
    ASSERT_EQ(commands().size(), 1u);
    const Message b = answer_from_ims(inv, 200, "fork-b", ims_sdp("198.18.5.30", 41000, "7"));
    EXPECT_EQ(attrs(sdp_of(b).media[0], "setup"), (std::vector<std::string>{"passive"}));
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().stats()[MediaCounter::OffersFromIms], 0u);
}

// Offer in the browser's 200, answer in the IMS's ACK; then the IMS holds
// by re-INVITE: that is an offer, and the browser's 200 its answer.
TEST_F(CoreMediaTest, ReOfferAfterALateOfferExchangeIsAnOffer) {
    const Sent to_browser = main_output(feed(invite_from_ims(""), scscf()));
    Message ok = with_sdp(response_to(to_browser.msg, 200, "OK", "ue-tag2"), browser_offer());
    only(feed(ok, browser()));
    Message ack = ims_request("ACK", "z9hG4bK-ims-ack");
    ack.set("CSeq", "7 ACK");
    ack.set("To", "<sip:alice@ims.example.net>;tag=ue-tag2");
    ack.set("Route", "<sip:198.18.0.1:5060;lr>");
    ack.add("Route", w2_rr());
    only(feed(with_sdp(ack, ims_sdp()), scscf()));
    ASSERT_EQ(commands().size(), 1u);
    Message reinvite = invite_from_ims(ims_sdp("198.18.5.20", 40010, "2", "sendonly"));
    reinvite.remove("Via");  // a new transaction
    reinvite.prepend("Via", "SIP/2.0/UDP 198.18.0.20:5060;branch=z9hG4bK-far-reinv");
    reinvite.prepend("Via", "SIP/2.0/UDP 198.18.0.11:5060;branch=z9hG4bK-ims-reinv");
    reinvite.set("To", "<sip:alice@ims.example.net>;tag=ue-tag2");
    reinvite.set("CSeq", "8 INVITE");
    reinvite.set("Route", "<sip:198.18.0.1:5060;lr>");
    reinvite.add("Route", w2_rr());
    reinvite.remove("Record-Route");
    const Sent offer = main_output(feed(reinvite, scscf()));
    EXPECT_EQ(attrs(sdp_of(offer.msg).media[0], "setup"), (std::vector<std::string>{"actpass"}));
    Message answer = with_sdp(response_to(offer.msg, 200, "OK", "ue-tag2"), browser_answer());
    const Sent back = only(feed(answer, browser()));
    EXPECT_EQ(sdp_of(back.msg).media[0].m.proto, "RTP/AVP");
    EXPECT_EQ(alg().stats()[MediaCounter::OffersFromIms], 1u);
    EXPECT_EQ(alg().stats()[MediaCounter::AnswersFromBrowser], 1u);
}

// c=0.0.0.0 (old-style hold) from the IMS: the core leg keeps its address.
TEST_F(CoreMediaTest, ZeroAddressHoldKeepsTheRemote) {
    const Message inv = call_out();
    answer_from_ims(inv);
    commands();
    Message reinvite = invite_from_browser(browser_offer("sendonly"), "z9hG4bK-reinv");
    reinvite.set("To", "<sip:bob@ims.example.net>;tag=ims-tag");
    reinvite.set("CSeq", "2 INVITE");
    reinvite.add("Route", "<sip:198.18.0.1:5060;lr>");
    reinvite.add("Route", "<sip:198.18.0.11:5060;lr>");
    const Sent fwd = main_output(feed(reinvite, browser()));
    only(feed(with_sdp(response_to(fwd.msg, 200, "OK"), ims_sdp("0.0.0.0", 40010, "2", "recvonly")),
              scscf()));
    EXPECT_TRUE(commands().empty());
    EXPECT_EQ(alg().sessions(), 1u);
}

TEST_F(CoreMediaTest, CallsPerFlowAreBounded) {
    config.media.max_calls_per_flow = 3;
    make_core();
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
    commands();
    register_flow();
    for (int i = 0; i < 3; ++i) {
        Message inv = invite_from_browser(browser_offer(), "z9hG4bK-pf" + std::to_string(i));
        inv.set("Call-ID", "pf-" + std::to_string(i));
        EXPECT_EQ(main_output(feed(inv, browser())).msg.method, "INVITE");
    }
    Message extra = invite_from_browser(browser_offer(), "z9hG4bK-pf-extra");
    extra.set("Call-ID", "pf-extra");
    const Sent r = main_output(feed(extra, browser()));
    EXPECT_EQ(r.msg.status_code, 503);
    EXPECT_EQ(r.msg.reason_phrase, "Service Unavailable (calls on this flow)");
}

// A BYE for an early dialog ends nothing: the INVITE's outcome does.
TEST_F(CoreMediaTest, ByeForAnEarlyDialogLeavesTheCall) {
    const Message inv = call_out();
    answer_from_ims(inv, 183, "fork-x");
    only(feed(bye_from_browser("fork-x"), browser()));
    EXPECT_EQ(alg().calls(), 1u);
    EXPECT_EQ(to_browser(feed(response_to(inv, 486, "Busy Here"), scscf())).status_code, 486);
    EXPECT_EQ(alg().calls(), 0u);
}

// A response whose call is gone keeps no SDP (the far side's addresses).
TEST(MediaAlgTest, ResponseForNoCallLosesItsSdp) {
    MediaConfig c;
    c.enabled = true;
    c.access_address = "198.18.7.1";
    c.core_address = "198.18.8.1";
    MediaAlg alg(c, [] { return uint64_t{7}; });
    sip::Message r = sip::make_response(200, "OK");
    r.add("Call-ID", "gone");
    r.add("CSeq", "1 INVITE");
    r.add("Content-Type", "application/sdp");
    r.body = ims_sdp();
    alg.on_response(r, Side::Mw, 42, 1);
    EXPECT_TRUE(r.body.empty());
    EXPECT_FALSE(r.header("Content-Type"));
    EXPECT_EQ(alg.stats()[MediaCounter::BodyStripped], 1u);
}

TEST_F(CoreMediaTest, OfferWhileTheOtherSidesIsUnansweredGets491) {
    const Message inv = call_out();
    answer_from_ims(inv);
    commands();
    // The IMS re-offers (hold) and, before the browser answers, the browser
    // offers too.
    Message reinvite = invite_from_ims(ims_sdp("198.18.5.20", 40010, "2", "sendonly"));
    reinvite.set("Call-ID", "call-1");
    reinvite.set("From", "<sip:bob@ims.example.net>;tag=ims-tag");
    reinvite.set("To", "<sip:alice@ims.example.net>;tag=ue-tag");
    reinvite.set("Route", "<sip:198.18.0.1:5060;lr>");
    reinvite.add("Route", w2_rr());
    reinvite.remove("Record-Route");
    main_output(feed(reinvite, scscf()));
    Message update = browser_request("UPDATE", "z9hG4bK-upd", 3, "call-1");
    update.set("To", "<sip:bob@ims.example.net>;tag=ims-tag");
    update = with_sdp(update, browser_offer());
    const Sent refused = only(feed(update, browser()));
    EXPECT_EQ(refused.msg.status_code, 491);
    EXPECT_EQ(alg().stats()[MediaCounter::Glare], 1u);
}

TEST_F(CoreMediaTest, NoDataplaneGives503) {
    core->set_dataplane(std::nullopt, at(now_ms));
    const Sent r = main_output(feed(invite_from_browser(browser_offer()), browser()));
    EXPECT_EQ(r.msg.status_code, 503);
    EXPECT_EQ(alg().calls(), 0u);
}

TEST_F(CoreMediaTest, OfferTheRewriteRefusesGets488WithTheReasonAndNoCall) {
    std::string offer = browser_offer();
    const std::size_t at = offer.find("a=fingerprint");
    offer.erase(at, offer.find('\n', at) + 1 - at);
    const Sent r = main_output(feed(invite_from_browser(offer), browser()));
    EXPECT_EQ(r.msg.status_code, 488);
    EXPECT_NE(r.msg.reason_phrase.find("fingerprint"), std::string::npos) << r.msg.reason_phrase;
    EXPECT_EQ(alg().calls(), 0u);
    EXPECT_EQ(alg().ports().in_use(), 0u);
}

TEST_F(CoreMediaTest, UnparsableSdpGets488) {
    const Sent r = main_output(feed(invite_from_browser("v=0\r\nthis is not sdp\r\n"), browser()));
    EXPECT_EQ(r.msg.status_code, 488);
    EXPECT_EQ(alg().stats()[MediaCounter::SdpUnparsable], 1u);
    EXPECT_EQ(alg().calls(), 0u);
}

TEST_F(CoreMediaTest, ABodyOtherThanSdpGets415AndLeavesNoCall) {
    Message inv = invite_from_browser("--b\r\n\r\n--b--\r\n");
    inv.set("Content-Type", "multipart/mixed;boundary=b");
    const Sent r = main_output(feed(inv, browser()));
    EXPECT_EQ(r.msg.status_code, 415);
    EXPECT_EQ(alg().calls(), 0u);
}

TEST_F(CoreMediaTest, PortsRunOutGives503AndFreedPortsServeTheNextCall) {
    // 10 access ports and 5 core pairs per worker: 10 calls.
    Message first;
    for (int i = 0; i < 10; ++i) {
        Message inv = invite_from_browser(browser_offer(), "z9hG4bK-many" + std::to_string(i));
        inv.set("Call-ID", "many-" + std::to_string(i));
        const Sent fwd = main_output(feed(inv, browser()));
        EXPECT_EQ(fwd.msg.method, "INVITE");
        if (i == 0) first = fwd.msg;
    }
    Message extra = invite_from_browser(browser_offer(), "z9hG4bK-extra");
    extra.set("Call-ID", "extra");
    EXPECT_EQ(main_output(feed(extra, browser())).msg.status_code, 503);
    EXPECT_EQ(alg().stats()[MediaCounter::NoPorts], 1u);
    EXPECT_EQ(alg().calls(), 10u);
    EXPECT_EQ(alg().ports().in_use(), 10u);
    // One call is refused by the callee: its ports serve the next one.
    Message busy = response_to(first, 486, "Busy Here");
    feed(busy, scscf());
    EXPECT_EQ(alg().calls(), 9u);
    extra.set("Via", "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK-extra2;rport");
    EXPECT_EQ(main_output(feed(extra, browser())).msg.method, "INVITE");
    EXPECT_EQ(alg().calls(), 10u);
}

TEST_F(CoreMediaTest, DataplaneRestartResendsTheSessions) {
    const Message inv = call_out();
    answer_from_ims(inv);
    const auto created = commands();
    ASSERT_EQ(created.size(), 1u);
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 3u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::ResyncBegin);
    EXPECT_EQ(cmds[1].hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(cmds[1].hdr.session_id, created[0].hdr.session_id);
    EXPECT_EQ(std::memcmp(&cmds[1].access, &created[0].access, sizeof(dpif::LegSpec)), 0);
    EXPECT_EQ(cmds[2].hdr.type, dpif::MsgType::ResyncEnd);
}

TEST_F(CoreMediaTest, MergedInitialInviteGets482) {
    call_out();
    const Sent r =
        main_output(feed(invite_from_browser(browser_offer(), "z9hG4bK-other-branch"), browser()));
    EXPECT_EQ(r.msg.status_code, 482);
    EXPECT_EQ(alg().calls(), 1u);
}

TEST_F(CoreMediaTest, CallsSpreadOverTheWorkers) {
    std::set<uint32_t> workers;
    for (int i = 0; i < 4; ++i) {
        Message inv = invite_from_browser(browser_offer(), "z9hG4bK-w" + std::to_string(i));
        inv.set("Call-ID", "w-" + std::to_string(i));
        const Sent fwd = main_output(feed(inv, browser()));
        workers.insert((sdp_of(fwd.msg).media[0].m.port / 2u) % 2u);
    }
    EXPECT_EQ(workers.size(), 2u);
}

TEST(MediaPortsTest, RangesAreCheckedAndPairsStayOnOneWorker) {
    EXPECT_THROW(MediaPorts({0, 10}, {100, 200}, 1), std::invalid_argument);
    EXPECT_THROW(MediaPorts({100, 200}, {150, 300}, 1), std::invalid_argument);
    EXPECT_THROW(MediaPorts({100, 100}, {200, 201}, 2), std::invalid_argument);
    MediaPorts p({20000, 20003}, {30001, 30009}, 2);
    std::vector<MediaLegs> got;
    while (auto l = p.allocate()) {
        EXPECT_EQ(l->core % 2, 0);
        EXPECT_EQ(p.worker_of(l->access), l->worker);
        EXPECT_EQ(p.worker_of(l->core), l->worker);
        got.push_back(*l);
    }
    EXPECT_EQ(got.size(), 4u);
    EXPECT_EQ(p.available(), 0u);
    p.release(got[0]);
    EXPECT_EQ(p.available(), 1u);
    EXPECT_EQ(p.in_use(), 3u);
}

}  // namespace
}  // namespace isthmus::pcscf::test

namespace isthmus::pcscf::test {
namespace {

// A browser's audio + MSRP data channel (RFC 8873, a=dcmap on stream 2).
std::string browser_chat_offer() {
    std::string audio = browser_offer();
    return audio + wire(
                       "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
                       "c=IN IP4 0.0.0.0\n"
                       "a=ice-ufrag:brdc\n"
                       "a=ice-pwd:browserdcpassword0123456\n"
                       "a=fingerprint:sha-256 " +
                       std::string(kBrowserFingerprint) +
                       "\n"
                       "a=setup:actpass\n"
                       "a=mid:1\n"
                       "a=sctp-port:5000\n"
                       "a=max-message-size:262144\n"
                       "a=dcmap:2 label=\"chat\";subprotocol=\"MSRP\"\n"
                       "a=dcsa:2 path:msrp://wic.invalid:9/wicsid;dc\n"
                       "a=dcsa:2 accept-types:text/plain\n");
}

// The browser's answer line for a chat negotiated in SDP on `stream` (its
// data channel, bundled or on its own transport: the same credentials).
std::string browser_chat_answer_line(int stream = 4) {
    const std::string id = std::to_string(stream);
    return wire(
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
        "c=IN IP4 0.0.0.0\n"
        "a=ice-ufrag:brws\n"
        "a=ice-pwd:browserpassword0123456789\n"
        "a=fingerprint:sha-256 " +
        std::string(kBrowserFingerprint) +
        "\n"
        "a=setup:active\n"
        "a=mid:1\n"
        "a=sctp-port:5000\n"
        "a=dcmap:" +
        id +
        " label=\"msrp\";subprotocol=\"MSRP\"\n"
        "a=dcsa:" +
        id + " path:msrp://wic.invalid:9/wicsid;dc\n");
}

std::string ims_chat_answer(std::string_view setup) {
    return ims_sdp() + wire(
                           "m=message 2855 TCP/MSRP *\n"
                           "a=accept-types:text/plain\n"
                           "a=path:msrp://198.18.5.20:2855/uesid;tcp\n"
                           "a=setup:" +
                           std::string(setup) + "\n");
}

// The IMS-ALG bridges a browser's MSRP data channel (issue 9): the IMS gets
// m=message TCP/MSRP with our a=path on our core address; its answer makes
// a data channel session with the chat's MsrpSpec, and the browser's answer
// has our ;dc URI.
TEST_F(CoreMediaTest, BrowserChatBecomesMessageLineAndADataChannelSession) {
    const Sent fwd = main_output(feed(invite_from_browser(browser_chat_offer()), browser()));
    const sdp::SessionDescription ims = sdp_of(fwd.msg);
    ASSERT_EQ(ims.media.size(), 2u);
    const auto& msg = ims.media[1];
    EXPECT_EQ(msg.m.media, "message");
    EXPECT_EQ(msg.m.proto, "TCP/MSRP");
    const uint16_t tcp_port = msg.m.port;
    EXPECT_GE(tcp_port, 30000);
    EXPECT_LE(tcp_port, 30019);
    const auto path = attrs(msg, "path");
    ASSERT_EQ(path.size(), 1u);
    const std::string prefix = "msrp://198.18.8.1:" + std::to_string(tcp_port) + "/";
    ASSERT_EQ(path[0].rfind(prefix, 0), 0u) << path[0];
    const std::string sid = path[0].substr(prefix.size(), path[0].size() - prefix.size() - 4);
    EXPECT_EQ(path[0].substr(path[0].size() - 4), ";tcp");
    EXPECT_EQ(sid.size(), 16u);
    EXPECT_EQ(attrs(msg, "setup"), (std::vector<std::string>{"actpass"}));
    EXPECT_EQ(alg().ports().in_use(), 2u);

    // The UE connects to us (a=setup:active): we listen on the core port.
    const Message ok = answer_from_ims(fwd.msg, 200, "ims-tag", ims_chat_answer("active"));
    const sdp::SessionDescription web = sdp_of(ok);
    ASSERT_EQ(web.media.size(), 2u);
    const auto& dc = web.media[1];
    EXPECT_EQ(dc.m.proto, "UDP/DTLS/SCTP");
    EXPECT_NE(dc.m.port, 0);
    EXPECT_EQ(attrs(dc, "dcsa"),
              (std::vector<std::string>{
                  "2 path:msrp://198.18.7.1:" + std::to_string(dc.m.port) + "/" + sid + ";dc",
                  "2 accept-types:text/plain"}));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);
    const dpif::Command* chat = nullptr;
    for (const dpif::Command& c : cmds)
        if (c.access.security == dpif::LegSecurity::DtlsSctp) chat = &c;
    ASSERT_NE(chat, nullptr);
    EXPECT_EQ(chat->hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(ip_of(chat->access.local), "198.18.7.1:" + std::to_string(dc.m.port));
    EXPECT_EQ(std::string(chat->access.remote_ufrag), "brdc");
    EXPECT_EQ(chat->core.local.family, 0);  // no UDP core leg
    EXPECT_EQ(chat->datachannel.remote_sctp_port, 5000);
    EXPECT_EQ(chat->datachannel.peer_max_message_size, 262144u);
    EXPECT_EQ(chat->datachannel.max_message_size, 65536u);
    EXPECT_EQ(chat->msrp.setup, dpif::kMsrpPassive);
    EXPECT_EQ(ip_of(chat->msrp.tcp_local), "198.18.8.1:" + std::to_string(tcp_port));
    EXPECT_EQ(chat->msrp.tcp_remote.family, 0);
    EXPECT_EQ(chat->msrp.channel_id, 2);
    EXPECT_EQ(std::string(chat->msrp.session_id, strnlen(chat->msrp.session_id, 16)), sid);
    EXPECT_EQ(std::string(chat->msrp.browser_path), "msrp://wic.invalid:9/wicsid;dc");
    EXPECT_EQ(std::string(chat->msrp.ue_path), "msrp://198.18.5.20:2855/uesid;tcp");
    EXPECT_EQ(chat->police_kbps[0], 0u);  // nothing of a chat is relayed by a worker
    EXPECT_EQ(alg().sessions(), 2u);
    const dpif::Command created = *chat;

    // A restarted dataplane gets the chat again whole: its data channel and
    // MSRP parts too (they were left out of the resync once).
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
    const dpif::Command* again = nullptr;
    const auto resync = commands();
    for (const dpif::Command& c : resync)
        if (c.access.security == dpif::LegSecurity::DtlsSctp) again = &c;
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(std::memcmp(&again->datachannel, &created.datachannel, sizeof created.datachannel),
              0);
    EXPECT_EQ(std::memcmp(&again->msrp, &created.msrp, sizeof created.msrp), 0);

    // The BYE ends both sessions and frees every port.
    feed(bye_from_browser(), browser());
    std::size_t deletes = 0;
    for (const dpif::Command& c : commands())
        deletes += c.hdr.type == dpif::MsgType::SessionDelete ? 1 : 0;
    EXPECT_EQ(deletes, 2u);
    EXPECT_EQ(alg().sessions(), 0u);
    EXPECT_EQ(alg().ports().in_use(), 0u);
}

// A browser's chat in its BUNDLE with audio (Chrome with max-bundle, or
// any offer grouping them): the data channel shares the audio's transport.
// The answer groups both on the audio's port (the candidate on the first
// line), the chat's ;dc URI names that port, and one session carries both
// (DtlsSrtpSctp: audio's core leg, the chat's SCTP and MSRP specs). A
// re-offer keeping both changes nothing; one dropping the chat updates
// the session to DtlsSrtp without its chat (the DTLS stays); one dropping
// the audio while the chat stays is refused (its transport would go).
TEST_F(CoreMediaTest, ABundledChatRidesOnTheAudioTransport) {
    const std::string offer = with_group(browser_chat_offer(), "BUNDLE 0 1");
    const Sent fwd = main_output(feed(invite_from_browser(offer), browser()));
    const sdp::SessionDescription ims = sdp_of(fwd.msg);
    ASSERT_EQ(ims.media.size(), 2u);
    EXPECT_EQ(ims.media[1].m.proto, "TCP/MSRP");
    const uint16_t tcp_port = ims.media[1].m.port;
    const Message ok = answer_from_ims(fwd.msg, 200, "ims-tag", ims_chat_answer("active"));
    const sdp::SessionDescription web = sdp_of(ok);
    ASSERT_EQ(web.media.size(), 2u);
    const uint16_t port = web.media[0].m.port;
    EXPECT_NE(port, 0);
    EXPECT_EQ(web.media[1].m.port, port) << "the chat is on the audio's transport";
    EXPECT_EQ(attrs(web.media[0], "candidate").size(), 1u);
    EXPECT_TRUE(attrs(web.media[1], "candidate").empty());
    EXPECT_EQ(attrs(web.session, "group"), (std::vector<std::string>{"BUNDLE 0 1"}));
    const auto dcsa = attrs(web.media[1], "dcsa");
    ASSERT_FALSE(dcsa.empty());
    EXPECT_EQ(dcsa[0].rfind("2 path:msrp://198.18.7.1:" + std::to_string(port) + "/", 0), 0u)
        << dcsa[0];

    auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u) << "one session for both m= lines";
    const dpif::Command created = cmds[0];
    EXPECT_EQ(created.hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(created.hdr.session_id & 31, 0u) << "the audio line's session";
    EXPECT_EQ(created.access.security, dpif::LegSecurity::DtlsSrtpSctp);
    EXPECT_EQ(ip_of(created.access.local), "198.18.7.1:" + std::to_string(port));
    EXPECT_EQ(created.core.local.family, 4);  // the audio's core leg
    EXPECT_EQ(created.datachannel.peer_max_message_size, 262144u);
    EXPECT_EQ(created.msrp.setup, dpif::kMsrpPassive);
    EXPECT_EQ(ip_of(created.msrp.tcp_local), "198.18.8.1:" + std::to_string(tcp_port));
    EXPECT_EQ(std::string(created.msrp.browser_path), "msrp://wic.invalid:9/wicsid;dc");
    EXPECT_EQ(created.bundle.transport, 0u) << "one RTP line: no payload-type demultiplexing";
    EXPECT_EQ(alg().sessions(), 1u);

    // A dataplane restart gets the same session back, chat included.
    core->set_dataplane(std::string(kDataplaneFingerprint), at(now_ms));
    bool again = false;
    for (const dpif::Command& c : commands())
        again = again || (c.hdr.type == dpif::MsgType::SessionCreate &&
                          std::memcmp(&c.msrp, &created.msrp, sizeof c.msrp) == 0 &&
                          c.access.security == dpif::LegSecurity::DtlsSrtpSctp);
    EXPECT_TRUE(again);

    // bob re-offers (hold): the chat stays in the group on the transport's
    // port, with the same ;dc URI; the browser's answer keeps the session.
    const Sent held =
        main_output(feed(ims_reinvite(ims_sdp("198.18.5.20", 40010, "2", "sendonly") +
                                      wire("m=message 2855 TCP/MSRP *\n"
                                           "a=accept-types:text/plain\n"
                                           "a=path:msrp://198.18.5.20:2855/uesid;tcp\n"
                                           "a=setup:active\n")),
                         scscf()));
    const sdp::SessionDescription reoffer = sdp_of(held.msg);
    ASSERT_EQ(reoffer.media.size(), 2u);
    EXPECT_EQ(attrs(reoffer.session, "group"), (std::vector<std::string>{"BUNDLE 0 1"}));
    EXPECT_EQ(reoffer.media[0].m.port, port);
    EXPECT_EQ(reoffer.media[1].m.port, port);
    const auto redcsa = attrs(reoffer.media[1], "dcsa");
    ASSERT_FALSE(redcsa.empty());
    // The same channel (stream 2, as the browser's a=dcmap had it), the
    // same URI.
    EXPECT_EQ(redcsa[0].rfind("2 path:msrp://198.18.7.1:" + std::to_string(port) + "/", 0), 0u)
        << redcsa[0];
    commands();
    // Her answer keeps the channel on stream 2 (and her message size).
    const std::string answer = with_group(browser_answer("active"), "BUNDLE 0 1") +
                               browser_chat_answer_line(2) + wire("a=max-message-size:262144\n");
    Message ans = with_sdp(response_to(held.msg, 200, "OK", "ue-tag"), answer);
    ans.add("Contact", "<" + std::string(kContact) + ">");
    only(feed(ans, browser()));
    EXPECT_TRUE(commands().empty()) << "the session and its chat stay as they were";
    EXPECT_EQ(alg().sessions(), 1u);

    // The audio's line dropped, the chat kept: refused.
    std::string no_audio = browser_chat_offer();
    no_audio.replace(no_audio.find("m=audio 9 "), 10, "m=audio 0 ");
    no_audio = with_group(no_audio, "BUNDLE 1");
    EXPECT_EQ(main_output(feed(reinvite_from_browser(no_audio), browser())).msg.status_code, 488);
    EXPECT_TRUE(commands().empty());

    // The chat dropped: the session goes on as audio alone on the same DTLS.
    std::string no_chat = browser_chat_offer();  // (group: BUNDLE 0)
    no_chat.replace(no_chat.find("m=application 9 "), 16, "m=application 0 ");
    const Sent re =
        main_output(feed(reinvite_from_browser(no_chat, "z9hG4bK-reinv2", 3), browser()));
    ASSERT_EQ(re.msg.method, "INVITE");
    // The line stays m=message toward the IMS (RFC 3264 8), rejected.
    const sdp::SessionDescription re_ims = sdp_of(re.msg);
    ASSERT_EQ(re_ims.media.size(), 2u);
    EXPECT_EQ(re_ims.media[1].m.media, "message");
    EXPECT_EQ(re_ims.media[1].m.port, 0);
    Message ok2 = with_sdp(response_to(re.msg, 200, "OK"),
                           ims_sdp("198.18.5.20", 40010, "2") + "m=message 0 TCP/MSRP *\r\n");
    feed(ok2, scscf());
    cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(cmds[0].hdr.session_id, created.hdr.session_id);
    EXPECT_EQ(cmds[0].access.security, dpif::LegSecurity::DtlsSrtp);
    EXPECT_EQ(cmds[0].msrp.setup, dpif::kMsrpNone);
    EXPECT_EQ(alg().sessions(), 1u);

    feed(bye_from_browser(), browser());
    cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(alg().sessions(), 0u);
    EXPECT_EQ(alg().ports().in_use(), 0u);
}

// The transport's line rejected by the IMS answer while the chat riding
// on it is accepted: the chat's port and MSRP URI name a transport no
// session has any more, so it is rejected toward the browser too.
TEST_F(CoreMediaTest, ABundledChatWhoseTransportIsRejectedGoesWithIt) {
    const std::string offer = with_group(browser_chat_offer(), "BUNDLE 0 1");
    const Sent fwd = main_output(feed(invite_from_browser(offer), browser()));
    answer_from_ims(fwd.msg, 200, "ims-tag", ims_chat_answer("active"));
    ASSERT_EQ(commands().size(), 1u);
    const Sent re = main_output(feed(reinvite_from_browser(offer), browser()));
    ASSERT_EQ(re.msg.method, "INVITE");
    std::string answer = ims_chat_answer("active");
    answer.replace(answer.find("m=audio 40010 "), 14, "m=audio 0 ");
    const Sent back = only(feed(with_sdp(response_to(re.msg, 200, "OK"), answer), scscf()));
    const sdp::SessionDescription web = sdp_of(back.msg);
    ASSERT_EQ(web.media.size(), 2u);
    EXPECT_EQ(web.media[0].m.port, 0);
    EXPECT_EQ(web.media[1].m.port, 0) << "the chat went with its transport";
    EXPECT_EQ(alg().stats()[MediaCounter::BundleTransportLost], 1u);
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].hdr.type, dpif::MsgType::SessionDelete);
    EXPECT_EQ(alg().sessions(), 0u);
}

TEST_F(CoreMediaTest, ChatWithAPassiveUeMakesUsConnect) {
    const Sent fwd = main_output(feed(invite_from_browser(browser_chat_offer()), browser()));
    answer_from_ims(fwd.msg, 200, "ims-tag", ims_chat_answer("passive"));
    const dpif::Command* chat = nullptr;
    const auto cmds = commands();
    for (const dpif::Command& c : cmds)
        if (c.access.security == dpif::LegSecurity::DtlsSctp) chat = &c;
    ASSERT_NE(chat, nullptr);
    EXPECT_EQ(chat->msrp.setup, dpif::kMsrpActive);
    EXPECT_EQ(ip_of(chat->msrp.tcp_remote), "198.18.5.20:2855");
}

// The IMS's audio + chat offer (the UE's MSRP URI on port 2855).
std::string ims_chat_offer() {
    return ims_sdp() + wire(
                           "m=message 2855 TCP/MSRP *\n"
                           "a=accept-types:text/plain\n"
                           "a=path:msrp://198.18.5.20:2855/uesid;tcp\n");
}

// The IMS calls with audio and a chat (m=message TCP/MSRP): the browser
// gets a data channel negotiated in SDP (a=dcmap) in the audio's BUNDLE,
// bundle-only (port 0: its MSRP URI names the audio's port, the transport
// it will share); her answer bundling both programs one session carrying
// the audio and the chat (DtlsSrtpSctp), and the IMS gets m=message on our
// core port. An answer that does not bundle it leaves the chat rejected.
TEST_F(CoreMediaTest, ImsChatReachesTheBrowserAndItsAnswerMakesTheSession) {
    const std::string offer_sdp = ims_chat_offer();
    const Sent to_browser = main_output(feed(invite_from_ims(offer_sdp), scscf()));
    const sdp::SessionDescription offer = sdp_of(to_browser.msg);
    ASSERT_EQ(offer.media.size(), 2u);
    EXPECT_EQ(attrs(offer.session, "group"), (std::vector<std::string>{"BUNDLE 0 1"}));
    const uint16_t audio_port = offer.media[0].m.port;
    ASSERT_NE(audio_port, 0);
    const auto& dc = offer.media[1];
    EXPECT_EQ(dc.m.proto, "UDP/DTLS/SCTP");
    EXPECT_EQ(dc.m.port, 0) << "bundle-only";
    EXPECT_TRUE(dc.has_attribute("bundle-only"));
    EXPECT_TRUE(attrs(dc, "candidate").empty());
    EXPECT_EQ(attrs(dc, "dcmap"),
              (std::vector<std::string>{"4 label=\"msrp\";subprotocol=\"MSRP\""}));
    const auto dcsa = attrs(dc, "dcsa");
    ASSERT_EQ(dcsa.size(), 2u);
    EXPECT_EQ(dcsa[0].rfind("4 path:msrp://198.18.7.1:" + std::to_string(audio_port) + "/", 0), 0u)
        << dcsa[0];
    // The audio's session awaits the answer (the chat's is made with it).
    auto early = commands();
    ASSERT_EQ(early.size(), 1u);
    EXPECT_EQ(early[0].access.awaiting_answer, 1);
    EXPECT_EQ(early[0].access.local.port, audio_port);

    Message ok = with_sdp(response_to(to_browser.msg, 200, "OK", "ue-tag2"),
                          with_group(browser_answer(), "BUNDLE 0 1") + browser_chat_answer_line());
    ok.add("Contact", "<" + std::string(kContact) + ">");
    const Sent to_ims = only(feed(ok, browser()));
    const sdp::SessionDescription ans = sdp_of(to_ims.msg);
    ASSERT_EQ(ans.media.size(), 2u);
    EXPECT_NE(ans.media[0].m.port, 0);
    EXPECT_EQ(ans.media[1].m.proto, "TCP/MSRP");
    const uint16_t tcp_port = ans.media[1].m.port;
    EXPECT_NE(tcp_port, 0);
    EXPECT_EQ(attrs(ans.media[1], "setup"), (std::vector<std::string>{"passive"}));
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 1u) << "one session: the audio's, carrying the chat";
    const dpif::Command& c = cmds[0];
    EXPECT_EQ(c.hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(c.hdr.session_id, early[0].hdr.session_id);
    EXPECT_EQ(c.access.security, dpif::LegSecurity::DtlsSrtpSctp);
    EXPECT_EQ(c.msrp.setup, dpif::kMsrpPassive);  // the UE offered: it connects
    EXPECT_EQ(ip_of(c.msrp.tcp_local), "198.18.8.1:" + std::to_string(tcp_port));
    EXPECT_EQ(c.msrp.channel_id, 4);
    EXPECT_EQ(std::string(c.msrp.browser_path), "msrp://wic.invalid:9/wicsid;dc");
    EXPECT_EQ(std::string(c.msrp.ue_path), "msrp://198.18.5.20:2855/uesid;tcp");
    EXPECT_EQ(c.access.dtls_active, 0);  // the browser is the DTLS client
    EXPECT_EQ(ip_of(c.access.local), "198.18.7.1:" + std::to_string(audio_port));
    EXPECT_NE(c.core.local.family, 0);  // the audio's core leg
}

// The same offer answered without BUNDLE (the browser takes the audio
// alone): the bundle-only chat is rejected, toward the IMS too.
TEST_F(CoreMediaTest, AnImsChatTheBrowserDoesNotBundleIsRejected) {
    const std::string offer_sdp = ims_chat_offer();
    const Sent to_browser = main_output(feed(invite_from_ims(offer_sdp), scscf()));
    std::string answer = browser_answer();
    answer.replace(answer.find("a=group:BUNDLE 0\r\n"), 18, "");
    answer += wire("m=application 0 UDP/DTLS/SCTP webrtc-datachannel\n");
    Message ok = with_sdp(response_to(to_browser.msg, 200, "OK", "ue-tag2"), answer);
    ok.add("Contact", "<" + std::string(kContact) + ">");
    const Sent to_ims = only(feed(ok, browser()));
    const sdp::SessionDescription ans = sdp_of(to_ims.msg);
    ASSERT_EQ(ans.media.size(), 2u);
    EXPECT_NE(ans.media[0].m.port, 0);
    EXPECT_EQ(ans.media[1].m.port, 0);
    const auto cmds = commands();
    ASSERT_EQ(cmds.size(), 2u);  // the audio's, created with the offer, completed
    EXPECT_EQ(cmds[1].hdr.type, dpif::MsgType::SessionUpdate);
    EXPECT_EQ(cmds[1].access.security, dpif::LegSecurity::DtlsSrtp);
    EXPECT_EQ(cmds[1].msrp.setup, dpif::kMsrpNone);
}

// A bundle-only chat the browser takes off the bundle (a port of its own,
// no group), or bundles while rejecting the audio whose port its URI
// names: no transport where its URI points, rejected toward the IMS.
TEST_F(CoreMediaTest, ABundleOnlyChatOffTheBundleIsRejected) {
    const std::string offer_sdp = ims_chat_offer();
    const std::string chat = browser_chat_answer_line();
    for (int variant = 0; variant < 2; ++variant) {
        SCOPED_TRACE(variant == 0 ? "own port, no group" : "audio rejected, chat bundled");
        Message inv = invite_from_ims(offer_sdp);
        inv.set("Call-ID", "call-bo" + std::to_string(variant));
        // Another transaction: its own branch.
        std::string via = std::string(text(inv, "Via"));
        via.replace(via.find("z9hG4bK-ims-inv1"), 16,
                    "z9hG4bK-ims-bo" + std::to_string(variant) + "x");
        inv.set("Via", via);
        const Sent to_browser = main_output(feed(inv, scscf()));
        std::string answer = browser_answer();
        if (variant == 0) {
            answer.replace(answer.find("a=group:BUNDLE 0\r\n"), 18, "");
        } else {
            answer = with_group(answer, "BUNDLE 1");
            answer.replace(answer.find("m=audio 9 "), 10, "m=audio 0 ");
        }
        Message ok = with_sdp(response_to(to_browser.msg, 200, "OK", "ue-tag2"), answer + chat);
        ok.add("Contact", "<" + std::string(kContact) + ">");
        const Sent to_ims = only(feed(ok, browser()));
        const sdp::SessionDescription ans = sdp_of(to_ims.msg);
        ASSERT_EQ(ans.media.size(), 2u);
        EXPECT_EQ(ans.media[1].m.media, "message");
        EXPECT_EQ(ans.media[1].m.port, 0) << "the chat is not taken";
        for (const dpif::Command& c : commands())
            EXPECT_EQ(c.msrp.setup, dpif::kMsrpNone) << "no chat programmed";
    }
}

}  // namespace
}  // namespace isthmus::pcscf::test
