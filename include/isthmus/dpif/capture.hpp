// Packet capture through the dpif region (`isthmus-ctl capture`, issue 10).
//
// The capturer (isthmus-ctl) claims the capture with `owner_pid`, writes the
// filter and makes `seq` odd; every worker (and the slow path) sees the new
// `seq` at its next poll, adopts the filter, acknowledges it in its
// `ack[ring]` and from then on copies the frames that match into its own
// ring: a frame as it came in on a port (before any crypto) and as it goes
// out (after), with the session it belongs to. `seq` even again stops it;
// the capturer waits for the acknowledgements, drains the rings and gives
// the claim back. A capturer that died is noticed by the dataplane's main
// lcore (its pid is gone), which stops the capture and frees the claim.
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
    uint64_t tsc;         // rte_get_tsc_cycles() when taken (CaptureControl: clock)
    uint64_t session_id;  // the session's, 0 when not known (port captures)
    uint32_t orig_len;    // the frame's length on the wire
    uint16_t cap_len;     // bytes of it in data (<= kCaptureData)
    uint8_t side;         // 0 access, 1 core
    uint8_t dir;          // CaptureDir
    uint8_t reserved[8];
    uint8_t data[kCaptureData];  // from the Ethernet header on
};
static_assert(sizeof(CaptureRecord) == 2048);

struct alignas(64) CaptureControl {
    std::atomic<uint32_t> owner_pid;  // the capturer; 0: none (claimed by compare-exchange)
    std::atomic<uint32_t> seq;        // odd: capturing; bumped by the owner to start / stop
    uint32_t sides;                   // filter, written by the owner while seq is even
    uint32_t snaplen;                 //   bytes kept per frame (1..kCaptureData)
    uint64_t session_id;              //   0: every frame of the sides
    // Written by the dataplane before it is Running: how records' tsc maps
    // to the wall clock (realtime_ns at tsc_ref, tsc_hz cycles a second),
    // and how many rings are served (workers; the slow path's is
    // kCaptureSlowPathRing).
    uint64_t tsc_hz;
    uint64_t tsc_ref;
    uint64_t realtime_ref_ns;
    uint32_t worker_rings;
    uint32_t reserved;
    // Per ring: the seq its producer adopted last, records dropped on a
    // full ring (cumulative), records taken (cumulative).
    std::atomic<uint32_t> ack[kCaptureRings];
    std::atomic<uint64_t> dropped[kCaptureRings];
    std::atomic<uint64_t> taken[kCaptureRings];
};

struct CaptureArea {
    CaptureControl control;
    SpscRing<CaptureRecord, kCaptureSlots> ring[kCaptureRings];
};

}  // namespace isthmus::dpif
