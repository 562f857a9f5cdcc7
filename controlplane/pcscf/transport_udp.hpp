// Mw over UDP (RFC 3261 18): one socket on a configured address:port; a
// datagram is one message. Received datagrams go to the core with
// Peer{Udp, flow 0, source address, source port}; empty or oversize
// (truncated) ones are dropped and counted. send(Peer) writes one datagram
// to Peer.address:port without blocking: when the socket buffer is full the
// message is dropped and counted (UDP is lossy; the SIP transaction layer
// retransmits), never queued.
//
// Thread-safety: every public member may be called from any thread; the
// socket is used on its own strand only. Destroy it before its io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "pcscf/transport_common.hpp"

namespace isthmus::pcscf {

struct UdpConfig {
    std::string address = "0.0.0.0";  // IPv4 or IPv6 literal ("::" takes IPv4 too)
    uint16_t port = 5060;             // 0: ephemeral (local_endpoint() says which)
    // The largest datagram taken; larger ones are dropped (counted
    // dropped_oversize). 65507 is the most an IPv4 datagram can carry.
    std::size_t max_datagram = 65535;
    int receive_buffer_bytes = 0;  // SO_RCVBUF; 0: the system's default
    int send_buffer_bytes = 0;     // SO_SNDBUF; 0: the system's default
};

namespace detail {
class UdpSocket;
}

class UdpTransport {
  public:
    // Binds config.address:port. Throws std::runtime_error naming what
    // failed ("udp: bind 127.0.0.1:5060: Address already in use").
    UdpTransport(net::io_context& ioc, const UdpConfig& config,
                 std::shared_ptr<const Delivery> delivery);
    ~UdpTransport();  // shutdown()
    UdpTransport(const UdpTransport&) = delete;
    UdpTransport& operator=(const UdpTransport&) = delete;

    void start();  // starts receiving

    // Sends one datagram to to.address:to.port (to.flow is not read).
    // False: the transport is shut down, or the address family cannot be
    // reached from this socket (an IPv6 peer on an IPv4 socket), counted
    // send_dropped. True: handed to the socket's strand; a full socket
    // buffer or a send error there drops it (counted send_dropped).
    bool send(const Peer& to, std::string bytes);

    void shutdown();  // closes the socket; idempotent
    net::ip::udp::endpoint local_endpoint() const;
    const TransportCounters& counters() const;

  private:
    std::shared_ptr<detail::UdpSocket> socket_;
};

}  // namespace isthmus::pcscf
