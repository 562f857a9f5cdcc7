#include "pcscf/transport_udp.hpp"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <cerrno>
#include <stdexcept>
#include <vector>

namespace isthmus::pcscf {

namespace detail {

namespace beast = boost::beast;
using udp = net::ip::udp;

class UdpSocket : public std::enable_shared_from_this<UdpSocket> {
    net::strand<net::io_context::executor_type> strand_;
    udp::socket socket_;
    udp::endpoint local_;
    // One byte more than max_datagram: a datagram that fills it was larger
    // (the kernel truncated it).
    std::vector<char> buffer_;
    udp::endpoint sender_;
    std::shared_ptr<const Delivery> delivery_;
    std::atomic<bool> stopped_{false};

    void do_receive() {
        socket_.async_receive_from(
            net::buffer(buffer_), sender_,
            beast::bind_front_handler(&UdpSocket::on_receive, shared_from_this()));
    }

    void on_receive(boost::system::error_code ec, std::size_t bytes) {
        if (stopped_ || ec == net::error::operation_aborted) return;
        if (ec) {
            // ICMP errors from an earlier send (ECONNREFUSED) and the like:
            // the socket goes on.
            bump(counters.receive_errors);
        } else if (bytes == 0) {
            bump(counters.dropped_empty);
        } else if (bytes >= buffer_.size()) {
            bump(counters.dropped_oversize);
        } else {
            Peer from;
            from.transport = Transport::Udp;
            from.address = peer_address(sender_.address());
            from.port = sender_.port();
            bump(counters.messages_in);
            bump(counters.bytes_in, bytes);
            delivery_->message(std::string(buffer_.data(), bytes), from);
        }
        do_receive();
    }

    void on_send(const udp::endpoint& to, const std::string& bytes) {
        if (stopped_) {
            bump(counters.send_dropped);
            return;
        }
        boost::system::error_code ec;
        // Non-blocking (set at construction): a full buffer is would_block.
        std::size_t n = socket_.send_to(net::buffer(bytes), to, 0, ec);
        if (ec || n != bytes.size()) {
            bump(counters.send_dropped);
            return;
        }
        bump(counters.messages_out);
        bump(counters.bytes_out, n);
    }

  public:
    TransportCounters counters;

    UdpSocket(net::io_context& ioc, const UdpConfig& config,
              std::shared_ptr<const Delivery> delivery)
        : strand_(net::make_strand(ioc)),
          socket_(strand_),
          buffer_(config.max_datagram + 1),
          delivery_(std::move(delivery)) {
        auto failed = [](const char* step, const std::string& where,
                         const boost::system::error_code& ec) {
            throw std::runtime_error("udp: " + std::string(step) + " " + where + ": " +
                                     ec.message());
        };
        if (config.max_datagram == 0) throw std::runtime_error("udp: max_datagram must be > 0");
        boost::system::error_code ec;
        auto ip = net::ip::make_address(config.address, ec);
        if (ec) failed("address", config.address, ec);
        udp::endpoint endpoint(ip, config.port);
        const std::string where = endpoint_text(ip, config.port);
        socket_.open(endpoint.protocol(), ec);
        if (ec) failed("open", where, ec);
        if (ip.is_v6()) socket_.set_option(net::ip::v6_only(false), ec);  // best effort
        // SO_RCVBUFFORCE/SO_SNDBUFFORCE (CAP_NET_ADMIN) pass net.core.rmem_max /
        // wmem_max (212992 by default: a burst of a thousand responses
        // overflows it); without the capability the plain option, which the
        // kernel clamps to that maximum.
        const auto buffer = [&](int force, int plain, int bytes, const char* name) {
            if (bytes <= 0) return;
            const int fd = socket_.native_handle();
            if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) == 0) return;
            if (setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof bytes) != 0) {
                failed(name, where,
                       boost::system::error_code(errno, boost::system::system_category()));
            }
        };
        buffer(SO_RCVBUFFORCE, SO_RCVBUF, config.receive_buffer_bytes, "SO_RCVBUF");
        buffer(SO_SNDBUFFORCE, SO_SNDBUF, config.send_buffer_bytes, "SO_SNDBUF");
        socket_.bind(endpoint, ec);
        if (ec) failed("bind", where, ec);
        socket_.non_blocking(true, ec);
        if (ec) failed("non_blocking", where, ec);
        local_ = socket_.local_endpoint(ec);
        if (ec) failed("getsockname", where, ec);
    }

    void run() {
        net::dispatch(strand_,
                      beast::bind_front_handler(&UdpSocket::do_receive, shared_from_this()));
    }

    bool send(const Peer& to, std::string bytes) {
        net::ip::address address = asio_address(to.address);
        if (stopped_ || (local_.address().is_v4() && !address.is_v4())) {
            bump(counters.send_dropped);
            return false;
        }
        if (local_.address().is_v6() && address.is_v4()) {
            address = net::ip::make_address_v6(net::ip::v4_mapped, address.to_v4());
        }
        net::post(strand_, [self = shared_from_this(), ep = udp::endpoint(address, to.port),
                            b = std::move(bytes)] { self->on_send(ep, b); });
        return true;
    }

    void stop() {
        if (stopped_.exchange(true)) return;
        net::post(strand_, [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->socket_.close(ignored);
        });
    }

    const udp::endpoint& local_endpoint() const { return local_; }
};

}  // namespace detail

UdpTransport::UdpTransport(net::io_context& ioc, const UdpConfig& config,
                           std::shared_ptr<const Delivery> delivery)
    : socket_(std::make_shared<detail::UdpSocket>(ioc, config, std::move(delivery))) {}

UdpTransport::~UdpTransport() {
    shutdown();
}

void UdpTransport::start() {
    socket_->run();
}

bool UdpTransport::send(const Peer& to, std::string bytes) {
    return socket_->send(to, std::move(bytes));
}

void UdpTransport::shutdown() {
    socket_->stop();
}

net::ip::udp::endpoint UdpTransport::local_endpoint() const {
    return socket_->local_endpoint();
}

const TransportCounters& UdpTransport::counters() const {
    return socket_->counters;
}

}  // namespace isthmus::pcscf
