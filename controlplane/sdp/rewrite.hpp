// The IMS-ALG's SDP rewrite (TS 24.371 7.4, issue 7): WebRTC descriptions
// into IMS ones and back, as pure functions of the offer/answer exchange and
// the resources the caller allocated. No I/O, no clock, no randomness: ports,
// ICE credentials, the dataplane's fingerprint, SDES keys and the o= line come
// in as parameters, so the same inputs always give the same bytes.
//
// Four functions, one per step of the two call directions:
//
//   browser calls out (the browser offers)        IMS calls in (the IMS offers)
//   1 webrtc_offer_to_ims   -> IMS offer          3 ims_offer_to_webrtc   -> WebRTC offer
//   2 ims_answer_to_webrtc  -> WebRTC answer      4 webrtc_answer_to_ims  -> IMS answer
//
// Each returns a RewriteResult: the description to send on, and a MediaPlan
// per m= line (same index) saying what the dataplane session of that m= line
// needs (dpif::LegSpec): the browser's ICE credentials and certificate
// fingerprint, our DTLS role, the BUNDLE transport, the IMS's address and
// ports, RTCP multiplexing, SDES keys. An answer step reads the whole exchange
// (the offer as it came, the offer we sent for it, the answer) and its plan is
// complete; an offer step's plan holds what is known before the answer.
// Re-offers (hold, resume, video added) go through the same functions: the
// caller passes resources for every m= line, the ports of the streams that
// continue unchanged and new ones for added m= lines.
//
// Example (the browser calls; errors end the call with 488, MissingResource
// with 500):
//
//   ImsSide ims{.origin = {"-", "8031", "1", "IN", "IP4", "198.51.100.10"},
//               .address = {"IN", "IP4", "198.51.100.10"},
//               .media = {{.port = 30000}, {.port = 30002}, {.port = 0}}};
//   RewriteResult o = webrtc_offer_to_ims(browser_offer, ims);
//   if (!o.ok()) return reject(488, o.reason);
//   send_to_ims(serialize(o.description));       // RTP/AVP, one port pair per m=
//   ...                                          // the IMS answers
//   WebRtcSide web{.origin = {...}, .address = {"IN", "IP4", "203.0.113.50"},
//                  .ice = {"gw01", "0123456789abcdefghijkl"},
//                  .fingerprint = {"sha-256", dataplane_fingerprint_hex},
//                  .ports = {40000, 40002, 40004}};
//   RewriteResult a = ims_answer_to_webrtc(browser_offer, o.description, ims_answer, web);
//   for (const MediaPlan& m : a.media) if (m.active) program_dataplane(m);
//   send_to_browser(serialize(a.description));   // ice-lite, candidate, BUNDLE
//
// What goes toward the IMS (steps 1 and 4):
//  - proto RTP/AVP, or RTP/SAVP with a=crypto lines made of the caller's
//    keys when ImsSide::srtp (step 1); in an answer (step 4) the IMS offer's
//    proto, AVPF and SAVP included (RFC 3264 6: the answer keeps the proto).
//  - c= at the session level from ImsSide::address; each m= line in use its
//    own port (TS 23.228 Annex U: no BUNDLE into the IMS), a=rtcp:<port+1>
//    unless RTCP is muxed (ImsSide::rtcp_mux and the IMS agrees, RFC 5761).
//  - removed: ICE (candidate, ice-ufrag, ice-pwd, ice-options, ice-lite,
//    end-of-candidates, ...), DTLS (fingerprint, setup, tls-id), BUNDLE and
//    mids (group, mid, bundle-only: the plan keeps the browser's mids, and
//    the answer back reuses them), rtcp-mux (unless kept), rtcp-rsize,
//    rtcp-fb (kept only when the IMS offered AVPF), and what only a WebRTC
//    peer reads: msid, msid-semantic, ssrc, ssrc-group, rid, simulcast,
//    extmap-allow-mixed, identity, the SCTP attributes. a=ssrc and
//    a=ssrc-group go too: the SSRCs in the packets pass unchanged, but the
//    lines carry msid/cname semantics (RFC 8830) and RTX groups (FID) that
//    only AVPF NACK would use; an IMS UE learns SSRCs from the packets.
//  - a=extmap: registered header extensions stay (urn:ietf:params:rtp-hdrext:
//    and urn:3gpp:, e.g. audio level, toffset, the ViLTE video orientation of
//    TS 26.114; RFC 8285 works in any RTP profile), except sdes:mid,
//    rtp-stream-id and repaired-rtp-stream-id (BUNDLE and simulcast, gone);
//    the webrtc.org and draft extensions (abs-send-time, transport-wide-cc,
//    playout-delay, ...) go with the feedback that uses them.
//  - kept as they came: payload types and codecs (rtpmap, fmtp, every format
//    of the m= line, rtx/red/ulpfec included: the IMS answer picks), ptime,
//    direction attributes, b= lines, preconditions (curr, des, conf), and
//    every attribute not named here.
//  - a data channel (m=application UDP/DTLS/SCTP webrtc-datachannel) whose
//    a=dcmap names subprotocol "MSRP" (RFC 8864, RFC 8873), when the caller
//    gave its m= line an MSRP session-id (CoreMedia::msrp_session_id), goes
//    to the IMS as `m=message <port> TCP/MSRP *` with our a=path
//    (msrp://<core address>:<port>/<session-id>;tcp, msrp/spec.hpp),
//    a=setup:actpass (RFC 6135) and the browser's MSRP attributes (its
//    a=dcsa lines: accept-types, accept-wrapped-types, max-size; not its
//    path, setup or file-*); step 2 answers the browser with our
//    ;dc URI in a=dcsa:<stream> path. Any other data channel is rejected
//    toward the IMS: port 0, no attributes, so the m= line count stays the
//    browser's. An m= line the browser rejected stays rejected.
//
// What goes toward the browser (steps 2 and 3):
//  - proto UDP/TLS/RTP/SAVPF (step 2: the browser offer's), a=ice-lite at the
//    session level, per m= line a=mid, a=ice-ufrag/a=ice-pwd (WebRtcSide::ice),
//    a=fingerprint (WebRtcSide::fingerprint), a=setup, a=rtcp-mux, and one
//    host candidate (WebRtcSide::address, the m= line's port) followed by
//    a=end-of-candidates (RFC 8840: an ice-lite gateway has nothing to trickle).
//  - BUNDLE. Step 2, when the browser offered it: the group lists the m=
//    lines the IMS accepted in the offer's order, all of them on the first
//    one's port, whose m= line alone carries the candidate (RFC 8843 7.3);
//    the others repeat the ICE and DTLS attributes (identical values, as
//    browsers write them). Step 3: a group of every m= line in use, with our
//    own mids ("0", "1", ...), each on its own port (RFC 8843 7.2: unique
//    addresses in an initial offer); in a re-offer after BUNDLE was accepted
//    the caller passes the BUNDLE port for all of them (RFC 8843 7.5).
//  - codecs: those of the IMS description (step 2: only what the IMS
//    answered), rtpmap/fmtp/rtcp-fb/ptime/extmap/b= and direction as it wrote
//    them; a session-level direction is copied into each m= line (browsers
//    read the media level). The IMS's a=crypto never reaches the browser; its
//    keys go into the plan.
//  - a bridged MSRP chat (step 2): the browser's m=application line answered
//    on its own transport (never in a BUNDLE group: the dataplane's data
//    channel session has its own port), without a=rtcp-mux, with
//    a=sctp-port:5000, our a=max-message-size (WebRtcSide), the browser's
//    a=dcmap, a=dcsa:<stream> path: our msrp://<access address>:<port>/
//    <session-id>;dc and the IMS side's accept-types etc. as a=dcsa lines;
//    the plan's MsrpPlan has our TCP role (the IMS answer's a=setup active:
//    we listen; passive or none: we connect to its c= and port).
//  - a chat the IMS offers (step 3: m=message TCP/MSRP with an a=path, and
//    WebRtcSide::msrp_session_ids names it): a data channel toward the
//    browser (beside audio/video: in their BUNDLE group, bundle-only when
//    new; alone or already on a transport of its own: on its own
//    transport), its stream negotiated in SDP (a=dcmap
//    <2 * index + 2> label="msrp";subprotocol="MSRP", RFC 8864; no DCEP),
//    our ;dc URI as a=dcsa path and the UE's accept-types; we take the TCP
//    role the UE leaves us (its a=setup active or actpass or none, RFC 4975
//    and 6135: it connects, we listen; passive: we connect). Step 4 answers
//    the IMS with m=message on our core port, our ;tcp a=path and a=setup.
//  - m= lines the IMS rejected (port 0) or that a browser cannot take (not
//    audio or video over RTP: T.38, MSRP, ...) are rejected toward the
//    browser (port 0, only a=mid), out of the BUNDLE group, and stay rejected
//    in the answer back (step 4).
//
// DTLS roles (RFC 5763 5, RFC 8842 5): when the browser offers actpass we
// answer a=setup:passive and the dataplane is the DTLS server. RFC 5763
// recommends active so the handshake may overlap the answer, but the browser
// cannot reach an ice-lite gateway before it has our candidate, which only
// the answer carries, so nothing is gained; as server, the dataplane needs no
// remote address and starts no retransmission timer before the browser's
// ClientHello arrives. WebRtcSide::dtls_role keeps the role of a DTLS
// association already up when the browser re-offers actpass (RFC 8842 5).
// A browser offering active (passive) makes us passive (active); a=setup
// absent means active in an offer and passive in an answer (RFC 4145 4). We
// offer actpass (step 3) and the browser's answer decides (step 4).
//
// SDES toward the IMS (RFC 4568): a=crypto carries the key its writer
// encrypts with, so the plan's `tx` is ours and `rx` the IMS's. Offering
// (step 1) we list ImsSide::Media::keys as tags 1..n; the IMS answer names
// the tag it took. Answering an SAVP offer (step 4) we take the first offered
// line, in the IMS's order, that the dataplane supports (dpif/sdes.hpp: one
// inline key, no MKI, no session parameters; AES_CM_128_HMAC_SHA1_80/32,
// AES_256_CM_HMAC_SHA1_80/32, AEAD_AES_128/256_GCM) and for whose suite the
// caller gave a key, and answer its tag with that key.
//
// The o= line is the caller's (ImsSide::origin / WebRtcSide::origin): one
// session id per dialog and side, and a version the caller increments for
// every description it sends on that side (RFC 3264 8).
//
// Not done here: answering preconditions on the browser's behalf (the lines
// pass through where they are), SIP, and choosing codecs (the peers do).
//
// Thread-safety: pure functions of their arguments; any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isthmus/dpif/messages.hpp"
#include "sdp/attributes.hpp"
#include "sdp/candidate.hpp"
#include "sdp/crypto.hpp"
#include "sdp/description.hpp"

namespace isthmus::sdp {

// --- what the caller allocated ----------------------------------------------

// Resources of one m= line toward the IMS.
struct CoreMedia {
    // Our RTP port on the core (Mb) leg; RTCP uses port + 1 unless muxed.
    // 0: none allocated, allowed only for an m= line that is not in use.
    uint16_t port = 0;
    // SDES keys we send with (dpif SrtpKeys: suite, lengths, key and salt),
    // in our order of preference. Offer (step 1, ImsSide::srtp): one
    // a=crypto line each. Answer to an SAVP offer (step 4): at most one per
    // suite; the first offered suite that has one is taken.
    std::vector<dpif::SrtpKeys> keys;
    // A browser data channel carrying MSRP (issue 9, RFC 8873; step 1): the
    // session-id of our URIs for this m= line (RFC 4975 9: unreserved, "+",
    // "=", "/"; random, made by the caller, at most 16 characters as
    // dpif::MsrpSpec holds). Empty: the data channel is rejected toward the
    // IMS as before. `port` is then our MSRP TCP port (RFC 4975 a=path).
    std::string msrp_session_id;
};

// What a description toward the IMS is made of (steps 1 and 4).
struct ImsSide {
    Origin origin;                 // our o= toward the IMS, version incremented by the caller
    Connection address;            // c=: the core leg's address (IN IP4 / IN IP6)
    bool srtp = false;             // offers: RTP/SAVP with SDES instead of RTP/AVP
    bool rtcp_mux = false;         // offer a=rtcp-mux / accept the IMS's (RFC 5761)
    std::vector<CoreMedia> media;  // by m= line index
    // Take part in the browser's BUNDLE (the same flag as WebRtcSide::bundle
    // for the same call): false treats every m= line as having its own
    // transport, so a bundle-only one (port 0) is rejected toward the IMS.
    bool bundle = true;
};

// What a description toward the browser is made of (steps 2 and 3).
struct WebRtcSide {
    Origin origin;            // our o= toward the browser
    Connection address;       // c= and the host candidate: the access leg's address
    IceCredentials ice;       // our ufrag (4+ ice-chars) and pwd (22+), RFC 8839 5.4
    Fingerprint fingerprint;  // the dataplane certificate's, "sha-256" (RFC 8122)
    // The role of the DTLS association already up, kept when the browser
    // re-offers actpass (RFC 8842 5); nullopt: passive.
    std::optional<SetupRole> dtls_role;
    // Our access port per m= line index (the host candidate). With BUNDLE in
    // an answer only the BUNDLE-tagged m= line's is used. 0: none allocated,
    // allowed only for an m= line that is not in use.
    std::vector<uint16_t> ports;
    // Accept (step 2) and offer (step 3) BUNDLE. false: the answer has no
    // group (RFC 8843 7.3.3: each m= line on its own transport, a
    // bundle-only one rejected) and the offer none, for a dataplane whose
    // sessions cannot share an access port.
    bool bundle = true;
    // An IMS offer's m=message TCP/MSRP line (issue 9; step 3): the
    // session-id of our URIs for it, by m= line index (as
    // CoreMedia::msrp_session_id; step 4 must get the same one there).
    // Empty or missing: the line is rejected toward the browser.
    std::vector<std::string> msrp_session_ids;
    // An IMS offer's chat line whose data channel is in the browser's
    // BUNDLE already (its port in `ports` is the transport's): offered in
    // the group on that port, by m= line index. Missing or false: a new
    // chat (no chat_streams entry) beside audio/video is offered in the
    // group bundle-only; an existing one on its own transport, outside it.
    std::vector<bool> chats_in_bundle;
    // The a=dcmap stream an IMS offer's chat line already has with the
    // browser (a re-offer keeps it: a new one would be a new channel), by m=
    // line index; missing or negative: a new chat (stream 2 x index + 2).
    std::vector<int32_t> chat_streams;
    // Our a=max-message-size on a data channel's m= line (RFC 8841 6): the
    // largest message the dataplane takes from the browser (one MSRP chunk,
    // RFC 8873 6, within the MSRP parser's 64 KiB body limit).
    uint32_t max_message_size = 65536;
};

// --- what the rewrite hands back ----------------------------------------------

// A transport address from SDP: c= (or a=rtcp's address) and a port.
struct TransportAddress {
    Connection connection;
    uint16_t port = 0;
    bool operator==(const TransportAddress&) const = default;
};

// The access (W3, browser) leg of one m= line: dpif LegSpec `access`,
// security DtlsSrtp, local ICE credentials from WebRtcSide::ice.
struct AccessPlan {
    // Our port: the BUNDLE transport's when bundled. 0 while unknown (step 1).
    uint16_t local_port = 0;
    std::optional<IceCredentials> remote_ice;       // the browser's (LegSpec remote_ufrag)
    std::optional<Fingerprint> remote_fingerprint;  // its sha-256 one (bytes(): 32 octets)
    // Our DTLS role: Active (client) or Passive (server). nullopt while we
    // offered actpass and the browser has not answered (step 3).
    std::optional<SetupRole> dtls_role;
    bool rtcp_mux = true;  // always: the rewrite requires it of browsers
    std::string mid;       // the mid toward the browser ("" when none)
    // Bundled: the index of the m= line whose transport (port, ICE, DTLS)
    // this one shares, its own index for the BUNDLE-tagged one. nullopt:
    // its own transport, or not decided yet (step 3).
    std::optional<std::size_t> bundle_transport;
    // The browser's candidates, for logs: the dataplane learns the address
    // from the ICE checks (ice-lite).
    std::vector<Candidate> remote_candidates;
    bool operator==(const AccessPlan&) const = default;
};

// The core (Mb, IMS) leg of one m= line: dpif LegSpec `core`.
struct CorePlan {
    uint16_t local_port = 0;                      // ours; 0 while unknown (step 3)
    uint16_t local_rtcp_port = 0;                 // ours; 0 when muxed or unknown
    std::optional<TransportAddress> remote_rtp;   // the IMS's, once its SDP is known
    std::optional<TransportAddress> remote_rtcp;  // a=rtcp or port + 1; nullopt when muxed
    // Multiplexed RTP and RTCP. In an offer step: offered (step 1) or
    // offered by the IMS (step 3); in an answer step: agreed.
    bool rtcp_mux = false;
    dpif::LegSecurity security = dpif::LegSecurity::Rtp;  // Rtp or Sdes
    std::optional<dpif::SrtpKeys> tx;  // Sdes: our key (we encrypt toward the IMS)
    std::optional<dpif::SrtpKeys> rx;  // Sdes: the IMS's key (we decrypt with it)
    // Step 3: the a=crypto lines the IMS offered, until step 4 picks one.
    std::vector<Crypto> offered_crypto;
};

// A data channel's MSRP chat (issue 9): what dpif::MsrpSpec needs, beside
// the access leg (AccessPlan) of the channel's DTLS transport.
struct MsrpPlan {
    std::string session_id;    // ours (CoreMedia::msrp_session_id)
    uint16_t stream_id = 0;    // the browser's a=dcmap stream
    std::string browser_path;  // a=dcsa:<stream> path: (the browser's MSRP URI)
    std::string ue_path;       // the IMS side's a=path, once its SDP is known
    // Our role on the TCP connection (RFC 6135 a=setup; RFC 4975: the
    // offerer is active when the answer has none); nullopt until answered.
    std::optional<SetupRole> tcp_role;
    uint16_t tcp_port = 0;  // ours: a=path's port, where we listen when passive
    std::optional<TransportAddress> ue_address;  // active: the IMS side's c= and m= port
    uint16_t remote_sctp_port = 5000;            // the browser's a=sctp-port
    uint32_t peer_max_message_size = 65536;      // the browser's a=max-message-size (0: none)
    uint32_t max_message_size = 65536;           // ours (WebRtcSide::max_message_size)
    bool operator==(const MsrpPlan&) const = default;
};

struct MediaPlan {
    std::string media;  // audio, video, application, ...
    // In use on both legs as far as known: false when either side rejected
    // it, or it is a data channel. No dataplane session for it then.
    bool active = false;
    // Of the description written (answers: what was agreed); Inactive when
    // not active.
    Direction direction = Direction::SendRecv;
    std::vector<std::string> formats;  // payload types of the description written
    AccessPlan access;
    CorePlan core;
    // The b=AS (kb/s) each side's description gave this line, its own or
    // its session's (RFC 3556 / RFC 8866 5.8: what that side is willing to
    // receive), 0 for none: the browser's and the IMS's. Answers only (both
    // descriptions known): the P-CSCF's media policing reads them.
    uint32_t access_as_kbps = 0;
    uint32_t core_as_kbps = 0;
    // A data channel carrying MSRP, bridged to the IMS's m=message TCP/MSRP
    // line (no UDP core leg: `core` unused).
    std::optional<MsrpPlan> msrp;
};

// X(Enumerator, "metric_label", "what it means"). A SIP element answers an
// offer it cannot rewrite with 488 (MissingResource: 500, our own fault).
#define ISTHMUS_SDP_REWRITE_ERROR(X)                                                          \
    X(None, "none", "no error")                                                               \
    X(NoMedia, "no_media", "no audio or video m= line the other side can take")               \
    X(UnsupportedProto, "unsupported_proto", "an m= line in use has a proto we cannot relay") \
    X(MissingIceCredentials, "missing_ice_credentials", "no valid a=ice-ufrag / a=ice-pwd")   \
    X(MissingFingerprint, "missing_fingerprint", "no sha-256 a=fingerprint")                  \
    X(BadSetup, "bad_setup", "a=setup unreadable, holdconn, or actpass in an answer")         \
    X(MissingRtcpMux, "missing_rtcp_mux", "a browser m= line in use without a=rtcp-mux")      \
    X(BadBundle, "bad_bundle",                                                                \
      "a BUNDLE group naming an unknown or repeated mid, or bundle-only outside a group")     \
    X(AnswerMismatch, "answer_mismatch",                                                      \
      "the answer's m= lines do not match the offer's (count, media, proto)")                 \
    X(CryptoMismatch, "crypto_mismatch",                                                      \
      "SDES: no offered a=crypto we support, or an answer's not one we offered")              \
    X(BadDescription, "bad_description", "a line we need is missing or malformed (c=)")       \
    X(MissingResource, "missing_resource",                                                    \
      "the caller gave no port, address, key, credentials or fingerprint where needed")

enum class RewriteError : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_SDP_REWRITE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kRewriteErrorCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_SDP_REWRITE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    ;

// The metric label of an error ("missing_fingerprint"), stable for dashboards.
constexpr std::string_view rewrite_error_name(RewriteError e) {
    constexpr std::array<std::string_view, kRewriteErrorCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_SDP_REWRITE_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(e)];
}

struct RewriteResult {
    RewriteError error = RewriteError::None;
    // One line for a log or a Warning header: "m-line 1 (video): no
    // a=fingerprint". Empty when ok().
    std::string reason;
    // ok(): the description for the other side. Otherwise empty.
    SessionDescription description;
    // ok(): one per m= line of `description`, same order. Otherwise empty.
    std::vector<MediaPlan> media;

    bool ok() const { return error == RewriteError::None; }
};

// Step 1: the browser's offer -> our offer to the IMS.
// webrtc_offer: as the browser sent it (JSEP: UDP/TLS/RTP/SAVPF, ICE,
//   DTLS, usually BUNDLE and a data channel).
// ims: our core address, origin, one CoreMedia per m= line (a port for each
//   audio/video line in use; keys when ims.srtp).
// Plan: the browser's transport, our DTLS role (passive for actpass), our
//   core ports; the IMS's address and the SDES keys come with step 2.
// Errors: NoMedia (no m= line, or none with audio/video in use),
//   UnsupportedProto (in use and neither UDP/TLS/RTP/SAVP(F) nor an SCTP data
//   channel), MissingIceCredentials, MissingFingerprint, BadSetup
//   (holdconn), MissingRtcpMux, BadBundle, MissingResource.
RewriteResult webrtc_offer_to_ims(const SessionDescription& webrtc_offer, const ImsSide& ims);

// Step 2: the IMS's answer -> our answer to the browser.
// webrtc_offer: the browser's offer (step 1's input); ims_offer: what step 1
//   produced (our core ports and keys); ims_answer: the IMS's answer to it.
// web: our access address, ports, ICE credentials, fingerprint, origin.
// Plan: complete (both legs, the agreed RTCP mux, SDES rx/tx).
// Errors: AnswerMismatch (m= line count, media or proto differ from the
//   offer), CryptoMismatch, BadDescription (no c= for a line in use),
//   BadBundle, MissingIceCredentials, MissingFingerprint, BadSetup,
//   MissingRtcpMux (the browser's offer, read again), MissingResource.
RewriteResult ims_answer_to_webrtc(const SessionDescription& webrtc_offer,
                                   const SessionDescription& ims_offer,
                                   const SessionDescription& ims_answer, const WebRtcSide& web);

// Step 3: the IMS's offer -> our offer to the browser.
// ims_offer: as the IMS sent it (RTP/AVP, AVPF, SAVP or SAVPF; preconditions).
// web: as in step 2; a port per m= line in use.
// Plan: the IMS's addresses and offered a=crypto lines, our access ports.
// Errors: NoMedia, BadDescription (no c=), CryptoMismatch (SAVP without any
//   a=crypto the dataplane supports), MissingResource.
RewriteResult ims_offer_to_webrtc(const SessionDescription& ims_offer, const WebRtcSide& web);

// Step 4: the browser's answer -> our answer to the IMS.
// ims_offer: the IMS's offer (step 3's input); webrtc_offer: what step 3
//   produced; webrtc_answer: the browser's answer to it.
// ims: our core address, origin, ports, and the keys for an SAVP offer.
// Plan: complete, with our DTLS role from the browser's a=setup.
// Errors: AnswerMismatch, MissingIceCredentials, MissingFingerprint,
//   BadSetup (actpass or holdconn), MissingRtcpMux, BadBundle,
//   CryptoMismatch (no offered suite we have a key for), BadDescription (the
//   IMS offer has no c= for a line in use), MissingResource.
RewriteResult webrtc_answer_to_ims(const SessionDescription& ims_offer,
                                   const SessionDescription& webrtc_offer,
                                   const SessionDescription& webrtc_answer, const ImsSide& ims);

}  // namespace isthmus::sdp
