// RFC 4475 3.1.2 (invalid messages), 3.2 (transaction layer) and 3.3
// (application layer): each message as the RFC shows it, what the RFC
// expects, and which of our layers catches it: parse_message (an error the
// transport counts and drops, or answers), validate_request / validate_
// response (a reason phrase for a 400, or a drop), or nothing (the message is
// well formed and the decision belongs to the application).
#include <gtest/gtest.h>

#include <string>

#include "sip/headers.hpp"
#include "sip_test_util.hpp"

namespace isthmus::sip {
namespace {

using test::expect_round_trip;
using test::parse_dgram;
using test::parse_stream;
using test::rfc4475_sdp;
using test::wire;

Message parsed(const std::string& bytes) {
    const ParseResult r = parse_dgram(bytes);
    EXPECT_EQ(r.status, ParseStatus::Ok) << r.reason;
    if (r.status == ParseStatus::Ok) expect_round_trip(r.message);
    return r.message;
}

ParseError parse_error(const std::string& bytes) {
    const ParseResult r = parse_dgram(bytes);
    EXPECT_EQ(r.status, ParseStatus::Error);
    EXPECT_FALSE(r.reason.empty());
    return r.error;
}

// 3.1.2.1 badinv01: empty parameters in Via (";;,;,,") and Contact (";;;;").
// RFC: 400. Ours: parsed; validate_request -> "Malformed Via header".
TEST(Rfc4475Invalid, Badinv01) {
    const Message m = parsed(wire(R"(INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: 152
Content-Type: application/sdp

)") + rfc4475_sdp("192.0.2.15", "192.0.2.15"));
    EXPECT_EQ(validate_request(m), "Malformed Via header");
    EXPECT_FALSE(parse_name_addr(*m.header("Contact")));
}

const std::string kClerr = wire(R"(INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999

)") + rfc4475_sdp("192.0.2.155", "192.0.2.155");

// 3.1.2.2 clerr: Content-Length larger than the body. RFC: over UDP 400; on
// a stream, wait for more data. Ours: datagram BodyTruncated; stream
// Incomplete.
TEST(Rfc4475Invalid, Clerr) {
    EXPECT_EQ(parse_error(kClerr), ParseError::BodyTruncated);
    EXPECT_EQ(parse_stream(kClerr).status, ParseStatus::Incomplete);
}

// 3.1.2.3 ncl: negative Content-Length (and "five", which the RFC names).
// RFC: an error; on TCP close the connection. Ours: BadContentLength.
TEST(Rfc4475Invalid, Ncl) {
    for (const char* value : {"-999", "five"}) {
        const std::string bytes = wire(std::string(R"(INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: )") + value + "\n\n") +
                                  rfc4475_sdp("192.0.2.53", "192.0.2.53");
        EXPECT_EQ(parse_error(bytes), ParseError::BadContentLength) << value;
        EXPECT_EQ(parse_stream(bytes).error, ParseError::BadContentLength) << value;
    }
}

// 3.1.2.4 scalar02: CSeq > 2**32-1, Max-Forwards > 255, huge Expires and
// expires. RFC: 400 for the CSeq. Ours: "Malformed CSeq header" (the
// Max-Forwards would be "Malformed Max-Forwards header"; Expires is the
// registrar's business).
TEST(Rfc4475Invalid, Scalar02) {
    const Message m = parsed(wire(R"(REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
Contact: <sip:user@host129.example.com>
  ;expires=280297596632815
Content-Length: 0

)"));
    EXPECT_EQ(validate_request(m), "Malformed CSeq header");
    EXPECT_FALSE(parse_max_forwards(*m.header("Max-Forwards")));
    EXPECT_TRUE(parse_name_addr(*m.header("Contact")));
}

// 3.1.2.5 scalarlg: a response with CSeq > 2**32-1, a huge Retry-After, a
// 4-digit warning code. RFC: discard. Ours: validate_response ->
// "Malformed CSeq header" (dropped and counted).
TEST(Rfc4475Invalid, Scalarlg) {
    const Message m = parsed(wire(R"(SIP/2.0 503 Service Unavailable
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture "In Progress"
Content-Length: 0

)"));
    EXPECT_EQ(validate_response(m), "Malformed CSeq header");
}

// 3.1.2.6 quotbal: unterminated quote in the To display name. RFC: 400.
// Ours: "Malformed To header".
TEST(Rfc4475Invalid, Quotbal) {
    const Message m = parsed(wire(R"(INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Type: application/sdp
Content-Length: 152

)") + rfc4475_sdp("192.0.2.15", "192.0.2.15"));
    EXPECT_EQ(validate_request(m), "Malformed To header");
}

// 3.1.2.7 ltgtruri: Request-URI in <>. RFC: 400 (or be liberal). Ours:
// BadRequestUri.
TEST(Rfc4475Invalid, Ltgtruri) {
    EXPECT_EQ(parse_error(wire(R"(INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: SIP/2.0/UDP 192.0.2.5
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 159

)") + rfc4475_sdp("192.0.2.5", "192.0.2.5", "3149328700 0")),
              ParseError::BadRequestUri);
}

// 3.1.2.8 lwsruri: LWS inside the Request-URI ("; lr"). RFC: 400. Ours:
// BadStartLine (four SP-separated parts).
TEST(Rfc4475Invalid, Lwsruri) {
    EXPECT_EQ(parse_error(wire(R"(INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423
CSeq: 2130706432 INVITE
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 159

)") + rfc4475_sdp("192.0.2.1", "192.0.2.1", "3149328700 0")),
              ParseError::BadStartLine);
}

// 3.1.2.9 lwsstart: two SPs between start-line elements. RFC: may reject.
// Ours: BadStartLine.
TEST(Rfc4475Invalid, Lwsstart) {
    EXPECT_EQ(parse_error(wire(R"(INVITE  sip:user@example.com  SIP/2.0
Max-Forwards: 8
To: sip:user@example.com
From: sip:caller@example.net;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com
CSeq: 1893884 INVITE
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 150

)") + rfc4475_sdp("192.0.2.1", "192.0.2.1")),
              ParseError::BadStartLine);
}

// 3.1.2.10 trws: SP SP after SIP/2.0 on the Request-Line. RFC: may reject.
// Ours: BadStartLine.
TEST(Rfc4475Invalid, Trws) {
    EXPECT_EQ(parse_error("OPTIONS sip:remote-target@example.com SIP/2.0  \r\n" +
                          wire(R"(Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093
To: <sip:remote-target@example.com>
From: <sip:local-resource@example.com>;tag=329429089
Call-ID: trws.oicu34958239neffasdhr2345r
Accept: application/sdp
CSeq: 238923 OPTIONS
Max-Forwards: 70
Content-Length: 0

)")),
              ParseError::BadStartLine);
}

// 3.1.2.11 escruri: escaped headers in the Request-URI. RFC: may reject with
// 400; must never turn them into header fields. Ours: BadRequestUri.
TEST(Rfc4475Invalid, Escruri) {
    EXPECT_EQ(parse_error(wire(R"(INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=341518
Max-Forwards: 7
Contact: <sip:caller@host39923.example.net>
Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5
CSeq: 149209342 INVITE
Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw
Content-Type: application/sdp
Content-Length: 150

)") + rfc4475_sdp("192.0.2.1", "192.0.2.1")),
              ParseError::BadRequestUri);
}

// 3.1.2.12 baddate: a Date with "EST". RFC: reject only if the Date
// matters. Ours: accepted (the SIP core never reads Date).
TEST(Rfc4475Invalid, Baddate) {
    const Message m = parsed(wire(R"(INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=2234923
Max-Forwards: 70
Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234
CSeq: 1392934 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
Date: Fri, 01 Jan 2010 16:00:00 EST
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 150

)") + rfc4475_sdp("192.0.2.5", "192.0.2.5"));
    EXPECT_EQ(validate_request(m), std::nullopt);
    EXPECT_EQ(m.header("Date"), "Fri, 01 Jan 2010 16:00:00 EST");
}

// 3.1.2.13 regbadct: a Contact addr-spec (no <>) whose URI has ?headers.
// RFC: 400 is reasonable. Ours: "Malformed Contact header".
TEST(Rfc4475Invalid, Regbadct) {
    const Message m = parsed(wire(R"(REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=998332
Max-Forwards: 70
Call-ID: regbadct.k345asrl3fdbv@10.0.0.1
CSeq: 1 REGISTER
Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw
Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E
l: 0

)"));
    EXPECT_EQ(validate_request(m), "Malformed Contact header");
}

// 3.1.2.14 badaspec: SPs inside <> in To. RFC: 400 is reasonable. Ours:
// "Malformed To header".
TEST(Rfc4475Invalid, Badaspec) {
    const Message m = parsed(wire(R"(OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423
To: "Watson, Thomas" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0

)"));
    EXPECT_EQ(validate_request(m), "Malformed To header");
    EXPECT_TRUE(parse_name_addr(*m.header("From")));  // the quoted comma is fine
}

// 3.1.2.15 baddn: unquoted display names with a comma. RFC: 400. Ours:
// "Malformed To header" (To is checked before From; both are bad).
TEST(Rfc4475Invalid, Baddn) {
    const Message m = parsed(wire(R"(OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0

)"));
    EXPECT_EQ(validate_request(m), "Malformed To header");
    EXPECT_FALSE(parse_name_addr(*m.header("From")));
}

// 3.1.2.16 badvers: SIP/7.0. RFC: 505 Version Not Supported. Ours: parsed
// (so a 505 can be built), validate_request finds nothing else,
// has_supported_version() is false.
TEST(Rfc4475Invalid, Badvers) {
    const Message m = parsed(wire(R"(OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0

)"));
    EXPECT_EQ(m.version, "SIP/7.0");
    EXPECT_FALSE(has_supported_version(m));
    EXPECT_EQ(validate_request(m), std::nullopt);
}

// 3.1.2.17 mismatch01: CSeq INVITE on an OPTIONS. RFC: 400. Ours: "CSeq
// method does not match the request method".
TEST(Rfc4475Invalid, Mismatch01) {
    const Message m = parsed(wire(R"(OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
l: 0

)"));
    EXPECT_EQ(validate_request(m), "CSeq method does not match the request method");
}

// 3.1.2.18 mismatch02: an unknown method with CSeq INVITE. RFC: 501
// preferred, 400 acceptable. Ours: the 400 reason of mismatch01 (the method
// check belongs to the application).
TEST(Rfc4475Invalid, Mismatch02) {
    const Message m = parsed(wire(R"(NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3
CSeq: 8 INVITE
Contact: <sip:caller@host.example.net>
Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw
Content-Type: application/sdp
l: 138

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
c=IN IP4 192.0.2.1
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
)"));
    EXPECT_EQ(m.body.size(), 138U);
    EXPECT_EQ(validate_request(m), "CSeq method does not match the request method");
}

// 3.1.2.19 bigcode: status code 4294967301. RFC: drop. Ours: BadStatusCode.
TEST(Rfc4475Invalid, Bigcode) {
    EXPECT_EQ(parse_error(wire(R"(SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

)")),
              ParseError::BadStatusCode);
}

// 3.2.1 badbranch: branch "z9hG4bK" with nothing after the cookie. RFC: the
// parser must not break; the transaction layer may 400 or fall back.
// Ours: well formed (the branch is a token); the transaction layer decides.
TEST(Rfc4475Transaction, Badbranch) {
    const Message m = parsed(wire(R"(OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK
Accept: application/sdp
Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n
CSeq: 8 OPTIONS
l: 0

)"));
    EXPECT_EQ(validate_request(m), std::nullopt);
    EXPECT_EQ(parse_via(*m.header("Via"))->branch(), "z9hG4bK");
}

}  // namespace
}  // namespace isthmus::sip
