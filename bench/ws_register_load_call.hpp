// ws-register-load's calls (--mode call), sans I/O: the INVITE with a
// Chrome-like WebRTC audio offer, the ACK and BYE of its dialog (RFC 3261
// 12.1.2, 13.2.2.4, 15.1.1), the ACK of a non-2xx final (17.1.1.3), and a
// response cut down to what a caller needs (status, CSeq, Call-ID, To,
// Contact, Record-Route, body).
//
// CallSlots runs a connection's K calls (one per slot, back to back) on top
// of CallLeg, and leaves the I/O to its connection (CallTransport): it takes
// responses and time, and gives messages to write and hold timers to arm.
//
// Thread-safety: a CallLeg and a CallSlots belong to one connection (its
// load thread); nothing here is shared but the `active` counter, an atomic
// the main thread reads.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ws_register_load_stats.hpp"

namespace isthmus::bench {

// Who calls whom, and the names that make each call's identifiers unique.
struct CallIdentity {
    std::string user;            // "user0042": From and Contact
    std::string domain;          // "ims.example.net"
    std::string via_transport;   // "WS" or "WSS"
    std::string host;            // "<random>.invalid" (RFC 7118 5.2), as registered
    std::string callee;          // the Request-URI and To: "sip:bob@ims.example.net"
    std::string call_id_prefix;  // + the call's number: its Call-ID and From tag
    std::string branch_prefix;   // "z9hG4bK...": + number + i/a/b (INVITE, ACK, BYE)
};

// What a caller reads from a response. Views point into the message.
struct CallResponse {
    static constexpr std::size_t kMaxRoutes = 16;
    uint16_t status = 0;
    uint32_t cseq = 0;
    std::string_view method;  // the CSeq method
    std::string_view call_id;
    std::string_view to;           // the To value, tag included
    std::string_view contact_uri;  // the first Contact's URI (without <>), empty if none
    std::array<std::string_view, kMaxRoutes> record_route{};  // in message order
    std::size_t record_routes = 0;
    std::string_view body;       // after the empty line (Content-Length not checked)
    uint32_t retry_after_s = 0;  // Retry-After's seconds, 0 when absent (RFC 3261 20.33)
};

// A minimal parse of a response: status line, CSeq, Call-ID, To, Contact,
// Record-Route (each element of each field, split at commas outside <> and
// quotes), Retry-After's seconds, and the body; header names case-insensitive, compact forms
// included, no folding. False when it is not a response with a CSeq and a
// Call-ID, or has more than kMaxRoutes Record-Route entries.
bool parse_call_response(std::string_view bytes, CallResponse& out);

// A request from the network (a BYE that ends a call). Views point into
// the message.
struct CallRequest {
    std::string_view method;  // of the request line
    std::string_view call_id;
    uint32_t cseq = 0;
};

// A minimal parse of a request: the request line's method, CSeq and
// Call-ID. False when it is not a request with both.
bool parse_call_request(std::string_view bytes, CallRequest& out);

// A response to `request` (RFC 3261 8.2.6.2): every Via, From, To,
// Call-ID and CSeq copied as they came (a To without a tag gets one), and
// `extra` (whole header lines, CRLF included); no body; in `out`.
void respond(std::string_view request, uint16_t status, std::string_view reason, std::string& out,
             std::string_view extra = {});

// Whether an answer is WebRTC SDP as a browser needs it from the IMS-ALG
// (ICE lite, DTLS-SRTP profile, a candidate).
bool is_webrtc_answer(std::string_view sdp);

// The calls of one slot, back to back: each invite() starts a new call
// (Call-ID, From tag and branches from its number); the rest build the
// requests of the current call into a buffer the caller keeps.
class CallLeg {
  public:
    explicit CallLeg(const CallIdentity& id);

    // Starts the next call; `out` becomes its INVITE (CSeq 1).
    void invite(std::string& out);
    const std::string& call_id() const { return call_id_; }

    // A 2xx to the INVITE: takes the dialog (To with the callee's tag, the
    // Contact as remote target, the route set: Record-Route reversed) and
    // makes its ACK in `out`.
    void answered(const CallResponse& ok, std::string& out);
    // The BYE of the dialog (CSeq 2), after answered().
    void bye(std::string& out) const;
    static constexpr uint32_t kByeCseq = 2;
    // The ACK of a non-2xx final response (hop by hop: the INVITE's branch
    // and Request-URI, the response's To).
    void failed(const CallResponse& final_response, std::string& out) const;

  private:
    // Request line, Via (branch with `suffix`), Route, Max-Forwards, From,
    // To, Call-ID, CSeq.
    void in_dialog(std::string_view method, char suffix, uint32_t cseq, std::string_view uri,
                   std::string_view to, bool routes, std::string& out) const;

    std::string invite_head_;  // "INVITE <callee> SIP/2.0\r\nVia: ...;branch=<prefix>"
    std::string from_head_;    // "\r\nMax-Forwards: 70\r\nFrom: <sip:user@domain>;tag="
    std::string to_callee_;    // "\r\nTo: <callee>\r\nCall-ID: "
    std::string invite_tail_;  // "\r\nCSeq: 1 INVITE\r\nContact ... \r\n\r\n<SDP>"
    std::string via_head_;     // "Via: SIP/2.0/WS host;branch=<prefix>"
    std::string from_;         // "<sip:user@domain>"
    std::string callee_;
    std::string call_id_prefix_;
    uint64_t number_ = 0;
    std::string call_id_;  // the current call's; also its From tag
    std::string number_text_;
    // The dialog, from the 2xx.
    std::string to_;
    std::string remote_target_;
    std::vector<std::string> route_set_;
};

// What CallSlots needs from its connection.
class CallTransport {
  public:
    // An empty string to build a message in (a written one's, capacity kept).
    virtual std::string buffer() = 0;
    // Queues a message on the WebSocket.
    virtual void write(std::string message) = 0;
    // Calls CallSlots::hold_expired(slot, token) after `delay`; a new hold
    // of the slot replaces the one before (whose wait may still end: the
    // token tells it apart).
    virtual void hold(uint32_t slot, uint64_t token, std::chrono::milliseconds delay) = 0;
    // Whether new calls may start (the run is not over, the connection up).
    virtual bool may_start() const = 0;

  protected:
    ~CallTransport() = default;
};

// The calls of one connection: K slots, each INVITE -> (1xx) -> 2xx -> ACK
// -> hold -> BYE -> 2xx, then the next call. A non-2xx final is ACKed and
// the slot calls again; a transaction unanswered for `timeout` is given up
// (counted) and the slot calls again (after a Retry-After, if asked); a BYE from the network ends
// the call and the slot calls again. Counting goes into the caller's LoadCounters (when
// `counting`): responses to INVITE by code (1xx included) and the INVITE -> 2xx latency, responses
// to BYE by code and the BYE -> final latency, calls (BYE answered 2xx), bad_sdp, timeouts.
class CallSlots {
  public:
    using Clock = std::chrono::steady_clock;

    struct Policy {
        std::chrono::milliseconds hold{0};  // from the ACK to the BYE
        std::chrono::milliseconds timeout{5000};
        // A failed INVITE's Retry-After (up to a minute) is waited out
        // before the slot calls again (counted in retry_waits); without,
        // the slot calls again at once.
        bool retry_after = false;
        // Each slot's first call waits a random part of `hold`, so that
        // calls start and end at a steady rate rather than in step.
        bool stagger = false;
    };
    // `active` (may be null) counts the calls under way, across connections.
    CallSlots(const std::vector<CallIdentity>& slots, const Policy& policy,
              std::atomic<std::size_t>* active);

    // Every idle slot starts a call (or, staggered, waits to).
    void start(CallTransport& t, Clock::time_point now, bool counting, LoadCounters& c);
    // A response whose CSeq method is not REGISTER. `first_unexpected`
    // takes the first final response >= 300, whole, while it is empty.
    void on_response(const CallResponse& r, std::string_view bytes, Clock::time_point now,
                     bool counting, LoadCounters& c, std::string& first_unexpected,
                     CallTransport& t);
    // A request from the network. A BYE for a call here ends it (200,
    // counted in byes_received) and the slot calls again; a BYE crossing
    // this side's own gets 200 and the call ends at that BYE's answer; an
    // ACK is taken; a BYE or CANCEL for no call here gets 481, any other
    // method 405 with Allow (requests_refused).
    void on_request(const CallRequest& r, std::string_view bytes, Clock::time_point now,
                    bool counting, LoadCounters& c, CallTransport& t);
    // The hold timer of `slot` went off: its BYE (or, waiting out a
    // Retry-After, its next call); nothing unless `token` is the slot's
    // latest hold (a timer of an earlier call of the slot).
    void hold_expired(uint32_t slot, uint64_t token, Clock::time_point now, CallTransport& t,
                      bool counting, LoadCounters& c);
    // Gives up transactions older than the timeout.
    void sweep(Clock::time_point now, bool counting, LoadCounters& c, CallTransport& t);
    // The connection is gone: every call ends here (not in the proxy).
    void abandon();

  private:
    enum class State : uint8_t {
        Idle,
        Inviting,  // INVITE sent, no final response yet
        Holding,   // 2xx ACKed, BYE after the hold
        Ending,    // BYE sent
        Waiting,   // no call: a Retry-After (or the stagger) waited out
    };
    struct Slot {
        explicit Slot(const CallIdentity& id) : leg(id) {}
        CallLeg leg;
        State state = State::Idle;
        Clock::time_point sent{};  // of the INVITE, then of the BYE
        std::string ack;           // the 2xx's ACK, again for a retransmitted 2xx
        uint64_t hold_token = 0;   // of the latest hold armed
    };

    void arm(uint32_t i, CallTransport& t, std::chrono::milliseconds delay);

    void start_call(uint32_t i, CallTransport& t, Clock::time_point now, bool counting,
                    LoadCounters& c);
    void send_bye(uint32_t i, CallTransport& t, Clock::time_point now);
    void end_call(uint32_t i);

    std::vector<Slot> slots_;
    Policy policy_;
    std::atomic<std::size_t>* active_;
};

}  // namespace isthmus::bench
