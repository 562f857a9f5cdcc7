// Per-leg media policing (issue 11: "a media flood at a session's ports
// never starves other sessions"): what a leg may send us, in octets per
// second of IP packets, with a burst tolerance; packets beyond it are
// dropped before they are protected and sent (RelayDrop::Policed), so that
// one session's flood cannot fill the TX ring toward its far end, or the
// far end's link, at the cost of the other sessions there.
//
// The algorithm is GCRA, the virtual-scheduling form of a token bucket
// (ITU-T I.371 annex A; RFC 2697's committed bucket behaves alike): one
// "theoretical arrival time" per leg instead of a token count and a refill
// timestamp, so that a packet costs one compare and one multiply-add (the
// ps-to-ns division is by a constant: a multiply) and no clock read. A
// packet of L octets arriving at t conforms when t >= tat - tau; each
// conforming packet moves tat to max(tat, t) + L * (time per octet). tau is
// the burst: `burst_octets` at the rate. A leg idle for long starts again
// with a full burst.
//
// What is counted: the IP packet as it arrived (IP and UDP headers, the
// SRTP/RTP packet), as SDP's b=AS counts bandwidth (RFC 3556 2: "including
// the IP, UDP and RTP headers"); only media that authenticated (a forgery
// spends nothing of the leg's allowance; it is dropped as srtp_in anyway).
//
// Pure data and functions: no clock (the caller passes the worker's poll
// time), no allocation.
#pragma once

#include <cstdint>

namespace isthmus::session {

// Limits of what a policer is given (checked where commands are validated).
inline constexpr uint32_t kPoliceMinOctetsPerS = 1000;        // 8 kb/s
inline constexpr uint32_t kPoliceMaxOctetsPerS = 1250000000;  // 10 Gb/s
inline constexpr uint32_t kPoliceMinBurstOctets = 1500;       // one full-size packet
inline constexpr uint64_t kPoliceMaxBurstNs = 4000000000ULL;  // 4 s at the rate

struct Policer {
    uint64_t tat_ns = 0;        // theoretical arrival time of the next packet
    uint32_t ps_per_octet = 0;  // 10^12 / rate; 0: not policed
    uint32_t tau_ns = 0;        // burst tolerance
    bool on() const { return ps_per_octet != 0; }
};
static_assert(sizeof(Policer) == 16);

// Whether a rate and burst may be given to configure(): rate 0 (off), or a
// rate in [kPoliceMinOctetsPerS, kPoliceMaxOctetsPerS] and a burst of at
// least kPoliceMinBurstOctets that the rate drains in at most
// kPoliceMaxBurstNs.
inline bool police_params_valid(uint32_t octets_per_s, uint32_t burst_octets) {
    if (octets_per_s == 0) return true;
    if (octets_per_s < kPoliceMinOctetsPerS || octets_per_s > kPoliceMaxOctetsPerS) return false;
    if (burst_octets < kPoliceMinBurstOctets) return false;
    const uint64_t ps = 1000000000000ULL / octets_per_s;
    return static_cast<uint64_t>(burst_octets) * ps / 1000U <= kPoliceMaxBurstNs;
}

// Sets the rate and burst (valid per police_params_valid). The state (tat)
// is kept when the rate and burst are unchanged (an update that keeps
// them), restarted otherwise.
inline void police_configure(Policer& p, uint32_t octets_per_s, uint32_t burst_octets) {
    if (octets_per_s == 0) {
        p = Policer{};
        return;
    }
    const auto ps = static_cast<uint32_t>(1000000000000ULL / octets_per_s);
    const auto tau = static_cast<uint32_t>(static_cast<uint64_t>(burst_octets) * ps / 1000U);
    if (p.ps_per_octet == ps && p.tau_ns == tau) return;
    p.ps_per_octet = ps;
    p.tau_ns = tau;
    p.tat_ns = 0;
}

// A packet of `octets` at `now_ns`: true (and the allowance spent) when it
// conforms, false when it is beyond the rate and burst.
inline bool police_admit(Policer& p, uint64_t now_ns, uint32_t octets) {
    if (!p.on()) return true;
    const uint64_t tat = p.tat_ns > now_ns ? p.tat_ns : now_ns;
    if (tat - now_ns > p.tau_ns) return false;
    // Rounded up: never more than the rate.
    p.tat_ns = tat + (static_cast<uint64_t>(octets) * p.ps_per_octet + 999U) / 1000U;
    return true;
}

}  // namespace isthmus::session
