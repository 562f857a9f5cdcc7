// Counters the dataplane publishes in its dpif region for isthmus-ctl and the
// control plane's Prometheus exporter. Self-describing (each counter carries
// its name) so a reader built before a counter was added still prints it.
//
// Writer: the dataplane's main lcore, which copies each owner's private
// counters here every heartbeat (workers never touch shared lines). Readers:
// any process, any time; values are relaxed atomic loads, each counter
// monotonic, a block not a consistent snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace isthmus::dpif {

inline constexpr uint32_t kMaxStatBlocks = 32;  // ports, workers, ...
inline constexpr uint32_t kMaxStatCounters = 64;

struct StatCounter {
    char name[40];   // NUL-terminated metric-style name, e.g. "drop_bad_ip_checksum"
    uint64_t value;  // written with relaxed atomic stores
};

struct alignas(64) StatBlock {
    char kind[16];      // "port", "worker", ...
    char name[32];      // "access", "core", "lcore1", ...
    uint32_t counters;  // used entries of counter[]
    uint32_t reserved;
    StatCounter counter[kMaxStatCounters];
};

struct StatsArea {
    std::atomic<uint32_t> blocks;  // used entries of block[], set once at start
    uint32_t reserved;
    StatBlock block[kMaxStatBlocks];
};

// Writer helpers (dataplane main lcore).
inline void stat_set_label(char* dst, std::size_t n, std::string_view s) {
    const std::size_t k = s.size() < n - 1 ? s.size() : n - 1;
    std::memcpy(dst, s.data(), k);
    dst[k] = '\0';
}
inline void stat_store(StatCounter& c, uint64_t v) {
    std::atomic_ref<uint64_t>(c.value).store(v, std::memory_order_relaxed);
}
// Reader helper.
inline uint64_t stat_load(const StatCounter& c) {
    return std::atomic_ref<const uint64_t>(c.value).load(std::memory_order_relaxed);
}

}  // namespace isthmus::dpif
