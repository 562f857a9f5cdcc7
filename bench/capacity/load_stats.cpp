#include "load_stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>

namespace isthmus::bench::capacity {

LatencyHistogram::LatencyHistogram()
    : buckets_(kLinear + (kMaxLog - 10) * (std::size_t{1} << kSubBits) + 1, 0) {}

std::size_t LatencyHistogram::bucket(uint64_t ns) {
    if (ns < kLinear) return static_cast<std::size_t>(ns);
    const unsigned log = static_cast<unsigned>(std::bit_width(ns)) - 1;  // >= 10
    if (log >= kMaxLog) return kLinear + (kMaxLog - 10) * (std::size_t{1} << kSubBits);
    const uint64_t sub = (ns >> (log - kSubBits)) & ((uint64_t{1} << kSubBits) - 1);
    return kLinear + (log - 10) * (std::size_t{1} << kSubBits) + static_cast<std::size_t>(sub);
}

uint64_t LatencyHistogram::upper_edge(std::size_t b) {
    if (b < kLinear) return b;
    const std::size_t k = b - kLinear;
    const unsigned log = 10 + static_cast<unsigned>(k >> kSubBits);
    if (log >= kMaxLog) return uint64_t{1} << kMaxLog;
    const uint64_t sub = k & ((std::size_t{1} << kSubBits) - 1);
    return (uint64_t{1} << log) + ((sub + 1) << (log - kSubBits)) - 1;
}

void LatencyHistogram::add(uint64_t ns) {
    ++buckets_[bucket(ns)];
    ++count_;
    max_ = std::max(max_, ns);
    sum_ += static_cast<long double>(ns);
}

void LatencyHistogram::merge(const LatencyHistogram& o) {
    for (std::size_t b = 0; b < buckets_.size(); ++b)
        buckets_[b] += o.buckets_[b];
    count_ += o.count_;
    max_ = std::max(max_, o.max_);
    sum_ += o.sum_;
}

double LatencyHistogram::mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::percentile(double q) const {
    if (count_ == 0) return 0;
    const auto want = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
    uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
        seen += buckets_[b];
        if (seen >= std::max<uint64_t>(want, 1)) return std::min(upper_edge(b), max_);
    }
    return max_;
}

LoadStats::LoadStats(uint32_t streams)
    : streams_(streams), send_ns_(static_cast<std::size_t>(streams) * kWindow, 0) {}

void LoadStats::on_receive(uint32_t s, uint64_t n, uint64_t t_ns) {
    Stream& st = streams_[s];
    if (n >= st.next) {
        const uint64_t shift = n + 1 - st.next;
        st.seen = shift >= 64 ? 1 : (st.seen << shift) | 1;
        st.next = n + 1;
    } else {
        const uint64_t k = st.next - 1 - n;
        if (k < 64) {
            if ((st.seen >> k) & 1) {
                ++st.duplicates;
                return;
            }
            st.seen |= uint64_t{1} << k;
        }
        ++st.reordered;
    }
    ++st.delivered;
    if (n + kWindow < st.sent || n >= st.sent) {
        ++st.late;  // its send time is gone (or it was never sent: counted by the check)
        return;
    }
    const uint64_t sent_at = send_ns_[static_cast<std::size_t>(s) * kWindow + (n % kWindow)];
    const uint64_t latency = t_ns > sent_at ? t_ns - sent_at : 0;
    hist_.add(latency);
    const auto transit = static_cast<int64_t>(latency);
    if (st.have_transit) {
        const double d = std::fabs(static_cast<double>(transit - st.last_transit));
        st.jitter += (d - st.jitter) / 16.0;  // RFC 3550 6.4.1
    }
    st.last_transit = transit;
    st.have_transit = true;
}

StreamTotals LoadStats::totals() const {
    StreamTotals t;
    double jitter_sum = 0;
    for (const Stream& st : streams_) {
        t.offered += st.offered;
        t.delivered += st.delivered;
        t.duplicates += st.duplicates;
        t.reordered += st.reordered;
        t.late += st.late;
        jitter_sum += st.jitter;
        t.jitter_max_ns = std::max(t.jitter_max_ns, st.jitter);
    }
    t.bad = bad_;
    t.jitter_mean_ns = streams_.empty() ? 0.0 : jitter_sum / static_cast<double>(streams_.size());
    return t;
}

std::string format_ns(double ns) {
    char b[32];
    if (ns < 1e3) {
        std::snprintf(b, sizeof b, "%.0f ns", ns);
    } else if (ns < 1e6) {
        std::snprintf(b, sizeof b, "%.1f us", ns / 1e3);
    } else {
        std::snprintf(b, sizeof b, "%.2f ms", ns / 1e6);
    }
    return b;
}

}  // namespace isthmus::bench::capacity
