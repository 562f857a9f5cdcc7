// The SIP transaction timers (RFC 3261 17 and table 4 of appendix A; RFC
// 6026 8.4/8.7 for L and M) as pure functions of T1, T2, T4 and whether the
// transport is reliable. Time is given to the transaction layer by its owner
// (sans I/O): nothing here reads a clock.
//
// Thread-safety: constants and pure functions; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace isthmus::sip {

// The transaction layer's notion of time: a steady clock's time point given
// by the caller on every call (tests use TimePoint{} + n ms).
using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::milliseconds;

// The base values (RFC 3261 17.1.1.1, table 4). All must be > 0 and
// t1 <= t2; TransactionLayer's constructor checks.
struct TimerConfig {
    Duration t1{500};   // RTT estimate
    Duration t2{4000};  // longest retransmit interval for non-INVITE requests and INVITE responses
    Duration t4{5000};  // longest time a message stays in the network
    // Timer D over unreliable transports: "at least 32 s" (17.1.1.2), not a
    // multiple of T1; a test that scales T1 may scale this too.
    Duration timer_d{32000};
};

// The timers by their RFC letter. Numbered for arrays and metric labels.
enum class TimerName : uint8_t { A, B, D, E, F, G, H, I, J, K, L, M };

constexpr std::string_view timer_name(TimerName t) {
    constexpr std::string_view names[] = {"A", "B", "D", "E", "F", "G",
                                          "H", "I", "J", "K", "L", "M"};
    return names[static_cast<uint8_t>(t)];
}

// Retransmission timers: the first interval. Over a reliable transport (TCP,
// TLS, SCTP, WS, WSS) A, E and G are not used (17.1.1.2, 17.1.2.2, 17.2.1).
//   A: INVITE request, doubles each time without bound (17.1.1.2).
//   E: non-INVITE request, min(2x, T2); T2 once in Proceeding (17.1.2.2).
//   G: non-2xx final response to INVITE, min(2x, T2) (17.2.1).
constexpr Duration first_retransmit_interval(const TimerConfig& c) {
    return c.t1;
}
constexpr Duration next_retransmit_interval(TimerName t, Duration current, const TimerConfig& c) {
    const Duration doubled = current * 2;
    if (t == TimerName::A) return doubled;
    return doubled < c.t2 ? doubled : c.t2;
}

// Every other timer: how long it runs once set. 0 means "the transition
// happens at once" (the reliable-transport cases of D, I, J, K).
//   B, F, H, L, M: 64*T1 on every transport (H: 17.2.1; L, M: RFC 6026).
//   D: timer_d unreliable, 0 reliable (17.1.1.2).
//   I: T4 unreliable, 0 reliable (17.2.1).
//   J: 64*T1 unreliable, 0 reliable (17.2.2).
//   K: T4 unreliable, 0 reliable (17.1.2.2).
constexpr Duration timer_duration(TimerName t, bool reliable, const TimerConfig& c) {
    switch (t) {
        case TimerName::B:
        case TimerName::F:
        case TimerName::H:
        case TimerName::L:
        case TimerName::M:
            return c.t1 * 64;
        case TimerName::D:
            return reliable ? Duration{0} : c.timer_d;
        case TimerName::I:
        case TimerName::K:
            return reliable ? Duration{0} : c.t4;
        case TimerName::J:
            return reliable ? Duration{0} : c.t1 * 64;
        case TimerName::A:
        case TimerName::E:
        case TimerName::G:
            return c.t1;
    }
    return c.t1;
}

}  // namespace isthmus::sip
