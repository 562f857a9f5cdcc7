// The configuration of the P-CSCF core (PcscfCore) and what is derived
// from it once: our own URIs on both sides (Via sent-by, Path, the two
// Record-Route entries), the test "is this URI ours?", and the RFC 3263-style
// static choice of the Mw next hop for a URI (no DNS: a table of hosts and
// a default, the I-CSCF/S-CSCF).
//
// W2 is the browsers' side (SIP over WebSocket, RFC 7118): `w2_host` is the
// name the browsers reach. Mw is the IMS side (UDP/TCP): `mw_host` and
// `mw_port` are where the IMS reaches us.
//
// Plain values; LocalUris is immutable after construction: any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pcscf/admission.hpp"
#include "pcscf/flow.hpp"
#include "pcscf/media_alg.hpp"
#include "sip/message.hpp"
#include "sip/parser.hpp"
#include "sip/timers.hpp"
#include "sip/uri.hpp"
#include "token/replay_journal.hpp"
#include "token/token.hpp"

namespace isthmus::pcscf {

// One entry of the static next-hop table: requests whose target URI (the
// first Route after ours, else the Request-URI) has this host (and port, when
// given) go to `peer`.
struct StaticRoute {
    std::string host;
    std::optional<uint16_t> port;
    Peer peer;
};

struct PcscfConfig {
    // W2: the host (and port, 0: none written) of our WebSocket endpoint, as
    // it appears in our Via and W2 Record-Route toward the browsers.
    std::string w2_host = "pcscf.example.net";
    uint16_t w2_port = 443;
    // Mw: our address toward the IMS (Via sent-by, Path, Mw Record-Route)
    // and the transport the IMS reaches us on (Udp or Tcp; Tcp adds
    // ;transport=tcp to our Mw URIs).
    std::string mw_host = "198.18.0.1";
    uint16_t mw_port = 5060;
    Transport mw_transport = Transport::Udp;
    // The IMS next hop for everything the table below does not name: the
    // I-CSCF (REGISTER) / S-CSCF. Udp, Tcp or Tls; port > 0.
    Peer ims_next_hop;
    std::vector<StaticRoute> static_routes;

    // P-Visited-Network-ID (RFC 7315 4.3) and the orig-ioi of
    // P-Charging-Vector (RFC 7315 4.6; a token). Both required.
    std::string visited_network_id = "pcscf.example.net";
    std::string orig_ioi = "pcscf.example.net";

    // HMAC key of the RFC 5626 flow tokens (core_flow_token.hpp), >= 16
    // octets, secret. A random value per deployment; keeping it across
    // restarts lets old tokens be recognised as Stale (430) rather than
    // Invalid (403).
    std::string flow_token_key;

    // Bounds.
    std::size_t max_flows = 20000;          // live W2 flows
    std::size_t max_registrations = 10000;  // (flow, AOR) registrations in all
    std::size_t max_registrations_per_flow = 4;
    // Active SIP transactions, both sides; lingering ones (after their
    // final response) are bounded apart at sip::kLingerPerActive times this.
    std::size_t max_transactions = 20000;
    std::size_t max_pending_actions = 1024;  // transaction layer queue
    sip::ParseLimits parse_limits;
    // Retry-After (seconds) on 503s for exhausted limits (RFC 3261 20.33).
    uint32_t retry_after_s = 10;
    // Rates of out-of-dialog requests from W2, per flow and in all, and the
    // bound on originating INVITEs in setup (admission.hpp; issue 11).
    AdmissionConfig admission;

    // Time.
    sip::TimerConfig timers;
    // Timer C (RFC 3261 16.6 step 11, 16.8): > 3 minutes for a proxy.
    sip::Duration timer_c{181000};
    // A registration whose 200 OK gives no expiry for a contact (no expires
    // parameter, no Expires header) is kept this long.
    std::chrono::seconds default_expires{3600};

    // A.3.2 / A.3.3 (issue 8): a REGISTER may carry a WWSF token,
    // `Authorization: Bearer <token>` (RFC 8898). It is verified with the
    // WWSF's public key (no verifier: such REGISTERs get 403), must name
    // `token_audience` and the REGISTER's AOR, and is single-use; the
    // REGISTER then goes to the IMS marked integrity-protected="auth-done"
    // (TS 24.229), so the S-CSCF does not challenge it.
    std::shared_ptr<const token::TokenVerifier> token_verifier;
    std::string token_audience;
    int64_t token_max_lifetime_s = 3600;
    // Unix time (seconds) for token expiry; required with a verifier (the
    // core reads no clock).
    std::function<int64_t()> unix_time;
    // The used tokens' ids on disk ([pcscf.tokens] replay_file): the ids
    // it read at start are refused as replays, each newly used one is
    // appended. Null: single use per process only.
    std::shared_ptr<token::ReplayJournal> token_journal;

    // The IMS-ALG (media_alg.hpp): SDP rewritten and the dataplane
    // programmed for every call. Disabled: bodies pass unchanged (a
    // signalling-only P-CSCF, for tests of the SIP side alone).
    MediaConfig media;

    // The random numbers: branches, icid-values, To tags, the flow-token
    // epoch. Empty: std::mt19937_64 seeded from std::random_device. Called
    // from the core's thread only.
    std::function<uint64_t()> random;
};

// Which of our two faces a URI names.
enum class Face : uint8_t { None, W2, Mw };

class LocalUris {
  public:
    // Throws std::invalid_argument naming the key for a bad host, port or
    // transport in the configuration.
    explicit LocalUris(const PcscfConfig& c);

    // Via toward the IMS over `transport` (no branch): "SIP/2.0/UDP host:port".
    std::string mw_via(Transport transport) const;
    // Via toward a browser over `transport` (Ws or Wss).
    std::string w2_via(Transport transport) const;
    // Path (RFC 3327, RFC 5626 5.2): "<sip:TOKEN@mw_host:mw_port;lr;ob>".
    std::string path(std::string_view token) const;
    // Record-Route entries (RFC 5658 double Record-Route): the Mw one
    // "<sip:mw_host:mw_port;lr>" and the W2 one naming the flow,
    // "<sip:TOKEN@w2_host:w2_port;transport=ws;lr>".
    std::string mw_record_route() const;
    std::string w2_record_route(std::string_view token) const;

    // The face a SIP URI names: its host is our Mw (W2) host and its port,
    // when written, our Mw (W2) port.
    Face face(const sip::Uri& uri) const;

    // RFC 3263 without DNS: the static route for `target`, else the default.
    const Peer& next_hop(const sip::Uri& target) const;

  private:
    std::string w2_hostport_;
    std::string mw_hostport_;
    std::string mw_uri_params_;  // ";transport=tcp" or ""
    sip::HostMatcher w2_host_;
    uint16_t w2_port_ = 0;
    sip::HostMatcher mw_host_;
    uint16_t mw_port_ = 0;
    Peer default_hop_;
    std::vector<StaticRoute> routes_;
};

// Checks everything LocalUris does not: limits, admission, timers,
// identities, key.
// Throws std::invalid_argument naming the first bad key.
void check_config(const PcscfConfig& c);

}  // namespace isthmus::pcscf
