// The pieces the four rewrite steps share (rewrite.hpp): the attribute lists
// each direction removes, reading the browser's transport and the IMS's
// addresses out of a description, BUNDLE groups, SDES lines, and writing our
// own transport attributes. Internal to the rewrite; not a public API.
//
// Pure functions; thread-safety: any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/rewrite.hpp"

namespace isthmus::sdp::rewrite_detail {

// A rewrite step's failure, turned into a RewriteResult at the end.
struct Failure {
    RewriteError error = RewriteError::None;
    std::string reason;
};
RewriteResult fail(Failure f);
RewriteResult fail(RewriteError e, std::string reason);

// "m-line 1 (video)", the prefix of a reason.
std::string where(std::size_t index, const MediaDescription& m);

// --- protos ---
// UDP/TLS/RTP/SAVPF or UDP/TLS/RTP/SAVP (RFC 5764 8): RTP media from a browser.
bool is_webrtc_rtp_proto(std::string_view proto);
// UDP/DTLS/SCTP, TCP/DTLS/SCTP or DTLS/SCTP (RFC 8841): a data channel.
bool is_data_channel_proto(std::string_view proto);
// RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF: RTP media from the IMS.
bool is_ims_rtp_proto(std::string_view proto);
bool is_savp(std::string_view proto);  // SDES-keyed SRTP: RTP/SAVP or RTP/SAVPF
bool is_avpf(std::string_view proto);  // ends in AVPF (RFC 4585 feedback)
inline constexpr std::string_view kWebRtcProto = "UDP/TLS/RTP/SAVPF";

// --- removing lines ---
// ICE, DTLS, RTCP port/mux, SDES, grouping and mid: the transport of the
// side a description came from, never forwarded (both directions).
void strip_transport(Section& section);
// What only a WebRTC peer reads (rewrite.hpp lists them), at either level;
// a=rtcp-fb too unless `keep_feedback` (the IMS side is AVPF); a=extmap
// other than registered IETF/3GPP ones, and the BUNDLE/simulcast ones.
void strip_webrtc_only(Section& section, bool keep_feedback);
// The direction attributes of the session level copied into a media
// description that has none, for browsers, which read the media level.
void pin_direction(const Section& session, MediaDescription& media);
void remove_directions(Section& section);
// Inserts `lines` before the first a= line of `section` (after c=/b=), or
// appends them as attributes when it has none.
void prepend_attributes(Section& section, const std::vector<Line>& lines);

// An m= line that takes no part: port 0 (RFC 3264 6), no lines of its own.
MediaDescription rejected(std::string_view media, std::string_view proto,
                          const std::vector<std::string>& formats);

// The session level of a description we write: `from`'s lines without the
// transport attributes, our o= and c= (replacing theirs; the media
// levels' c= lines are the caller's to drop).
Section session_from(const Section& from, const Origin& origin, const Connection& address);

// --- BUNDLE (RFC 8843) ---
struct Bundle {
    // Per m= line: the index in `groups` of its BUNDLE group, or nullopt.
    std::vector<std::optional<std::size_t>> group_of;
    // Per group: its m= line indices in the group's mid order.
    std::vector<std::vector<std::size_t>> groups;
};
// The BUNDLE groups of `d`. Failure (BadBundle) for a mid repeated on two m=
// lines, a group naming a mid no m= line has or one already in a group, and
// a=bundle-only on an m= line in no group.
std::optional<Bundle> read_bundle(const SessionDescription& d, Failure& f);
// BUNDLE declined (ImsSide/WebRtcSide::bundle false): the groups forgotten
// after read_bundle checked them, so every m= line has its own transport
// and a bundle-only one (port 0) is not in use.
void decline_bundle(Bundle& b);

// Whether a browser m= line takes part: a port, or bundle-only in a group
// (RFC 8843 6: port 0 there does not reject it).
bool in_use(const SessionDescription& d, const Bundle& b, std::size_t index);

// --- the browser's transport ---
struct BrowserTransport {
    IceCredentials ice;
    Fingerprint fingerprint;         // the sha-256 one
    std::optional<SetupRole> setup;  // nullopt: no a=setup
    std::vector<Candidate> candidates;
    bool rtcp_mux = false;
    std::string mid;
};
// The transport of browser m= line `index`: each attribute from the m= line,
// else from `tag` (its BUNDLE transport's m= line), else the session level
// (RFC 8839 5.4, RFC 8122 5). Failure: MissingIceCredentials,
// MissingFingerprint, BadSetup (unreadable a=setup), MissingRtcpMux.
// `need_mux`: false for a data channel's m= line (no RTP: no a=rtcp-mux).
std::optional<BrowserTransport> read_browser_transport(const SessionDescription& d,
                                                       std::size_t index, std::size_t tag,
                                                       Failure& f, bool need_mux = true);

// Our DTLS role answering a browser offer of `offered` (RFC 4145 4, RFC
// 5763 5, RFC 8842 5); nullopt for holdconn.
std::optional<SetupRole> answerer_role(std::optional<SetupRole> offered,
                                       std::optional<SetupRole> keep);
// Our DTLS role once the browser answered our actpass with `answered`;
// nullopt for actpass or holdconn.
std::optional<SetupRole> offerer_role(std::optional<SetupRole> answered);

// Our transport attributes for one m= line toward the browser: mid, ICE
// credentials, fingerprint, setup, rtcp-mux, and with `candidate_port` the
// host candidate and end-of-candidates.
std::vector<Line> webrtc_transport_lines(const WebRtcSide& web, std::string_view mid,
                                         SetupRole setup, std::optional<uint16_t> candidate_port);
// MissingResource unless `web` has an address, valid ICE credentials and a
// sha-256 fingerprint.
bool check_webrtc_side(const WebRtcSide& web, Failure& f);
// Our access port for m= line `index`; MissingResource when none.
std::optional<uint16_t> access_port(const WebRtcSide& web, std::size_t index,
                                    const MediaDescription& m, Failure& f);

// --- the IMS side ---
// The IMS's RTP and RTCP addresses of m= line `index`: c= (RFC 8866 5.7),
// the port, a=rtcp (RFC 3605) or port + 1; no RTCP address when `mux`.
// Failure BadDescription when no c= applies.
std::optional<CorePlan> read_ims_addresses(const SessionDescription& d, std::size_t index, bool mux,
                                           Failure& f);
// Our core port for m= line `index` (MissingResource when none, or port + 1
// would not fit without mux).
std::optional<uint16_t> core_port(const ImsSide& ims, std::size_t index, const MediaDescription& m,
                                  bool mux, Failure& f);
// a=rtcp-mux, or a=rtcp:<port + 1> (RFC 3605), at the end of the attributes.
void add_ims_rtcp(MediaDescription& m, uint16_t port, bool mux);
// MissingResource unless `ims` has an address.
bool check_ims_side(const ImsSide& ims, Failure& f);

// The b=AS (kb/s) of m= line `index` of `d`: its own, else the session's
// (an upper bound for each of its lines), else 0. The largest when a level
// has several; values past UINT32_MAX are UINT32_MAX.
uint32_t bandwidth_as_kbps(const SessionDescription& d, std::size_t index);

// --- MSRP chats on data channels (rewrite_msrp.cpp, issue 9) ---
// A browser m= line that is a data channel with an a=dcmap of subprotocol MSRP.
bool is_msrp_chat_line(const MediaDescription& m);
struct BrowserChat {
    DcMap map;                            // the MSRP channel's a=dcmap
    std::string path;                     // its a=dcsa path (the browser's URIs)
    std::vector<std::string> attributes;  // its a=dcsa accept-types, accept-wrapped-types, max-size
    uint16_t sctp_port = 5000;            // a=sctp-port (RFC 8841 5.1; default 5000)
    uint32_t max_message_size = 65536;    // a=max-message-size (RFC 8841 6; absent: 64 KiB)
};
// Failure BadDescription: not exactly one MSRP a=dcmap, no a=dcsa path, an
// unreadable a=sctp-port or a=max-message-size.
std::optional<BrowserChat> read_browser_chat(const MediaDescription& m, std::size_t index,
                                             Failure& f);
// msrp://<address>:<port>/<session-id>;<transport> (IPv6 in brackets).
std::string msrp_uri(const Connection& c, uint16_t port, std::string_view session_id,
                     std::string_view transport);
// m=message <port> TCP/MSRP * with the browser's MSRP attributes, our
// a=path and a=setup:actpass.
MediaDescription ims_chat_media(const BrowserChat& chat, uint16_t port, std::string_view path);
// The IMS side of an m=message line: its a=path, a=setup, MSRP attributes
// and address (c=, m= port). Failure AnswerMismatch (not TCP/MSRP),
// BadDescription (no a=path or c=), BadSetup.
struct UeChat {
    std::string path;
    std::optional<SetupRole> setup;
    std::vector<std::string> attributes;
    TransportAddress address;
};
std::optional<UeChat> read_ue_chat(const SessionDescription& d, std::size_t index, Failure& f);
// An IMS m= line offering a chat: message, TCP/MSRP, port != 0.
bool is_ims_chat_line(const MediaDescription& m);
// The browser-side lines of a chat's m=application line after the
// transport: sctp-port, max-message-size, a=dcmap, a=dcsa path (our ;dc
// URI) and the given MSRP attributes as a=dcsa lines.
void add_chat_lines(MediaDescription& m, const DcMap& map, const std::string& our_dc_path,
                    const std::vector<std::string>& attributes, uint32_t max_message_size);

// --- SDES (RFC 4568) ---
// A crypto line the dataplane can use, as keys (dpif/sdes.hpp rules: one
// inline key, no MKI, no session parameters); nullopt otherwise.
std::optional<dpif::SrtpKeys> usable_keys(const Crypto& c);
// Every a=crypto of `m` that parses.
std::vector<Crypto> crypto_lines(const Section& m);
// `tag SUITE inline:...` for our key; nullopt when the key names no
// supported suite or has the wrong lengths.
std::optional<std::string> crypto_value(uint32_t tag, const dpif::SrtpKeys& keys);

}  // namespace isthmus::sdp::rewrite_detail
