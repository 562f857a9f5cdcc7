// The TCP transport's inside: what its connections share, and the start of
// an accepted or an outbound connection (the class is in
// transport_tcp_connection.cpp).
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "pcscf/transport_common.hpp"
#include "pcscf/transport_tcp.hpp"

namespace isthmus::pcscf::detail {

using EndpointKey = std::pair<std::array<uint8_t, 16>, uint16_t>;

// Owned by the TcpTransport and every connection. `config`, `ioc`,
// `source` and `delivery` never change after construction; `counters` are
// atomics; `flows` and `endpoints` have their own mutexes.
struct TcpShared {
    TcpConfig config;
    net::io_context* ioc = nullptr;
    std::optional<net::ip::address> source;  // bind outbound connections here
    std::shared_ptr<const Delivery> delivery;
    TransportCounters counters;
    FlowRegistry flows;
    std::atomic<bool> stopped{false};
    // Open (or connecting) connections by remote endpoint, for sends with
    // flow 0. Held while a connection is made, so two sends make one.
    std::mutex endpoints_mutex;
    std::map<EndpointKey, uint64_t> endpoints;

    void forget_endpoint(const EndpointKey& key, uint64_t flow);
};

// An accepted socket (its executor is the connection's strand): counted by
// the caller, registered and reading when this returns.
void start_tcp_accepted(net::ip::tcp::socket socket, const std::shared_ptr<TcpShared>& shared);

// A new outbound connection to `to` with `first` queued. The caller holds
// shared->endpoints_mutex and has counted it; it registers it (flows and
// endpoints) and starts the connect. False: `first` alone is over the send
// bound (the connection closes).
bool start_tcp_outbound(const Peer& to, std::string first,
                        const std::shared_ptr<TcpShared>& shared);

}  // namespace isthmus::pcscf::detail
