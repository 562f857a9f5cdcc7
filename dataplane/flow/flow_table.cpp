#include "flow/flow_table.hpp"

#include <nmmintrin.h>

#include <stdexcept>

namespace isthmus::flow {

FlowTable::FlowTable(uint32_t max_flows) : max_flows_(max_flows) {
    if (max_flows > (1U << 30)) throw std::invalid_argument("FlowTable: more than 2^30 flows");
    uint64_t slots = 16;
    while (slots < 2 * uint64_t{max_flows})
        slots <<= 1;
    mask_ = static_cast<uint32_t>(slots - 1);
    slots_ = dataplane::HugeArray<Slot>(slots);  // value-initialised: every tag 0
}

uint32_t FlowTable::hash(const FlowKey& key) {
    // CRC32C over the 20 octets (SSE4.2), as rte_hash_crc does.
    uint64_t a, b;
    uint32_t c;
    std::memcpy(&a, key.addr, 8);
    std::memcpy(&b, key.addr + 8, 8);
    std::memcpy(&c, key.addr + 16, 4);
    uint64_t h = _mm_crc32_u64(0xffffffffU, a);
    h = _mm_crc32_u64(h, b);
    return _mm_crc32_u32(static_cast<uint32_t>(h), c);
}

InsertResult FlowTable::insert(const FlowKey& key, uint32_t value) {
    const uint32_t h = hash(key);
    const uint32_t tag = h | kUsed;
    uint32_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
        Slot& s = slots_[i];
        if (s.tag == 0) break;
        if (s.tag == tag && s.key == key) return InsertResult::Exists;
    }
    if (size_ >= max_flows_) return InsertResult::Full;
    slots_[i] = Slot{key, value, tag};
    ++size_;
    return InsertResult::Inserted;
}

uint32_t FlowTable::find_hashed(const FlowKey& key, uint32_t h) const {
    const uint32_t tag = h | kUsed;
    for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.tag == 0) return kNotFound;
        if (s.tag == tag && s.key == key) return s.value;
    }
}

uint32_t FlowTable::find(const FlowKey& key) const {
    return find_hashed(key, hash(key));
}

void FlowTable::find_bulk(const FlowKey* keys, std::size_t n, uint32_t* values) const {
    constexpr std::size_t kChunk = 32;
    uint32_t h[kChunk];
    for (std::size_t base = 0; base < n; base += kChunk) {
        const std::size_t m = n - base < kChunk ? n - base : kChunk;
        for (std::size_t i = 0; i < m; ++i) {
            h[i] = hash(keys[base + i]);
            __builtin_prefetch(&slots_[h[i] & mask_]);
        }
        for (std::size_t i = 0; i < m; ++i)
            values[base + i] = find_hashed(keys[base + i], h[i]);
    }
}

bool FlowTable::erase(const FlowKey& key) {
    const uint32_t h = hash(key);
    const uint32_t tag = h | kUsed;
    uint32_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.tag == 0) return false;
        if (s.tag == tag && s.key == key) break;
    }
    // Backward-shift deletion: move later members of the probe run into the
    // hole when their home slot does not lie cyclically in (hole, j].
    uint32_t hole = i;
    for (uint32_t j = (hole + 1) & mask_; slots_[j].tag != 0; j = (j + 1) & mask_) {
        const uint32_t home = slots_[j].tag & mask_;
        const bool home_in_range =
            hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!home_in_range) {
            slots_[hole] = slots_[j];
            hole = j;
        }
    }
    slots_[hole] = Slot{};
    --size_;
    return true;
}

}  // namespace isthmus::flow
