#include "pcscf/transport_tcp.hpp"

#include <stdexcept>

#include "pcscf/transport_listener.hpp"
#include "pcscf/transport_tcp_connection.hpp"

namespace isthmus::pcscf {

namespace {

void check(const TcpConfig& c) {
    auto bad = [](const char* key) {
        throw std::runtime_error(std::string("tcp: ") + key + " must be > 0");
    };
    if (c.max_connections == 0) bad("max_connections");
    if (c.send_queue_max_messages == 0) bad("send_queue_max_messages");
    if (c.send_queue_max_bytes == 0) bad("send_queue_max_bytes");
    if (c.connect_timeout.count() <= 0) bad("connect_timeout");
    if (c.limits.max_message_bytes == 0) bad("limits.max_message_bytes");
}

}  // namespace

TcpTransport::TcpTransport(net::io_context& ioc, const TcpConfig& config,
                           std::shared_ptr<const Delivery> delivery)
    : shared_(std::make_shared<detail::TcpShared>()) {
    check(config);
    shared_->config = config;
    shared_->ioc = &ioc;
    shared_->delivery = std::move(delivery);
    boost::system::error_code ec;
    auto source = net::ip::make_address(config.address, ec);
    if (ec) throw std::runtime_error("tcp: address " + config.address + ": " + ec.message());
    if (!source.is_unspecified()) shared_->source = source;
    if (!config.listen) return;

    std::weak_ptr<detail::TcpShared> weak = shared_;
    auto accepted = [weak](net::ip::tcp::socket socket) {
        auto shared = weak.lock();
        if (!shared) return;
        auto& c = shared->counters;
        if (c.connections_open.load(std::memory_order_relaxed) >= shared->config.max_connections) {
            bump(c.connections_refused);
            return;  // the socket closes as it goes
        }
        bump(c.connections_open);
        bump(c.connections_total);
        detail::start_tcp_accepted(std::move(socket), shared);
    };
    listener_ = std::make_shared<detail::Listener>(
        ioc, "tcp", config.address, config.port, std::move(accepted),
        std::shared_ptr<TransportCounters>(shared_, &shared_->counters));
}

TcpTransport::~TcpTransport() {
    shutdown();
}

void TcpTransport::start() {
    if (listener_) listener_->run();
}

bool TcpTransport::send(const Peer& to, std::string bytes) {
    auto& c = shared_->counters;
    if (shared_->stopped.load()) {
        bump(c.send_dropped);
        return false;
    }
    if (to.flow != 0) {
        auto conn = shared_->flows.find(to.flow);
        if (!conn) {
            bump(c.send_no_flow);
            return false;
        }
        return conn->send(std::move(bytes));
    }
    // To an endpoint: reuse a connection to it (RFC 3261 18.1.1), or make one.
    std::lock_guard lock(shared_->endpoints_mutex);
    if (shared_->stopped.load()) {  // checked again under the lock shutdown() takes
        bump(c.send_dropped);
        return false;
    }
    auto it = shared_->endpoints.find(detail::EndpointKey{to.address, to.port});
    if (it != shared_->endpoints.end()) {
        if (auto conn = shared_->flows.find(it->second)) {
            return conn->send(std::move(bytes));
        }
    }
    if (c.connections_open.load(std::memory_order_relaxed) >= shared_->config.max_connections) {
        bump(c.connections_refused);
        return false;
    }
    bump(c.connections_open);
    bump(c.connections_total);
    Peer peer = to;
    peer.transport = Transport::Tcp;
    return detail::start_tcp_outbound(peer, std::move(bytes), shared_);
}

void TcpTransport::close_flow(uint64_t flow) {
    if (auto conn = shared_->flows.find(flow)) {
        conn->close();
    } else {
        bump(shared_->counters.send_no_flow);
    }
}

void TcpTransport::shutdown() {
    {
        std::lock_guard lock(shared_->endpoints_mutex);
        if (shared_->stopped.exchange(true)) return;
    }
    auto sweep = [shared = shared_] {
        for (auto& conn : shared->flows.all())
            conn->shutdown();
    };
    // After the acceptor is closed (on its strand) every accepted
    // connection is in the registry; outbound ones are refused from now on.
    if (listener_) {
        listener_->stop(sweep);
    } else {
        sweep();
    }
}

net::ip::tcp::endpoint TcpTransport::local_endpoint() const {
    return listener_ ? listener_->local_endpoint() : net::ip::tcp::endpoint{};
}

const TransportCounters& TcpTransport::counters() const {
    return shared_->counters;
}

std::size_t TcpTransport::connections() const {
    return shared_->flows.size();
}

}  // namespace isthmus::pcscf
