// A hostile peer against a data-channel endpoint (issue 9): a raw SCTP
// association sends hand-made DCEP and data. Every refusal is counted by
// its reason, nothing crashes, and the channels that are fine keep working.
#include <gtest/gtest.h>

#include <random>

#include "datachannel/data_channel.hpp"
#include "endpoint_peers.hpp"
#include "sctp_peers.hpp"

namespace isthmus::datachannel {
namespace {

using testing::Bytes;
using testing::channel;
using testing::EndpointSide;
using testing::text;

constexpr uint32_t kDcep = static_cast<uint32_t>(Ppid::Dcep);
constexpr uint32_t kString = static_cast<uint32_t>(Ppid::String);

// Our endpoint as the DTLS client (side 0) against a raw association
// playing the DTLS server (side 1).
class HostilePeer {
  public:
    explicit HostilePeer(SctpStack& stack) : wire(stack) {
        us.ep = std::make_unique<DataChannelEndpoint>(stack, testing::client_options(),
                                                      testing::recording(us, wire.sender(0)));
        wire.attach(0, [this](std::span<const uint8_t> p) { us.ep->receive_packet(p); });
        const testing::Receiver out = wire.sender(1);
        them.assoc = std::make_unique<SctpAssociation>(
            stack, SctpOptions{},
            SctpCallbacks{
                .send_packet = [out](std::span<const uint8_t> p) { out(p); },
                .on_message =
                    [this](uint16_t stream, uint32_t ppid, std::span<const uint8_t> d) {
                        them.messages.push_back({stream, ppid, Bytes(d.begin(), d.end())});
                    },
                .on_state = [this](SctpState s) { them.states.push_back(s); },
                .on_stream_reset = [this](uint16_t s) { them.resets_in.push_back(s); },
                .on_reset_done = nullptr,
                .on_writable = nullptr,
            });
        wire.attach(1, [this](std::span<const uint8_t> p) { them.assoc->receive_packet(p); });
    }

    bool up() {
        ep().connect();
        raw().connect();
        return wire.run_until(
            [&] { return ep().state() == SctpState::Up && raw().state() == SctpState::Up; });
    }
    // The raw side sends, then the wire settles.
    void say(uint16_t stream, uint32_t ppid, const Bytes& data) {
        ASSERT_EQ(raw().send(stream, ppid, data), SendResult::Ok);
        wire.run_for(100);
    }

    DataChannelEndpoint& ep() { return *us.ep; }
    SctpAssociation& raw() { return *them.assoc; }

    testing::Wire wire;
    EndpointSide us;
    testing::Side them;
};

// A well-formed OPEN (RFC 8832 5.1) for `label`.
Bytes open_for(std::string label) {
    return write_open(channel(std::move(label)));
}

TEST(HostileDcep, EveryRefusalIsCountedAndTheGoodChannelWorks) {
    SctpStack stack;
    HostilePeer h(stack);
    ASSERT_TRUE(h.up());
    const EndpointCounters& c = h.ep().counters();

    h.say(2, kDcep, open_for("our parity"));  // RFC 8832 6: even ids are the client's
    EXPECT_EQ(c.open_wrong_parity, 1u);
    h.say(1, kDcep, Bytes{0x03, 0x00, 0x01});  // OPEN cut short
    EXPECT_EQ(h.ep().dcep_errors(DcepError::Truncated), 1u);
    h.say(1, kDcep, Bytes{0x07});  // no such DCEP message
    EXPECT_EQ(h.ep().dcep_errors(DcepError::UnknownType), 1u);
    Bytes bad_type = open_for("x");
    bad_type[1] = 0x05;
    h.say(1, kDcep, bad_type);
    EXPECT_EQ(h.ep().dcep_errors(DcepError::BadChannelType), 1u);
    Bytes trailing = open_for("x");
    trailing.push_back(0);
    h.say(1, kDcep, trailing);
    EXPECT_EQ(h.ep().dcep_errors(DcepError::TrailingBytes), 1u);
    EXPECT_EQ(c.dcep_malformed, 4u);
    h.say(5, kDcep, write_ack());  // an ACK for nothing we opened
    EXPECT_EQ(c.unexpected_ack, 1u);
    h.say(7, kString, text("nobody opened this"));
    EXPECT_EQ(c.data_no_channel, 1u);
    h.say(1, 52, text("deprecated partial string"));
    h.say(1, 0, text("no ppid"));
    EXPECT_EQ(c.unknown_ppid, 2u);
    ASSERT_EQ(h.raw().reset_stream(9), SendResult::Ok);
    h.wire.run_for(100);
    EXPECT_EQ(c.resets_no_channel, 1u);
    EXPECT_TRUE(h.us.opened.empty());
    EXPECT_TRUE(h.us.messages.empty());
    EXPECT_TRUE(h.ep().channels().empty());
    EXPECT_TRUE(h.them.messages.empty());  // nothing was acknowledged

    // A proper OPEN on stream 1: acknowledged, usable.
    h.say(1, kDcep, open_for("fine"));
    ASSERT_EQ(h.us.opened.size(), 1u);
    EXPECT_EQ(h.us.opened[0].id, 1);
    ASSERT_EQ(h.them.messages.size(), 1u);
    EXPECT_EQ(h.them.messages[0].stream, 1);
    EXPECT_EQ(h.them.messages[0].ppid, kDcep);
    EXPECT_EQ(h.them.messages[0].data, write_ack());
    // The same OPEN again, and an ACK on a channel it opened itself.
    h.say(1, kDcep, open_for("again"));
    EXPECT_EQ(c.open_busy, 1u);
    h.say(1, kDcep, write_ack());
    EXPECT_EQ(c.unexpected_ack, 2u);
    EXPECT_EQ(h.us.opened.size(), 1u);

    h.say(1, kString, text("still fine"));
    ASSERT_EQ(h.us.messages.size(), 1u);
    EXPECT_EQ(h.us.messages[0].data, text("still fine"));
    ASSERT_EQ(h.ep().send(1, MessageKind::Text, text("and back")), SendResult::Ok);
    h.wire.run_for(100);
    ASSERT_EQ(h.them.messages.size(), 2u);
    EXPECT_EQ(h.them.messages[1].data, text("and back"));
    EXPECT_EQ(h.ep().state(), SctpState::Up);
}

TEST(HostileDcep, RandomDcepAndDataNeverCrash) {
    SctpStack stack;
    HostilePeer h(stack);
    ASSERT_TRUE(h.up());
    std::mt19937 rng(23);
    const uint32_t ppids[] = {kDcep, kDcep, kDcep, kString, 53, 56, 57, 52, 54, 0, 1234};
    for (int i = 0; i < 1500; ++i) {
        Bytes m;
        if (rng() % 2 == 0) {  // a valid OPEN or ACK, mutated
            m = rng() % 4 == 0 ? write_ack() : open_for(std::string(rng() % 40, 'l'));
            const int flips = 1 + static_cast<int>(rng() % 3);
            for (int f = 0; f < flips; ++f)
                m[rng() % m.size()] = static_cast<uint8_t>(rng());
        } else {
            m.resize(1 + rng() % 64);
            for (auto& b : m)
                b = static_cast<uint8_t>(rng());
        }
        const auto stream = static_cast<uint16_t>(rng() % 40);
        const uint32_t ppid = ppids[rng() % std::size(ppids)];
        const SendResult r = h.raw().send(stream, ppid, m);
        ASSERT_TRUE(r == SendResult::Ok || r == SendResult::StreamResetting) << i;
        if (i % 20 == 0) h.wire.step();
        if (i % 200 == 0) {  // and resets of random streams now and then
            h.raw().reset_stream(static_cast<uint16_t>(rng() % 40));
        }
    }
    h.wire.run_for(3000);
    EXPECT_EQ(h.ep().state(), SctpState::Up);
    EXPECT_LE(h.ep().channels().size(), testing::client_options().max_channels);
    // Whatever happened, every channel the endpoint holds has a peer's id.
    for (const auto& [id, ch] : h.ep().channels()) {
        EXPECT_EQ(id % 2, 1);
        EXPECT_FALSE(ch.local);
    }
    const EndpointCounters& c = h.ep().counters();
    EXPECT_GT(c.dcep_malformed + c.open_wrong_parity + c.open_busy + c.unexpected_ack, 0u);
    EXPECT_GT(c.data_no_channel + c.unknown_ppid, 0u);
}

}  // namespace
}  // namespace isthmus::datachannel
