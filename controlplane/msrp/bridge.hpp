// The gateway's MSRP bridge for one chat session (issue 9), sans I/O: the
// browser's MSRP session over a WebRTC data channel (RFC 8873) on one side,
// the IMS UE's MSRP session over TCP (RFC 4975) on the other, the gateway a
// back-to-back endpoint with its own URI on each (relay.hpp says why).
//
// Bytes in, bytes out. The caller owns the data channel, the TCP socket,
// the clock and the random source; the bridge opens nothing, reads no clock
// and invents no transaction id (it asks the caller's TransactionIdSource).
//
// Framing per side:
//  - data channel: one data channel message carries exactly one MSRP
//    message (one chunk), whole (RFC 8873 6, its data framing: each chunk in
//    one SCTP user message, no larger than the peer's a=max-message-size,
//    RFC 8841 6), so each from_channel() call is parse_message()'d on its
//    own; every message the bridge puts out for the channel is one data
//    channel message of at most BridgeLimits::max_channel_message octets;
//  - TCP: a byte stream, framed by a StreamFramer; the bytes put out for
//    TCP are one stream.
//
// For each request arriving on a leg (see docs/msrp.md):
//  1. framing: a parse error on TCP fails the session (MSRP cannot
//     resynchronise a stream); on the channel the message alone is lost:
//     400 when its start line gave a request's transaction id, else it is
//     dropped; both are counted and the session goes on;
//  2. its first To-Path URI must be our URI on that leg (addressed_to),
//     else 481 (RFC 4975 7.3) and nothing is relayed;
//  3. SEND and REPORT are relayed; any other method gets 501 (RFC 4975
//     10: the gateway is an endpoint on each leg, and AUTH is for RFC 4976
//     relays);
//  4. a bodiless SEND (RFC 4975 5.4, 7.1.1: what an endpoint sends to bind
//     a fresh connection to its session) is answered and consumed, not
//     relayed;
//  5. the request is answered on its own leg (make_response 200, when
//     response_wanted: never to a REPORT, not with Failure-Report no, only
//     errors with partial) -- transactions are hop by hop (RFC 4975 7.2);
//  6. it is sent on the other leg as a new transaction (relay_request: the
//     other leg's paths, a new transaction id, all else as received: chunks
//     and their Byte-Range and $ + # flags pass through). A chunk whose
//     serialization exceeds max_channel_message is re-chunked toward the
//     channel: split into chunks that fit, each with its own transaction id
//     and exact Byte-Range, all but the last flagged '+', the last keeping
//     the original range end and flag (RFC 4975 5.1 and 7.1: chunk
//     boundaries are the sender's, the receiver reassembles by Byte-Range;
//     on the channel leg the gateway is the sender). One whose headers alone
//     do not fit gets 413 and is not relayed.
//
// Responses. Having answered the originator itself, the gateway keeps the
// far endpoint's response to the relayed copy as the sender of that copy:
// the response is consumed, never forwarded (the original transaction
// already has its 200). The bridge remembers, per direction, the relayed
// transactions a response may come back for (SENDs without Failure-Report
// no; at most max_outstanding each way, the oldest forgotten first and
// counted), with the original request. A 200 just closes the entry. An
// error code is the far endpoint refusing the message, which the
// originator can only learn from a REPORT: when it asked for failure
// reports (Failure-Report yes or partial) the bridge sends it one
// (make_report, RFC 4975 7.1.2: Status 000 <code>, the chunk's
// Byte-Range, its Message-ID) on the originator's leg. This is what an RFC
// 4976 relay does with an error response for a request it already
// answered. A response whose transaction id is not remembered is dropped
// and counted.
//
// Backpressure: what waits for the caller to take it is bounded per side
// (max_queued_bytes). Going over the bound fails the session: a peer that
// stops reading must not grow the gateway's memory. Before tcp_connected()
// everything for TCP is queued (within the same bound).
//
// Outcome: state() is Ok until the session fails (Failed, with failure()
// and failure_detail()) or a side closes (Closed). On Failed and on Closed
// the caller closes both the TCP connection and the data channel. After
// either, inputs are ignored; queued output may still be taken (flushing
// it is the caller's choice).
//
// Thread-safety: a Bridge is one session's and is used by one thread at a
// time (the session's strand); no locks. The TransactionIdSource is called
// from within the inputs (from_channel, from_tcp, tcp_connected) on that
// thread; it must not call back into the Bridge.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "msrp/message.hpp"
#include "msrp/parser.hpp"
#include "msrp/relay.hpp"

namespace isthmus::msrp {

// Returns a fresh transaction id on each call: an ident of 4..32
// characters (RFC 4975 9), random (RFC 4975 7.1: whoever supplies a body
// must not be able to guess the end line that will close it). The same
// source gives the Message-ID of the bodiless SEND sent on an active
// connection.
using TransactionIdSource = std::function<std::string()>;

struct BridgeLimits {
    // The largest data channel message the bridge sends: the peer's
    // a=max-message-size (RFC 8841 6; RFC 8873 6: the whole chunk, start
    // line to end line, counts) minus the headroom the caller keeps. A
    // value below what a response needs leaves the bridge unable to answer
    // on the channel (such messages are dropped and counted as too_large).
    std::size_t max_channel_message = 16384;
    // Framing limits for both sides (the StreamFramer on TCP, parse_message
    // on the channel).
    ParseLimits parse;
    // Octets waiting for the caller, per side, above which the session
    // fails (backlog_channel / backlog_tcp).
    std::size_t max_queued_bytes = 1 << 20;
    // Relayed transactions remembered per direction for their responses.
    std::size_t max_outstanding = 256;
};

// Who opened the TCP connection (RFC 4975 8.5 / RFC 6135 a=setup).
enum class TcpRole : uint8_t {
    Passive,  // the UE connected to us; it sends the first request
    Active,   // we connected; we send a request at once (a bodiless SEND if none is queued)
};

enum class BridgeState : uint8_t { Ok, Failed, Closed };

// X(Enumerator, "metric_label", "what it means")
#define ISTHMUS_MSRP_BRIDGE_FAILURE(X)                                                         \
    X(None, "none", "not failed")                                                              \
    X(TcpParseError, "tcp_parse_error", "the TCP stream broke MSRP framing (no resync)")       \
    X(BacklogChannel, "backlog_channel", "over max_queued_bytes waiting for the data channel") \
    X(BacklogTcp, "backlog_tcp", "over max_queued_bytes waiting for TCP")                      \
    X(IdSource, "id_source",                                                                   \
      "the id source gave no usable ident in several tries (not an ident, or in the body)")

enum class BridgeFailure : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_MSRP_BRIDGE_FAILURE(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kBridgeFailureCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_MSRP_BRIDGE_FAILURE(ISTHMUS_X)
#undef ISTHMUS_X
    ;

constexpr std::string_view bridge_failure_name(BridgeFailure f) {
    constexpr std::array<std::string_view, kBridgeFailureCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_MSRP_BRIDGE_FAILURE(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(f)];
}

// X(Enumerator, "metric_label", "what it counts")
#define ISTHMUS_MSRP_BRIDGE_COUNTER(X)                                                            \
    X(ChannelInMessages, "channel_in_messages", "data channel messages received")                 \
    X(ChannelInBytes, "channel_in_bytes", "octets of them")                                       \
    X(ChannelOutMessages, "channel_out_messages", "data channel messages queued to send")         \
    X(ChannelOutBytes, "channel_out_bytes", "octets of them")                                     \
    X(TcpInMessages, "tcp_in_messages", "MSRP messages framed from TCP")                          \
    X(TcpInBytes, "tcp_in_bytes", "octets received on TCP")                                       \
    X(TcpOutMessages, "tcp_out_messages", "MSRP messages queued for TCP")                         \
    X(TcpOutBytes, "tcp_out_bytes", "octets of them")                                             \
    X(RelayedToTcp, "relayed_to_tcp", "requests from the channel sent on TCP")                    \
    X(RelayedToChannel, "relayed_to_channel", "requests from TCP sent on the channel")            \
    X(ResponsesSent, "responses_sent", "responses the gateway sent (any code, either leg)")       \
    X(SessionDoesNotExist, "session_does_not_exist", "requests not to our URI (481 if wanted)")   \
    X(UnknownMethods, "unknown_methods", "requests neither SEND nor REPORT (501 if wanted)")      \
    X(EmptySends, "empty_sends", "bodiless SENDs answered and not relayed")                       \
    X(TooLarge, "too_large", "messages that cannot fit a data channel message (413 if wanted)")   \
    X(ChannelParseErrors, "channel_parse_errors", "data channel messages that did not parse")     \
    X(ChannelBadRequests, "channel_bad_requests", "of those, answered 400")                       \
    X(ChannelDropped, "channel_dropped", "of those, dropped (no request transaction id)")         \
    X(TcpParseErrors, "tcp_parse_errors", "framing errors on TCP (each fails the session)")       \
    X(Rechunked, "rechunked", "chunks from TCP split to fit the data channel")                    \
    X(RechunkPieces, "rechunk_pieces", "chunks the splits produced")                              \
    X(ResponsesConsumed, "responses_consumed", "200s to relayed requests")                        \
    X(ErrorResponses, "error_responses", "other codes to relayed requests")                       \
    X(FailureReportsSent, "failure_reports_sent", "REPORTs sent for those error responses")       \
    X(UnknownResponsesDropped, "unknown_responses_dropped", "responses to no remembered request") \
    X(OutstandingEvicted, "outstanding_evicted", "relayed requests forgotten unanswered (bound)")

enum class BridgeCounter : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_MSRP_BRIDGE_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kBridgeCounterCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_MSRP_BRIDGE_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    ;

constexpr std::string_view bridge_counter_name(BridgeCounter c) {
    constexpr std::array<std::string_view, kBridgeCounterCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_MSRP_BRIDGE_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(c)];
}

struct BridgeStats {
    std::array<uint64_t, kBridgeCounterCount> counters{};
    // One session fails at most once: 1 at its reason, summed by whoever
    // aggregates sessions.
    std::array<uint64_t, kBridgeFailureCount> failures{};

    uint64_t operator[](BridgeCounter c) const { return counters[static_cast<std::size_t>(c)]; }
    uint64_t failed(BridgeFailure f) const { return failures[static_cast<std::size_t>(f)]; }
};

class Bridge {
  public:
    // `channel`: the browser's session (our URI in the SDP toward the
    // browser, the browser's a=path); `tcp`: the UE's session (our IMS-side
    // URI, the UE's a=path). Neither peer path may be empty (the caller
    // checks the SDP before building a bridge); `ids` must be callable.
    // Throws std::invalid_argument otherwise (setup, not per message).
    Bridge(Leg channel, Leg tcp, const BridgeLimits& limits, TransactionIdSource ids);
    Bridge(Bridge&&) = default;
    Bridge& operator=(Bridge&&) = default;
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    // --- inputs ---------------------------------------------------------
    // Each returns state() after it. Inputs after Failed or Closed are
    // ignored.
    //
    // One data channel message, whole (the data channel layer reassembled
    // it from SCTP).
    BridgeState from_channel(std::span<const uint8_t> message);
    // Any piece of the TCP stream, of any size. Call tcp_connected() first.
    BridgeState from_tcp(std::span<const uint8_t> bytes);
    // The TCP connection is up (and, when passive, matched to this session
    // by the caller): queued bytes become available from tcp_pending().
    // Active: if nothing is queued for TCP, a bodiless SEND is queued so the
    // UE can bind the connection to its session (RFC 4975 5.4); its
    // response is consumed.
    BridgeState tcp_connected(TcpRole role = TcpRole::Passive);
    // The TCP connection ended (FIN, RST or error): Closed (unless Failed).
    BridgeState tcp_closed();
    // The data channel closed (RFC 8873: closing the channel ends the MSRP
    // session on it): Closed (unless Failed).
    BridgeState channel_closed();

    // --- outputs (pulled) -------------------------------------------------
    // The next data channel message to send, moved out; nullopt when none.
    // Each is one MSRP message of at most max_channel_message octets. Take
    // them only as fast as the data channel accepts them: what is not taken
    // counts against max_queued_bytes.
    std::optional<std::vector<uint8_t>> next_channel_message();
    bool channel_pending() const { return !channel_out_.empty(); }
    // Octets waiting to be written to TCP: empty until tcp_connected().
    // Valid until the next call on the bridge. After a write took `n` of
    // them, call tcp_consumed(n).
    std::span<const uint8_t> tcp_pending() const;
    void tcp_consumed(std::size_t n);

    // --- state ------------------------------------------------------------
    BridgeState state() const { return state_; }
    BridgeFailure failure() const { return failure_; }
    // One line for a log: the parse error's reason, the backlog size, ...
    const std::string& failure_detail() const { return failure_detail_; }
    const BridgeStats& stats() const { return stats_; }
    // Octets queued per side (what max_queued_bytes bounds).
    std::size_t channel_queued_bytes() const { return channel_queued_; }
    std::size_t tcp_queued_bytes() const { return tcp_out_.size() - tcp_head_; }
    // Relayed requests still remembered for a response, per direction.
    std::size_t outstanding_to_tcp() const { return outstanding_[kTcp].size(); }
    std::size_t outstanding_to_channel() const { return outstanding_[kChannel].size(); }

  private:
    enum Side : uint8_t { kChannel = 0, kTcp = 1 };
    // A request the bridge sent on a side and may get a response for.
    struct Outstanding {
        std::string transaction_id;
        // The request as received on the other side, body dropped (shared by
        // the chunks of one split); null for the bridge's own bodiless SEND.
        std::shared_ptr<const Message> origin;
        ByteRange range;  // the octets this transaction carried
    };

    void on_request(Side from, Message m);
    void on_response(Side from, const Message& m);
    void answer(Side side, const Message& request, uint16_t code);
    // `relayed` (already rewritten for `to`) as the messages to send on
    // `to`: itself, or its re-chunked pieces toward the channel. Empty when
    // it cannot fit the channel, or when the session failed (no ids).
    std::vector<Message> pieces_for(Side to, Message relayed);
    void remember(Side to, std::string transaction_id, std::shared_ptr<const Message> origin,
                  const ByteRange& range);
    // Queues a message on `side`; false when the session failed instead.
    bool send(Side side, const Message& m);
    // A transaction id from the source that is an ident and whose end line
    // is not in `body`; nullopt (and the session Failed) after a few tries.
    std::optional<std::string> fresh_id(std::string_view body);
    void fail(BridgeFailure f, std::string detail);
    void bump(BridgeCounter c, uint64_t n = 1) {
        stats_.counters[static_cast<std::size_t>(c)] += n;
    }
    const Leg& leg(Side s) const { return s == kChannel ? channel_ : tcp_; }
    static Side other(Side s) { return s == kChannel ? kTcp : kChannel; }

    Leg channel_;
    Leg tcp_;
    BridgeLimits limits_;
    TransactionIdSource ids_;
    StreamFramer framer_;

    std::deque<std::vector<uint8_t>> channel_out_;
    std::size_t channel_queued_ = 0;
    std::vector<uint8_t> tcp_out_;  // [tcp_head_, size) not yet written
    std::size_t tcp_head_ = 0;
    bool tcp_up_ = false;

    // Per side the bridge sent on, oldest first.
    std::array<std::deque<Outstanding>, 2> outstanding_;

    BridgeState state_ = BridgeState::Ok;
    BridgeFailure failure_ = BridgeFailure::None;
    std::string failure_detail_;
    BridgeStats stats_;
};

}  // namespace isthmus::msrp
