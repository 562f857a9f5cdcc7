// What bench/capacity measures of one load run, whatever carried it (the
// in-process ring ports or kernel sockets toward isthmus or rtpengine):
// per stream (one call's one direction) the packets offered and delivered,
// reordering, duplicates, and RFC 3550 interarrival jitter; over all
// streams a histogram of one-way latency (send to receive, ns).
//
// A stream's packets are numbered from 0 by the sender (its RTP sequence
// number extended past 65,535 by the caller). The send time of the last
// kWindow packets of each stream is kept, so a packet delivered more than
// kWindow packets after it was sent counts as "late" (no latency sample)
// rather than as a latency.
//
// Bench code: one thread; setup allocates (streams x kWindow x 8 octets),
// on_send/on_receive do not.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace isthmus::bench::capacity {

// Log-linear latency histogram: exact below 1,024 ns, then 64 buckets per
// power of two (under 1.6% error), up to 2^40 ns.
class LatencyHistogram {
  public:
    static constexpr unsigned kSubBits = 6;
    static constexpr unsigned kLinear = 1024;
    static constexpr unsigned kMaxLog = 40;

    LatencyHistogram();
    void add(uint64_t ns);
    void merge(const LatencyHistogram& o);
    uint64_t count() const { return count_; }
    uint64_t max() const { return max_; }
    double mean() const;
    // The latency under which a fraction q (0..1) of the samples lie (the
    // bucket's upper edge); 0 without samples.
    uint64_t percentile(double q) const;

  private:
    static std::size_t bucket(uint64_t ns);
    static uint64_t upper_edge(std::size_t b);
    std::vector<uint64_t> buckets_;
    uint64_t count_ = 0, max_ = 0;
    long double sum_ = 0;
};

struct StreamTotals {
    uint64_t offered = 0;       // packets sent
    uint64_t delivered = 0;     // distinct packets received
    uint64_t duplicates = 0;    // received again
    uint64_t reordered = 0;     // received after a later packet of its stream
    uint64_t late = 0;          // delivered, but too late for a latency sample
    uint64_t bad = 0;           // failed the receiver's check (wrong stream, payload, tag)
    double jitter_mean_ns = 0;  // RFC 3550 jitter, mean over streams at the end
    double jitter_max_ns = 0;   // and the largest
    uint64_t lost() const { return offered > delivered ? offered - delivered : 0; }
    double loss_ratio() const {
        return offered == 0 ? 0.0 : static_cast<double>(lost()) / static_cast<double>(offered);
    }
};

class LoadStats {
  public:
    static constexpr uint32_t kWindow = 64;

    explicit LoadStats(uint32_t streams);

    // Packet `n` of stream s left the sender at t_ns.
    void on_send(uint32_t s, uint64_t n, uint64_t t_ns) {
        Stream& st = streams_[s];
        send_ns_[static_cast<std::size_t>(s) * kWindow + (n % kWindow)] = t_ns;
        ++st.offered;
        if (n + 1 > st.sent) st.sent = n + 1;
    }
    // Packet `n` of stream s arrived at t_ns and passed the receiver's check.
    void on_receive(uint32_t s, uint64_t n, uint64_t t_ns);
    // A packet that failed the receiver's check.
    void on_bad() { ++bad_; }

    // Stream s's highest packet number sent + 1 (0: none yet).
    uint64_t sent(uint32_t s) const { return streams_[s].sent; }
    StreamTotals totals() const;
    const LatencyHistogram& latency() const { return hist_; }
    uint32_t streams() const { return static_cast<uint32_t>(streams_.size()); }

  private:
    struct Stream {
        uint64_t sent = 0;  // highest packet number sent + 1
        uint64_t offered = 0;
        uint64_t next = 0;  // highest packet number received + 1
        uint64_t delivered = 0, duplicates = 0, reordered = 0, late = 0;
        uint64_t seen = 0;  // bit k: packet next-1-k received (k < 64)
        int64_t last_transit = 0;
        double jitter = 0;  // ns, RFC 3550 6.4.1
        bool have_transit = false;
    };
    std::vector<Stream> streams_;
    std::vector<uint64_t> send_ns_;
    LatencyHistogram hist_;
    uint64_t bad_ = 0;
};

// "p50 12.3 us" style figures for reports.
std::string format_ns(double ns);

}  // namespace isthmus::bench::capacity
