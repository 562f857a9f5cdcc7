// What the transport tests share (transport_ws_test.cpp, transport_mw_test.cpp):
// the events the core's callbacks see, collected across threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pcscf/flow.hpp"

namespace isthmus::pcscf::test {

// What the core saw: a message (bytes, peer), a closed flow or a peer that
// could not be reached.
struct Event {
    bool closed = false;
    std::string bytes;
    Peer peer;  // for an unreachable peer: that peer
    uint64_t flow = 0;
    bool unreachable = false;
};

// Events in arrival order; pop() waits for the next one (nullopt after the
// timeout), closes_of() counts every close ever seen for a flow.
class Mailbox {
  public:
    void push(Event e) {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(e));
        seen_.push_back(events_.back());
        cv_.notify_all();
    }
    std::optional<Event> pop(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
        Event e = std::move(events_.front());
        events_.pop_front();
        return e;
    }
    int closes_of(uint64_t flow) const {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (const auto& e : seen_)
            n += e.closed && e.flow == flow ? 1 : 0;
        return n;
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Event> events_;
    std::vector<Event> seen_;
};

}  // namespace isthmus::pcscf::test
