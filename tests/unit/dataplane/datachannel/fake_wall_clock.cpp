#include "fake_wall_clock.hpp"

#include <sys/time.h>
#include <time.h>

#include <atomic>

namespace {

std::atomic<bool> g_fake{false};
std::atomic<uint64_t> g_fake_ms{0};

}  // namespace

namespace isthmus::datachannel::testing {

void set_fake_wall_clock_ms(uint64_t ms) {
    g_fake_ms.store(ms);
    g_fake.store(true);
}

void clear_fake_wall_clock() {
    g_fake.store(false);
}

uint64_t real_wall_clock_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace isthmus::datachannel::testing

// Interposes libc's for the whole test binary (usrsctp included).
extern "C" int gettimeofday(struct timeval* __restrict tv, void* __restrict /*tz*/) noexcept {
    if (g_fake.load()) {
        const uint64_t ms = g_fake_ms.load();
        tv->tv_sec = static_cast<time_t>(ms / 1000);
        tv->tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
        return 0;
    }
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = static_cast<suseconds_t>(ts.tv_nsec / 1000);
    return 0;
}
