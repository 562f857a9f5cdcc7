// W2: SIP over WebSocket and secure WebSocket (RFC 7118), server side, with
// Boost.Beast. The browser's first hop.
//
//   WsTransport ws(ioc, config, delivery);   // binds; throws on failure
//   ws.start();                              // accepts on the io_context
//   ws.send(peer, bytes);                    // from the core's strand
//
// A connection: TCP accept (refused beyond max_connections), TLS handshake
// when `tls` is set, the HTTP upgrade request (all within
// handshake_timeout), then the WebSocket handshake only if the request
// offers the subprotocol `sip`, which is echoed (RFC 7118 4.1; otherwise
// 400 and close). Then one SIP message per WebSocket message, text or
// binary (RFC 7118 4.2), each handed to the core with Peer{Ws|Wss, flow,
// address, port}. Keepalive with WebSocket pings: a ping after idle_timeout
// / 2 without received data, close after idle_timeout. A message over
// read_message_max closes with 1009. Sends are queued per connection up to
// send_queue_max_{messages,bytes}; beyond, the peer is not reading and the
// connection is closed (counted): memory per connection stays bounded.
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

// PEM files for WSS: the certificate chain (leaf first) and its private key
// (unencrypted).
struct TlsFiles {
    std::string certificate_chain_file;
    std::string private_key_file;
};

struct WsConfig {
    std::string address = "0.0.0.0";  // IPv4 or IPv6 literal
    uint16_t port = 0;                // 0: an ephemeral port (local_endpoint() says which)
    std::optional<TlsFiles> tls;      // set: WSS (Peer.transport Wss), else WS
    // From TCP accept to the end of the HTTP upgrade request (the TLS
    // handshake included); then again for the 101 response and for a
    // closing handshake.
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
    // No data received for idle_timeout / 2: a ping; for idle_timeout: close.
    // 0: no idle timeout (and no pings).
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
    bool keep_alive_pings = true;              // false: close after idle_timeout, no ping
    std::size_t read_message_max = 64 * 1024;  // one SIP message; larger: 1009
    std::size_t max_connections = 10000;       // open, handshaking included
    // Per connection, counted from send() until written: posted, queued
    // and being written alike. Over either: the connection is closed.
    std::size_t send_queue_max_messages = 256;
    std::size_t send_queue_max_bytes = 1024 * 1024;
    std::size_t max_upgrade_request_bytes = 8 * 1024;  // the HTTP upgrade request's header
};

namespace detail {
struct WsShared;
class Listener;
}  // namespace detail

class WsTransport {
  public:
    // Binds and listens on config.address:port and loads the TLS files.
    // Throws std::runtime_error naming what failed ("ws: bind
    // 127.0.0.1:5062: Address already in use", "wss: certificate file
    // /x.pem: No such file or directory"). Nothing runs before start().
    WsTransport(net::io_context& ioc, const WsConfig& config,
                std::shared_ptr<const Delivery> delivery);
    ~WsTransport();  // shutdown()
    WsTransport(const WsTransport&) = delete;
    WsTransport& operator=(const WsTransport&) = delete;

    // Starts accepting (on the io_context's threads).
    void start();

    // Queues one whole SIP message on the connection `to.flow` (`to.address`
    // and port are not read). False: no such connection (closed, or never
    // one of ours: counted send_no_flow), the core answers 430 (RFC 5626)
    // or reports a transport error; or over the connection's send bound
    // (send_queue_max_*: the peer does not read), the message dropped and
    // the connection closing (SendQueueFull, on_flow_closed follows). True
    // does not mean delivered: if the connection ends first, the message is
    // dropped and on_flow_closed follows.
    bool send(const Peer& to, std::string bytes);

    // Closes the connection `flow` once what is queued has been written
    // (WebSocket close 1000). No-op for an unknown flow.
    void close_flow(uint64_t flow);

    // Stops accepting and closes every connection now (no closing
    // handshake). on_flow_closed follows for each open one. Idempotent.
    void shutdown();

    net::ip::tcp::endpoint local_endpoint() const;
    Transport transport() const;  // Ws or Wss
    const TransportCounters& counters() const;
    std::size_t connections() const;  // in the registry now

  private:
    std::shared_ptr<detail::WsShared> shared_;
    std::shared_ptr<detail::Listener> listener_;
};

}  // namespace isthmus::pcscf
