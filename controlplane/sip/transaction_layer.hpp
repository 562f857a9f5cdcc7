// The SIP transaction layer (RFC 3261 17, with RFC 6026's Accepted state),
// sans I/O: messages and time in, actions out. It never opens a socket,
// reads a clock or starts a thread; its owner (the P-CSCF's event loop)
// gives it every message, every transport failure and the time, and carries
// out what it asks.
//
//   TransactionLayer layer(config);
//   // Toward the IMS: a client transaction (the caller's Via on top; the
//   // layer adds the branch).
//   SendResult r = layer.send_request(std::move(request), peer, now);
//   // Everything a transport receives, once parsed and validated:
//   Inbound in = layer.on_message(message, source, now);
//   switch (in.disposition) { case Disposition::NewServerTransaction: ...
//                             case Disposition::Response: ... }
//   // The TU's answers to server transactions:
//   layer.respond(in.transaction, std::move(response), now);
//   // Time: call advance() at next_deadline() (or later).
//   layer.advance(now);
//   // After every call: carry out the actions, oldest first.
//   while (auto a = layer.poll()) { ... Send / Timeout / TransportError / Terminated }
//
// Bounds: at most max_transactions live transactions (new ones are refused:
// Overloaded / TooManyTransactions, the caller answers 503); at most
// max_pending_actions queued actions (a call that could overflow the queue
// does nothing and says QueueFull; advance() stops firing timers when the
// queue is full and resumes on the next call). Each transaction holds at
// most its request (client) and the last message it sent; at most three
// timers run per transaction.
//
// The layer trusts the TU (respond's response is its own) and not the
// network: on_message accepts any message, and a message that fits no rule
// is rejected, counted and left to the caller (never thrown, never fatal).
// The caller should run validate_request / validate_response first (the
// layer itself reads only the top Via and, of a response, the CSeq).
//
// Time: every call takes `now`; an earlier time than one given before is
// taken as that one (time never goes back). Timers are scheduled from the
// time of the call that set them; advance(now) fires every timer due at or
// before `now` once, in deadline order.
//
// Thread-safety: none. One layer belongs to one thread (or strand); all
// calls, poll() included, come from it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>

#include "sip/message.hpp"
#include "sip/timers.hpp"
#include "sip/transaction.hpp"

namespace isthmus::sip {

struct LayerConfig {
    TimerConfig timers;
    // Active transactions (client and server together); >= 1. A
    // transaction that only lingers to absorb retransmissions (timers D, I,
    // J, K, L, M: up to 64*T1 after its final response) does not count
    // here: at a steady rate r, r * T4 of them linger behind the active ones
    // (20,000/s over UDP: 100,000), holding at most the last message sent.
    // They are bounded apart, at kLingerPerActive * max_transactions; a new
    // transaction beyond either bound is refused (Overloaded).
    std::size_t max_transactions = 10000;
    // Queued actions; >= kMaxActionsPerCall.
    std::size_t max_pending_actions = 1024;
    // An INVITE server transaction sends 100 Trying as soon as it is made
    // (17.2.1: "unless it knows that the TU will generate a provisional or
    // final response within 200 ms"; a proxy always sends it, 16.2). False:
    // the TU sends its own.
    bool send_100_trying = true;
    // The random part of each new branch (8.1.1.7). Empty: a
    // std::mt19937_64 seeded from std::random_device. Called from the
    // layer's thread only.
    std::function<uint64_t()> random;
};

// Lingering transactions allowed per active one (LayerConfig::max_transactions).
inline constexpr std::size_t kLingerPerActive = 8;

// The most actions one call (or one timer) can queue.
inline constexpr std::size_t kMaxActionsPerCall = 2;

// Counters for the exporter (isthmus_sip_transaction_..._total). X(name, what).
#define ISTHMUS_SIP_TRANSACTION_COUNTER(X)                                           \
    X(client_transactions, "client transactions made by send_request")               \
    X(server_transactions, "server transactions made by on_message (CANCEL too)")    \
    X(retransmissions_sent, "messages sent again (timers A/E/G, absorbed requests)") \
    X(requests_absorbed, "request retransmissions and ACKs kept in the layer")       \
    X(responses_absorbed, "response retransmissions kept in the layer")              \
    X(stray_responses, "responses for no transaction (or a 2xx after a 300-699)")    \
    X(acks_to_core, "ACKs passed to the core (2xx ACKs)")                            \
    X(timeouts, "Timer B, F or H fired")                                             \
    X(transport_errors, "on_transport_error calls that named a live transaction")    \
    X(overloaded, "new transactions refused at max_transactions")                    \
    X(queue_full, "calls refused because the action queue was full")

struct TransactionStats {
#define ISTHMUS_X(name, doc) uint64_t name = 0;
    ISTHMUS_SIP_TRANSACTION_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    std::array<uint64_t, kRejectCount> rejected{};  // by Reject
};

class TransactionLayer {
  public:
    // Throws std::invalid_argument naming the setting when a timer is not
    // positive, t1 > t2, max_transactions is 0 or max_pending_actions is
    // below kMaxActionsPerCall.
    explicit TransactionLayer(LayerConfig config = {});

    // Starts a client transaction for `request` toward `peer` (RFC 3261
    // 17.1.1 for INVITE, 17.1.2 otherwise, CANCEL included) and queues it
    // for sending. The request must carry the caller's Via on top (its
    // sent-by is the transport's business). Without a branch there, a fresh
    // one is added (make_branch); with one, it must have the magic cookie
    // (a CANCEL carries its INVITE's, 9.1). Errors: see SendStatus; the
    // request is then dropped and nothing is queued.
    SendResult send_request(Message request, const Peer& peer, TimePoint now);

    // One message a transport received from `source`, parsed (and
    // preferably validated). Requests go to server transactions (17.2.3;
    // a new one is made when none matches), responses to client transactions
    // (17.1.3). See Disposition for every outcome. `source` becomes the
    // Peer of a new server transaction (its responses go there); for a
    // response or a retransmission it is not used. The message is not kept.
    Inbound on_message(const Message& message, const Peer& source, TimePoint now);

    // The TU's response on server transaction `id`: 100-199 any number of
    // times before a final one, then one final response (an INVITE's 2xx
    // may be repeated while Accepted: the TU retransmits it, 13.3.1.4).
    // Queued for sending to the request's source. Errors: see RespondStatus.
    RespondStatus respond(TransactionId id, const Message& response, TimePoint now);

    // The transport could not send a message of transaction `id` (17.1.4,
    // 17.2.4). Queues TransportError (and Terminated, see ActionKind).
    // False if `id` names no live transaction or the queue is full.
    bool on_transport_error(TransactionId id, TimePoint now);
    // The client transactions still waiting for a final response that sent
    // toward `peer`'s transport, address and port (its flow is not
    // compared): those a transport error on that peer ends. O(live
    // transactions): for rare events.
    std::vector<TransactionId> clients_toward(const Peer& peer) const;

    // Fires the timers due at or before `now` (see the file comment).
    void advance(TimePoint now);
    // When advance() should next be called; nullopt when no timer runs.
    // Equal to or before the last `now` when advance() stopped early.
    std::optional<TimePoint> next_deadline() const;

    // The oldest queued action, removed from the queue; nullopt when empty.
    std::optional<Action> poll();
    std::size_t pending_actions() const { return actions_.size(); }

    // The state and kind of a live transaction (nullopt: no such id).
    std::optional<TransactionState> state(TransactionId id) const;
    std::optional<TransactionKind> kind(TransactionId id) const;
    // Live transactions, lingering ones included; the lingering ones alone.
    std::size_t size() const { return transactions_.size(); }
    std::size_t lingering() const { return lingering_; }
    const LayerConfig& config() const { return config_; }
    const TransactionStats& stats() const { return stats_; }

  private:
    // Timer slots: one retransmission timer (A, E, G), one timeout (B, F, H)
    // and one that ends the transaction (D, I, J, K, L, M).
    enum Slot : uint8_t { kRetransmit = 0, kTimeout = 1, kLifetime = 2, kSlots = 3 };

    struct Record {
        TransactionId id;
        TransactionKind kind = TransactionKind::NonInviteServer;
        TransactionState state = TransactionState::Trying;
        Peer peer;
        bool reliable = false;
        bool lingering = false;  // final response done: absorbing retransmissions only
        std::string key;         // in client_index_ or server_index_
        // Client: the request as sent (the ACK for a 300-699 is built from it).
        Message request;
        // Client: the request's octets (A/E retransmit them). INVITE client
        // in Completed: the ACK. Server: the last response sent.
        std::shared_ptr<const std::string> request_bytes;
        std::shared_ptr<const std::string> last_sent;
        std::array<std::optional<TimePoint>, kSlots> timer_at;
        std::array<TimerName, kSlots> timer_name{};
        Duration retransmit_interval{0};
    };

    struct TimerEntry {
        TimePoint at;
        uint64_t id;
        uint8_t slot;
        auto operator<=>(const TimerEntry&) const = default;
    };

    // transaction_layer.cpp
    Record* find(TransactionId id);
    const Record* find(TransactionId id) const;
    // Room for one more transaction under both bounds.
    bool admits() const {
        return transactions_.size() - lingering_ < config_.max_transactions &&
               lingering_ < config_.max_transactions * kLingerPerActive;
    }
    bool has_room() const {
        return config_.max_pending_actions - actions_.size() >= kMaxActionsPerCall;
    }
    Record& create(TransactionKind kind, const Peer& peer, std::string key);
    void set_timer(Record& r, Slot slot, TimerName name, Duration after);
    void cancel_timer(Record& r, Slot slot);
    void send(Record& r, std::shared_ptr<const std::string> bytes, bool retransmission);
    void notify(ActionKind kind, TransactionId id, TimerName timer = TimerName::B);
    // Queues Terminated and destroys `r` (the reference dies with it).
    void terminate(Record& r);
    // Sets lifetime timer `name`, or terminates at once when it is 0.
    void linger(Record& r, TimerName name);
    Inbound on_request(const Message& request, const Peer& source);
    Inbound on_response(const Message& response);
    uint64_t next_random();

    // transaction_client.cpp
    void start_client(Record& r, Message request);
    Inbound client_response(Record& r, const Message& response);
    void client_timer(Record& r, Slot slot);

    // transaction_server.cpp
    void start_server(Record& r, const Message& request);
    Inbound server_request(Record& r, const Message& request);
    RespondStatus server_respond(Record& r, const Message& response);
    void server_timer(Record& r, Slot slot);

    LayerConfig config_;
    TimePoint now_{};
    uint64_t next_id_ = 1;
    uint64_t branch_counter_ = 0;
    std::mt19937_64 rng_;
    std::unordered_map<uint64_t, Record> transactions_;
    std::size_t lingering_ = 0;  // records with `lingering` set
    std::unordered_map<std::string, uint64_t> client_index_;
    std::unordered_map<std::string, uint64_t> server_index_;
    std::set<TimerEntry> timers_;
    std::deque<Action> actions_;
    TransactionStats stats_;
};

}  // namespace isthmus::sip
