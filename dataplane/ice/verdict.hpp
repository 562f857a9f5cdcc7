// What became of one received STUN message: the STUN parser's results and the
// ICE-lite binding responder's decisions, with their counter names.
//
// One X-macro list makes the enum, the names and the counter array, so a new
// outcome cannot be added without a name and a counter (VPP's
// foreach_..._error habit, as srtp/status.hpp).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace isthmus::ice {

// X(Enumerator, "metric_label", "what it means: what the responder does")
#define ISTHMUS_ICE_VERDICT(X)                                                                    \
    X(Ok, "ok", "parsed; an authenticated Binding request: success response")                     \
    X(Indication, "indication", "Binding indication (keepalive, RFC 8445 11): no response")       \
    X(NotStun, "not_stun",                                                                        \
      "under 20 octets, top two bits not 0 or magic cookie wrong (RFC 8489 6.3): dropped")        \
    X(BadLength, "bad_length",                                                                    \
      "length field not a multiple of 4 or not the datagram's size - 20 (RFC 8489 6.3): dropped") \
    X(BadAttribute, "bad_attribute",                                                              \
      "an attribute (with its padding) runs past the end of the message (RFC 8489 14): dropped")  \
    X(FingerprintNotLast, "fingerprint_not_last",                                                 \
      "an attribute follows FINGERPRINT (RFC 8489 14.7): dropped")                                \
    X(BadFingerprint, "bad_fingerprint",                                                          \
      "FINGERPRINT not 4 octets or not CRC-32 ^ 0x5354554e (RFC 8489 14.7): dropped")             \
    X(NoFingerprint, "no_fingerprint",                                                            \
      "no FINGERPRINT, which ICE requires on checks (RFC 8445 7): dropped")                       \
    X(NotRequest, "not_request",                                                                  \
      "a success or error response: a lite agent sends no requests (RFC 8445 2.5): dropped")      \
    X(UnknownMethod, "unknown_method", "a method other than Binding (RFC 8489 6.3): dropped")     \
    X(MalformedAttribute, "malformed_attribute",                                                  \
      "a known attribute's value has the wrong size (RFC 8489 14, RFC 8445 16.1): 400")           \
    X(NoIntegrity, "no_integrity",                                                                \
      "neither MESSAGE-INTEGRITY nor MESSAGE-INTEGRITY-SHA256 (RFC 8489 9.1.3): 400")             \
    X(NoUsername, "no_username", "integrity but no USERNAME (RFC 8489 9.1.3): 400")               \
    X(NoPriority, "no_priority", "no PRIORITY, which every check carries (RFC 8445 7.1.1): 400")  \
    X(BadUsername, "bad_username",                                                                \
      "USERNAME is not <local ufrag>:<remote ufrag> (RFC 8445 7.2.2, 7.3): 401")                  \
    X(BadIntegrity, "bad_integrity",                                                              \
      "MESSAGE-INTEGRITY(-SHA256) does not verify with the local password (RFC 8489 9.1.3): 401") \
    X(UnknownRequired, "unknown_required",                                                        \
      "comprehension-required attributes not understood (RFC 8489 6.3.1): 420")                   \
    X(RoleConflict, "role_conflict",                                                              \
      "ICE-CONTROLLED: the peer is controlled too, a lite agent cannot switch (RFC 8445 "         \
      "7.3.1.1): 487")                                                                            \
    X(NoRoom, "no_room", "the response does not fit the caller's buffer: dropped")                \
    X(BadSource, "bad_source", "source transport address family neither 4 nor 6: dropped")

enum class Verdict : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_ICE_VERDICT(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kVerdictCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_ICE_VERDICT(ISTHMUS_X)
#undef ISTHMUS_X
    ;

// The metric label of a verdict ("bad_integrity"), stable for dashboards.
constexpr std::string_view verdict_name(Verdict v) {
    constexpr std::array<std::string_view, kVerdictCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_ICE_VERDICT(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(v)];
}

// One line saying what a verdict means and what the responder does about it.
constexpr std::string_view verdict_doc(Verdict v) {
    constexpr std::array<std::string_view, kVerdictCount> docs = {
#define ISTHMUS_X(name, label, doc) doc,
        ISTHMUS_ICE_VERDICT(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return docs[static_cast<std::size_t>(v)];
}

// Per-worker counters, one per verdict. Written only by the owning thread
// (add); any thread may read them (get), seeing each counter's latest or a
// recent value.
struct Counters {
    std::array<uint64_t, kVerdictCount> messages{};

    // Readable from any thread (relaxed atomic load).
    uint64_t get(Verdict v) const {
        return std::atomic_ref<const uint64_t>(messages[static_cast<std::size_t>(v)])
            .load(std::memory_order_relaxed);
    }
    // Owner thread only: a relaxed store, a plain add on x86-64 (no lock).
    void add(Verdict v, uint64_t n = 1) {
        uint64_t& c = messages[static_cast<std::size_t>(v)];
        std::atomic_ref<uint64_t>(c).store(c + n, std::memory_order_relaxed);
    }
};

}  // namespace isthmus::ice
