// Steps 2 and 3 of rewrite.hpp: IMS descriptions into WebRTC ones.
#include <algorithm>
#include <string>
#include <vector>

#include "sdp/grammar.hpp"
#include "sdp/rewrite.hpp"
#include "sdp/rewrite_internal.hpp"

namespace isthmus::sdp {

using namespace rewrite_detail;

namespace {

// An IMS m= line in use, turned into a WebRTC one: our port and transport
// attributes first, then the IMS's codecs and attributes without its own
// transport (c=, a=rtcp, a=crypto, ...).
MediaDescription webrtc_media(const SessionDescription& ims, std::size_t index,
                              std::string_view proto, uint16_t port, std::vector<Line> transport) {
    MediaDescription m = ims.media[index];
    m.m.port = port;
    m.m.port_count.reset();
    m.m.proto = std::string(proto);
    strip_transport(m);
    m.remove('c');
    pin_direction(ims.session, m);
    prepend_attributes(m, transport);
    return m;
}

// A rejected m= line toward the browser keeps its mid (JSEP 5.3.1).
MediaDescription rejected_with_mid(std::string_view media, std::string_view proto,
                                   const std::vector<std::string>& formats, std::string_view id) {
    MediaDescription m = rejected(media, proto, formats);
    if (!id.empty()) m.add_attribute("mid", id);
    return m;
}

// The session level toward the browser: the IMS's, without its transport,
// with our o= and c=, a=ice-lite, and its direction moved to the m= lines.
Section webrtc_session(const Section& ims, const WebRtcSide& web,
                       const std::vector<std::string>& groups) {
    Section s = session_from(ims, web.origin, web.address);
    remove_directions(s);
    s.add_attribute("ice-lite");
    for (const std::string& g : groups)
        s.add_attribute("group", g);
    return s;
}

// Step 2's SDES result (RFC 4568 7.1.3): the IMS answered one of our tags
// with its own key of the same suite.
struct AnsweredKeys {
    dpif::SrtpKeys ours{};
    dpif::SrtpKeys theirs{};
};
std::optional<AnsweredKeys> answered_keys(const MediaDescription& our_offer,
                                          const MediaDescription& answer) {
    const std::vector<Crypto> offered = crypto_lines(our_offer);
    for (const Crypto& a : crypto_lines(answer)) {
        const auto theirs = usable_keys(a);
        if (!theirs) continue;
        for (const Crypto& o : offered) {
            if (o.tag != a.tag || !iequals(o.suite, a.suite)) continue;
            if (const auto ours = usable_keys(o)) return AnsweredKeys{*ours, *theirs};
        }
    }
    return std::nullopt;
}

std::string mid_of(const MediaDescription& m) {
    const auto id = mid(m);
    return id ? std::string(*id) : std::string();
}

// The session-id of our own MSRP URI in the a=path we offered: what
// follows the authority ("msrp://host:port/") up to ";tcp" (a session-id
// may hold '/', RFC 4975 9).
std::string our_session_id(const MediaDescription& our_offer) {
    const auto path = our_offer.attribute("path");
    if (!path || !path->value) return {};
    const std::string_view v = trim_wsp(*path->value);
    const std::size_t scheme = v.find("://");
    if (scheme == std::string_view::npos) return {};
    const std::size_t slash = v.find('/', scheme + 3);
    if (slash == std::string_view::npos) return {};
    const std::string_view rest = v.substr(slash + 1);
    return std::string(rest.substr(0, rest.find(';')));
}

// Step 2 for a bridged MSRP data channel (rewrite_msrp.cpp): the browser's
// m=application line answered with our transport, its a=dcmap, our ;dc URI
// as its a=dcsa path and the IMS side's MSRP attributes as a=dcsa lines.
// `tag`: the audio/video line whose transport it shares in the BUNDLE (its
// port, the browser's ICE and DTLS), nullopt: its own; `candidate`: ours
// goes on it (its own transport, or the first line of the answer's group).
std::optional<MediaDescription> answer_chat(const SessionDescription& webrtc_offer,
                                            const SessionDescription& ims_offer,
                                            const SessionDescription& ims_answer,
                                            const WebRtcSide& web, std::size_t i,
                                            std::optional<std::size_t> tag, bool candidate,
                                            MediaPlan& p, Failure& f) {
    const MediaDescription& bo = webrtc_offer.media[i];
    const std::size_t t = tag.value_or(i);
    const auto port = access_port(web, t, webrtc_offer.media[t], f);
    if (!port) return std::nullopt;
    const auto transport = read_browser_transport(webrtc_offer, i, t, f, /*need_mux=*/false);
    if (!transport) return std::nullopt;
    const auto role = answerer_role(transport->setup, web.dtls_role);
    if (!role) {
        f = {RewriteError::BadSetup, where(i, bo) + ": a=setup:holdconn (RFC 8842 5)"};
        return std::nullopt;
    }
    const auto chat = read_browser_chat(bo, i, f);
    if (!chat) return std::nullopt;
    const auto ue = read_ue_chat(ims_answer, i, f);
    if (!ue) return std::nullopt;
    // RFC 6135 on our actpass; none: RFC 4975's rule, the offerer connects.
    SetupRole tcp = SetupRole::Active;
    if (ue->setup == SetupRole::Active) {
        tcp = SetupRole::Passive;
    } else if (ue->setup && *ue->setup != SetupRole::Passive) {
        f = {RewriteError::BadSetup, where(i, ims_answer.media[i]) +
                                         ": a=setup:" + std::string(to_string(*ue->setup)) +
                                         " in an answer (RFC 6135)"};
        return std::nullopt;
    }
    const std::string sid = our_session_id(ims_offer.media[i]);
    if (sid.empty()) {
        f = {RewriteError::MissingResource, where(i, bo) + ": our offer has no MSRP a=path"};
        return std::nullopt;
    }

    MediaDescription m;
    m.m.media = bo.m.media;
    m.m.port = *port;
    m.m.proto = bo.m.proto;
    m.m.formats = bo.m.formats;
    for (Line& l : webrtc_transport_lines(web, transport->mid, *role,
                                          candidate ? port : std::optional<uint16_t>()))
        if (!l.is_attribute("rtcp-mux")) m.lines.push_back(std::move(l));
    add_chat_lines(m, chat->map, msrp_uri(web.address, *port, sid, "dc"), ue->attributes,
                   web.max_message_size);

    p.active = true;
    p.formats = m.m.formats;
    p.access.local_port = *port;
    p.access.bundle_transport = tag;
    p.access.remote_ice = transport->ice;
    p.access.remote_fingerprint = transport->fingerprint;
    p.access.dtls_role = *role;
    p.access.rtcp_mux = true;
    p.access.remote_candidates = transport->candidates;
    MsrpPlan c;
    c.session_id = sid;
    c.stream_id = chat->map.stream_id;
    c.browser_path = chat->path;
    c.ue_path = ue->path;
    c.tcp_role = tcp;
    c.tcp_port = ims_offer.media[i].m.port;
    if (tcp == SetupRole::Active) c.ue_address = ue->address;
    c.remote_sctp_port = chat->sctp_port;
    c.peer_max_message_size = chat->max_message_size;
    c.max_message_size = web.max_message_size;
    p.msrp = std::move(c);
    return m;
}

// Step 3 for a chat the IMS offers: a data channel toward the browser,
// negotiated in SDP (a=dcmap, no DCEP). `tag`: the audio/video line whose
// transport it is to share in the BUNDLE (its port names our MSRP URI);
// `bundle_only`: offered with port 0 and a=bundle-only (RFC 8843 6: only
// bundled, so that the URI's port is the one its data channel will use);
// nullopt: on a transport of its own.
std::optional<MediaDescription> offer_chat(const SessionDescription& ims_offer,
                                           const WebRtcSide& web, std::size_t i,
                                           std::optional<std::size_t> tag, bool bundle_only,
                                           MediaPlan& p, Failure& f) {
    const MediaDescription& io = ims_offer.media[i];
    const std::size_t t = tag.value_or(i);
    const auto port = access_port(web, t, ims_offer.media[t], f);
    if (!port) return std::nullopt;
    const auto ue = read_ue_chat(ims_offer, i, f);
    if (!ue) return std::nullopt;
    if (ue->setup == SetupRole::HoldConn) {
        f = {RewriteError::BadSetup, where(i, io) + ": a=setup:holdconn"};
        return std::nullopt;
    }
    // RFC 4975: the offerer (the UE) connects; RFC 6135: it may leave it to us.
    const SetupRole tcp = ue->setup == SetupRole::Passive ? SetupRole::Active : SetupRole::Passive;
    const std::string& sid = web.msrp_session_ids[i];
    DcMap map;
    map.stream_id =
        i < web.chat_streams.size() && web.chat_streams[i] >= 0 && web.chat_streams[i] < 65535
            ? static_cast<uint16_t>(web.chat_streams[i])
            : static_cast<uint16_t>(2 * i + 2);
    map.label = "msrp";
    map.subprotocol = "MSRP";

    MediaDescription m;
    m.m.media = "application";
    m.m.port = bundle_only ? 0 : *port;
    m.m.proto = "UDP/DTLS/SCTP";
    m.m.formats = {"webrtc-datachannel"};
    for (Line& l : webrtc_transport_lines(web, p.access.mid, SetupRole::ActPass,
                                          bundle_only ? std::optional<uint16_t>() : port))
        if (!l.is_attribute("rtcp-mux")) m.lines.push_back(std::move(l));
    if (bundle_only) m.add_attribute("bundle-only");
    add_chat_lines(m, map, msrp_uri(web.address, *port, sid, "dc"), ue->attributes,
                   web.max_message_size);

    p.active = true;
    p.formats = m.m.formats;
    p.access.local_port = *port;
    p.access.rtcp_mux = true;
    MsrpPlan c;
    c.session_id = sid;
    c.stream_id = map.stream_id;
    c.ue_path = ue->path;
    c.tcp_role = tcp;
    if (tcp == SetupRole::Active) c.ue_address = ue->address;
    c.max_message_size = web.max_message_size;
    p.msrp = std::move(c);
    return m;
}

}  // namespace

RewriteResult ims_answer_to_webrtc(const SessionDescription& webrtc_offer,
                                   const SessionDescription& ims_offer,
                                   const SessionDescription& ims_answer, const WebRtcSide& web) {
    Failure f;
    const std::size_t n = webrtc_offer.media.size();
    if (ims_offer.media.size() != n || ims_answer.media.size() != n)
        return fail(RewriteError::AnswerMismatch,
                    "the IMS answered " + std::to_string(ims_answer.media.size()) +
                        " m-lines to an offer of " + std::to_string(ims_offer.media.size()) +
                        " (RFC 3264 6)");
    if (!check_webrtc_side(web, f)) return fail(f);
    auto bundle = read_bundle(webrtc_offer, f);
    if (!bundle) return fail(f);
    if (!web.bundle) decline_bundle(*bundle);

    std::vector<bool> accepted(n);
    std::vector<bool> chat(n);  // a bridged MSRP data channel the IMS accepted
    for (std::size_t i = 0; i < n; ++i) {
        const MediaDescription& io = ims_offer.media[i];
        const MediaDescription& ia = ims_answer.media[i];
        if (!iequals(ia.m.media, io.m.media))
            return fail(RewriteError::AnswerMismatch,
                        where(i, ia) + ": answers an offered " + io.m.media + " m-line");
        accepted[i] = in_use(webrtc_offer, *bundle, i) &&
                      is_webrtc_rtp_proto(webrtc_offer.media[i].m.proto) && io.m.port != 0 &&
                      ia.m.port != 0;
        chat[i] = in_use(webrtc_offer, *bundle, i) && is_msrp_chat_line(webrtc_offer.media[i]) &&
                  iequals(io.m.proto, "TCP/MSRP") && io.m.port != 0 && ia.m.port != 0;
        if (accepted[i] && !iequals(ia.m.proto, io.m.proto))
            return fail(RewriteError::AnswerMismatch,
                        where(i, ia) + ": proto " + ia.m.proto + " answers " + io.m.proto);
    }

    // Each offered group keeps the m= lines the IMS accepted (and its
    // bridged chat: the data channel shares the transport's DTLS), in the
    // offer's order, if one of them is audio or video: the first of those
    // (tag_of) is the dataplane's transport and lends its port to the
    // others; the first line listed is the answerer-tagged one (RFC 8843
    // 7.3.1) and carries our candidate.
    std::vector<std::optional<std::size_t>> tag_of(n);
    std::vector<bool> candidate(n, true);
    std::vector<std::string> groups;
    for (const std::vector<std::size_t>& members : bundle->groups) {
        std::optional<std::size_t> tag;
        for (std::size_t m : members) {
            if (accepted[m]) {
                tag = m;
                break;
            }
        }
        if (!tag) continue;
        std::string g = "BUNDLE";
        for (std::size_t m : members) {
            if (!accepted[m] && !chat[m]) continue;
            candidate[m] = g == "BUNDLE";
            tag_of[m] = tag;
            g += ' ' + mid_of(webrtc_offer.media[m]);
        }
        groups.push_back(std::move(g));
    }

    RewriteResult r;
    r.description.session = webrtc_session(ims_answer.session, web, groups);
    for (std::size_t i = 0; i < n; ++i) {
        const MediaDescription& bo = webrtc_offer.media[i];
        const MediaDescription& io = ims_offer.media[i];
        const MediaDescription& ia = ims_answer.media[i];
        MediaPlan p;
        p.media = bo.m.media;
        p.access.mid = mid_of(bo);
        if (chat[i]) {
            auto m = answer_chat(webrtc_offer, ims_offer, ims_answer, web, i, tag_of[i],
                                 candidate[i], p, f);
            if (!m) return fail(f);
            r.description.media.push_back(std::move(*m));
            r.media.push_back(std::move(p));
            continue;
        }
        if (!accepted[i]) {
            r.description.media.push_back(
                rejected_with_mid(bo.m.media, bo.m.proto, bo.m.formats, p.access.mid));
            p.formats = bo.m.formats;
            p.direction = Direction::Inactive;
            r.media.push_back(std::move(p));
            continue;
        }
        const std::size_t tag = tag_of[i].value_or(i);
        const auto port = access_port(web, tag, webrtc_offer.media[tag], f);
        if (!port) return fail(f);
        const auto transport = read_browser_transport(webrtc_offer, i, tag, f);
        if (!transport) return fail(f);
        const auto role = answerer_role(transport->setup, web.dtls_role);
        if (!role)
            return fail(RewriteError::BadSetup,
                        where(i, bo) + ": a=setup:holdconn (RFC 8842 5: not for DTLS)");
        const bool mux = io.has_attribute("rtcp-mux") && ia.has_attribute("rtcp-mux");
        auto core = read_ims_addresses(ims_answer, i, mux, f);
        if (!core) return fail(f);
        core->security = dpif::LegSecurity::Rtp;
        if (is_savp(io.m.proto)) {
            const auto keys = answered_keys(io, ia);
            if (!keys)
                return fail(RewriteError::CryptoMismatch,
                            where(i, ia) +
                                ": no a=crypto answering one of our tags and suites "
                                "with one inline key, no MKI, no session parameters");
            core->security = dpif::LegSecurity::Sdes;
            core->tx = keys->ours;
            core->rx = keys->theirs;
        }

        const std::optional<uint16_t> candidate_port =
            candidate[i] ? port : std::optional<uint16_t>();
        MediaDescription m =
            webrtc_media(ims_answer, i, bo.m.proto, *port,
                         webrtc_transport_lines(web, transport->mid, *role, candidate_port));

        p.active = true;
        p.direction = effective_direction(ims_answer.session, ia);
        p.formats = m.m.formats;
        p.access.local_port = *port;
        p.access.remote_ice = transport->ice;
        p.access.remote_fingerprint = transport->fingerprint;
        p.access.dtls_role = *role;
        p.access.rtcp_mux = true;
        if (tag_of[i]) p.access.bundle_transport = tag;
        p.access.remote_candidates = transport->candidates;
        p.core = std::move(*core);
        p.core.local_port = io.m.port;
        p.core.local_rtcp_port = mux ? 0 : static_cast<uint16_t>(io.m.port + 1);
        p.access_as_kbps = bandwidth_as_kbps(webrtc_offer, i);
        p.core_as_kbps = bandwidth_as_kbps(ims_answer, i);
        r.description.media.push_back(std::move(m));
        r.media.push_back(std::move(p));
    }
    return r;
}

RewriteResult ims_offer_to_webrtc(const SessionDescription& ims_offer, const WebRtcSide& web) {
    Failure f;
    const std::size_t n = ims_offer.media.size();
    if (n == 0) return fail(RewriteError::NoMedia, "the offer has no m= line");
    if (!check_webrtc_side(web, f)) return fail(f);

    // What a browser can take: audio and video over RTP, not rejected; and
    // chats the caller gave a session-id.
    std::vector<bool> usable(n);
    std::vector<bool> chat(n);
    std::string group = "BUNDLE";
    std::size_t rtp_grouped = 0;
    std::optional<std::size_t> first_rtp;  // the group's transport (and its first mid)
    for (std::size_t i = 0; i < n; ++i) {
        const MediaDescription& io = ims_offer.media[i];
        chat[i] = is_ims_chat_line(io) && i < web.msrp_session_ids.size() &&
                  !web.msrp_session_ids[i].empty();
        usable[i] = io.m.port != 0 && is_ims_rtp_proto(io.m.proto) &&
                    (iequals(io.m.media, "audio") || iequals(io.m.media, "video"));
        if (!usable[i]) continue;
        if (is_savp(io.m.proto)) {
            bool any = false;
            for (const Crypto& c : crypto_lines(io))
                any = any || usable_keys(c).has_value();
            if (!any)
                return fail(RewriteError::CryptoMismatch,
                            where(i, io) + ": " + io.m.proto +
                                " without an a=crypto the dataplane supports (one inline key, "
                                "no MKI, no session parameters)");
        }
        group += ' ' + std::to_string(i);
        ++rtp_grouped;
        if (!first_rtp) first_rtp = i;
    }
    const bool any_chat = std::find(chat.begin(), chat.end(), true) != chat.end();
    if (rtp_grouped == 0 && !any_chat)
        return fail(RewriteError::NoMedia, "no audio or video m-line over RTP in use");
    // Chats join the group after its audio/video lines (the offerer-tagged
    // line is never bundle-only, RFC 8843 6): one already on the bundle's
    // transport on its port, a new one bundle-only; one the browser has on
    // a transport of its own stays there, outside the group.
    std::vector<bool> bundle_only(n, false);
    std::vector<bool> grouped_chat(n, false);
    for (std::size_t i = 0; i < n && web.bundle && first_rtp.has_value(); ++i) {
        if (!chat[i]) continue;
        const bool riding = i < web.chats_in_bundle.size() && web.chats_in_bundle[i];
        const bool fresh = i >= web.chat_streams.size() || web.chat_streams[i] < 0;
        if (!riding && !fresh) continue;
        group += ' ' + std::to_string(i);
        grouped_chat[i] = true;
        bundle_only[i] = !riding;
    }

    RewriteResult r;
    r.description.session =
        webrtc_session(ims_offer.session, web,
                       web.bundle && group != "BUNDLE" ? std::vector<std::string>{group}
                                                       : std::vector<std::string>{});
    for (std::size_t i = 0; i < n; ++i) {
        const MediaDescription& io = ims_offer.media[i];
        MediaPlan p;
        p.media = io.m.media;
        p.access.mid = std::to_string(i);
        if (chat[i]) {
            auto m = offer_chat(ims_offer, web, i, grouped_chat[i] ? first_rtp : std::nullopt,
                                bundle_only[i], p, f);
            if (!m) return fail(f);
            r.description.media.push_back(std::move(*m));
            r.media.push_back(std::move(p));
            continue;
        }
        if (!usable[i]) {
            const std::string_view proto =
                is_ims_rtp_proto(io.m.proto) ? kWebRtcProto : std::string_view(io.m.proto);
            r.description.media.push_back(
                rejected_with_mid(io.m.media, proto, io.m.formats, p.access.mid));
            p.formats = io.m.formats;
            p.direction = Direction::Inactive;
            r.media.push_back(std::move(p));
            continue;
        }
        const auto port = access_port(web, i, io, f);
        if (!port) return fail(f);
        auto core = read_ims_addresses(ims_offer, i, io.has_attribute("rtcp-mux"), f);
        if (!core) return fail(f);
        core->security = is_savp(io.m.proto) ? dpif::LegSecurity::Sdes : dpif::LegSecurity::Rtp;
        core->offered_crypto = crypto_lines(io);

        MediaDescription m =
            webrtc_media(ims_offer, i, kWebRtcProto, *port,
                         webrtc_transport_lines(web, p.access.mid, SetupRole::ActPass, *port));
        p.active = true;
        p.direction = effective_direction(ims_offer.session, io);
        p.formats = m.m.formats;
        p.access.local_port = *port;
        p.access.rtcp_mux = true;
        p.core = std::move(*core);
        r.description.media.push_back(std::move(m));
        r.media.push_back(std::move(p));
    }
    return r;
}

}  // namespace isthmus::sdp
