// The messages between the control plane and the dataplane (the dpif
// contract). Fixed size, trivially copyable, versioned; the layout is pinned
// by static_asserts so both sides built from this header agree byte for byte.
//
// Commands flow control plane -> dataplane on the command ring; results and
// events flow back on the event ring. Every command carries a sequence
// number that its Result echoes, and the control plane's generation: after
// either side restarts, the control plane opens a new generation with
// ResyncBegin, re-sends its sessions, and ResyncEnd makes the dataplane drop
// every session of an older generation (DESIGN.md "Either side may restart").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace isthmus::dpif {

// 2: the region holds the capture area; 3: BundleSpec; 4: LegSpec::awaiting_answer
inline constexpr uint16_t kAbiVersion = 4;

enum class MsgType : uint16_t {
    // control plane -> dataplane
    SessionCreate = 1,
    SessionUpdate = 2,
    SessionDelete = 3,
    SessionQuery = 4,  // session_id != 0: that session; 0: every session. Answered with one
                       // SessionInfo per session, then the Result (Ok, or NotFound)
    ResyncBegin = 5,
    ResyncEnd = 6,
    Ping = 7,
    // dataplane -> control plane
    Result = 64,       // outcome of one command (echoes its seq)
    SessionInfo = 65,  // a session the dataplane holds (query answers); with result
                       // StaleGeneration: a session ResyncEnd released
    Pong = 66,
    IceSelected = 80,  // events (issue 5 onwards)
    DtlsUp = 81,
    DtlsFailed = 82,
    ConsentLost = 83,
    ConsentRestored = 84,
    SessionIdle = 85,    // nothing relayed either way for [dataplane] media_timeout_s
    SessionActive = 86,  // a session reported idle relays again
};

// X(Enumerator, "label")
#define ISTHMUS_DPIF_RESULT(X)                                         \
    X(Ok, "ok")                                                        \
    X(BadVersion, "bad_version")           /* ABI version differs */   \
    X(BadType, "bad_type")                 /* unknown MsgType */       \
    X(BadParams, "bad_params")             /* a field out of range */  \
    X(Exists, "exists")                    /* create of a live id */   \
    X(NotFound, "not_found")               /* no such session */       \
    X(TableFull, "table_full")             /* no room for a session */ \
    X(PortInUse, "port_in_use")            /* local port taken */      \
    X(StaleGeneration, "stale_generation") /* older than current */    \
    X(NotSupported, "not_supported")       /* this dataplane cannot do it yet */

enum class ResultCode : uint16_t {
#define ISTHMUS_X(name, label) name,
    ISTHMUS_DPIF_RESULT(ISTHMUS_X)
#undef ISTHMUS_X
};

constexpr std::string_view result_name(ResultCode r) {
    switch (r) {
#define ISTHMUS_X(name, label) \
    case ResultCode::name:     \
        return label;
        ISTHMUS_DPIF_RESULT(ISTHMUS_X)
#undef ISTHMUS_X
    }
    return "?";
}

// An IPv4 or IPv6 transport address. family 0 = unset.
struct IpEndpoint {
    uint8_t family;  // 4, 6 or 0
    uint8_t reserved;
    uint16_t port;     // host byte order
    uint8_t addr[16];  // network byte order; IPv4 in the first 4 octets
};
static_assert(sizeof(IpEndpoint) == 20);

// How a leg's media is protected.
enum class LegSecurity : uint8_t {
    Rtp = 0,       // plain RTP/RTCP (core leg toward the IMS)
    Sdes = 1,      // SRTP with keys given here (RFC 4568 a=crypto)
    DtlsSrtp = 2,  // SRTP keyed by DTLS inside the dataplane (RFC 5764); keys never cross
    // A data channel's leg (access only, issue 9): ICE-lite and DTLS like
    // DtlsSrtp, SCTP inside DTLS (RFC 8261) terminated by the slow path
    // (Command::datachannel); no RTP/RTCP. Its session has no UDP core
    // leg (core.local unset).
    DtlsSctp = 3,
    // Both on one DTLS association (access only; a BUNDLE transport whose
    // group has a data channel, RFC 8843 + RFC 8841): SRTP media relayed
    // as DtlsSrtp to and from the session's core leg (and its bundled m=
    // lines'), and SCTP for the data channel as DtlsSctp
    // (Command::datachannel, Command::msrp). An update between DtlsSrtp,
    // DtlsSctp and DtlsSrtpSctp that keeps the role, fingerprint and ICE
    // credentials keeps the association: the browser does not handshake
    // again when a data channel joins or leaves its bundle.
    DtlsSrtpSctp = 4,
};

// A leg whose DTLS carries a data channel (SCTP).
constexpr bool carries_sctp(LegSecurity s) {
    return s == LegSecurity::DtlsSctp || s == LegSecurity::DtlsSrtpSctp;
}

// SRTP master key and salt of one direction (SDES legs only).
struct SrtpKeys {
    uint8_t suite;  // isthmus::srtp::Suite value
    uint8_t key_len;
    uint8_t salt_len;
    uint8_t reserved;
    uint8_t master_key[32];
    uint8_t master_salt[16];
};
static_assert(sizeof(SrtpKeys) == 52);

struct LegSpec {
    IpEndpoint local;        // gateway's RTP address and port on this leg
    IpEndpoint local_rtcp;   // unset when rtcp_mux
    IpEndpoint remote;       // peer's RTP address (unset: learned from ICE)
    IpEndpoint remote_rtcp;  // unset when rtcp_mux
    LegSecurity security;
    uint8_t rtcp_mux;     // 1: RTP and RTCP on one port (RFC 5761)
    uint8_t dtls_active;  // DTLS role, 1 active / 0 passive (a=setup)
    // 1: an access leg offered to the browser whose answer has not come
    // (an IMS offer, issue 7): ICE checks to it are answered (RFC 8445 7.3:
    // they may come before the answer), with any remote ufrag, and a check
    // with USE-CANDIDATE nominates its pair; no DTLS and no media yet. An
    // update with the answer (remote_ufrag, remote_fingerprint, role; the
    // core leg) completes it and keeps the nominated pair, the valid pairs
    // and consent. Needs ICE credentials, security DtlsSrtp, remote_ufrag
    // and remote_fingerprint unset, no BUNDLE; the session's core leg is
    // unset (its endpoints all zero) until then; a create, or an update of
    // a session still awaiting. 0: a complete leg.
    uint8_t awaiting_answer;
    SrtpKeys rx;         // Sdes: keys of packets we receive on this leg
    SrtpKeys tx;         // Sdes: keys of packets we send on this leg
    char ice_ufrag[32];  // local ICE credentials (DtlsSrtp legs), NUL padded
    char ice_pwd[64];
    char remote_ufrag[32];
    uint8_t remote_fingerprint[32];  // SHA-256 of the peer's certificate (a=fingerprint)
};
static_assert(sizeof(LegSpec) == 348);

struct MsgHeader {
    uint16_t version;  // kAbiVersion
    MsgType type;
    uint32_t reserved;    // commands: 0; Result: the MsgType of the command it answers
    uint64_t seq;         // set by the sender, echoed in Result
    uint64_t generation;  // control plane generation the message belongs to
    uint64_t session_id;  // chosen by the control plane; 0 when not about a session
};
static_assert(sizeof(MsgHeader) == 32);

// A data-channel leg's SCTP parameters (LegSecurity::DtlsSctp or
// DtlsSrtpSctp; RFC 8841).
struct DataChannelSpec {
    uint16_t local_sctp_port;        // our a=sctp-port (0: 5000)
    uint16_t remote_sctp_port;       // the browser's a=sctp-port (0: 5000)
    uint32_t max_message_size;       // the largest message we accept (our a=max-message-size)
    uint32_t peer_max_message_size;  // the browser's a=max-message-size (0: 65536, RFC 8841 6)
    uint32_t reserved;
};
static_assert(sizeof(DataChannelSpec) == 16);

// The MSRP chat of a data channel's session (issue 9; docs/datachannel.md):
// the gateway bridges the browser's MSRP data channel (RFC 8873) and the IMS
// UE's MSRP over TCP (RFC 4975), a back-to-back endpoint with its own URI on
// each side. setup == kMsrpNone: no chat (every field else ignored).
//
// The gateway's URIs are made from these fields by msrp_local_uri() below,
// which the IMS-ALG uses for the a=path it writes toward each side:
//   toward the browser: msrp://<access.local address>:<access.local port>/<session_id>;dc
//   toward the UE:      msrp://<tcp_local address>:<tcp_local port>/<session_id>;tcp
// Strings are NUL padded (a field may be full, without a NUL).
inline constexpr uint8_t kMsrpNone = 0;
inline constexpr uint8_t kMsrpPassive = 1;  // the UE connects to tcp_local (a=setup:passive)
inline constexpr uint8_t kMsrpActive = 2;   // we connect from tcp_local's address to tcp_remote
inline constexpr uint16_t kMsrpAnyChannel = 0xFFFF;

struct MsrpSpec {
    IpEndpoint tcp_local;   // our TCP address (the core address) and port
    IpEndpoint tcp_remote;  // active: the UE's address and port; passive: unset
    uint8_t setup;          // kMsrpNone, kMsrpPassive, kMsrpActive
    uint8_t reserved;
    // The data channel's stream id (a=dcmap), or kMsrpAnyChannel: the first
    // channel the browser opens with protocol "MSRP" (any case).
    uint16_t channel_id;
    uint32_t reserved2;
    char session_id[16];     // our URIs' session-id (RFC 4975 9), random
    char browser_path[100];  // the browser's a=path (a=dcsa), its MSRP URIs
    char ue_path[100];       // the UE's a=path
};
static_assert(sizeof(MsrpSpec) == 264);

// BUNDLE (RFC 8843; issue 7): several m= lines of one call on one access
// transport (one port, one ICE pair, one DTLS association, one SRTP
// context each way), each with its own core leg toward the IMS (TS 23.228
// Annex U: no multiplexing into the IMS). One dataplane session per m= line
// in use, as without BUNDLE:
//  - the transport's session (the BUNDLE-tagged m= line): transport = its
//    own session id; its access leg is a full DtlsSrtp leg;
//  - every other bundled m= line's session: transport = the transport
//    session's id, a live session of the same worker; its access leg is
//    left unset (all zero: it is the transport's), its core leg is its own.
// The transport's access leg is DtlsSrtp, DtlsSrtpSctp (the group's data
// channel rides on the transport's DTLS) or Sdes: packets are told apart
// after they authenticated.
// payload_types: the RTP payload types of the m= line (the formats of the
// description toward the browser that was agreed): RTP the browser sends
// with one of them is relayed to this session's core leg. A payload type
// belongs to one m= line of a bundle; an m= line may have none (then only
// the browser's RTCP about its streams, and what its core leg receives,
// reach it).
// The browser's RTCP goes to the session whose RTP it reports on (the
// sender's SSRC, else the reported or fed-back SSRC), else the transport's.
// What the core legs send the browser goes out on the transport.
// transport == 0: not bundled (everything else ignored).
inline constexpr std::size_t kMaxBundlePayloadTypes = 48;
inline constexpr std::size_t kMaxBundleSessions = 8;  // m= lines in one bundle

struct BundleSpec {
    uint64_t transport;  // 0, or the session id of the bundle's transport
    uint8_t pt_count;    // 0..kMaxBundlePayloadTypes
    uint8_t reserved[7];
    uint8_t payload_types[kMaxBundlePayloadTypes];  // 0..127 each
};
static_assert(sizeof(BundleSpec) == 64);

// control plane -> dataplane
struct Command {
    MsgHeader hdr;
    LegSpec access;  // W3 leg, browser side
    LegSpec core;    // Mb leg, IMS side
    // CLOCK_MONOTONIC (ns) of what made the control plane send this
    // command (the SIP answer whose handling created the session); 0: none.
    // The worker counts the time from it to a created session installed
    // (its program_* counters): the answer-to-forwarding latency.
    uint64_t stamp_ns;
    DataChannelSpec datachannel;  // access.security DtlsSctp or DtlsSrtpSctp only
    MsrpSpec msrp;                // access.security DtlsSctp or DtlsSrtpSctp only
    // What each leg may send us (issue 11, docs/dataplane.md "Policing"):
    // kb/s (1,000 bits) of IP packets arriving on the access leg [0]
    // (browser -> IMS) and on the core leg [1] (IMS -> browser), IP, UDP
    // and RTP headers counted as SDP b=AS counts them; media beyond it, and
    // beyond the dataplane's burst allowance ([dataplane] police_burst_ms),
    // is dropped before it is relayed (drop_policed). 0: not policed (a
    // command that leaves these zero, as before this field, polices
    // nothing); otherwise 8..10,000,000.
    uint32_t police_kbps[2];
    BundleSpec bundle;  // ABI 3
};
static_assert(sizeof(Command) == 1088);
static_assert(offsetof(Command, police_kbps) == 1016);
static_assert(offsetof(Command, bundle) == 1024);
static_assert(std::is_trivially_copyable_v<Command> && std::is_standard_layout_v<Command>);

// dataplane -> control plane
struct Event {
    MsgHeader hdr;
    ResultCode result;  // Result: outcome; other types: Ok
    uint16_t worker;    // lcore index owning the session
    uint32_t reserved;
    IpEndpoint access_local;  // SessionInfo / Result of create: the legs' bound addresses
    IpEndpoint core_local;
    IpEndpoint selected_remote;  // IceSelected: the pair's remote address; SessionInfo:
                                 // the access leg's remote (given or learned)
    char detail[64];             // NUL-terminated reason (DtlsFailed, BadParams...)
    IpEndpoint core_remote;      // SessionInfo: the core leg's remote RTP address
    uint64_t relayed[2];         // SessionInfo: packets relayed access->core [0], core->access [1]
    uint64_t dropped[2];  // SessionInfo: packets of the session dropped, arrived on access [0],
                          // on core [1]
    uint8_t reserved2[256 - sizeof(MsgHeader) - 8 - 4 * sizeof(IpEndpoint) - 64 - 32];
};
static_assert(sizeof(Event) == 256);
static_assert(offsetof(Event, relayed) == 184);
static_assert(std::is_trivially_copyable_v<Event> && std::is_standard_layout_v<Event>);

}  // namespace isthmus::dpif
