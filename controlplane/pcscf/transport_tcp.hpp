// Mw over TCP (RFC 3261 18): a listener on a configured address:port, and
// connections made on demand to the Peer a message is sent to. The byte
// stream is split into messages with sip::parse_message(Framing::Stream)
// (Content-Length framing, 18.3): an incomplete message waits for more
// bytes; a framing error closes the connection (counted by ParseError); the
// receive buffer is bounded (limits.max_message_bytes + 4 KiB; full without
// a message: closed, BufferFull). Each message goes to the core with
// Peer{Tcp, flow, address, port}; an RFC 5626 CRLFCRLF keepalive is
// answered with CRLF here.
//
// send(Peer): flow != 0 names a connection (gone: false); flow 0 means "to
// address:port": an open connection to that endpoint is reused (18.1.1),
// else one is made (at most max_connections), the message queued until it
// connects. A failed connect drops what was queued (counted
// ConnectFailed); on_flow_closed is not called for it, since no message of
// that flow reached the core.
//
// Thread-safety: every public member may be called from any thread.
// Destroy it before its io_context (its destructor posts the shutdown).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "pcscf/transport_common.hpp"

namespace isthmus::pcscf {

struct TcpConfig {
    // Where to listen, and the source address of connections made (an
    // unspecified address: the system chooses).
    std::string address = "0.0.0.0";
    uint16_t port = 5060;                // 0: ephemeral (local_endpoint() says which)
    bool listen = true;                  // false: outbound connections only
    std::size_t max_connections = 1024;  // accepted and made together
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
    // Nothing received for this long closes the connection; it also bounds
    // each write. 0: never.
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};
    sip::ParseLimits limits;  // framing; max_message_bytes also sizes the receive buffer
    // Per connection, counted from send() until written (posted, queued,
    // being written); over either: closed. Mw carries many users' messages
    // on one connection, hence more than W2.
    std::size_t send_queue_max_messages = 4096;
    std::size_t send_queue_max_bytes = 8 * 1024 * 1024;
};

namespace detail {
struct TcpShared;
class Listener;
}  // namespace detail

class TcpTransport {
  public:
    // Binds and listens (if config.listen). Throws std::runtime_error naming
    // what failed ("tcp: bind 127.0.0.1:5060: Address already in use").
    TcpTransport(net::io_context& ioc, const TcpConfig& config,
                 std::shared_ptr<const Delivery> delivery);
    ~TcpTransport();  // shutdown()
    TcpTransport(const TcpTransport&) = delete;
    TcpTransport& operator=(const TcpTransport&) = delete;

    void start();  // starts accepting

    // Queues one whole SIP message (see the file comment). False: the flow
    // is gone (send_no_flow), max_connections reached (connections_refused),
    // over the connection's send bound (it is closing: SendQueueFull) or
    // shut down (send_dropped). True: queued; a connection that ends first
    // drops it.
    bool send(const Peer& to, std::string bytes);

    // Closes the connection `flow` once what is queued has been written.
    void close_flow(uint64_t flow);

    // Stops accepting and connecting; closes every connection now. Idempotent.
    void shutdown();

    // The listening endpoint (unspecified address, port 0 if not listening).
    net::ip::tcp::endpoint local_endpoint() const;
    const TransportCounters& counters() const;
    std::size_t connections() const;

  private:
    std::shared_ptr<detail::TcpShared> shared_;
    std::shared_ptr<detail::Listener> listener_;  // null if not listening
};

}  // namespace isthmus::pcscf
