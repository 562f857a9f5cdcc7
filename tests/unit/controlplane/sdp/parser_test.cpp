// The parser (sdp/parser.hpp): the model it builds, line ends, what it keeps
// verbatim, every refusal with its line number, the limits just under and
// just over, and hostile input (truncation at every octet, garbage, huge
// shapes). Run under ASan+UBSan: nothing may be read out of bounds.
#include "sdp/parser.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

using test::data;
using test::parse_ok;
using test::wire;

const std::string kSimple = wire(R"(v=0
o=alice 2890844526 2890844526 IN IP4 198.51.100.1
s=-
c=IN IP4 198.51.100.1
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:97 iLBC/8000
m=video 51372/2 RTP/AVP 31
a=rtpmap:31 H261/90000
)");

TEST(Parser, BuildsSessionAndMediaSections) {
    const SessionDescription d = parse_ok(kSimple);
    ASSERT_EQ(d.session.lines.size(), 5U);
    EXPECT_EQ(d.session.lines[0], (Line{'v', "0"}));
    EXPECT_EQ(d.session.lines[1].type, 'o');
    EXPECT_EQ(d.session.lines[2], (Line{'s', "-"}));
    EXPECT_EQ(d.session.lines[3], (Line{'c', "IN IP4 198.51.100.1"}));
    EXPECT_EQ(d.session.lines[4], (Line{'t', "0 0"}));
    ASSERT_EQ(d.media.size(), 2U);
    EXPECT_EQ(d.media[0].m.media, "audio");
    EXPECT_EQ(d.media[0].m.port, 49170);
    EXPECT_FALSE(d.media[0].m.port_count);
    EXPECT_EQ(d.media[0].m.proto, "RTP/AVP");
    EXPECT_EQ(d.media[0].m.formats, (std::vector<std::string>{"0", "8", "97"}));
    ASSERT_EQ(d.media[0].lines.size(), 2U);
    EXPECT_EQ(d.media[0].lines[1], (Line{'a', "rtpmap:97 iLBC/8000"}));
    EXPECT_EQ(d.media[1].m.port, 51372);
    EXPECT_EQ(d.media[1].m.port_count, 2);
    ASSERT_TRUE(d.origin());
    EXPECT_EQ(d.origin()->username, "alice");
}

TEST(Parser, BareLfAndMixedLineEndsMeanTheSame) {
    const SessionDescription crlf = parse_ok(kSimple);
    std::string lf = kSimple;
    std::erase(lf, '\r');
    EXPECT_EQ(parse_ok(lf), crlf);
    std::string mixed = kSimple;
    mixed.erase(mixed.find("\r\nm=video"), 1);
    EXPECT_EQ(parse_ok(mixed), crlf);
}

TEST(Parser, LastLineWithoutLineEndAndTrailingEmptyLines) {
    const SessionDescription d = parse_ok(kSimple);
    EXPECT_EQ(parse_ok(kSimple.substr(0, kSimple.size() - 2)), d);
    EXPECT_EQ(parse_ok(kSimple.substr(0, kSimple.size() - 1)), d);  // "...H261/90000\r"
    EXPECT_EQ(parse_ok(kSimple + "\r\n"), d);
    EXPECT_EQ(parse_ok(kSimple + "\r\n\r\n\n"), d);
}

TEST(Parser, KeepsLinesVerbatim) {
    // Unknown type letters, unknown attributes, odd spacing inside values,
    // lines out of the RFC order: all kept where they were, as they were.
    const std::string text = wire(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=
a=tool:x  y
t=0 0
c=IN IP4 192.0.2.1
y=0100000001
m=audio 9 RTP/AVP 0
a=msid-semantic: WMS
a=x-unknown
a=x-empty:
f=v/2/4///a///
a=rtpmap:0  PCMU/8000 
)");
    const SessionDescription d = parse_ok(text);
    ASSERT_EQ(d.session.lines.size(), 7U);
    EXPECT_EQ(d.session.lines[2], (Line{'s', ""}));
    EXPECT_EQ(d.session.lines[3], (Line{'a', "tool:x  y"}));
    EXPECT_EQ(d.session.lines[6], (Line{'y', "0100000001"}));
    ASSERT_EQ(d.media[0].lines.size(), 5U);
    EXPECT_EQ(d.media[0].lines[0].attribute(), (Attribute{"msid-semantic", " WMS"}));
    EXPECT_EQ(d.media[0].lines[1].attribute(), (Attribute{"x-unknown", std::nullopt}));
    EXPECT_EQ(d.media[0].lines[2].attribute(), (Attribute{"x-empty", ""}));
    EXPECT_EQ(d.media[0].lines[3], (Line{'f', "v/2/4///a///"}));
    EXPECT_EQ(d.media[0].lines[4].value, "rtpmap:0  PCMU/8000 ");
    test::expect_exact_round_trip(text);
}

TEST(Parser, MediaLineSpacingIsLenient) {
    const SessionDescription d =
        parse_ok(wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio  9\tRTP/AVP 0 8 \n"));
    EXPECT_EQ(d.media[0].m.formats, (std::vector<std::string>{"0", "8"}));
    // And a line without formats (a rejected stream from some peers).
    const SessionDescription none =
        parse_ok(wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=video 0 RTP/AVP\n"));
    EXPECT_TRUE(none.media[0].m.formats.empty());
}

TEST(Parser, AllowsSessionWithoutMedia) {
    const SessionDescription d = parse_ok(wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n"));
    EXPECT_TRUE(d.media.empty());
}

struct Refusal {
    bool after_head;   // appended to four valid lines (v= o= s= t=)
    const char* text;  // "\n" becomes CRLF
    ParseError error;
    std::size_t line;
};

TEST(Parser, RefusalsNameTheLine) {
    const std::string h = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n";  // lines 1-4
    const std::vector<Refusal> cases = {
        {false, "", ParseError::Empty, 0},
        {false, "\n\n", ParseError::Empty, 0},
        {false, "v=0", ParseError::MissingOrigin, 2},
        {false, "v=0\no=- 1 1 IN IP4 192.0.2.1\n", ParseError::MissingSessionName, 3},
        {false, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\n", ParseError::MissingTiming, 4},
        {false, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nm=audio 9 RTP/AVP 0\n",
         ParseError::MissingTiming, 4},
        {false, "\nv=0\n", ParseError::BadLine, 1},
        {false, "v=00\n", ParseError::BadVersion, 1},
        {false, "v= 0\n", ParseError::BadVersion, 1},
        {false, "V=0\n", ParseError::BadVersion, 1},
        {false, "o=- 1 1 IN IP4 192.0.2.1\n", ParseError::BadVersion, 1},
        {false, "v=0\ns=-\n", ParseError::MissingOrigin, 2},
        {false, "v=0\no=- 1 1 IN IP4\n", ParseError::BadOrigin, 2},
        {false, "v=0\no=- 1 1 IN IP4 192.0.2.1 extra\n", ParseError::BadOrigin, 2},
        {false, "v=0\no=- 1 1 IN IP4 192.0.2.1\nt=0 0\n", ParseError::MissingSessionName, 3},
        {false, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0\n", ParseError::BadTiming, 4},
        {false, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=-1 0\n", ParseError::BadTiming, 4},
        {false, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nr=1d 1h 0\nt=0 0\n", ParseError::MisplacedLine,
         4},
        {true, "m=audio 65536 RTP/AVP 0\n", ParseError::BadPort, 5},
        {true, "m=audio 9/65536 RTP/AVP 0\n", ParseError::BadPort, 5},
        {true, "m=audio 9/ RTP/AVP 0\n", ParseError::BadPort, 5},
        {true, "m=audio +9 RTP/AVP 0\n", ParseError::BadPort, 5},
        {true, "m=audio 9 RTP/AVP 0 \x01\n", ParseError::BadMediaLine, 5},
        {true, "m=\n", ParseError::BadMediaLine, 5},
        {true, "m=audio 9 /AVP 0\n", ParseError::BadMediaLine, 5},
        {true, "m=aud:io 9 RTP/AVP 0\n", ParseError::BadMediaLine, 5},
        {true, "c=IN IP4 192.0.2.1 x\n", ParseError::BadConnection, 5},
        {true, "m=audio 9 RTP/AVP 0\nc=\n", ParseError::BadConnection, 6},
        {true, "a=\n", ParseError::BadAttribute, 5},
        {true, "m=audio 9 RTP/AVP 0\na=:x\n", ParseError::BadAttribute, 6},
        {true, "m=audio 9 RTP/AVP 0\nu=http://x\n", ParseError::MisplacedLine, 6},
        {true, "m=audio 9 RTP/AVP 0\nz=0 0\n", ParseError::MisplacedLine, 6},
        {true, "m=audio 9 RTP/AVP 0\nv=0\n", ParseError::MisplacedLine, 6},
        {true, "s=again\n", ParseError::MisplacedLine, 5},
        {true, "v=0\n", ParseError::MisplacedLine, 5},
        {true, "o=- 2 2 IN IP4 192.0.2.1\n", ParseError::MisplacedLine, 5},
        {true, "a=x\n\na=y\n", ParseError::BadLine, 6},
        {true, "=x\n", ParseError::BadLine, 5},
        {true, "a\n", ParseError::BadLine, 5},
        {true, "ab=x\n", ParseError::BadLine, 5},
        {true, "\xc3=x\n", ParseError::BadLine, 5},
        {true, "a=x\ry\n", ParseError::BadLine, 5},
        {true, "a=x\r\r\n", ParseError::BadLine, 5},
    };
    for (const Refusal& c : cases) {
        const std::string bytes = wire(c.after_head ? h + c.text : std::string(c.text));
        const ParseResult r = parse_sdp(bytes);
        EXPECT_EQ(r.error, c.error) << bytes << r.reason;
        EXPECT_EQ(r.line, c.line) << bytes << r.reason;
        EXPECT_FALSE(r.reason.empty());
        if (c.line > 0) {
            EXPECT_TRUE(r.reason.starts_with("line " + std::to_string(c.line) + ": ")) << r.reason;
        }
        EXPECT_EQ(r.description, SessionDescription{});
    }
}

TEST(Parser, NulInsideALine) {
    const std::string bytes =
        wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\na=x") + std::string(1, '\0') + "y\r\n";
    const ParseResult r = parse_sdp(bytes);
    EXPECT_EQ(r.error, ParseError::BadLine);
    EXPECT_EQ(r.line, 5U);
}

TEST(Parser, ReasonsSayWhatIsWrong) {
    const ParseResult r =
        parse_sdp(wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 12ab RTP/AVP 0\n"));
    EXPECT_EQ(r.reason,
              "line 5: m= port is not a number in 0..65535 (or its count not in 1..65535)");
    EXPECT_EQ(parse_sdp(wire("v=0\ns=-\n")).reason, "line 2: expected o=, got s=");
    EXPECT_EQ(parse_error_name(ParseError::MisplacedLine), "misplaced_line");
    EXPECT_EQ(parse_error_name(ParseError::None), "none");
}

// --- limits ---------------------------------------------------------------

std::string with_attributes(std::size_t n) {
    std::string s = wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 9 RTP/AVP 0\n");
    for (std::size_t i = 0; i < n; ++i)
        s += "a=x" + std::to_string(i) + "\r\n";
    return s;
}

TEST(ParserLimits, Bytes) {
    const std::string s = with_attributes(3);
    ParseLimits limits;
    limits.max_bytes = s.size();
    EXPECT_TRUE(parse_sdp(s, limits).ok());
    limits.max_bytes = s.size() - 1;
    const ParseResult r = parse_sdp(s, limits);
    EXPECT_EQ(r.error, ParseError::TooLarge);
    EXPECT_EQ(r.line, 0U);
    // Default: 64 KiB.
    EXPECT_EQ(parse_sdp(with_attributes(8000)).error, ParseError::TooLarge);
}

TEST(ParserLimits, Lines) {
    ParseLimits limits;
    limits.max_lines = 8;
    EXPECT_TRUE(parse_sdp(with_attributes(3), limits).ok());  // 5 + 3 lines
    const ParseResult r = parse_sdp(with_attributes(4), limits);
    EXPECT_EQ(r.error, ParseError::TooManyLines);
    EXPECT_EQ(r.line, 9U);
    // Trailing empty lines do not count.
    EXPECT_TRUE(parse_sdp(with_attributes(3) + "\r\n\r\n\r\n", limits).ok());
    // Default: 2000.
    limits = {};
    limits.max_attributes_per_section = 5000;
    EXPECT_TRUE(parse_sdp(with_attributes(1995), limits).ok());
    EXPECT_EQ(parse_sdp(with_attributes(1996), limits).error, ParseError::TooManyLines);
}

TEST(ParserLimits, AttributesPerSection) {
    ParseLimits limits;
    limits.max_attributes_per_section = 3;
    EXPECT_TRUE(parse_sdp(with_attributes(3), limits).ok());
    const ParseResult r = parse_sdp(with_attributes(4), limits);
    EXPECT_EQ(r.error, ParseError::TooManyAttributes);
    EXPECT_EQ(r.line, 9U);
    // Counted per section: a new m= starts again.
    std::string two = with_attributes(3) + "m=video 9 RTP/AVP 31\r\na=1\r\na=2\r\na=3\r\n";
    EXPECT_TRUE(parse_sdp(two, limits).ok());
    // Default: 512.
    EXPECT_TRUE(parse_sdp(with_attributes(512)).ok());
    EXPECT_EQ(parse_sdp(with_attributes(513)).error, ParseError::TooManyAttributes);
}

TEST(ParserLimits, MediaSections) {
    std::string s = wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n");
    for (int i = 0; i < 64; ++i)
        s += "m=audio 9 RTP/AVP 0\r\n";
    EXPECT_EQ(parse_ok(s).media.size(), 64U);
    const ParseResult r = parse_sdp(s + "m=audio 9 RTP/AVP 0\r\n");
    EXPECT_EQ(r.error, ParseError::TooManyMedia);
    EXPECT_EQ(r.line, 69U);
    ParseLimits limits;
    limits.max_media = 0;
    EXPECT_TRUE(parse_sdp(wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n"), limits).ok());
    EXPECT_EQ(parse_sdp(s, limits).error, ParseError::TooManyMedia);
}

// --- hostile input ----------------------------------------------------------

TEST(ParserHostile, EveryPrefixOfARealOffer) {
    const std::string offer = data("chrome_offer.sdp");
    ASSERT_FALSE(offer.empty());
    std::size_t ok = 0;
    for (std::size_t n = 0; n <= offer.size(); ++n) {
        const std::string prefix = offer.substr(0, n);  // exactly sized for ASan
        const ParseResult r = parse_sdp(prefix);
        if (r.ok()) {
            ++ok;
            test::expect_stable(r.description);
        } else {
            EXPECT_FALSE(r.reason.empty());
        }
    }
    // Every prefix that ends after t= and on a line boundary or inside a line
    // that can be cut (attribute values) parses.
    EXPECT_GT(ok, offer.size() / 2);
}

TEST(ParserHostile, RandomBytesAndLongShapes) {
    std::mt19937 rng(0x5D9);
    for (int i = 0; i < 2000; ++i) {
        std::string s(static_cast<std::size_t>(rng() % 300), '\0');
        for (char& c : s)
            c = static_cast<char>(rng());
        if (i % 2 == 0) s = "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\n" + s;
        const ParseResult r = parse_sdp(s);
        EXPECT_EQ(r.ok(), r.reason.empty());
    }
    const std::string head = wire("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n");
    // One 60 KB attribute; 60 KB of formats on one m= line; 30000 empty
    // lines at the end; lines of only '='.
    EXPECT_TRUE(parse_sdp(head + "a=x:" + std::string(60000, 'y') + "\r\n").ok());
    std::string formats = "m=audio 9 RTP/AVP";
    while (formats.size() < 60000)
        formats += " 0";
    EXPECT_EQ(parse_ok(head + formats + "\r\n").media[0].m.formats.size(),
              (formats.size() - 17) / 2);
    EXPECT_TRUE(parse_sdp(head + std::string(30000, '\n')).ok());
    EXPECT_EQ(parse_sdp(head + std::string(1000, '=')).error, ParseError::BadLine);
    EXPECT_EQ(parse_sdp(std::string(70000, 'a')).error, ParseError::TooLarge);
}

}  // namespace
}  // namespace isthmus::sdp
