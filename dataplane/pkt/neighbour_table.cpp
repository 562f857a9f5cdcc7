#include "pkt/neighbour_table.hpp"

#include <nmmintrin.h>

#include <cstring>
#include <stdexcept>

namespace isthmus::pkt {

NeighbourTable::NeighbourTable(uint32_t max_entries) : max_entries_(max_entries) {
    if (max_entries > (1U << 30)) {
        throw std::invalid_argument("NeighbourTable: more than 2^30 entries");
    }
    uint64_t slots = 16;
    while (slots < 2 * uint64_t{max_entries})
        slots <<= 1;
    mask_ = static_cast<uint32_t>(slots - 1);
    slots_ = std::make_unique<Slot[]>(slots);  // value-initialised: every tag 0
}

bool NeighbourTable::make_key(uint8_t family, const uint8_t addr[16], Key& k) {
    if (family != 4 && family != 6) return false;
    std::memset(k.addr, 0, sizeof k.addr);
    std::memcpy(k.addr, addr, family == 4 ? 4 : 16);
    k.family = family;
    return true;
}

uint32_t NeighbourTable::hash(const Key& k) {
    // CRC32C over address and family (SSE4.2), as FlowTable::hash.
    uint64_t a, b;
    std::memcpy(&a, k.addr, 8);
    std::memcpy(&b, k.addr + 8, 8);
    uint64_t h = _mm_crc32_u64(0xffffffffU, a);
    h = _mm_crc32_u64(h, b);
    return _mm_crc32_u8(static_cast<uint32_t>(h), k.family);
}

uint32_t NeighbourTable::find_slot(const Key& k, uint32_t h) const {
    const uint32_t tag = h | kUsed;
    for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.tag == 0) return UINT32_MAX;
        if (s.tag == tag && s.family == k.family && std::memcmp(s.addr, k.addr, 16) == 0) {
            return i;
        }
    }
}

bool NeighbourTable::learn(const NeighbourObservation& o, uint64_t now_ns) {
    Key k;
    if (!make_key(o.family, o.addr, k)) return false;
    const uint32_t h = hash(k);
    const uint32_t tag = h | kUsed;
    uint32_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
        Slot& s = slots_[i];
        if (s.tag == 0) break;
        if (s.tag == tag && s.family == k.family && std::memcmp(s.addr, k.addr, 16) == 0) {
            std::memcpy(s.mac, o.mac, 6);
            s.updated_ns = now_ns;
            return true;
        }
    }
    if (size_ >= max_entries_) return false;
    Slot& s = slots_[i];
    s.updated_ns = now_ns;
    s.tag = tag;
    s.family = k.family;
    std::memcpy(s.addr, k.addr, 16);
    std::memcpy(s.mac, o.mac, 6);
    ++size_;
    return true;
}

const uint8_t* NeighbourTable::find(uint8_t family, const uint8_t addr[16]) const {
    Key k;
    if (!make_key(family, addr, k)) return nullptr;
    const uint32_t i = find_slot(k, hash(k));
    return i == UINT32_MAX ? nullptr : slots_[i].mac;
}

uint64_t NeighbourTable::updated_ns(uint8_t family, const uint8_t addr[16]) const {
    Key k;
    if (!make_key(family, addr, k)) return 0;
    const uint32_t i = find_slot(k, hash(k));
    return i == UINT32_MAX ? 0 : slots_[i].updated_ns;
}

void NeighbourTable::erase_at(uint32_t i) {
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
}

std::size_t NeighbourTable::expire(uint64_t now_ns, uint64_t max_age_ns) {
    std::size_t removed = 0;
    // Deleting at i only moves entries from after i (cyclically) into
    // [i, hole]: unvisited ones land at or after i, so slot i is looked at
    // again; visited ones that wrap around were kept and stay kept.
    for (uint32_t i = 0; i <= mask_;) {
        const Slot& s = slots_[i];
        if (s.tag != 0 && now_ns > s.updated_ns && now_ns - s.updated_ns > max_age_ns) {
            erase_at(i);
            ++removed;
            continue;
        }
        ++i;
    }
    return removed;
}

}  // namespace isthmus::pkt
