// RFC 4475 3.3, application-layer semantics: messages that are well formed
// (or nearly) but that an element must answer in a particular way. For each:
// what the RFC expects, and what the message layer gives the application to
// decide with. Parsing never fails here except mcl01 (framing) and
// validate_request reports only what RFC 3261 8.1.1 makes mandatory.
#include <gtest/gtest.h>

#include <string>

#include "sip/headers.hpp"
#include "sip_test_util.hpp"

namespace isthmus::sip {
namespace {

using test::expect_round_trip;
using test::parse_dgram;
using test::rfc4475_sdp;
using test::wire;

Message parsed(const std::string& bytes) {
    const ParseResult r = parse_dgram(bytes);
    EXPECT_EQ(r.status, ParseStatus::Ok) << r.reason;
    if (r.status == ParseStatus::Ok) expect_round_trip(r.message);
    return r.message;
}

// 3.3.1 insuf: no To, From, Call-ID, Max-Forwards. RFC: 400. Ours:
// "Missing To header" (the first missing in RFC 3261 8.1.1 order).
TEST(Rfc4475App, Insuf) {
    const Message m = parsed(wire(R"(INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf
Content-Type: application/sdp
l: 152

)") + rfc4475_sdp("192.0.2.95", "192.0.2.95"));
    EXPECT_EQ(validate_request(m), "Missing To header");
}

// 3.3.2 unkscm: Request-URI of an unknown scheme. RFC: 416 Unsupported URI
// Scheme. Ours: parsed as UriScheme::Other for the application to 416.
TEST(Rfc4475App, Unkscm) {
    const Message m = parsed(wire(R"(OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

)"));
    EXPECT_EQ(validate_request(m), std::nullopt);
    EXPECT_EQ(m.request_uri.scheme, UriScheme::Other);
    EXPECT_EQ(m.request_uri.other_scheme, "nobodyknowsthisscheme");
    EXPECT_EQ(m.request_uri.opaque, "totallyopaquecontent");
}

// 3.3.3 novelsc: Request-URI soap.beep://... RFC: 416. Ours: as unkscm.
TEST(Rfc4475App, Novelsc) {
    const Message m = parsed(wire(R"(OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: novelsc.asdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

)"));
    EXPECT_EQ(m.request_uri.other_scheme, "soap.beep");
    EXPECT_EQ(m.request_uri.opaque, "//192.0.2.103:3002");
}

// 3.3.4 unksm2: To, From and Contact with unknown schemes in a REGISTER.
// RFC: a registrar answers 400 (or 416). Ours: every one parses as a
// name-addr with UriScheme::Other; the registrar decides.
TEST(Rfc4475App, Unksm2) {
    const Message m = parsed(wire(R"(REGISTER sip:example.com SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksm2.daksdj@hyphenated-host.example.com
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw
Contact: <name:John_Smith>
l: 0

)"));
    EXPECT_EQ(validate_request(m), std::nullopt);
    EXPECT_EQ(parse_name_addr(*m.header("To"))->uri.other_scheme, "isbn");
    EXPECT_EQ(parse_name_addr(*m.header("From"))->uri.other_scheme, "http");
    EXPECT_EQ(parse_name_addr(*m.header("Contact"))->uri.other_scheme, "name");
}

// 3.3.5 bext01: unknown options in Require and Proxy-Require. RFC: 420
// Bad Extension listing them. Ours: two values in each, for the element.
TEST(Rfc4475App, Bext01) {
    const Message m = parsed(wire(R"(OPTIONS sip:user@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.net;tag=242etr
Max-Forwards: 6
Call-ID: bext01.0ha0isndaksdj
Require: nothingSupportsThis, nothingSupportsThisEither
Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis
CSeq: 8 OPTIONS
Via: SIP/2.0/TLS fold-and-staple.example.com;branch=z9hG4bKkdjuw
Content-Length: 0

)"));
    EXPECT_EQ(validate_request(m), std::nullopt);
    EXPECT_EQ(m.headers("Require"),
              (std::vector<std::string_view>{"nothingSupportsThis", "nothingSupportsThisEither"}));
    EXPECT_EQ(m.headers("Proxy-Require").size(), 2U);
}

// 3.3.6 invut: a body of an unknown type. RFC: 415. Ours: well formed.
TEST(Rfc4475App, Invut) {
    const Message m = parsed(wire(R"(INVITE sip:user@example.com SIP/2.0
Contact: <sip:caller@host5.example.net>
To: sip:j.user@example.com
From: sip:caller@example.net;tag=8392034
Max-Forwards: 70
Call-ID: invut.0ha0isndaksdjadsfij34n23d
CSeq: 235448 INVITE
Via: SIP/2.0/UDP somehost.example.com;branch=z9hG4bKkdjuw
Content-Type: application/unknownformat
Content-Length: 40

<audio>
 <pcmu port="443"/>
</audio>
)"));
    EXPECT_EQ(validate_request(m), std::nullopt);
    EXPECT_EQ(m.body.size(), 40U);
}

// 3.3.7 regaut01: an unknown authorization scheme. RFC: 401 with a
// challenge. Ours: well formed; Authorization is one value (never split).
TEST(Rfc4475App, Regaut01) {
    const Message m = parsed(wire(R"(REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=87321hj23128
Max-Forwards: 8
Call-ID: regaut01.0ha0isndaksdj
CSeq: 9338 REGISTER
Via: SIP/2.0/TCP 192.0.2.253;branch=z9hG4bKkdjuw
Authorization: NoOneKnowsThisScheme opaque-data=here
Content-Length:0

)"));
    EXPECT_EQ(validate_request(m), std::nullopt);
    EXPECT_EQ(m.headers("Authorization"),
              std::vector<std::string_view>{"NoOneKnowsThisScheme opaque-data=here"});
}

// 3.3.8 multi01: two To, From, CSeq, Call-ID, Max-Forwards. RFC: 400. Ours:
// "Multiple To headers" (the first in 8.1.1 order). The RFC's body ends
// with an empty line, which its Content-Length (154) counts.
TEST(Rfc4475App, Multi01) {
    const Message m = parsed(wire(R"(INVITE sip:user@company.com SIP/2.0
Contact: <sip:caller@host25.example.net>
Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw
Max-Forwards: 70
CSeq: 5 INVITE
Call-ID: multi01.98asdh@192.0.2.1
CSeq: 59 INVITE
Call-ID: multi01.98asdh@192.0.2.2
From: sip:caller@example.com;tag=3413415
To: sip:user@example.com
To: sip:other@example.net
From: sip:caller@example.net;tag=2923420123
Content-Type: application/sdp
l: 154
Contact: <sip:caller@host36.example.net>
Max-Forwards: 5

)") + rfc4475_sdp("192.0.2.25", "192.0.2.25") +
                             "\r\n");
    EXPECT_EQ(validate_request(m), "Multiple To headers");
}

// 3.3.9 mcl01: two Content-Length values (13 and 5). RFC: 400 (close a
// stream). Ours: BadContentLength from the parser.
TEST(Rfc4475App, Mcl01) {
    const ParseResult r = parse_dgram(wire(R"(OPTIONS sip:user@example.com SIP/2.0
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423
To: sip:user@example.com
From: sip:other@example.net;tag=3923942
Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf
CSeq: 15932 OPTIONS
Content-Length: 13
Max-Forwards: 60
Content-Length: 5
Content-Type: text/plain

There's no way to know how many octets are supposed to be here.
)"));
    EXPECT_EQ(r.status, ParseStatus::Error);
    EXPECT_EQ(r.error, ParseError::BadContentLength);
    // What was parsed is there for a 400.
    EXPECT_EQ(r.message.method, "OPTIONS");
    EXPECT_EQ(r.message.headers("Via").size(), 1U);
}

// 3.3.10 bcast: a 200 whose second Via is 255.255.255.255. RFC: the element
// must not forward to a broadcast address. Ours: well formed; the Via reads
// as IPv4 for the transaction layer to refuse.
TEST(Rfc4475App, Bcast) {
    const Message m = parsed(wire(R"(SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23
Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 154
Content-Type: application/sdp
Contact: <sip:user@host28.example.com>

)") + rfc4475_sdp("192.0.2.198", "192.0.2.198"));
    EXPECT_EQ(validate_response(m), std::nullopt);
    const auto second = parse_via(m.headers("Via")[1]);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->host_kind, HostKind::IPv4);
}

// 3.3.11 zeromf: Max-Forwards: 0 on an OPTIONS. RFC: a proxy answers 483,
// the endpoint answers normally. Ours: well formed, hops 0.
TEST(Rfc4475App, Zeromf) {
    const Message m = parsed(wire(R"(OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=3ghsd41
Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas
CSeq: 39234321 OPTIONS
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw2349i
Max-Forwards: 0
Content-Length: 0

)"));
    EXPECT_EQ(validate_request(m), std::nullopt);
    EXPECT_EQ(parse_max_forwards(*m.header("Max-Forwards"))->hops, 0);
}

// 3.3.12 cparam01 / cparam02: ";unknownparam" outside <> is a Contact
// parameter, inside <> a URI parameter. RFC: register accordingly.
TEST(Rfc4475App, Cparam01And02) {
    const std::string head = R"(REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe
To: sip:watson@example.com
Call-ID: cparam01.70710@saturn.example.com
CSeq: 2 REGISTER
)";
    const Message m1 =
        parsed(wire(head + "Contact: sip:+19725552222@gw1.example.net;unknownparam\nl: 0\n\n"));
    const auto c1 = parse_name_addr(*m1.header("Contact"));
    ASSERT_TRUE(c1);
    EXPECT_TRUE(c1->uri.params.empty());
    EXPECT_NE(c1->param("unknownparam"), nullptr);

    const Message m2 =
        parsed(wire(head + "Contact: <sip:+19725552222@gw1.example.net;unknownparam>\nl: 0\n\n"));
    const auto c2 = parse_name_addr(*m2.header("Contact"));
    ASSERT_TRUE(c2);
    EXPECT_TRUE(c2->uri.has_param("unknownparam"));
    EXPECT_TRUE(c2->params.empty());
}

// 3.3.13 regescrt: a Contact URI in <> with an escaped Route header. RFC:
// well formed; a registrar must not store the header as a route. Ours:
// parsed, the header kept in the URI.
TEST(Rfc4475App, Regescrt) {
    const Message m = parsed(wire(R"(REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=8
Max-Forwards: 70
Call-ID: regescrt.k345asrl3fdbv@192.0.2.1
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
M: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>
L:0

)"));
    EXPECT_EQ(validate_request(m), std::nullopt);
    const auto contact = parse_name_addr(*m.header("Contact"));
    ASSERT_TRUE(contact);
    ASSERT_EQ(contact->uri.headers.size(), 1U);
    EXPECT_EQ(contact->uri.headers[0].value, "%3Csip:sip.example.com%3E");
}

// 3.3.14 sdp01: an INVITE with SDP that accepts only text/nobodyKnowsThis.
// RFC: 406 or proceed. Ours: well formed.
TEST(Rfc4475App, Sdp01) {
    const Message m = parsed(wire(R"(INVITE sip:user@example.com SIP/2.0
To: sip:j_user@example.com
Contact: <sip:caller@host15.example.net>
From: sip:caller@example.net;tag=234
Max-Forwards: 5
Call-ID: sdp01.ndaksdj9342dasdd
Accept: text/nobodyKnowsThis
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw
Content-Length: 150
Content-Type: application/sdp

)") + rfc4475_sdp("192.0.2.5", "192.0.2.5"));
    EXPECT_EQ(validate_request(m), std::nullopt);
}

// 3.3.15 inv2543: an RFC 2543 INVITE (no branch, Max-Forwards or
// Content-Length). RFC: accept for backward compatibility. Ours: parsed
// (over UDP the body is the rest of the datagram) but validate_request
// reports "Missing Max-Forwards header": RFC 3261 8.1.1 makes it mandatory
// and the eP-CSCF's peers are RFC 3261 UAs. A deliberate deviation.
TEST(Rfc4475App, Inv2543) {
    const Message m = parsed(wire(R"(INVITE sip:UserB@example.com SIP/2.0
Via: SIP/2.0/UDP iftgw.example.com
From: <sip:+13035551111@ift.client.example.net;user=phone>
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>
To: sip:+16505552222@ss1.example.net;user=phone
Call-ID: inv2543.1717@ift.client.example.com
CSeq: 56 INVITE
Content-Type: application/sdp

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.5
s=-
c=IN IP4 192.0.2.5
t=0 0
m=audio 49217 RTP/AVP 0
)"));
    EXPECT_EQ(validate_request(m), "Missing Max-Forwards header");
    EXPECT_EQ(m.body.substr(0, 5), "v=0\r\n");
    EXPECT_FALSE(parse_via(*m.header("Via"))->branch());
    // user=phone after the addr-spec is a To parameter, not a URI one.
    EXPECT_NE(parse_name_addr(*m.header("To"))->param("user"), nullptr);
}

}  // namespace
}  // namespace isthmus::sip
