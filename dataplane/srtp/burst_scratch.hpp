// Per-packet scratch of one burst, owned by the Engine (so per lcore), so
// that the transforms never allocate. Internal to dataplane/srtp.
#pragma once

#include <array>
#include <cstdint>

#include "srtp/engine.hpp"
#include "srtp/status.hpp"

namespace isthmus::srtp {
struct Stream;
struct PacketOp;
}  // namespace isthmus::srtp

namespace isthmus::srtp::detail {

struct alignas(64) PacketSlot {
    alignas(16) std::array<uint8_t, 16> iv;      // AES-CM counter block or GCM IV
    alignas(16) std::array<uint8_t, 32> tag;     // tag computed by IPsec-MB
    alignas(16) std::array<uint8_t, 16> rx_tag;  // received tag, saved before ROC overwrites it
    alignas(16) std::array<uint8_t, 16> aad;     // SRTCP GCM AAD (header || E+index)
    PacketOp* op;
    Stream* stream;  // nullptr: first packet of an SSRC, stream made on success
    uint64_t index;  // SRTP 48-bit or SRTCP 31-bit index of the packet
    uint32_t ssrc;
    uint32_t out_len;     // packet length on success
    uint32_t header_len;  // RTP header octets (AAD / clear part)
    uint16_t seq;         // RTP sequence number
    uint8_t tag_len;      // octets of tag compared or appended
    bool submitted;       // a job was submitted; false: verdict deferred to complete()
    bool job_ok;          // IPsec-MB reported the job completed
};

struct BurstScratch {
    std::array<PacketSlot, kMaxBurst> slots;
    std::array<PacketSlot*, kMaxBurst> pending;  // submitted, in submission order
};

}  // namespace isthmus::srtp::detail
