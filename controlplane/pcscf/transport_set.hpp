// The eP-CSCF's transports together (issue 6): one io_context, the W2
// WebSocket listeners (WS and/or WSS) and the Mw UDP socket and TCP
// transport, and the core's strand on which every callback runs.
//
//   Transports t(config, {.on_message = ..., .on_flow_closed = ...});
//   t.start();
//   std::vector<std::thread> threads;       // one or a few
//   for (...) threads.emplace_back([&] { t.context().run(); });
//   // the core, on t.core_executor(): t.send(peer, bytes); t.apply(output);
//   t.shutdown();                           // run() returns once all is closed
//   for (auto& th : threads) th.join();
//
// Callbacks: on_message and on_flow_closed run on core_executor(), a strand
// of the io_context, one at a time, never on a connection's strand; the
// core posts its own work (timers, dataplane replies) onto the same strand
// and so needs no lock. Within one flow, messages arrive in order and
// on_flow_closed comes last.
//
// Thread-safety: send, close_flow, apply and shutdown from any thread
// (normally the core's strand). Destroy after the io_context's threads have
// returned (or were never started).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <memory>
#include <optional>
#include <string>

#include "pcscf/flow.hpp"
#include "pcscf/transport_common.hpp"
#include "pcscf/transport_tcp.hpp"
#include "pcscf/transport_udp.hpp"
#include "pcscf/transport_ws.hpp"

namespace isthmus::pcscf {

struct TransportsConfig {
    std::optional<WsConfig> ws;   // W2 without TLS (`tls` must be unset)
    std::optional<WsConfig> wss;  // W2 with TLS (`tls` must be set)
    std::optional<UdpConfig> udp;
    std::optional<TcpConfig> tcp;
    int concurrency_hint = 1;  // the io_context's: the number of threads that will run it
};

class Transports {
  public:
    // Binds every configured transport. Throws std::runtime_error naming
    // the one that failed and why (see each transport's constructor), or
    // "transports: ws must not have tls" for a contradictory config.
    Transports(const TransportsConfig& config, TransportHandlers handlers);
    ~Transports();
    Transports(const Transports&) = delete;
    Transports& operator=(const Transports&) = delete;

    // Starts accepting and receiving; the work runs when context() runs.
    void start();

    net::io_context& context() { return ioc_; }
    // The core's strand: every callback runs here.
    const net::strand<net::io_context::executor_type>& core_executor() const { return core_; }

    // Routes by to.transport (Ws, Wss, Udp, Tcp). False: that transport is
    // not configured (send_dropped is not counted anywhere), or the
    // transport refused (see its send()).
    bool send(const Peer& to, std::string bytes);
    // Closes the connection to.flow of to.transport once its queue is sent.
    void close_flow(const Peer& to);
    // Carries out one Output of the core: Send or CloseFlow.
    void apply(Output out);

    // Stops accepting and receiving, closes every connection; once the
    // callbacks already posted have run, context().run() returns.
    void shutdown();

    WsTransport* ws() { return ws_.get(); }
    WsTransport* wss() { return wss_.get(); }
    UdpTransport* udp() { return udp_.get(); }
    TcpTransport* tcp() { return tcp_.get(); }

  private:
    // Declared first, destroyed last: pending handlers (holding connections)
    // are destroyed with it, after the transports.
    net::io_context ioc_;
    net::strand<net::io_context::executor_type> core_;
    std::shared_ptr<const Delivery> delivery_;
    std::unique_ptr<WsTransport> ws_;
    std::unique_ptr<WsTransport> wss_;
    std::unique_ptr<UdpTransport> udp_;
    std::unique_ptr<TcpTransport> tcp_;
};

}  // namespace isthmus::pcscf
