// One SIP-over-WebSocket connection (RFC 7118), in the shape of Beast's
// chat-multi websocket_session: members first, then run -> (TLS handshake
// -> upgrade request ->) on_accept -> do_read -> on_read, and on_send ->
// do_write -> on_write; every handler starts with `if (ec) return fail(ec,
// ...)`. The session reads its own upgrade request (chat-multi's
// http_session) so that one object, one strand and one finish() cover the
// connection's whole life.
//
// Threads: everything below runs on the session's strand (the executor of
// its socket); send/close/shutdown post onto it.
#include "pcscf/transport_ws_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <string>
#include <string_view>
#include <type_traits>

namespace isthmus::pcscf::detail {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

// A read buffer that grew past this for a large message is given back.
constexpr std::size_t kKeepReadCapacity = 16 * 1024;

// Whether the upgrade request offers the subprotocol `sip` (RFC 7118 4.1):
// Sec-WebSocket-Protocol is a comma-separated token list, possibly over
// several fields (RFC 6455 4.1, 11.3.4).
bool offers_sip(const http::request<http::empty_body>& req) {
    auto [it, end] = req.equal_range(http::field::sec_websocket_protocol);
    for (; it != end; ++it) {
        std::string_view list(it->value().data(), it->value().size());
        while (!list.empty()) {
            std::size_t comma = list.find(',');
            std::string_view token = list.substr(0, comma);
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
            while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
                token.remove_prefix(1);
            }
            while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
                token.remove_suffix(1);
            }
            if (token == "sip") return true;
        }
    }
    return false;
}

bool is_peer_gone(const beast::error_code& ec) {
    return ec == websocket::error::closed || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == http::error::end_of_stream ||
           ec == net::ssl::error::stream_truncated;
}

template <bool kTls>
class WsSession final : public Connection, public std::enable_shared_from_this<WsSession<kTls>> {
    using NextLayer =
        std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

    websocket::stream<NextLayer> ws_;
    beast::flat_buffer buffer_;  // the upgrade request, then each message
    std::optional<http::request_parser<http::empty_body>> upgrade_;  // until accepted
    std::optional<http::response<http::string_body>> refusal_;       // while it is written
    std::shared_ptr<WsShared> shared_;
    const WsConfig& config_;  // shared_->config
    Peer peer_;
    // Single writer: front() is being written whenever the queue is not
    // empty. Bounded (with what is posted) by budget_.
    std::deque<std::string> queue_;
    SendBudget budget_;     // counts from send() on: posted and queued
    bool open_ = false;     // WebSocket accepted: on_flow_closed will follow
    bool closing_ = false;  // close() or shutdown asked: no more sends
    bool finished_ = false;
    CloseReason close_reason_ = CloseReason::LocalClose;  // when closing_

    std::shared_ptr<WsSession> self() { return this->shared_from_this(); }
    TransportCounters& counters() { return shared_->counters; }

    void fail(beast::error_code ec, const char* what);
    void finish(CloseReason reason);
    void on_run();
    void on_tls_handshake(beast::error_code ec);
    void do_read_upgrade();
    void on_read_upgrade(beast::error_code ec, std::size_t bytes);
    void refuse();
    void on_refused(beast::error_code ec, std::size_t bytes);
    void on_accept(beast::error_code ec);
    void do_read();
    void on_read(beast::error_code ec, std::size_t bytes);
    void on_send(std::string bytes);
    void do_write();
    void on_write(beast::error_code ec, std::size_t bytes);
    void on_close_request(CloseReason reason);
    void on_close(beast::error_code ec);

  public:
    template <class... StreamArgs>
    WsSession(std::shared_ptr<WsShared> shared, const Peer& peer, StreamArgs&&... stream_args)
        : ws_(std::forward<StreamArgs>(stream_args)...),
          shared_(std::move(shared)),
          config_(shared_->config),
          peer_(peer),
          budget_(config_.send_queue_max_messages, config_.send_queue_max_bytes) {}

    void run() {
        net::dispatch(ws_.get_executor(), beast::bind_front_handler(&WsSession::on_run, self()));
    }
    bool send(std::string bytes) override {
        if (!budget_.take(bytes.size(), shared_->counters)) {
            // The peer does not read (or the core outruns it): close.
            bump(shared_->counters.send_dropped);
            net::post(ws_.get_executor(), [s = self()] { s->finish(CloseReason::SendQueueFull); });
            return false;
        }
        net::post(ws_.get_executor(),
                  [s = self(), b = std::move(bytes)]() mutable { s->on_send(std::move(b)); });
        return true;
    }
    void close() override {
        net::post(ws_.get_executor(),
                  [s = self()] { s->on_close_request(CloseReason::LocalClose); });
    }
    void shutdown() override {
        net::post(ws_.get_executor(), [s = self()] { s->finish(CloseReason::Shutdown); });
    }
};

template <bool kTls>
void WsSession<kTls>::fail(beast::error_code ec, const char* what) {
    if (finished_) return;  // the other direction ended it already
    CloseReason reason =
        std::string_view(what) == "write" ? CloseReason::WriteError : CloseReason::ReadError;
    if (closing_) {
        reason = close_reason_;
    } else if (ec == beast::error::timeout) {
        reason = open_ ? CloseReason::IdleTimeout : CloseReason::HandshakeTimeout;
    } else if (ec == websocket::error::message_too_big) {
        reason = CloseReason::MessageTooBig;  // Beast has sent close 1009
    } else if (!open_) {
        reason = CloseReason::HandshakeFailed;
    } else if (is_peer_gone(ec)) {
        reason = CloseReason::PeerClosed;
    }
    finish(reason);
}

// The end, once: counted, out of the registry, the core told, the socket
// closed (which completes any pending operation with an error).
template <bool kTls>
void WsSession<kTls>::finish(CloseReason reason) {
    if (finished_) return;
    finished_ = true;
    counters().closed(reason);
    counters().connections_open.fetch_sub(1, std::memory_order_relaxed);
    shared_->flows.leave(peer_.flow);
    if (open_) shared_->delivery->flow_closed(peer_.flow);
    // front() may be in the middle of a write: it goes with the session.
    while (queue_.size() > 1) {
        budget_.give(queue_.back().size());
        queue_.pop_back();
    }
    beast::get_lowest_layer(ws_).close();
}

template <bool kTls>
void WsSession<kTls>::on_run() {
    // The handshake deadline covers TLS and the upgrade request.
    beast::get_lowest_layer(ws_).expires_after(config_.handshake_timeout);
    if constexpr (kTls) {
        ws_.next_layer().async_handshake(
            net::ssl::stream_base::server,
            beast::bind_front_handler(&WsSession::on_tls_handshake, self()));
    } else {
        do_read_upgrade();
    }
}

template <bool kTls>
void WsSession<kTls>::on_tls_handshake(beast::error_code ec) {
    if (ec) return fail(ec, "tls handshake");
    do_read_upgrade();
}

template <bool kTls>
void WsSession<kTls>::do_read_upgrade() {
    upgrade_.emplace();
    upgrade_->header_limit(static_cast<uint32_t>(config_.max_upgrade_request_bytes));
    http::async_read(ws_.next_layer(), buffer_, *upgrade_,
                     beast::bind_front_handler(&WsSession::on_read_upgrade, self()));
}

template <bool kTls>
void WsSession<kTls>::on_read_upgrade(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "read upgrade");
    const auto& req = upgrade_->get();
    if (!websocket::is_upgrade(req) || !offers_sip(req)) return refuse();

    // From here the WebSocket's own timers run (RFC 6455 ping for keepalive).
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = config_.handshake_timeout;
    timeouts.idle_timeout = config_.idle_timeout.count() > 0
                                ? websocket::stream_base::duration(config_.idle_timeout)
                                : websocket::stream_base::none();
    timeouts.keep_alive_pings = config_.keep_alive_pings;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(http::field::sec_websocket_protocol, "sip");  // RFC 7118 4.1
        res.set(http::field::server, "isthmus");
    }));
    ws_.read_message_max(config_.read_message_max);
    ws_.async_accept(upgrade_->release(), beast::bind_front_handler(&WsSession::on_accept, self()));
}

// RFC 7118 4.1: a server that does not receive `sip` among the offered
// subprotocols must not accept; we answer 400 and close.
template <bool kTls>
void WsSession<kTls>::refuse() {
    bump(counters().upgrades_refused);
    refusal_.emplace(http::status::bad_request, upgrade_->get().version());
    refusal_->set(http::field::server, "isthmus");
    refusal_->set(http::field::content_type, "text/plain");
    refusal_->keep_alive(false);
    refusal_->body() = "WebSocket upgrade with subprotocol sip required (RFC 7118)\r\n";
    refusal_->prepare_payload();
    http::async_write(ws_.next_layer(), *refusal_,
                      beast::bind_front_handler(&WsSession::on_refused, self()));
}

template <bool kTls>
void WsSession<kTls>::on_refused(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write refusal");
    finish(CloseReason::UpgradeRefused);
}

template <bool kTls>
void WsSession<kTls>::on_accept(beast::error_code ec) {
    if (ec) return fail(ec, "accept");
    open_ = true;
    upgrade_.reset();
    buffer_.consume(buffer_.size());
    do_read();
}

template <bool kTls>
void WsSession<kTls>::do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, self()));
}

template <bool kTls>
void WsSession<kTls>::on_read(beast::error_code ec, std::size_t bytes) {
    if (ec) return fail(ec, "read");
    // One SIP message per WebSocket message, text or binary (RFC 7118 4.2).
    bump(counters().messages_in);
    bump(counters().bytes_in, bytes);
    shared_->delivery->message(beast::buffers_to_string(buffer_.data()), peer_);
    buffer_.consume(buffer_.size());
    if (buffer_.capacity() > kKeepReadCapacity) buffer_.shrink_to_fit();
    do_read();
}

template <bool kTls>
void WsSession<kTls>::on_send(std::string bytes) {
    if (finished_ || closing_ || !open_) {
        budget_.give(bytes.size());
        bump(counters().send_dropped);
        return;
    }
    queue_.push_back(std::move(bytes));
    if (queue_.size() > 1) return;  // already writing
    do_write();
}

template <bool kTls>
void WsSession<kTls>::do_write() {
    ws_.text(is_utf8(queue_.front()));
    ws_.async_write(net::buffer(queue_.front()),
                    beast::bind_front_handler(&WsSession::on_write, self()));
}

template <bool kTls>
void WsSession<kTls>::on_write(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    bump(counters().messages_out);
    bump(counters().bytes_out, queue_.front().size());
    budget_.give(queue_.front().size());
    queue_.pop_front();
    if (!queue_.empty()) return do_write();
    if (closing_) {
        ws_.async_close(websocket::close_code::normal,
                        beast::bind_front_handler(&WsSession::on_close, self()));
    }
}

template <bool kTls>
void WsSession<kTls>::on_close_request(CloseReason reason) {
    if (finished_ || closing_) return;
    if (!open_) return finish(reason);
    closing_ = true;
    close_reason_ = reason;
    if (!queue_.empty()) return;  // on_write closes when the queue is drained
    ws_.async_close(websocket::close_code::normal,
                    beast::bind_front_handler(&WsSession::on_close, self()));
}

template <bool kTls>
void WsSession<kTls>::on_close(beast::error_code ec) {
    if (ec) return fail(ec, "close");
    finish(close_reason_);
}

}  // namespace

void start_ws_session(tcp::socket socket, const std::shared_ptr<WsShared>& shared) {
    beast::error_code ec;
    tcp::endpoint remote = socket.remote_endpoint(ec);
    Peer peer;
    peer.transport = shared->transport;
    peer.flow = next_flow_id();
    if (!ec) {
        peer.address = peer_address(remote.address());
        peer.port = remote.port();
    }
    socket.set_option(tcp::no_delay(true), ec);  // whole messages; no Nagle delay
    if (shared->tls) {
        auto s = std::make_shared<WsSession<true>>(shared, peer, std::move(socket), *shared->tls);
        shared->flows.join(peer.flow, s);
        s->run();
    } else {
        auto s = std::make_shared<WsSession<false>>(shared, peer, std::move(socket));
        shared->flows.join(peer.flow, s);
        s->run();
    }
}

}  // namespace isthmus::pcscf::detail
