// The control plane's side of the dpif: sends commands (stamping version,
// sequence number and generation), reads events, and offers a blocking
// request/response call for one-shot tools (isthmus-ctl).
//
// Thread-safety: a Client is the single producer of the command ring and the
// single consumer of the event ring of its region: use it from one thread.
// Setup (attach) throws std::runtime_error; per-message calls return results.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>

#include "isthmus/dpif/shm.hpp"

namespace isthmus::dpif {

class Client {
  public:
    // Attaches to the dataplane's region; `generation` is this control
    // plane's generation (a number larger than any it used before, e.g. its
    // start time in ns). Throws when no dataplane runs (see SharedRegion).
    Client(const std::string& region_name, uint64_t generation)
        : region_(SharedRegion::attach(region_name)), generation_(generation) {}

    uint64_t generation() const { return generation_; }
    // The dataplane instance attached to (changes when it restarts).
    uint64_t dataplane_generation() const {
        return region_->header.dataplane_generation.load(std::memory_order_acquire);
    }
    DataplaneState dataplane_state() const {
        return static_cast<DataplaneState>(region_->header.state.load(std::memory_order_acquire));
    }
    Region& region() { return *region_.get(); }

    // Stamps and queues a command; returns its sequence number, or nullopt
    // when the command ring is full (the caller retries or reports overload).
    std::optional<uint64_t> send(Command cmd) {
        cmd.hdr.version = kAbiVersion;
        cmd.hdr.seq = next_seq_;
        cmd.hdr.generation = generation_;
        if (!region_->commands.try_push(cmd)) return std::nullopt;
        return next_seq_++;
    }

    // Copies up to out.size() waiting events out; returns how many.
    std::size_t poll(std::span<Event> out) { return region_->events.pop_burst(out); }

    // Sends `cmd` and waits for the Result (or SessionInfo/Pong) that echoes
    // its sequence number. Other events that arrive meanwhile go to
    // `on_other` (may be empty). nullopt when the ring stayed full or no
    // answer came within `timeout`.
    template <class OnOther>
    std::optional<Event> call(const Command& cmd, std::chrono::milliseconds timeout,
                              OnOther&& on_other) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::optional<uint64_t> seq;
        while (!(seq = send(cmd))) {
            if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        Event ev{};
        while (std::chrono::steady_clock::now() < deadline) {
            if (!region_->events.try_pop(ev)) {
                std::this_thread::sleep_for(std::chrono::microseconds(50));
                continue;
            }
            const bool answer = ev.hdr.seq == *seq &&
                                (ev.hdr.type == MsgType::Result || ev.hdr.type == MsgType::Pong);
            if (answer) return ev;
            on_other(ev);
        }
        return std::nullopt;
    }
    std::optional<Event> call(const Command& cmd, std::chrono::milliseconds timeout) {
        return call(cmd, timeout, [](const Event&) {});
    }

  private:
    SharedRegion region_;
    uint64_t generation_;
    uint64_t next_seq_ = 1;
};

}  // namespace isthmus::dpif
