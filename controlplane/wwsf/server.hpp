// The WWSF's HTTP server (Boost.Beast): HTTPS (TLS 1.2 and later, modern
// cipher suites only, the certificate chain and key from PEM files) and,
// only when configured, a plain HTTP listener meant for tests. It does the
// I/O, the limits (header and body size, timeouts, connection count) and
// TLS; each whole request goes to a handler and its response comes back
// through a callback. Shaped after Beast's advanced_server_flex and
// http_server_async_ssl: a listener per endpoint, a session per
// connection, `run -> on_handshake -> do_read -> on_read -> on_write`, each
// handler starting with `if (ec) return fail(ec, ...)`.
//
// Threads: one thread runs the io_context (the daemon's); every session
// handler and the request handler run on it, so the core behind the
// handler needs no lock. The respond callback may be called later (after
// work elsewhere) but must be called on that thread (post onto
// `context()`), exactly once.
//
// Refusals it writes itself (and closes the connection after): 400 for a
// request Beast cannot parse, 413 for a body over max_body_bytes, 431 for a
// header over max_header_bytes. Over max_connections, a new connection is
// closed at once (counted).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "wwsf/http_message.hpp"
#include "wwsf/server_config.hpp"

namespace isthmus::wwsf {

namespace net = boost::asio;

// Counters, for the stats line. Relaxed atomics; any thread reads.
struct ServerCounters {
    std::atomic<uint64_t> connections_open{0};
    std::atomic<uint64_t> connections_total{0};
    std::atomic<uint64_t> connections_refused{0};  // over max_connections
    std::atomic<uint64_t> tls_failed{0};           // TLS handshake failed or timed out
    // The client closed before the handshake ended (browsers open spare
    // connections and drop them): not a failure.
    std::atomic<uint64_t> tls_aborted{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> refused_parse{0};  // 400/413/431 written by the server
    std::atomic<uint64_t> timeouts{0};       // a read or write over its timeout
};

using Respond = std::function<void(HttpResponse)>;
// Gets each request; calls respond exactly once, on the io_context thread.
using RequestHandler = std::function<void(HttpRequest, Respond)>;

class HttpServer {
  public:
    // Binds the configured endpoints and loads the TLS files. Throws
    // std::runtime_error naming what failed ("https: bind 0.0.0.0:443:
    // Address already in use", "https: certificate file x.pem: ...").
    HttpServer(net::io_context& ioc, const ServerConfig& config, RequestHandler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void start();
    // Stops accepting and closes every connection (responses not yet
    // written are lost). Idempotent; any thread.
    void shutdown();

    // The bound endpoints (an ephemeral port resolved).
    std::optional<net::ip::tcp::endpoint> https_endpoint() const;
    std::optional<net::ip::tcp::endpoint> http_endpoint() const;
    const ServerCounters& counters() const;

    struct Shared;  // server.cpp

  private:
    struct Listener;
    std::shared_ptr<Shared> shared_;
    std::shared_ptr<Listener> https_;
    std::shared_ptr<Listener> http_;
};

}  // namespace isthmus::wwsf
