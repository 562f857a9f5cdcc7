// DCEP (RFC 8832) as the slow path will read and write it (issue 9): the
// OPEN and ACK wire forms byte for byte, every channel type, every refusal,
// the stream-id parity rule, and random input never read past its end.
#include "datachannel/dcep.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace isthmus::datachannel {
namespace {

using Bytes = std::vector<uint8_t>;

// RFC 8832 5.1's layout, written out by hand: a reliable ordered channel
// "chat" with the subprotocol "msrp" (RFC 8873), priority 256.
const Bytes kOpenChat = {0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
                         0x00, 0x04, 'c',  'h',  'a',  't',  'm',  's',  'r',  'p'};

TEST(Dcep, OpenIsReadFieldByField) {
    const DcepMessage m = parse_dcep(kOpenChat);
    ASSERT_TRUE(m.ok()) << dcep_error_name(m.error);
    EXPECT_EQ(m.type, MessageType::Open);
    EXPECT_EQ(m.open.channel_type, ChannelType::Reliable);
    EXPECT_EQ(m.open.priority, 256);
    EXPECT_EQ(m.open.reliability, 0u);
    EXPECT_EQ(m.open.label, "chat");
    EXPECT_EQ(m.open.protocol, "msrp");
    EXPECT_TRUE(is_ordered(m.open.channel_type));
    EXPECT_TRUE(is_reliable(m.open.channel_type));
}

TEST(Dcep, OpenIsWrittenByteForByte) {
    OpenMessage o;
    o.label = "chat";
    o.protocol = "msrp";
    EXPECT_EQ(write_open(o), kOpenChat);
    EXPECT_EQ(write_ack(), Bytes{0x02});
    const DcepMessage ack = parse_dcep(write_ack());
    ASSERT_TRUE(ack.ok());
    EXPECT_EQ(ack.type, MessageType::Ack);
}

TEST(Dcep, EveryChannelTypeRoundTrips) {
    const ChannelType types[] = {
        ChannelType::Reliable,
        ChannelType::ReliableUnordered,
        ChannelType::PartialReliableRexmit,
        ChannelType::PartialReliableRexmitUnordered,
        ChannelType::PartialReliableTimed,
        ChannelType::PartialReliableTimedUnordered,
    };
    for (const ChannelType t : types) {
        OpenMessage o;
        o.channel_type = t;
        o.priority = 512;
        o.reliability = is_reliable(t) ? 0 : 3000;
        o.label = "";  // empty labels are allowed
        o.protocol = "";
        const DcepMessage m = parse_dcep(write_open(o));
        ASSERT_TRUE(m.ok()) << static_cast<int>(t);
        EXPECT_EQ(m.open, o);
    }
    EXPECT_FALSE(is_ordered(ChannelType::ReliableUnordered));
    EXPECT_FALSE(is_reliable(ChannelType::PartialReliableTimed));
    EXPECT_TRUE(is_rexmit(ChannelType::PartialReliableRexmitUnordered));
    EXPECT_FALSE(is_rexmit(ChannelType::PartialReliableTimed));
    // A reliable channel's reliability parameter is written as 0.
    OpenMessage r;
    r.reliability = 77;
    EXPECT_EQ(parse_dcep(write_open(r)).open.reliability, 0u);
}

TEST(Dcep, EachRefusalHasItsReason) {
    EXPECT_EQ(parse_dcep({}).error, DcepError::Empty);
    EXPECT_EQ(parse_dcep(Bytes{0x01}).error, DcepError::UnknownType);
    EXPECT_EQ(parse_dcep(Bytes{0x02, 0x00}).error, DcepError::TrailingBytes);
    Bytes short_fixed(kOpenChat.begin(), kOpenChat.begin() + 11);
    EXPECT_EQ(parse_dcep(short_fixed).error, DcepError::Truncated);
    Bytes short_text(kOpenChat.begin(), kOpenChat.end() - 1);
    EXPECT_EQ(parse_dcep(short_text).error, DcepError::Truncated);
    Bytes long_text = kOpenChat;
    long_text.push_back('x');
    EXPECT_EQ(parse_dcep(long_text).error, DcepError::TrailingBytes);
    Bytes bad_type = kOpenChat;
    bad_type[1] = 0x03;
    EXPECT_EQ(parse_dcep(bad_type).error, DcepError::BadChannelType);
    // Lengths that add up past the message: refused, nothing read beyond.
    Bytes huge = kOpenChat;
    huge[8] = 0xff;
    huge[9] = 0xff;
    EXPECT_EQ(parse_dcep(huge).error, DcepError::Truncated);
    EXPECT_EQ(dcep_error_name(DcepError::BadChannelType), "bad_channel_type");
}

TEST(Dcep, StreamIdParity) {
    EXPECT_TRUE(opens_on(0, true));  // the DTLS client: even
    EXPECT_FALSE(opens_on(1, true));
    EXPECT_TRUE(opens_on(1, false));  // the server: odd
    EXPECT_FALSE(opens_on(65534, false));
}

TEST(Dcep, LongLabelsAreCutAtTheirLengthField) {
    OpenMessage o;
    o.label.assign(70000, 'l');
    o.protocol = "msrp";
    const Bytes w = write_open(o);
    EXPECT_EQ(w.size(), 12u + 0xffff + 4);
    const DcepMessage m = parse_dcep(w);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m.open.label.size(), 0xffffu);
    EXPECT_EQ(m.open.protocol, "msrp");
}

// Random and mutated input (a fixed seed): refused or accepted, never read
// past its end (the sanitizer build runs this), and what is accepted
// writes back to the same octets.
TEST(Dcep, RandomInputIsSafeAndAcceptedInputRoundTrips) {
    std::mt19937 rng(8832);
    std::uniform_int_distribution<int> octet(0, 255);
    std::uniform_int_distribution<int> length(0, 40);
    std::size_t accepted = 0;
    for (int i = 0; i < 200000; ++i) {
        Bytes b;
        if (i % 2 == 0) {
            b.resize(static_cast<std::size_t>(length(rng)));
            for (auto& x : b)
                x = static_cast<uint8_t>(octet(rng));
            if (!b.empty() && i % 4 == 0) b[0] = 0x03;
        } else {
            b = kOpenChat;
            b[static_cast<std::size_t>(octet(rng)) % b.size()] = static_cast<uint8_t>(octet(rng));
        }
        const DcepMessage m = parse_dcep(b);
        if (!m.ok()) continue;
        ++accepted;
        const Bytes again = m.type == MessageType::Ack ? write_ack() : write_open(m.open);
        // The reliability of a reliable channel is normalized to 0.
        if (m.type == MessageType::Open && is_reliable(m.open.channel_type)) {
            Bytes normalized = b;
            std::fill(normalized.begin() + 4, normalized.begin() + 8, 0);
            EXPECT_EQ(again, normalized);
        } else {
            EXPECT_EQ(again, b);
        }
    }
    EXPECT_GT(accepted, 1000u);
}

}  // namespace
}  // namespace isthmus::datachannel
