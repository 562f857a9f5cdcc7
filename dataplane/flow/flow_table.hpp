// A worker's flow table: the gateway's local transport address (IP + UDP
// port of a leg) -> the leg's index. Open addressing with linear probing and
// backward-shift deletion (no tombstones, so lookups stay short after churn),
// CRC32C hashing, a power-of-two slot array allocated once at setup.
//
// Ownership: one table per worker lcore, written only by that worker (from
// its command ring) and read only by it: no locks, no atomics. No allocation
// after construction; insert refuses when the table is at its load limit.
// Measured cost: bench/flow_bench (docs/performance.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "huge_array.hpp"

namespace isthmus::flow {

struct FlowKey {
    uint8_t addr[16];  // network byte order; IPv4 in the first 4 octets, rest zero
    uint16_t port;     // host byte order
    uint8_t family;    // 4 or 6
    uint8_t reserved;  // zero

    static FlowKey ipv4(const uint8_t a[4], uint16_t port) {
        FlowKey k{};
        std::memcpy(k.addr, a, 4);
        k.port = port;
        k.family = 4;
        return k;
    }
    static FlowKey ipv6(const uint8_t a[16], uint16_t port) {
        FlowKey k{};
        std::memcpy(k.addr, a, 16);
        k.port = port;
        k.family = 6;
        return k;
    }
    friend bool operator==(const FlowKey& a, const FlowKey& b) {
        return std::memcmp(&a, &b, sizeof(FlowKey)) == 0;
    }
};
static_assert(sizeof(FlowKey) == 20);

enum class InsertResult : uint8_t { Inserted, Exists, Full };

class FlowTable {
  public:
    static constexpr uint32_t kNotFound = UINT32_MAX;

    // Room for `max_flows` flows (at most 2^30) at a load factor of at most
    // 1/2. Throws std::bad_alloc (setup path) when the memory is not there,
    // std::invalid_argument beyond 2^30.
    explicit FlowTable(uint32_t max_flows);

    InsertResult insert(const FlowKey& key, uint32_t value);
    // Returns whether the key was there.
    bool erase(const FlowKey& key);
    // The value, or kNotFound.
    uint32_t find(const FlowKey& key) const;
    // find() for n keys; hashes all and prefetches their slots first.
    void find_bulk(const FlowKey* keys, std::size_t n, uint32_t* values) const;

    uint32_t size() const { return size_; }
    uint32_t max_flows() const { return max_flows_; }
    std::size_t memory_bytes() const { return std::size_t{mask_ + 1} * sizeof(Slot); }

    static uint32_t hash(const FlowKey& key);

  private:
    struct alignas(32) Slot {
        FlowKey key;
        uint32_t value;
        uint32_t tag;  // hash | kUsed when used, 0 when empty; home slot = tag & mask_
    };
    static_assert(sizeof(Slot) == 32);

    // Marks a slot used without touching the bits that pick the home slot
    // (tables stay below 2^31 slots).
    static constexpr uint32_t kUsed = 0x80000000U;

    uint32_t find_hashed(const FlowKey& key, uint32_t h) const;

    dataplane::HugeArray<Slot> slots_;  // transparent huge pages advised (huge_array.hpp)
    uint32_t mask_ = 0;
    uint32_t size_ = 0;
    uint32_t max_flows_ = 0;
};

}  // namespace isthmus::flow
