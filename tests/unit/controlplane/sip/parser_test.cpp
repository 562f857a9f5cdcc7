// The message parser (sip/parser.hpp) on annotated wire bytes: start lines,
// header lines (compact names, case, LWS around ':', empty values, folding),
// CRLF rules, Content-Length framing on streams and datagrams, keepalives,
// pipelined messages. Limits, hostile input and truncation are in
// parser_limits_test.cpp.
#include "sip/parser.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sip/grammar.hpp"
#include "sip/headers.hpp"
#include "sip_test_util.hpp"

namespace isthmus::sip {
namespace {

using test::expect_round_trip;
using test::parse_dgram;
using test::parse_stream;
using test::wire;
using Values = std::vector<std::string_view>;

// A REGISTER as JsSIP sends it over a WebSocket (RFC 7118 Via and Contact).
const std::string kRegister = wire(R"(REGISTER sip:ims.example.net SIP/2.0
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK3491205;rport
Max-Forwards: 69
To: <sip:alice@ims.example.net>
From: "Alice" <sip:alice@ims.example.net>;tag=9mfsrnn0ok
Call-ID: 4n3ba1sr6k6d0n7rbm7p
CSeq: 1 REGISTER
Contact: <sip:k3b8l2qp@df7jal23ls0d.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:0b1f3d5e-6c4a-4a43-9a8e-3d2f7d7e1c11>";expires=600
Expires: 600
Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY
Supported: path,gruu,outbound
User-Agent: JsSIP 3.10.0
Content-Length: 0

)");

TEST(Parser, AnnotatedRegister) {
    const ParseResult r = parse_dgram(kRegister);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    EXPECT_EQ(r.error, ParseError::None);
    EXPECT_TRUE(r.reason.empty());
    EXPECT_EQ(r.consumed, kRegister.size());
    const Message& m = r.message;
    EXPECT_EQ(m.method, "REGISTER");                             // Method
    EXPECT_EQ(to_string(m.request_uri), "sip:ims.example.net");  // Request-URI
    EXPECT_EQ(m.version, "SIP/2.0");                             // SIP-Version
    EXPECT_EQ(m.fields.size(), 12U);
    EXPECT_EQ(m.headers("Allow").size(), 10U);
    EXPECT_EQ(m.headers("Supported"), (Values{"path", "gruu", "outbound"}));
    const auto contact = parse_name_addr(*m.header("Contact"));
    ASSERT_TRUE(contact);
    EXPECT_EQ(contact->param("+sip.instance")->value,
              "<urn:uuid:0b1f3d5e-6c4a-4a43-9a8e-3d2f7d7e1c11>");
    EXPECT_EQ(validate_request(m), std::nullopt);
    EXPECT_TRUE(m.body.empty());
    expect_round_trip(m);
    // The same bytes on a stream: the same message.
    const ParseResult s = parse_stream(kRegister);
    ASSERT_EQ(s.status, ParseStatus::Ok);
    EXPECT_EQ(s.message, m);
    EXPECT_EQ(s.consumed, kRegister.size());
}

TEST(Parser, ResponseWithChallenge) {
    const std::string bytes = wire(R"(SIP/2.0 401 Unauthorized
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK3491205;rport=55012;received=198.51.100.7
To: <sip:alice@ims.example.net>;tag=a3f0c2
From: "Alice" <sip:alice@ims.example.net>;tag=9mfsrnn0ok
Call-ID: 4n3ba1sr6k6d0n7rbm7p
CSeq: 1 REGISTER
WWW-Authenticate: Digest realm="ims.example.net", nonce="b7c9036dbf357f7683f054aea940e240", algorithm=AKAv1-MD5, qop="auth,auth-int"
Content-Length: 0

)");
    const ParseResult r = parse_dgram(bytes);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    EXPECT_TRUE(r.message.is_response());
    EXPECT_EQ(r.message.status_code, 401);
    EXPECT_EQ(r.message.reason_phrase, "Unauthorized");
    EXPECT_EQ(r.message.headers("WWW-Authenticate").size(), 1U);
    EXPECT_EQ(parse_via(*r.message.header("Via"))->rport(), 55012);
    EXPECT_EQ(validate_response(r.message), std::nullopt);
    expect_round_trip(r.message);
}

TEST(Parser, CompactFormsAndNameCase) {
    const std::string bytes = wire(R"(MESSAGE sip:bob@example.com SIP/2.0
v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc1
t: <sip:bob@example.com>
F: <sip:alice@example.com>;tag=1
I: c1@192.0.2.1
cSeQ: 2 MESSAGE
MAX-FORWARDS: 70
c: text/plain
k: path
x-Unknown: kept as written
L: 5

hello)");
    const ParseResult r = parse_dgram(bytes);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    const Message& m = r.message;
    const char* names[] = {
        "Via",          "To",           "From",      "Call-ID",   "CSeq",
        "Max-Forwards", "Content-Type", "Supported", "x-Unknown", "Content-Length"};
    ASSERT_EQ(m.fields.size(), 10U);
    for (std::size_t i = 0; i < 10; ++i)
        EXPECT_EQ(m.fields[i].name, names[i]);
    EXPECT_EQ(m.body, "hello");
    EXPECT_EQ(validate_request(m), std::nullopt);
    expect_round_trip(m);
}

TEST(Parser, LwsAroundColonAndEmptyValues) {
    const std::string bytes = wire(
        "OPTIONS sip:a@example.com SIP/2.0\n"
        "Subject:\n"
        "Organization :   \t \n"
        "X-Empty\t:\n"
        "Via :SIP/2.0/UDP h.example;branch=z9hG4bK1\n"
        "Content-Length: 0\n\n");
    const ParseResult r = parse_dgram(bytes);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    EXPECT_EQ(r.message.header("Subject"), "");
    EXPECT_EQ(r.message.header("Organization"), "");
    EXPECT_EQ(r.message.header("X-Empty"), "");
    EXPECT_EQ(r.message.header("Via"), "SIP/2.0/UDP h.example;branch=z9hG4bK1");
    expect_round_trip(r.message);
}

TEST(Parser, FoldingBecomesOneSpace) {
    const std::string bytes = wire(
        "OPTIONS sip:a@example.com SIP/2.0\n"
        "Subject: one   \n"
        " \t two\n"
        "\tthree\n"
        "Route:\n"
        "  <sip:p1.example;lr>,\n"
        "  <sip:p2.example;lr>\n"
        "X-Blank-Continuation: a\n"
        "   \n"
        "Content-Length: 0\n\n");
    const ParseResult r = parse_dgram(bytes);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    EXPECT_EQ(r.message.header("Subject"), "one two three");
    EXPECT_EQ(r.message.headers("Route"), (Values{"<sip:p1.example;lr>", "<sip:p2.example;lr>"}));
    EXPECT_EQ(r.message.header("X-Blank-Continuation"), "a");
    expect_round_trip(r.message);
}

TEST(Parser, QuotedStringsWithEscapedQuotesAndCommas) {
    const std::string bytes = wire(R"(NOTIFY sip:a@example.com SIP/2.0
Contact: "Smith, \"Bob\"" <sip:bob@example.com>;q=0.5, "x,y" <sip:c@example.com>, <sip:d@example.com;p=a,b>
Content-Length: 0

)");
    const ParseResult r = parse_dgram(bytes);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    const auto contacts = r.message.headers("Contact");
    ASSERT_EQ(contacts.size(), 3U);
    const auto first = parse_name_addr(contacts[0]);
    ASSERT_TRUE(first);
    EXPECT_EQ(unquote(first->display_name), "Smith, \"Bob\"");
    EXPECT_EQ(first->param("q")->value, "0.5");
    EXPECT_EQ(parse_name_addr(contacts[1])->display_name, "x,y");
    EXPECT_EQ(contacts[2], "<sip:d@example.com;p=a,b>");
}

TEST(Parser, Ipv6AndEscapedRequestUri) {
    const std::string bytes = wire(
        "INVITE sip:%2B1555@[2001:db8::1]:5060;transport=tcp SIP/2.0\n"
        "Content-Length: 0\n\n");
    const ParseResult r = parse_dgram(bytes);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    EXPECT_EQ(r.message.request_uri.host_kind, HostKind::IPv6);
    EXPECT_EQ(r.message.request_uri.user, "%2B1555");
    EXPECT_EQ(r.message.request_uri.port, 5060);
}

TEST(Parser, StartLineErrors) {
    const std::pair<const char*, ParseError> cases[] = {
        {"INVITE sip:a@b.c SIP/2.0", ParseError::None},
        {"INVITE sip:a@b.c", ParseError::BadStartLine},
        {"INVITE sip:a@b.c SIP/2", ParseError::BadStartLine},
        {"INVITE sip:a@b.c SIP/.0", ParseError::BadStartLine},
        {"INVITE sip:a@b.c HTTP/1.1", ParseError::BadStartLine},
        {"INV ITE sip:a@b.c SIP/2.0", ParseError::BadStartLine},
        {"INV\"ITE sip:a@b.c SIP/2.0", ParseError::BadStartLine},
        {" INVITE sip:a@b.c SIP/2.0", ParseError::BadStartLine},
        {"INVITE\tsip:a@b.c\tSIP/2.0", ParseError::BadStartLine},
        {"INVITE sip:a@b.c;lr? SIP/2.0", ParseError::BadRequestUri},
        {"INVITE sip:a@b.c?x=y SIP/2.0", ParseError::BadRequestUri},
        {"INVITE a SIP/2.0", ParseError::BadRequestUri},
        {"GET / HTTP/1.1", ParseError::BadStartLine},
        {"SIP/2.0 200 OK", ParseError::None},
        {"sip/2.0 200 OK", ParseError::None},
        {"SIP/2.0 099 Low", ParseError::BadStatusCode},
        {"SIP/2.0 700 High", ParseError::BadStatusCode},
        {"SIP/2.0 20 Short", ParseError::BadStatusCode},
        {"SIP/2.0 2000 Long", ParseError::BadStatusCode},
        {"SIP/2.0 200OK", ParseError::BadStatusCode},
        {"SIP/2.0 abc OK", ParseError::BadStatusCode},
        {"SIP/2.0", ParseError::BadStartLine},
        {"SIP/x 200 OK", ParseError::BadStartLine},
        {"SIP/2.0 200 O\x01K", ParseError::BadStartLine},
    };
    for (const auto& [line, error] : cases) {
        const ParseResult r = parse_dgram(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
        EXPECT_EQ(r.error, error) << line << ": " << r.reason;
        EXPECT_EQ(r.status, error == ParseError::None ? ParseStatus::Ok : ParseStatus::Error)
            << line;
    }
}

TEST(Parser, HeaderLineErrors) {
    const std::pair<const char*, ParseError> cases[] = {
        {"NoColon value", ParseError::BadHeaderLine}, {": no name", ParseError::BadHeaderLine},
        {"Bad Name: x", ParseError::BadHeaderLine},   {"Bad\"Name: x", ParseError::BadHeaderLine},
        {"Name\r: x", ParseError::BadLineEnding},     {"Name: a\rb", ParseError::BadLineEnding},
        {"Name: a\nb: c", ParseError::BadLineEnding},
    };
    for (const auto& [line, error] : cases) {
        const std::string bytes =
            "OPTIONS sip:a@b.c SIP/2.0\r\n" + std::string(line) + "\r\nContent-Length: 0\r\n\r\n";
        const ParseResult r = parse_dgram(bytes);
        EXPECT_EQ(r.status, ParseStatus::Error) << line;
        EXPECT_EQ(r.error, error) << line << ": " << r.reason;
        EXPECT_NE(r.reason.find("header line 1"), std::string::npos) << r.reason;
    }
    // A continuation line right after the start line continues nothing.
    EXPECT_EQ(parse_dgram("OPTIONS sip:a@b.c SIP/2.0\r\n folded\r\n\r\n").error,
              ParseError::BadFolding);
}

// Line ends are CRLF only: a bare LF anywhere (after the start line, as the
// empty line, inside the head) is an error, not a line end.
TEST(Parser, BareLineFeedsAreErrors) {
    const std::string lf = "OPTIONS sip:a@b.c SIP/2.0\nContent-Length: 0\n\n";
    EXPECT_EQ(parse_dgram(lf).error, ParseError::BadLineEnding);
    EXPECT_EQ(parse_stream(lf).error, ParseError::BadLineEnding);
    EXPECT_EQ(parse_dgram("OPTIONS sip:a@b.c SIP/2.0\r\nContent-Length: 0\r\n\n").error,
              ParseError::BadLineEnding);
    EXPECT_EQ(parse_dgram("\nOPTIONS sip:a@b.c SIP/2.0\r\n\r\n").error, ParseError::BadLineEnding);
}

TEST(Parser, StreamFramesByContentLength) {
    const std::string one = wire("MESSAGE sip:b@example.com SIP/2.0\nContent-Length: 3\n\nabc");
    const std::string two = wire("MESSAGE sip:c@example.com SIP/2.0\nl: 0\n\n");
    // CRLF keepalives before and between messages are skipped (RFC 3261 7.5).
    const std::string stream = "\r\n\r\n" + one + "\r\n" + two + "OPT";
    const ParseResult a = parse_stream(stream);
    ASSERT_EQ(a.status, ParseStatus::Ok) << a.reason;
    EXPECT_EQ(a.message.body, "abc");
    EXPECT_EQ(a.consumed, 4 + one.size());
    const ParseResult b = parse_stream(std::string_view(stream).substr(a.consumed));
    ASSERT_EQ(b.status, ParseStatus::Ok) << b.reason;
    EXPECT_EQ(b.message.request_uri.user, "c");
    EXPECT_EQ(b.consumed, 2 + two.size());
    const ParseResult c = parse_stream(std::string_view(stream).substr(a.consumed + b.consumed));
    EXPECT_EQ(c.status, ParseStatus::Incomplete);
    EXPECT_EQ(c.consumed, 0U);
}

TEST(Parser, KeepalivesAndEmptyInput) {
    // RFC 5626 4.4.1: "\r\n\r\n" ping on a stream: Incomplete, 4 octets to drop.
    const ParseResult ping = parse_stream("\r\n\r\n");
    EXPECT_EQ(ping.status, ParseStatus::Incomplete);
    EXPECT_EQ(ping.consumed, 4U);
    EXPECT_EQ(parse_stream("").status, ParseStatus::Incomplete);
    EXPECT_EQ(parse_stream("\r\n\r").consumed, 2U);
    EXPECT_EQ(parse_dgram("").error, ParseError::Empty);
    EXPECT_EQ(parse_dgram("\r\n\r\n").error, ParseError::Empty);
}

TEST(Parser, StreamNeedsContentLength) {
    const std::string no_cl =
        wire("OPTIONS sip:a@b.c SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\n\n");
    EXPECT_EQ(parse_stream(no_cl).error, ParseError::MissingContentLength);
    // A datagram without it: the body is the rest.
    const ParseResult d = parse_dgram(no_cl + "rest of datagram");
    ASSERT_EQ(d.status, ParseStatus::Ok);
    EXPECT_EQ(d.message.body, "rest of datagram");
    EXPECT_FALSE(d.message.header("Content-Length"));
}

TEST(Parser, DatagramContentLength) {
    const std::string head = wire("MESSAGE sip:b@example.com SIP/2.0\nContent-Length: 0005\n\n");
    const ParseResult exact = parse_dgram(head + "hello");
    ASSERT_EQ(exact.status, ParseStatus::Ok);
    EXPECT_EQ(exact.message.body, "hello");
    EXPECT_EQ(exact.message.header("Content-Length"), "5");  // normalized
    const ParseResult extra = parse_dgram(head + "hello, and noise");
    ASSERT_EQ(extra.status, ParseStatus::Ok);
    EXPECT_EQ(extra.message.body, "hello");
    EXPECT_EQ(extra.consumed, head.size() + 16);  // the datagram is consumed whole
    const ParseResult shorter = parse_dgram(head + "hell");
    EXPECT_EQ(shorter.error, ParseError::BodyTruncated);
    EXPECT_EQ(shorter.message.method, "MESSAGE");  // kept for a 400
    EXPECT_EQ(parse_dgram(wire("MESSAGE sip:b@e.com SIP/2.0\nl: 1\nl: 1\n\nx")).error,
              ParseError::BadContentLength);
    EXPECT_EQ(parse_dgram(wire("MESSAGE sip:b@e.com SIP/2.0\nl: 0x10\n\nx")).error,
              ParseError::BadContentLength);
}

TEST(Parser, BodyWithNulsAndCrlfs) {
    const std::string body("\0\r\n\r\nbinary\0", 13);
    const std::string bytes =
        wire("MESSAGE sip:b@example.com SIP/2.0\nContent-Length: 13\n\n") + body;
    for (const Framing f : {Framing::Stream, Framing::Datagram}) {
        const ParseResult r = parse_message(bytes, f);
        ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
        EXPECT_EQ(r.message.body, body);
        expect_round_trip(r.message);
    }
}

TEST(Parser, ErrorNamesAreStable) {
    EXPECT_EQ(kParseErrorCount, 16U);
    EXPECT_EQ(parse_error_name(ParseError::None), "none");
    EXPECT_EQ(parse_error_name(ParseError::BadContentLength), "bad_content_length");
    EXPECT_EQ(parse_error_name(ParseError::BodyTruncated), "body_truncated");
}

}  // namespace
}  // namespace isthmus::sip
