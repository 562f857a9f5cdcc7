// What the eP-CSCF's transports share (issue 6, "Transports"): the callbacks
// into the core and how they are delivered, connection ids, the registry of
// open connections, counters and close reasons, address conversions.
//
// Threads: one io_context, run by its owner on one or a few threads. Each
// connection (WebSocket or TCP) and the UDP socket has its own strand; every
// callback into the core is posted onto one executor, the core's strand
// (Delivery), so the core never runs two callbacks at once and never runs on
// a connection's strand. The core calls into the transports (send,
// close_flow) from its strand; they post onto the connection's strand before
// touching its state.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pcscf/flow.hpp"
#include "sip/parser.hpp"

namespace isthmus::pcscf {

namespace net = boost::asio;

// X(Enumerator, "metric_label", "what ended the connection")
#define ISTHMUS_PCSCF_CLOSE_REASON(X)                                                         \
    X(PeerClosed, "peer_closed", "the peer closed: WebSocket close frame, TCP FIN or RST")    \
    X(LocalClose, "local_close", "close_flow() (after the queued messages were written)")     \
    X(IdleTimeout, "idle_timeout", "nothing received (nor a pong) within the idle timeout")   \
    X(HandshakeTimeout, "handshake_timeout", "WS: TLS + HTTP upgrade over handshake_timeout") \
    X(HandshakeFailed, "handshake_failed", "TLS handshake or HTTP upgrade request failed")    \
    X(UpgradeRefused, "upgrade_refused", "no WebSocket upgrade offering `sip`: 400 sent")     \
    X(MessageTooBig, "message_too_big", "WebSocket message over read_message_max: 1009")      \
    X(SendQueueFull, "send_queue_full", "the peer does not read: the send queue bound hit")   \
    X(ParseError, "parse_error", "TCP: bytes that do not frame as SIP (RFC 3261 18.3)")       \
    X(BufferFull, "buffer_full", "TCP: receive buffer full without a complete message")       \
    X(ConnectFailed, "connect_failed", "TCP: connect-on-demand failed or timed out")          \
    X(ReadError, "read_error", "any other receive error")                                     \
    X(WriteError, "write_error", "any other send error")                                      \
    X(Shutdown, "shutdown", "the transports were shut down")

enum class CloseReason : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_PCSCF_CLOSE_REASON(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kCloseReasonCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_PCSCF_CLOSE_REASON(ISTHMUS_X)
#undef ISTHMUS_X
    ;

// The metric label of a close reason ("send_queue_full").
constexpr std::string_view close_reason_name(CloseReason r) {
    constexpr std::array<std::string_view, kCloseReasonCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_PCSCF_CLOSE_REASON(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(r)];
}

using Counter = std::atomic<uint64_t>;

// One transport's counters, for the Prometheus exporter. Written with
// relaxed atomics from any connection's strand; read from any thread.
// Fields a transport has no use for stay 0.
struct TransportCounters {
    Counter connections_open{0};     // gauge: accepted or connecting, not yet closed
    Counter connections_total{0};    // accepted or connecting, ever
    Counter connections_refused{0};  // over max_connections: closed at once / not made
    Counter upgrades_refused{0};     // WS: not an upgrade offering `sip` (400)
    Counter messages_in{0};          // whole SIP messages handed to the core
    Counter messages_out{0};         // written to the socket
    Counter bytes_in{0};
    Counter bytes_out{0};
    Counter send_no_flow{0};           // send()/close_flow() naming a flow that is gone
    Counter send_dropped{0};           // UDP: socket full or error; WS/TCP: after close
    Counter dropped_oversize{0};       // UDP: datagram over max_datagram (truncated)
    Counter dropped_empty{0};          // UDP: empty datagram
    Counter receive_errors{0};         // UDP: receive failed (the socket goes on)
    Counter accept_errors{0};          // accept() failed (EMFILE...); retried after 50 ms
    Counter keepalives{0};             // TCP: RFC 5626 CRLFCRLF pings answered with CRLF
    Counter send_queue_peak_bytes{0};  // largest queue any one connection had
    std::array<Counter, kCloseReasonCount> closes{};
    std::array<Counter, sip::kParseErrorCount> parse_errors{};  // TCP framing errors

    void closed(CloseReason r) {
        closes[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
    }
    uint64_t closes_of(CloseReason r) const {
        return closes[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
    }
    void peak_queue(uint64_t bytes);
};

inline void bump(Counter& c, uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
}

// The core's side of the seam.
//  - on_message: one whole SIP message (unparsed bytes as received; for TCP
//    without the CRLFs before it) and where it came from. Messages of one
//    flow arrive in the order they were received.
//  - on_flow_closed: a connection that opened (WebSocket upgraded; TCP
//    accepted or connected) has ended, for any reason; once per flow, after
//    every on_message of that flow. Not called for connections refused or
//    failed before they opened, nor during ~io_context.
//  - on_unreachable: a peer a message was sent to could not be reached (Mw
//    TCP: the connection made on demand failed or timed out), so what was
//    queued for it is lost; Peer{transport, flow 0, address, port}. The
//    core fails the transactions waiting on it (RFC 3261 8.1.3.1, 18.4)
//    instead of letting them time out. Optional.
// They run on the core's strand, one at a time. They may call send() and
// close_flow(); they must not block or run the io_context.
struct TransportHandlers {
    std::function<void(std::string bytes, Peer from)> on_message;
    std::function<void(uint64_t flow)> on_flow_closed;
    std::function<void(Peer to)> on_unreachable = {};
};

// Posts the handlers onto the core's executor. Shared (immutable) by every
// transport and connection; any thread.
class Delivery : public std::enable_shared_from_this<Delivery> {
  public:
    Delivery(net::any_io_executor core, TransportHandlers handlers)
        : core_(std::move(core)), handlers_(std::move(handlers)) {}

    void message(std::string bytes, const Peer& from) const {
        net::post(core_, [self = shared_from_this(), bytes = std::move(bytes), from]() mutable {
            if (self->handlers_.on_message) self->handlers_.on_message(std::move(bytes), from);
        });
    }
    void flow_closed(uint64_t flow) const {
        net::post(core_, [self = shared_from_this(), flow] {
            if (self->handlers_.on_flow_closed) self->handlers_.on_flow_closed(flow);
        });
    }
    void unreachable(const Peer& to) const {
        net::post(core_, [self = shared_from_this(), to] {
            if (self->handlers_.on_unreachable) self->handlers_.on_unreachable(to);
        });
    }
    const net::any_io_executor& executor() const { return core_; }

  private:
    net::any_io_executor core_;
    TransportHandlers handlers_;
};

// A new connection id: unique across every transport for the process's
// life (so on_flow_closed(flow) names one connection), never 0. Any thread.
uint64_t next_flow_id();

// The bound on one connection's unsent messages, counted from send() (any
// thread, before anything is posted) until the message is written or
// dropped (on the connection's strand). Posted and queued messages count
// alike, so a core that sends faster than the peer reads meets the bound
// at once, in send(), never after piling up handlers in the io_context.
class SendBudget {
  public:
    SendBudget(std::size_t max_messages, std::size_t max_bytes)
        : max_messages_(max_messages), max_bytes_(max_bytes) {}
    // Takes one message of `bytes`. False: over the bound, nothing taken.
    bool take(std::size_t bytes, TransportCounters& counters);
    // Gives back one message of `bytes` (written or dropped).
    void give(std::size_t bytes);

  private:
    std::atomic<std::size_t> messages_{0};
    std::atomic<std::size_t> bytes_{0};
    const std::size_t max_messages_;
    const std::size_t max_bytes_;
};

// What the registry needs of a connection. Each call posts onto the
// connection's strand; any thread.
class Connection {
  public:
    virtual ~Connection() = default;
    // Queues one whole message. False: over the connection's send bound
    // (SendBudget): dropped, and the connection is being closed.
    virtual bool send(std::string bytes) = 0;
    virtual void close() = 0;     // after the queued messages
    virtual void shutdown() = 0;  // now, without a closing handshake
};

// The open connections of one transport by flow id, so that send(Peer) and
// close_flow(flow) find theirs. Holds weak references: a connection lives as
// long as its own operations do. Any thread (one mutex, held for a lookup).
class FlowRegistry {
  public:
    void join(uint64_t flow, std::weak_ptr<Connection> c);
    void leave(uint64_t flow);
    std::shared_ptr<Connection> find(uint64_t flow) const;
    std::vector<std::shared_ptr<Connection>> all() const;
    std::size_t size() const;

  private:
    mutable std::mutex mutex_;
    std::unordered_map<uint64_t, std::weak_ptr<Connection>> flows_;
};

// An address as a Peer holds it: IPv6 as is, IPv4 as ::ffff:a.b.c.d.
std::array<uint8_t, 16> peer_address(const net::ip::address& a);
// The other way: a v4-mapped address as IPv4 (for an IPv4 socket), any
// other as IPv6.
net::ip::address asio_address(const std::array<uint8_t, 16>& a);
// "host:port" for error messages ("[::1]:5060").
std::string endpoint_text(const net::ip::address& a, uint16_t port);

// Whether `s` is well-formed UTF-8 (RFC 3629): such messages go in text
// frames, others in binary frames (RFC 7118 4.2 allows both).
bool is_utf8(std::string_view s);

}  // namespace isthmus::pcscf
