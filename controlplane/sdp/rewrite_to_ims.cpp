// Steps 1 and 4 of rewrite.hpp: WebRTC descriptions into IMS ones.
#include <algorithm>

#include "isthmus/dpif/sdes.hpp"
#include "sdp/grammar.hpp"
#include "sdp/rewrite.hpp"
#include "sdp/rewrite_internal.hpp"

namespace isthmus::sdp {

using namespace rewrite_detail;

namespace {

// A browser m= line in use, turned into an IMS one: our port and RTCP, the
// IMS proto, without the browser's transport and WebRTC-only attributes.
MediaDescription ims_media(const MediaDescription& browser, std::string_view proto, uint16_t port,
                           bool mux) {
    MediaDescription m = browser;
    m.m.port = port;
    m.m.port_count.reset();
    m.m.proto = std::string(proto);
    strip_transport(m);
    strip_webrtc_only(m, is_avpf(proto));
    m.remove('c');
    add_ims_rtcp(m, port, mux);
    return m;
}

// The browser's side of a plan entry.
AccessPlan access_plan(const BrowserTransport& t, SetupRole role) {
    AccessPlan a;
    a.remote_ice = t.ice;
    a.remote_fingerprint = t.fingerprint;
    a.dtls_role = role;
    a.rtcp_mux = t.rtcp_mux;
    a.mid = t.mid;
    a.remote_candidates = t.candidates;
    return a;
}

// The session level toward the IMS: the browser's, without its transport and
// WebRTC-only attributes, with our o= and c=.
Section ims_session(const Section& browser, const ImsSide& ims) {
    Section s = session_from(browser, ims.origin, ims.address);
    strip_webrtc_only(s, false);
    return s;
}

// Step 4's SDES choice (RFC 4568 7.1.2): the first crypto line of the IMS
// offer the dataplane supports and we hold a key for.
struct SdesChoice {
    uint32_t tag = 0;
    dpif::SrtpKeys theirs{};
    dpif::SrtpKeys ours{};
};
std::optional<SdesChoice> choose_crypto(const MediaDescription& offer, const CoreMedia& ours) {
    for (const Crypto& c : crypto_lines(offer)) {
        const auto theirs = usable_keys(c);
        if (!theirs) continue;
        for (const dpif::SrtpKeys& k : ours.keys)
            if (k.suite == theirs->suite && crypto_value(c.tag, k))
                return SdesChoice{c.tag, *theirs, k};
    }
    return std::nullopt;
}

// Step 4 for a chat the IMS offered: the browser's answer to our data
// channel -> m=message TCP/MSRP on our core port, our ;tcp a=path, the TCP
// role step 3 took (from the IMS offer's a=setup, again).
// `tag`: the audio/video line of the answer's BUNDLE whose transport its
// data channel shares (nullopt: its own).
std::optional<MediaDescription> answer_chat(const SessionDescription& ims_offer,
                                            const SessionDescription& webrtc_offer,
                                            const SessionDescription& answer, const ImsSide& ims,
                                            std::size_t i, std::optional<std::size_t> tag,
                                            MediaPlan& p, Failure& f) {
    const MediaDescription& in = answer.media[i];
    const auto transport =
        read_browser_transport(answer, i, tag.value_or(i), f, /*need_mux=*/false);
    if (!transport) return std::nullopt;
    const auto role = offerer_role(transport->setup);
    if (!role) {
        f = {RewriteError::BadSetup, where(i, in) +
                                         ": a=setup:" + std::string(to_string(*transport->setup)) +
                                         " in an answer (RFC 8842 5)"};
        return std::nullopt;
    }
    const auto chat = read_browser_chat(in, i, f);
    if (!chat) return std::nullopt;
    const auto ue = read_ue_chat(ims_offer, i, f);
    if (!ue) return std::nullopt;
    if (i >= ims.media.size() || ims.media[i].port == 0 || ims.media[i].msrp_session_id.empty()) {
        f = {RewriteError::MissingResource, where(i, in) + ": no MSRP port or session-id"};
        return std::nullopt;
    }
    const CoreMedia& res = ims.media[i];
    const SetupRole tcp = ue->setup == SetupRole::Passive ? SetupRole::Active : SetupRole::Passive;
    MediaDescription m = ims_chat_media(
        *chat, res.port, msrp_uri(ims.address, res.port, res.msrp_session_id, "tcp"));
    m.remove_attributes("setup");
    m.add_attribute("setup", tcp == SetupRole::Active ? "active" : "passive");

    p.active = true;
    p.formats = {"*"};
    p.access = access_plan(*transport, *role);
    p.access.rtcp_mux = true;
    p.access.local_port = webrtc_offer.media[tag.value_or(i)].m.port;
    p.access.bundle_transport = tag;
    MsrpPlan c;
    c.session_id = res.msrp_session_id;
    c.stream_id = chat->map.stream_id;
    c.browser_path = chat->path;
    c.ue_path = ue->path;
    c.tcp_role = tcp;
    c.tcp_port = res.port;
    if (tcp == SetupRole::Active) c.ue_address = ue->address;
    c.remote_sctp_port = chat->sctp_port;
    c.peer_max_message_size = chat->max_message_size;
    if (const auto mm = webrtc_offer.media[i].attribute("max-message-size"); mm && mm->value)
        if (const auto v = parse_max_message_size(*mm->value); v && *v <= 0xFFFFFFFFULL)
            c.max_message_size = static_cast<uint32_t>(*v);
    p.msrp = std::move(c);
    return m;
}

// The audio/video m= line in use whose transport the lines of i's BUNDLE
// group share (the group's first such, RFC 8843 7.2): the dataplane's
// transport, even where a chat is listed first. nullopt: no group, or none.
std::optional<std::size_t> rtp_transport_of(const SessionDescription& offer, const Bundle& bundle,
                                            std::size_t i) {
    if (!bundle.group_of[i]) return std::nullopt;
    for (std::size_t member : bundle.groups[*bundle.group_of[i]])
        if (in_use(offer, bundle, member) && !is_data_channel_proto(offer.media[member].m.proto))
            return member;
    return std::nullopt;
}

// The port of the first m= line of the BUNDLE group our offer put line i
// in (the BUNDLE address a bundle-only line shares); 0: in none.
uint16_t offered_bundle_port(const SessionDescription& our_offer, std::size_t i) {
    const auto id = mid(our_offer.media[i]);
    if (!id) return 0;
    for (const Group& g : bundle_groups(our_offer.session)) {
        if (g.mids.empty() || std::find(g.mids.begin(), g.mids.end(), *id) == g.mids.end())
            continue;
        for (const MediaDescription& m : our_offer.media)
            if (const auto first = mid(m); first && *first == g.mids.front()) return m.m.port;
    }
    return 0;
}

}  // namespace

RewriteResult webrtc_offer_to_ims(const SessionDescription& offer, const ImsSide& ims) {
    Failure f;
    if (offer.media.empty()) return fail(RewriteError::NoMedia, "the offer has no m= line");
    if (!check_ims_side(ims, f)) return fail(f);
    auto bundle = read_bundle(offer, f);
    if (!bundle) return fail(f);
    if (!ims.bundle) decline_bundle(*bundle);
    const std::string_view proto = ims.srtp ? "RTP/SAVP" : "RTP/AVP";

    RewriteResult r;
    r.description.session = ims_session(offer.session, ims);
    std::size_t used = 0;
    for (std::size_t i = 0; i < offer.media.size(); ++i) {
        const MediaDescription& in = offer.media[i];
        MediaPlan p;
        p.media = in.m.media;
        const bool rtp = is_webrtc_rtp_proto(in.m.proto);
        if (in_use(offer, *bundle, i) && is_msrp_chat_line(in) && i < ims.media.size() &&
            !ims.media[i].msrp_session_id.empty()) {
            // An MSRP data channel the caller bridges: m=message toward the IMS.
            const auto chat = read_browser_chat(in, i, f);
            if (!chat) return fail(f);
            // In a BUNDLE with audio or video: its data channel shares the
            // transport of the group's first of those (as they do).
            const std::optional<std::size_t> tag = rtp_transport_of(offer, *bundle, i);
            const auto transport =
                read_browser_transport(offer, i, tag.value_or(i), f, /*need_mux=*/false);
            if (!transport) return fail(f);
            const auto role = answerer_role(transport->setup, std::nullopt);
            if (!role)
                return fail(RewriteError::BadSetup,
                            where(i, in) + ": a=setup:holdconn (RFC 8842 5: not for DTLS)");
            const CoreMedia& res = ims.media[i];
            if (res.port == 0)
                return fail(RewriteError::MissingResource, where(i, in) + ": no MSRP port");
            const std::string path = msrp_uri(ims.address, res.port, res.msrp_session_id, "tcp");
            r.description.media.push_back(ims_chat_media(*chat, res.port, path));
            p.active = true;
            p.formats = {"*"};
            p.access = access_plan(*transport, *role);
            p.access.rtcp_mux = true;  // one port
            p.access.bundle_transport = tag;
            MsrpPlan chat_plan;
            chat_plan.session_id = res.msrp_session_id;
            chat_plan.stream_id = chat->map.stream_id;
            chat_plan.browser_path = chat->path;
            chat_plan.tcp_port = res.port;
            chat_plan.remote_sctp_port = chat->sctp_port;
            chat_plan.peer_max_message_size = chat->max_message_size;
            p.msrp = std::move(chat_plan);
            r.media.push_back(std::move(p));
            ++used;
            continue;
        }
        if (!in_use(offer, *bundle, i) || is_data_channel_proto(in.m.proto)) {
            // Rejected by the browser, or a data channel: port 0 toward the
            // IMS. A chat's line (its session-id is still ours) stays the
            // m=message it was toward the IMS (RFC 3264 8: an m= line keeps
            // its media type).
            const bool was_chat = is_data_channel_proto(in.m.proto) && i < ims.media.size() &&
                                  !ims.media[i].msrp_session_id.empty();
            if (was_chat)
                r.description.media.push_back(rejected("message", "TCP/MSRP", {"*"}));
            else
                r.description.media.push_back(
                    rejected(in.m.media, rtp ? proto : std::string_view(in.m.proto), in.m.formats));
            p.formats = in.m.formats;
            p.direction = Direction::Inactive;
            if (const auto id = mid(in)) p.access.mid = std::string(*id);
            r.media.push_back(std::move(p));
            continue;
        }
        if (!rtp)
            return fail(RewriteError::UnsupportedProto,
                        where(i, in) + ": proto " + in.m.proto +
                            " (we relay UDP/TLS/RTP/SAVPF and reject data channels)");
        // A bundled m= line shares its group's first m= line in use (the
        // offerer-tagged one, RFC 8843 7.2).
        const std::size_t tag = rtp_transport_of(offer, *bundle, i).value_or(i);
        const auto transport = read_browser_transport(offer, i, tag, f);
        if (!transport) return fail(f);
        const auto role = answerer_role(transport->setup, std::nullopt);
        if (!role)
            return fail(RewriteError::BadSetup,
                        where(i, in) + ": a=setup:holdconn (RFC 8842 5: not for DTLS)");
        const auto port = core_port(ims, i, in, ims.rtcp_mux, f);
        if (!port) return fail(f);

        MediaDescription m = ims_media(in, proto, *port, ims.rtcp_mux);
        p.core.security = dpif::LegSecurity::Rtp;
        if (ims.srtp) {
            const CoreMedia& res = ims.media[i];
            if (res.keys.empty())
                return fail(RewriteError::MissingResource,
                            where(i, in) + ": no SDES keys for RTP/SAVP");
            for (std::size_t k = 0; k < res.keys.size(); ++k) {
                const auto value = crypto_value(static_cast<uint32_t>(k + 1), res.keys[k]);
                if (!value)
                    return fail(RewriteError::MissingResource,
                                where(i, in) + ": SDES key " + std::to_string(k + 1) +
                                    " names no supported suite or has wrong lengths");
                m.add_attribute("crypto", *value);
            }
            p.core.security = dpif::LegSecurity::Sdes;
        }

        p.active = true;
        p.direction = effective_direction(offer.session, in);
        p.formats = m.m.formats;
        p.access = access_plan(*transport, *role);
        if (bundle->group_of[i]) p.access.bundle_transport = tag;
        p.core.local_port = *port;
        p.core.local_rtcp_port = ims.rtcp_mux ? 0 : static_cast<uint16_t>(*port + 1);
        p.core.rtcp_mux = ims.rtcp_mux;
        r.description.media.push_back(std::move(m));
        r.media.push_back(std::move(p));
        ++used;
    }
    if (used == 0)
        return fail(RewriteError::NoMedia,
                    "no audio or video m-line in use, nor an MSRP data channel the "
                    "gateway bridges (another data channel alone cannot go to the IMS)");
    return r;
}

RewriteResult webrtc_answer_to_ims(const SessionDescription& ims_offer,
                                   const SessionDescription& webrtc_offer,
                                   const SessionDescription& answer, const ImsSide& ims) {
    Failure f;
    if (answer.media.size() != ims_offer.media.size() ||
        webrtc_offer.media.size() != ims_offer.media.size())
        return fail(RewriteError::AnswerMismatch,
                    "the browser answered " + std::to_string(answer.media.size()) +
                        " m-lines to an offer of " + std::to_string(webrtc_offer.media.size()) +
                        " (RFC 3264 6)");
    if (!check_ims_side(ims, f)) return fail(f);
    auto bundle = read_bundle(answer, f);
    if (!bundle) return fail(f);
    if (!ims.bundle) decline_bundle(*bundle);

    RewriteResult r;
    r.description.session = ims_session(answer.session, ims);
    for (std::size_t i = 0; i < answer.media.size(); ++i) {
        const MediaDescription& off = ims_offer.media[i];
        const MediaDescription& ours = webrtc_offer.media[i];
        const MediaDescription& in = answer.media[i];
        if (!iequals(in.m.media, ours.m.media))
            return fail(RewriteError::AnswerMismatch,
                        where(i, in) + ": answers an offered " + ours.m.media + " m-line");
        MediaPlan p;
        p.media = off.m.media;
        // A line we offered bundle-only (a chat beside audio) has port 0 in
        // our offer, and may have it in the answer too where it is bundled
        // (RFC 8843 7.3.1): in the answer's group, it is taken.
        const bool bundle_only = ours.has_attribute("bundle-only");
        const bool offered = ours.m.port != 0 || bundle_only;
        const bool taken = in.m.port != 0 || (bundle->group_of[i] && bundle_only);
        const auto reject = [&] {
            r.description.media.push_back(rejected(off.m.media, off.m.proto, off.m.formats));
            p.formats = off.m.formats;
            p.direction = Direction::Inactive;
            if (const auto id = mid(in)) p.access.mid = std::string(*id);
            r.media.push_back(std::move(p));
        };
        if (!offered || !taken) {
            reject();  // toward the browser (we could not take it) or by it
            continue;
        }
        if (!iequals(in.m.proto, ours.m.proto))
            return fail(RewriteError::AnswerMismatch,
                        where(i, in) + ": proto " + in.m.proto + " answers " + ours.m.proto);
        if (is_ims_chat_line(off) && is_data_channel_proto(ours.m.proto)) {
            std::optional<std::size_t> tag;
            if (bundle->group_of[i]) {
                for (std::size_t member : bundle->groups[*bundle->group_of[i]]) {
                    if (member != i && webrtc_offer.media[member].m.port != 0 &&
                        answer.media[member].m.port != 0 &&
                        !is_data_channel_proto(answer.media[member].m.proto)) {
                        tag = member;
                        break;
                    }
                }
            }
            // Offered bundle-only, its MSRP URI named the port of our
            // group's first line: taken only bundled on a transport there.
            if (bundle_only &&
                (!tag || webrtc_offer.media[*tag].m.port != offered_bundle_port(webrtc_offer, i))) {
                reject();
                continue;
            }
            auto m = answer_chat(ims_offer, webrtc_offer, answer, ims, i, tag, p, f);
            if (!m) return fail(f);
            r.description.media.push_back(std::move(*m));
            r.media.push_back(std::move(p));
            continue;
        }
        // The answerer-tagged m= line: the first of the answer's group (RFC
        // 8843 7.3.1); its port in our offer is the BUNDLE address. A chat
        // listed first shares that port; the dataplane's transport is the
        // group's first audio or video line.
        std::size_t tag = i;
        if (bundle->group_of[i]) {
            for (std::size_t member : bundle->groups[*bundle->group_of[i]]) {
                if (!is_data_channel_proto(answer.media[member].m.proto)) {
                    tag = member;
                    break;
                }
            }
        }
        const auto transport = read_browser_transport(answer, i, tag, f);
        if (!transport) return fail(f);
        const auto role = offerer_role(transport->setup);
        if (!role)
            return fail(RewriteError::BadSetup,
                        where(i, in) + ": a=setup:" + std::string(to_string(*transport->setup)) +
                            " in an answer (RFC 8842 5)");
        const bool mux = ims.rtcp_mux && off.has_attribute("rtcp-mux");
        const auto port = core_port(ims, i, in, mux, f);
        if (!port) return fail(f);
        auto core = read_ims_addresses(ims_offer, i, mux, f);
        if (!core) return fail(f);

        MediaDescription m = ims_media(in, off.m.proto, *port, mux);
        core->security = dpif::LegSecurity::Rtp;
        if (is_savp(off.m.proto)) {
            const auto choice =
                i < ims.media.size() ? choose_crypto(off, ims.media[i]) : std::nullopt;
            if (!choice)
                return fail(RewriteError::CryptoMismatch,
                            where(i, in) +
                                ": no offered a=crypto with a suite we hold a key for "
                                "(one inline key, no MKI, no session parameters)");
            m.add_attribute("crypto", *crypto_value(choice->tag, choice->ours));
            core->security = dpif::LegSecurity::Sdes;
            core->tx = choice->ours;
            core->rx = choice->theirs;
        }

        p.active = true;
        p.direction = effective_direction(answer.session, in);
        p.formats = m.m.formats;
        p.access = access_plan(*transport, *role);
        p.access.local_port = webrtc_offer.media[tag].m.port;
        if (bundle->group_of[i]) p.access.bundle_transport = tag;
        p.core = std::move(*core);
        p.core.local_port = *port;
        p.core.local_rtcp_port = mux ? 0 : static_cast<uint16_t>(*port + 1);
        p.access_as_kbps = bandwidth_as_kbps(answer, i);
        p.core_as_kbps = bandwidth_as_kbps(ims_offer, i);
        r.description.media.push_back(std::move(m));
        r.media.push_back(std::move(p));
    }
    // Every m= line rejected is still an answer (RFC 3264 6); the caller
    // sees no active plan entry.
    return r;
}

}  // namespace isthmus::sdp
