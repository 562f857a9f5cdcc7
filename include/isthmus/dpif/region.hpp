// The shared-memory region between one dataplane and its control plane: a
// header that says who is alive, the command ring and the event ring, and
// the packet capture rings.
//
// The dataplane creates the region at start (a fresh POSIX shared-memory
// object each time, so a restarted dataplane never inherits half-read rings)
// and bumps `dataplane_generation`; the control plane and isthmus-ctl attach
// to it by name. The dataplane publishes its counters in the same region
// (StatsArea, stats.hpp).
#pragma once

#include <atomic>
#include <cstdint>

#include "isthmus/dpif/capture.hpp"
#include "isthmus/dpif/messages.hpp"
#include "isthmus/dpif/spsc_ring.hpp"
#include "isthmus/dpif/stats.hpp"

namespace isthmus::dpif {

inline constexpr uint64_t kRegionMagic = 0x31534d4854534949ULL;  // "IISTHMS1" little-endian
inline constexpr uint32_t kCommandRingSlots = 4096;
inline constexpr uint32_t kEventRingSlots = 8192;

enum class DataplaneState : uint32_t {
    Starting = 0,  // region made, rings not served yet
    Running = 1,   // main lcore serves the command ring
    Stopped = 2,   // clean exit; attachments should go away
};

struct alignas(64) RegionHeader {
    uint64_t magic;               // kRegionMagic once the region is initialised
    uint32_t abi_version;         // kAbiVersion of the dataplane that made it
    uint32_t header_size;         // sizeof(RegionHeader), a layout check
    uint64_t region_size;         // sizeof(Region), a layout check
    std::atomic<uint32_t> state;  // DataplaneState
    std::atomic<uint32_t> dataplane_pid;
    std::atomic<uint64_t> dataplane_generation;  // 1 + generation of the region it replaced
    std::atomic<uint64_t> heartbeat_ns;          // CLOCK_MONOTONIC, refreshed by the main lcore
    std::atomic<uint64_t> control_generation;    // last ResyncBegin generation seen
    std::atomic<uint64_t> commands_dropped;      // commands the dataplane could not parse
    // The one process producing commands and consuming events (a Client);
    // 0 when none. Claimed with compare-exchange so that a second producer
    // (say isthmus-ctl beside a running control plane) is refused, not
    // interleaved into the single-producer ring.
    std::atomic<uint32_t> client_pid;
    // The SHA-256 fingerprint of the dataplane's DTLS certificate, RFC 8122
    // form ("AB:CD:..."), NUL-terminated; written before state is Running.
    // The control plane puts it in its SDP (a=fingerprint:sha-256 ...).
    char dtls_fingerprint[96];
};

struct Region {
    RegionHeader header;
    SpscRing<Command, kCommandRingSlots> commands;  // control plane -> dataplane
    SpscRing<Event, kEventRingSlots> events;        // dataplane -> control plane
    StatsArea stats;                                // counters, published every heartbeat
    // Packet capture (capture.hpp): sparse until a capture runs (the pages
    // of a ring are touched only by the records written to it).
    CaptureArea capture;
};

}  // namespace isthmus::dpif
