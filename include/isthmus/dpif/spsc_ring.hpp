// A single-producer / single-consumer ring of fixed-size messages that lives
// in memory shared between two processes (the control plane and the
// dataplane), so it uses only address-free lock-free atomics.
//
// Thread-safety: exactly one thread (in any process) calls try_push /
// push_burst, exactly one calls try_pop / pop_burst; any thread may read
// size(). No locks, no allocation, no system calls: safe on the fast path.
//
// Layout: producer index, consumer index and the slots sit on separate cache
// lines (as rte_ring's prod/cons halves do) so the two sides do not share a
// line they write.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace isthmus::dpif {

static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "shared-memory rings need lock-free 64-bit atomics");

template <typename T, uint32_t Capacity>
struct SpscRing {
    static_assert(std::is_trivially_copyable_v<T>, "ring messages are copied as bytes");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                  "capacity must be a power of two");
    static constexpr uint32_t kCapacity = Capacity;
    static constexpr uint64_t kMask = Capacity - 1;

    // Zero-filled shared memory is a valid empty ring; init() makes one
    // explicitly (for memory that was used before).
    void init() {
        head_.store(0, std::memory_order_relaxed);
        tail_.store(0, std::memory_order_relaxed);
        producer_tail_cache_ = 0;
        consumer_head_cache_ = 0;
    }

    // Producer: copies `msg` in; false when the ring is full (the caller
    // counts the drop or retries later; this never blocks).
    bool try_push(const T& msg) { return push_burst(std::span<const T>(&msg, 1)) == 1; }

    // Producer: copies in as many of `msgs` as fit, in order; returns how many.
    std::size_t push_burst(std::span<const T> msgs) {
        const uint64_t head = head_.load(std::memory_order_relaxed);
        uint64_t free_slots = Capacity - (head - producer_tail_cache_);
        if (free_slots < msgs.size()) {
            producer_tail_cache_ = tail_.load(std::memory_order_acquire);
            free_slots = Capacity - (head - producer_tail_cache_);
        }
        const std::size_t n = msgs.size() < free_slots ? msgs.size() : free_slots;
        for (std::size_t i = 0; i < n; ++i) {
            std::memcpy(&slots_[(head + i) & kMask], &msgs[i], sizeof(T));
        }
        if (n != 0) head_.store(head + n, std::memory_order_release);
        return n;
    }

    // Producer, in place: the next free slot (to be filled and then
    // published with commit()), or nullptr when the ring is full. For large
    // slots only partly used (packet captures): no copy of the whole slot.
    T* reserve() {
        const uint64_t head = head_.load(std::memory_order_relaxed);
        if (head - producer_tail_cache_ >= Capacity) {
            producer_tail_cache_ = tail_.load(std::memory_order_acquire);
            if (head - producer_tail_cache_ >= Capacity) return nullptr;
        }
        return &slots_[head & kMask];
    }
    // Producer: publishes the slot reserve() returned.
    void commit() {
        head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

    // Consumer: copies the oldest message out; false when empty.
    bool try_pop(T& out) { return pop_burst(std::span<T>(&out, 1)) == 1; }

    // Consumer: copies out up to out.size() messages, oldest first.
    std::size_t pop_burst(std::span<T> out) { return pop(out, false); }

    // Consumer: as pop_burst, and the slots read are zeroed before they are
    // handed back to the producer (for messages that carry secrets: nothing
    // of them stays in the ring's memory).
    std::size_t pop_burst_wipe(std::span<T> out) { return pop(out, true); }

    // Messages waiting (a snapshot; exact only when both sides are idle).
    uint32_t size() const {
        const uint64_t tail = tail_.load(std::memory_order_acquire);
        const uint64_t head = head_.load(std::memory_order_acquire);
        return static_cast<uint32_t>(head - tail);
    }
    bool empty() const { return size() == 0; }

  private:
    std::size_t pop(std::span<T> out, bool wipe) {
        const uint64_t tail = tail_.load(std::memory_order_relaxed);
        uint64_t avail = consumer_head_cache_ - tail;
        if (avail < out.size()) {
            consumer_head_cache_ = head_.load(std::memory_order_acquire);
            avail = consumer_head_cache_ - tail;
        }
        const std::size_t n = out.size() < avail ? out.size() : avail;
        for (std::size_t i = 0; i < n; ++i) {
            T* slot = &slots_[(tail + i) & kMask];
            std::memcpy(&out[i], slot, sizeof(T));
            if (wipe) std::memset(static_cast<void*>(slot), 0, sizeof(T));
        }
        if (n != 0) tail_.store(tail + n, std::memory_order_release);
        return n;
    }

    // Producer's cache line: its index and its last view of the consumer's.
    alignas(64) std::atomic<uint64_t> head_{0};
    uint64_t producer_tail_cache_ = 0;
    // Consumer's cache line.
    alignas(64) std::atomic<uint64_t> tail_{0};
    uint64_t consumer_head_cache_ = 0;
    alignas(64) T slots_[Capacity];
};

}  // namespace isthmus::dpif
