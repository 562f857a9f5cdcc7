// The TCP stream framer (StreamFramer, msrp/parser.hpp): the same messages
// whether the stream comes whole, byte by byte, split at every offset or
// in random pieces; several messages in one feed; bodies with fake end
// lines across feeds; errors that stop the stream; the buffer bound.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "msrp/parser.hpp"
#include "msrp/serializer.hpp"
#include "msrp_test_util.hpp"
#include "rfc4975_examples.hpp"

namespace isthmus::msrp {
namespace {

using test::make_send;
using test::parse_ok;
using test::wire;

// Every RFC example, back to back, as one TCP stream would carry them.
std::string rfc_stream() {
    std::string s;
    for (std::string_view m : {rfc::kSection4Send, rfc::kSection4Response, rfc::kSection71Chunk1,
                               rfc::kSection71Chunk2, rfc::kSection111Send,
                               rfc::kSection111Response, rfc::kSection115Report, rfc::kRfc4976Auth})
        s += m;
    return s;
}

std::vector<Message> rfc_messages() {
    std::vector<Message> v;
    for (std::string_view m : {rfc::kSection4Send, rfc::kSection4Response, rfc::kSection71Chunk1,
                               rfc::kSection71Chunk2, rfc::kSection111Send,
                               rfc::kSection111Response, rfc::kSection115Report, rfc::kRfc4976Auth})
        v.push_back(parse_ok(m));
    return v;
}

// Feeds `stream` in pieces of the given sizes (the last piece takes the
// rest) and returns the messages; the feed must not fail.
std::vector<Message> feed_in_pieces(std::string_view stream, const std::vector<std::size_t>& sizes,
                                    const ParseLimits& limits = {}) {
    StreamFramer framer(limits);
    std::vector<Message> out;
    std::size_t i = 0;
    for (std::size_t k = 0; i < stream.size(); ++k) {
        const std::size_t n = k < sizes.size() ? sizes[k] : stream.size() - i;
        EXPECT_EQ(framer.feed(stream.substr(i, n), out), ParseError::None) << framer.reason();
        i += n;
    }
    EXPECT_EQ(framer.buffered(), 0U);
    return out;
}

TEST(MsrpFramer, WholeStreamAtOnce) {
    const std::string stream = rfc_stream();
    StreamFramer framer;
    std::vector<Message> out;
    EXPECT_EQ(framer.feed(stream, out), ParseError::None) << framer.reason();
    EXPECT_EQ(out, rfc_messages());
    EXPECT_EQ(framer.buffered(), 0U);
    EXPECT_EQ(framer.reason(), "");
}

TEST(MsrpFramer, ByteByByteGivesTheSameMessages) {
    const std::string stream = rfc_stream();
    StreamFramer framer;
    std::vector<Message> out;
    for (char c : stream) {
        ASSERT_EQ(framer.feed(std::string_view(&c, 1), out), ParseError::None) << framer.reason();
    }
    EXPECT_EQ(out, rfc_messages());
    EXPECT_EQ(framer.buffered(), 0U);
}

TEST(MsrpFramer, SplitAtEveryOffset) {
    const std::string stream = rfc_stream();
    const std::vector<Message> want = rfc_messages();
    for (std::size_t k = 0; k <= stream.size(); ++k)
        ASSERT_EQ(feed_in_pieces(stream, {k}), want) << "split at " << k;
}

TEST(MsrpFramer, RandomPieces) {
    const std::string stream = rfc_stream();
    const std::vector<Message> want = rfc_messages();
    std::mt19937 rng(4975);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::size_t> sizes;
        std::uniform_int_distribution<std::size_t> size(0, 40);
        for (std::size_t total = 0; total < stream.size();) {
            sizes.push_back(size(rng));
            total += sizes.back();
        }
        ASSERT_EQ(feed_in_pieces(stream, sizes), want) << "round " << round;
    }
}

TEST(MsrpFramer, MessagesAppendedAfterWhatOutHolds) {
    StreamFramer framer;
    std::vector<Message> out(1);
    EXPECT_EQ(framer.feed(rfc::kSection4Send, out), ParseError::None);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[1].transaction_id, "a786hjs2");
}

// A body holding other transactions' end lines and pieces of its own,
// split so that each fake straddles two feeds.
TEST(MsrpFramer, FakeEndLinesAcrossFeeds) {
    const std::string body =
        "a\r\n-------a786hjs2$\r\nb\r\n-------c0ns1d3r+\r\n"  // other ids
        "\r\n-------tr4nsact"                                 // ours, then no flag...
        "X\r\n\r\n-------tr4nsact$x";                         // ...a bad flag, no CRLF
    Message m = make_send(body, "tr4nsact");
    const std::string bytes = serialize(m) + serialize(make_send("next", "n3xtm5g1"));
    for (std::size_t k = 0; k <= bytes.size(); ++k) {
        const auto out = feed_in_pieces(bytes, {k});
        ASSERT_EQ(out.size(), 2U) << "split at " << k;
        ASSERT_EQ(out[0].body, body) << "split at " << k;
        ASSERT_EQ(out[1].body, "next");
    }
}

// A message of many chunks, fed as one stream; each chunk put in its place
// by its Byte-Range.
TEST(MsrpFramer, ChunkedMessageReassembledByByteRange) {
    std::string text;
    for (int i = 0; i < 40; ++i)
        text += "line " + std::to_string(i) + "\r\n-------fake" + std::to_string(i) + "$\r\n";
    text += std::string("\0\x01\xfe\xff", 4);
    std::string stream;
    const std::size_t step = 97;
    std::size_t chunks = 0;
    for (std::size_t start = 0; start < text.size(); start += step) {
        const std::string part = text.substr(start, step);
        Message c = make_send(part, "chunk" + std::to_string(chunks++) + "id");
        c.byte_range = ByteRange{start + 1, start + part.size(), text.size()};
        c.continuation = start + step >= text.size() ? Continuation::Complete : Continuation::More;
        stream += serialize(c);
    }
    const auto out = feed_in_pieces(stream, {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144});
    ASSERT_EQ(out.size(), chunks);
    std::string whole(text.size(), '?');
    for (const Message& c : out) {
        ASSERT_TRUE(c.byte_range && c.byte_range->end && c.byte_range->total);
        EXPECT_EQ(*c.byte_range->total, text.size());
        EXPECT_EQ(c.body.size(), *c.byte_range->end - c.byte_range->start + 1);
        whole.replace(c.byte_range->start - 1, c.body.size(), c.body);
    }
    EXPECT_EQ(whole, text);
    EXPECT_EQ(out.back().continuation, Continuation::Complete);
    EXPECT_EQ(out.front().continuation, Continuation::More);
}

TEST(MsrpFramer, ErrorStopsTheStreamAfterTheGoodMessages) {
    StreamFramer framer;
    std::vector<Message> out;
    const std::string stream = std::string(rfc::kSection4Send) + "GET / HTTP/1.1\r\n\r\n";
    EXPECT_EQ(framer.feed(stream, out), ParseError::BadStartLine);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(framer.error(), ParseError::BadStartLine);
    EXPECT_EQ(framer.reason(), "start line does not begin with \"MSRP \": \"GET / HTTP/1.1\"");
    EXPECT_EQ(framer.buffered(), 0U);
    // Stays failed: nothing more is parsed.
    EXPECT_EQ(framer.feed(rfc::kSection4Send, out), ParseError::BadStartLine);
    EXPECT_EQ(out.size(), 1U);
}

TEST(MsrpFramer, NonMsrpRefusedAtItsFirstOctet) {
    StreamFramer framer;
    std::vector<Message> out;
    EXPECT_EQ(framer.feed("MS", out), ParseError::None);
    EXPECT_EQ(framer.feed("X", out), ParseError::BadStartLine);
    EXPECT_EQ(framer.reason(), "start line does not begin with \"MSRP \": \"MSX\"");
}

TEST(MsrpFramer, CrlfBetweenMessagesIsAnError) {
    StreamFramer framer;
    std::vector<Message> out;
    EXPECT_EQ(framer.feed(std::string(rfc::kSection4Send) + "\r\n", out), ParseError::BadStartLine);
    EXPECT_EQ(out.size(), 1U);
}

TEST(MsrpFramer, HeaderAndBodyLimitsMidStream) {
    ParseLimits limits;
    limits.max_header_bytes = 256;
    limits.max_body_bytes = 64;
    {
        StreamFramer framer(limits);
        std::vector<Message> out;
        std::string big = serialize(make_send(std::string(65, 'b')));
        EXPECT_EQ(framer.feed(serialize(make_send("ok")) + big, out), ParseError::BodyTooLarge);
        EXPECT_EQ(out.size(), 1U);
        EXPECT_EQ(framer.reason(), "data of 65 bytes over the limit of 64");
    }
    {
        // Data that never ends: refused after about max_body_bytes, fed
        // byte by byte, holding no more than that.
        StreamFramer framer(limits);
        std::vector<Message> out;
        std::string open = serialize(make_send("x"));
        open.resize(open.find("\r\n\r\n") + 4);
        ASSERT_EQ(framer.feed(open, out), ParseError::None);
        std::size_t fed = 0;
        ParseError e = ParseError::None;
        while (e == ParseError::None && fed < 10000) {
            e = framer.feed("z", out);
            ++fed;
            if (e == ParseError::None) {
                EXPECT_LE(framer.buffered(), open.size() + 64 + 20);
            }
        }
        EXPECT_EQ(e, ParseError::BodyTooLarge);
        EXPECT_EQ(framer.reason(),
                  "end line \"-------tr4nsact10n\" missing within 64 bytes of data");
        EXPECT_LT(fed, 64U + 25U);
    }
    {
        StreamFramer framer(limits);
        std::vector<Message> out;
        EXPECT_EQ(framer.feed("MSRP " + std::string(300, 'a'), out), ParseError::HeaderTooLarge);
        EXPECT_EQ(framer.reason(), "start line and headers over 256 bytes");
    }
}

TEST(MsrpFramer, BufferBoundWhateverTheFeedSize) {
    ParseLimits limits;
    limits.max_header_bytes = 512;
    limits.max_body_bytes = 1024;
    limits.max_buffered_bytes = 2048;
    // 4 MiB of small messages in one feed: the framer takes it in pieces.
    const std::string one = serialize(make_send(std::string(700, 'q')));
    std::string stream;
    while (stream.size() < 4 * 1024 * 1024)
        stream += one;
    StreamFramer framer(limits);
    std::vector<Message> out;
    EXPECT_EQ(framer.feed(stream, out), ParseError::None) << framer.reason();
    EXPECT_EQ(out.size(), stream.size() / one.size());
    EXPECT_EQ(framer.buffered(), 0U);
}

TEST(MsrpFramer, BufferFullWhenSmallerThanAMessage) {
    ParseLimits limits;
    limits.max_buffered_bytes = 100;  // less than headers + body may take
    StreamFramer framer(limits);
    std::vector<Message> out;
    EXPECT_EQ(framer.feed(serialize(make_send(std::string(200, 'q'))), out),
              ParseError::BufferFull);
    EXPECT_EQ(framer.reason(), "over 100 buffered bytes without a complete message");
    EXPECT_TRUE(out.empty());
}

TEST(MsrpFramer, MovedFramerKeepsItsState) {
    const std::string stream = rfc_stream();
    StreamFramer a;
    std::vector<Message> out;
    ASSERT_EQ(a.feed(stream.substr(0, 100), out), ParseError::None);
    StreamFramer b = std::move(a);
    ASSERT_EQ(b.feed(stream.substr(100), out), ParseError::None);
    EXPECT_EQ(out, rfc_messages());
}

// Hostile input: mutated streams (octets changed, inserted, dropped) give
// the same messages and the same error whether fed whole or byte by byte,
// and parse_message never reads outside its span (ASan run).
TEST(MsrpFramer, MutatedStreamsSplitInvariant) {
    const std::string base = rfc_stream();
    std::mt19937 rng(20070901);
    const std::string alphabet = "\r\n-$+#: /;MSRP0a";
    std::uniform_int_distribution<int> octet(0, 255);
    for (int round = 0; round < 400; ++round) {
        std::string s = base;
        std::uniform_int_distribution<int> edits(1, 4);
        for (int e = edits(rng); e > 0; --e) {
            std::uniform_int_distribution<std::size_t> at(0, s.size() - 1);
            const std::size_t pos = at(rng);
            const char c = (octet(rng) & 1) != 0
                               ? alphabet[static_cast<std::size_t>(octet(rng)) % alphabet.size()]
                               : static_cast<char>(octet(rng));
            switch (octet(rng) % 3) {
                case 0:
                    s[pos] = c;
                    break;
                case 1:
                    s.insert(pos, 1, c);
                    break;
                default:
                    s.erase(pos, 1);
                    break;
            }
        }
        StreamFramer whole;
        std::vector<Message> a;
        const ParseError ea = whole.feed(s, a);
        StreamFramer bytewise;
        std::vector<Message> b;
        ParseError eb = ParseError::None;
        for (std::size_t i = 0; i < s.size() && eb == ParseError::None; ++i)
            eb = bytewise.feed(std::string_view(s).substr(i, 1), b);
        ASSERT_EQ(ea, eb) << "round " << round << ": " << whole.reason() << " / "
                          << bytewise.reason();
        ASSERT_EQ(a, b) << "round " << round;
        (void)parse_message(s);
    }
}

}  // namespace
}  // namespace isthmus::msrp
