// Typed attribute values (sdp/attributes.hpp): rtpmap, fmtp, rtcp,
// fingerprint, setup, ICE credentials and options, groups and mid,
// direction with its level rule, SCTP, and remove_format.
#include "sdp/attributes.hpp"

#include <gtest/gtest.h>

#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

using test::parse_ok;
using test::wire;

template <typename T, typename Parse>
void expect_reparses(const T& v, Parse parse) {
    const auto again = parse(to_string(v));
    ASSERT_TRUE(again) << to_string(v);
    EXPECT_EQ(*again, v);
}

TEST(RtpMap, Grammar) {
    EXPECT_EQ(parse_rtpmap("111 opus/48000/2"), (RtpMap{111, "opus", 48000, "2"}));
    EXPECT_EQ(parse_rtpmap("116 AMR-WB/16000/1"), (RtpMap{116, "AMR-WB", 16000, "1"}));
    EXPECT_EQ(parse_rtpmap("0 PCMU/8000"), (RtpMap{0, "PCMU", 8000, std::nullopt}));
    EXPECT_EQ(parse_rtpmap("101 telephone-event/8000"),
              (RtpMap{101, "telephone-event", 8000, std::nullopt}));
    EXPECT_EQ(parse_rtpmap("  96   H264/90000 "), (RtpMap{96, "H264", 90000, std::nullopt}));
    expect_reparses(RtpMap{127, "EVS", 16000, "1"}, parse_rtpmap);
    expect_reparses(RtpMap{0, "PCMU", 8000, std::nullopt}, parse_rtpmap);
    for (const char* bad :
         {"", "0", "0 PCMU", "0 PCMU/", "0 PCMU/0", "0 PCMU/x", "128 PCMU/8000", "-1 PCMU/8000",
          "0 /8000", "0 PCMU/8000/", "0 PCMU/8000 x", "0 PC:MU/8000", "0 PCMU/4294967296"})
        EXPECT_FALSE(parse_rtpmap(bad)) << bad;
}

TEST(RtpMap, ForAFormatWithStaticFallback) {
    const SessionDescription d = parse_ok(wire(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
t=0 0
m=audio 9 RTP/AVP 0 8 18 96 97 98 10
a=rtpmap:8 PCMA/8000/1
a=rtpmap:96 AMR-WB/16000/1
a=rtpmap:97 broken
a=fmtp:96 mode-change-capability=2
a=fmtp:bad
a=fmtp:96 second
a=fmtp:18 annexb=no
)"));
    const MediaDescription& m = d.media[0];
    EXPECT_EQ(rtpmap_for(m, "0"), (RtpMap{0, "PCMU", 8000, std::nullopt}));  // RFC 3551
    EXPECT_EQ(rtpmap_for(m, "8"), (RtpMap{8, "PCMA", 8000, "1"}));           // its own
    EXPECT_EQ(rtpmap_for(m, "18"), (RtpMap{18, "G729", 8000, std::nullopt}));
    EXPECT_EQ(rtpmap_for(m, "10"), (RtpMap{10, "L16", 44100, "2"}));
    EXPECT_EQ(rtpmap_for(m, "96"), (RtpMap{96, "AMR-WB", 16000, "1"}));
    EXPECT_FALSE(rtpmap_for(m, "97"));  // its rtpmap does not parse, not static
    EXPECT_FALSE(rtpmap_for(m, "98"));  // dynamic, none
    EXPECT_FALSE(rtpmap_for(m, "2"));   // unassigned in RFC 3551
    EXPECT_FALSE(rtpmap_for(m, "x"));
    EXPECT_EQ(fmtp_for(m, "96"), (Fmtp{"96", "mode-change-capability=2"}));  // the first
    EXPECT_EQ(fmtp_for(m, "18"), (Fmtp{"18", "annexb=no"}));
    EXPECT_FALSE(fmtp_for(m, "0"));
}

TEST(Fmtp, FormatAndParameterText) {
    EXPECT_EQ(parse_fmtp("116 mode-change-capability=2;max-red=0"),
              (Fmtp{"116", "mode-change-capability=2;max-red=0"}));
    EXPECT_EQ(parse_fmtp("101 0-15"), (Fmtp{"101", "0-15"}));
    EXPECT_EQ(parse_fmtp("97"), (Fmtp{"97", ""}));
    EXPECT_EQ(parse_fmtp("97 "), (Fmtp{"97", ""}));
    EXPECT_EQ(parse_fmtp("97  a=1; b=2 "), (Fmtp{"97", "a=1; b=2 "}));
    expect_reparses(Fmtp{"63", "111/111"}, parse_fmtp);
    expect_reparses(Fmtp{"97", ""}, parse_fmtp);
    EXPECT_FALSE(parse_fmtp(""));
    EXPECT_FALSE(parse_fmtp(" "));
    EXPECT_FALSE(parse_fmtp("9:7 x"));
}

TEST(Fmtp, ParameterLists) {
    const auto p = split_fmtp_parameters(
        "profile-level-id=42C01F; packetization-mode=1;sprop-parameter-sets=Z0LAH9o=,aM4G4g==;;");
    ASSERT_EQ(p.size(), 3U);
    EXPECT_EQ(p[0], (FmtpParameter{"profile-level-id", "42C01F"}));
    EXPECT_EQ(p[1], (FmtpParameter{"packetization-mode", "1"}));
    EXPECT_EQ(p[2], (FmtpParameter{"sprop-parameter-sets", "Z0LAH9o=,aM4G4g=="}));
    EXPECT_EQ(split_fmtp_parameters("0-15"), (std::vector<FmtpParameter>{{"0-15", std::nullopt}}));
    EXPECT_TRUE(split_fmtp_parameters("").empty());
    EXPECT_EQ(join_fmtp_parameters(split_fmtp_parameters("octet-align=1; mode-set=0,2,5,7")),
              "octet-align=1;mode-set=0,2,5,7");
}

TEST(Rtcp, PortAndOptionalAddress) {
    EXPECT_EQ(parse_rtcp("53020"), (Rtcp{53020, std::nullopt}));
    EXPECT_EQ(parse_rtcp("53020 IN IP4 126.16.64.4"),
              (Rtcp{53020, Connection{"IN", "IP4", "126.16.64.4"}}));
    EXPECT_EQ(parse_rtcp("9 IN IP6 ::")->address->addr_type, "IP6");
    expect_reparses(Rtcp{40011, Connection{"IN", "IP4", "10.45.0.7"}}, parse_rtcp);
    for (const char* bad : {"", "x", "65536", "9 IN IP4", "9 IN IP4 a b", "9 IN"})
        EXPECT_FALSE(parse_rtcp(bad)) << bad;
}

TEST(Fingerprint, HashAndOctets) {
    const auto f = parse_fingerprint("sha-256 D2:FA:0E:c3");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->hash_function, "sha-256");
    EXPECT_EQ(f->value, "D2:FA:0E:c3");
    EXPECT_EQ(f->bytes(), (std::vector<uint8_t>{0xD2, 0xFA, 0x0E, 0xC3}));
    EXPECT_EQ(fingerprint_hex({0xD2, 0xFA, 0x0E, 0xC3}), "D2:FA:0E:C3");
    EXPECT_EQ(fingerprint_hex({}), "");
    expect_reparses(*f, parse_fingerprint);
    for (const char* bad : {"", "sha-256", "sha-256 D2:F", "sha-256 D2:FA:", "sha-256 D2FA",
                            "sha-256 :D2", "sha-256 G2:FA", "sha-256 D2:FA x", "sha:256 D2"})
        EXPECT_FALSE(parse_fingerprint(bad)) << bad;
}

TEST(SetupRole, Roles) {
    EXPECT_EQ(parse_setup("actpass"), SetupRole::ActPass);
    EXPECT_EQ(parse_setup("active"), SetupRole::Active);
    EXPECT_EQ(parse_setup("PASSIVE"), SetupRole::Passive);
    EXPECT_EQ(parse_setup("holdconn"), SetupRole::HoldConn);
    EXPECT_FALSE(parse_setup("both"));
    for (SetupRole s :
         {SetupRole::Active, SetupRole::Passive, SetupRole::ActPass, SetupRole::HoldConn})
        EXPECT_EQ(parse_setup(to_string(s)), s);
}

TEST(Ice, CredentialsAndOptions) {
    EXPECT_TRUE(valid_ice_ufrag("EsAw"));
    EXPECT_FALSE(valid_ice_ufrag("EsA"));
    EXPECT_FALSE(valid_ice_ufrag("Es-w"));
    EXPECT_FALSE(valid_ice_ufrag(std::string(257, 'a')));
    EXPECT_TRUE(valid_ice_pwd("bP+XJMM09aR8AiX1jdukzR6Y"));
    EXPECT_FALSE(valid_ice_pwd("bP+XJMM09aR8AiX1jdukz"));  // 21
    EXPECT_EQ(parse_ice_options("trickle"), (std::vector<std::string>{"trickle"}));
    EXPECT_EQ(parse_ice_options("trickle  renomination"),
              (std::vector<std::string>{"trickle", "renomination"}));
    EXPECT_FALSE(parse_ice_options(""));
    EXPECT_FALSE(parse_ice_options("a,b"));

    // Media-level values win; each falls back to the session level on its own.
    const SessionDescription d = parse_ok(wire(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
t=0 0
a=ice-lite
a=ice-ufrag:sessUfrag
a=ice-pwd:sessionPasswordIs22chars
m=audio 9 RTP/AVP 0
a=ice-ufrag:mediaUfrag
m=audio 9 RTP/AVP 0
m=audio 9 RTP/AVP 0
a=ice-pwd:short
)"));
    EXPECT_TRUE(is_ice_lite(d.session));
    EXPECT_FALSE(is_ice_lite(d.media[0]));
    EXPECT_EQ(ice_credentials(d.session, d.media[0]),
              (IceCredentials{"mediaUfrag", "sessionPasswordIs22chars"}));
    EXPECT_EQ(ice_credentials(d.session, d.media[1]),
              (IceCredentials{"sessUfrag", "sessionPasswordIs22chars"}));
    EXPECT_FALSE(ice_credentials(d.session, d.media[2]));
    EXPECT_FALSE(ice_credentials(d.media[1], d.media[1]));
}

TEST(Group, BundleAndMid) {
    EXPECT_EQ(parse_group("BUNDLE 0 1 2"), (Group{"BUNDLE", {"0", "1", "2"}}));
    EXPECT_EQ(parse_group("BUNDLE"), (Group{"BUNDLE", {}}));
    EXPECT_EQ(parse_group("LS audio video"), (Group{"LS", {"audio", "video"}}));
    expect_reparses(Group{"BUNDLE", {"a", "b"}}, parse_group);
    EXPECT_FALSE(parse_group(""));
    EXPECT_FALSE(parse_group("BUNDLE 0 1:2"));
    const SessionDescription d = parse_ok(wire(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
t=0 0
a=group:LS 0 1
a=group:BUNDLE 0 1
a=group:bundle 2
m=audio 9 RTP/AVP 0
a=mid:0
m=audio 9 RTP/AVP 0
a=mid:a b
m=audio 9 RTP/AVP 0
)"));
    const auto groups = bundle_groups(d.session);
    ASSERT_EQ(groups.size(), 2U);
    EXPECT_EQ(groups[0].mids, (std::vector<std::string>{"0", "1"}));
    EXPECT_EQ(groups[1].mids, (std::vector<std::string>{"2"}));
    EXPECT_EQ(mid(d.media[0]), "0");
    EXPECT_FALSE(mid(d.media[1]));  // not a token
    EXPECT_FALSE(mid(d.media[2]));
}

TEST(Direction, MediaLevelWinsOverSession) {
    SessionDescription d = parse_ok(wire(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
t=0 0
a=recvonly
m=audio 9 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=SENDONLY
a=inactive
a=rtcp-mux
m=audio 9 RTP/AVP 0
a=rtcp-mux
)"));
    EXPECT_EQ(direction_of(d.session), Direction::RecvOnly);
    EXPECT_EQ(direction_of(d.media[0]), Direction::SendOnly);  // the first
    EXPECT_EQ(effective_direction(d.session, d.media[0]), Direction::SendOnly);
    EXPECT_EQ(effective_direction(d.session, d.media[1]), Direction::RecvOnly);
    EXPECT_EQ(effective_direction(d.media[1], d.media[1]), Direction::SendRecv);  // default

    set_direction(d.media[0], Direction::Inactive);  // in place of the first, the other gone
    EXPECT_EQ(d.media[0].lines[1], (Line{'a', "inactive"}));
    EXPECT_EQ(d.media[0].lines.size(), 3U);
    set_direction(d.media[1], Direction::SendRecv);  // appended
    EXPECT_EQ(d.media[1].lines.back(), (Line{'a', "sendrecv"}));
    for (Direction x :
         {Direction::SendRecv, Direction::SendOnly, Direction::RecvOnly, Direction::Inactive})
        EXPECT_EQ(parse_direction(to_string(x)), x);
    EXPECT_FALSE(parse_direction("sendrecvx"));
}

TEST(Sctp, PortAndMaxMessageSize) {
    EXPECT_EQ(parse_sctp_port("5000"), 5000);
    EXPECT_FALSE(parse_sctp_port("65536"));
    EXPECT_FALSE(parse_sctp_port(""));
    EXPECT_EQ(parse_max_message_size("262144"), 262144U);
    EXPECT_EQ(parse_max_message_size("0"), 0U);
    EXPECT_FALSE(parse_max_message_size("1k"));
}

TEST(RemoveFormat, DropsItsLinesOnly) {
    SessionDescription d = parse_ok(wire(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
t=0 0
m=video 9 RTP/AVPF 96 97 98
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack
a=rtcp-fb:* ccm fir
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:98 H264/90000
a=fmtp:98 packetization-mode=1
a=rtcp-fb:98 nack pli
)"));
    MediaDescription& m = d.media[0];
    EXPECT_TRUE(remove_format(m, "97"));
    EXPECT_TRUE(remove_format(m, "96"));
    EXPECT_FALSE(remove_format(m, "96"));
    EXPECT_EQ(m.m.formats, (std::vector<std::string>{"98"}));
    EXPECT_EQ(m.lines.size(), 4U);
    EXPECT_EQ(m.lines[0].value, "rtcp-fb:* ccm fir");
    // A format named by a view into a line that goes.
    const std::string_view fmt = *m.attribute("rtpmap")->value;
    EXPECT_TRUE(remove_format(m, fmt.substr(0, 2)));
    EXPECT_EQ(m.lines.size(), 1U);
}

}  // namespace
// RFC 8864: data channels negotiated in SDP (the MSRP channel of RFC 8873).
TEST(SdpAttributes, DcMap) {
    const auto d = parse_dcmap("2 label=\"chat\";subprotocol=\"MSRP\";ordered=1");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->stream_id, 2);
    EXPECT_EQ(d->label, "chat");
    EXPECT_EQ(d->subprotocol, "MSRP");
    EXPECT_EQ(d->ordered, true);
    EXPECT_FALSE(d->max_retr);
    EXPECT_EQ(to_string(*d), "2 label=\"chat\";subprotocol=\"MSRP\";ordered=1");
    EXPECT_EQ(parse_dcmap(to_string(*d)), d);
    // Bare stream id; partial reliability; priority; an extension skipped;
    // a ';' inside the quoted label.
    EXPECT_EQ(parse_dcmap("0")->stream_id, 0);
    const auto p = parse_dcmap("65534 max-retr=3;priority=512;x-ext=1;label=\"a;b\"");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->max_retr, 3u);
    EXPECT_EQ(p->priority, 512);
    EXPECT_EQ(p->label, "a;b");
    EXPECT_EQ(parse_dcmap(to_string(*p)), p);
    EXPECT_EQ(parse_dcmap("1 max-time=1500")->max_time, 1500u);
    // Refusals.
    for (const char* bad :
         {"", "65535", "-1", "x", "2 ordered=2", "2 max-retr=1;max-time=1", "2 label=chat",
          "2 label=\"open", "2 ;", "2 =1", "2 priority=70000", "123456"}) {
        EXPECT_FALSE(parse_dcmap(bad)) << bad;
    }
}

TEST(SdpAttributes, DcSa) {
    const auto d = parse_dcsa("2 accept-types:message/cpim text/plain");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->stream_id, 2);
    EXPECT_EQ(d->attribute, "accept-types:message/cpim text/plain");
    EXPECT_EQ(to_string(*d), "2 accept-types:message/cpim text/plain");
    EXPECT_EQ(parse_dcsa("2   path:msrp://198.18.0.1:9/abc;tcp")->attribute,
              "path:msrp://198.18.0.1:9/abc;tcp");
    for (const char* bad : {"", "2", "2 ", "x accept-types:text/plain", "65535 a"})
        EXPECT_FALSE(parse_dcsa(bad)) << bad;
}

}  // namespace isthmus::sdp
