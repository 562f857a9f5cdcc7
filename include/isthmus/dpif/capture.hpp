// Packet capture through the dpif region (`isthmus-ctl capture`, issue 10).
//
// The capturer (isthmus-ctl) claims the capture with `owner_pid`, writes the
// filter and makes `seq` odd; every worker (and the slow path) sees the new
// `seq` at its next poll, adopts the filter, acknowledges it in its ring's
// `ack` and from then on copies the frames that match into its own ring: a
// frame as it came in on a port (before any crypto) and as it goes out
// (after), with the session it belongs to. `seq` even again stops it; the
// capturer waits for the acknowledgements, drains the rings and gives the
// claim back. A capturer that stopped refreshing `owner_beat_ns` (killed)
// is noticed by the dataplane's main lcore, which frees the claim and stops
// the capture.
//
// Cost when no capture runs: one load of `seq` per poll. While one runs:
// a filter test and one copy of up to kCaptureData bytes per frame that
// matches. A full ring drops the record (counted per ring), never a frame.
#pragma once

#include <atomic>
#include <cstdint>

#include "isthmus/dpif/spsc_ring.hpp"

namespace isthmus::dpif {

inline constexpr uint32_t kCaptureRings = 17;  // 16 workers + the slow path
inline constexpr uint32_t kCaptureSlowPathRing = 16;
inline constexpr uint32_t kCaptureSlots = 512;
inline constexpr uint32_t kCaptureData = 2016;  // bytes kept of a frame (a record is 2 KiB)

enum class CaptureDir : uint8_t { In = 0, Out = 1 };

// What a capture takes: frames of the ports in `sides` (bit 0 access, bit
// 1 core); with `session_id` != 0 only that session's (its local ports on
// the way in, its relayed frames on the way out).
inline constexpr uint32_t kCaptureAccess = 1;
inline constexpr uint32_t kCaptureCore = 2;

struct CaptureRecord {
    uint64_t tsc;         // rte_get_tsc_cycles() when taken (CaptureControl::tsc_hz)
    uint64_t session_id;  // the session's, 0 when not known (port captures)
    uint32_t orig_len;    // the frame's length (all its segments)
    uint16_t cap_len;     // bytes of it in data (<= kCaptureData)
    uint8_t side;         // 0 access, 1 core
    uint8_t dir;          // CaptureDir
    uint8_t reserved[8];
    uint8_t data[kCaptureData];  // from the Ethernet header on
};
static_assert(sizeof(CaptureRecord) == 2048);

// Per ring, on its own cache line (only its producer writes it).
struct alignas(64) CaptureRingState {
    std::atomic<uint32_t> ack;  // the seq its producer adopted last
    uint32_t reserved;
    std::atomic<uint64_t> dropped;  // records lost to a full ring (cumulative)
    std::atomic<uint64_t> taken;    // records written (cumulative)
};

// A capture whose owner has not refreshed owner_beat_ns for this long is
// over: the dataplane frees the claim and stops it (a killed isthmus-ctl).
inline constexpr uint64_t kCaptureOwnerTimeoutNs = 2'000'000'000;

struct alignas(64) CaptureControl {
    // The claim: the capturer's pid (0: none), taken by compare-exchange;
    // liveness is owner_beat_ns (CLOCK_MONOTONIC, refreshed by the owner
    // while it captures), not the pid, which another pid namespace cannot
    // check.
    std::atomic<uint32_t> owner_pid;
    // Odd: capturing. Only the owner moves it (even -> odd to start, odd ->
    // even to stop, each a compare-exchange), and the dataplane stops a
    // capture left without an owner.
    std::atomic<uint32_t> seq;
    std::atomic<uint64_t> owner_beat_ns;
    // The filter, written by the owner while seq is even, read by the
    // lcores once they see it odd.
    std::atomic<uint32_t> sides;
    std::atomic<uint32_t> snaplen;     // bytes kept per frame (1..kCaptureData)
    std::atomic<uint64_t> session_id;  // 0: every frame of the sides
    // Written by the dataplane before it is Running: TSC cycles a second
    // (records carry the TSC) and how many worker rings are served (the
    // slow path's is kCaptureSlowPathRing).
    uint64_t tsc_hz;
    uint32_t worker_rings;
    uint32_t reserved;
    CaptureRingState ring[kCaptureRings];
};

struct CaptureArea {
    CaptureControl control;
    SpscRing<CaptureRecord, kCaptureSlots> ring[kCaptureRings];
};

}  // namespace isthmus::dpif
