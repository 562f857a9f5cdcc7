// parse_message (msrp/parser.hpp) on the RFC examples and on annotated wire
// bytes: requests and responses, typed and other header fields, bodies with
// CRLFs, binary octets and fake end lines, chunks put back together by
// their Byte-Range. Refusals are in parser_refusals_test.cpp, the stream
// framer in framer_test.cpp.
#include "msrp/parser.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "msrp/fields.hpp"
#include "msrp_test_util.hpp"
#include "rfc4975_examples.hpp"

namespace isthmus::msrp {
namespace {

using test::parse_ok;
using test::uri;
using test::wire;

TEST(MsrpParser, Rfc4975Section4Send) {
    const Message m = parse_ok(rfc::kSection4Send);
    EXPECT_TRUE(m.is_request());
    EXPECT_TRUE(m.is_send());
    EXPECT_EQ(m.transaction_id, "a786hjs2");
    EXPECT_EQ(m.method, "SEND");
    ASSERT_EQ(m.to_path.size(), 1U);
    EXPECT_EQ(m.to_path[0], uri("msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp"));
    ASSERT_EQ(m.from_path.size(), 1U);
    EXPECT_EQ(m.from_path[0], uri("msrp://atlanta.example.com:7654/jshA7weztas;tcp"));
    EXPECT_EQ(m.message_id, "87652491");
    EXPECT_EQ(m.byte_range, (ByteRange{1, 25, 25}));
    EXPECT_EQ(m.content_type, "text/plain");
    EXPECT_EQ(m.body,
              "Hey Bob, are you there?");  // 23 octets: the CRLF before the end line is framing
    EXPECT_EQ(m.continuation, Continuation::Complete);
    EXPECT_FALSE(m.success_report.has_value());
    EXPECT_FALSE(m.failure_report.has_value());
    EXPECT_TRUE(m.other_headers.empty());
}

TEST(MsrpParser, Rfc4975Section4Response) {
    const Message m = parse_ok(rfc::kSection4Response);
    EXPECT_TRUE(m.is_response());
    EXPECT_EQ(m.transaction_id, "a786hjs2");
    EXPECT_EQ(m.status_code, 200);
    EXPECT_EQ(m.comment, "OK");
    EXPECT_EQ(m.method, "");
    EXPECT_EQ(m.to_path[0].host, "atlanta.example.com");
    EXPECT_EQ(m.from_path[0].host, "biloxi.example.com");
    EXPECT_EQ(m.body, "");
    EXPECT_FALSE(m.content_type.has_value());
}

TEST(MsrpParser, Rfc4975Section111AndItsResponse) {
    const Message send = parse_ok(rfc::kSection111Send);
    EXPECT_EQ(send.transaction_id, "d93kswow");
    EXPECT_EQ(send.message_id, "12339sdqwer");
    EXPECT_EQ(send.body, "Hi, I'm Alice!");
    const Message ok = parse_ok(rfc::kSection111Response);
    EXPECT_EQ(ok.status_code, 200);
    EXPECT_EQ(ok.to_path, send.from_path);
    EXPECT_EQ(ok.from_path, send.to_path);
}

TEST(MsrpParser, Rfc4975Section115Report) {
    const Message m = parse_ok(rfc::kSection115Report);
    EXPECT_TRUE(m.is_report());
    EXPECT_EQ(m.message_id, "12339sdqwer");
    EXPECT_EQ(m.byte_range, (ByteRange{1, 106, 106}));
    ASSERT_TRUE(m.status.has_value());
    EXPECT_EQ(*m.status, (StatusHeader{0, 200, "OK"}));
    EXPECT_EQ(m.body, "");
}

TEST(MsrpParser, Rfc4976AuthToARelay) {
    const Message m = parse_ok(rfc::kRfc4976Auth);
    EXPECT_EQ(m.method, "AUTH");
    EXPECT_EQ(m.transaction_id, "49fh");
    EXPECT_EQ(m.to_path[0].userinfo, "alice");
    EXPECT_FALSE(m.to_path[0].port.has_value());
    EXPECT_TRUE(m.to_path[0].secure);
}

// RFC 4975 7.1: the two chunks of one message, put back together by their
// Byte-Range (the relay passes chunks on; an endpoint does this).
TEST(MsrpParser, Rfc4975Section71ChunksReassembledByByteRange) {
    const Message c1 = parse_ok(rfc::kSection71Chunk1);
    const Message c2 = parse_ok(rfc::kSection71Chunk2);
    EXPECT_EQ(c1.continuation, Continuation::More);
    EXPECT_EQ(c1.byte_range, (ByteRange{1, std::nullopt, 8}));
    EXPECT_EQ(c2.continuation, Continuation::Complete);
    EXPECT_EQ(c2.byte_range, (ByteRange{5, 8, 8}));
    EXPECT_EQ(c1.message_id, c2.message_id);
    EXPECT_NE(c1.transaction_id, c2.transaction_id);  // one transaction per chunk

    // Arrival order does not matter: each chunk says where it goes.
    for (bool reversed : {false, true}) {
        std::string whole(*c2.byte_range->total, '\0');
        std::size_t got = 0;
        for (const Message* c : reversed ? std::vector{&c2, &c1} : std::vector{&c1, &c2}) {
            whole.replace(c->byte_range->start - 1, c->body.size(), c->body);
            got += c->body.size();
        }
        EXPECT_EQ(got, 8U);
        EXPECT_EQ(whole, "abcdEFGH");
    }
}

TEST(MsrpParser, HeaderNamesInAnyCaseAndOtherHeadersKeptInOrder) {
    const Message m =
        parse_ok(wire("MSRP 4f8aa71b SEND\n"
                      "to-path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
                      "FROM-PATH:msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
                      "Message-Id:  m5gid001  \n"
                      "Content-ID: <part1@example.com>\n"
                      "success-report: YES\n"
                      "Failure-Report: partial\n"
                      "Nickname: \"Alice\"\n"
                      "Content-Disposition: inline\n"
                      "Empty:\n"
                      "Content-Type: text/plain;charset=UTF-8\n"
                      "\n"
                      "hi\n"
                      "-------4f8aa71b$\n"));
    EXPECT_EQ(m.to_path.size(), 1U);
    EXPECT_EQ(m.from_path.size(), 1U);
    EXPECT_EQ(m.message_id, "m5gid001");
    EXPECT_EQ(m.success_report, SuccessReport::Yes);
    EXPECT_EQ(m.failure_report, FailureReport::Partial);
    EXPECT_EQ(m.content_type, "text/plain;charset=UTF-8");
    ASSERT_EQ(m.other_headers.size(), 4U);
    EXPECT_EQ(m.other_headers[0], (HeaderField{"Content-ID", "<part1@example.com>"}));
    EXPECT_EQ(m.other_headers[1], (HeaderField{"Nickname", "\"Alice\""}));
    EXPECT_EQ(m.other_headers[2], (HeaderField{"Content-Disposition", "inline"}));
    EXPECT_EQ(m.other_headers[3], (HeaderField{"Empty", ""}));
    EXPECT_EQ(m.header("content-disposition"), "inline");
    EXPECT_FALSE(m.header("Use-Path").has_value());
    // No Byte-Range: a message in one chunk.
    EXPECT_FALSE(m.byte_range.has_value());
    EXPECT_EQ(m.body, "hi");
}

TEST(MsrpParser, TypedHeadersInAnyOrder) {
    // RFC 4975 9 puts To-Path and From-Path first and Content-Type last; we
    // take them anywhere.
    const Message m =
        parse_ok(wire("MSRP d93kswow SEND\n"
                      "Content-Type: text/plain\n"
                      "Message-ID: 12339sdqwer\n"
                      "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
                      "Byte-Range: 1-2/2\n"
                      "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
                      "\n"
                      "ok\n"
                      "-------d93kswow$\n"));
    EXPECT_EQ(m.body, "ok");
    EXPECT_EQ(m.to_path[0].host, "bob.example.com");
}

TEST(MsrpParser, PathsWithRelays) {
    // RFC 4976: To-Path lists the hops still to go, From-Path the hops back.
    const Message m = parse_ok(wire(
        "MSRP 6aef8b2c SEND\n"
        "To-Path: msrps://relay2.example.net:2855/r2;tcp msrps://bob.example.net:7394/iau39;tcp\n"
        "From-Path: msrps://relay1.example.com:2855/r1;tcp "
        "msrps://alice.example.com:9892/98cjs;tcp\n"
        "Message-ID: 87652\n"
        "Content-Type: text/plain\n"
        "\n"
        "Hi\n"
        "-------6aef8b2c$\n"));
    ASSERT_EQ(m.to_path.size(), 2U);
    ASSERT_EQ(m.from_path.size(), 2U);
    EXPECT_EQ(m.to_path.back().host, "bob.example.net");
    EXPECT_EQ(m.from_path.back().host, "alice.example.com");
}

TEST(MsrpParser, BodyWithCrlfsBinaryAndNul) {
    std::string body = "first\r\nsecond\r\n\r\nfourth";
    body += std::string("\0\x01\x7f\x80\xff\r", 6);
    body += "\n\n\r\r\n";
    std::string bytes = wire(
        "MSRP b1n4ry00 SEND\n"
        "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
        "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
        "Message-ID: m5gid001\n"
        "Content-Type: application/octet-stream\n"
        "\n");
    bytes += body;
    bytes += "\r\n-------b1n4ry00$\r\n";
    const Message m = parse_ok(bytes);
    EXPECT_EQ(m.body, body);
}

// The data ends at this transaction's end line only: another transaction's
// end line, ours without its CRLF or with a bad flag, and ours not preceded
// by CRLF are data.
TEST(MsrpParser, BodyHoldingFakeEndLines) {
    const std::string body =
        "quoting a message:\r\n"
        "-------a786hjs2$\r\n"       // another transaction's end line
        "\r\n-------f4k3tr4nX\r\n"   // ours with a flag that is not $ + #
        "\r\n-------f4k3tr4n$ \r\n"  // ours, the flag not followed by CRLF
        "\r\n-------f4k3tr4n$"       // ours, the CRLF missing ...
        "x-------f4k3tr4n+\r\n"      // ... and ours without a CRLF before it
        "\r\n-------f4k3tr4"         // a prefix of ours
        "end";
    const std::string head = wire(
        "MSRP f4k3tr4n SEND\n"
        "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
        "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
        "Message-ID: m5gid001\n"
        "Content-Type: text/plain\n"
        "\n");
    const Message m = parse_ok(head + body + "\r\n-------f4k3tr4n+\r\n");
    EXPECT_EQ(m.body, body);
    EXPECT_EQ(m.continuation, Continuation::More);

    // A body holding this transaction's own end line (which RFC 4975 7.1
    // tells senders to avoid by their choice of id) ends there; what
    // follows is not this message.
    const std::string cut = "before\r\n-------f4k3tr4n$\r\nafter";
    const ParseResult r = parse_message(head + cut + "\r\n-------f4k3tr4n$\r\n");
    EXPECT_EQ(r.error, ParseError::TrailingBytes);
    EXPECT_EQ(r.message.body, "before");
}

TEST(MsrpParser, EmptySendAndEmptyBody) {
    // RFC 4975 7.1: an empty SEND (no content-stuff) opens a session.
    const Message empty =
        parse_ok(wire("MSRP 3mpty5nd SEND\n"
                      "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
                      "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
                      "Message-ID: m5gid001\n"
                      "Byte-Range: 1-0/0\n"
                      "-------3mpty5nd$\n"));
    EXPECT_EQ(empty.byte_range, (ByteRange{1, 0, 0}));
    EXPECT_FALSE(empty.content_type.has_value());
    EXPECT_EQ(empty.body, "");
    // Content-stuff with empty data: "Content-Type" CRLF CRLF "" CRLF end-line.
    const Message zero =
        parse_ok(wire("MSRP z3r0data SEND\n"
                      "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
                      "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
                      "Message-ID: m5gid001\n"
                      "Content-Type: text/plain\n"
                      "\n"
                      "\n"
                      "-------z3r0data$\n"));
    EXPECT_EQ(zero.content_type, "text/plain");
    EXPECT_EQ(zero.body, "");
}

TEST(MsrpParser, ContentTypeWithoutContentStuff) {
    // Not the grammar's (Content-Type belongs to content-stuff), but
    // harmless: the same message as Content-Type with empty data.
    const Message m =
        parse_ok(wire("MSRP c0nt3nt1 SEND\n"
                      "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
                      "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
                      "Message-ID: m5gid001\n"
                      "Content-Type: text/plain\n"
                      "-------c0nt3nt1$\n"));
    EXPECT_EQ(m.content_type, "text/plain");
    EXPECT_EQ(m.body, "");
}

TEST(MsrpParser, AbortedChunkAndShortChunk) {
    // '#': the sender abandoned the message; the data may stop anywhere
    // short of the range.
    const Message m =
        parse_ok(wire("MSRP ab0rt3d1 SEND\n"
                      "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
                      "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
                      "Message-ID: m5gid001\n"
                      "Byte-Range: 1-100/100\n"
                      "Content-Type: text/plain\n"
                      "\n"
                      "only this much\n"
                      "-------ab0rt3d1#\n"));
    EXPECT_EQ(m.continuation, Continuation::Aborted);
    EXPECT_EQ(m.body, "only this much");
}

TEST(MsrpParser, ResponsesOfEveryShape) {
    const Message no_comment =
        parse_ok(wire("MSRP a786hjs2 481\n"
                      "To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\n"
                      "From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\n"
                      "-------a786hjs2$\n"));
    EXPECT_EQ(no_comment.status_code, 481);
    EXPECT_EQ(no_comment.comment, "");
    const Message zero =
        parse_ok(wire("MSRP a786hjs2 000 Zero is a code too\n"
                      "To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\n"
                      "From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\n"
                      "-------a786hjs2$\n"));
    EXPECT_TRUE(zero.is_response());
    EXPECT_EQ(zero.status_code, 0);
    EXPECT_EQ(zero.comment, "Zero is a code too");
    // RFC 4976 AUTH's 200 carries Use-Path and Expires: other headers.
    const Message auth_ok =
        parse_ok(wire("MSRP 49fh 200 OK\n"
                      "To-Path: msrps://alice.example.com:9892/98cjs;tcp\n"
                      "From-Path: msrps://alice@intra.example.com;tcp\n"
                      "Use-Path: msrps://intra.example.com:9000/jui787s2f;tcp\n"
                      "Expires: 900\n"
                      "-------49fh$\n"));
    EXPECT_EQ(auth_ok.header("Use-Path"), "msrps://intra.example.com:9000/jui787s2f;tcp");
    EXPECT_EQ(auth_ok.header("expires"), "900");
}

TEST(MsrpParser, OtherMethodsAndIdentEdges) {
    const Message m =
        parse_ok(wire("MSRP a.-+%=Z9 NICKNAME\n"
                      "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
                      "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
                      "Nickname: \"Alice\"\n"
                      "-------a.-+%=Z9$\n"));
    EXPECT_EQ(m.method, "NICKNAME");
    EXPECT_EQ(m.transaction_id, "a.-+%=Z9");
    // 4 and 32 characters: the bounds of ident.
    for (const std::string& tid : {std::string("abcd"), std::string(32, 'x')}) {
        const Message e = parse_ok(wire("MSRP " + tid + " SEND\n" +
                                        "To-Path: msrp://b:1/s;tcp\n"
                                        "From-Path: msrp://a:1/s;tcp\n"
                                        "Message-ID: " +
                                        tid + "\n" + "-------" + tid + "$\n"));
        EXPECT_EQ(e.transaction_id, tid);
        EXPECT_EQ(e.message_id, tid);
    }
}

TEST(MsrpParser, ConsumedIsTheWholeMessage) {
    const ParseResult r = parse_message(rfc::kSection4Send);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.consumed, rfc::kSection4Send.size());
    EXPECT_EQ(r.reason, "");
}

}  // namespace
}  // namespace isthmus::msrp
