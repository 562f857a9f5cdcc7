// An in-memory wire between two SCTP peers for the data-channel tests: what
// one side's send_packet produces is queued and handed to the other side's
// receive_packet when the test steps the wire; a fake clock drives
// SctpStack::tick. Loss is decided per packet by a fixed-seed generator, so a
// run is the same every time (usrsctp's own randomness only picks tags and
// initial TSNs, which steer nothing the tests look at).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <ostream>
#include <random>
#include <span>
#include <vector>

#include "datachannel/sctp_association.hpp"
#include "fake_wall_clock.hpp"

namespace isthmus::datachannel {

// gtest prints these by name.
inline void PrintTo(SendResult r, std::ostream* os) {
    *os << send_result_name(r);
}
inline void PrintTo(SctpState s, std::ostream* os) {
    *os << sctp_state_name(s);
}

}  // namespace isthmus::datachannel

namespace isthmus::datachannel::testing {

using Bytes = std::vector<uint8_t>;
using Receiver = std::function<void(std::span<const uint8_t>)>;

// Fake time for usrsctp's timers (tick) and its wall clock alike, shared by
// the wires of one stack (usrsctp's timers are global).
class Clock {
  public:
    // Starts at the real time: usrsctp started on it and must not see time
    // going back.
    Clock() : now_(real_wall_clock_ms()) { set_fake_wall_clock_ms(now_); }
    ~Clock() { clear_fake_wall_clock(); }
    Clock(const Clock&) = delete;
    Clock& operator=(const Clock&) = delete;
    uint64_t now() const { return now_; }
    void advance(uint64_t ms) {
        now_ += ms;
        set_fake_wall_clock_ms(now_);
    }

  private:
    uint64_t now_;
};

class Wire {
  public:
    explicit Wire(SctpStack& stack, Clock* clock = nullptr) : stack_(stack), clock_(clock) {
        if (clock_ == nullptr) clock_ = &own_.emplace();
        stack_.tick(clock_->now());
    }

    // The send_packet callback of side `from` (0 or 1): toward the other side.
    Receiver sender(int from) {
        return [this, from](std::span<const uint8_t> p) {
            largest_ = std::max(largest_, p.size());
            queue_.push_back(Packet{1 - from, Bytes(p.begin(), p.end())});
        };
    }
    // Where packets toward `side` go; detach: they are lost (the side is gone).
    void attach(int side, Receiver r) { to_[side] = std::move(r); }
    void detach(int side) { to_[side] = nullptr; }
    // Each packet toward `side` is lost with this probability (percent).
    void set_loss(int side, unsigned percent) { loss_[side] = percent; }
    // Every packet toward `side` is lost (a peer that stopped answering).
    void cut(int side, bool cut) { cut_[side] = cut; }
    // Packets toward `side` are kept (delivered ones too) for hostile replays.
    void record(int side, bool on) { record_[side] = on; }
    const std::vector<Bytes>& recorded(int side) const { return log_[side]; }

    // Hands over what is queued now, in order (what that produces waits for
    // the next step), then moves the clock `ms` on and runs the timers.
    void step(uint64_t ms = 10) {
        for (std::size_t n = queue_.size(); n > 0 && !queue_.empty(); --n) {
            Packet p = std::move(queue_.front());
            queue_.pop_front();
            if (record_[p.to]) log_[p.to].push_back(p.bytes);
            const bool lose =
                cut_[p.to] || !to_[p.to] || (loss_[p.to] > 0 && rng_() % 100 < loss_[p.to]);
            if (lose) {
                ++lost_[p.to];
                continue;
            }
            ++delivered_[p.to];
            to_[p.to](p.bytes);
        }
        clock_->advance(ms);
        stack_.tick(clock_->now());
    }
    // Steps until `done` holds or `max_ms` of fake time passed.
    bool run_until(const std::function<bool()>& done, uint64_t max_ms = 60000,
                   uint64_t step_ms = 10) {
        const uint64_t end = clock_->now() + max_ms;
        while (!done()) {
            if (clock_->now() >= end) return false;
            step(step_ms);
        }
        return true;
    }
    void run_for(uint64_t ms, uint64_t step_ms = 10) {
        const uint64_t end = clock_->now() + ms;
        while (clock_->now() < end)
            step(step_ms);
    }

    uint64_t now() const { return clock_->now(); }
    std::size_t in_flight() const { return queue_.size(); }
    std::size_t largest_packet() const { return largest_; }
    uint64_t delivered(int side) const { return delivered_[side]; }
    uint64_t lost(int side) const { return lost_[side]; }

  private:
    struct Packet {
        int to;
        Bytes bytes;
    };
    SctpStack& stack_;
    std::optional<Clock> own_;
    Clock* clock_;
    std::deque<Packet> queue_;
    // Per side (0, 1).
    Receiver to_[2];
    unsigned loss_[2] = {};
    bool cut_[2] = {};
    bool record_[2] = {};
    std::vector<Bytes> log_[2];
    uint64_t delivered_[2] = {};
    uint64_t lost_[2] = {};
    std::size_t largest_ = 0;
    std::mt19937 rng_{20240917};
};

// A message of `n` octets whose content says where each octet sits.
inline Bytes pattern(std::size_t n, uint8_t salt = 0) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i)
        b[i] = static_cast<uint8_t>((i * 131 + (i >> 8) * 7 + salt) & 0xff);
    return b;
}

}  // namespace isthmus::datachannel::testing
