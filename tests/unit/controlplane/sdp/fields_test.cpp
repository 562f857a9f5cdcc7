// Typed o= c= t= b= m= values (sdp/fields.hpp): the grammar, what is
// refused, and to_string -> parse giving the same value back.
#include "sdp/fields.hpp"

#include <gtest/gtest.h>

namespace isthmus::sdp {
namespace {

template <typename T, typename Parse>
void expect_reparses(const T& v, Parse parse) {
    const auto again = parse(to_string(v));
    ASSERT_TRUE(again) << to_string(v);
    EXPECT_EQ(*again, v);
}

TEST(Origin, ParsesSixFields) {
    const auto o = parse_origin("SAMSUNG-IMS-UE 6428217390 0 IN IP6 2001:db8:c0a8:1::2a");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->username, "SAMSUNG-IMS-UE");
    EXPECT_EQ(o->session_id, "6428217390");
    EXPECT_EQ(o->session_version, "0");
    EXPECT_EQ(o->net_type, "IN");
    EXPECT_EQ(o->addr_type, "IP6");
    EXPECT_EQ(o->address, "2001:db8:c0a8:1::2a");
    EXPECT_EQ(o->session_version_number(), 0U);
    expect_reparses(*o, parse_origin);
    // Firefox's username, a 19-digit id.
    const auto ff =
        parse_origin("mozilla...THIS_IS_SDPARTA-128.0 7205312434036134036 0 IN IP4 0.0.0.0");
    ASSERT_TRUE(ff);
    EXPECT_EQ(ff->username, "mozilla...THIS_IS_SDPARTA-128.0");
    // Runs of white space are tolerated; to_string writes one SP.
    EXPECT_EQ(to_string(*parse_origin("-  1\t2 IN IP4 x")), "- 1 2 IN IP4 x");
    // A version that is not a number is kept, but has no number.
    EXPECT_FALSE(parse_origin("- 1 v2 IN IP4 x")->session_version_number());
    EXPECT_FALSE(parse_origin("- 1 99999999999999999999 IN IP4 x")->session_version_number());
}

TEST(Origin, Refusals) {
    EXPECT_FALSE(parse_origin(""));
    EXPECT_FALSE(parse_origin("- 1 1 IN IP4"));
    EXPECT_FALSE(parse_origin("- 1 1 IN IP4 x y"));
    EXPECT_FALSE(parse_origin("- 1 1 IN IP4 x\x01"));
}

TEST(Connection, AddressKeptRawWithMulticastSuffixes) {
    const auto c = parse_connection("IN IP4 203.0.113.7");
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, (Connection{"IN", "IP4", "203.0.113.7"}));
    EXPECT_EQ(c->host(), "203.0.113.7");
    EXPECT_FALSE(c->has_multicast_suffix());
    const auto v6 = parse_connection("IN IP6 2001:db8::1");
    EXPECT_EQ(v6->host(), "2001:db8::1");
    const auto mc = parse_connection("IN IP4 233.252.0.1/127/3");
    ASSERT_TRUE(mc);
    EXPECT_EQ(mc->address, "233.252.0.1/127/3");
    EXPECT_EQ(mc->host(), "233.252.0.1");
    EXPECT_TRUE(mc->has_multicast_suffix());
    EXPECT_EQ(parse_connection("IN IP6 ff00::db8:0:101/3")->host(), "ff00::db8:0:101");
    EXPECT_EQ(parse_connection("IN IP4 media.example.com")->host(), "media.example.com");
    expect_reparses(*mc, parse_connection);
    EXPECT_FALSE(parse_connection("IN IP4"));
    EXPECT_FALSE(parse_connection("IN IP4 a b"));
    EXPECT_FALSE(parse_connection("I,N IP4 a"));
}

TEST(Timing, TwoDecimalTimes) {
    EXPECT_EQ(parse_timing("0 0"), (Timing{0, 0}));
    EXPECT_EQ(parse_timing("3034423619 3042462419"), (Timing{3034423619U, 3042462419U}));
    expect_reparses(Timing{3034423619U, 0}, parse_timing);
    EXPECT_FALSE(parse_timing("0"));
    EXPECT_FALSE(parse_timing("0 0 0"));
    EXPECT_FALSE(parse_timing("0 x"));
    EXPECT_FALSE(parse_timing("99999999999999999999 0"));
}

TEST(Bandwidth, TypeAndValue) {
    EXPECT_EQ(parse_bandwidth("AS:49"), (Bandwidth{"AS", 49}));
    EXPECT_EQ(parse_bandwidth("RS:0"), (Bandwidth{"RS", 0}));
    EXPECT_EQ(parse_bandwidth("TIAS:64000"), (Bandwidth{"TIAS", 64000}));
    EXPECT_EQ(parse_bandwidth("X-YZ:1"), (Bandwidth{"X-YZ", 1}));
    expect_reparses(Bandwidth{"RR", 1837}, parse_bandwidth);
    EXPECT_FALSE(parse_bandwidth("AS"));
    EXPECT_FALSE(parse_bandwidth("AS:"));
    EXPECT_FALSE(parse_bandwidth(":5"));
    EXPECT_FALSE(parse_bandwidth("AS:5k"));
    EXPECT_FALSE(parse_bandwidth("AS: 5"));
}

TEST(MediaLine, Grammar) {
    const auto m = parse_media_line("audio 49170 RTP/AVP 0 8 97");
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, (MediaLine{"audio", 49170, std::nullopt, "RTP/AVP", {"0", "8", "97"}}));
    EXPECT_TRUE(m->has_format("8"));
    EXPECT_FALSE(m->has_format("9"));
    EXPECT_EQ(to_string(*m), "audio 49170 RTP/AVP 0 8 97");
    const auto layered = parse_media_line("video 49170/2 RTP/AVP 31");
    EXPECT_EQ(layered->port_count, 2);
    EXPECT_EQ(to_string(*layered), "video 49170/2 RTP/AVP 31");
    const auto dc = parse_media_line("application 9 UDP/DTLS/SCTP webrtc-datachannel");
    EXPECT_EQ(dc->formats, (std::vector<std::string>{"webrtc-datachannel"}));
    EXPECT_EQ(parse_media_line("image 0 udptl t38")->port, 0);
    EXPECT_EQ(parse_media_line("audio 65535 RTP/AVP 0")->port, 65535);
    for (const auto& v : {*m, *layered, *dc})
        expect_reparses(v, parse_media_line);
}

TEST(MediaLine, Refusals) {
    for (const char* bad :
         {"", "audio", "audio 9", "audio x RTP/AVP 0", "audio -1 RTP/AVP 0",
          "audio 65536 RTP/AVP 0", "audio 9/0 RTP/AVP 0", "audio 9/x RTP/AVP 0",
          "audio 9/1/1 RTP/AVP 0", "audio 9 RTP/ 0", "audio 9 /AVP 0", "audio 9 RTP//AVP 0",
          "aud\"io 9 RTP/AVP 0", "audio 9 RTP/AVP 0 \x7f", "audio 9 RTP/AVP 0:1"})
        EXPECT_FALSE(parse_media_line(bad)) << bad;
    EXPECT_TRUE(valid_media_port("0"));
    EXPECT_TRUE(valid_media_port("49170/2"));
    EXPECT_FALSE(valid_media_port(""));
    EXPECT_FALSE(valid_media_port("/2"));
    EXPECT_FALSE(valid_media_port("99999999999999999999999"));
}

}  // namespace
}  // namespace isthmus::sdp
