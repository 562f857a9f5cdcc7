// The ICE-lite binding responder (RFC 8445 2.5 lite agent, RFC 8489 STUN
// server, short-term credentials): one received STUN message in, at most one
// response out, written into the caller's buffer. The worker calls it inline
// for every UDP payload the RFC 7983 demux calls STUN (pkt/demux.hpp).
//
// Sans I/O and pure: no socket, no clock, no allocation, no locks, no
// virtual calls; the verdict goes to a counter (ice/verdict.hpp). What the
// relay does with an authenticated check (select the pair on USE-CANDIDATE,
// refresh consent) is its business; the result says what it needs.
//
// Thread-safety: any thread; the credentials are only read, the output
// buffer is the caller's.
//
// Cost: about 450 ns per success response on one core (2.2 Mpps; figures
// from bench/stun_bench.cpp next to answer_binding() in binding.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ice/integrity.hpp"
#include "ice/stun.hpp"
#include "ice/verdict.hpp"

namespace isthmus::ice {

// One leg's ICE credentials (ice-ufrag / ice-pwd of each side, RFC 8839 5.4),
// owned by the leg; the views must outlive every call that reads them.
struct BindingCredentials {
    std::string_view local_ufrag;   // ours (the lite agent's), from our SDP
    std::string_view remote_ufrag;  // the browser's; empty: any remote part accepted
    IntegrityKey local_key;         // IntegrityKey::short_term(our ice-pwd)
};

// Largest response answer_binding() writes: a 420 listing kMaxUnknown
// attributes, signed with MESSAGE-INTEGRITY-SHA256, with FINGERPRINT.
inline constexpr std::size_t kMaxResponseLen =
    kHeaderLen + (4 + 4 + 20) /* ERROR-CODE "Unknown Attribute" */ +
    (4 + 2 * kMaxUnknown) /* UNKNOWN-ATTRIBUTES */ + (4 + kMessageIntegritySha256Len) + (4 + 4);

struct BindingResult {
    Verdict verdict = Verdict::NotStun;  // the counter to bump
    // > 0: send out[0, response_len) back to the request's source transport
    // address (from the address and port it was sent to). 0: send nothing.
    uint16_t response_len = 0;
    // ERROR-CODE of the response: 0 for a success response or none, else
    // 400, 401, 420 or 487.
    uint16_t error_code = 0;
    // USERNAME matched and MESSAGE-INTEGRITY(-SHA256) verified with the local
    // password: true for Ok, UnknownRequired and RoleConflict.
    bool authenticated = false;
    // Ok and the request carried USE-CANDIDATE: the controlling agent
    // nominates this pair (RFC 8445 7.3.1.5, 8.1.1).
    bool use_candidate = false;
    uint32_t priority = 0;  // PRIORITY of the request (when it had one)

    bool respond() const { return response_len != 0; }
};

// Answers the STUN message msg[0, len) (one whole UDP payload) that came
// from `source` on the leg with credentials `cred`, writing any response to
// out[0, cap). `out` may be `msg` itself (answering in place, in the
// received buffer): everything needed from the request is read before the
// first octet is written. Any other overlap is not allowed.
//
// In the order of RFC 8489 6.3 / 9.1.3 / 6.3.1 and RFC 8445 7.3:
//   - dropped, no response: what parse_message() refuses (NotStun,
//     BadLength, BadAttribute, FingerprintNotLast, BadFingerprint); a
//     method other than Binding (UnknownMethod); a response (NotRequest);
//     a request without FINGERPRINT (NoFingerprint); `source` neither IPv4
//     nor IPv6 (BadSource); a response larger than `cap` (NoRoom);
//   - a Binding indication: Indication, no response (a keepalive; it is not
//     authenticated, so it proves nothing about the source);
//   - 400 Bad Request, unsigned: MalformedAttribute, NoIntegrity,
//     NoUsername, NoPriority;
//   - 401 Unauthenticated, unsigned: BadUsername (USERNAME is not
//     "<local_ufrag>:<remote_ufrag>"), BadIntegrity;
//   - 420 Unknown Attribute with UNKNOWN-ATTRIBUTES (the first kMaxUnknown
//     types), signed: UnknownRequired;
//   - 487 Role Conflict, signed: RoleConflict (ICE-CONTROLLED present: a lite
//     agent is always controlled and never switches; ICE-CONTROLLING is
//     what a full peer sends and needs nothing);
//   - success, Ok: XOR-MAPPED-ADDRESS of `source`, then MESSAGE-INTEGRITY
//     (MESSAGE-INTEGRITY-SHA256 when the request used it) keyed with the local
//     password, then FINGERPRINT.
// Every response carries the request's transaction id and FINGERPRINT; none
// is larger than kMaxResponseLen.
BindingResult answer_binding(const uint8_t* msg, std::size_t len, const TransportAddress& source,
                             const BindingCredentials& cred, uint8_t* out, std::size_t cap);

}  // namespace isthmus::ice
