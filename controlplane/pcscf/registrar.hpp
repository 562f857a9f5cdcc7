// The P-CSCF's registration state (TS 24.229 5.2.2): per W2 flow (one
// browser's WebSocket), the registrations the IMS accepted over it, each
// with what the 200 OK to REGISTER said: the Service-Route (the route set
// of that registration's originating requests, 5.2.6.3), the registered
// public user identities (P-Associated-URI, RFC 7315 4.1; the first is the
// default, 5.2.2.1), and the expiry of each contact the browser bound.
//
// It also keeps the set of live W2 flows: a flow enters when its first
// request is admitted and leaves when the transport reports it closed.
// Terminating requests are delivered only to live flows (RFC 5626 5.3:
// anything else is 430).
//
// Keys: a registration is (flow, AOR) with the AOR the REGISTER's To URI;
// its bindings are the contacts the browser registered over that flow.
// Registration expiry is the latest of its bindings' (a binding that
// expires earlier is pruned at the next update of that registration).
//
// Bounds (RegistrarLimits): live flows, registrations in all, registrations
// per flow, and per registration the bindings, Service-Route entries and
// identities kept (more are dropped and counted, never stored).
//
// Single-threaded: owned by the PcscfCore and touched from its strand only.
// Pointers returned stay valid until the next non-const call.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pcscf/flow.hpp"
#include "sip/headers.hpp"
#include "sip/timers.hpp"
#include "sip/uri.hpp"

namespace isthmus::pcscf {

using sip::TimePoint;

struct RegistrarLimits {
    std::size_t max_flows = 20000;
    std::size_t max_registrations = 10000;
    std::size_t max_registrations_per_flow = 4;
    std::size_t max_bindings = 4;        // contacts per registration
    std::size_t max_service_routes = 8;  // Service-Route entries per registration
    std::size_t max_identities = 16;     // P-Associated-URI entries per registration
};

// One contact the browser registered, and until when.
struct Binding {
    sip::Uri contact;
    TimePoint expires;
};

// A guest identity the WWSF leased from its pool (TS 24.371 A.3.3) and the
// token the registration was made with: when the registration ends, the
// lease goes back (the token proves to the WWSF which lease it was).
struct GuestLeaseRef {
    std::string identity;  // the token's sub, as the WWSF wrote it
    std::string token;
    bool operator==(const GuestLeaseRef&) const = default;
};

struct Registration {
    uint64_t id = 0;  // unique in the registrar's life
    std::string aor;  // to_string() of the REGISTER's To URI
    std::vector<Binding> bindings;
    std::vector<std::string> service_route;  // Service-Route values, in order, as received
    std::vector<sip::NameAddr> identities;   // P-Associated-URI, in order ([0]: default)
    TimePoint expires;                       // max of the bindings'
    // Registered on the strength of a WWSF token (A.3.2/A.3.3): its
    // refreshes on the same flow need none.
    bool web_authenticated = false;
    // A guest's leased identity (A.3.3): handed back when this ends.
    std::optional<GuestLeaseRef> lease;
};

struct FlowState {
    Peer peer;  // where the flow's messages go (transport, flow id, address)
    std::vector<Registration> registrations;
};

// What a 200 OK to REGISTER means for one (flow, AOR): the bindings of the
// browser's contacts that the registrar kept (none: the AOR is no longer
// registered over this flow), and the registration's routes and identities.
struct RegistrationUpdate {
    std::string aor;
    std::vector<Binding> bindings;
    std::vector<std::string> service_route;
    std::vector<sip::NameAddr> identities;
    bool web_authenticated = false;
    std::optional<GuestLeaseRef> lease;
};

// The identity a request from a flow is asserted as (P-Asserted-Identity)
// and the registration it belongs to (whose Service-Route it takes).
struct AssertedIdentity {
    const sip::NameAddr* identity = nullptr;
    const Registration* registration = nullptr;
};

#define ISTHMUS_PCSCF_REGISTRAR_COUNTER(X)                                           \
    X(stored, "registrations created by a 200 OK")                                   \
    X(refreshed, "registrations updated by a 200 OK (re-registration)")              \
    X(removed, "registrations removed by a 200 OK (de-registration)")                \
    X(expired, "registrations whose last binding expired")                           \
    X(released, "registrations released because their flow closed")                  \
    X(refused, "200 OKs not stored: no room (max_registrations, per flow)")          \
    X(truncated, "bindings, Service-Route or identities beyond the limits, dropped") \
    X(flows_refused, "flows not admitted: max_flows live flows")

struct RegistrarStats {
#define ISTHMUS_X(name, doc) uint64_t name = 0;
    ISTHMUS_PCSCF_REGISTRAR_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
};

class Registrar {
  public:
    explicit Registrar(RegistrarLimits limits = {});

    // --- flows -------------------------------------------------------------
    // Makes `peer.flow` live (or refreshes its Peer). False, and nothing
    // changes, when it is not live and max_flows flows are.
    bool admit_flow(const Peer& peer);
    bool alive(uint64_t flow) const { return flows_.count(flow) != 0; }
    const FlowState* flow(uint64_t flow) const;
    // The flow closed: it and its registrations are gone. Returns how many
    // registrations were released.
    std::size_t close_flow(uint64_t flow);

    // --- registrations ------------------------------------------------------
    // The flow has a registration that has not expired at `now`.
    bool registered(uint64_t flow, TimePoint now) const;
    const Registration* find(uint64_t flow, std::string_view aor) const;
    // A new registration for the flow would fit, with `reserved` more
    // already promised to REGISTERs in flight.
    bool has_room(uint64_t flow, std::size_t reserved) const;

    enum class Applied : uint8_t { Stored, Refreshed, Removed, Unchanged, NoRoom, NoFlow };
    // Applies a 200 OK (see RegistrationUpdate). Unchanged: no bindings and
    // nothing registered (a de-registration of nothing). Bindings already
    // expired at `now` are ignored; beyond the limits, entries are dropped.
    Applied apply(uint64_t flow, RegistrationUpdate update, TimePoint now);

    // P-Asserted-Identity for a request from `flow` (TS 24.229 5.2.6.3.1):
    // the first of `preferred` (P-Preferred-Identity URIs) that is one of the
    // flow's registered identities (uri_equivalent), else the default
    // identity of the flow's first registration. Expired registrations do
    // not count. nullopt when the flow has none.
    std::optional<AssertedIdentity> assert_identity(uint64_t flow,
                                                    const std::vector<sip::Uri>& preferred,
                                                    TimePoint now) const;

    // --- time ---------------------------------------------------------------
    // Removes registrations that expired at or before `now`.
    void expire(TimePoint now);
    std::optional<TimePoint> next_expiry() const;

    // --- guest leases (A.3.3) ------------------------------------------------
    // The oldest lease whose registration ended (its flow closed, it was
    // removed by a 200 OK or expired, or a refresh replaced it); nullopt
    // when none. Each ended lease is reported once.
    std::optional<GuestLeaseRef> take_ended_lease();

    std::size_t flows() const { return flows_.size(); }
    std::size_t registrations() const { return registrations_; }
    const RegistrarStats& stats() const { return stats_; }
    const RegistrarLimits& limits() const { return limits_; }

  private:
    void index(const Registration& r, uint64_t flow);
    void unindex(const Registration& r);
    void end_lease(const Registration& r);

    RegistrarLimits limits_;
    std::unordered_map<uint64_t, FlowState> flows_;
    // (expiry, registration id) -> flow, for expire().
    std::set<std::pair<TimePoint, uint64_t>> expiries_;
    std::unordered_map<uint64_t, uint64_t> flow_of_;  // registration id -> flow
    std::size_t registrations_ = 0;
    uint64_t next_id_ = 1;
    std::deque<GuestLeaseRef> ended_leases_;
    RegistrarStats stats_;
};

}  // namespace isthmus::pcscf
