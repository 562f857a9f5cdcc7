// The control plane's side of the dpif: sends commands (stamping version,
// sequence number and generation), reads events, and offers a blocking
// request/response call for one-shot tools (isthmus-ctl).
//
// Thread-safety: a Client is the single producer of the command ring and the
// single consumer of the event ring of its region: use it from one thread.
// Setup (attach) throws std::runtime_error; per-message calls return results.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cerrno>
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
    // Also claims the region's single client slot: throws when another
    // live process (or another Client of this one) holds it.
    Client(const std::string& region_name, uint64_t generation)
        : region_(SharedRegion::attach(region_name)), generation_(generation) {
        claim();
    }
    ~Client() {
        if (region_.get() == nullptr) return;
        uint32_t mine = self();
        region_->header.client_pid.compare_exchange_strong(mine, 0);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    uint64_t generation() const { return generation_; }
    // The generation of the dataplane whose region this Client maps.
    uint64_t dataplane_generation() const {
        return region_->header.dataplane_generation.load(std::memory_order_acquire);
    }
    DataplaneState dataplane_state() const {
        return static_cast<DataplaneState>(region_->header.state.load(std::memory_order_acquire));
    }
    Region& region() { return *region_.get(); }
    // True once the dataplane this Client talks to has gone: it stopped, or a
    // restarted dataplane made a new region under the name. The control
    // plane then attaches a new Client and resyncs (docs/dpif.md).
    bool dataplane_gone() const {
        return dataplane_state() == DataplaneState::Stopped || region_.replaced();
    }

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

    // Sends `cmd` and waits for the Result (Pong for Ping) that echoes its
    // sequence number and this client's generation; a query's SessionInfo
    // events come before that Result. Every other event that arrives
    // meanwhile (SessionInfo included) goes to `on_other`. nullopt when the
    // ring stayed full or no answer came within `timeout`.
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
            // A late answer to an earlier Client (same seq, older
            // generation) is not ours.
            const bool answer = ev.hdr.seq == *seq && ev.hdr.generation == generation_ &&
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
    static uint32_t self() { return static_cast<uint32_t>(::getpid()); }
    void claim() {
        std::atomic<uint32_t>& slot = region_->header.client_pid;
        uint32_t holder = 0;
        if (slot.compare_exchange_strong(holder, self())) return;
        // Held: take it over only from a process that no longer exists.
        if (holder != self() && ::kill(static_cast<pid_t>(holder), 0) != 0 && errno == ESRCH &&
            slot.compare_exchange_strong(holder, self())) {
            return;
        }
        throw std::runtime_error("dpif region " + region_.name() + " already has a client (pid " +
                                 std::to_string(holder) +
                                 "): one process sends commands at a time");
    }

    SharedRegion region_;
    uint64_t generation_;
    uint64_t next_seq_ = 1;
};

}  // namespace isthmus::dpif
