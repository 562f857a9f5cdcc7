// The eP-CSCF's SIP core (issue 6; TS 24.229 5.2 as far as it applies to a
// WebRTC P-CSCF, TS 24.371 A.3.1), sans I/O: whole SIP messages and time in,
// messages to send out. A transaction-stateful proxy (RFC 3261 16) between
// the browsers (W2: WS/WSS flows, RFC 7118) and the IMS (Mw: UDP/TCP).
//
//   PcscfCore core(config);
//   core.on_message(bytes, peer, now);        // one whole message (a WS
//                                             // frame, a UDP datagram, one
//                                             // TCP message)
//   core.on_flow_closed(flow, now);           // a WebSocket closed
//   core.advance(now);                        // at next_deadline()
//   while (auto out = core.poll()) send(*out); // after every call
//
// What it does (details in core.cpp, core_w2.cpp, core_mw.cpp,
// core_proxy.cpp):
//  - Parses (Datagram framing) and validates every message. A malformed
//    request gets 400 naming the defect (513 too large, 505 bad version); a
//    malformed response is dropped and counted. Max-Forwards is decremented
//    (483 at 0); a W2 request carrying our own Via is a loop (482).
//  - REGISTER from W2: Via received/rport, our Via, Path with a flow token
//    naming the WebSocket (RFC 5626), Supported: path, P-Charging-Vector,
//    P-Visited-Network-ID; to the IMS. Challenges come back unchanged; the
//    200 OK stores Service-Route, P-Associated-URI and the expiry per (flow,
//    AOR) (Registrar).
//  - Initial requests from a registered W2 flow: Route = the Service-Route,
//    P-Asserted-Identity from the registered set (P-Preferred-Identity if it
//    is one of them), P-Charging-Vector, P-Visited-Network-ID, and a double
//    Record-Route (RFC 5658: the Mw URI, then the W2 URI with the flow
//    token), so in-dialog requests from either side come back through us
//    and the IMS side's reach the right flow. Unregistered flows: 403.
//  - Requests from the IMS are routed by the flow token in the top Route
//    (our Path or our W2 Record-Route) or the Request-URI: forged -> 403, no
//    token -> 404, flow gone -> 430 (RFC 5626 5.3).
//  - Responses go back through the transaction layer's transactions; the
//    P-Charging-* headers never reach a browser. A response that matches no
//    transaction is dropped and counted (no stateless 16.11 forwarding: on
//    W2 the Via cannot name the flow).
//  - A closed flow loses its registrations; client transactions toward it
//    end at once and their requests get 430 upstream; its own pending
//    INVITEs are CANCELled.
//  - Bounds: flows, registrations, transactions -> 503 with Retry-After.
//  - Admission (admission.hpp, issue 11): out-of-dialog requests from W2
//    are metered per flow and in all before the transaction layer; over a
//    rate (or with max_invites_in_setup INVITEs in setup) they get a
//    stateless 503 with Retry-After naming the limit and go nowhere. ACK,
//    CANCEL, in-dialog requests, responses and Mw are never metered. A
//    flow that keeps sending through its refusals is closed (CloseFlow).
//  - Responses made statelessly carry a To tag of our own form: the ACK a
//    browser sends for one (a refused INVITE) stops here.
//
// Not here (yet): dialog state. Requests inside a dialog follow their Route
// header (our entries popped) without a check against the route set the
// dialog recorded (TS 24.229 5.2.6.3.5), and carry no P-Charging-Vector.
// The core asks for Output::Kind::CloseFlow only for a flow that floods
// (admission close_after_refusals).
//
// Contract with the transports: after on_flow_closed(flow) no message from
// that flow is delivered (it would make the flow live again).
//
// Thread-safety: none; one core per strand, every call from it. The core
// never blocks, never throws after construction, and never reads a clock.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "pcscf/admission.hpp"
#include "pcscf/core_config.hpp"
#include "pcscf/core_flow_token.hpp"
#include "pcscf/core_stats.hpp"
#include "pcscf/flow.hpp"
#include "pcscf/registrar.hpp"
#include "sip/message.hpp"
#include "sip/transaction_layer.hpp"

namespace isthmus::pcscf {

class PcscfCore {
  public:
    // Throws std::invalid_argument naming the configuration key at fault.
    explicit PcscfCore(PcscfConfig config);
    PcscfCore(const PcscfCore&) = delete;
    PcscfCore& operator=(const PcscfCore&) = delete;

    // One whole SIP message from `from` (a Ws/Wss transport is W2, anything
    // else Mw). Never fails: what cannot be used is answered or counted.
    void on_message(std::string_view bytes, const Peer& from, TimePoint now);
    // The transport closed flow `flow` (W2). Its registrations are released
    // at once; client transactions toward it end (their requests get 430);
    // INVITEs it sent that are still unanswered are CANCELled downstream
    // (16.10; once a provisional came, 9.1). Other requests from it run to
    // their end; their responses are dropped (Drop::ClosedFlow).
    void on_flow_closed(uint64_t flow, TimePoint now);
    // A Mw peer could not be reached (a TCP connection made on demand
    // failed): every client transaction still waiting on that transport,
    // address and port ends with a transport error (RFC 3261 8.1.3.1), so a
    // browser's request is answered 503 now rather than after Timer B/F. A
    // request sent in the instant between the failure and this call (a new
    // connection attempt) fails with them.
    void on_unreachable(const Peer& to, TimePoint now);
    // Runs timers (transactions, Timer C, registration expiry) due by `now`.
    void advance(TimePoint now);
    // When advance() is next needed; nullopt when nothing waits.
    std::optional<TimePoint> next_deadline() const;
    // The oldest queued output; nullopt when none. Drain after every call.
    std::optional<Output> poll();
    std::size_t pending_outputs() const { return outputs_.size(); }

    const CoreStats& stats() const { return stats_; }
    // Why the replay_file last failed to take a token's id ("" if never):
    // the daemon logs it when stats().token_journal_errors moves.
    const std::string& token_journal_error() const { return last_token_journal_error_; }
    const Registrar& registrar() const { return registrar_; }
    const Admission& admission() const { return admission_; }
    // Originating INVITEs (initial, from W2) waiting for their final
    // response: what max_invites_in_setup bounds.
    std::size_t invites_in_setup() const { return invites_in_setup_; }
    const sip::TransactionStats& transaction_stats() const { return layer_.stats(); }
    std::size_t transactions() const { return layer_.size(); }
    // The proxy's own entries about transactions (contexts and the indexes
    // by client transaction and by flow, our CANCELs, Timer C): 0 once every
    // transaction has ended, or one was left behind.
    std::size_t proxy_entries() const {
        return contexts_.size() + by_client_.size() + toward_flow_.size() + invites_from_.size() +
               own_clients_.size() + timer_c_.size();
    }
    // Of those, the ones only absorbing retransmissions (not bounded by
    // max_transactions: LayerConfig).
    std::size_t lingering_transactions() const { return layer_.lingering(); }
    // The IMS-ALG (nullptr when PcscfConfig::media is disabled): its
    // counters, calls and sessions.
    const MediaAlg* media() const { return alg_ ? &*alg_ : nullptr; }
    // The dataplane attached (its DTLS fingerprint) or went (nullopt); see
    // MediaAlg::set_dataplane. No effect with media disabled.
    // `restarted`: another dataplane process than the last one (its calls'
    // DTLS is gone): confirmed calls with media are ended (BYEs, poll()).
    void set_dataplane(std::optional<std::string> fingerprint, TimePoint now,
                       bool restarted = false);
    // The next dpif command for the dataplane (session create/update/delete,
    // resync); nullopt when none. Drain after every call, like poll().
    // Each is stamped (Command::stamp_ns) with the time given to the call
    // that made it: the dataplane measures answer-to-forwarding from it.
    std::optional<dpif::Command> poll_command() {
        if (!alg_) return std::nullopt;
        auto c = alg_->poll_command();
        if (c && c->stamp_ns == kNoStamp) {
            c->stamp_ns = 0;
        } else if (c && c->stamp_ns == 0) {
            c->stamp_ns = static_cast<uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now_.time_since_epoch())
                    .count());
        }
        return c;
    }
    // A result or event from the dataplane.
    // Media that cannot flow ends its call: BYEs go out (poll()).
    void on_dataplane_event(const dpif::Event& ev, TimePoint now);
    // The token our Path / Record-Route would carry for `flow` (diagnostics).
    std::string flow_token(uint64_t flow) const { return tokens_.make(flow); }
    // A guest's leased identity whose registration ended (its WebSocket
    // closed, it de-registered or expired): the daemon gives the lease
    // back to the WWSF (A.3.3). nullopt when none. Drain after every call.
    std::optional<GuestLeaseRef> poll_lease_end() { return registrar_.take_ended_lease(); }

  private:
    // One proxied request (RFC 3261 16: a response context), keyed by its
    // server transaction: the request as it came, the one we forwarded.
    struct Context {
        sip::TransactionId server;
        sip::TransactionId client;  // 0 once it ended
        Side from = Side::W2;       // where the request came from
        uint64_t w2_flow = 0;       // the browser's flow (either direction)
        bool invite = false;
        bool registration = false;  // a REGISTER (its 2xx updates the Registrar)
        bool final_relayed = false;
        bool provisional_seen = false;  // > 100 received: a CANCEL may go (9.1)
        bool cancel_pending = false;    // CANCEL asked for before a provisional
        bool cancel_sent = false;
        bool abandoned = false;  // we ended the client transaction (Timer C)
        bool reserves_registration = false;
        bool in_setup = false;  // counted in invites_in_setup_ until release()
        // Via/From/To/Call-ID/CSeq of the request as received: the base of
        // every response we make for it.
        sip::Message reply_base;
        // REGISTER: the AOR and the contacts the browser asked to bind.
        std::string aor;
        std::vector<sip::Uri> contacts;
        bool binds = false;                  // the REGISTER had a Contact (not a query)
        bool web_authenticated = false;      // taken on a WWSF token (A.3.2/A.3.3)
        std::optional<GuestLeaseRef> lease;  // a guest token's leased identity (A.3.3)
        // INVITE: the CANCEL for the forwarded request (9.1) and its peer.
        sip::Message cancel;
        Peer downstream;
        std::optional<TimePoint> timer_c;
    };

    // --- core.cpp: entry, parsing, local answers, the action pump ---------
    uint64_t random();
    void on_parse_error(std::string_view bytes, const sip::ParseResult& r, const Peer& from,
                        Side side);
    void on_request(sip::Message& m, const Peer& from, Side side);
    void on_response(sip::Message& m, const Peer& from, Side side);
    void new_request(sip::Message& m, sip::TransactionId txn, const Peer& from, Side side);
    // A response to `request` with a To tag (and Retry-After on 503). A
    // stateless one's tag starts with kStatelessTag (its ACK stops here).
    sip::Message make_reply(const sip::Message& request, uint16_t code, std::string_view reason,
                            bool stateless = false);
    // Answers on the server transaction / statelessly to `to`; counts.
    void answer(sip::TransactionId txn, const sip::Message& request, uint16_t code,
                std::string_view reason, Side side);
    void refuse(sip::TransactionId txn, const sip::Message& request, Refusal why,
                std::string_view reason, Side side);
    void refuse_stateless(const sip::Message& request, const Peer& to, Refusal why,
                          std::string_view reason, Side side);
    void drop(Drop why) { ++stats_.dropped[static_cast<std::size_t>(why)]; }
    // Admission of a request from W2 (admission.hpp): true to go on; false
    // when it was refused here (a 503 queued, and CloseFlow for a flooder).
    bool admit(const sip::Message& m, const Peer& from);
    // An ACK for a response we made statelessly (its To tag is ours).
    static bool acks_stateless_reply(const sip::Message& ack);
    void count_sent(Side to, uint16_t code);
    // Carries out what the transaction layer asked, until it asks nothing.
    void pump();
    void on_action(const sip::Action& a);

    // --- core_w2.cpp: requests from the browsers --------------------------
    void w2_request(sip::Message& m, sip::TransactionId txn, const Peer& from);
    void w2_register(sip::Message& m, sip::TransactionId txn, const Peer& from);
    // A REGISTER with a Bearer token (or refreshing a registration made with
    // one, on the same flow): true when it may go on, its Authorization
    // replaced by the auth-done one and ctx.lease set for a guest's token
    // (or kept from the registration it refreshes); false when it was
    // refused here.
    bool web_authentication(sip::Message& m, sip::TransactionId txn, const Peer& from,
                            Context& ctx);
    std::optional<token::ReplayCache> replay_;
    std::string last_token_journal_error_;  // the replay_file's last write error
    void w2_initial(sip::Message& m, sip::TransactionId txn, const Peer& from);
    void w2_in_dialog(sip::Message& m, sip::TransactionId txn, const Peer& from);
    void w2_ack(sip::Message& m, const Peer& from);
    bool carries_our_via(const sip::Message& m) const;

    // --- core_mw.cpp: requests from the IMS --------------------------------
    // Where a request from the IMS goes: its flow (or why not).
    struct Target {
        std::optional<Refusal> refusal;
        uint64_t flow = 0;
        bool token_in_request_uri = false;
        bool addressed_to_us = false;  // Request-URI ours, no token anywhere
    };
    Target mw_target(sip::Message& m);
    void mw_request(sip::Message& m, sip::TransactionId txn, const Peer& from);
    void mw_ack(sip::Message& m);

    // --- core_proxy.cpp: forwarding, responses, CANCEL, Timer C ------------
    // Decrements Max-Forwards; false when it was 0 (or missing).
    static bool decrement_max_forwards(sip::Message& m);
    // Removes the leading Route entries that name us; returns the first flow
    // token one of them carried ("" if none).
    std::string pop_own_routes(sip::Message& m) const;
    // The Mw peer for a request about to leave: by its first Route, else
    // its Request-URI.
    const Peer& mw_next_hop(const sip::Message& m) const;
    // Our Via on top, a client transaction toward `to`, the context.
    void forward(sip::Message m, Context ctx, const Peer& to, Side to_side);
    void forward_stateless(sip::Message m, const Peer& to, Side to_side);
    void relay_response(sip::TransactionId client, sip::Message& m, Side side);
    void on_registered(const Context& ctx, const sip::Message& ok);
    void on_client_failed(sip::TransactionId client, sip::ActionKind kind);
    void on_terminated(sip::TransactionId id);
    void on_cancel(sip::Message& m, const sip::Inbound& in, Side side);
    void send_cancel(Context& ctx);
    void set_timer_c(Context& ctx, std::optional<TimePoint> at);
    void fire_timer_c(uint64_t server);
    void release(Context& ctx);
    // The IMS-ALG's view of a request about to be forwarded: true to go on,
    // false when it refused it (answered here).
    bool alg_request(sip::Message& m, sip::TransactionId txn, Side from, uint64_t flow);
    // The request of `ctx` ended without a far-side response.
    void alg_failed(const Context& ctx);
    // A BYE on a party's behalf (DialogRelease: toward the IMS, or toward a
    // browser on its flow); its responses stop here (like our CANCELs).
    void send_release(const DialogRelease& r);

    PcscfConfig config_;
    LocalUris local_;
    std::mt19937_64 rng_;
    FlowTokenCodec tokens_;
    sip::TransactionLayer layer_;
    Registrar registrar_;
    TimePoint now_{};
    uint64_t counter_ = 0;  // icid-values and branches

    std::unordered_map<uint64_t, Context> contexts_;    // by server transaction
    std::unordered_map<uint64_t, uint64_t> by_client_;  // client -> server transaction
    // (W2 flow, transaction) pairs, ordered: one is erased in O(log n)
    // however many its flow holds (each lingers 32 s after its final
    // response, so a flow calling 10 times a second holds 320), and a flow's
    // are a range for when it closes (docs/performance.md, "The eP-CSCF
    // core alone").
    using FlowIndex = std::set<std::pair<uint64_t, uint64_t>>;
    FlowIndex toward_flow_;   // (W2 flow, client transaction toward it)
    FlowIndex invites_from_;  // (W2 flow, server transaction of an INVITE from it)
    std::unordered_set<uint64_t> own_clients_;          // our CANCELs: answered here, never relayed
    std::set<std::pair<TimePoint, uint64_t>> timer_c_;  // (deadline, server transaction)
    std::size_t reserved_registrations_ = 0;            // REGISTERs in flight for new (flow, AOR)s
    std::size_t invites_in_setup_ = 0;                  // Context::in_setup ones
    Admission admission_;

    std::optional<MediaAlg> alg_;
    std::deque<Output> outputs_;
    CoreStats stats_;
};

}  // namespace isthmus::pcscf
