// usrsctp reads the wall clock (gettimeofday) for chunk ages, RTT samples,
// PR-SCTP lifetimes and cookie lifetimes, while its timers run on
// SctpStack::tick(). The tests drive both from one fake clock: while a fake
// time is set, this test binary's gettimeofday (which usrsctp's calls bind
// to ahead of libc's) returns it; otherwise it returns the real time.
#pragma once

#include <cstdint>

namespace isthmus::datachannel::testing {

void set_fake_wall_clock_ms(uint64_t ms);
void clear_fake_wall_clock();
uint64_t real_wall_clock_ms();

}  // namespace isthmus::datachannel::testing
