// The SRTP/SRTCP transforms (RFC 3711, RFC 7714, RFC 6188) over bursts of
// packets, in place.
//
// Each function takes a span of operations, builds one IPsec-MB job per
// packet that passes the header, stream and replay checks, submits all of
// them, flushes the manager, and then completes every packet (tag checks,
// replay-list and ROC updates, trailer layout). Packets of one span may
// belong to different contexts (one burst of a worker carries many flows).
//
// Fast path: no allocation, locks, exceptions, system calls or virtual calls.
// Each packet ends with op.status set and the engine's counter of that
// status incremented; op.len is changed only when the status is Ok.
// On any failure other than Ok the buffer's contents are unspecified (it may
// have been decrypted in place before its tag was found wrong). Receiving:
// a packet that failed leaves the stream state untouched. Sending: an index
// once assigned is used up even if the job then fails (never reused, so
// keystream is never repeated).
//
// Thread-safety: call from the thread that owns `engine` and the contexts.
#pragma once

#include <cstdint>
#include <span>

#include "srtp/context.hpp"
#include "srtp/engine.hpp"
#include "srtp/status.hpp"

namespace isthmus::srtp {

struct PacketOp {
    Context* ctx;       // nullptr -> Status::UnknownContext
    uint8_t* data;      // packet, starting at the RTP/RTCP header
    uint32_t len;       // octets of packet in data; updated on success
    uint32_t capacity;  // octets writable at data (protect appends the trailer)
    Status status;      // out
};

// RTP -> SRTP: appends the tag (protect needs capacity >= len + tag).
void protect_rtp(Engine& engine, std::span<PacketOp> ops);
// SRTP -> RTP: verifies, checks replay, decrypts, strips the tag.
void unprotect_rtp(Engine& engine, std::span<PacketOp> ops);
// RTCP -> SRTCP (always encrypted, E=1): appends SRTCP index and tag
// (capacity >= len + 4 + tag).
void protect_rtcp(Engine& engine, std::span<PacketOp> ops);
// SRTCP -> RTCP: accepts E=1 (encrypted) and E=0 (authenticated only).
void unprotect_rtcp(Engine& engine, std::span<PacketOp> ops);

// Single-packet conveniences over the burst functions (tests, slow path).
namespace detail {
using BurstFn = void (*)(Engine&, std::span<PacketOp>);
inline Status run_one(BurstFn fn, Engine& e, Context& c, uint8_t* data, uint32_t& len,
                      uint32_t cap) {
    PacketOp op{&c, data, len, cap, Status::Ok};
    fn(e, std::span(&op, 1));
    len = op.len;
    return op.status;
}
}  // namespace detail

inline Status protect_rtp(Engine& e, Context& c, uint8_t* data, uint32_t& len, uint32_t cap) {
    return detail::run_one(&protect_rtp, e, c, data, len, cap);
}
inline Status unprotect_rtp(Engine& e, Context& c, uint8_t* data, uint32_t& len) {
    return detail::run_one(&unprotect_rtp, e, c, data, len, len);
}
inline Status protect_rtcp(Engine& e, Context& c, uint8_t* data, uint32_t& len, uint32_t cap) {
    return detail::run_one(&protect_rtcp, e, c, data, len, cap);
}
inline Status unprotect_rtcp(Engine& e, Context& c, uint8_t* data, uint32_t& len) {
    return detail::run_one(&unprotect_rtcp, e, c, data, len, len);
}

}  // namespace isthmus::srtp
