// One SIP-over-TCP connection toward the IMS (RFC 3261 18), accepted or
// made on demand, in the chat-multi shape: members first, then run ->
// (do_connect -> on_connect ->) do_read -> on_read, and on_send -> do_write
// -> on_write; every handler starts with `if (ec) return fail(ec, ...)`.
//
// Threads: everything below runs on the connection's strand (the executor
// of its stream); send/close/shutdown post onto it.
#include "pcscf/transport_tcp_connection.hpp"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <deque>
#include <string>
#include <string_view>

namespace isthmus::pcscf::detail {

namespace beast = boost::beast;
using tcp = net::ip::tcp;

void TcpShared::forget_endpoint(const EndpointKey& key, uint64_t flow) {
    std::lock_guard lock(endpoints_mutex);
    auto it = endpoints.find(key);
    if (it != endpoints.end() && it->second == flow) endpoints.erase(it);
}

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kReceiveSlack = 4 * 1024;  // CRLFs and the next message's start

std::size_t leading_crlfs(std::string_view s) {
    std::size_t n = 0;
    while (s.size() - n >= 2 && s[n] == '\r' && s[n + 1] == '\n')
        n += 2;
    return n;
}

class TcpConnection final : public Connection, public std::enable_shared_from_this<TcpConnection> {
    beast::tcp_stream stream_;
    beast::flat_buffer rx_;  // bounded by its max_size
    std::shared_ptr<TcpShared> shared_;
    const TcpConfig& config_;  // shared_->config
    Peer peer_;
    // Single writer: front() is being written whenever open_ and the queue
    // is not empty. Bounded (with what is posted) by budget_.
    std::deque<std::string> queue_;
    SendBudget budget_;                // counts from send() on: posted and queued
    std::size_t keepalive_crlfs_ = 0;  // CRLFs since the last message (RFC 5626 4.4.1)
    bool open_ = false;                // accepted or connected
    bool closing_ = false;             // close() asked: no more sends
    bool finished_ = false;

    std::shared_ptr<TcpConnection> self() { return shared_from_this(); }
    TransportCounters& counters() { return shared_->counters; }
    EndpointKey key() const { return {peer_.address, peer_.port}; }

    void fail(beast::error_code ec, const char* what);
    void finish(CloseReason reason);
    void do_connect();
    void on_connect(beast::error_code ec);
    void do_read();
    void on_read(beast::error_code ec, std::size_t bytes);
    bool split_messages();
    void on_send(std::string bytes);
    void do_write();
    void on_write(beast::error_code ec, std::size_t bytes);
    void on_close_request();

  public:
    template <class StreamArg>
    TcpConnection(std::shared_ptr<TcpShared> shared, const Peer& peer, StreamArg&& stream_arg)
        : stream_(std::forward<StreamArg>(stream_arg)),
          rx_(shared->config.limits.max_message_bytes + kReceiveSlack),
          shared_(std::move(shared)),
          config_(shared_->config),
          peer_(peer),
          budget_(config_.send_queue_max_messages, config_.send_queue_max_bytes) {}

    void run_accepted() {
        net::dispatch(stream_.get_executor(), [s = self()] {
            s->open_ = true;
            s->do_read();
        });
    }
    void run_outbound() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&TcpConnection::do_connect, self()));
    }
    bool send(std::string bytes) override {
        if (!budget_.take(bytes.size(), shared_->counters)) {
            // The peer does not read (or the core outruns it): close.
            bump(shared_->counters.send_dropped);
            net::post(stream_.get_executor(),
                      [s = self()] { s->finish(CloseReason::SendQueueFull); });
            return false;
        }
        net::post(stream_.get_executor(),
                  [s = self(), b = std::move(bytes)]() mutable { s->on_send(std::move(b)); });
        return true;
    }
    void close() override {
        net::post(stream_.get_executor(), [s = self()] { s->on_close_request(); });
    }
    void shutdown() override {
        net::post(stream_.get_executor(), [s = self()] { s->finish(CloseReason::Shutdown); });
    }
};

void TcpConnection::fail(beast::error_code ec, const char* what) {
    if (finished_) return;
    CloseReason reason =
        std::string_view(what) == "write" ? CloseReason::WriteError : CloseReason::ReadError;
    if (!open_) {
        reason = CloseReason::ConnectFailed;
    } else if (ec == beast::error::timeout) {
        reason = CloseReason::IdleTimeout;
    } else if (ec == net::error::eof || ec == net::error::connection_reset) {
        reason = closing_ ? CloseReason::LocalClose : CloseReason::PeerClosed;
    }
    finish(reason);
}

void TcpConnection::finish(CloseReason reason) {
    if (finished_) return;
    finished_ = true;
    counters().closed(reason);
    counters().connections_open.fetch_sub(1, std::memory_order_relaxed);
    shared_->flows.leave(peer_.flow);
    shared_->forget_endpoint(key(), peer_.flow);
    if (open_) {
        shared_->delivery->flow_closed(peer_.flow);
    } else if (reason == CloseReason::ConnectFailed) {
        Peer to = peer_;
        to.flow = 0;
        shared_->delivery->unreachable(to);
    }
    // front() may be in the middle of a write: it goes with the connection.
    while (queue_.size() > 1) {
        budget_.give(queue_.back().size());
        queue_.pop_back();
    }
    stream_.close();
}

void TcpConnection::do_connect() {
    tcp::endpoint remote(asio_address(peer_.address), peer_.port);
    beast::error_code ec;
    if (shared_->source) {
        // Outbound connections leave from the configured address (the one
        // our Via names).
        if (shared_->source->is_v4() != remote.address().is_v4()) {
            return fail(net::error::address_family_not_supported, "connect");
        }
        stream_.socket().open(remote.protocol(), ec);
        if (ec) return fail(ec, "connect");
        stream_.socket().bind(tcp::endpoint(*shared_->source, 0), ec);
        if (ec) return fail(ec, "connect");
    }
    stream_.expires_after(config_.connect_timeout);
    stream_.async_connect(remote, beast::bind_front_handler(&TcpConnection::on_connect, self()));
}

void TcpConnection::on_connect(beast::error_code ec) {
    if (ec) return fail(ec, "connect");
    open_ = true;
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    do_read();
    if (!queue_.empty()) do_write();
}

void TcpConnection::do_read() {
    if (config_.idle_timeout.count() > 0) {
        stream_.expires_after(config_.idle_timeout);
    } else {
        stream_.expires_never();
    }
    std::size_t room = rx_.max_size() - rx_.size();
    stream_.async_read_some(rx_.prepare(std::min(room, kReadChunk)),
                            beast::bind_front_handler(&TcpConnection::on_read, self()));
}

void TcpConnection::on_read(beast::error_code ec, std::size_t bytes) {
    if (ec) return fail(ec, "read");
    rx_.commit(bytes);
    bump(counters().bytes_in, bytes);
    if (!split_messages()) return;
    if (rx_.size() == rx_.max_size()) return finish(CloseReason::BufferFull);
    do_read();
}

// Hands every whole message in rx_ to the core (RFC 3261 18.3). False: a
// framing error closed the connection.
bool TcpConnection::split_messages() {
    while (rx_.size() > 0) {
        std::string_view data(static_cast<const char*>(rx_.data().data()), rx_.size());
        sip::ParseResult r = sip::parse_message(data, sip::Framing::Stream, config_.limits);
        if (r.status == sip::ParseStatus::Error) {
            bump(counters().parse_errors[static_cast<std::size_t>(r.error)]);
            finish(CloseReason::ParseError);
            return false;
        }
        std::size_t crlfs = r.status == sip::ParseStatus::Ok
                                ? leading_crlfs(data.substr(0, r.consumed))
                                : r.consumed;
        keepalive_crlfs_ += crlfs / 2;
        if (keepalive_crlfs_ >= 2) {  // a CRLFCRLF ping: a CRLF pong (RFC 5626 4.4.1)
            bump(counters().keepalives);
            keepalive_crlfs_ = 0;
            send("\r\n");
        }
        if (r.status == sip::ParseStatus::Incomplete) {
            rx_.consume(r.consumed);  // the CRLFs only
            return true;
        }
        keepalive_crlfs_ = 0;
        bump(counters().messages_in);
        shared_->delivery->message(std::string(data.substr(crlfs, r.consumed - crlfs)), peer_);
        rx_.consume(r.consumed);
    }
    return true;
}

void TcpConnection::on_send(std::string bytes) {
    if (finished_ || closing_) {
        budget_.give(bytes.size());
        bump(counters().send_dropped);
        return;
    }
    queue_.push_back(std::move(bytes));
    if (queue_.size() > 1 || !open_) return;  // already writing, or still connecting
    do_write();
}

void TcpConnection::do_write() {
    net::async_write(stream_, net::buffer(queue_.front()),
                     beast::bind_front_handler(&TcpConnection::on_write, self()));
}

void TcpConnection::on_write(beast::error_code ec, std::size_t bytes) {
    if (ec) return fail(ec, "write");
    bump(counters().messages_out);
    bump(counters().bytes_out, bytes);
    budget_.give(queue_.front().size());
    queue_.pop_front();
    if (!queue_.empty()) return do_write();
    if (closing_) finish(CloseReason::LocalClose);
}

void TcpConnection::on_close_request() {
    if (finished_ || closing_) return;
    closing_ = true;
    if (!open_ || queue_.empty()) finish(CloseReason::LocalClose);
    // else on_write finishes when the queue is drained.
}

Peer tcp_peer(uint64_t flow, const tcp::endpoint& remote) {
    Peer p;
    p.transport = Transport::Tcp;
    p.flow = flow;
    p.address = peer_address(remote.address());
    p.port = remote.port();
    return p;
}

}  // namespace

void start_tcp_accepted(tcp::socket socket, const std::shared_ptr<TcpShared>& shared) {
    beast::error_code ec;
    tcp::endpoint remote = socket.remote_endpoint(ec);
    Peer peer = tcp_peer(next_flow_id(), remote);
    socket.set_option(tcp::no_delay(true), ec);
    auto c = std::make_shared<TcpConnection>(shared, peer, std::move(socket));
    shared->flows.join(peer.flow, c);
    {
        std::lock_guard lock(shared->endpoints_mutex);
        shared->endpoints.emplace(EndpointKey{peer.address, peer.port}, peer.flow);
    }
    c->run_accepted();
}

bool start_tcp_outbound(const Peer& to, std::string first,
                        const std::shared_ptr<TcpShared>& shared) {
    Peer peer = to;
    peer.flow = next_flow_id();
    auto c = std::make_shared<TcpConnection>(shared, peer, net::make_strand(*shared->ioc));
    shared->flows.join(peer.flow, c);
    shared->endpoints[EndpointKey{peer.address, peer.port}] = peer.flow;  // caller holds the mutex
    bool queued = c->send(std::move(first));  // false: larger than the send bound
    c->run_outbound();
    return queued;
}

}  // namespace isthmus::pcscf::detail
