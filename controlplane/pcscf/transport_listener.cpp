#include "pcscf/transport_listener.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <chrono>
#include <stdexcept>

namespace isthmus::pcscf::detail {

namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

[[noreturn]] void setup_failed(std::string_view name, std::string_view step,
                               const std::string& where, const boost::system::error_code& ec) {
    throw std::runtime_error(std::string(name) + ": " + std::string(step) + " " + where + ": " +
                             ec.message());
}

}  // namespace

Listener::Listener(net::io_context& ioc, std::string_view name, const std::string& address,
                   uint16_t port, std::function<void(tcp::socket)> accepted,
                   std::shared_ptr<TransportCounters> counters)
    : ioc_(ioc),
      strand_(net::make_strand(ioc)),
      acceptor_(strand_),
      backoff_(strand_),
      accepted_(std::move(accepted)),
      counters_(std::move(counters)) {
    boost::system::error_code ec;
    auto ip = net::ip::make_address(address, ec);
    if (ec) setup_failed(name, "address", address, ec);
    tcp::endpoint endpoint(ip, port);
    const std::string where = endpoint_text(ip, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) setup_failed(name, "open", where, ec);
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) setup_failed(name, "set_option", where, ec);
    acceptor_.bind(endpoint, ec);
    if (ec) setup_failed(name, "bind", where, ec);
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) setup_failed(name, "listen", where, ec);
    local_ = acceptor_.local_endpoint(ec);
    if (ec) setup_failed(name, "getsockname", where, ec);
}

void Listener::run() {
    net::dispatch(strand_, beast::bind_front_handler(&Listener::do_accept, shared_from_this()));
}

void Listener::stop(std::function<void()> then) {
    net::post(strand_, [self = shared_from_this(), then = std::move(then)] {
        self->stopped_ = true;
        boost::system::error_code ignored;
        self->acceptor_.close(ignored);
        self->backoff_.cancel();
        if (then) then();
    });
}

void Listener::do_accept() {
    if (stopped_) return;
    // The new connection gets its own strand.
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (stopped_ || ec == net::error::operation_aborted) return;
    if (ec) {
        // EMFILE, ENOBUFS...: the pending connection stays in the backlog.
        bump(counters_->accept_errors);
        backoff_.expires_after(std::chrono::milliseconds(50));
        backoff_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
            if (!wait_ec) self->do_accept();
        });
        return;
    }
    accepted_(std::move(socket));
    do_accept();
}

}  // namespace isthmus::pcscf::detail
