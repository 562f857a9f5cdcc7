// Data channels over one SCTP association (issue 9): DCEP OPEN/ACK both
// ways with RFC 8832's stream-id parity, messages per channel (text,
// binary, empty, large), sending before the ACK, reliable and partially
// reliable channels under loss, closing by stream reset (RFC 8831 6.7) from
// either side, the channel limit, and the association's end.
#include "datachannel/data_channel.hpp"

#include <gtest/gtest.h>

#include "endpoint_peers.hpp"

namespace isthmus::datachannel {
namespace {

using testing::Bytes;
using testing::channel;
using testing::Endpoints;
using testing::pattern;
using testing::text;

TEST(DataChannel, NothingOpensBeforeTheAssociationIsUp) {
    SctpStack stack;
    Endpoints e(stack);
    EXPECT_EQ(e.client().open(channel("early")).result, SendResult::NotUp);
    EXPECT_EQ(e.client().send(0, MessageKind::Text, text("x")), SendResult::NoChannel);
    EXPECT_EQ(e.client().close(0), SendResult::NoChannel);
}

TEST(DataChannel, OpenAndAckFollowTheParityRules) {
    SctpStack stack;
    Endpoints e(stack);
    ASSERT_TRUE(e.up());
    // RFC 8832 6: the DTLS client opens on even ids, the server on odd ones.
    const OpenResult c0 = e.client().open(channel("chat", ChannelType::Reliable, 0, "msrp"));
    const OpenResult s0 = e.server().open(channel("files", ChannelType::ReliableUnordered));
    const OpenResult c1 = e.client().open(channel("game", ChannelType::PartialReliableRexmit, 2));
    const OpenResult s1 =
        e.server().open(channel("live", ChannelType::PartialReliableTimedUnordered, 500));
    ASSERT_EQ(c0.result, SendResult::Ok);
    ASSERT_EQ(s0.result, SendResult::Ok);
    ASSERT_EQ(c1.result, SendResult::Ok);
    ASSERT_EQ(s1.result, SendResult::Ok);
    EXPECT_EQ(c0.id, 0);
    EXPECT_EQ(c1.id, 2);
    EXPECT_EQ(s0.id, 1);
    EXPECT_EQ(s1.id, 3);
    ASSERT_TRUE(e.acked(0, 2));
    ASSERT_TRUE(e.acked(1, 3));
    EXPECT_EQ(e.side[0].acked, (std::vector<uint16_t>{0, 2}));
    EXPECT_EQ(e.side[1].acked, (std::vector<uint16_t>{1, 3}));

    // Each side saw the other's OPENs with what they carried.
    ASSERT_EQ(e.side[1].opened.size(), 2u);
    EXPECT_EQ(e.side[1].opened[0].id, 0);
    EXPECT_EQ(e.side[1].opened[0].params.label, "chat");
    EXPECT_EQ(e.side[1].opened[0].params.protocol, "msrp");
    EXPECT_EQ(e.side[1].opened[0].params.channel_type, ChannelType::Reliable);
    EXPECT_EQ(e.side[1].opened[1].params.channel_type, ChannelType::PartialReliableRexmit);
    EXPECT_EQ(e.side[1].opened[1].params.reliability, 2u);
    EXPECT_FALSE(e.side[1].opened[1].local);
    ASSERT_EQ(e.side[0].opened.size(), 2u);
    EXPECT_EQ(e.side[0].opened[0].id, 1);
    EXPECT_EQ(e.side[0].opened[0].params.channel_type, ChannelType::ReliableUnordered);
    EXPECT_EQ(e.side[0].opened[1].params.reliability, 500u);

    EXPECT_EQ(e.client().channels().size(), 4u);
    EXPECT_EQ(e.server().channels().size(), 4u);
    ASSERT_NE(e.client().channel(2), nullptr);
    EXPECT_TRUE(e.client().channel(2)->local);
    EXPECT_TRUE(e.client().channel(2)->acked);
    EXPECT_EQ(e.client().counters().opened_local, 2u);
    EXPECT_EQ(e.client().counters().opened_remote, 2u);
    EXPECT_EQ(e.client().counters().acks_in, 2u);
    EXPECT_EQ(e.client().counters().open_wrong_parity, 0u);
}

TEST(DataChannel, MessagesAreDeliveredPerChannelWithTheirKind) {
    SctpStack stack;
    EndpointOptions client = testing::client_options();
    client.sctp.peer_max_message_size = 256 * 1024;  // the server's a=max-message-size
    Endpoints e(stack, client);
    ASSERT_TRUE(e.up());
    const uint16_t a = e.client().open(channel("a")).id;
    const uint16_t b = e.server().open(channel("b")).id;
    ASSERT_TRUE(e.acked(0, a));
    ASSERT_TRUE(e.acked(1, b));
    ASSERT_EQ(e.client().send(a, MessageKind::Text, text("hello")), SendResult::Ok);
    ASSERT_EQ(e.client().send(a, MessageKind::Text, {}), SendResult::Ok);
    ASSERT_EQ(e.client().send(a, MessageKind::Binary, {}), SendResult::Ok);
    ASSERT_EQ(e.client().send(b, MessageKind::Binary, pattern(200 * 1024)), SendResult::Ok);
    ASSERT_EQ(e.server().send(a, MessageKind::Binary, pattern(3)), SendResult::Ok);
    ASSERT_EQ(e.server().send(b, MessageKind::Text, text("back")), SendResult::Ok);
    ASSERT_TRUE(e.wire.run_until(
        [&] { return e.side[1].messages.size() == 4 && e.side[0].messages.size() == 2; }));
    const auto& at_server = e.side[1].messages;
    EXPECT_EQ(at_server[0].id, a);
    EXPECT_EQ(at_server[0].kind, MessageKind::Text);
    EXPECT_EQ(at_server[0].data, text("hello"));
    EXPECT_EQ(at_server[1].kind, MessageKind::Text);
    EXPECT_TRUE(at_server[1].data.empty());
    EXPECT_EQ(at_server[2].kind, MessageKind::Binary);
    EXPECT_TRUE(at_server[2].data.empty());
    EXPECT_EQ(at_server[3].id, b);
    EXPECT_EQ(at_server[3].data, pattern(200 * 1024));
    const auto& at_client = e.side[0].messages;
    EXPECT_EQ(at_client[0].id, a);
    EXPECT_EQ(at_client[0].data, pattern(3));
    EXPECT_EQ(at_client[1].id, b);
    EXPECT_EQ(at_client[1].kind, MessageKind::Text);
    EXPECT_EQ(e.server().counters().messages_in, 4u);
    EXPECT_EQ(e.client().counters().messages_out, 4u);
    // Above the peer's max-message-size: refused before anything is queued.
    EXPECT_EQ(e.client().send(a, MessageKind::Binary, pattern(300 * 1024)), SendResult::TooLarge);
}

TEST(DataChannel, MessagesSentBeforeTheAckArriveAfterTheOpenInOrder) {
    SctpStack stack;
    Endpoints e(stack);
    ASSERT_TRUE(e.up());
    // An unordered channel: until the ACK its messages go ordered, so none
    // can overtake the OPEN (which would make it data on an unopened stream).
    e.wire.set_loss(1, 25);
    const OpenResult r = e.client().open(channel("eager", ChannelType::ReliableUnordered));
    ASSERT_EQ(r.result, SendResult::Ok);
    for (int i = 0; i < 20; ++i)
        ASSERT_EQ(e.client().send(r.id, MessageKind::Binary, Bytes{static_cast<uint8_t>(i)}),
                  SendResult::Ok);
    ASSERT_TRUE(e.wire.run_until([&] { return e.side[1].messages.size() == 20; }, 60000));
    ASSERT_EQ(e.side[1].opened.size(), 1u);
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(e.side[1].messages[static_cast<std::size_t>(i)].data[0], i);
    EXPECT_EQ(e.server().counters().data_no_channel, 0u);
}

// Numbered messages on a channel of `type` over a lossy wire; returns the
// numbers received, in arrival order.
std::vector<int> channel_under_loss(ChannelType type, uint32_t reliability, unsigned loss) {
    SctpStack stack;
    Endpoints e(stack);
    EXPECT_TRUE(e.up());
    const uint16_t id = e.client().open(channel("lossy", type, reliability)).id;
    EXPECT_TRUE(e.acked(0, id));
    e.wire.set_loss(0, loss);
    e.wire.set_loss(1, loss);
    for (int i = 0; i < 200; ++i) {
        Bytes m = pattern(300);
        m[0] = static_cast<uint8_t>(i);
        m[1] = static_cast<uint8_t>(i >> 8);
        EXPECT_EQ(e.client().send(id, MessageKind::Binary, m), SendResult::Ok);
        if (i % 10 == 9) e.wire.step();
    }
    EXPECT_TRUE(
        e.wire.run_until([&] { return e.client().association().queued_chunks() == 0; }, 120000));
    e.wire.run_for(1000);
    std::vector<int> got;
    for (const auto& m : e.side[1].messages)
        got.push_back(m.data[0] | (m.data[1] << 8));
    return got;
}

TEST(DataChannel, AReliableChannelDeliversEverythingInOrderUnderLoss) {
    const std::vector<int> got = channel_under_loss(ChannelType::Reliable, 0, 20);
    ASSERT_EQ(got.size(), 200u);
    for (int i = 0; i < 200; ++i)
        EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
}

TEST(DataChannel, ANoRetransmitChannelMayLoseButNeverBlocks) {
    const std::vector<int> got = channel_under_loss(ChannelType::PartialReliableRexmit, 0, 25);
    EXPECT_LT(got.size(), 200u);
    EXPECT_GT(got.size(), 50u);
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end());
}

TEST(DataChannel, CloseResetsTheStreamOnBothSidesAndFreesTheId) {
    SctpStack stack;
    Endpoints e(stack);
    ASSERT_TRUE(e.up());
    const uint16_t id = e.client().open(channel("short-lived")).id;
    ASSERT_TRUE(e.acked(0, id));
    ASSERT_EQ(e.client().send(id, MessageKind::Text, text("bye")), SendResult::Ok);
    ASSERT_EQ(e.client().close(id), SendResult::Ok);
    // Closing: no more sending; a second close is refused.
    EXPECT_EQ(e.client().send(id, MessageKind::Text, text("late")), SendResult::NoChannel);
    EXPECT_EQ(e.client().close(id), SendResult::NoChannel);
    ASSERT_TRUE(e.wire.run_until(
        [&] { return e.client().channels().empty() && e.server().channels().empty(); }));
    EXPECT_EQ(e.side[0].closed, std::vector<uint16_t>{id});
    EXPECT_EQ(e.side[1].closed, std::vector<uint16_t>{id});
    ASSERT_EQ(e.side[1].messages.size(), 1u);  // what was sent before close arrived
    EXPECT_EQ(e.client().counters().closed, 1u);
    EXPECT_EQ(e.server().counters().closed, 1u);
    // The id is free again, and works.
    const OpenResult again = e.client().open(channel("again"));
    ASSERT_EQ(again.result, SendResult::Ok);
    EXPECT_EQ(again.id, id);
    ASSERT_EQ(e.client().send(again.id, MessageKind::Text, text("hi")), SendResult::Ok);
    ASSERT_TRUE(e.wire.run_until([&] { return e.side[1].messages.size() == 2; }));
    EXPECT_EQ(e.side[1].opened.back().params.label, "again");
    EXPECT_EQ(e.server().counters().data_no_channel, 0u);
}

TEST(DataChannel, APeerCloseIsAnsweredWithOurReset) {
    SctpStack stack;
    Endpoints e(stack);
    ASSERT_TRUE(e.up());
    const uint16_t id = e.client().open(channel("theirs")).id;
    ASSERT_TRUE(e.acked(0, id));
    ASSERT_EQ(e.server().close(id), SendResult::Ok);  // the non-opener closes
    ASSERT_TRUE(e.wire.run_until(
        [&] { return e.client().channels().empty() && e.server().channels().empty(); }));
    EXPECT_EQ(e.side[0].closed, std::vector<uint16_t>{id});
    EXPECT_EQ(e.side[1].closed, std::vector<uint16_t>{id});
}

TEST(DataChannel, BothSidesClosingAtOnce) {
    SctpStack stack;
    Endpoints e(stack);
    ASSERT_TRUE(e.up());
    const uint16_t id = e.server().open(channel("both")).id;
    ASSERT_TRUE(e.acked(1, id));
    ASSERT_EQ(e.client().close(id), SendResult::Ok);
    ASSERT_EQ(e.server().close(id), SendResult::Ok);
    ASSERT_TRUE(e.wire.run_until(
        [&] { return e.client().channels().empty() && e.server().channels().empty(); }));
    EXPECT_EQ(e.side[0].closed, std::vector<uint16_t>{id});
    EXPECT_EQ(e.side[1].closed, std::vector<uint16_t>{id});
}

TEST(DataChannel, TheChannelLimitRefusesWithAReset) {
    SctpStack stack;
    EndpointOptions server = testing::server_options();
    server.max_channels = 2;
    Endpoints e(stack, testing::client_options(), server);
    ASSERT_TRUE(e.up());
    uint16_t ids[3];
    for (int i = 0; i < 3; ++i) {
        const OpenResult r = e.client().open(channel("c" + std::to_string(i)));
        ASSERT_EQ(r.result, SendResult::Ok);
        ids[i] = r.id;
    }
    // The third is refused by the server with a reset: the client sees it close.
    ASSERT_TRUE(e.wire.run_until([&] { return !e.side[0].closed.empty(); }));
    EXPECT_EQ(e.side[0].closed, std::vector<uint16_t>{ids[2]});
    EXPECT_EQ(e.side[1].opened.size(), 2u);
    EXPECT_EQ(e.server().counters().open_over_limit, 1u);
    e.wire.run_for(500);
    EXPECT_EQ(e.client().channels().size(), 2u);
    EXPECT_EQ(e.server().channels().size(), 2u);
    // Our own limit: open() says NoStream.
    EXPECT_EQ(e.server().open(channel("mine")).result, SendResult::NoStream);
}

TEST(DataChannel, TheAssociationEndingClosesEveryChannel) {
    SctpStack stack;
    Endpoints e(stack);
    ASSERT_TRUE(e.up());
    const uint16_t a = e.client().open(channel("a")).id;
    const uint16_t b = e.server().open(channel("b")).id;
    ASSERT_TRUE(e.acked(0, a));
    ASSERT_TRUE(e.acked(1, b));
    e.server().close_association(CloseMode::Abort);
    EXPECT_TRUE(e.server().channels().empty());
    EXPECT_TRUE(e.side[1].closed.empty());  // the owner asked: no callbacks
    ASSERT_TRUE(e.wire.run_until([&] { return e.client().state() == SctpState::Closed; }));
    EXPECT_EQ(e.side[0].closed, (std::vector<uint16_t>{a, b}));
    EXPECT_EQ(e.side[0].states.back(), SctpState::Closed);
    EXPECT_TRUE(e.client().channels().empty());
    EXPECT_EQ(e.client().open(channel("late")).result, SendResult::Closed);
}

TEST(DataChannel, AShutdownReportsTheChannelsWhenItCompletes) {
    SctpStack stack;
    Endpoints e(stack);
    ASSERT_TRUE(e.up());
    const uint16_t a = e.client().open(channel("a")).id;
    ASSERT_TRUE(e.acked(0, a));
    e.client().close_association(CloseMode::Shutdown);
    EXPECT_EQ(e.client().state(), SctpState::ShuttingDown);
    ASSERT_TRUE(e.wire.run_until([&] {
        return e.client().state() == SctpState::Closed && e.server().state() == SctpState::Closed;
    }));
    EXPECT_EQ(e.side[0].closed, std::vector<uint16_t>{a});
    EXPECT_EQ(e.side[1].closed, std::vector<uint16_t>{a});
}

TEST(DataChannel, CallbacksMayAnswerAndClose) {
    SctpStack stack;
    Endpoints e(stack);
    ASSERT_TRUE(e.up());
    // The server echoes, then closes the channel on "bye".
    e.side[1].after_message = [&](const testing::ChannelMessage& m) {
        ASSERT_EQ(e.server().send(m.id, m.kind, m.data), SendResult::Ok);
        if (m.data == text("bye")) {
            ASSERT_EQ(e.server().close(m.id), SendResult::Ok);
        }
    };
    const uint16_t id = e.client().open(channel("echo")).id;
    ASSERT_EQ(e.client().send(id, MessageKind::Text, text("one")), SendResult::Ok);
    ASSERT_EQ(e.client().send(id, MessageKind::Text, text("bye")), SendResult::Ok);
    ASSERT_TRUE(e.wire.run_until([&] { return e.client().channels().empty(); }));
    ASSERT_EQ(e.side[0].messages.size(), 2u);
    EXPECT_EQ(e.side[0].messages[1].data, text("bye"));
    EXPECT_EQ(e.side[0].closed, std::vector<uint16_t>{id});
}

}  // namespace
}  // namespace isthmus::datachannel

namespace isthmus::datachannel {
namespace {

// A channel negotiated in SDP (a=dcmap, RFC 8864; RFC 8832 5): both sides
// make it on the agreed stream, no DCEP crosses, any parity; data flows both
// ways; a DCEP OPEN for that stream is refused; close works as for others.
TEST(DataChannel, NegotiatedChannelsNeedNoDcep) {
    SctpStack stack;
    Endpoints e(stack);
    // Made before the association is up (as the slow path does at DTLS up).
    const OpenMessage msrp = channel("chat", ChannelType::Reliable, 0, "MSRP");
    ASSERT_EQ(e.client().add_negotiated(3, msrp), SendResult::Ok);  // odd: the server's parity
    ASSERT_EQ(e.server().add_negotiated(3, msrp), SendResult::Ok);
    EXPECT_EQ(e.client().add_negotiated(3, msrp), SendResult::NoChannel);
    EXPECT_EQ(e.client().add_negotiated(0xFFFF, msrp), SendResult::NoStream);
    EXPECT_EQ(e.client().send(3, MessageKind::Text, text("early")), SendResult::NotUp);
    ASSERT_TRUE(e.up());
    ASSERT_EQ(e.client().send(3, MessageKind::Text, text("to server")), SendResult::Ok);
    ASSERT_EQ(e.server().send(3, MessageKind::Binary, text("to client")), SendResult::Ok);
    ASSERT_TRUE(e.wire.run_until(
        [&] { return e.side[1].messages.size() == 1 && e.side[0].messages.size() == 1; }));
    EXPECT_EQ(e.side[1].messages[0].id, 3);
    EXPECT_EQ(e.side[1].messages[0].data, text("to server"));
    EXPECT_EQ(e.side[0].messages[0].kind, MessageKind::Binary);
    EXPECT_TRUE(e.side[0].opened.empty() && e.side[1].opened.empty()) << "no DCEP OPEN";
    EXPECT_TRUE(e.side[0].acked.empty());
    EXPECT_EQ(e.client().counters().negotiated, 1U);
    EXPECT_EQ(e.client().counters().opened_local, 0U);
    ASSERT_NE(e.server().channel(3), nullptr);
    EXPECT_EQ(e.server().channel(3)->params.protocol, "MSRP");
    // Closing: the peer's side closes too, and the id is free again.
    ASSERT_EQ(e.client().close(3), SendResult::Ok);
    ASSERT_TRUE(
        e.wire.run_until([&] { return !e.side[0].closed.empty() && !e.side[1].closed.empty(); }));
    ASSERT_TRUE(e.wire.run_until([&] { return e.client().channel(3) == nullptr; }));
    EXPECT_EQ(e.client().add_negotiated(3, msrp), SendResult::Ok);
}

}  // namespace
}  // namespace isthmus::datachannel
