// The parser against hostile input (sip/parser.hpp): each limit just under
// and just over, truncation at every octet of valid messages on both
// framings, binary garbage, pathological shapes (a million commas, deep
// folding, unbalanced quotes). Run under ASan+UBSan: nothing may be read out
// of bounds, and every call returns one of the documented outcomes.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "sip/headers.hpp"
#include "sip/serializer.hpp"
#include "sip_test_util.hpp"

namespace isthmus::sip {
namespace {

using test::parse_dgram;
using test::parse_stream;
using test::rfc4475_sdp;
using test::wire;

std::string request_with(const std::string& extra_fields, const std::string& body = "") {
    return wire(
               "INVITE sip:bob@example.com SIP/2.0\n"
               "Via: SIP/2.0/TCP client.example.com;branch=z9hG4bK74bf9\n"
               "To: <sip:bob@example.com>\nFrom: <sip:alice@example.com>;tag=9fxced76sl\n"
               "Call-ID: 3848276298220188511@example.com\nCSeq: 1 INVITE\nMax-Forwards: 70\n") +
           extra_fields + wire("Content-Length: " + std::to_string(body.size()) + "\n\n") + body;
}

TEST(ParserLimits, MessageBytes) {
    ParseLimits limits;
    limits.max_message_bytes = 1000;
    const std::string base = request_with("");
    const std::string body(1000 - base.size() - 2, 'x');  // "Content-Length: N" grows by 2 digits
    const std::string fits = request_with("", body);
    ASSERT_EQ(fits.size(), 1000U);
    EXPECT_EQ(parse_dgram(fits, limits).status, ParseStatus::Ok);
    EXPECT_EQ(parse_stream(fits, limits).status, ParseStatus::Ok);
    const std::string over = request_with("", body + "x");
    EXPECT_EQ(parse_dgram(over, limits).error, ParseError::MessageTooLarge);
    // On a stream the Content-Length alone says it will not fit: no waiting.
    EXPECT_EQ(parse_stream(over.substr(0, over.size() - body.size()), limits).error,
              ParseError::MessageTooLarge);
    // A header section that never ends is refused once it reaches the limit.
    std::string endless = wire("OPTIONS sip:a@b.c SIP/2.0\n");
    while (endless.size() < 1000)
        endless += "X: y\r\n";
    EXPECT_EQ(parse_stream(endless.substr(0, 990), limits).status, ParseStatus::Incomplete);
    EXPECT_EQ(parse_stream(endless, limits).error, ParseError::MessageTooLarge);
    // Complete lines count too: a head of many short lines is refused as soon
    // as it passes the limit, not when max_headers x max_header_line is reached.
    std::string lines = wire("OPTIONS sip:a@b.c SIP/2.0\n");
    while (lines.size() < 1200)
        lines += "X: " + std::string(90, 'l') + "\r\n";
    EXPECT_EQ(parse_stream(lines, limits).error, ParseError::MessageTooLarge);
    EXPECT_EQ(parse_stream(lines + "\r\n", limits).error, ParseError::MessageTooLarge);
    // The default limit is 65535.
    EXPECT_EQ(parse_dgram(request_with("", std::string(65536, 'x'))).error,
              ParseError::MessageTooLarge);
    EXPECT_EQ(parse_stream(request_with("", std::string(65536, 'x'))).error,
              ParseError::MessageTooLarge);
}

TEST(ParserLimits, HeaderCount) {
    ParseLimits limits;
    limits.max_headers = 20;  // the base request has 6 fields + Content-Length
    std::string extra;
    for (int i = 0; i < 13; ++i)
        extra += "X-H: " + std::to_string(i) + "\r\n";
    EXPECT_EQ(parse_dgram(request_with(extra), limits).status, ParseStatus::Ok);
    extra += "X-H: one too many\r\n";
    const ParseResult r = parse_dgram(request_with(extra), limits);
    EXPECT_EQ(r.error, ParseError::TooManyHeaders);
    EXPECT_EQ(parse_stream(request_with(extra), limits).error, ParseError::TooManyHeaders);
    // Default: 256.
    std::string many;
    for (int i = 0; i < 256; ++i)
        many += "X: 1\r\n";
    EXPECT_EQ(parse_dgram(request_with(many)).error, ParseError::TooManyHeaders);
}

TEST(ParserLimits, HeaderLine) {
    ParseLimits limits;
    limits.max_header_line = 100;
    const std::string at_limit =
        "Subject: " + std::string(100 - 11, 's') + "\r\n";  // 100 with CRLF
    ASSERT_EQ(at_limit.size(), 100U);
    EXPECT_EQ(parse_dgram(request_with(at_limit), limits).status, ParseStatus::Ok);
    const std::string over = "Subject: " + std::string(100 - 10, 's') + "\r\n";
    EXPECT_EQ(parse_dgram(request_with(over), limits).error, ParseError::HeaderLineTooLong);
    // Folded lines count together.
    std::string folded = "Subject: a\r\n";
    for (int i = 0; i < 30; ++i)
        folded += " bcd\r\n";
    EXPECT_EQ(parse_dgram(request_with(folded), limits).error, ParseError::HeaderLineTooLong);
    // On a stream an unfinished line over the limit is refused at once.
    const std::string partial =
        wire("OPTIONS sip:a@b.c SIP/2.0\nTo: <sip:a@b.c>\n") + "X-Long: " + std::string(200, 'z');
    EXPECT_EQ(parse_stream(partial, limits).error, ParseError::HeaderLineTooLong);
    // Default: 8 KiB.
    EXPECT_EQ(parse_dgram(request_with("X: " + std::string(8200, 'a') + "\r\n")).error,
              ParseError::HeaderLineTooLong);
}

TEST(ParserLimits, StartLine) {
    ParseLimits limits;
    limits.max_start_line = 64;
    const std::string ok = "OPTIONS sip:" + std::string(64 - 12 - 8 - 4, 'u') + "@b.c SIP/2.0";
    ASSERT_EQ(ok.size(), 64U);
    EXPECT_EQ(parse_dgram(ok + "\r\nContent-Length: 0\r\n\r\n", limits).status, ParseStatus::Ok);
    const std::string over = "OPTIONS sip:u" + ok.substr(12);
    EXPECT_EQ(parse_dgram(over + "\r\nContent-Length: 0\r\n\r\n", limits).error,
              ParseError::StartLineTooLong);
    EXPECT_EQ(parse_stream(over.substr(0, 65), limits).error, ParseError::StartLineTooLong);
    EXPECT_EQ(parse_stream(over.substr(0, 64), limits).status, ParseStatus::Incomplete);
}

// Every strict prefix of a valid stream message is Incomplete; every strict
// prefix of a datagram is an error (never Ok, never a crash); the full
// message is Ok on both.
TEST(ParserHostile, TruncatedAtEveryOctet) {
    const std::string messages[] = {
        request_with("Contact: \"A, \\\"B\\\"\" <sip:a@[2001:db8::1];transport=tcp>\r\n"
                     "Subject: folded\r\n\tvalue\r\n",
                     rfc4475_sdp("192.0.2.1", "192.0.2.1")),
        wire("SIP/2.0 180 Ringing\nv: SIP/2.0/UDP h;branch=z9hG4bK1\nl: 0\n\n"),
    };
    for (const std::string& full : messages) {
        ASSERT_EQ(parse_stream(full).status, ParseStatus::Ok);
        ASSERT_EQ(parse_dgram(full).status, ParseStatus::Ok);
        for (std::size_t n = 0; n < full.size(); ++n) {
            const std::string prefix = full.substr(0, n);  // exactly sized for ASan
            const ParseResult s = parse_stream(prefix);
            EXPECT_EQ(s.status, ParseStatus::Incomplete) << n << ": " << s.reason;
            const ParseResult d = parse_dgram(prefix);
            EXPECT_EQ(d.status, ParseStatus::Error) << n;
            EXPECT_NE(d.error, ParseError::None) << n;
        }
    }
}

TEST(ParserHostile, BinaryGarbage) {
    std::mt19937 rng(0x51505);
    for (int i = 0; i < 2000; ++i) {
        std::string junk(rng() % 512, '\0');
        for (char& c : junk)
            c = static_cast<char>(rng());
        if (i % 3 == 0) junk = "INVITE sip:a@b.c SIP/2.0\r\n" + junk;
        for (const Framing f : {Framing::Stream, Framing::Datagram}) {
            const ParseResult r = parse_message(junk, f);
            if (r.status == ParseStatus::Ok) {
                EXPECT_LE(r.consumed, junk.size());
            } else if (r.status == ParseStatus::Error) {
                EXPECT_NE(r.error, ParseError::None);
                EXPECT_FALSE(r.reason.empty());
                EXPECT_EQ(r.consumed, 0U);
            } else {
                EXPECT_EQ(f, Framing::Stream);
                EXPECT_LE(r.consumed, junk.size());
            }
        }
    }
    // A TLS ClientHello or an HTTP request on the SIP port.
    EXPECT_EQ(
        parse_stream(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", 13)).error,
        ParseError::BadStartLine);
    EXPECT_EQ(parse_stream("GET / HTTP/1.1\r\nHost: x\r\n\r\n").error, ParseError::BadStartLine);
}

// Shapes that make naive parsers quadratic or recursive: they all finish,
// fast, with a sensible answer.
TEST(ParserHostile, PathologicalShapes) {
    const std::string commas(60000, ',');
    const ParseResult r = parse_dgram(request_with("Route: " + commas + "\r\n"),
                                      ParseLimits{65535, 256, 65535, 8192});
    ASSERT_EQ(r.status, ParseStatus::Ok);
    EXPECT_TRUE(r.message.headers("Route").empty());  // only empty elements
    EXPECT_EQ(validate_request(r.message), "Malformed Route header");

    const std::string quotes = "Contact: " + std::string(8000, '"') + "\r\n";
    const ParseResult q = parse_dgram(request_with(quotes));
    ASSERT_EQ(q.status, ParseStatus::Ok);
    EXPECT_EQ(validate_request(q.message), "Malformed Contact header");

    const std::string angles =
        "Contact: " + std::string(4000, '<') + std::string(4000, '>') + "\r\n";
    EXPECT_EQ(validate_request(parse_dgram(request_with(angles)).message),
              "Malformed Contact header");

    std::string semis = "Via: SIP/2.0/UDP h";
    for (int i = 0; i < 2000; ++i)
        semis += ";a=b";
    const ParseResult s = parse_dgram(request_with(semis + "\r\n"));
    ASSERT_EQ(s.status, ParseStatus::Ok);
    EXPECT_EQ(parse_via(s.message.headers("Via")[1])->params.size(), 2000U);

    std::string folds = "Subject: x\r\n";
    while (folds.size() < 8000)
        folds += " y\r\n";
    EXPECT_EQ(parse_dgram(request_with(folds)).status, ParseStatus::Ok);

    const std::string crlfs(65534, '\n');
    EXPECT_EQ(parse_dgram(test::wire(crlfs).substr(0, 65534)).error, ParseError::Empty);
    EXPECT_EQ(parse_stream(test::wire(crlfs)).status, ParseStatus::Incomplete);
}

// On a stream, feeding one octet at a time finds the same message.
TEST(ParserHostile, OctetByOctetStream) {
    const std::string full = request_with("", "body");
    std::string buffer;
    std::size_t calls = 0;
    ParseResult r;
    for (char c : full) {
        buffer.push_back(c);
        r = parse_stream(buffer);
        ++calls;
        if (r.status != ParseStatus::Incomplete) break;
    }
    ASSERT_EQ(r.status, ParseStatus::Ok);
    EXPECT_EQ(calls, full.size());
    EXPECT_EQ(r.message.body, "body");
    EXPECT_EQ(serialize(r.message), full);
}

}  // namespace
}  // namespace isthmus::sip
