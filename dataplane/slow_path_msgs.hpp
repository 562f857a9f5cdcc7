// What crosses between a worker and the slow-path lcore (issue 5): DTLS
// legs opened and closed with their sessions, the paths ICE nominates, the
// DTLS datagrams the relay classifies (RFC 7983), and back the SRTP keys a
// handshake negotiated. Fixed-size messages on SPSC rings (one pair per
// worker); keys never leave the process.
#pragma once

#include <cstdint>

#include "dpdk.hpp"
#include "isthmus/dpif/messages.hpp"
#include "isthmus/dpif/spsc_ring.hpp"
#include "pkt/build.hpp"

namespace isthmus::dataplane {

// Worker -> slow path.
struct SlowMsg {
    enum class Kind : uint8_t {
        Open,        // a DTLS leg: role and the peer's fingerprint
        Close,       // the leg (this serial) is gone
        Path,        // ICE nominated the browser's address: send there
        Datagram,    // a DTLS datagram arrived on the leg: `mbuf` (the slow path frees it)
        Generation,  // the session moved to `generation`, the association stays
        Modes,       // the association stays and now carries `srtp`, `datachannel` or both
    };
    Kind kind;
    uint8_t side;         // session::Side
    uint8_t active;       // Open, Modes: our DTLS role is client (a=setup:active)
    uint8_t datachannel;  // Open, Modes: a data channel's leg (SCTP in the DTLS; `sctp`)
    uint8_t srtp;         // Open, Modes: the worker wants SRTP keys (not DtlsSctp)
    uint32_t serial;      // the leg's association (session::Session::Dtls::serial)
    uint64_t session_id;
    uint64_t generation;         // Open: the session's, for events
    rte_mbuf* mbuf;              // Datagram
    pkt::UdpEgress path;         // Path: our address and port on the leg -> the remote
    uint8_t fingerprint[32];     // Open
    dpif::DataChannelSpec sctp;  // Open, Modes of a data channel's leg
};

// Slow path -> worker.
struct KeyMsg {
    uint64_t session_id;
    uint32_t serial;
    uint16_t worker;  // whose ring it goes to
    uint8_t side;
    uint8_t install;  // 1: key the leg; 0: the association ended or failed (keys
                      // withdrawn, early media no longer held)
    uint8_t suite;    // srtp::Suite
    uint8_t key_len;
    uint8_t salt_len;
    uint8_t rx_key[32];  // the peer's write key: checks what arrives
    uint8_t rx_salt[14];
    uint8_t tx_key[32];  // ours: protects what we send
    uint8_t tx_salt[14];
};

using SlowRing = dpif::SpscRing<SlowMsg, 1024>;
using KeyRing = dpif::SpscRing<KeyMsg, 256>;

// Room a worker keeps in its SlowRing for Open/Close/Path: datagrams are
// dropped (and counted) before they could take it.
inline constexpr uint32_t kSlowRingControlRoom = 64;

}  // namespace isthmus::dataplane
