// The SCTP association over an in-memory wire (issue 9): simultaneous open,
// messages both ways (small, empty, large up to and above the maximum),
// reliable and partially reliable delivery under loss, stream resets, and
// a send buffer that fills when the peer stops acknowledging.
#include "datachannel/sctp_association.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "datachannel/dcep.hpp"
#include "sctp_peers.hpp"

namespace isthmus::datachannel {
namespace {

using testing::Bytes;
using testing::pattern;
using testing::Peers;

constexpr uint32_t kBinary = static_cast<uint32_t>(Ppid::Binary);
constexpr uint32_t kString = static_cast<uint32_t>(Ppid::String);

Bytes text(std::string_view s) {
    return Bytes(s.begin(), s.end());
}

TEST(SctpStack, IsOneAtATime) {
    SctpStack stack;
    EXPECT_THROW(SctpStack second, std::logic_error);
}

std::size_t threads() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task"))
        ++n;
    return n;
}

TEST(SctpStack, StartsNoTimerOrReceiveThread) {
    const std::size_t before = threads();
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    // usrsctp_init_nothreads still starts its idle "SCTP iterator" thread
    // (usrsctp 0.9.5); no timer thread, no receive threads.
    EXPECT_LE(threads(), before + 1);
    EXPECT_EQ(stack.counters().foreign_thread, 0u);
}

TEST(SctpAssociation, ComesUpBySimultaneousOpen) {
    SctpStack stack;
    SctpOptions a;
    a.streams = 300;
    SctpOptions b;
    b.streams = 1024;
    Peers p(stack, a, b);
    EXPECT_EQ(p.a().state(), SctpState::Idle);
    ASSERT_TRUE(p.up());
    // Up is reported once on each side; the streams are the smaller ask.
    EXPECT_EQ(p.side[0].states, std::vector<SctpState>{SctpState::Up});
    EXPECT_EQ(p.side[1].states, std::vector<SctpState>{SctpState::Up});
    EXPECT_EQ(p.a().outbound_streams(), 300);
    EXPECT_EQ(p.a().inbound_streams(), 300);
    EXPECT_EQ(p.b().outbound_streams(), 300);
    EXPECT_EQ(stack.associations(), 2u);
    EXPECT_GT(p.a().counters().packets_out, 0u);
    EXPECT_EQ(p.a().counters().packets_out, p.side[0].packets);
    EXPECT_EQ(p.b().counters().packets_in, p.wire.delivered(1));
}

TEST(SctpAssociation, ComesUpWhenOnlyOneSideConnects) {
    SctpStack stack;
    Peers p(stack);
    p.a().connect();  // b's owner is late: the INIT makes it connect first
    ASSERT_TRUE(p.wire.run_until(
        [&] { return p.a().state() == SctpState::Up && p.b().state() == SctpState::Up; }));
}

TEST(SctpAssociation, NothingIsSentBeforeUp) {
    SctpStack stack;
    Peers p(stack);
    const Bytes m = text("early");
    EXPECT_EQ(p.a().send(0, kString, m), SendResult::NotUp);
    p.a().connect();
    EXPECT_EQ(p.a().state(), SctpState::Connecting);
    EXPECT_EQ(p.a().send(0, kString, m), SendResult::NotUp);
    EXPECT_EQ(p.a().reset_stream(0), SendResult::NotUp);
    EXPECT_EQ(p.a().counters().send_refused, 3u);
}

TEST(SctpAssociation, SmallMessagesFlowBothWays) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    for (int i = 0; i < 20; ++i) {
        const Bytes m = text("a to b #" + std::to_string(i));
        ASSERT_EQ(p.a().send(static_cast<uint16_t>(i % 3), kString, m), SendResult::Ok);
        const Bytes r = pattern(static_cast<std::size_t>(1 + i * 50), static_cast<uint8_t>(i));
        ASSERT_EQ(p.b().send(7, kBinary, r), SendResult::Ok);
    }
    ASSERT_TRUE(p.wire.run_until(
        [&] { return p.side[1].messages.size() == 20 && p.side[0].messages.size() == 20; }));
    for (int i = 0; i < 20; ++i) {
        const auto& at_b = p.side[1].messages[static_cast<std::size_t>(i)];
        EXPECT_EQ(at_b.stream, i % 3);
        EXPECT_EQ(at_b.ppid, kString);
        EXPECT_EQ(at_b.data, text("a to b #" + std::to_string(i)));
        const auto& at_a = p.side[0].messages[static_cast<std::size_t>(i)];
        EXPECT_EQ(at_a.stream, 7);
        EXPECT_EQ(at_a.ppid, kBinary);
        EXPECT_EQ(at_a.data,
                  pattern(static_cast<std::size_t>(1 + i * 50), static_cast<uint8_t>(i)));
    }
    EXPECT_EQ(p.a().counters().messages_out, 20u);
    EXPECT_EQ(p.b().counters().messages_in, 20u);
    // No packet is larger than the configured SCTP packet size.
    EXPECT_LE(p.wire.largest_packet(), SctpOptions{}.max_packet_size);
}

TEST(SctpAssociation, EmptyMessagesTravelAsOneZeroOctetWithTheEmptyPpids) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    // RFC 8831 6.6: "" as string and as binary, and the empty PPIDs given
    // directly (their one octet is not the message).
    EXPECT_EQ(p.a().send(1, kString, {}), SendResult::Ok);
    EXPECT_EQ(p.a().send(1, kBinary, {}), SendResult::Ok);
    const Bytes junk = text("ignored");
    EXPECT_EQ(p.a().send(1, static_cast<uint32_t>(Ppid::BinaryEmpty), junk), SendResult::Ok);
    // A DCEP message (or any other PPID) has no empty form.
    EXPECT_EQ(p.a().send(1, static_cast<uint32_t>(Ppid::Dcep), {}), SendResult::Invalid);
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[1].messages.size() == 3; }));
    const auto& m = p.side[1].messages;
    EXPECT_EQ(m[0].ppid, static_cast<uint32_t>(Ppid::StringEmpty));
    EXPECT_TRUE(m[0].data.empty());
    EXPECT_EQ(m[1].ppid, static_cast<uint32_t>(Ppid::BinaryEmpty));
    EXPECT_TRUE(m[1].data.empty());
    EXPECT_EQ(m[2].ppid, static_cast<uint32_t>(Ppid::BinaryEmpty));
    EXPECT_TRUE(m[2].data.empty());
    EXPECT_EQ(p.b().counters().message_bytes_in, 0u);
}

TEST(SctpAssociation, LargeMessagesUpToTheMaximum) {
    SctpStack stack;
    SctpOptions o;
    o.max_message_size = 512 * 1024;
    o.peer_max_message_size = 512 * 1024;
    Peers p(stack, o, o);
    ASSERT_TRUE(p.up());
    const std::size_t sizes[] = {64 * 1024, 64 * 1024 + 1, 300 * 1024, 512 * 1024};
    uint8_t salt = 1;
    for (const std::size_t n : sizes)
        ASSERT_EQ(p.a().send(2, kBinary, pattern(n, salt++)), SendResult::Ok) << n;
    ASSERT_EQ(p.b().send(3, kBinary, pattern(200 * 1024, 9)), SendResult::Ok);
    // One octet above the peer's max-message-size: refused, nothing queued.
    EXPECT_EQ(p.a().send(2, kBinary, pattern(512 * 1024 + 1)), SendResult::TooLarge);
    EXPECT_EQ(p.a().counters().send_too_large, 1u);
    ASSERT_TRUE(p.wire.run_until(
        [&] { return p.side[1].messages.size() == 4 && p.side[0].messages.size() == 1; }));
    salt = 1;
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(p.side[1].messages[i].data.size(), sizes[i]);
        EXPECT_EQ(p.side[1].messages[i].data, pattern(sizes[i], salt++)) << i;
    }
    EXPECT_EQ(p.side[0].messages[0].data, pattern(200 * 1024, 9));
    EXPECT_EQ(p.b().counters().dropped_oversize, 0u);
    // Full-sized packets, none above max_packet_size (no PMTU discovery).
    EXPECT_LE(p.wire.largest_packet(), o.max_packet_size);
    EXPECT_GE(p.wire.largest_packet(), o.max_packet_size - 16u) << p.wire.largest_packet();
}

TEST(SctpAssociation, AMessageAboveOurMaximumIsDroppedAndCounted) {
    SctpStack stack;
    SctpOptions sender;
    sender.peer_max_message_size = 0;  // a peer that ignores our a=max-message-size
    SctpOptions receiver;
    receiver.max_message_size = 100 * 1024;
    Peers p(stack, sender, receiver);
    ASSERT_TRUE(p.up());
    ASSERT_EQ(p.a().send(1, kBinary, pattern(100 * 1024, 1)), SendResult::Ok);  // exactly the max
    ASSERT_EQ(p.a().send(1, kBinary, pattern(100 * 1024 + 1, 2)), SendResult::Ok);
    ASSERT_EQ(p.a().send(1, kBinary, pattern(700 * 1024, 3)), SendResult::Ok);  // partial delivery
    ASSERT_EQ(p.a().send(1, kString, text("after")), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[1].messages.size() == 2; }));
    p.wire.run_for(200);
    ASSERT_EQ(p.side[1].messages.size(), 2u);
    EXPECT_EQ(p.side[1].messages[0].data, pattern(100 * 1024, 1));
    EXPECT_EQ(p.side[1].messages[1].data, text("after"));
    EXPECT_EQ(p.b().counters().dropped_oversize, 2u);
    EXPECT_EQ(p.b().counters().messages_in, 2u);
    EXPECT_EQ(p.b().state(), SctpState::Up);
}

TEST(SctpAssociation, ReliableOrderedDeliversEverythingInOrderDespiteLoss) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    p.wire.set_loss(0, 20);
    p.wire.set_loss(1, 20);
    constexpr int kCount = 300;
    for (int i = 0; i < kCount; ++i) {
        Bytes m = pattern(static_cast<std::size_t>(200 + (i * 37) % 3000));
        m[0] = static_cast<uint8_t>(i);
        m[1] = static_cast<uint8_t>(i >> 8);
        ASSERT_EQ(p.a().send(4, kBinary, m), SendResult::Ok) << i;
    }
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[1].messages.size() == kCount; }, 120000))
        << "got " << p.side[1].messages.size() << ", a " << sctp_state_name(p.a().state());
    for (int i = 0; i < kCount; ++i) {
        const Bytes& d = p.side[1].messages[static_cast<std::size_t>(i)].data;
        ASSERT_EQ(d.size(), static_cast<std::size_t>(200 + (i * 37) % 3000));
        ASSERT_EQ(d[0] | (d[1] << 8), i);
    }
    EXPECT_GT(p.wire.lost(1), 0u);
    EXPECT_TRUE(p.wire.run_until([&] { return p.a().queued_chunks() == 0; }, 60000));
}

// Sends `count` numbered messages with `options` over a lossy wire and
// returns the numbers the peer received, in arrival order.
std::vector<int> lossy_run(SendOptions options, unsigned loss, int count) {
    SctpStack stack;
    Peers p(stack);
    EXPECT_TRUE(p.up());
    p.wire.set_loss(1, loss);
    p.wire.set_loss(0, loss);
    for (int i = 0; i < count; ++i) {
        Bytes m = pattern(500);
        m[0] = static_cast<uint8_t>(i);
        m[1] = static_cast<uint8_t>(i >> 8);
        EXPECT_EQ(p.a().send(5, kBinary, m, options), SendResult::Ok) << i;
        if (i % 10 == 9) p.wire.step();  // a steady trickle
    }
    // It never blocks: everything is either delivered or abandoned.
    EXPECT_TRUE(p.wire.run_until([&] { return p.a().queued_chunks() == 0; }, 60000));
    p.wire.run_for(1000);
    std::vector<int> got;
    for (const auto& m : p.side[1].messages)
        got.push_back(m.data[0] | (m.data[1] << 8));
    return got;
}

TEST(SctpAssociation, MaxRetransmitsZeroMayLoseButNeverBlocks) {
    SendOptions o;
    o.policy = PrPolicy::MaxRetransmits;
    o.pr_value = 0;
    const std::vector<int> got = lossy_run(o, 30, 300);
    EXPECT_LT(got.size(), 300u);  // with 30% loss and no retransmission
    EXPECT_GT(got.size(), 100u);
    // Ordered: what arrives arrives in order, once.
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end());
}

TEST(SctpAssociation, UnorderedMaxRetransmitsZeroDeliversEachMessageAtMostOnce) {
    SendOptions o;
    o.ordered = false;
    o.policy = PrPolicy::MaxRetransmits;
    o.pr_value = 0;
    std::vector<int> got = lossy_run(o, 30, 300);
    EXPECT_LT(got.size(), 300u);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end());
}

TEST(SctpAssociation, MaxLifetimeMessagesArriveOnAGoodWire) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    SendOptions o;
    o.policy = PrPolicy::MaxLifetime;
    o.pr_value = 3000;
    for (int i = 0; i < 10; ++i)
        ASSERT_EQ(p.a().send(6, kBinary, pattern(2000), o), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[1].messages.size() == 10; }));
}

TEST(SctpAssociation, StreamResetIsSeenByThePeer) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    ASSERT_EQ(p.a().send(3, kString, text("last words")), SendResult::Ok);
    ASSERT_EQ(p.a().reset_stream(3), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return !p.side[0].resets_done.empty(); }));
    EXPECT_EQ(p.side[1].resets_in, std::vector<uint16_t>{3});
    EXPECT_EQ(p.side[0].resets_done, (std::vector<std::pair<uint16_t, bool>>{{3, true}}));
    // The data queued before the reset arrived first.
    ASSERT_EQ(p.side[1].messages.size(), 1u);
    EXPECT_EQ(p.side[1].messages[0].data, text("last words"));
    // The answer (RFC 8831 6.7) and the stream is usable again both ways.
    ASSERT_EQ(p.b().reset_stream(3), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return !p.side[1].resets_done.empty(); }));
    EXPECT_EQ(p.side[0].resets_in, std::vector<uint16_t>{3});
    ASSERT_EQ(p.a().send(3, kString, text("again")), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[1].messages.size() == 2; }));
    EXPECT_EQ(p.a().counters().stream_resets_out, 1u);
    EXPECT_EQ(p.b().counters().stream_resets_in, 1u);
    // Streams outside the negotiated ones are refused.
    EXPECT_EQ(p.a().reset_stream(p.a().outbound_streams()), SendResult::Invalid);
    EXPECT_EQ(p.a().send(p.a().outbound_streams(), kString, text("x")), SendResult::Invalid);
}

TEST(SctpAssociation, WouldBlockWhenThePeerStopsAcknowledging) {
    SctpStackOptions so;
    so.send_buffer = 64 * 1024;
    SctpStack stack(so);
    Peers p(stack);
    ASSERT_TRUE(p.up());
    p.wire.cut(1, true);  // nothing reaches b: no SACK comes back
    const Bytes m = pattern(1000);
    std::size_t accepted = 0;
    SendResult r = SendResult::Ok;
    for (int i = 0; i < 10000 && r == SendResult::Ok; ++i) {
        r = p.a().send(1, kBinary, m);
        if (r == SendResult::Ok) ++accepted;
        if (i % 16 == 0) p.wire.step();
    }
    ASSERT_EQ(r, SendResult::WouldBlock);
    // Bounded by the send buffer: no more than 64 KiB of messages held.
    EXPECT_LE(accepted * m.size(), so.send_buffer);
    EXPECT_GT(accepted * m.size(), so.send_buffer / 2);
    // Still full however long the peer stays silent (retransmissions only).
    p.wire.run_for(5000, 100);
    EXPECT_EQ(p.a().send(1, kBinary, m), SendResult::WouldBlock);
    EXPECT_EQ(p.a().counters().send_would_block, 2u);
    EXPECT_EQ(p.side[0].writable, 0);
    // The peer comes back: everything accepted arrives, and a is told it
    // may send again.
    p.wire.cut(1, false);
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[1].messages.size() == accepted; }, 60000));
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[0].writable > 0; }, 10000));
    EXPECT_EQ(p.a().send(1, kBinary, m), SendResult::Ok);
    EXPECT_EQ(p.a().state(), SctpState::Up);
}

TEST(SctpAssociation, AMessageLargerThanTheSendBufferIsTooLarge) {
    SctpStackOptions so;
    so.send_buffer = 64 * 1024;
    SctpStack stack(so);
    SctpOptions o;
    o.peer_max_message_size = 0;
    Peers p(stack, o, o);
    ASSERT_TRUE(p.up());
    EXPECT_EQ(p.a().send(1, kBinary, pattern(64 * 1024 + 1)), SendResult::TooLarge);
    EXPECT_EQ(p.a().send(1, kBinary, pattern(64 * 1024)), SendResult::Ok);
}

TEST(SctpAssociation, MessagesReachOnlyTheirOwnAssociation) {
    SctpStack stack;
    testing::Clock clock;
    Peers one(stack, {}, {}, &clock);
    Peers two(stack, {}, {}, &clock);  // the same ports, other tokens
    ASSERT_TRUE(one.up());
    ASSERT_TRUE(two.up());
    ASSERT_EQ(one.a().send(0, kString, text("one")), SendResult::Ok);
    ASSERT_EQ(two.a().send(0, kString, text("two")), SendResult::Ok);
    for (int i = 0; i < 20; ++i) {
        one.wire.step();
        two.wire.step();
    }
    ASSERT_EQ(one.side[1].messages.size(), 1u);
    ASSERT_EQ(two.side[1].messages.size(), 1u);
    EXPECT_EQ(one.side[1].messages[0].data, text("one"));
    EXPECT_EQ(two.side[1].messages[0].data, text("two"));
    EXPECT_EQ(stack.associations(), 4u);
}

}  // namespace
}  // namespace isthmus::datachannel
