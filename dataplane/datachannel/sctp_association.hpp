// SCTP over DTLS (RFC 8261) for WebRTC data channels (RFC 8831), issue 9:
// usrsctp driven sans I/O from the slow path's poll loop. Bytes and time go
// in (receive_packet, SctpStack::tick); SCTP packets for the DTLS layer and
// events come out through callbacks. Nothing here opens a socket or reads a
// clock (usrsctp does read one: see Time below). sctp_association.cpp holds
// the stack, setup, sending and closing; sctp_receive.cpp the reading side.
//
// SctpStack is usrsctp itself: process-global state, so one instance at a
// time. It starts usrsctp with usrsctp_init_nothreads (no timer thread, no
// receive threads; timers run in tick()), sets the global settings once
// (ECN off, no UDP encapsulation: port 0, RE-CONFIG and PR-SCTP on, ASCONF
// and AUTH off, bounded send/receive buffers) and routes usrsctp's C
// callbacks to the right association.
//
// SctpAssociation is one association in AF_CONN mode over one DTLS leg: a
// one-to-one usrsctp socket bound to (token, local port) and connected to
// (token, remote port). The token is the AF_CONN address given to
// usrsctp_register_address: a per-association number the stack maps to the
// object, never reused, so a packet usrsctp writes for an association that
// is already gone (an ABORT during close, a late timer) is dropped and
// counted instead of reaching whatever object later lives at the same
// address. Both sides connect (WebRTC's simultaneous open on the same
// ports, RFC 8841 9.3); SCTP's INIT collision handling makes one
// association of the two attempts.
//
// Where callbacks come from:
//  - send_packet is called from inside usrsctp (its conn_output), hence
//    from inside connect / receive_packet / send / reset_stream / close /
//    SctpStack::tick, while usrsctp holds its locks. It must not call any
//    SctpAssociation or SctpStack function (usrsctp's mutexes are not
//    recursive: that would deadlock the slow path). Encrypt or copy the
//    bytes and return; the span dies with the call.
//  - on_message, on_state, on_stream_reset, on_reset_done and on_writable
//    are called only from inside receive_packet() and SctpStack::tick(),
//    after usrsctp has returned (its upcall only marks the association;
//    the stack then reads it with usrsctp_recvv). They may call send,
//    reset_stream and close on any association, and receive_packet; they
//    must not destroy an association or the stack (defer that to after the
//    call returns).
//  - Transitions the owner causes itself (connect: Connecting, close:
//    Closed / ShuttingDown) are not reported through on_state.
//
// Time: usrsctp's timers (retransmission, delayed SACK, heartbeat,
// shutdown) run on tick()'s clock, but usrsctp also reads the wall clock
// itself (gettimeofday): its T3 timeout retransmits only the chunks sent an
// RTO ago by that clock, and RTT samples, PR-SCTP lifetimes and cookie
// lifetimes use it too. The two must run at the same speed: feed tick() a
// clock that advances in real time (the slow path's monotonic ms). A test's
// fake clock must move gettimeofday as well (see the unit tests'
// fake_wall_clock.cpp), or lost packets are never retransmitted.
//
// Memory: a message is reassembled from usrsctp's partial deliveries into
// one buffer of at most max_message_size (released again when it grew past
// 64 KiB); a larger message is read and discarded, then counted. usrsctp
// holds at most the send buffer (SctpStackOptions::send_buffer) of queued
// data per association: beyond it send() says WouldBlock, so a peer that
// stops acknowledging cannot make us grow. The receive buffer bounds what
// usrsctp holds for reassembly.
//
// Threads: the stack and every association belong to the thread that made
// the stack (the slow-path lcore). usrsctp 0.9.5 still starts one thread of
// its own in usrsctp_init_nothreads ("SCTP iterator", idle unless address
// lists change for bound-all sockets, which we have none of); a callback
// arriving on any thread but the owner's is dropped and counted. Everything
// here allocates (usrsctp mallocs per packet): slow path only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "datachannel/dcep.hpp"

struct socket;  // usrsctp's socket

namespace isthmus::datachannel {

struct SctpStackOptions {
    // SO_SNDBUF / SO_RCVBUF of every association (sctp_sendspace /
    // sctp_recvspace). The send buffer bounds what a stalled peer makes us
    // hold and is the largest message send() takes; the receive buffer is
    // the window we advertise.
    uint32_t send_buffer = 1 << 20;
    uint32_t receive_buffer = 1 << 20;
    // Retransmission timer (RFC 9260 6.3; see Time above for its clocks).
    uint32_t rto_initial_ms = 1000;
    uint32_t rto_min_ms = 400;
    uint32_t rto_max_ms = 10000;
    uint32_t max_init_retransmits = 8;    // INIT / COOKIE ECHO: then Failed
    uint32_t max_assoc_retransmits = 10;  // consecutive unanswered: then Failed
    uint32_t delayed_sack_ms = 20;        // usrsctp's default 200 ms is slow for chat
    uint32_t heartbeat_interval_ms = 15000;
    // Chunks an association may queue (send side) or hold (receive side);
    // usrsctp's default of 512 would say WouldBlock long before the send
    // buffer fills with small messages.
    uint32_t max_chunks_on_queue = 8192;
};

// X(name) of the stack's counters.
#define ISTHMUS_SCTP_STACK_COUNTERS(X)                                                \
    X(ticks)             /* tick() calls that ran usrsctp's timers */                 \
    X(orphan_packets)    /* usrsctp wrote for an association already gone: dropped */ \
    X(upcalls)           /* usrsctp marked an association readable or writable */     \
    X(send_packet_threw) /* a send_packet callback threw: the packet is lost */

struct SctpStackCounters {
#define ISTHMUS_X(name) uint64_t name = 0;
    ISTHMUS_SCTP_STACK_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
    // Callbacks usrsctp made on a thread other than the owner's: dropped.
    uint64_t foreign_thread = 0;
};

class SctpAssociation;

class SctpStack {
  public:
    // Starts usrsctp (or reuses it if a previous stack could not finish it)
    // and applies the options. Throws std::logic_error if another SctpStack
    // exists, std::runtime_error naming the setting usrsctp refused.
    explicit SctpStack(SctpStackOptions options = {});
    // Every association must be gone first (aborts the process otherwise).
    // Calls usrsctp_finish, running usrsctp's timers until it lets go.
    ~SctpStack();
    SctpStack(const SctpStack&) = delete;
    SctpStack& operator=(const SctpStack&) = delete;

    // Runs usrsctp's timers for the milliseconds since the previous call
    // (the first call only sets the origin), then delivers what they
    // produced (retransmissions through send_packet, failures through
    // on_state). Call every 10 ms or so; a time earlier than the previous
    // one counts as no time.
    void tick(uint64_t now_ms);

    const SctpStackOptions& options() const { return options_; }
    SctpStackCounters counters() const {
        SctpStackCounters c = counters_;
        c.foreign_thread = foreign_thread_.load(std::memory_order_relaxed);
        return c;
    }
    std::size_t associations() const { return by_token_.size(); }

  private:
    friend class SctpAssociation;
    friend struct SctpGlue;

    uintptr_t attach(SctpAssociation& a);
    void detach(SctpAssociation& a, uintptr_t token);
    void mark(SctpAssociation& a);  // from usrsctp's upcall
    void unmark(SctpAssociation& a);
    void dispatch();  // reads every marked association

    SctpStackOptions options_;
    std::thread::id owner_;
    uintptr_t next_token_ = 1;
    std::unordered_map<uintptr_t, SctpAssociation*> by_token_;
    std::vector<SctpAssociation*> marked_;
    bool dispatching_ = false;
    std::optional<uint64_t> last_tick_ms_;
    std::vector<uint8_t> scratch_;  // usrsctp_recvv reads into it (64 KiB)
    SctpStackCounters counters_;
    std::atomic<uint64_t> foreign_thread_{0};
};

enum class SctpState : uint8_t {
    Idle,          // made, connect() not called yet
    Connecting,    // INIT sent (or answered)
    Up,            // COMM_UP: messages flow
    ShuttingDown,  // close(Shutdown): SHUTDOWN once our queue drains
    Closed,        // shutdown complete, ABORT sent or received
    Failed,        // could not start, or the peer stopped answering
};
std::string_view sctp_state_name(SctpState s);

// X(Enumerator, "metric_label", "meaning")
#define ISTHMUS_SCTP_CLOSE_REASON(X)                                            \
    X(None, "none", "still open")                                               \
    X(LocalAbort, "local_abort", "close(Abort): ABORT sent")                    \
    X(LocalShutdown, "local_shutdown", "close(Shutdown) completed")             \
    X(PeerAbort, "peer_abort", "the peer sent ABORT")                           \
    X(PeerShutdown, "peer_shutdown", "the peer sent SHUTDOWN")                  \
    X(Timeout, "timeout", "the peer stopped answering (retransmissions spent)") \
    X(ConnectFailed, "connect_failed", "INIT or COOKIE ECHO never answered")    \
    X(PeerRestart, "peer_restart", "the peer restarted: its channel state is gone")

enum class SctpCloseReason : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_SCTP_CLOSE_REASON(ISTHMUS_X)
#undef ISTHMUS_X
};
std::string_view sctp_close_reason_name(SctpCloseReason r);

// What send / reset_stream / open / close said. X(Enumerator, "label", "meaning")
#define ISTHMUS_SCTP_SEND_RESULT(X)                                                  \
    X(Ok, "ok", "queued (or the reset requested)")                                   \
    X(WouldBlock, "would_block", "the send buffer is full: retry after on_writable") \
    X(TooLarge, "too_large", "above the peer's max-message-size or the send buffer") \
    X(NotUp, "not_up", "the association is not established (yet)")                   \
    X(Closed, "closed", "the association is shutting down, closed or failed")        \
    X(StreamResetting, "stream_resetting", "our reset of that stream is under way")  \
    X(Invalid, "invalid",                                                            \
      "a stream outside the negotiated ones, or an empty message "                   \
      "of a PPID without an empty form")                                             \
    X(NoChannel, "no_channel", "no open data channel with that id (endpoint)")       \
    X(NoStream, "no_stream", "no free stream id or max_channels reached (endpoint)")

enum class SendResult : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_SCTP_SEND_RESULT(ISTHMUS_X)
#undef ISTHMUS_X
};
inline constexpr std::size_t kSendResultCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_SCTP_SEND_RESULT(ISTHMUS_X)
#undef ISTHMUS_X
    ;
std::string_view send_result_name(SendResult r);

// RFC 8831 6.6: PPIDs 56 and 57 carry an empty string / binary message.
constexpr bool is_empty_ppid(uint32_t ppid) {
    return ppid == static_cast<uint32_t>(Ppid::StringEmpty) ||
           ppid == static_cast<uint32_t>(Ppid::BinaryEmpty);
}

// PR-SCTP (RFC 3758, policies of RFC 7496) for one message.
enum class PrPolicy : uint8_t {
    Reliable,        // retransmitted until acknowledged
    MaxRetransmits,  // abandoned after `pr_value` retransmissions (0: sent once)
    MaxLifetime,     // abandoned `pr_value` ms after send() (usrsctp's own clock)
};

struct SendOptions {
    bool ordered = true;
    PrPolicy policy = PrPolicy::Reliable;
    uint32_t pr_value = 0;
};

struct SctpOptions {
    uint16_t local_port = 5000;   // our a=sctp-port (RFC 8841 5)
    uint16_t remote_port = 5000;  // the peer's a=sctp-port
    // Our a=max-message-size (RFC 8841 6): the largest message delivered;
    // a larger one is read, discarded and counted (dropped_oversize).
    uint32_t max_message_size = 262144;
    // The peer's a=max-message-size: send() refuses larger messages
    // (TooLarge). 0: the peer takes any size (still bounded by the send
    // buffer). RFC 8841 6: 64 KiB when the attribute is absent.
    uint32_t peer_max_message_size = 65536;
    // Inbound and outbound streams asked for in INIT; the association gets
    // the smaller of ours and the peer's (outbound_streams()).
    uint16_t streams = 1024;
    // Largest SCTP packet produced (no PMTU discovery, RFC 8261 5): the DTLS
    // record (13-byte header, up to ~64 bytes of IV, MAC and padding) must
    // still fit the DTLS MTU of 1200.
    uint16_t max_packet_size = 1130;
};

enum class CloseMode : uint8_t {
    Abort,     // ABORT now; the socket and usrsctp's state are released
    Shutdown,  // SHUTDOWN once what is queued is acknowledged (RFC 9260 9.2)
};

struct SctpCallbacks {
    // An SCTP packet for the DTLS layer. From inside usrsctp: see the header.
    std::function<void(std::span<const uint8_t> packet)> send_packet;
    // A whole message on `stream`. PPIDs 56/57 (RFC 8831 6.6: empty
    // string/binary) arrive with an empty span; `ppid` is in host order.
    std::function<void(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data)> on_message;
    // Up, Closed (close_reason() says why) or Failed.
    std::function<void(SctpState state)> on_state;
    // The peer reset its outgoing `stream` (our incoming one): RFC 8831 6.7,
    // the peer closed the data channel on it.
    std::function<void(uint16_t stream)> on_stream_reset;
    // Optional: our reset_stream(stream) finished; `performed` false when the
    // peer denied it or it failed. The stream may carry a new channel after.
    std::function<void(uint16_t stream, bool performed)> on_reset_done;
    // Optional: send() said WouldBlock and there is room again.
    std::function<void()> on_writable;
};

// X(name) of an association's counters.
#define ISTHMUS_SCTP_COUNTERS(X)                                                 \
    X(packets_in)  /* packets handed to usrsctp */                               \
    X(packets_out) /* packets given to send_packet */                            \
    X(packet_bytes_in)                                                           \
    X(packet_bytes_out)                                                          \
    X(packets_refused) /* empty, or the socket is released (close(Abort)) */     \
    X(messages_in)     /* whole messages delivered */                            \
    X(messages_out)    /* messages queued by send() */                           \
    X(message_bytes_in)                                                          \
    X(message_bytes_out)                                                         \
    X(dropped_oversize)      /* messages above max_message_size, discarded */    \
    X(reassembly_broken)     /* a partial message cut short by another stream */ \
    X(send_would_block)      /* send() found the send buffer full */             \
    X(send_too_large)        /* send() refused a message as too large */         \
    X(send_refused)          /* send() / reset_stream() refused otherwise */     \
    X(stream_resets_out)     /* reset_stream() requests */                       \
    X(stream_resets_in)      /* streams the peer reset */                        \
    X(stream_resets_failed)  /* our resets the peer denied or that failed */     \
    X(notifications)         /* usrsctp notifications read */                    \
    X(notifications_dropped) /* malformed or oversize notifications */

struct SctpCounters {
#define ISTHMUS_X(name) uint64_t name = 0;
    ISTHMUS_SCTP_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
};

class SctpAssociation {
  public:
    // Makes the socket, sets its options and binds it. Throws
    // std::runtime_error naming what usrsctp refused (setup path), or
    // std::invalid_argument for options out of range.
    SctpAssociation(SctpStack& stack, SctpOptions options, SctpCallbacks callbacks);
    // Releases everything silently: no callback runs, nothing is sent (the
    // ABORT usrsctp writes while closing is dropped as an orphan); the peer
    // learns by timeout unless close() was called first. Must not run
    // inside one of this association's callbacks.
    ~SctpAssociation();
    SctpAssociation(const SctpAssociation&) = delete;
    SctpAssociation& operator=(const SctpAssociation&) = delete;

    // Sends INIT (Idle only). receive_packet() calls it first if the peer's
    // INIT arrives before the owner did (a bound one-to-one socket that has
    // not connected would answer it with ABORT).
    void connect();
    // One SCTP packet: DTLS application data from the peer.
    void receive_packet(std::span<const uint8_t> packet);
    // Queues one message. Empty `data` with PPID 51/53 is sent as PPID 56/57
    // with one 0 octet (RFC 8831 6.6); PPID 56/57 always send that octet.
    SendResult send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data,
                    const SendOptions& options = {});
    // Resets our outgoing `stream` (RFC 6525; RFC 8831 6.7 closing). usrsctp
    // holds the request until the stream's queued data is sent; until the
    // peer has answered (on_reset_done), send() on it says StreamResetting.
    // Ok again for a stream already being reset.
    SendResult reset_stream(uint16_t stream);
    // ABORT or SHUTDOWN. Abort releases the socket at once (the ABORT goes
    // out through send_packet before close returns); Shutdown before Up
    // aborts. Neither reports through on_state, except the Closed that ends
    // a shutdown.
    void close(CloseMode mode = CloseMode::Abort);

    SctpState state() const { return state_; }
    SctpCloseReason close_reason() const { return reason_; }
    // Negotiated streams (0 until Up).
    uint16_t outbound_streams() const { return outbound_streams_; }
    uint16_t inbound_streams() const { return inbound_streams_; }
    // DATA chunks queued or in flight and not yet acknowledged (0 when idle).
    uint32_t queued_chunks() const;
    const SctpOptions& options() const { return options_; }
    const SctpCounters& counters() const { return counters_; }

  private:
    friend class SctpStack;
    friend struct SctpGlue;

    void drain();  // reads usrsctp_recvv until it has nothing (stack's dispatch)
    void on_data(uint16_t stream, uint32_t ppid, std::span<const uint8_t> part, bool eor);
    void deliver(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data);
    void on_notification_part(std::span<const uint8_t> part, bool eor);
    void on_notification(std::span<const uint8_t> n);
    void on_assoc_change(std::span<const uint8_t> n);
    void on_reset_event(std::span<const uint8_t> n);
    void end(SctpState state, SctpCloseReason reason);  // peer- or timer-caused
    void release();                                     // closes the socket
    SendResult refuse(SendResult r);
    void output(std::span<const uint8_t> packet);  // from conn_output

    SctpStack& stack_;
    SctpOptions options_;
    SctpCallbacks cb_;
    uintptr_t token_ = 0;  // our AF_CONN address
    struct socket* sock_ = nullptr;
    bool registered_ = false;  // token registered with usrsctp
    bool marked_ = false;      // in the stack's marked_ list
    bool want_writable_ = false;
    bool draining_ = false;  // inside drain(): our callbacks may be running
    SctpState state_ = SctpState::Idle;
    SctpCloseReason reason_ = SctpCloseReason::None;
    uint16_t outbound_streams_ = 0;
    uint16_t inbound_streams_ = 0;
    std::vector<uint16_t> resetting_;  // our outgoing resets not answered yet

    // Reassembly of the message being read (one at a time: fragment
    // interleave level 0).
    bool in_message_ = false;
    bool discarding_ = false;
    uint16_t msg_stream_ = 0;
    uint32_t msg_ppid_ = 0;
    std::vector<uint8_t> partial_;
    std::vector<uint8_t> notification_;
    bool notification_discarding_ = false;

    SctpCounters counters_;
};

}  // namespace isthmus::datachannel
