// The serializer (sdp/serializer.hpp): byte-exact round trips of well-formed
// descriptions, canonical output for the rest (CRLF, one SP in m= lines),
// stability of parse -> serialize -> parse, exact bytes of a description
// built in code, and no line injection through edited values.
#include "sdp/serializer.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sdp/attributes.hpp"
#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

using test::data;
using test::expect_exact_round_trip;
using test::expect_stable;
using test::parse_ok;
using test::wire;

TEST(Serializer, RealDescriptionsRoundTripByteForByte) {
    for (const char* name :
         {"chrome_offer.sdp", "chrome_answer.sdp", "firefox_offer.sdp", "volte_offer.sdp",
          "volte_answer.sdp", "ims_savp_offer.sdp", "vilte_offer.sdp"}) {
        SCOPED_TRACE(name);
        const std::string bytes = data(name);
        ASSERT_GT(bytes.size(), 100U);
        expect_exact_round_trip(bytes);
    }
}

TEST(Serializer, LfInputComesOutCrlf) {
    std::string lf = data("volte_offer.sdp");
    std::erase(lf, '\r');
    const SessionDescription d = parse_ok(lf);
    EXPECT_EQ(serialize(d), data("volte_offer.sdp"));
    expect_stable(d);
}

TEST(Serializer, CanonicalFormOfWhatIsNotWellFormed) {
    // Missing final line end, trailing empty lines, m= spacing, port zeros.
    const SessionDescription d = parse_ok(
        "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio  009\tRTP/AVP  0 8 \n"
        "a=sendrecv\n\n\n");
    EXPECT_EQ(serialize(d), wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n"
                                 "m=audio 9 RTP/AVP 0 8\na=sendrecv\n"));
    expect_stable(d);
    const SessionDescription last = parse_ok(wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0"));
    EXPECT_EQ(serialize(last), wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n"));
}

TEST(Serializer, BuiltDescriptionExactBytes) {
    SessionDescription d;
    d.session.add('v', "0");
    d.set_origin(Origin{"isthmus", "7", "1", "IN", "IP4", "198.18.0.10"});
    d.session.add('s', "-");
    d.session.add('t', "0 0");
    d.session.add('c', "IN IP4 198.18.0.10");  // goes before t=
    MediaDescription audio;
    audio.m = MediaLine{"audio", 40000, std::nullopt, "RTP/AVP", {"116", "111"}};
    audio.add_attribute("rtpmap", to_string(RtpMap{116, "AMR-WB", 16000, "1"}));
    audio.add_attribute("rtpmap", "111 telephone-event/16000");
    audio.add_attribute("rtcp", to_string(Rtcp{40001, std::nullopt}));
    set_direction(audio, Direction::SendRecv);
    audio.add('b', "AS:49");  // goes before the attributes
    d.media.push_back(audio);
    EXPECT_EQ(serialize(d), wire(R"(v=0
o=isthmus 7 1 IN IP4 198.18.0.10
s=-
c=IN IP4 198.18.0.10
t=0 0
m=audio 40000 RTP/AVP 116 111
b=AS:49
a=rtpmap:116 AMR-WB/16000/1
a=rtpmap:111 telephone-event/16000
a=rtcp:40001
a=sendrecv
)"));
    expect_stable(d);
}

TEST(Serializer, NoInjectionThroughEditedValues) {
    SessionDescription d = parse_ok(data("volte_answer.sdp"));
    d.session.set('s', "x\r\nm=video 1 RTP/AVP 0");
    d.media[0].add_attribute("evil", std::string_view("a\nb\0c", 5));
    d.media[0].m.proto = "RTP/AVP\r\nx";
    d.media[0].m.formats.push_back("");
    d.media[0].m.formats.push_back("1 2");
    d.media[0].lines.push_back(Line{'m', "audio 1 RTP/AVP 0"});
    d.media[0].lines.push_back(Line{'\n', "x"});
    const std::string out = serialize(d);
    const SessionDescription again = parse_ok(out);
    ASSERT_EQ(again.media.size(), 1U);
    EXPECT_EQ(again.session.find('s')->value, "x  m=video 1 RTP/AVP 0");
    EXPECT_EQ(again.media[0].attribute("evil")->value, "a b c");
    EXPECT_EQ(again.media[0].m.proto, "RTP/AVP--x");
    EXPECT_EQ(again.media[0].m.formats.back(), "1-2");
    EXPECT_EQ(again.media[0].m.formats[again.media[0].m.formats.size() - 2], "-");
    EXPECT_EQ(again.media[0].lines.size(), d.media[0].lines.size() - 2);
}

TEST(Serializer, EditedRealOfferStaysStable) {
    // The kind of edit the IMS-ALG makes: everything it does not touch stays.
    SessionDescription d = parse_ok(data("chrome_offer.sdp"));
    for (MediaDescription& m : d.media) {
        m.remove_attributes("candidate");
        m.remove_attributes("ice-ufrag");
        m.remove_attributes("ice-pwd");
        m.remove_attributes("ice-options");
        m.remove_attributes("fingerprint");
        m.remove_attributes("setup");
        set_connection(m, Connection{"IN", "IP4", "198.18.0.10"});
        m.m.port = 40000;
        m.m.proto = "RTP/AVP";
    }
    const std::string out = serialize(d);
    EXPECT_EQ(out.find("a=candidate"), std::string::npos);
    EXPECT_NE(out.find("a=ssrc:3735928559 cname:T2v1m0lY8vXhJ4kQ\r\n"), std::string::npos);
    EXPECT_NE(out.find("a=msid-semantic: WMS 7b3f0c52"), std::string::npos);
    EXPECT_NE(out.find("m=audio 40000 RTP/AVP 111 63 9 0 8 13 110 126\r\nc=IN IP4 198.18.0.10\r\n"
                       "a=rtcp:9 IN IP4 0.0.0.0\r\na=mid:0\r\n"),
              std::string::npos);
    expect_stable(d);
}

}  // namespace
}  // namespace isthmus::sdp
