// The media relay of one worker, sans I/O: a burst of received frames in,
// each frame rewritten in place and given an action (send on the access or
// core port, hand to the kernel, drop with a reason).
//
// Per packet (issue 4, DESIGN.md "Fast path per burst"): parse Ethernet/IP/
// UDP; look the destination (the gateway's local address + port) up in the
// worker's flow table, in bulk; frames no flow owns go to the kernel. Check
// the source against the leg's remote (a leg whose remote is still open
// learns it from the first packet that authenticates); RFC 7983 demux
// (STUN answered inline on ICE legs, DTLS from a DTLS leg's remote to the
// slow path, RTP/RTCP relayed); SRTP/SRTCP
// unprotect with the arrival leg's keys, protect with the other leg's, both
// batched per burst; write the other leg's Ethernet/IP/UDP headers in front
// of the payload. Payload types, SSRCs and sequence numbers pass unchanged.
//
// The I/O around it (dataplane/worker.cpp) maps mbufs to RelayPacket and
// back: data/len/headroom/tailroom describe the buffer, and process() moves
// `data` within it when the new headers are longer or shorter.
//
// Thread-safety: one Relay per worker lcore, with that worker's
// SessionTable and Engine. No allocation, locks, system calls or virtual
// calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ice/binding.hpp"
#include "ice/verdict.hpp"
#include "pkt/build.hpp"
#include "pkt/drop.hpp"
#include "pkt/parse.hpp"
#include "session/session_table.hpp"
#include "srtp/engine.hpp"

namespace isthmus::session {

// X(Enumerator, "label")
#define ISTHMUS_RELAY_DROP(X)                                                                     \
    X(None, "none")                   /* not dropped */                                           \
    X(Malformed, "malformed")         /* the parser refused it (by pkt::Drop) */                  \
    X(WrongSource, "wrong_source")    /* not from the leg's remote address */                     \
    X(NotMedia, "not_media")          /* STUN/DTLS/other on a leg not taking it */                \
    X(SrtpIn, "srtp_in")              /* unprotect failed (srtp counters say why) */              \
    X(SrtpOut, "srtp_out")            /* protect failed (srtp counters say why) */                \
    X(NoRemote, "no_remote")          /* the other leg's remote is not known yet */               \
    X(NoNeighbour, "no_neighbour")    /* next-hop link address not resolved yet */                \
    X(NoRoom, "no_room")              /* buffer too small for the new headers */                  \
    X(TxFull, "tx_full")              /* TX queue or kernel ring full (I/O side) */               \
    X(HandoffFull, "handoff_full")    /* the owning worker's hand-off ring was full */            \
    X(StunRefused, "stun_refused")    /* a STUN message not answered (ice verdicts say why) */    \
    X(NoConsent, "no_consent")        /* toward an ICE remote whose consent expired (RFC 7675) */ \
    X(NotKeyed, "not_keyed")          /* to or from a DTLS-SRTP leg whose handshake is not up */  \
    X(SlowPathFull, "slow_path_full") /* DTLS datagram: the slow path's ring was full (I/O side)  \
                                       */                                                         \
    X(Policed, "policed")             /* beyond what the arrival leg may send (policer.hpp) */    \
    X(BundleDemux, "bundle_demux")    /* RTP on a BUNDLE transport: no m= line has its PT */

enum class RelayDrop : uint8_t {
#define ISTHMUS_X(name, label) name,
    ISTHMUS_RELAY_DROP(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kRelayDropCount = 0
#define ISTHMUS_X(name, label) +1
    ISTHMUS_RELAY_DROP(ISTHMUS_X)
#undef ISTHMUS_X
    ;

constexpr std::string_view relay_drop_name(RelayDrop d) {
    constexpr std::array<std::string_view, kRelayDropCount> names = {
#define ISTHMUS_X(name, label) label,
        ISTHMUS_RELAY_DROP(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(d)];
}

enum class Action : uint8_t {
    Drop,         // RelayPacket::drop says why
    ToKernel,     // no flow owns it (ARP, ICMP, other UDP): the exception port
    ToAccess,     // send on the access port
    ToCore,       // send on the core port
    ToSlowPath,   // a DTLS datagram from a DTLS leg's remote: the slow path's
                  // (RelayPacket::slot and arrived name the leg)
    HoldForKeys,  // SRTP from a DTLS leg's remote before its keys arrived (the
                  // browser may send media right after its last flight, before
                  // the slow path has handled it: RFC 5764 5.1.2 allows
                  // holding it); the I/O side keeps it briefly and gives it to
                  // process() again once the leg has keys (slot, arrived), or
                  // drops it as not_keyed
};

struct RelayPacket {
    uint8_t* data;            // in: the received Ethernet frame; out: the frame to send
    uint32_t len;             // octets of frame at data
    uint32_t headroom;        // octets writable before data
    uint32_t tailroom;        // octets writable after data + len
    Side arrived;             // the port it came in on
    pkt::ParseOptions parse;  // checksums the NIC already verified
    Action action;            // out
    RelayDrop drop;           // out: reason when action == Drop
    bool tx_offload;          // out: checksums left to the NIC (pkt::Checksums::Offload)
    uint8_t out_family;       // out: 4 or 6, the headers written (ToAccess/ToCore)
    uint32_t slot;            // out: ToSlowPath, HoldForKeys, ToAccess, ToCore: the session's slot
};

// Worker counters; `by arrival side` arrays are indexed by Side.
struct RelayCounters {
    uint64_t rx_packets[2] = {};  // frames given to the relay, by arrival side
    uint64_t rx_bytes[2] = {};
    uint64_t relayed_packets[2] = {};  // frames sent on the other port, by arrival side
    uint64_t relayed_bytes[2] = {};    // octets of the frames sent
    uint64_t to_kernel = 0;
    std::array<uint64_t, kRelayDropCount> drops{};
    std::array<uint64_t, pkt::kDropCount> malformed{};  // Malformed drops by parser reason
    std::array<uint64_t, ice::kVerdictCount> stun{};    // STUN on ICE legs, by verdict
    uint64_t stun_responses = 0;                        // binding responses sent
    uint64_t ice_selected = 0;                          // pairs nominated (or re-nominated)
    uint64_t media_other_pair = 0;  // let through the source check from a valid pair not nominated
    uint64_t to_slow_path = 0;      // DTLS datagrams for the slow path
    uint64_t held_for_keys = 0;     // SRTP held until a DTLS leg's keys
    uint64_t events_dropped = 0;    // more events than one call holds
};

// Something the control plane must hear of (worker -> outbox).
struct RelayEvent {
    enum class Kind : uint8_t { IceSelected, ConsentLost, ConsentRestored, Idle, Active };
    Kind kind;
    uint64_t session_id;
    Side side;
    Endpoint remote;  // the leg's (nominated) remote
};

// RFC 7675 5.1: consent expires 30 s after the last authenticated check.
inline constexpr uint64_t kConsentTimeoutNs = 30ULL * 1000000000ULL;

class Relay {
  public:
    // `mac[side]`: the Ethernet address of the port on that side.
    Relay(SessionTable& table, srtp::Engine& engine, const uint8_t access_mac[6],
          const uint8_t core_mac[6]);

    // How the headers sent on a side's port get their checksums (default
    // Software; Offload when that port's NIC completes them).
    void set_checksums(Side side, pkt::Checksums how) {
        checksums_[static_cast<std::size_t>(side)] = how;
    }

    // Decides and rewrites every packet of `pkts` (any size; worked through
    // in chunks of srtp::kMaxBurst). Sets action (and drop) on each.
    void process(std::span<RelayPacket> pkts);

    // The time (ns, monotonic) the next process() / check_consent() call
    // runs at: the worker sets it once per poll. Sans I/O: no clock here.
    void set_now(uint64_t now_ns) { now_ns_ = now_ns; }

    // Walks up to `max_slots` sessions (a cursor over the table, so that a
    // full pass is spread over calls) and withdraws consent from ICE legs
    // whose remote sent no authenticated check for kConsentTimeoutNs
    // (ConsentLost events; replaces the events of the last call).
    void check_consent(uint32_t max_slots);
    // Media inactivity, checked by the same scan: a session that relayed
    // nothing for `ns` is reported once (RelayEvent::Idle), and again
    // (Active) when it relays anew; 0 (the default): never.
    void set_idle_timeout(uint64_t ns) { idle_timeout_ns_ = ns; }

    // Events of the last process() or check_consent() call (ICE pairs
    // selected, consent lost or restored), for the worker to report.
    std::span<const RelayEvent> events() const { return {events_.data(), n_events_}; }

    RelayCounters& counters() { return counters_; }
    const RelayCounters& counters() const { return counters_; }

  private:
    void process_chunk(std::span<RelayPacket> pkts);
    void answer_stun(RelayPacket& p, const pkt::Frame& f, const FlowRef& ref);

    SessionTable& table_;
    srtp::Engine& engine_;
    uint8_t mac_[2][6];
    pkt::Checksums checksums_[2] = {pkt::Checksums::Software, pkt::Checksums::Software};
    RelayCounters counters_;
    // False when the event buffer was full (counted in events_dropped).
    bool push_event(RelayEvent::Kind kind, const Session& s, Side side);
    uint64_t idle_timeout_ns_ = 0;

    std::array<RelayEvent, 64> events_{};
    std::size_t n_events_ = 0;
    uint64_t now_ns_ = 0;
    uint32_t consent_cursor_ = 0;
};

}  // namespace isthmus::session
