// flow_bench: the worker flow table's lookups per packet burst, at 1k, 10k
// and 1M flows, bulk (hash + prefetch a burst, then probe) against one at a
// time. Keys are the flows' local addresses in a random order per burst, as
// packets of many sessions interleave on a port.
//   build/bench/flow_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "flow/flow_table.hpp"

namespace {

using isthmus::flow::FlowKey;
using isthmus::flow::FlowTable;

constexpr std::size_t kBurst = 32;
constexpr int64_t kBurstI = static_cast<int64_t>(kBurst);
constexpr std::size_t kKeyRing = 1 << 16;  // pre-drawn lookup keys, cycled

FlowKey key_of(uint32_t i) {
    const uint8_t a[4] = {198, 18, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 24)};
    return FlowKey::ipv4(a, static_cast<uint16_t>(i));
}

struct Fixture {
    explicit Fixture(uint32_t flows) : table(flows) {
        for (uint32_t i = 0; i < flows; ++i)
            table.insert(key_of(i), i);
        std::mt19937 rng(flows);
        keys.reserve(kKeyRing);
        for (std::size_t i = 0; i < kKeyRing; ++i) {
            keys.push_back(key_of(static_cast<uint32_t>(rng() % flows)));
        }
    }
    FlowTable table;
    std::vector<FlowKey> keys;
};

// Per-lookup figures of a find bench; a miss of a stored flow is an error.
void report_lookups(benchmark::State& state, uint64_t misses) {
    if (misses != 0) state.SkipWithError("a stored flow was not found");
    state.SetItemsProcessed(state.iterations() * kBurstI);
    state.counters["ns_per_lookup"] =
        benchmark::Counter(static_cast<double>(state.iterations() * kBurstI),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_find_bulk(benchmark::State& state) {
    Fixture f(static_cast<uint32_t>(state.range(0)));
    uint32_t out[kBurst];
    std::size_t pos = 0;
    uint64_t misses = 0;
    for (auto _ : state) {
        f.table.find_bulk(&f.keys[pos], kBurst, out);
        for (uint32_t v : out)
            misses += v == FlowTable::kNotFound;
        pos = (pos + kBurst) % kKeyRing;
    }
    report_lookups(state, misses);
    state.counters["table_MiB"] = static_cast<double>(f.table.memory_bytes()) / (1 << 20);
}

void BM_find_one(benchmark::State& state) {
    Fixture f(static_cast<uint32_t>(state.range(0)));
    std::size_t pos = 0;
    uint64_t misses = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < kBurst; ++i) {
            misses += f.table.find(f.keys[pos + i]) == FlowTable::kNotFound;
        }
        pos = (pos + kBurst) % kKeyRing;
    }
    report_lookups(state, misses);
}

void BM_insert_erase(benchmark::State& state) {
    const auto flows = static_cast<uint32_t>(state.range(0));
    Fixture f(flows);
    uint32_t next = flows;
    for (auto _ : state) {  // one session command: add a flow, remove an old one
        f.table.insert(key_of(next), next);
        f.table.erase(key_of(next - flows));
        ++next;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK(BM_find_bulk)->Arg(1 << 10)->Arg(10000)->Arg(1 << 20)->Name("flow_find/bulk32");
BENCHMARK(BM_find_one)->Arg(1 << 10)->Arg(10000)->Arg(1 << 20)->Name("flow_find/one_by_one");
BENCHMARK(BM_insert_erase)->Arg(1 << 10)->Arg(1 << 20)->Name("flow_churn/insert_erase");
BENCHMARK_MAIN();
