// How an SCTP association ends (issue 9): ABORT and SHUTDOWN reported to
// the peer, a peer that never answers or stops answering, one side
// destroyed with packets in flight, callbacks that close, and hostile
// input: random bytes and mutated packets with valid checksums.
#include <usrsctp.h>

#include <cstring>
#include <random>

#include "datachannel/dcep.hpp"
#include "datachannel/sctp_association.hpp"
#include "sctp_peers.hpp"

namespace isthmus::datachannel {
namespace {

using testing::Bytes;
using testing::pattern;
using testing::Peers;

constexpr uint32_t kBinary = static_cast<uint32_t>(Ppid::Binary);

TEST(SctpClose, AbortIsReportedToThePeer) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    const uint64_t before = p.side[0].packets;
    p.a().close(CloseMode::Abort);
    EXPECT_EQ(p.side[0].packets, before + 1);  // the ABORT, before close returned
    EXPECT_EQ(p.a().state(), SctpState::Closed);
    EXPECT_EQ(p.a().close_reason(), SctpCloseReason::LocalAbort);
    EXPECT_EQ(p.side[0].states.size(), 1u);  // our own close is not reported back
    ASSERT_TRUE(p.wire.run_until([&] { return p.b().state() == SctpState::Closed; }));
    EXPECT_EQ(p.b().close_reason(), SctpCloseReason::PeerAbort);
    EXPECT_EQ(p.side[1].states.back(), SctpState::Closed);
    // Everything after is refused, nothing reaches usrsctp.
    EXPECT_EQ(p.a().send(0, kBinary, pattern(10)), SendResult::Closed);
    EXPECT_EQ(p.b().send(0, kBinary, pattern(10)), SendResult::Closed);
    const uint64_t refused = p.a().counters().packets_refused;
    p.a().receive_packet(pattern(100));
    EXPECT_EQ(p.a().counters().packets_refused, refused + 1);
}

TEST(SctpClose, ShutdownDeliversWhatIsQueuedThenClosesBothSides) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    for (int i = 0; i < 20; ++i)
        ASSERT_EQ(p.a().send(1, kBinary, pattern(4000)), SendResult::Ok);
    p.a().close(CloseMode::Shutdown);
    EXPECT_EQ(p.a().state(), SctpState::ShuttingDown);
    EXPECT_EQ(p.a().send(1, kBinary, pattern(10)), SendResult::Closed);
    ASSERT_TRUE(p.wire.run_until(
        [&] { return p.a().state() == SctpState::Closed && p.b().state() == SctpState::Closed; }));
    EXPECT_EQ(p.side[1].messages.size(), 20u);
    EXPECT_EQ(p.a().close_reason(), SctpCloseReason::LocalShutdown);
    EXPECT_EQ(p.b().close_reason(), SctpCloseReason::PeerShutdown);
    EXPECT_EQ(p.side[0].states.back(), SctpState::Closed);
    EXPECT_EQ(p.side[1].states.back(), SctpState::Closed);
}

TEST(SctpClose, ConnectFailsWhenNobodyAnswers) {
    SctpStackOptions so;
    so.max_init_retransmits = 3;
    so.rto_max_ms = 2000;
    SctpStack stack(so);
    Peers p(stack);
    p.wire.cut(1, true);
    p.a().connect();
    ASSERT_TRUE(p.wire.run_until([&] { return p.a().state() == SctpState::Failed; }, 120000, 100));
    EXPECT_EQ(p.a().close_reason(), SctpCloseReason::ConnectFailed);
    EXPECT_EQ(p.side[0].states, std::vector<SctpState>{SctpState::Failed});
}

TEST(SctpClose, APeerThatStopsAnsweringFailsTheAssociation) {
    SctpStackOptions so;
    so.max_assoc_retransmits = 4;
    so.rto_max_ms = 2000;
    SctpStack stack(so);
    Peers p(stack);
    ASSERT_TRUE(p.up());
    p.wire.cut(1, true);
    ASSERT_EQ(p.a().send(1, kBinary, pattern(100)), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return p.a().state() == SctpState::Failed; }, 120000, 100));
    EXPECT_EQ(p.a().close_reason(), SctpCloseReason::Timeout);
}

TEST(SctpClose, DestroyingOneSideWithPacketsInFlight) {
    SctpStackOptions so;
    so.max_assoc_retransmits = 4;
    so.rto_max_ms = 2000;
    SctpStack stack(so);
    Peers p(stack);
    ASSERT_TRUE(p.up());
    for (int i = 0; i < 30; ++i) {
        ASSERT_EQ(p.a().send(1, kBinary, pattern(3000)), SendResult::Ok);
        ASSERT_EQ(p.b().send(2, kBinary, pattern(3000)), SendResult::Ok);
    }
    p.wire.step();  // packets both ways are now queued on the wire
    ASSERT_GT(p.wire.in_flight(), 0u);
    const uint64_t b_packets = p.side[1].packets;
    const uint64_t orphans = stack.counters().orphan_packets;
    p.destroy(1);
    // b's destruction sent nothing through its callback; usrsctp's ABORT
    // for it went nowhere.
    EXPECT_EQ(p.side[1].packets, b_packets);
    EXPECT_GT(stack.counters().orphan_packets, orphans);
    EXPECT_EQ(stack.associations(), 1u);
    // What b had sent still reaches a; a then times out talking to nobody.
    ASSERT_TRUE(p.wire.run_until([&] { return p.a().state() == SctpState::Failed; }, 120000, 100));
    EXPECT_GT(p.side[0].messages.size(), 0u);
    // A new association made now gets a new token: nothing of b reaches it.
    const uint64_t orphans_after = stack.counters().orphan_packets;
    p.wire.run_for(5000, 100);
    EXPECT_EQ(stack.counters().orphan_packets, orphans_after);
}

TEST(SctpClose, CallbacksMayCloseTheAssociation) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    // b aborts from inside its first on_message: nothing more is delivered,
    // and the ABORT goes out from inside the callback.
    p.side[1].after_message = [&] { p.b().close(CloseMode::Abort); };
    for (int i = 0; i < 10; ++i)
        ASSERT_EQ(p.a().send(1, kBinary, pattern(100)), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return p.a().state() == SctpState::Closed; }));
    EXPECT_EQ(p.side[1].messages.size(), 1u);
    EXPECT_EQ(p.b().state(), SctpState::Closed);
    EXPECT_EQ(p.a().close_reason(), SctpCloseReason::PeerAbort);
}

TEST(SctpClose, CallbacksMaySendAndReceive) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    p.side[1].after_message = [&] {
        const auto& m = p.side[1].messages.back();
        ASSERT_EQ(p.b().send(m.stream, kBinary, m.data), SendResult::Ok);
    };
    for (int i = 0; i < 10; ++i)
        ASSERT_EQ(p.a().send(1, kBinary, pattern(100, static_cast<uint8_t>(i))), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[0].messages.size() == 10; }));
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(p.side[0].messages[static_cast<std::size_t>(i)].data,
                  pattern(100, static_cast<uint8_t>(i)));
}

TEST(SctpClose, RandomBytesAreDroppedByTheChecksum) {
    SctpStack stack;
    Peers p(stack);
    ASSERT_TRUE(p.up());
    std::mt19937 rng(7);
    for (int i = 0; i < 3000; ++i) {
        Bytes junk(1 + rng() % 1500);
        for (auto& b : junk)
            b = static_cast<uint8_t>(rng());
        p.b().receive_packet(junk);
    }
    p.b().receive_packet({});
    EXPECT_EQ(p.b().counters().packets_refused, 1u);
    EXPECT_EQ(p.b().state(), SctpState::Up);
    ASSERT_EQ(p.a().send(1, kBinary, pattern(100)), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[1].messages.size() == 1; }));
}

// Recomputes an SCTP packet's CRC32c (RFC 9260 6.8) the way usrsctp checks it.
void fix_checksum(Bytes& packet) {
    std::memset(packet.data() + 8, 0, 4);
    const uint32_t crc = usrsctp_crc32c(packet.data(), packet.size());
    std::memcpy(packet.data() + 8, &crc, 4);
}

TEST(SctpClose, MutatedPacketsWithValidChecksumsNeverCrash) {
    SctpStack stack;
    Peers p(stack);
    p.wire.record(1, true);
    ASSERT_TRUE(p.up());
    for (int i = 0; i < 40; ++i) {
        ASSERT_EQ(p.a().send(static_cast<uint16_t>(i % 4), kBinary,
                             pattern(static_cast<std::size_t>(10 + i * 97))),
                  SendResult::Ok);
    }
    ASSERT_EQ(p.a().reset_stream(2), SendResult::Ok);
    ASSERT_TRUE(p.wire.run_until([&] { return p.side[1].messages.size() == 40; }));
    p.wire.run_for(500);
    const std::vector<Bytes> corpus = p.wire.recorded(1);
    ASSERT_GT(corpus.size(), 10u);
    {  // our checksum is usrsctp's: an untouched packet keeps its own
        Bytes copy = corpus.front();
        fix_checksum(copy);
        ASSERT_EQ(copy, corpus.front());
    }
    std::mt19937 rng(11);
    for (int i = 0; i < 4000; ++i) {
        Bytes m = corpus[rng() % corpus.size()];
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) {
            // Mostly past the common header (chunks), sometimes in it.
            const std::size_t at = rng() % 4 == 0 ? rng() % m.size() : 12 + rng() % (m.size() - 12);
            m[at] = static_cast<uint8_t>(rng());
        }
        if (rng() % 8 == 0) m.resize(12 + rng() % (m.size() - 11));
        fix_checksum(m);
        p.b().receive_packet(m);
        if (i % 64 == 0) p.wire.step();
    }
    p.wire.run_for(2000);
    // Whatever state that left b in, it is one of ours and it still answers
    // or has ended.
    const SctpState s = p.b().state();
    EXPECT_TRUE(s == SctpState::Up || s == SctpState::Closed || s == SctpState::Failed)
        << sctp_state_name(s);
}

}  // namespace
}  // namespace isthmus::datachannel
