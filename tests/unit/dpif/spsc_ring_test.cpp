// The dpif SPSC ring: order, capacity, bursts, wrap-around, and two threads
// and two processes hammering one ring.
#include "isthmus/dpif/spsc_ring.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <memory>
#include <new>
#include <thread>
#include <vector>

namespace isthmus::dpif {
namespace {

struct Msg {
    uint64_t seq;
    uint64_t check;  // ~seq, to catch torn copies
};
using Ring = SpscRing<Msg, 8>;

TEST(SpscRing, FifoAndCapacity) {
    auto ring = std::make_unique<Ring>();
    ring->init();
    EXPECT_TRUE(ring->empty());
    for (uint64_t i = 0; i < 8; ++i)
        ASSERT_TRUE(ring->try_push({i, ~i})) << i;
    EXPECT_FALSE(ring->try_push({99, ~99ULL}));  // full: refused, never overwritten
    EXPECT_EQ(ring->size(), 8U);
    Msg m{};
    for (uint64_t i = 0; i < 8; ++i) {
        ASSERT_TRUE(ring->try_pop(m));
        EXPECT_EQ(m.seq, i);
    }
    EXPECT_FALSE(ring->try_pop(m));
    EXPECT_TRUE(ring->empty());
}

TEST(SpscRing, BurstsWrapAround) {
    auto ring = std::make_unique<Ring>();
    ring->init();
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 100; ++round) {
        std::array<Msg, 5> in{};
        for (auto& m : in)
            m = {next_in, ~next_in}, ++next_in;
        const std::size_t pushed = ring->push_burst(in);
        next_in -= in.size() - pushed;  // what did not fit is offered again next round
        std::array<Msg, 3> out{};
        const std::size_t popped = ring->pop_burst(out);
        for (std::size_t i = 0; i < popped; ++i) {
            ASSERT_EQ(out[i].seq, next_out);
            ++next_out;
        }
        ASSERT_LE(ring->size(), Ring::kCapacity);
    }
    EXPECT_GT(next_out, 250U);
}

TEST(SpscRing, PartialBurstWhenNearlyFull) {
    auto ring = std::make_unique<Ring>();
    ring->init();
    std::array<Msg, 6> in{};
    for (uint64_t i = 0; i < in.size(); ++i)
        in[i] = {i, ~i};
    EXPECT_EQ(ring->push_burst(in), 6U);
    EXPECT_EQ(ring->push_burst(in), 2U);  // only two slots left
    std::array<Msg, 16> out{};
    EXPECT_EQ(ring->pop_burst(out), 8U);
    EXPECT_EQ(out[6].seq, 0U);
    EXPECT_EQ(out[7].seq, 1U);
}

template <class R>
void produce(R& ring, uint64_t n) {
    for (uint64_t i = 0; i < n;) {
        if (ring.try_push({i, ~i})) {
            ++i;
        } else {
            std::this_thread::yield();  // full: let the consumer run (one-core machines)
        }
    }
}

template <class R>
uint64_t consume(R& ring, uint64_t n) {
    uint64_t expected = 0, bad = 0;
    std::array<Msg, 32> out{};
    while (expected < n) {
        const std::size_t k = ring.pop_burst(out);
        if (k == 0) std::this_thread::yield();
        for (std::size_t i = 0; i < k; ++i) {
            if (out[i].seq != expected || out[i].check != ~expected) ++bad;
            ++expected;
        }
    }
    return bad;
}

TEST(SpscRing, TwoThreadsKeepOrder) {
    auto ring = std::make_unique<SpscRing<Msg, 64>>();
    ring->init();
    constexpr uint64_t kN = 2'000'000;
    std::thread producer([&] { produce(*ring, kN); });
    const uint64_t bad = consume(*ring, kN);
    producer.join();
    EXPECT_EQ(bad, 0U);
    EXPECT_TRUE(ring->empty());
}

TEST(SpscRing, TwoProcessesThroughSharedMemory) {
    using BigRing = SpscRing<Msg, 256>;
    void* mem =
        ::mmap(nullptr, sizeof(BigRing), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    auto* ring = new (mem) BigRing;
    ring->init();
    constexpr uint64_t kN = 500'000;
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        produce(*ring, kN);
        ::_exit(0);
    }
    const uint64_t bad = consume(*ring, kN);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(bad, 0U);
    ::munmap(mem, sizeof(BigRing));
}

}  // namespace
}  // namespace isthmus::dpif
