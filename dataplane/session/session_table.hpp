// A worker's sessions: what each relayed call is (two legs, their transport
// addresses and SRTP contexts) and the flow-table entries that find a
// session from a packet's destination (the gateway's local address + port).
//
// A session has an access leg (W3, browser side) and a core leg (Mb, IMS
// side). Each leg owns up to two local endpoints (RTP, and RTCP unless
// rtcp-mux, RFC 5761) and, for SDES legs, two SRTP contexts: `rx` checks and
// decrypts what arrives on the leg, `tx` protects what the leg sends.
//
// Ownership and threads: one SessionTable per worker lcore, touched only by
// that worker: commands from its ring (create / update / remove) and lookups
// from its fast path. All memory (session slots, SRTP contexts, the flow and
// id indexes) is allocated once at construction; create() refuses with
// TableFull when slots or contexts run out, never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "flow/flow_table.hpp"
#include "huge_array.hpp"
#include "ice/integrity.hpp"
#include "isthmus/dpif/messages.hpp"
#include "session/policer.hpp"
#include "srtp/context.hpp"
#include "srtp/engine.hpp"

namespace isthmus::session {

enum class Side : uint8_t { Access = 0, Core = 1 };

// The worker that owns a session whose leg has this local UDP port (issue 4:
// "its local UDP ports tell which"): an RTP/RTCP pair of ports (2n, 2n+1)
// shares a worker. The control plane allocates both legs' ports so that
// they name the same worker.
constexpr uint16_t owner_of(uint16_t local_port, uint16_t workers) {
    return static_cast<uint16_t>((local_port >> 1) % workers);
}
// rte_flow steering (docs/dataplane.md, "Ownership and steering"): with a
// power-of-two number of workers, owner_of is bits 1..log2(N) of the port,
// so one masked match on the UDP destination port per worker, value
// owner_port_value(k) under owner_port_mask(N), names exactly worker k's
// ports. 0: no such mask (one worker, or N not a power of two).
constexpr uint16_t owner_port_mask(uint16_t workers) {
    if (workers < 2 || (workers & (workers - 1)) != 0) return 0;
    return static_cast<uint16_t>((workers - 1) << 1);
}
constexpr uint16_t owner_port_value(uint16_t worker) {
    return static_cast<uint16_t>(worker << 1);
}
constexpr Side other(Side s) {
    return s == Side::Access ? Side::Core : Side::Access;
}

// A transport address. family 0 = unset.
struct Endpoint {
    uint8_t family = 0;  // 4, 6 or 0
    uint8_t addr[16] = {};
    uint16_t port = 0;  // host byte order
    bool set() const { return family != 0; }
};

struct Leg {
    Endpoint local;        // gateway's RTP address on this leg
    Endpoint local_rtcp;   // unset when rtcp_mux
    Endpoint remote;       // peer's RTP address; unset until learned (access legs)
    Endpoint remote_rtcp;  // unset when rtcp_mux
    dpif::LegSecurity security = dpif::LegSecurity::Rtp;
    bool rtcp_mux = false;
    // The remote was not given: the first packet that authenticates on the
    // leg sets it (SDES legs only; issue 5 replaces this with ICE checks).
    bool learn_remote = false;
    bool mac_known = false;
    // ICE-lite on this leg (issue 5): binding requests are answered inline
    // and the remote is the address a check with USE-CANDIDATE authenticated
    // from (never learned from media); credentials in Session::ice.
    bool ice = false;
    // RFC 7675: no valid check from the remote for 30 s; nothing is sent
    // toward it until the next one (set and cleared by the relay).
    bool consent_lost = false;
    // DTLS-SRTP leg whose association may still come up: SRTP from its
    // remote before the keys is held, not dropped (Action::HoldForKeys).
    // Set when an association starts, cleared when it ends or fails.
    bool hold_early = false;
    // What arrives on this leg is policed (Session::police[side] is on):
    // only then does the relay read the session's fifth cache line.
    bool policed = false;
    uint8_t next_hop_mac[6] = {};  // link address toward remote (learned or resolved)
    // BUNDLE (access legs; dpif BundleSpec): kBundleTransport on the
    // transport session's leg (what arrives on it is given to the m= line
    // its payload type or SSRC names), kBundleMember on the leg of another
    // bundled m= line (unused: it sends on the transport's leg).
    uint8_t bundle = 0;
    srtp::Context* rx = nullptr;  // Sdes: unprotects what arrives on this leg
    srtp::Context* tx = nullptr;  // Sdes: protects what this leg sends
};
static_assert(sizeof(Leg) == 112);
inline constexpr uint8_t kBundleNone = 0;
inline constexpr uint8_t kBundleTransport = 1;
inline constexpr uint8_t kBundleMember = 2;

// Hot first: what the relay reads and writes per packet (both legs and the
// counters) fills the first four cache lines exactly; the policers start
// the fifth (read per packet only on a policed leg); what only commands
// touch follows.
struct alignas(64) Session {
    Leg leg[2];                // indexed by Side
    uint64_t relayed[2] = {};  // packets relayed, by the side they arrived on
    uint64_t dropped[2] = {};  // packets of this session dropped, by arrival side
    // --- fifth line: what each leg may send us (dpif Command::police_kbps),
    // by arrival side; Leg::policed says which is on.
    Policer police[2];
    // --- cold: commands only
    uint64_t id = 0;  // 0: slot free
    uint64_t generation = 0;
    // The SDES keys each leg's contexts were made from ([side][0 rx, 1 tx]),
    // to tell an update that keeps them from one that re-keys (zeroed with
    // the session).
    dpif::SrtpKeys keys[2][2]{};
    // ICE-lite credentials of each leg (when Leg::ice): our ufrag and the
    // peer's, NUL terminated, and the HMAC key made from our ice-pwd.
    struct Ice {
        char local_ufrag[33] = {};
        char remote_ufrag[33] = {};
        ice::IntegrityKey key;
        uint64_t last_check_ns = 0;  // last authenticated check from the remote
        // The last kValidSources transport addresses whose checks passed in
        // this ICE session (RFC 8445 7.3: the far end's valid pairs), and
        // when each last did. A full agent may send media on any valid
        // pair, and moves to another before it nominates it (Chrome does,
        // when a better pair succeeds after the first nomination): on an
        // SRTP leg, media (not DTLS) is let through the source check from
        // each whose last check is under kConsentTimeoutNs old; it is sent
        // only to the nominated remote. Read only when a packet's source is
        // not the remote (Relay::process_chunk).
        static constexpr std::size_t kValidSources = 4;
        struct ValidPairs {
            Endpoint addr[kValidSources];
            uint64_t last_check_ns[kValidSources] = {};
            uint8_t next = 0;  // the entry the next new address replaces
        } valid;
    } ice[2];
    // DTLS-SRTP legs (issue 5): the association's parameters and the two
    // contexts reserved for its keys at create (so that a handshake that
    // succeeds always finds room); Leg::rx/tx point at them once the slow
    // path delivered the keys, and are null before.
    struct Dtls {
        bool on = false;
        bool active = false;  // our role: a=setup:active (DTLS client)
        uint8_t fingerprint[32] = {};
        // This leg's association, as the slow path knows it: a new one on
        // every create/update that (re)starts DTLS; 0: not a DTLS leg.
        uint32_t serial = 0;
        srtp::Context* reserved[2] = {};  // [0] rx, [1] tx
        // The slow path has this association's path (the nominated remote):
        // the worker sends it again until it gets through.
        bool path_sent = false;
        // A data channel's leg (LegSecurity::DtlsSctp, issue 9): SCTP in the
        // DTLS, terminated by the slow path; no keys ever come to the worker
        // (the two reserved contexts stay unused, so that both kinds of DTLS
        // leg count alike). DtlsSrtpSctp (a BUNDLE transport with the
        // call's data channel): both, datachannel and srtp (its Leg's
        // security reads DtlsSrtp: the relay sees an SRTP leg).
        bool datachannel = false;
        bool srtp = true;  // the worker wants its SRTP keys (not DtlsSctp)
        dpif::DataChannelSpec sctp{};
    } dtls[2];
    // Media inactivity (Relay::check_consent's scan): relayed[0] +
    // relayed[1] when last seen moving, since when, and whether the
    // session was reported idle.
    uint64_t idle_mark = 0;
    uint64_t idle_since_ns = 0;
    bool idle_reported = false;
    // Its access leg awaits the browser's answer (dpif
    // LegSpec::awaiting_answer): ICE only, no core leg yet.
    bool awaiting_answer = false;
    // BUNDLE: the group this session's m= line is in (SessionTable::group),
    // and its index there; kNoGroup: not bundled.
    uint32_t bundle_group = UINT32_MAX;
    uint8_t bundle_index = 0;
};
inline constexpr std::size_t kSessionHotBytes = 256;
static_assert(offsetof(Session, police) == kSessionHotBytes);
static_assert(offsetof(Session, id) == kSessionHotBytes + 2 * sizeof(Policer));

// What a flow-table value says: which session, which leg, RTP or RTCP port.
struct FlowRef {
    uint32_t slot;
    Side side;
    bool rtcp_port;  // the leg's separate RTCP port (not mux)
    static uint32_t encode(uint32_t slot, Side side, bool rtcp_port) {
        return (slot << 2) | (static_cast<uint32_t>(side) << 1) | (rtcp_port ? 1U : 0U);
    }
    static FlowRef decode(uint32_t v) {
        return {v >> 2, static_cast<Side>((v >> 1) & 1U), (v & 1U) != 0};
    }
};

// The m= lines of one BUNDLE transport (dpif BundleSpec), by index: index
// of the transport session first. Only its worker touches it.
struct BundleGroup {
    static constexpr uint8_t kNoIndex = 0xFF;
    static constexpr uint32_t kNoSlot = UINT32_MAX;
    uint32_t transport = kNoSlot;  // the transport session's slot; kNoSlot once it is gone
    uint32_t refs = 0;             // sessions in the group (0: the group is free)
    uint32_t member[dpif::kMaxBundleSessions];    // slot per index (kNoSlot: free)
    uint32_t ssrc_in[dpif::kMaxBundleSessions];   // the browser's RTP SSRC last seen per index
    uint32_t ssrc_out[dpif::kMaxBundleSessions];  // the IMS side's RTP SSRC last seen
    uint8_t has_in = 0;                           // bit per index: ssrc_in[index] seen
    uint8_t has_out = 0;                          // bit per index: ssrc_out[index] seen
    uint8_t pt_index[128];                        // payload type -> index (kNoIndex: none)
    BundleGroup() {
        for (uint32_t& m : member)
            m = kNoSlot;
        for (uint8_t& i : pt_index)
            i = kNoIndex;
        for (std::size_t k = 0; k < dpif::kMaxBundleSessions; ++k)
            ssrc_in[k] = ssrc_out[k] = 0;
    }
};

struct TableLimits {
    uint32_t max_sessions = 4096;  // session slots
    uint32_t srtp_contexts = 0;    // SRTP contexts; 0: 2 per session (SDES or DTLS access legs)
    // A policed leg's burst allowance: this long at its rate (at least one
    // 1,500-octet packet); 1..4000 ([dataplane] police_burst_ms).
    uint32_t police_burst_ms = 500;
};

class SessionTable {
  public:
    // Allocates everything up front. Throws std::invalid_argument for
    // max_sessions 0 or above 2^28, std::bad_alloc when memory is short.
    SessionTable(srtp::Engine& engine, TableLimits limits);
    ~SessionTable();
    SessionTable(const SessionTable&) = delete;
    SessionTable& operator=(const SessionTable&) = delete;

    // SessionCreate: validates both legs, takes a slot and the contexts it
    // needs, keys them, inserts the flow entries. Result: Ok, Exists (id
    // live, same or older generation), BadParams (detail says which field),
    // PortInUse (a local endpoint belongs to another session), TableFull.
    // A create of a live id from a newer generation adopts it (resync): it
    // is applied as update() and moves the session to that generation.
    // Nothing changes unless Ok.
    dpif::ResultCode create(const dpif::Command& cmd, std::string& detail);
    // SessionUpdate: replaces both legs of a live session (a new offer/
    // answer), keeping the slot; SRTP stream state is kept when a leg's keys
    // are unchanged and reset when they change. Same results as create,
    // NotFound for an unknown id. Nothing changes unless Ok.
    dpif::ResultCode update(const dpif::Command& cmd, std::string& detail);
    // SessionDelete: removes the flows, wipes the keys, frees the slot.
    bool remove(uint64_t id);
    // Removes every session whose generation is older than `generation`
    // (ResyncEnd); calls on_removed(const Session&) before each removal.
    template <class F>
    std::size_t remove_older(uint64_t generation, F&& on_removed);

    // The next-hop link address toward a leg's remote, resolved by the main
    // lcore (neighbour table) or known otherwise; the relay also learns it
    // from the first accepted packet of the leg. With `family` non-zero the
    // MAC is taken only if the leg's remote is still that address (the id
    // may have been reused since the address was asked for). False when
    // nothing was set.
    bool set_next_hop(uint64_t id, Side side, const uint8_t mac[6], uint8_t family = 0,
                      const uint8_t addr[16] = nullptr);

    // DTLS-SRTP keys negotiated by the slow path for a leg's association
    // `serial` (RFC 5764 4.2: ours protect what we send, the peer's check
    // what arrives): keys the leg's reserved contexts and starts relaying.
    // False (nothing changes) when the session, leg or serial is gone (an
    // update or delete overtook the handshake) or the keys do not fit the
    // suite.
    bool install_dtls_keys(uint64_t id, Side side, uint32_t serial, srtp::Suite suite,
                           std::span<const uint8_t> rx_key, std::span<const uint8_t> rx_salt,
                           std::span<const uint8_t> tx_key, std::span<const uint8_t> tx_salt);
    // The association ended (close_notify, fatal alert): the leg's keys are
    // wiped and its media dropped until a new association. False when the
    // serial is not the leg's.
    bool withdraw_dtls_keys(uint64_t id, Side side, uint32_t serial);

    // A live session whose access leg awaits the browser's answer.
    bool awaits_answer(uint64_t id) const {
        const uint32_t slot = slot_of(id);
        return slot != kNoSlot && sessions_[slot].awaiting_answer;
    }

    // The slot of a live session id, or kNoSlot.
    static constexpr uint32_t kNoSlot = UINT32_MAX;
    uint32_t slot_of(uint64_t id) const;
    Session& at(uint32_t slot) { return sessions_[slot]; }
    const Session& at(uint32_t slot) const { return sessions_[slot]; }
    uint32_t capacity() const { return limits_.max_sessions; }
    uint32_t police_burst_ms() const { return limits_.police_burst_ms; }
    static constexpr uint32_t kNoGroup = UINT32_MAX;
    BundleGroup& group(uint32_t g) { return groups_[g]; }
    const BundleGroup& group(uint32_t g) const { return groups_[g]; }
    // BUNDLE groups in use, and how many the table holds (max_sessions / 2:
    // a group has two m= lines or more, or the control plane sends none).
    uint32_t groups_in_use() const {
        return groups_capacity() - static_cast<uint32_t>(free_groups_.size());
    }
    uint32_t groups_capacity() const { return static_cast<uint32_t>(groups_.size()); }
    // The leg a session's `side` sends on: its own, or a bundled m= line's
    // transport's access leg; nullptr when that transport is gone.
    const Leg* sending_leg(const Session& s, Side side) const {
        const Leg& l = s.leg[static_cast<std::size_t>(side)];
        if (l.bundle != kBundleMember) return &l;
        const uint32_t t = groups_[s.bundle_group].transport;
        return t == BundleGroup::kNoSlot ? nullptr : &sessions_[t].leg[0];
    }
    uint32_t size() const { return live_; }
    const flow::FlowTable& flows() const { return flows_; }
    template <class F>
    void for_each(F&& f) const {
        for (uint32_t s = 0; s < limits_.max_sessions; ++s)
            if (sessions_[s].id != 0) f(sessions_[s]);
    }

    // Memory this table holds, for docs/performance.md and the startup log.
    std::size_t memory_bytes() const;

  private:
    struct LegPlan;
    bool plan_leg(const dpif::LegSpec& spec, Side side, LegPlan& plan, std::string& detail) const;
    // Both legs of a create/update: a data channel's session (access
    // DtlsSctp) has no core leg.
    bool plan_legs(const dpif::Command& cmd, LegPlan (&plans)[2], std::string& detail) const;
    static bool no_core_leg(const dpif::Command& cmd, const char* why, LegPlan (&plans)[2],
                            std::string& detail);
    static bool check_security(const Leg& leg, const dpif::LegSpec& spec, LegPlan& plan,
                               const std::string& where, std::string& detail);
    bool endpoints_free(const LegPlan (&plans)[2], uint32_t own_slot, std::string& detail) const;
    void install(uint32_t slot, const LegPlan (&plans)[2], bool keep_rx[2], bool keep_tx[2]);
    void uninstall_flows(uint32_t slot);
    // The policers of both legs from cmd.police_kbps (validated by
    // plan_legs) and the table's burst allowance.
    void set_policing(Session& s, const dpif::Command& cmd) const;
    // BUNDLE: what a create/update's BundleSpec asks (checked against the
    // table, nothing changed), then applied after the legs are in place.
    struct BundlePlan {
        uint8_t role = kBundleNone;
        uint32_t group = kNoGroup;  // member: the transport's group
    };
    dpif::ResultCode plan_bundle(const dpif::Command& cmd, uint32_t own_slot, BundlePlan& plan,
                                 std::string& detail) const;
    // Takes the session out of its group (a transport leaves its members
    // without one: they drop what they would send the browser).
    void detach_bundle(uint32_t slot);
    void attach_bundle(uint32_t slot, const BundlePlan& plan, const dpif::BundleSpec& spec);
    srtp::Context* take_context();
    void give_context(srtp::Context*& c);

    static flow::FlowKey id_key(uint64_t id);
    uint32_t next_serial() {
        const uint32_t s = next_dtls_serial_++;
        if (next_dtls_serial_ == 0) next_dtls_serial_ = 1;  // 0 means "no DTLS"
        return s;
    }

    srtp::Engine& engine_;
    TableLimits limits_;
    dataplane::HugeArray<Session> sessions_;
    dataplane::HugeArray<srtp::Context> contexts_;
    std::vector<uint32_t> free_slots_;     // stack, reserved at construction
    std::vector<uint32_t> free_contexts_;  // stack, reserved at construction
    flow::FlowTable flows_;                // local endpoint -> FlowRef
    flow::FlowTable ids_;                  // session id -> slot
    std::vector<BundleGroup> groups_;      // BUNDLE groups, allocated at construction
    std::vector<uint32_t> free_groups_;    // stack
    uint32_t live_ = 0;
    uint32_t next_dtls_serial_ = 1;
};

template <class F>
std::size_t SessionTable::remove_older(uint64_t generation, F&& on_removed) {
    std::size_t n = 0;
    for (uint32_t s = 0; s < limits_.max_sessions; ++s) {
        Session& ss = sessions_[s];
        if (ss.id == 0 || ss.generation >= generation) continue;
        on_removed(static_cast<const Session&>(ss));
        remove(ss.id);
        ++n;
    }
    return n;
}

// Converts between the dpif wire form and the table's.
Endpoint to_endpoint(const dpif::IpEndpoint& e);
dpif::IpEndpoint to_ip_endpoint(const Endpoint& e);
flow::FlowKey flow_key(const Endpoint& e);

}  // namespace isthmus::session
