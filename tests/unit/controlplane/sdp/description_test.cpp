// The description model and its editing API (sdp/description.hpp): lines
// and attributes by type and name, insertion in the RFC 8866 order,
// set/replace/remove at both levels, the connection and origin helpers.
#include "sdp/description.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

using test::parse_ok;
using test::wire;

std::vector<std::string> types_and_values(const Section& s) {
    std::vector<std::string> out;
    for (const Line& l : s.lines)
        out.push_back(std::string(1, l.type) + "=" + l.value);
    return out;
}

TEST(Line, AttributeSplitsAtTheFirstColon) {
    EXPECT_EQ((Line{'a', "rtcp-mux"}).attribute(), (Attribute{"rtcp-mux", std::nullopt}));
    EXPECT_EQ((Line{'a', "rtpmap:0 PCMU/8000"}).attribute(), (Attribute{"rtpmap", "0 PCMU/8000"}));
    EXPECT_EQ((Line{'a', "fingerprint:sha-1 AB:CD"}).attribute(),
              (Attribute{"fingerprint", "sha-1 AB:CD"}));
    EXPECT_EQ((Line{'a', "x:"}).attribute(), (Attribute{"x", ""}));
    EXPECT_EQ((Line{'c', "IN IP4 x"}).attribute(), (Attribute{"IN IP4 x", std::nullopt}));
    EXPECT_TRUE((Line{'a', "RTCP-MUX"}).is_attribute("rtcp-mux"));
    EXPECT_FALSE((Line{'b', "rtcp-mux"}).is_attribute("rtcp-mux"));
    EXPECT_FALSE((Line{'a', "rtcp-muxx"}).is_attribute("rtcp-mux"));
    EXPECT_EQ(Line::make_attribute("mid", "0"), (Line{'a', "mid:0"}));
    EXPECT_EQ(Line::make_attribute("ice-lite", std::nullopt), (Line{'a', "ice-lite"}));
    EXPECT_EQ(Line::make_attribute("x", ""), (Line{'a', "x:"}));
}

const std::string kOffer = wire(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
t=0 0
a=ice-lite
m=audio 9 RTP/AVP 0 8
c=IN IP4 192.0.2.1
a=rtpmap:0 PCMU/8000
a=curr:qos local none
a=rtpmap:8 PCMA/8000
a=sendrecv
a=Rtcp-Mux
x=unknown
)");

TEST(Section, FindAndReadAttributes) {
    const SessionDescription d = parse_ok(kOffer);
    const MediaDescription& m = d.media[0];
    EXPECT_TRUE(m.has_attribute("rtcp-mux"));
    EXPECT_TRUE(m.has_attribute("RTPMAP"));
    EXPECT_FALSE(m.has_attribute("ice-lite"));
    EXPECT_TRUE(d.session.has_attribute("ice-lite"));
    EXPECT_EQ(m.attribute("rtpmap")->value, "0 PCMU/8000");
    EXPECT_EQ(m.attribute("rtcp-mux")->name, "Rtcp-Mux");  // as written
    EXPECT_FALSE(m.attribute("rtcp-mux")->value);
    EXPECT_FALSE(m.attribute("nothing"));
    const auto maps = m.attributes("rtpmap");
    ASSERT_EQ(maps.size(), 2U);
    EXPECT_EQ(maps[1].value, "8 PCMA/8000");
    EXPECT_EQ(m.all_attributes().size(), 5U);
    EXPECT_EQ(m.find('x')->value, "unknown");
    EXPECT_EQ(m.find('b'), nullptr);
    EXPECT_EQ(m.values('c'), (std::vector<std::string_view>{"IN IP4 192.0.2.1"}));
}

TEST(Section, AddGoesToTheRfcPlace) {
    SessionDescription d = parse_ok(kOffer);
    MediaDescription& m = d.media[0];
    m.add_attribute("ptime", "20");  // after the last a=, before x=
    m.add('b', "AS:64");             // after c=, before the attributes
    m.add('i', "speech");            // first
    m.add('k', "prompt");            // before the attributes
    EXPECT_EQ(types_and_values(m),
              (std::vector<std::string>{"i=speech", "c=IN IP4 192.0.2.1", "b=AS:64", "k=prompt",
                                        "a=rtpmap:0 PCMU/8000", "a=curr:qos local none",
                                        "a=rtpmap:8 PCMA/8000", "a=sendrecv", "a=Rtcp-Mux",
                                        "a=ptime:20", "x=unknown"}));
    d.session.add('c', "IN IP4 192.0.2.9");
    d.session.add('b', "AS:64");
    d.session.add('u', "http://example.com");
    EXPECT_EQ(
        types_and_values(d.session),
        (std::vector<std::string>{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "u=http://example.com",
                                  "c=IN IP4 192.0.2.9", "b=AS:64", "t=0 0", "a=ice-lite"}));
    test::expect_stable(d);
}

TEST(Section, SetReplacesInPlaceAndRemovesOthers) {
    SessionDescription d = parse_ok(kOffer);
    MediaDescription& m = d.media[0];
    m.set_attribute("rtpmap", "0 PCMU/8000/1");
    EXPECT_EQ(m.attributes("rtpmap").size(), 1U);
    EXPECT_EQ(m.lines[1], (Line{'a', "rtpmap:0 PCMU/8000/1"}));
    m.set_attribute("RTCP-MUX");  // the name as given now
    EXPECT_EQ(m.attribute("rtcp-mux")->name, "RTCP-MUX");
    m.set_attribute("rtcp", "9");  // none: appended
    EXPECT_EQ(m.lines[m.lines.size() - 2], (Line{'a', "rtcp:9"}));
    m.add('c', "IN IP4 192.0.2.2");  // a second c= (multicast layers)
    m.set('c', "IN IP6 2001:db8::1");
    EXPECT_EQ(m.values('c'), (std::vector<std::string_view>{"IN IP6 2001:db8::1"}));
    EXPECT_EQ(m.lines[0].type, 'c');
    // A name taken from a view into the line that is replaced.
    const Attribute a = *m.attribute("curr");
    m.set_attribute(a.name, "qos local sendrecv");
    EXPECT_EQ(m.attribute("curr")->value, "qos local sendrecv");
}

TEST(Section, RemoveByNameAndPredicate) {
    SessionDescription d = parse_ok(kOffer);
    MediaDescription& m = d.media[0];
    EXPECT_EQ(m.remove_attributes("RTPMAP"), 2U);
    EXPECT_EQ(m.remove_attributes("rtpmap"), 0U);
    EXPECT_EQ(m.remove_attributes_if([](const Attribute& a) { return !a.value; }), 2U);
    EXPECT_EQ(
        types_and_values(m),
        (std::vector<std::string>{"c=IN IP4 192.0.2.1", "a=curr:qos local none", "x=unknown"}));
    EXPECT_EQ(m.remove('x'), 1U);
    EXPECT_EQ(m.remove('c'), 1U);
    // A name taken from a view into a line that is removed.
    const Attribute a = *m.attribute("curr");
    EXPECT_EQ(m.remove_attributes(a.name), 1U);
    EXPECT_TRUE(m.lines.empty());
}

TEST(Section, FindAttributeForAnEditInPlace) {
    SessionDescription d = parse_ok(kOffer);
    Line* l = d.media[0].find_attribute("curr");
    ASSERT_NE(l, nullptr);
    *l = Line::make_attribute("curr", "qos local sendrecv");
    EXPECT_EQ(d.media[0].lines[2].value, "curr:qos local sendrecv");
    EXPECT_EQ(d.media[0].find_attribute("conf"), nullptr);
}

TEST(SessionDescription, OriginAndConnection) {
    SessionDescription d = parse_ok(kOffer);
    Origin o = *d.origin();
    EXPECT_EQ(o.session_version_number(), 1U);
    o.session_version = "2";
    o.address = "198.18.0.1";
    d.set_origin(o);
    EXPECT_EQ(d.session.lines[1], (Line{'o', "- 1 2 IN IP4 198.18.0.1"}));

    EXPECT_EQ(effective_connection(d.session, d.media[0])->address, "192.0.2.1");
    d.media[0].remove('c');
    EXPECT_FALSE(effective_connection(d.session, d.media[0]));
    set_connection(d.session, Connection{"IN", "IP6", "2001:db8::5"});
    EXPECT_EQ(effective_connection(d.session, d.media[0])->addr_type, "IP6");
    EXPECT_EQ(d.session.lines[3], (Line{'c', "IN IP6 2001:db8::5"}));  // before t=
    set_connection(d.media[0], Connection{"IN", "IP4", "198.18.0.2"});
    EXPECT_EQ(effective_connection(d.session, d.media[0])->address, "198.18.0.2");
    EXPECT_EQ(d.media[0].lines[0].type, 'c');
    test::expect_stable(d);
}

TEST(SessionDescription, EqualityIsStructural) {
    const SessionDescription a = parse_ok(kOffer);
    SessionDescription b = a;
    EXPECT_EQ(a, b);
    b.media[0].m.port = 10;
    EXPECT_NE(a, b);
    b = a;
    b.media[0].lines.back().value = "other";
    EXPECT_NE(a, b);
}

}  // namespace
}  // namespace isthmus::sdp
