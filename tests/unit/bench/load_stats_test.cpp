// bench/capacity's LoadStats and LatencyHistogram (issue 12): what the
// capacity figures are made of — loss, reordering, duplicates, late
// packets, RFC 3550 jitter and latency percentiles.
#include "load_stats.hpp"

#include <gtest/gtest.h>

namespace isthmus::bench::capacity {
namespace {

TEST(LatencyHistogram, ExactBelow1024nsThenWithin2Percent) {
    LatencyHistogram h;
    EXPECT_EQ(h.percentile(0.5), 0u);  // no samples
    for (uint64_t v = 1; v <= 100; ++v)
        h.add(v);
    EXPECT_EQ(h.count(), 100u);
    EXPECT_EQ(h.percentile(0.5), 50u);
    EXPECT_EQ(h.percentile(0.99), 99u);
    EXPECT_EQ(h.percentile(1.0), 100u);
    EXPECT_DOUBLE_EQ(h.mean(), 50.5);
    LatencyHistogram big;
    for (const uint64_t v : {10000ULL, 250000ULL, 3000000ULL, 1ULL << 39}) {
        big = LatencyHistogram();
        big.add(v);
        const auto p = static_cast<double>(big.percentile(0.5));
        EXPECT_LE(p, static_cast<double>(v)) << v;  // never above the largest sample
        EXPECT_GE(p, static_cast<double>(v) * 0.98) << v;
    }
    LatencyHistogram a, b;
    a.add(10);
    b.add(20);
    b.add(1u << 20);
    a.merge(b);
    EXPECT_EQ(a.count(), 3u);
    EXPECT_EQ(a.max(), 1u << 20);
    EXPECT_EQ(a.percentile(0.5), 20u);
}

TEST(LoadStats, CountsLossReorderingDuplicatesAndLate) {
    LoadStats s(2);
    for (uint64_t n = 0; n < 200; ++n)
        s.on_send(0, n, 1000 * n);
    // 0..9 in order, 11 before 10, 10 twice, 12..99, then of 100..199 only
    // 150 (the rest lost).
    for (uint64_t n = 0; n < 10; ++n)
        s.on_receive(0, n, 1000 * n + 500);
    s.on_receive(0, 11, 11500);
    s.on_receive(0, 10, 10700);
    s.on_receive(0, 10, 10800);
    for (uint64_t n = 12; n < 100; ++n)
        s.on_receive(0, n, 1000 * n + 500);
    s.on_receive(0, 150, 150500);
    s.on_bad();
    const StreamTotals t = s.totals();
    EXPECT_EQ(t.offered, 200u);
    EXPECT_EQ(t.delivered, 101u);  // 0..99 (10 once) and 150
    EXPECT_EQ(t.lost(), 99u);
    EXPECT_DOUBLE_EQ(t.loss_ratio(), 0.495);
    EXPECT_EQ(t.duplicates, 1u);
    EXPECT_EQ(t.reordered, 1u);
    EXPECT_EQ(t.bad, 1u);
    // A stream keeps the send times of its last 64 packets: everything
    // arrived after all 200 were sent, so only 136..199 could be timed;
    // 0..99 are "late" (delivered, no latency sample), 150 is timed.
    EXPECT_EQ(t.late, 100u);
    EXPECT_EQ(s.latency().count(), 1u);
    EXPECT_EQ(s.latency().percentile(0.5), 500u);
}

TEST(LoadStats, LatencyAndJitterPerRfc3550) {
    LoadStats s(1);
    // Transit times 100, 300, 100, 300 ...: |D| = 200 every packet after
    // the first; J += (|D| - J) / 16 converges on 200.
    for (uint64_t n = 0; n < 2000; ++n) {
        s.on_send(0, n, n * 20000);
        s.on_receive(0, n, n * 20000 + (n % 2 == 0 ? 100 : 300));
    }
    const StreamTotals t = s.totals();
    EXPECT_EQ(t.delivered, 2000u);
    EXPECT_EQ(t.late, 0u);
    EXPECT_NEAR(t.jitter_mean_ns, 200.0, 0.5);
    EXPECT_NEAR(t.jitter_max_ns, 200.0, 0.5);
    EXPECT_EQ(s.latency().percentile(0.5), 100u);
    EXPECT_EQ(s.latency().percentile(0.99), 300u);
}

}  // namespace
}  // namespace isthmus::bench::capacity
