// SRTP/SRTCP per-packet results and their counter names.
//
// One X-macro list makes the enum, the names and the counter array, so a new
// drop reason cannot be added without a name and a counter (VPP's
// foreach_..._error habit).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace isthmus::srtp {

// X(Enumerator, "metric_label", "what it means")
#define ISTHMUS_SRTP_STATUS(X)                                                             \
    X(Ok, "ok", "packet protected or unprotected")                                         \
    X(AuthFail, "auth_fail", "authentication tag did not verify (RFC 3711 3.3 step 5)")    \
    X(Replay, "replay", "index already seen inside the replay window (RFC 3711 3.3.2)")    \
    X(ReplayOld, "replay_old", "index older than the replay window (RFC 3711 3.3.2)")      \
    X(TooShort, "too_short", "shorter than header + tag (+ SRTCP index)")                  \
    X(BadVersion, "bad_version", "RTP/RTCP version field is not 2")                        \
    X(BadHeader, "bad_header", "CSRC count or header extension runs past the packet")      \
    X(UnknownContext, "unknown_context", "no SRTP context for this packet's flow")         \
    X(UnknownSsrc, "unknown_ssrc", "SSRC not known and no stream slot free for it")        \
    X(NoRoom, "no_room", "buffer has no room for the tag (and SRTCP index)")               \
    X(KeyExhausted, "key_exhausted", "2^48 SRTP or 2^31 SRTCP packets sent under one key") \
    X(CryptoError, "crypto_error", "IPsec-MB rejected or failed the job")

enum class Status : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_SRTP_STATUS(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kStatusCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_SRTP_STATUS(ISTHMUS_X)
#undef ISTHMUS_X
    ;

// The metric label of a status ("auth_fail"), stable for dashboards.
constexpr std::string_view status_name(Status s) {
    constexpr std::array<std::string_view, kStatusCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_SRTP_STATUS(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(s)];
}

// Which transform a counter row belongs to.
enum class Op : uint8_t { ProtectRtp, UnprotectRtp, ProtectRtcp, UnprotectRtcp };
inline constexpr std::size_t kOpCount = 4;
constexpr std::string_view op_name(Op op) {
    constexpr std::array<std::string_view, kOpCount> names = {"protect_rtp", "unprotect_rtp",
                                                              "protect_rtcp", "unprotect_rtcp"};
    return names[static_cast<std::size_t>(op)];
}

// Per-engine (so per-lcore) counters: one row per operation, one column per
// status. Written only by the engine's owning thread (add); any thread may
// read them (get), seeing each counter's latest or a recent value.
struct Counters {
    std::array<std::array<uint64_t, kStatusCount>, kOpCount> packets{};

    // Readable from any thread (relaxed atomic load).
    uint64_t get(Op op, Status s) const {
        return std::atomic_ref<const uint64_t>(
                   packets[static_cast<std::size_t>(op)][static_cast<std::size_t>(s)])
            .load(std::memory_order_relaxed);
    }
    // Owner thread only: a relaxed store, a plain add on x86-64 (no lock).
    void add(Op op, Status s, uint64_t n = 1) {
        uint64_t& c = packets[static_cast<std::size_t>(op)][static_cast<std::size_t>(s)];
        std::atomic_ref<uint64_t>(c).store(c + n, std::memory_order_relaxed);
    }
};

}  // namespace isthmus::srtp
