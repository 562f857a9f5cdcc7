#include "pcscf/transport_set.hpp"

#include <stdexcept>

namespace isthmus::pcscf {

Transports::Transports(const TransportsConfig& config, TransportHandlers handlers)
    : ioc_(config.concurrency_hint),
      core_(net::make_strand(ioc_)),
      delivery_(std::make_shared<Delivery>(net::any_io_executor(core_), std::move(handlers))) {
    if (config.ws && config.ws->tls) throw std::runtime_error("transports: ws must not have tls");
    if (config.wss && !config.wss->tls) throw std::runtime_error("transports: wss needs tls");
    if (config.ws) ws_ = std::make_unique<WsTransport>(ioc_, *config.ws, delivery_);
    if (config.wss) wss_ = std::make_unique<WsTransport>(ioc_, *config.wss, delivery_);
    if (config.udp) udp_ = std::make_unique<UdpTransport>(ioc_, *config.udp, delivery_);
    if (config.tcp) tcp_ = std::make_unique<TcpTransport>(ioc_, *config.tcp, delivery_);
}

Transports::~Transports() = default;

void Transports::start() {
    if (ws_) ws_->start();
    if (wss_) wss_->start();
    if (udp_) udp_->start();
    if (tcp_) tcp_->start();
}

bool Transports::send(const Peer& to, std::string bytes) {
    switch (to.transport) {
        case Transport::Ws:
            return ws_ && ws_->send(to, std::move(bytes));
        case Transport::Wss:
            return wss_ && wss_->send(to, std::move(bytes));
        case Transport::Udp:
            return udp_ && udp_->send(to, std::move(bytes));
        case Transport::Tcp:
            return tcp_ && tcp_->send(to, std::move(bytes));
        case Transport::Tls:
        case Transport::Sctp:
            return false;  // not ours (yet)
    }
    return false;
}

void Transports::close_flow(const Peer& to) {
    switch (to.transport) {
        case Transport::Ws:
            if (ws_) ws_->close_flow(to.flow);
            return;
        case Transport::Wss:
            if (wss_) wss_->close_flow(to.flow);
            return;
        case Transport::Tcp:
            if (tcp_) tcp_->close_flow(to.flow);
            return;
        case Transport::Udp:  // no connection
        case Transport::Tls:
        case Transport::Sctp:
            return;
    }
}

void Transports::apply(Output out) {
    switch (out.kind) {
        case Output::Kind::Send:
            send(out.to, std::move(out.bytes));
            return;
        case Output::Kind::CloseFlow:
            close_flow(out.to);
            return;
    }
}

void Transports::shutdown() {
    if (ws_) ws_->shutdown();
    if (wss_) wss_->shutdown();
    if (udp_) udp_->shutdown();
    if (tcp_) tcp_->shutdown();
}

}  // namespace isthmus::pcscf
