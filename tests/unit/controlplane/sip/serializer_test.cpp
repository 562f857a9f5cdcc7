// The serializer (sip/serializer.hpp): exact wire bytes for built messages,
// canonical names, Content-Length always right and written once, no header
// injection, and parse -> serialize -> parse over a set of messages.
#include "sip/serializer.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sip/headers.hpp"
#include "sip_test_util.hpp"

namespace isthmus::sip {
namespace {

using test::expect_round_trip;
using test::parse_dgram;
using test::parse_stream;
using test::wire;

TEST(Serializer, BuiltRequestExactBytes) {
    Message m = make_request("OPTIONS", *parse_uri("sip:bob@biloxi.example.com;transport=tcp"));
    Via via;
    via.transport = "TCP";
    via.host = "pc33.atlanta.example.com";
    via.params = {{"branch", "z9hG4bKhjhs8ass877", false}, {"rport", std::nullopt, false}};
    m.add("v", to_string(via));
    m.add("max-forwards", to_string(MaxForwards{70}));
    m.add("t", "<sip:bob@biloxi.example.com>");
    m.add("f", "\"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774");
    m.add("i", "a84b4c76e66710");
    m.add("cseq", to_string(CSeq{63104, "OPTIONS"}));
    m.add("Accept", "application/sdp");
    EXPECT_EQ(serialize(m), wire(R"(OPTIONS sip:bob@biloxi.example.com;transport=tcp SIP/2.0
Via: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877;rport
Max-Forwards: 70
To: <sip:bob@biloxi.example.com>
From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 63104 OPTIONS
Accept: application/sdp
Content-Length: 0

)"));
    expect_round_trip(m);
}

TEST(Serializer, ResponseStatusLine) {
    Message m = make_response(200, "OK");
    m.add("Content-Type", "application/sdp");
    m.body = "v=0\r\n";
    EXPECT_EQ(serialize(m),
              "SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n"
              "Content-Length: 5\r\n\r\nv=0\r\n");
    EXPECT_EQ(serialize(make_response(100, "")), "SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n");
}

TEST(Serializer, ContentLengthFromBodyWrittenOnce) {
    Message m = make_request("MESSAGE", *parse_uri("sip:b@example.com"));
    m.add("Content-Length", "999");
    m.add("To", "<sip:b@example.com>");
    m.add("l", "7");
    m.body = "hi";
    // In place of the first Content-Length field, with the body's size; the
    // other dropped.
    EXPECT_EQ(serialize(m),
              "MESSAGE sip:b@example.com SIP/2.0\r\nContent-Length: 2\r\n"
              "To: <sip:b@example.com>\r\n\r\nhi");
}

TEST(Serializer, ContentLengthPushedByHandInAnySpellingIsOurs) {
    // Fields pushed without Message's members keep their names as written;
    // the length is still the body's, once, whatever the spelling.
    // (A name with octets outside token is written with '-' for each:
    // "Content Length" would come out as a second Content-Length.)
    for (const char* name : {"l", "L", "content-length", "CONTENT-LENGTH", "Content Length",
                             "Content\rLength", "content/length"}) {
        Message m = make_request("MESSAGE", *parse_uri("sip:b@example.com"));
        m.fields.push_back({"X-Before", "1"});
        m.fields.push_back({name, "999"});
        m.fields.push_back({"content-length", "7"});
        m.body = "hey";
        EXPECT_EQ(serialize(m),
                  "MESSAGE sip:b@example.com SIP/2.0\r\nX-Before: 1\r\nContent-Length: 3\r\n"
                  "\r\nhey")
            << name;
    }
    // A name that only looks like one is left alone.
    Message m = make_request("MESSAGE", *parse_uri("sip:b@example.com"));
    m.fields.push_back({"Content-Lengths", "9"});
    m.fields.push_back({"m", "<sip:c@example.com>"});
    EXPECT_EQ(serialize(m),
              "MESSAGE sip:b@example.com SIP/2.0\r\nContent-Lengths: 9\r\n"
              "m: <sip:c@example.com>\r\nContent-Length: 0\r\n\r\n");
}

TEST(Serializer, NoHeaderInjection) {
    Message m = make_request("OPTIONS", *parse_uri("sip:b@example.com"));
    m.add("Subject", "hello\r\nVia: SIP/2.0/UDP evil.example");
    m.add("X-Evil\r\nVia", "x");
    const std::string out = serialize(m);
    const ParseResult r = parse_stream(out);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    EXPECT_EQ(r.message.field_count("Via"), 0U);
    EXPECT_EQ(r.message.header("Subject"), "hello  Via: SIP/2.0/UDP evil.example");
    EXPECT_EQ(r.message.header("X-Evil--Via"), "x");
}

TEST(Serializer, FieldsKeepOrderAndFormAcrossRoundTrips) {
    const std::string bytes = wire(R"(SIP/2.0 200 OK
Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKa, SIP/2.0/UDP ue.example;branch=z9hG4bKb
record-route: <sip:p1.example;lr>
To: <sip:bob@example.com>;tag=x
From: <sip:alice@example.com>;tag=y
Call-ID: rt@example
CSeq: 1 INVITE
Contact: <sip:bob@192.0.2.4>
Service-Route: <sip:orig@scscf.example;lr>
P-Associated-URI: <sip:alice@example.com>, <tel:+15551234>
l: 0000

)");
    const ParseResult r = parse_dgram(bytes);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    const std::string out = serialize(r.message);
    EXPECT_NE(out.find("Record-Route: <sip:p1.example;lr>\r\n"), std::string::npos);
    EXPECT_NE(out.find("Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKa, SIP/2.0/UDP ue.example"),
              std::string::npos);
    EXPECT_NE(out.find("\r\nContent-Length: 0\r\n\r\n"), std::string::npos);
    expect_round_trip(r.message);
}

// Every seed of the fuzz corpus's kinds, written here too: parse ->
// serialize -> parse is stable on each framing.
TEST(Serializer, RoundTripsOfTypicalMessages) {
    const std::string messages[] = {
        wire("INVITE sip:bob@example.com SIP/2.0\nv: SIP/2.0/UDP h;branch=z9hG4bK1\n"
             "m: <sip:a@h>\nc: application/sdp\nl: 4\n\nv=0\n"),
        wire("ACK sip:bob@example.com SIP/2.0\nMax-Forwards: 70\nContent-Length: 0\n\n"),
        wire("SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Length: 0\n\n"),
        wire("BYE sip:bob@[2001:db8::1] SIP/2.0\nSubject: a\n  b\nContent-Length: 0\n\n"),
    };
    for (const std::string& bytes : messages) {
        for (const Framing f : {Framing::Stream, Framing::Datagram}) {
            const ParseResult r = parse_message(bytes, f);
            ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason << "\n" << bytes;
            expect_round_trip(r.message);
        }
    }
}

}  // namespace
}  // namespace isthmus::sip
