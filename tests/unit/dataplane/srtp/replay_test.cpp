// RFC 3711 3.3.1 index estimation and 3.3.2 replay list.
#include "srtp/replay.hpp"

#include <gtest/gtest.h>

namespace isthmus::srtp {
namespace {

TEST(ReplayWindow, AcceptsNewRejectsRepeat) {
    ReplayWindow w;
    EXPECT_EQ(w.check(0), Status::Ok);  // index 0 on a fresh window
    w.accept(0);
    EXPECT_EQ(w.check(0), Status::Replay);
    EXPECT_EQ(w.check(1), Status::Ok);
    w.accept(1);
    EXPECT_EQ(w.highest(), 1U);
    EXPECT_EQ(w.check(0), Status::Replay);  // index 0, one behind
    EXPECT_EQ(w.check(-1), Status::Replay);
}

TEST(ReplayWindow, ReorderInsideWindowOnce) {
    ReplayWindow w;
    w.accept(1000);  // highest 1000
    for (int64_t back = 1; back < ReplayWindow::kSize; ++back) {
        ASSERT_EQ(w.check(-back), Status::Ok) << back;
    }
    w.accept(-127);
    EXPECT_EQ(w.check(-127), Status::Replay);
    EXPECT_EQ(w.check(-128), Status::ReplayOld);
    EXPECT_EQ(w.check(-5000), Status::ReplayOld);
    w.accept(-64);
    w.accept(-63);
    EXPECT_EQ(w.check(-64), Status::Replay);
    EXPECT_EQ(w.check(-63), Status::Replay);
    EXPECT_EQ(w.check(-62), Status::Ok);
}

TEST(ReplayWindow, ShiftsAcrossWordBoundaries) {
    for (int64_t step : {1, 5, 63, 64, 65, 100, 127, 128, 129, 1000}) {
        ReplayWindow w;
        w.accept(200);   // highest 200
        w.accept(-10);   // 190 seen
        w.accept(step);  // highest 200 + step
        const int64_t back190 = -(10 + step);
        if (10 + step < ReplayWindow::kSize) {
            EXPECT_EQ(w.check(back190), Status::Replay) << "step " << step;
            EXPECT_EQ(w.check(back190 + 1), Status::Ok) << "step " << step;
        } else {
            EXPECT_EQ(w.check(back190), Status::ReplayOld) << "step " << step;
        }
        EXPECT_EQ(w.check(-step), step < ReplayWindow::kSize ? Status::Replay : Status::ReplayOld)
            << "old highest, step " << step;
        EXPECT_EQ(w.check(0), Status::Replay);
    }
}

TEST(ReplayWindow, ResetForgets) {
    ReplayWindow w;
    w.accept(10);
    w.reset(70000);
    EXPECT_EQ(w.highest(), 70000U);
    EXPECT_EQ(w.check(0), Status::Ok);
    EXPECT_EQ(w.check(-1), Status::Ok);
}

// RFC 3711 Appendix A, with libsrtp2's start-up rule (ROC 0 while the
// highest index is at most 2^15).
TEST(IndexEstimate, Rfc3711AppendixA) {
    // Fresh stream: the index is the sequence number itself.
    EXPECT_EQ(estimate_index_delta(0, 0), 0);
    EXPECT_EQ(estimate_index_delta(0, 65000), 65000);
    EXPECT_EQ(estimate_index_delta(100, 99), -1);
    // s_l >= 2^15 and seq far below: next ROC.
    EXPECT_EQ(estimate_index_delta(65535, 0), 1);
    EXPECT_EQ(estimate_index_delta(65500, 40), 76);
    EXPECT_EQ(estimate_index_delta(50000, 10000), 25536);
    // s_l >= 2^15 and seq a little below: same ROC, late packet.
    EXPECT_EQ(estimate_index_delta(65500, 65400), -100);
    // ROC 1, s_l < 2^15, seq far above: previous ROC (late packet from before the wrap).
    const uint64_t roc1 = uint64_t{1} << 16;
    EXPECT_EQ(estimate_index_delta(roc1 + 10, 65530), -16);
    EXPECT_EQ(estimate_index_delta(roc1 + 10, 20), 10);
    // Large ROC values keep working.
    const uint64_t big = (uint64_t{0xfffffffe} << 16) | 0xfff0;
    EXPECT_EQ(estimate_index_delta(big, 0x0005), 0x15);
}

}  // namespace
}  // namespace isthmus::srtp
