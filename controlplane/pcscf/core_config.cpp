#include "pcscf/core_config.hpp"

#include <stdexcept>

#include "pcscf/core_flow_token.hpp"
#include "sip/grammar.hpp"
#include "sip/host.hpp"

namespace isthmus::pcscf {

namespace {

[[noreturn]] void bad(std::string_view key, std::string_view why) {
    throw std::invalid_argument("pcscf: " + std::string(key) + " " + std::string(why));
}

void check_host(std::string_view key, std::string_view host) {
    if (!sip::classify_host(host)) bad(key, "is not a host name or address");
}

std::string hostport(std::string_view host, uint16_t port) {
    std::string out(host);
    if (port != 0) out += ":" + std::to_string(port);
    return out;
}

bool same_host(const sip::Uri& uri, const sip::HostMatcher& host, uint16_t port) {
    if (!host.matches(uri.host)) return false;
    return !uri.port || port == 0 || *uri.port == port;
}

// Mw: a URI without a port names the default one (RFC 3263: 5060, 5061 for
// sips), so an IMS node on our host but another port is not us (its
// Record-Route <sip:HOST;lr> must stay in the route set).
bool same_mw(const sip::Uri& uri, const sip::HostMatcher& host, uint16_t port) {
    if (!host.matches(uri.host)) return false;
    const uint16_t written =
        uri.port ? *uri.port : (uri.scheme == sip::UriScheme::Sips ? 5061 : 5060);
    return written == port;
}

}  // namespace

LocalUris::LocalUris(const PcscfConfig& c)
    : w2_hostport_(hostport(c.w2_host, c.w2_port)),
      mw_hostport_(hostport(c.mw_host, c.mw_port)),
      w2_host_(c.w2_host),
      w2_port_(c.w2_port),
      mw_host_(c.mw_host),
      mw_port_(c.mw_port),
      default_hop_(c.ims_next_hop),
      routes_(c.static_routes) {
    check_host("w2_host", c.w2_host);
    check_host("mw_host", c.mw_host);
    if (c.mw_port == 0) bad("mw_port", "must be > 0");
    if (c.mw_transport != Transport::Udp && c.mw_transport != Transport::Tcp) {
        bad("mw_transport", "must be UDP or TCP");
    }
    mw_uri_params_ = c.mw_transport == Transport::Tcp ? ";transport=tcp" : "";
    auto check_hop = [](std::string_view key, const Peer& p) {
        if (p.transport != Transport::Udp && p.transport != Transport::Tcp &&
            p.transport != Transport::Tls) {
            bad(key, "transport must be UDP, TCP or TLS");
        }
        if (p.port == 0) bad(key, "port must be > 0");
    };
    check_hop("ims_next_hop", c.ims_next_hop);
    for (const StaticRoute& r : c.static_routes) {
        check_host("static_routes.host", r.host);
        check_hop("static_routes.peer", r.peer);
    }
}

std::string LocalUris::mw_via(Transport transport) const {
    return "SIP/2.0/" + std::string(sip::transport_name(transport)) + " " + mw_hostport_;
}

std::string LocalUris::w2_via(Transport transport) const {
    return "SIP/2.0/" + std::string(sip::transport_name(transport)) + " " + w2_hostport_;
}

std::string LocalUris::path(std::string_view token) const {
    return "<sip:" + std::string(token) + "@" + mw_hostport_ + mw_uri_params_ + ";lr;ob>";
}

std::string LocalUris::mw_record_route() const {
    return "<sip:" + mw_hostport_ + mw_uri_params_ + ";lr>";
}

std::string LocalUris::w2_record_route(std::string_view token) const {
    return "<sip:" + std::string(token) + "@" + w2_hostport_ + ";transport=ws;lr>";
}

Face LocalUris::face(const sip::Uri& uri) const {
    if (!uri.is_sip()) return Face::None;
    if (same_mw(uri, mw_host_, mw_port_)) return Face::Mw;
    if (same_host(uri, w2_host_, w2_port_)) return Face::W2;
    return Face::None;
}

const Peer& LocalUris::next_hop(const sip::Uri& target) const {
    if (target.is_sip() && sip::classify_host(target.host)) {
        for (const StaticRoute& r : routes_) {
            if (!sip::host_equivalent(r.host, target.host)) continue;
            if (r.port && target.port && *r.port != *target.port) continue;
            return r.peer;
        }
    }
    return default_hop_;
}

void check_config(const PcscfConfig& c) {
    if (c.flow_token_key.size() < FlowTokenCodec::kMinKeyBytes) {
        bad("flow_token_key", "must be at least 16 octets");
    }
    if (c.visited_network_id.empty()) bad("visited_network_id", "must not be empty");
    if (!sip::is_token(c.orig_ioi)) bad("orig_ioi", "must be a token (RFC 7315 4.6)");
    if (c.max_flows == 0) bad("max_flows", "must be >= 1");
    if (c.max_registrations == 0) bad("max_registrations", "must be >= 1");
    if (c.max_registrations_per_flow == 0) bad("max_registrations_per_flow", "must be >= 1");
    if (c.max_transactions < 2) bad("max_transactions", "must be >= 2");
    if (c.timer_c.count() <= 0) bad("timer_c", "must be > 0");
    if (c.default_expires.count() <= 0) bad("default_expires", "must be > 0");
    if (c.token_verifier && c.token_audience.empty()) bad("token_audience", "must not be empty");
    if (c.token_verifier && !c.unix_time) bad("unix_time", "must be set with a token verifier");
    if (c.token_max_lifetime_s <= 0) bad("token_max_lifetime_s", "must be > 0");
    check_admission(c.admission);
}

}  // namespace isthmus::pcscf
