// The vocabulary of the SIP transaction layer (RFC 3261 17, RFC 6026):
// transaction ids, transports and peers, the four machines and their
// states, what the layer asks its owner to do (Action) and what it did with
// an incoming message (Inbound). The layer itself is in
// transaction_layer.hpp.
//
// Plain values; thread-safety: any thread.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sip/timers.hpp"

namespace isthmus::sip {

// Names one transaction of one TransactionLayer for its whole life. Never
// reused by that layer; 0 (the default) names none.
struct TransactionId {
    uint64_t value = 0;
    explicit operator bool() const { return value != 0; }
    auto operator<=>(const TransactionId&) const = default;
};

// The transport a message travels on (RFC 3261 18; RFC 7118 WS/WSS). The
// layer only asks whether it is reliable: retransmission timers run over
// UDP only, and D, I, J, K are 0 over the others.
enum class Transport : uint8_t { Udp, Tcp, Tls, Sctp, Ws, Wss };
constexpr bool is_reliable(Transport t) {
    return t != Transport::Udp;
}
std::string_view transport_name(Transport t);  // "UDP", "TCP", ... (Via spelling)

// The other end of one hop, in the transport's own terms. The layer stores
// the Peer given with a request (send_request: where it goes; on_message:
// where it came from) and hands it back unchanged in every Send action of
// that transaction; it reads nothing but `transport`.
//  - flow: the transport's connection or socket id (a WebSocket or TCP
//    connection, the UDP socket); 0 if the transport has none yet.
//  - address, port: the remote address (IPv4 as IPv4-mapped IPv6) and port,
//    for datagram transports and for connections still to be opened.
// For a server transaction the Peer is the request's source: the transport
// applies RFC 3261 18.2.2 (same connection; over UDP the Via's received /
// rport / maddr) when it sends the responses.
struct Peer {
    Transport transport = Transport::Udp;
    uint64_t flow = 0;
    std::array<uint8_t, 16> address{};
    uint16_t port = 0;
    bool operator==(const Peer&) const = default;
};

enum class TransactionKind : uint8_t {
    InviteClient,     // RFC 3261 17.1.1, RFC 6026 figure 5
    NonInviteClient,  // 17.1.2, figure 6
    InviteServer,     // 17.2.1, RFC 6026 figure 7
    NonInviteServer,  // 17.2.2, figure 8 (CANCEL included)
};
constexpr bool is_client(TransactionKind k) {
    return k == TransactionKind::InviteClient || k == TransactionKind::NonInviteClient;
}
std::string_view transaction_kind_name(TransactionKind k);

// The states of the four machines. Terminated is never observed through
// state(): a transaction that reaches it is destroyed at once (and a
// Terminated action says so).
enum class TransactionState : uint8_t {
    Calling,     // INVITE client: request sent, nothing received
    Trying,      // non-INVITE client and server: nothing provisional yet
    Proceeding,  // a provisional response received (client) or sent (server)
    Completed,   // a final response (INVITE: 300-699) received (client) or sent (server)
    Accepted,    // INVITE, RFC 6026: a 2xx received (client) or sent (server)
    Confirmed,   // INVITE server: the ACK for a 300-699 received
    Terminated,
};
std::string_view transaction_state_name(TransactionState s);

// What the layer asks its owner to do, in order (TransactionLayer::poll).
enum class ActionKind : uint8_t {
    // Transport: send `bytes` to `peer`. If that fails, call
    // on_transport_error(transaction) (RFC 3261 17.1.4, 17.2.4).
    Send,
    // TU: the transaction timed out: Timer B (INVITE) or F (non-INVITE) for a
    // client transaction, to be treated as a 408 (RFC 3261 8.1.3.1, 16.7
    // step 2 for a proxy); Timer H for an INVITE server transaction: the ACK
    // for its 300-699 never came (17.2.1). `timer` says which. A Terminated
    // action follows.
    Timeout,
    // TU: the transport failed to send a message of this transaction. Client
    // transactions and non-INVITE server transactions end (a Terminated action
    // follows); an INVITE server transaction carries on (RFC 6026 figure 7).
    TransportError,
    // TU: the transaction is gone; its id names nothing any more. Exactly one
    // per transaction, always the last action about it.
    Terminated,
};
std::string_view action_kind_name(ActionKind k);

struct Action {
    ActionKind kind = ActionKind::Send;
    TransactionId transaction;
    // Send: where, and the octets of one whole SIP message (serialize()d once;
    // shared with the transaction's copy for retransmission: do not modify).
    Peer peer;
    std::shared_ptr<const std::string> bytes;
    // Send: a copy of a message sent before (Timer A/E/G, or the last response
    // resent for a retransmitted request, or an ACK resent).
    bool retransmission = false;
    // Timeout: B, F or H.
    TimerName timer = TimerName::B;
};

// Why the layer would not look at an incoming message. X(Enumerator,
// "metric_label", "meaning: what the caller does").
#define ISTHMUS_SIP_TRANSACTION_REJECT(X)                                                       \
    X(None, "none", "not rejected")                                                             \
    X(NotAMessage, "not_a_message", "neither request nor response: drop")                       \
    X(MissingVia, "missing_via", "no Via: a request gets 400 (or drop), a response is dropped") \
    X(MalformedVia, "malformed_via", "the top Via does not parse: 400 / drop")                  \
    X(NoMagicCookie, "rfc2543_branch",                                                          \
      "request whose top Via branch is absent or lacks z9hG4bK: RFC 2543 matching "             \
      "(17.2.3) is not supported: 400 (or drop)")                                               \
    X(MalformedCSeq, "malformed_cseq", "response without a CSeq that parses: drop")

enum class Reject : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_SIP_TRANSACTION_REJECT(ISTHMUS_X)
#undef ISTHMUS_X
};
inline constexpr std::size_t kRejectCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_SIP_TRANSACTION_REJECT(ISTHMUS_X)
#undef ISTHMUS_X
    ;
std::string_view reject_name(Reject r);  // the metric label

// What on_message did with a message.
enum class Disposition : uint8_t {
    // Request: a new server transaction `transaction` holds it; pass the
    // request to the TU, which answers through respond(). (An INVITE may
    // already have had its 100 Trying queued: LayerConfig::send_100_trying.)
    NewServerTransaction,
    // CANCEL (RFC 3261 9.2): a new non-INVITE server transaction
    // `transaction` holds it (the TU answers it through respond()), and
    // `invite` is the INVITE server transaction it matches by 17.2.3 (0 if
    // none: a UAS answers the CANCEL 481, a proxy forwards it statelessly,
    // 16.10). The TU checks state(invite) and answers the INVITE 487.
    Cancel,
    // ACK to pass to the TU (the core): an ACK for a 2xx, end to end
    // (RFC 3261 17.2.3, 13.3.1.4). `transaction` is the INVITE server
    // transaction in Accepted it matched (RFC 6026 figure 7), or 0 when it
    // matched none (the usual case: its branch is new); a proxy forwards it
    // statelessly (16.11).
    Ack,
    // Response for client transaction `transaction`: pass it to the TU
    // (a provisional, the first final response, or the first 2xx).
    Response,
    // A retransmitted 2xx for an INVITE client transaction in Accepted:
    // also for the TU (RFC 6026 7.2: a UA sends its ACK again, a proxy
    // forwards it upstream). `transaction` is that transaction.
    Response2xxRetransmission,
    // A retransmission the transaction dealt with itself (`transaction`):
    // a request (whose last response may have been queued again), an ACK for
    // a 300-699, a response already passed up (a 300-699 whose ACK was queued
    // again). Nothing for the TU.
    Absorbed,
    // A response that matches no client transaction, or a 2xx that arrives
    // at an INVITE client transaction after a 300-699 (`transaction` is then
    // that one). RFC 3261 18.1.2 / RFC 6026 7.2: the core decides; a
    // proxy forwards it statelessly (16.7 note), a UA drops it.
    StrayResponse,
    // New request refused: LayerConfig::max_transactions live transactions.
    // The caller answers 503 Service Unavailable statelessly (ACK excepted:
    // it never makes a transaction) or drops it.
    Overloaded,
    // Not looked at: the action queue lacks room for what this call could
    // queue. Drain it with poll() and call again.
    QueueFull,
    // Unusable message: `reject` says why and what to do.
    Rejected,
};
std::string_view disposition_name(Disposition d);

struct Inbound {
    Disposition disposition = Disposition::Rejected;
    TransactionId transaction;
    TransactionId invite;  // Cancel only
    Reject reject = Reject::None;
};

// What send_request did.
enum class SendStatus : uint8_t {
    Ok,                    // a client transaction runs; its request is queued
    NotARequest,           // a response, or nothing
    AckNotATransaction,    // ACK: the core sends an ACK for a 2xx itself (17.1.1.3
                           // ACKs for 300-699 are made by the transaction)
    MissingVia,            // the caller must put its own Via (sent-by) on top
    MalformedVia,          // the top Via does not parse
    BadBranch,             // the top Via has a branch without z9hG4bK
    MalformedCSeq,         // no CSeq, or one that does not parse
    CSeqMethodMismatch,    // CSeq method differs from the request method
    DuplicateTransaction,  // a live client transaction has this branch and method
    TooManyTransactions,   // LayerConfig::max_transactions reached
    QueueFull,             // drain poll() first
};
std::string_view send_status_name(SendStatus s);

struct SendResult {
    SendStatus status = SendStatus::NotARequest;
    TransactionId transaction;  // Ok only
    std::string branch;         // Ok only: the branch of the top Via as sent
};

// What respond did.
enum class RespondStatus : uint8_t {
    Ok,                     // the response is queued (and the machine moved)
    UnknownTransaction,     // no live transaction has this id
    NotAServerTransaction,  // the id names a client transaction
    NotAResponse,           // a request, or a status code outside 100..699
    WrongState,             // a final response was already sent (a 2xx to an
                            // INVITE may be sent again while Accepted)
    QueueFull,              // drain poll() first
};
std::string_view respond_status_name(RespondStatus s);

}  // namespace isthmus::sip
