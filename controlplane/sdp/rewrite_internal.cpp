#include "sdp/rewrite_internal.hpp"

#include <algorithm>
#include <array>
#include <map>

#include "isthmus/dpif/sdes.hpp"
#include "sdp/grammar.hpp"

namespace isthmus::sdp::rewrite_detail {

namespace {

// RFC 8839 (ICE), RFC 8122/8842/4145 (DTLS, TCP setup), RFC 3605/5761/8858
// (RTCP port and mux), RFC 4568 (SDES), RFC 5888/8843 (grouping, mid).
constexpr std::array<std::string_view, 20> kTransportAttributes = {
    "candidate",
    "remote-candidates",
    "end-of-candidates",
    "ice-ufrag",
    "ice-pwd",
    "ice-options",
    "ice-lite",
    "ice-mismatch",
    "ice-pacing",
    "fingerprint",
    "setup",
    "connection",
    "tls-id",
    "rtcp",
    "rtcp-mux",
    "rtcp-mux-only",
    "crypto",
    "group",
    "mid",
    "bundle-only",
};

// JSEP (RFC 8829) and browser attributes an IMS peer has no use for:
// RFC 5506 reduced-size RTCP, RFC 8830 msid, RFC 5576 ssrc, RFC 8851/8853
// rid and simulcast, RFC 8285 mixed one/two-byte headers, RFC 8841 SCTP,
// RFC 8827 identity.
constexpr std::array<std::string_view, 12> kWebRtcOnlyAttributes = {
    "rtcp-rsize", "msid",    "msid-semantic", "ssrc",     "ssrc-group",       "rid",
    "simulcast",  "sctpmap", "sctp-port",     "identity", "max-message-size", "extmap-allow-mixed",
};

// RFC 8285 header extensions that only make sense with what is removed
// toward the IMS: BUNDLE (RFC 8843 15.2) and simulcast (RFC 8852).
constexpr std::array<std::string_view, 3> kBundleExtensions = {
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
};

template <std::size_t N>
bool named(const Attribute& a, const std::array<std::string_view, N>& names) {
    return std::any_of(names.begin(), names.end(),
                       [&a](std::string_view n) { return iequals(a.name, n); });
}

// a=extmap:<id>[/<direction>] <URI> [<attributes>] (RFC 8285 5): whether
// the extension stays toward the IMS.
bool registered_extension(const Attribute& a) {
    if (!a.value) return false;
    const auto w = split_words(*a.value);
    if (w.size() < 2) return false;
    const std::string_view uri = w[1];
    if (std::find(kBundleExtensions.begin(), kBundleExtensions.end(), uri) !=
        kBundleExtensions.end())
        return false;
    return uri.starts_with("urn:ietf:params:rtp-hdrext:") || uri.starts_with("urn:3gpp:");
}

bool is_direction_line(const Line& l) {
    return l.type == 'a' && parse_direction(l.attribute().name).has_value();
}

// The first a=<name> of the m= line, else of m= line `tag`, else of the session.
std::optional<Attribute> cascade(const SessionDescription& d, std::size_t index, std::size_t tag,
                                 std::string_view name) {
    if (auto a = d.media[index].attribute(name)) return a;
    if (auto a = d.media[tag].attribute(name)) return a;
    return d.session.attribute(name);
}

}  // namespace

RewriteResult fail(Failure f) {
    RewriteResult r;
    r.error = f.error;
    r.reason = std::move(f.reason);
    return r;
}

RewriteResult fail(RewriteError e, std::string reason) {
    return fail(Failure{e, std::move(reason)});
}

std::string where(std::size_t index, const MediaDescription& m) {
    return "m-line " + std::to_string(index) + " (" + m.m.media + ")";
}

bool is_webrtc_rtp_proto(std::string_view proto) {
    return iequals(proto, "UDP/TLS/RTP/SAVPF") || iequals(proto, "UDP/TLS/RTP/SAVP");
}

bool is_data_channel_proto(std::string_view proto) {
    return iequals(proto, "UDP/DTLS/SCTP") || iequals(proto, "TCP/DTLS/SCTP") ||
           iequals(proto, "DTLS/SCTP");
}

bool is_ims_rtp_proto(std::string_view proto) {
    return iequals(proto, "RTP/AVP") || iequals(proto, "RTP/AVPF") || is_savp(proto);
}

bool is_savp(std::string_view proto) {
    return iequals(proto, "RTP/SAVP") || iequals(proto, "RTP/SAVPF");
}

bool is_avpf(std::string_view proto) {
    return proto.size() >= 4 && iequals(proto.substr(proto.size() - 4), "AVPF");
}

void strip_transport(Section& section) {
    section.remove_attributes_if([](const Attribute& a) { return named(a, kTransportAttributes); });
}

void strip_webrtc_only(Section& section, bool keep_feedback) {
    section.remove_attributes_if([keep_feedback](const Attribute& a) {
        if (named(a, kWebRtcOnlyAttributes)) return true;
        if (iequals(a.name, "rtcp-fb")) return !keep_feedback;
        if (iequals(a.name, "extmap")) return !registered_extension(a);
        return false;
    });
}

void pin_direction(const Section& session, MediaDescription& media) {
    if (direction_of(media)) return;
    if (const auto d = direction_of(session)) media.add_attribute(to_string(*d));
}

void remove_directions(Section& section) {
    std::erase_if(section.lines, is_direction_line);
}

void prepend_attributes(Section& section, const std::vector<Line>& lines) {
    const auto first = std::find_if(section.lines.begin(), section.lines.end(),
                                    [](const Line& l) { return l.type == 'a'; });
    if (first == section.lines.end()) {
        for (const Line& l : lines)
            section.add('a', l.value);
        return;
    }
    section.lines.insert(first, lines.begin(), lines.end());
}

MediaDescription rejected(std::string_view media, std::string_view proto,
                          const std::vector<std::string>& formats) {
    MediaDescription m;
    m.m.media = std::string(media);
    m.m.port = 0;
    m.m.proto = std::string(proto);
    m.m.formats = formats;
    return m;
}

Section session_from(const Section& from, const Origin& origin, const Connection& address) {
    Section s = from;
    strip_transport(s);
    s.set('o', to_string(origin));
    set_connection(s, address);
    return s;
}

std::optional<Bundle> read_bundle(const SessionDescription& d, Failure& f) {
    Bundle b;
    b.group_of.resize(d.media.size());
    std::map<std::string, std::size_t, std::less<>> index_of;
    for (std::size_t i = 0; i < d.media.size(); ++i) {
        const auto m = mid(d.media[i]);
        if (!m) continue;
        if (!index_of.emplace(std::string(*m), i).second) {
            f = {RewriteError::BadBundle, where(i, d.media[i]) + ": a=mid:" + std::string(*m) +
                                              " repeats an earlier m-line's (RFC 5888 4)"};
            return std::nullopt;
        }
    }
    for (const Group& g : bundle_groups(d.session)) {
        std::vector<std::size_t> members;
        for (const std::string& m : g.mids) {
            const auto at = index_of.find(m);
            if (at == index_of.end()) {
                f = {RewriteError::BadBundle,
                     "a=group:BUNDLE names mid " + m + ", which no m-line has"};
                return std::nullopt;
            }
            if (b.group_of[at->second]) {
                f = {RewriteError::BadBundle, "mid " + m + " is in two BUNDLE groups (RFC 8843 6)"};
                return std::nullopt;
            }
            b.group_of[at->second] = b.groups.size();
            members.push_back(at->second);
        }
        b.groups.push_back(std::move(members));
    }
    for (std::size_t i = 0; i < d.media.size(); ++i) {
        if (d.media[i].has_attribute("bundle-only") && !b.group_of[i]) {
            f = {RewriteError::BadBundle,
                 where(i, d.media[i]) + ": a=bundle-only outside a BUNDLE group (RFC 8843 6)"};
            return std::nullopt;
        }
    }
    return b;
}

void decline_bundle(Bundle& b) {
    b.groups.clear();
    for (std::optional<std::size_t>& g : b.group_of)
        g.reset();
}

bool in_use(const SessionDescription& d, const Bundle& b, std::size_t index) {
    const MediaDescription& m = d.media[index];
    return m.m.port != 0 || (m.has_attribute("bundle-only") && b.group_of[index].has_value());
}

std::optional<BrowserTransport> read_browser_transport(const SessionDescription& d,
                                                       std::size_t index, std::size_t tag,
                                                       Failure& f, bool need_mux) {
    const MediaDescription& m = d.media[index];
    BrowserTransport t;
    const auto ufrag = cascade(d, index, tag, "ice-ufrag");
    const auto pwd = cascade(d, index, tag, "ice-pwd");
    if (!ufrag || !ufrag->value || !valid_ice_ufrag(*ufrag->value) || !pwd || !pwd->value ||
        !valid_ice_pwd(*pwd->value)) {
        f = {RewriteError::MissingIceCredentials,
             where(index, m) + ": no valid a=ice-ufrag / a=ice-pwd (RFC 8839 5.4)"};
        return std::nullopt;
    }
    t.ice = {std::string(*ufrag->value), std::string(*pwd->value)};

    // Every a=fingerprint of the first level that has any (RFC 8122 5).
    std::vector<Attribute> fps = m.attributes("fingerprint");
    if (fps.empty()) fps = d.media[tag].attributes("fingerprint");
    if (fps.empty()) fps = d.session.attributes("fingerprint");
    bool found = false;
    for (const Attribute& a : fps) {
        const auto fp = a.value ? parse_fingerprint(*a.value) : std::nullopt;
        if (fp && iequals(fp->hash_function, "sha-256") && fp->bytes().size() == 32) {
            t.fingerprint = *fp;
            found = true;
            break;
        }
    }
    if (!found) {
        f = {RewriteError::MissingFingerprint,
             where(index, m) +
                 (fps.empty() ? ": no a=fingerprint (RFC 5763 5)"
                              : ": no sha-256 a=fingerprint (RFC 8122 5; browsers send one)")};
        return std::nullopt;
    }

    if (const auto s = cascade(d, index, tag, "setup")) {
        t.setup = s->value ? parse_setup(*s->value) : std::nullopt;
        if (!t.setup) {
            f = {RewriteError::BadSetup,
                 where(index, m) + ": a=setup is not active/passive/actpass/holdconn"};
            return std::nullopt;
        }
    }

    const MediaDescription& cands = m.has_attribute("candidate") ? m : d.media[tag];
    for (const Attribute& a : cands.attributes("candidate"))
        if (auto c = a.value ? parse_candidate(*a.value) : std::nullopt)
            t.candidates.push_back(std::move(*c));

    t.rtcp_mux = m.has_attribute("rtcp-mux") || d.media[tag].has_attribute("rtcp-mux");
    if (!t.rtcp_mux && need_mux) {
        f = {RewriteError::MissingRtcpMux,
             where(index, m) + ": no a=rtcp-mux (RFC 8829: browsers require it by default)"};
        return std::nullopt;
    }
    if (const auto id = mid(m)) t.mid = std::string(*id);
    return t;
}

std::optional<SetupRole> answerer_role(std::optional<SetupRole> offered,
                                       std::optional<SetupRole> keep) {
    if (!offered || *offered == SetupRole::Active) return SetupRole::Passive;
    if (*offered == SetupRole::Passive) return SetupRole::Active;
    if (*offered == SetupRole::HoldConn) return std::nullopt;
    if (keep && (*keep == SetupRole::Active || *keep == SetupRole::Passive)) return keep;
    return SetupRole::Passive;
}

std::optional<SetupRole> offerer_role(std::optional<SetupRole> answered) {
    if (!answered || *answered == SetupRole::Passive) return SetupRole::Active;
    if (*answered == SetupRole::Active) return SetupRole::Passive;
    return std::nullopt;
}

std::vector<Line> webrtc_transport_lines(const WebRtcSide& web, std::string_view mid,
                                         SetupRole setup, std::optional<uint16_t> candidate_port) {
    std::vector<Line> out;
    if (!mid.empty()) out.push_back(Line::make_attribute("mid", mid));
    out.push_back(Line::make_attribute("ice-ufrag", web.ice.ufrag));
    out.push_back(Line::make_attribute("ice-pwd", web.ice.pwd));
    out.push_back(Line::make_attribute("fingerprint", to_string(web.fingerprint)));
    out.push_back(Line::make_attribute("setup", to_string(setup)));
    out.push_back(Line::make_attribute("rtcp-mux", std::nullopt));
    if (candidate_port) {
        // RFC 8445 5.1.2.1: type preference 126 (host), local preference
        // 65535, component 1.
        Candidate c;
        c.foundation = "1";
        c.component = 1;
        c.transport = "udp";
        c.priority = (126U << 24) | (65535U << 8) | (256U - 1U);
        c.address = std::string(web.address.host());
        c.port = *candidate_port;
        c.type = "host";
        out.push_back(Line::make_attribute("candidate", to_string(c)));
        out.push_back(Line::make_attribute("end-of-candidates", std::nullopt));
    }
    return out;
}

bool check_webrtc_side(const WebRtcSide& web, Failure& f) {
    if (web.address.address.empty() || web.address.has_multicast_suffix()) {
        f = {RewriteError::MissingResource, "no access address for the browser side"};
        return false;
    }
    if (!valid_ice_ufrag(web.ice.ufrag) || !valid_ice_pwd(web.ice.pwd)) {
        f = {RewriteError::MissingResource, "our ICE ufrag/pwd are not 4+/22+ ice-chars"};
        return false;
    }
    const auto fp = parse_fingerprint(to_string(web.fingerprint));
    if (!fp || !iequals(fp->hash_function, "sha-256") || fp->bytes().size() != 32) {
        f = {RewriteError::MissingResource, "our fingerprint is not a sha-256 one"};
        return false;
    }
    return true;
}

std::optional<uint16_t> access_port(const WebRtcSide& web, std::size_t index,
                                    const MediaDescription& m, Failure& f) {
    if (index >= web.ports.size() || web.ports[index] == 0) {
        f = {RewriteError::MissingResource, where(index, m) + ": no access port allocated"};
        return std::nullopt;
    }
    return web.ports[index];
}

std::optional<CorePlan> read_ims_addresses(const SessionDescription& d, std::size_t index, bool mux,
                                           Failure& f) {
    const MediaDescription& m = d.media[index];
    const auto c = effective_connection(d.session, m);
    if (!c) {
        f = {RewriteError::BadDescription, where(index, m) + ": no c= line (RFC 8866 5.7)"};
        return std::nullopt;
    }
    CorePlan p;
    p.rtcp_mux = mux;
    Connection host = *c;
    host.address = std::string(c->host());
    p.remote_rtp = TransportAddress{host, m.m.port};
    if (mux) return p;
    const auto rtcp = m.attribute("rtcp");
    if (const auto r = rtcp && rtcp->value ? parse_rtcp(*rtcp->value) : std::nullopt) {
        p.remote_rtcp = TransportAddress{r->address.value_or(host), r->port};
    } else if (m.m.port < 65535) {
        p.remote_rtcp = TransportAddress{host, static_cast<uint16_t>(m.m.port + 1)};
    }
    return p;
}

std::optional<uint16_t> core_port(const ImsSide& ims, std::size_t index, const MediaDescription& m,
                                  bool mux, Failure& f) {
    if (index >= ims.media.size() || ims.media[index].port == 0) {
        f = {RewriteError::MissingResource, where(index, m) + ": no core port allocated"};
        return std::nullopt;
    }
    const uint16_t port = ims.media[index].port;
    if (!mux && port == 65535) {
        f = {RewriteError::MissingResource,
             where(index, m) + ": core port 65535 leaves no RTCP port"};
        return std::nullopt;
    }
    return port;
}

void add_ims_rtcp(MediaDescription& m, uint16_t port, bool mux) {
    if (mux) return m.add_attribute("rtcp-mux");
    m.add_attribute("rtcp", std::to_string(port + 1));
}

bool check_ims_side(const ImsSide& ims, Failure& f) {
    if (ims.address.address.empty() || ims.address.has_multicast_suffix()) {
        f = {RewriteError::MissingResource, "no core address for the IMS side"};
        return false;
    }
    return true;
}

std::optional<dpif::SrtpKeys> usable_keys(const Crypto& c) {
    if (c.keys.size() != 1 || !c.session_params.empty()) return std::nullopt;
    Crypto one = c;
    one.tag = 0;
    // to_string writes "0 SUITE key-params": the text after the tag is what
    // parse_sdes_inline reads.
    const std::string text = to_string(one).substr(2);
    dpif::SrtpKeys keys{};
    std::string why;
    if (!dpif::parse_sdes_inline(text, keys, why)) return std::nullopt;
    return keys;
}

std::vector<Crypto> crypto_lines(const Section& m) {
    std::vector<Crypto> out;
    for (const Attribute& a : m.attributes("crypto"))
        if (auto c = a.value ? parse_crypto(*a.value) : std::nullopt) out.push_back(std::move(*c));
    return out;
}

std::optional<std::string> crypto_value(uint32_t tag, const dpif::SrtpKeys& keys) {
    const std::string text = dpif::format_sdes_inline(keys);
    if (text.empty()) return std::nullopt;
    return std::to_string(tag) + ' ' + text;
}

uint32_t bandwidth_as_kbps(const SessionDescription& d, std::size_t index) {
    const auto as_of = [](const Section& level) {
        uint64_t best = 0;
        for (const std::string_view v : level.values('b')) {
            const auto b = parse_bandwidth(v);
            if (b && iequals(b->type, "AS")) best = std::max(best, b->value);
        }
        return static_cast<uint32_t>(std::min<uint64_t>(best, UINT32_MAX));
    };
    if (index < d.media.size())
        if (const uint32_t m = as_of(d.media[index]); m != 0) return m;
    return as_of(d.session);
}

}  // namespace isthmus::sdp::rewrite_detail
