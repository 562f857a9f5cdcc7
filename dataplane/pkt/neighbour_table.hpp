// The next hops' link-layer addresses: (family, IP) -> MAC and when that
// binding was last seen, fed by snoop_neighbour() and read by the relay to
// fill in destination MACs. Open addressing with linear probing and
// backward-shift deletion (as flow/flow_table.hpp), CRC32C hashing, a
// power-of-two slot array allocated once at construction.
//
// Ownership: single writer, single thread. One table per worker lcore (or
// per control thread), touched only by that thread: no locks, no atomics.
// No allocation after construction; learn() refuses a new address when the
// table holds `max_entries`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "pkt/neighbour.hpp"

namespace isthmus::pkt {

class NeighbourTable {
  public:
    // Room for `max_entries` bindings (at most 2^30) at a load factor of at
    // most 1/2. Throws std::bad_alloc (setup path) when the memory is not
    // there, std::invalid_argument beyond 2^30.
    explicit NeighbourTable(uint32_t max_entries);

    // Inserts the binding, or refreshes it (new MAC, updated_ns = now_ns) when
    // the address is there. Returns false, changing nothing, when the address
    // is new and the table is full, or when o.family is not 4 or 6. For
    // family 4 only addr[0..3] count (the rest is taken as zero).
    bool learn(const NeighbourObservation& o, uint64_t now_ns);

    // The MAC (6 octets) for the address, or nullptr. The pointer stays valid
    // until the next learn() or expire(), which may move entries.
    const uint8_t* find(uint8_t family, const uint8_t addr[16]) const;

    // When the binding was last learned, or 0 when absent.
    uint64_t updated_ns(uint8_t family, const uint8_t addr[16]) const;

    // Removes every binding not learned for more than `max_age_ns`
    // (now_ns - updated_ns > max_age_ns; one updated after now_ns is kept).
    // Returns how many were removed. Walks the whole slot array.
    std::size_t expire(uint64_t now_ns, uint64_t max_age_ns);

    std::size_t size() const { return size_; }
    std::size_t max_entries() const { return max_entries_; }

  private:
    struct Key {
        uint8_t addr[16];
        uint8_t family;  // 4 or 6
    };
    struct Slot {
        uint64_t updated_ns;
        uint32_t tag;  // hash | kUsed when used, 0 when empty; home slot = tag & mask_
        uint8_t family;
        uint8_t addr[16];
        uint8_t mac[6];
    };

    // Marks a slot used without touching the bits that pick the home slot
    // (tables stay below 2^31 slots).
    static constexpr uint32_t kUsed = 0x80000000U;

    static bool make_key(uint8_t family, const uint8_t addr[16], Key& k);
    static uint32_t hash(const Key& k);
    // The slot holding the key, or UINT32_MAX.
    uint32_t find_slot(const Key& k, uint32_t h) const;
    void erase_at(uint32_t i);

    std::unique_ptr<Slot[]> slots_;
    uint32_t mask_ = 0;
    std::size_t size_ = 0;
    std::size_t max_entries_ = 0;
};

}  // namespace isthmus::pkt
