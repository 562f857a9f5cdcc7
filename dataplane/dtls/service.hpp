// The slow path's DTLS-SRTP service, sans I/O: every DTLS leg of the
// dataplane's sessions, keyed by (session id, side). Workers tell it of legs
// (open / close), of the path toward the browser (ICE nomination), and hand
// it the DTLS datagrams their relay classified (RFC 7983); it answers with
// datagrams to send on that path, SRTP keys for the owning worker and events
// for the control plane (DtlsUp / DtlsFailed).
//
// Each leg's open carries a serial the worker gave it; datagrams, paths and
// the keys handed back carry it too, so nothing of an association that an
// update replaced reaches the new one (nor its keys the worker).
//
// Flood bounds: an association's SSL object exists only from the first
// datagram (passive) or the path (active) on, and at most
// `max_handshakes` run at once: a ClientHello beyond that is dropped and
// counted (the browser retransmits). Only a leg's ICE-verified remote
// reaches this far (the relay drops DTLS from anywhere else).
//
// Threads: the slow-path lcore only. Allocates (OpenSSL does anyway).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "dtls/association.hpp"
#include "pkt/build.hpp"

namespace isthmus::dtls {

struct LegRef {
    uint64_t session_id = 0;
    uint8_t side = 0;     // session::Side
    uint16_t worker = 0;  // the owning worker
    uint32_t serial = 0;  // the worker's serial of this leg's DTLS (see above)
    bool operator==(const LegRef&) const = default;
};

struct OpenParams {
    LegRef leg;
    uint64_t generation = 0;  // the session's control-plane generation (events)
    Role role = Role::Passive;
    Fingerprint remote{};
    // A data-channel leg (SCTP over DTLS, RFC 8261): its application data
    // is handed out (app_data()); on other legs it is counted and dropped.
    bool app_data = false;
    // The worker relays SRTP on the leg: its keys are delivered (keys()).
    // Required to come up unless app_data (then a handshake without a
    // use_srtp profile comes up too, without keys).
    bool srtp = true;
};

// Application data (an SCTP packet) that arrived on a data-channel leg.
struct AppData {
    LegRef leg;
    std::vector<uint8_t> data;
};

// A datagram to send toward a leg's peer.
struct Outgoing {
    LegRef leg;
    pkt::UdpEgress path;
    std::vector<uint8_t> datagram;
};

// Keys for a worker's leg, or (install false) word that its association
// ended or failed: keys withdrawn, early media no longer held for it.
struct KeyDelivery {
    LegRef leg;
    bool install = false;  // false: the leg's keys are gone (closed, failed)
    KeyMaterial keys;      // install only
};

struct ServiceEvent {
    enum class Kind : uint8_t { Up, Failed };
    Kind kind;
    LegRef leg;
    uint64_t generation;
    std::string detail;  // Up: the profile; Failed: why
};

// X(name) of the service's counters, published by the slow path.
#define ISTHMUS_DTLS_COUNTERS(X)                                                         \
    X(datagrams_in)         /* DTLS datagrams handed in */                               \
    X(datagrams_out)        /* datagrams produced */                                     \
    X(unknown_leg)          /* datagram / path for no open leg or an old serial */       \
    X(handshakes_started)   /* associations made */                                      \
    X(handshakes_up)        /* keys negotiated */                                        \
    X(handshakes_failed)    /* failed before up (mismatch, timeout, alert...) */         \
    X(fingerprint_mismatch) /* of which: the peer's certificate was not the one given */ \
    X(handshake_timeouts)   /* of which: no answer in time */                            \
    X(handshakes_busy)      /* ClientHellos dropped: max_handshakes running */           \
    X(second_handshakes)    /* ClientHellos refused on a leg already up */               \
    X(closed_by_peer)       /* close_notify or fatal alert after up */                   \
    X(app_data)             /* application data records received */                      \
    X(app_data_dropped)     /* of which on a leg that is not a data channel's */         \
    X(app_data_out)         /* application data records sent (SCTP packets) */           \
    X(app_data_refused)     /* records send_app_data could not send */                   \
    X(handshakes_nomem)     /* an association could not be made (memory) */

struct ServiceCounters {
#define ISTHMUS_X(name) uint64_t name = 0;
    ISTHMUS_DTLS_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
};

struct ServiceLimits {
    uint32_t max_handshakes = 4096;                     // associations handshaking at once
    uint64_t handshake_timeout_ns = 30'000'000'000ULL;  // from its first datagram
};

class Service {
  public:
    Service(Context& ctx, ServiceLimits limits = {});

    // A worker created (or an update re-made) a DTLS leg. Replaces whatever
    // the (session, side) had before (closed silently: the worker already
    // forgot its keys).
    void open(const OpenParams& p);
    // The leg is gone (session deleted or the leg no longer DTLS): sends
    // close_notify if it was up.
    void close(const LegRef& leg);
    // The browser's address was nominated (ICE): where to send from now on;
    // an active leg starts its handshake on the first path.
    void set_path(const LegRef& leg, const pkt::UdpEgress& path, uint64_t now_ns);
    // A DTLS datagram that arrived on the leg over `path` (the reply path:
    // our address as source, the sender as destination).
    void on_datagram(const LegRef& leg, const pkt::UdpEgress& path,
                     std::span<const uint8_t> datagram, uint64_t now_ns);
    // Retransmissions and handshake deadlines; call every millisecond or so.
    void poll_timers(uint64_t now_ns);
    // The session moved to another control-plane generation (an update or a
    // resync adopted it) and the association stays: later events carry it.
    void set_generation(const LegRef& leg, uint64_t generation);
    // The association stays and now carries SRTP, application data or both
    // (a data channel joined or left the leg's BUNDLE). SRTP turned on for
    // an association that is up and whose keys were never delivered: they
    // are now (none negotiated: nothing, the worker's leg stays unkeyed and
    // drops its media as not_keyed). Keys once delivered are never
    // delivered again (fresh contexts under the same master key would
    // restart their indexes: keystream reuse) nor withdrawn when SRTP is
    // turned off (the worker keeps its contexts, unused on a leg that
    // relays no RTP, and uses them again when it does). False: no such leg
    // (counted unknown_leg).
    bool set_modes(const LegRef& leg, bool srtp, bool app_data);
    // The leg's association is up (its handshake done, not ended).
    bool is_up(const LegRef& leg) const;

    // Produced by the calls above; the caller sends / delivers and clears.
    std::vector<Outgoing>& outgoing() { return out_; }
    std::vector<KeyDelivery>& keys() { return keys_; }
    std::vector<ServiceEvent>& events() { return events_; }
    std::vector<AppData>& app_data() { return app_in_; }

    // A data-channel leg that is up: one application data record (an SCTP
    // packet) toward its peer (into outgoing()). False when the leg is not
    // there, not up, or has no path yet.
    bool send_app_data(const LegRef& leg, std::span<const uint8_t> data);

    const ServiceCounters& counters() const { return counters_; }
    std::size_t legs() const { return legs_.size(); }
    std::size_t handshaking() const { return handshaking_; }

  private:
    // Legs are found by session id and side; the serial and worker must match too.
    struct Key {
        uint64_t session_id;
        uint8_t side;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const {
            return std::hash<uint64_t>()(k.session_id) * 31U + k.side;
        }
    };
    struct Leg {
        LegRef ref;
        uint64_t generation = 0;
        Role role = Role::Passive;
        Fingerprint remote{};
        bool app_data = false;               // OpenParams::app_data
        bool srtp = true;                    // OpenParams::srtp
        bool keys_delivered = false;         // its keys went to the worker once
        std::unique_ptr<Association> assoc;  // from the first datagram / path on
        bool has_path = false;
        pkt::UdpEgress path{};
        uint64_t started_ns = 0;
        bool up = false;           // Up told (keys delivered)
        bool ended = false;        // Failed / closed told: nothing more happens on it
        bool handshaking = false;  // counted in handshaking_
        bool in_timers = false;    // listed in timers_
    };
    static Key key_of(const LegRef& r) { return Key{r.session_id, r.side}; }
    Leg* find(const LegRef& ref);
    bool begin(Leg& leg, uint64_t now_ns);
    void after(Leg& leg);  // collects output, keys and events of an association call
    void finish(Leg& leg);
    void withdraw(const Leg& leg);  // a KeyDelivery without keys

    Context& ctx_;
    ServiceLimits limits_;
    std::unordered_map<Key, Leg, KeyHash> legs_;
    std::size_t handshaking_ = 0;
    std::vector<Key> timers_;  // legs handshaking (poll_timers walks them)
    std::vector<Outgoing> out_;
    std::vector<KeyDelivery> keys_;
    std::vector<AppData> app_in_;
    std::vector<ServiceEvent> events_;
    ServiceCounters counters_;
};

}  // namespace isthmus::dtls
