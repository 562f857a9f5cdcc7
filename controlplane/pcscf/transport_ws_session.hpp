// The WebSocket transport's inside: what its connections share, and the
// start of one connection (the session class itself is in
// transport_ws_session.cpp, for WS and WSS).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>

#include "pcscf/transport_common.hpp"
#include "pcscf/transport_ws.hpp"

namespace isthmus::pcscf::detail {

// Owned by the WsTransport and by every session (shared_ptr), so that a
// session finishing after the transport is gone still finds it. `config`,
// `transport`, `tls` and `delivery` are set before the first accept and
// never change; `counters` are atomics; `flows` has its own mutex.
struct WsShared {
    WsConfig config;
    Transport transport = Transport::Ws;
    std::optional<net::ssl::context> tls;  // set for WSS
    std::shared_ptr<const Delivery> delivery;
    TransportCounters counters;
    FlowRegistry flows;
};

// Starts a session on an accepted socket (whose executor is the session's
// strand): TLS (WSS), the upgrade request, then messages. The caller has
// counted it in connections_open / connections_total.
void start_ws_session(net::ip::tcp::socket socket, const std::shared_ptr<WsShared>& shared);

}  // namespace isthmus::pcscf::detail
