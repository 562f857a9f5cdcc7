// A TCP listener for the WebSocket and TCP transports (Beast's chat-multi
// `listener`): binds at construction, then accepts each connection onto a
// strand of its own and hands the socket on. accept() errors (EMFILE...)
// are counted and retried after 50 ms, never a tight loop nor the end of
// accepting.
//
// Thread-safety: run() and stop() from any thread; the accept loop runs on
// the listener's strand.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pcscf/transport_common.hpp"

namespace isthmus::pcscf::detail {

class Listener : public std::enable_shared_from_this<Listener> {
    net::io_context& ioc_;
    net::strand<net::io_context::executor_type> strand_;
    net::ip::tcp::acceptor acceptor_;
    net::steady_timer backoff_;
    net::ip::tcp::endpoint local_;
    // Called on the listener's strand with each accepted socket, whose
    // executor is the new connection's own strand.
    std::function<void(net::ip::tcp::socket)> accepted_;
    std::shared_ptr<TransportCounters> counters_;  // accept_errors
    bool stopped_ = false;

    void do_accept();
    void on_accept(boost::system::error_code ec, net::ip::tcp::socket socket);

  public:
    // Binds `address`:`port` (0: ephemeral) and listens. Throws
    // std::runtime_error "<name>: bind 127.0.0.1:5060: Address already in
    // use" (or open/listen/address).
    Listener(net::io_context& ioc, std::string_view name, const std::string& address, uint16_t port,
             std::function<void(net::ip::tcp::socket)> accepted,
             std::shared_ptr<TransportCounters> counters);

    void run();  // starts the accept loop
    // Closes the acceptor (idempotent), then calls `then` on the listener's
    // strand: every socket accepted before has been handed on by then.
    void stop(std::function<void()> then = {});
    const net::ip::tcp::endpoint& local_endpoint() const { return local_; }
};

}  // namespace isthmus::pcscf::detail
