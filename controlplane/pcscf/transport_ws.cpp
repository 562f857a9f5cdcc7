#include "pcscf/transport_ws.hpp"

#include <boost/asio/ssl/context.hpp>
#include <stdexcept>

#include "isthmus/tls/server_policy.hpp"
#include "pcscf/transport_listener.hpp"
#include "pcscf/transport_ws_session.hpp"

namespace isthmus::pcscf {

namespace detail {

namespace {

// isthmus/tls/server_policy.hpp's policy (TLS 1.2+, ECDHE with AEAD), the
// configured chain and key (checked against each other now: a mismatch is
// a setup error, not a handshake failure later).
void load_tls(net::ssl::context& ctx, const TlsFiles& files) {
    ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                    net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                    net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    if (!isthmus::tls::apply_server_policy(ctx.native_handle()))
        throw std::runtime_error("wss: cannot restrict TLS to 1.2+ with ECDHE and AEAD suites");
    boost::system::error_code ec;
    ctx.use_certificate_chain_file(files.certificate_chain_file, ec);
    if (ec) {
        throw std::runtime_error("wss: certificate file " + files.certificate_chain_file + ": " +
                                 ec.message());
    }
    ctx.use_private_key_file(files.private_key_file, net::ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error("wss: private key file " + files.private_key_file + ": " +
                                 ec.message());
    }
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
        throw std::runtime_error("wss: private key " + files.private_key_file +
                                 " does not match the certificate " + files.certificate_chain_file);
    }
}

void check(const WsConfig& c) {
    const char* name = c.tls ? "wss" : "ws";
    auto bad = [&](const char* key) {
        throw std::runtime_error(std::string(name) + ": " + key + " must be > 0");
    };
    if (c.read_message_max == 0) bad("read_message_max");
    if (c.max_connections == 0) bad("max_connections");
    if (c.send_queue_max_messages == 0) bad("send_queue_max_messages");
    if (c.send_queue_max_bytes == 0) bad("send_queue_max_bytes");
    if (c.handshake_timeout.count() <= 0) bad("handshake_timeout");
    if (c.max_upgrade_request_bytes == 0 || c.max_upgrade_request_bytes > UINT32_MAX) {
        bad("max_upgrade_request_bytes");
    }
}

}  // namespace
}  // namespace detail

WsTransport::WsTransport(net::io_context& ioc, const WsConfig& config,
                         std::shared_ptr<const Delivery> delivery)
    : shared_(std::make_shared<detail::WsShared>()) {
    detail::check(config);
    shared_->config = config;
    shared_->delivery = std::move(delivery);
    if (config.tls) {
        shared_->transport = Transport::Wss;
        shared_->tls.emplace(net::ssl::context::tls_server);
        detail::load_tls(*shared_->tls, *config.tls);
    }
    // Accepted sockets are counted here, before the session exists, so that
    // handshaking connections count against max_connections.
    std::weak_ptr<detail::WsShared> weak = shared_;
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
        detail::start_ws_session(std::move(socket), shared);
    };
    listener_ = std::make_shared<detail::Listener>(
        ioc, config.tls ? "wss" : "ws", config.address, config.port, std::move(accepted),
        std::shared_ptr<TransportCounters>(shared_, &shared_->counters));
}

WsTransport::~WsTransport() {
    shutdown();
}

void WsTransport::start() {
    listener_->run();
}

bool WsTransport::send(const Peer& to, std::string bytes) {
    auto c = shared_->flows.find(to.flow);
    if (!c) {
        bump(shared_->counters.send_no_flow);
        return false;
    }
    return c->send(std::move(bytes));
}

void WsTransport::close_flow(uint64_t flow) {
    if (auto c = shared_->flows.find(flow)) {
        c->close();
    } else {
        bump(shared_->counters.send_no_flow);
    }
}

void WsTransport::shutdown() {
    // After the acceptor is closed (on its strand), every session is in the
    // registry: none escapes.
    listener_->stop([shared = shared_] {
        for (auto& c : shared->flows.all())
            c->shutdown();
    });
}

net::ip::tcp::endpoint WsTransport::local_endpoint() const {
    return listener_->local_endpoint();
}

Transport WsTransport::transport() const {
    return shared_->transport;
}

const TransportCounters& WsTransport::counters() const {
    return shared_->counters;
}

std::size_t WsTransport::connections() const {
    return shared_->flows.size();
}

}  // namespace isthmus::pcscf
