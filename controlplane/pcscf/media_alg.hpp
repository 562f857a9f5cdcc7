// The IMS-ALG (TS 24.371 7.4, 9; issue 7), sans I/O: the offer/answer
// exchanges of every call between a browser (W2) and the IMS (Mw), their SDP
// rewritten (sdp/rewrite.hpp) and the dataplane programmed through dpif
// commands, one dataplane session per m= line in use.
//
// PcscfCore owns one (PcscfConfig::media.enabled) and calls it from the
// proxy's paths; the ALG reads the messages, changes their bodies in place,
// and queues dpif commands:
//
//   AlgVerdict v = alg.on_request(invite, Side::W2, flow, txn);  // before forwarding
//   if (v.status) refuse(v.status, v.reason);                    // 488, 503, 491...
//   alg.on_response(response, Side::Mw, flow, txn);               // before relaying
//   alg.on_failed(call_id, flow, txn, method);                    // no final came (timeout)
//   alg.on_flow_closed(flow);
//   while (auto cmd = alg.poll_command()) client.send(*cmd);
//   alg.on_event(event);                                          // from the dataplane
//
// Calls. A call is keyed by Call-ID and the browser's flow; it starts with
// an initial INVITE from either side and ends with a BYE of its dialog (from
// either side), a final non-2xx to the initial INVITE (CANCEL's 487
// included), a transaction that fails (Timer B/C, transport error), or the
// flow's close. Its sessions are deleted in the dataplane then and its ports
// freed: no session outlives its dialog.
//
// Offer/answer (RFC 3264, RFC 6337): an SDP body is an answer when it comes
// from the other side of an open exchange — in a response (18x, 2xx) to the
// request that carried the offer, or in the ACK/PRACK after an offer in a
// response (an INVITE without SDP); anything else from a side is a new offer
// (INVITE, re-INVITE, UPDATE, PRACK, or a response to an INVITE that had
// none). An exchange stays open until the final response of its
// transaction, so each early dialog's answer (forking, 183 then 200 with
// another SDP) is rewritten and re-points the core leg; a body seen again
// (retransmitted 2xx, 183 and 200 with the same SDP) is answered with the
// same bytes as before and programs nothing. A failed re-offer (491, 488...)
// leaves the call as it was and frees what the offer had reserved.
//
// Each m= line in use gets an access port and a core port pair of one
// dataplane worker (MediaPorts) when it is first offered. Its session is
// complete when the first answer is known (both legs are only then: the
// browser's ICE credentials and fingerprint, the IMS's address), updated
// when a later answer changes a leg, and deleted when the m= line is
// rejected or the call ends. When the browser offers, the session is
// created with the IMS's answer: the browser cannot reach the gateway before
// it has our answer, whose candidate it needs, and the IMS side learns our
// ports in the same message, so the command is on the ring before either
// side can send media. When the IMS offers, the browser has our candidate
// with the offer and checks it while it makes its answer (RFC 8445 7.3), so
// each new m= line's session is created with the offer, its access leg
// awaiting the answer (dpif LegSpec::awaiting_answer: ICE only, no core
// leg), and the answer's update completes it on the pair already checked;
// an offer that fails deletes it. (Not for a re-offer of a bundled call:
// its lines are on the transport the browser has.)
//
// BUNDLE (RFC 8843; docs/pcscf.md "BUNDLE"): a browser's offer is answered
// with its BUNDLE group (the m= lines the IMS accepted, on the transport's
// port), and an IMS offer goes to the browser with a group of every audio
// and video m= line unless two of them use one payload type (the gateway
// demultiplexes by payload type: IMS-side RTP has no a=mid). An m= line
// sharing payload types with an earlier one of its group is rejected (in a
// browser's offer, an IMS re-offer of a bundled call, or renumbered by an
// IMS answer); an offer removing the transport's line while others of its
// group stay gets 488. Each m=
// line keeps its own dataplane session and core port pair toward the IMS
// (TS 23.228 Annex U); those of one transport are tied by a dpif
// BundleSpec (one session is the transport, the others send on it; it
// stays the same session for the call, whichever line the SDP tags), and
// all of a call's m= lines are on one dataplane worker. A group of one m=
// line is an ordinary session.
// A browser's data channel whose
// a=dcmap names subprotocol MSRP (RFC 8873) goes to the IMS as m=message
// TCP/MSRP (sdp/rewrite.hpp) and becomes a data channel session (a DtlsSctp
// access leg with its MsrpSpec: the dataplane bridges it to the UE's TCP
// connection on our core address and the m= line's core port); an IMS
// offer's m=message TCP/MSRP goes to the browser as a data channel
// negotiated in SDP (a=dcmap) and becomes the same kind of session once the
// browser answers. Other data channels are rejected.
//
// Refusals (AlgVerdict::status): 488 for an offer the rewrite cannot take
// (with its reason), 503 with no dataplane attached, no ports, or
// max_calls; 491 for an offer while the other side's is unanswered; 482 for
// an initial INVITE whose Call-ID is already a call on that flow (a merged
// request, RFC 3261 8.2.2.2). A response whose SDP cannot be rewritten loses
// its body (counted): the browser then ends the call itself.
//
// Thread-safety: none; the core's strand. No clock, no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "isthmus/dpif/messages.hpp"
#include "pcscf/core_stats.hpp"
#include "pcscf/media_ports.hpp"
#include "sdp/description.hpp"
#include "sdp/rewrite.hpp"
#include "sip/message.hpp"

namespace isthmus::pcscf {

// dpif Command::stamp_ns of a command no SIP message made (resync): the
// core leaves it 0.
inline constexpr uint64_t kNoStamp = ~uint64_t{0};

struct MediaConfig {
    bool enabled = false;
    // The dataplane's addresses (IP literals): the browsers reach
    // `access_address` (host candidate, c=), the IMS `core_address`.
    std::string access_address;
    std::string core_address;
    PortRange access_ports{20000, 29999};
    PortRange core_ports{30000, 39999};
    // The dataplane's [dataplane] workers: ports are handed out per worker.
    uint32_t workers = 1;
    // Offer RTP/SAVP with SDES keys toward the IMS instead of RTP/AVP.
    bool core_srtp = false;
    // Offer a=rtcp-mux toward the IMS (RFC 5761).
    bool core_rtcp_mux = false;
    std::size_t max_calls = 10000;
    // Calls one browser flow may hold at once (each reserves ports while it
    // rings): more get 503.
    std::size_t max_calls_per_flow = 4;
    // Media policing (docs/pcscf.md "Media policing"): each leg of a call's
    // media session may send the dataplane at most max(floor, b=AS x
    // percent / 100) kb/s, where b=AS is what the other side declared it
    // receives on that m= line and the floor is the media's (audio or
    // other, video); beyond it, and the dataplane's burst, media is
    // dropped. Off: nothing policed.
    struct Policing {
        bool enabled = true;
        uint32_t audio_kbps = 200;   // 8..10,000,000
        uint32_t video_kbps = 4000;  // 8..10,000,000
        uint32_t percent = 150;      // 100..1000
    } police;
    // Secret random octets (ICE passwords, SDES keys). Empty: OpenSSL's
    // RAND_bytes.
    std::function<void(uint8_t*, std::size_t)> secret_random;
};

// A DtlsFailed event for the browser's close_notify (its peer connection
// closed, usually at hang-up: the dataplane's detail says "closed:"): the
// end of the leg, not a failure of it.
bool dtls_event_is_close(const dpif::Event& ev);

// A confirmed dialog the P-CSCF ends for a browser that is gone (its
// WebSocket closed): what the BYE toward the IMS is made of (TS 24.229
// 5.2.8.1.2: the P-CSCF releases the sessions of a UE it lost). The core
// drops its own entries from the route set and sends the BYE.
struct DialogRelease {
    // Toward the IMS (the browser is gone, or media failed), or toward the
    // browser on its flow (media failed: the IMS party hangs up, as it were).
    Side toward = Side::Mw;
    uint64_t flow = 0;  // the browser's flow
    std::string call_id;
    std::string from;           // the sender's side (the browser's toward the IMS), tagged
    std::string to;             // the other party, with its tag
    uint32_t cseq = 1;          // above every CSeq the sender's side used
    std::string remote_target;  // the other party's Contact URI
    // Toward the IMS: the browser's route set, in its order, ours included
    // (the core drops those). Toward the browser: empty (its flow).
    std::vector<std::string> route_set;
    // Why, for the Reason header (RFC 3326): the media failed, or no media
    // flowed for [dataplane] media_timeout_s.
    bool media_timeout = false;
};

// What the core does with a request the ALG has seen.
struct AlgVerdict {
    uint16_t status = 0;  // 0: forward it (body rewritten in place); else refuse with it
    std::string reason;   // the reason phrase
};

// X(Enumerator, "metric_label", "meaning")
#define ISTHMUS_PCSCF_MEDIA_COUNTER(X)                                                          \
    X(CallsStarted, "calls_started", "initial INVITEs the ALG took (either side)")              \
    X(CallsEnded, "calls_ended", "calls whose sessions were released, for any reason")          \
    X(OffersFromBrowser, "offers_from_browser", "browser offers rewritten toward the IMS")      \
    X(OffersFromIms, "offers_from_ims", "IMS offers rewritten toward a browser")                \
    X(AnswersFromBrowser, "answers_from_browser", "browser answers rewritten toward the IMS")   \
    X(AnswersFromIms, "answers_from_ims", "IMS answers rewritten toward a browser")             \
    X(Repeats, "repeats", "an SDP seen before, answered with the same bytes")                   \
    X(RewriteFailed, "rewrite_failed", "an offer or answer the rewrite refused")                \
    X(BodyStripped, "body_stripped", "a response or ACK whose SDP could not be used")           \
    X(SdpUnparsable, "sdp_unparsable", "an application/sdp body that does not parse")           \
    X(NoDataplane, "no_dataplane", "a new call refused: no dataplane attached")                 \
    X(NoPorts, "no_ports", "an offer refused: no media ports left")                             \
    X(CallsFull, "calls_full", "a new call refused: max_calls")                                 \
    X(Glare, "glare", "an offer refused with 491: the other side's is unanswered")              \
    X(Merged, "merged", "an initial INVITE for a Call-ID already a call on its flow")           \
    X(SessionsCreated, "sessions_created",                                                      \
      "SessionCreate commands (an IMS offer's with the offer, whether or not it is answered)")  \
    X(SessionsUpdated, "sessions_updated",                                                      \
      "SessionUpdate commands (the answer's completion of an IMS offer's included)")            \
    X(SessionsDeleted, "sessions_deleted", "SessionDelete commands")                            \
    X(DataplaneRefused, "dataplane_refused", "a create/update the dataplane answered non-ok")   \
    X(BadRemote, "bad_remote", "an m= line whose IMS address is not an IP literal")             \
    X(IceSelected, "ice_selected", "IceSelected events")                                        \
    X(DtlsUp, "dtls_up", "DtlsUp events")                                                       \
    X(DtlsFailed, "dtls_failed", "DtlsFailed events: a handshake or a leg that failed")         \
    X(DtlsClosed, "dtls_closed", "DtlsFailed events for a close_notify (a browser hanging up)") \
    X(ConsentLost, "consent_lost", "ConsentLost events")                                        \
    X(SessionsIdle, "sessions_idle", "SessionIdle events: no media either way for the timeout") \
    X(MediaTimeouts, "media_timeouts",                                                          \
      "confirmed calls ended (BYE both ways): no session relayed media")                        \
    X(Resyncs, "resyncs", "dataplane (re)attachments whose sessions were re-sent")              \
    X(MediaFailedCalls, "media_failed_calls",                                                   \
      "confirmed calls ended (BYE both ways) because their media could not flow")               \
    X(BundleRejected, "bundle_rejected",                                                        \
      "bundled m= lines rejected, or IMS re-offers refused: a payload type on two of them")     \
    X(BundleConflicts, "bundle_conflicts",                                                      \
      "bundled m= lines an IMS answer renumbered onto another's payload type (rejected)")       \
    X(BundleTransportLost, "bundle_transport_lost",                                             \
      "bundled m= lines not programmed: their transport's session could not be, or went")

enum class MediaCounter : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_PCSCF_MEDIA_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
};
inline constexpr std::size_t kMediaCounterCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_PCSCF_MEDIA_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    ;
constexpr std::string_view media_counter_label(MediaCounter c) {
    constexpr std::array<std::string_view, kMediaCounterCount> labels = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_PCSCF_MEDIA_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return labels[static_cast<std::size_t>(c)];
}

struct MediaStats {
    std::array<uint64_t, kMediaCounterCount> counters{};
    std::array<uint64_t, sdp::kRewriteErrorCount> rewrite_errors{};
    // Packets the dataplane relayed for sessions now deleted (their last
    // SessionInfo): access->core [0], core->access [1].
    std::array<uint64_t, 2> relayed{};
    uint64_t operator[](MediaCounter c) const { return counters[static_cast<std::size_t>(c)]; }
};

class MediaAlg {
  public:
    // Throws std::invalid_argument naming the pcscf.media key at fault.
    // `random`: the core's generator (o= session ids).
    MediaAlg(const MediaConfig& config, std::function<uint64_t()> random);
    MediaAlg(const MediaAlg&) = delete;
    MediaAlg& operator=(const MediaAlg&) = delete;

    // The dataplane attached (its certificate's SHA-256 fingerprint,
    // "AB:CD:..."), or went (nullopt: new calls get 503). Attaching queues a
    // resync: ResyncBegin, a SessionCreate for every session the calls
    // hold, ResyncEnd (docs/dpif.md), so a restarted dataplane gets them
    // back and drops what it kept from before.
    //
    // `restarted`: a new dataplane process (another generation), whose DTLS
    // associations are gone with the old one; re-created sessions could
    // not carry media the browsers' DTLS state matches. So instead of a
    // resync, confirmed calls with a session are ended (BYE both ways,
    // take_releases) and early ones lose their sessions; a re-attachment to
    // the same dataplane (restarted false) resyncs, and it adopts them.
    void set_dataplane(std::optional<std::string> fingerprint, bool restarted = false);
    bool has_dataplane() const { return fingerprint_.has_value(); }

    // A request about to be forwarded: `from` the side it came from, `flow`
    // the browser's flow, `txn` its server transaction (0 for an ACK).
    AlgVerdict on_request(sip::Message& m, Side from, uint64_t flow, uint64_t txn);
    // A response about to be relayed, from side `from`, to the request of
    // server transaction `txn`.
    void on_response(sip::Message& m, Side from, uint64_t flow, uint64_t txn);
    // The request of `txn` ended without a response from the far side
    // (Timer B/C, a transport error): as a 408/503 would.
    void on_failed(std::string_view call_id, std::string_view method, uint64_t flow, uint64_t txn);
    // Ends the flow's calls; returns the confirmed dialogs among them, for
    // the core to BYE on the browser's behalf.
    std::vector<DialogRelease> on_flow_closed(uint64_t flow);
    // Results and events from the dataplane. A confirmed call whose media
    // cannot flow — the dataplane refused to create its session (a refused
    // update leaves the session as it was), or its DTLS
    // handshake failed (fingerprint mismatch, timeout, alert; not a close
    // after it was up, which the browser follows with its own BYE) — is
    // ended: its sessions deleted and a BYE queued for each side
    // (take_releases).
    void on_event(const dpif::Event& ev);
    // The BYEs on_event decided on, for the core to send.
    std::vector<DialogRelease> take_releases() { return std::exchange(releases_, {}); }

    std::optional<dpif::Command> poll_command();
    std::size_t pending_commands() const { return commands_.size(); }

    std::size_t calls() const { return calls_.size(); }
    // Dataplane sessions the calls hold now (created, not deleted).
    std::size_t sessions() const { return sessions_; }
    const MediaPorts& ports() const { return ports_; }
    const MediaStats& stats() const { return stats_; }

  private:
    // One m= line's resources and what was programmed for it.
    struct Slot {
        std::optional<MediaLegs> legs;
        std::vector<dpif::SrtpKeys> keys;  // core_srtp: ours toward the IMS
        bool programmed = false;
        dpif::LegSpec access{};
        dpif::LegSpec core{};
        bool reserved_by_pending = false;  // allocated for the open offer
        bool idle = false;  // the dataplane reported it idle (SessionIdle, not yet Active)
        // A browser's MSRP data channel bridged to the IMS (issue 9): our
        // URIs' session-id, and the chat's parts of its session command.
        std::string msrp_sid;
        dpif::DataChannelSpec dc{};
        dpif::MsrpSpec msrp{};
        // What each leg may send us (dpif Command::police_kbps; 0: not
        // policed): from the SDP's b=AS and [pcscf.media] police_*.
        uint32_t police_kbps[2] = {0, 0};
        // Its BUNDLE transport and payload types (transport 0: none).
        dpif::BundleSpec bundle{};
        // The dataplane refused the last update: send it again.
        bool stale = false;
        // A chat whose data channel is in a BUNDLE with audio or video: it
        // has no session of its own; its SCTP and MSRP specs ride on the
        // transport's (DtlsSrtpSctp).
        bool riding = false;
        // A chat's a=dcmap stream with the browser once an answer agreed it
        // (-1: none yet): an IMS re-offer keeps it.
        int32_t chat_stream = -1;
        // An IMS offer's session made with the offer: its access leg awaits
        // the browser's answer (Awaiting), then the update completing it is
        // on the ring (Completing) until the dataplane takes it.
        enum class Early : uint8_t { No, Awaiting, Completing };
        Early early = Early::No;
    };
    struct Exchange {
        Side offerer = Side::W2;
        uint64_t txn = 0;          // the transaction whose request (or response) carried it
        bool in_response = false;  // the offer came in a response (answer in ACK/PRACK)
        bool answered = false;
        sdp::SessionDescription offer_in;   // as received
        sdp::SessionDescription offer_out;  // as sent on
        std::string offer_in_bytes, offer_out_bytes;
        std::string answer_in_bytes, answer_out_bytes;  // the last answer (repeats)
    };
    struct Call {
        uint64_t id = 0;  // session ids: id << 5 | m= line index
        uint64_t flow = 0;
        std::string call_id;
        Side initiator = Side::W2;
        std::string initiator_tag;
        uint64_t initial_txn = 0;
        std::string confirmed_tag;  // the answerer's tag of the 2xx dialog
        std::vector<Slot> slots;
        sdp::IceCredentials ice;
        std::optional<sdp::SetupRole> dtls_role;  // once an answer set it
        sdp::Origin web_origin, ims_origin;
        uint64_t web_version = 0, ims_version = 0;
        std::optional<Exchange> pending;
        // The last exchange that ended (its final response, or the ACK/PRACK
        // that answered an offer in a response): a retransmitted or forked
        // 2xx, or a retransmitted ACK, is answered from it, never taken for
        // a new offer.
        std::optional<Exchange> last;
        uint64_t offerless_invite_txn = 0;  // an INVITE without SDP: its response may offer
        // For a release on the browser's behalf (DialogRelease).
        std::string initial_from, initial_to;       // the initial INVITE's
        std::string ims_contact;                    // terminating: the INVITE's Contact
        std::vector<std::string> ims_record_route;  // terminating: the INVITE's
        uint32_t browser_cseq = 0;                  // the highest the browser used
        uint32_t ims_cseq = 0;                      // the highest the IMS party used
        std::string browser_contact;                // the browser's Contact URI
        std::optional<DialogRelease> release;       // once confirmed
        // The m= line whose session is the call's BUNDLE transport (two m=
        // lines or more on it), whichever line the SDP tags; nullopt: none.
        std::optional<std::size_t> bundle_transport;
    };

    static std::string key(std::string_view call_id, uint64_t flow);
    Call* find(std::string_view call_id, uint64_t flow);
    AlgVerdict refuse(MediaCounter c, uint16_t status, std::string reason);
    AlgVerdict start_call(const sip::Message& m, Side from, uint64_t flow, uint64_t txn);
    void confirm(Call& call, const sip::Message& ok);
    AlgVerdict offer(Call& call, Side from, std::string_view body, uint64_t txn, bool in_response,
                     std::string& out);
    // The answer to exchange `e`; `program` false for a forked 2xx of a
    // dialog other than the confirmed one (rewritten, never programmed).
    bool answer(Call& call, Exchange& e, Side from, std::string_view body, std::string& out,
                bool program_media = true);
    void close_exchange(Call& call);
    // An IMS offer sent to the browser: sessions for its new m= lines,
    // their access legs awaiting the answer.
    void await_answer(Call& call);
    bool allocate_for(Call& call, const sdp::SessionDescription& offer, Side from);
    void rollback(Call& call);
    void program(Call& call, const std::vector<sdp::MediaPlan>& plans);
    // `chat`: the m= line of a chat whose data channel rides on this
    // line's transport (its plan in `chat_plan`), or none.
    void program_slot(Call& call, std::size_t i, const sdp::MediaPlan& plan,
                      const dpif::BundleSpec& bundle, std::optional<std::size_t> chat = {},
                      const sdp::MediaPlan* chat_plan = nullptr);
    // The BundleSpec of each m= line of an answer's plans (transport 0:
    // not bundled, or alone on its transport).
    // `conflicts`: payload types an m= line lost to an earlier one.
    std::vector<dpif::BundleSpec> bundle_specs(const Call& call,
                                               const std::vector<sdp::MediaPlan>& plans,
                                               std::size_t& conflicts) const;
    // A session's create for a resync (transports before the m= lines
    // bundled on them).
    void resync_call(const Call& call);
    bool leg_specs(const Call& call, std::size_t index, const sdp::MediaPlan& plan,
                   dpif::LegSpec& access, dpif::LegSpec& core);
    // The access leg alone (DtlsSrtp; a chat's caller makes it DtlsSctp).
    bool leg_specs_access(const Call& call, std::size_t index, const sdp::MediaPlan& plan,
                          dpif::LegSpec& access);
    // A chat's session: a DtlsSctp access leg, no core leg, its SCTP and
    // MSRP specs (false: a path too long for dpif, an address unreadable).
    bool chat_specs(const Call& call, std::size_t index, const sdp::MediaPlan& plan,
                    dpif::LegSpec& access, dpif::DataChannelSpec& dc, dpif::MsrpSpec& msrp);
    // Our URIs' session-id for a chat: 16 characters, 96 random bits.
    std::string msrp_session_id();
    void delete_session(Call& call, std::size_t index);
    void end_call(const std::string& key);
    // Ends a call whose media failed: BYEs both ways when confirmed.
    void fail_call(uint64_t session_id, bool timeout = false);
    void session_idle(uint64_t session_id, bool idle);
    // The dataplane refused a create: the slot is not programmed; a
    // confirmed call is ended (fail_call), an early one re-creates it with
    // its next answer.
    void refused_create(uint64_t session_id);
    void push(dpif::MsgType type, uint64_t session, const dpif::LegSpec* access,
              const dpif::LegSpec* core);
    // A create or update of a slot's session: its legs, chat and policing.
    void push_session(dpif::MsgType type, uint64_t session, const Slot& s);
    // The rate a leg is policed at (kb/s, 0: none) for an m= line of
    // `media` whose receiving side declared `as_kbps` (0: nothing).
    uint32_t police_rate(const std::string& media, uint32_t as_kbps) const;
    void count(MediaCounter c) { ++stats_.counters[static_cast<std::size_t>(c)]; }
    // `on_transport`: m= lines put on the bundle transport's port (the
    // BUNDLE address) rather than their own.
    sdp::WebRtcSide web_side(Call& call, const std::vector<bool>& on_transport = {}) const;
    // An IMS answer's lines that would share a payload type with an
    // earlier line of their bundle are rejected toward the browser.
    void reject_renumbered(sdp::RewriteResult& r);
    void refused_update(uint64_t session_id);
    void completed(uint64_t session_id);
    sdp::ImsSide ims_side(Call& call) const;
    void secret(uint8_t* out, std::size_t n);
    std::string ice_string(std::size_t n);

    MediaConfig config_;
    std::function<uint64_t()> random_;
    MediaPorts ports_;
    dpif::IpEndpoint access_ip_{};
    dpif::IpEndpoint core_ip_{};
    sdp::Connection access_connection_, core_connection_;
    std::optional<std::string> fingerprint_;
    uint64_t next_call_ = 0;
    std::size_t sessions_ = 0;
    std::unordered_map<std::string, Call> calls_;
    std::unordered_map<uint64_t, std::string> by_id_;  // call id -> key
    // Browser flow -> its calls' keys (at most max_calls_per_flow each): the
    // per-flow bound and a flow's close without a walk over every call.
    std::unordered_multimap<uint64_t, std::string> by_flow_;
    std::deque<dpif::Command> commands_;
    // SessionCreates sent whose Result has not come, by session id: a
    // refusal is the latest create's only when it is the last one out (an
    // offer replaced or failed deletes its session, and the next one
    // creates the same id again).
    std::unordered_map<uint64_t, uint32_t> creates_in_flight_;
    std::vector<DialogRelease> releases_;
    MediaStats stats_;
};

}  // namespace isthmus::pcscf
