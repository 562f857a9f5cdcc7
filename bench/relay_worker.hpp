// relay_bench around dataplane::Worker: the order sessions send in, session
// creation through a worker's inbox, and the two measurements beyond one
// worker's packet rate: the software hand-off between two workers against
// steering (relay_handoff.cpp) and the time from a SessionCreate to the
// session's first relayed packet (relay_latency.cpp). Bench code, one
// lcore; setup dies with a message on any failure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "relay_report.hpp"
#include "worker.hpp"

namespace isthmus::bench {

using session::Side;

// Which session sends next: every session once per round, in a new random
// order each round. Yields positions 0..sessions-1.
class Cursor {
  public:
    explicit Cursor(uint32_t sessions) : order_(sessions), rng_(sessions) {
        for (uint32_t i = 0; i < sessions; ++i)
            order_[i] = i;
        std::shuffle(order_.begin(), order_.end(), rng_);
    }
    void next(uint32_t& session, uint64_t& round) {
        if (pos_ == order_.size()) {
            std::shuffle(order_.begin(), order_.end(), rng_);
            pos_ = 0;
            ++round_;
        }
        session = order_[pos_++];
        round = round_;
    }

  private:
    std::vector<uint32_t> order_;
    std::mt19937 rng_;
    std::size_t pos_ = 0;
    uint64_t round_ = 0;
};

// Creates sessions `indices` (relay_traffic.hpp's session i) through the
// worker's inbox as the main lcore does, with both next hops, their legs
// policed at `police_kbps` (0: not). Returns the ns per session; dies
// naming the first failure.
double create_sessions(dataplane::Worker& w, std::span<const uint32_t> indices,
                       uint32_t police_kbps = 0);
// The WorkerMsgs the main lcore sends for session i: its SessionCreate, and
// the next hop of leg `side`.
dataplane::WorkerMsg create_message(uint32_t i, uint32_t police_kbps = 0);
dataplane::WorkerMsg next_hop_message(uint32_t i, Side side);

// A worker's "handed_off" counter (published into a private stats block).
uint64_t handed_off(dataplane::Worker& w);

// --handoff: 1,000 sessions SRTP -> RTP on one worker, then on two workers
// polled alternately on this one thread: (a) every session on worker 0,
// (b) half on worker 1, handed off from a single RX queue, (c) half on
// worker 1 with two RX queues the feeder steers by owner (the stand-in for
// rte_flow). Each case `reps` times, interleaved, `packets` timed each.
std::vector<HandoffCase> measure_handoff(uint32_t batch, uint64_t packets, unsigned reps);

// --command-latency: `sessions` SessionCreates one after another, each
// with its first packet already on the RX ring: idle, with 1,000 other
// sessions' frames in every poll, and with the command arriving just after
// a busy poll took its commands.
std::vector<LatencyCase> measure_command_latency(uint32_t sessions);

}  // namespace isthmus::bench
