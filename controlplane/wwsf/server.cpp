// The WWSF's HTTP(S) server (server.hpp): listeners, TLS, one session per
// connection reading whole requests with Beast's request_parser under the
// configured limits and writing the handler's responses.
#include "wwsf/server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

#include "isthmus/tls/server_policy.hpp"
#include "wwsf/json.hpp"

namespace isthmus::wwsf {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr std::chrono::seconds kTlsShutdownTimeout{5};

void load_tls(ssl::context& ctx, const ServerConfig& c) {
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::no_compression | ssl::context::single_dh_use);
    SSL_CTX* native = ctx.native_handle();
    if (!isthmus::tls::apply_server_policy(native))  // TLS 1.2+, ECDHE with AEAD
        throw std::runtime_error("https: cannot restrict TLS to 1.2+ with AEAD suites");
    boost::system::error_code ec;
    ctx.use_certificate_chain_file(c.certificate_chain_file, ec);
    if (ec) {
        throw std::runtime_error("https: certificate file " + c.certificate_chain_file + ": " +
                                 ec.message());
    }
    ctx.use_private_key_file(c.private_key_file, ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error("https: private key file " + c.private_key_file + ": " +
                                 ec.message());
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        throw std::runtime_error("https: private key " + c.private_key_file +
                                 " does not match certificate " + c.certificate_chain_file);
    }
}

std::string endpoint_text(const tcp::endpoint& e) {
    const std::string host = e.address().to_string();
    return (e.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(e.port());
}

bool is_parse_error(const beast::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

class SessionBase {
  public:
    virtual ~SessionBase() = default;
    virtual void close() = 0;
};

}  // namespace

struct HttpServer::Shared {
    ServerConfig config;
    RequestHandler handler;
    std::optional<ssl::context> tls;
    ServerCounters counters;
    // Live sessions, for shutdown(). The io_context thread only.
    std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> sessions;
    uint64_t next_id = 1;
    bool stopped = false;
};

namespace {

template <bool kTls>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<kTls>> {
    using Stream =
        std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;  // while reading
    std::optional<http::response<http::string_body>> response_;      // while writing
    std::shared_ptr<HttpServer::Shared> shared_;
    const ServerConfig& config_;  // shared_->config
    uint64_t id_;
    std::string peer_;
    unsigned version_ = 11;
    bool keep_alive_ = false;
    bool closed_ = false;  // close() or finished: nothing more is written

    std::shared_ptr<Session> self() { return this->shared_from_this(); }
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  public:
    template <class... StreamArgs>
    Session(std::shared_ptr<HttpServer::Shared> shared, tcp::socket socket,
            StreamArgs&&... stream_args)
        : stream_(std::move(socket), std::forward<StreamArgs>(stream_args)...),
          shared_(std::move(shared)),
          config_(shared_->config),
          id_(shared_->next_id++) {
        boost::system::error_code ec;
        const auto remote = tcp().socket().remote_endpoint(ec);
        peer_ = ec ? "-" : remote.address().to_string();
    }
    ~Session() override {
        shared_->counters.connections_open.fetch_sub(1, std::memory_order_relaxed);
        shared_->sessions.erase(id_);
    }

    void run() {
        shared_->sessions.emplace(id_, std::weak_ptr<SessionBase>(self()));
        if constexpr (kTls) {
            tcp().expires_after(config_.handshake_timeout);
            stream_.async_handshake(ssl::stream_base::server,
                                    beast::bind_front_handler(&Session::on_handshake, self()));
        } else {
            do_read();
        }
    }

    void close() override {
        closed_ = true;
        beast::error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp().close();
    }

  private:
    void fail(beast::error_code ec, const char* /*what*/) {
        if (ec == beast::error::timeout) {
            shared_->counters.timeouts.fetch_add(1, std::memory_order_relaxed);
        }
        // The session ends when its last handler returns.
        closed_ = true;
        tcp().close();
    }

    void on_handshake(beast::error_code ec) {
        if (ec) {
            const bool aborted = ec == net::error::eof || ec == net::ssl::error::stream_truncated ||
                                 ec == net::error::connection_reset;
            (aborted ? shared_->counters.tls_aborted : shared_->counters.tls_failed)
                .fetch_add(1, std::memory_order_relaxed);
            return fail(ec, "handshake");
        }
        do_read();
    }

    void do_read() {
        if (closed_) return;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(config_.max_header_bytes));
        parser_->body_limit(config_.max_body_bytes);
        tcp().expires_after(config_.request_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_read, self()));
    }

    void on_read(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec == http::error::end_of_stream) return do_close();
        if (ec == http::error::body_limit) {
            return refuse(
                413, "request body over " + std::to_string(config_.max_body_bytes) + " octets");
        }
        if (ec == http::error::header_limit) {
            return refuse(
                431, "request header over " + std::to_string(config_.max_header_bytes) + " octets");
        }
        if (ec && is_parse_error(ec) && ec != http::error::partial_message) {
            return refuse(400, "malformed HTTP request");
        }
        if (ec) return fail(ec, "read");
        shared_->counters.requests.fetch_add(1, std::memory_order_relaxed);
        auto& m = parser_->get();
        HttpRequest req;
        req.method = std::string(m.method_string());
        req.target = std::string(m.target());
        for (const auto& field : m) {
            std::string name(field.name_string());
            for (char& c : name) {
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            }
            req.headers.emplace_back(std::move(name), std::string(field.value()));
        }
        req.body = std::move(m.body());
        req.secure = kTls;
        req.peer = peer_;
        version_ = m.version();
        keep_alive_ = m.keep_alive();
        parser_.reset();
        // Nothing is read until the response is written (no pipelining).
        shared_->handler(std::move(req),
                         [self = self()](HttpResponse r) { self->write(std::move(r), false); });
    }

    // A request the server answers itself; the connection closes after.
    void refuse(unsigned status, const std::string& message) {
        shared_->counters.refused_parse.fetch_add(1, std::memory_order_relaxed);
        HttpResponse r;
        r.status = status;
        r.headers.emplace_back("Content-Type", "application/json");
        r.headers.emplace_back("X-Content-Type-Options", "nosniff");
        r.headers.emplace_back("Cache-Control", "no-store");
        r.body = json_error(message);
        version_ = 11;
        write(std::move(r), true);
    }

    void write(HttpResponse r, bool close_after) {
        if (closed_) return;
        if (close_after) keep_alive_ = false;
        response_.emplace();
        auto& res = *response_;
        res.version(version_);
        res.result(r.status);
        res.set(http::field::server, "isthmus-wwsf");
        for (auto& [name, value] : r.headers)
            res.insert(name, value);
        if (r.head) {
            res.content_length(r.body.size());
        } else {
            res.body() = std::move(r.body);
            res.prepare_payload();
        }
        res.keep_alive(keep_alive_);
        tcp().expires_after(config_.request_timeout);
        http::async_write(stream_, res, beast::bind_front_handler(&Session::on_write, self()));
    }

    void on_write(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) return fail(ec, "write");
        response_.reset();
        if (!keep_alive_) return do_close();
        do_read();
    }

    void do_close() {
        if constexpr (kTls) {
            tcp().expires_after(kTlsShutdownTimeout);
            stream_.async_shutdown(beast::bind_front_handler(&Session::on_shutdown, self()));
        } else {
            beast::error_code ignored;
            tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
            closed_ = true;
        }
    }

    void on_shutdown(beast::error_code /*ec*/) {
        // A peer that closes without its close_notify is the common case.
        closed_ = true;
        tcp().close();
    }
};

}  // namespace

struct HttpServer::Listener : std::enable_shared_from_this<HttpServer::Listener> {
    net::io_context& ioc;
    tcp::acceptor acceptor;
    net::steady_timer backoff;
    tcp::endpoint local;
    bool tls;
    std::shared_ptr<Shared> shared;
    bool stopped = false;

    Listener(net::io_context& io, const char* name, const Endpoint& at, bool secure,
             std::shared_ptr<Shared> s)
        : ioc(io), acceptor(io), backoff(io), tls(secure), shared(std::move(s)) {
        boost::system::error_code ec;
        const auto address = net::ip::make_address(at.address, ec);
        const tcp::endpoint endpoint(address, at.port);
        const std::string where = ec ? at.address : endpoint_text(endpoint);
        const auto check = [&](const char* step) {
            if (ec) {
                throw std::runtime_error(std::string(name) + ": " + step + " " + where + ": " +
                                         ec.message());
            }
        };
        check("address");
        acceptor.open(endpoint.protocol(), ec);
        check("open");
        acceptor.set_option(net::socket_base::reuse_address(true), ec);
        check("set_option");
        acceptor.bind(endpoint, ec);
        check("bind");
        acceptor.listen(net::socket_base::max_listen_connections, ec);
        check("listen");
        local = acceptor.local_endpoint(ec);
        check("getsockname");
    }

    void do_accept() {
        if (stopped) return;
        acceptor.async_accept(ioc,
                              beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (stopped || ec == net::error::operation_aborted) return;
        if (ec) {
            // EMFILE, ENOBUFS...: the pending connection stays in the backlog.
            backoff.expires_after(std::chrono::milliseconds(50));
            backoff.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
                if (!wait_ec) self->do_accept();
            });
            return;
        }
        auto& c = shared->counters;
        if (c.connections_open.load(std::memory_order_relaxed) >= shared->config.max_connections) {
            c.connections_refused.fetch_add(1, std::memory_order_relaxed);
        } else {
            c.connections_open.fetch_add(1, std::memory_order_relaxed);
            c.connections_total.fetch_add(1, std::memory_order_relaxed);
            if (tls) {
                std::make_shared<Session<true>>(shared, std::move(socket), *shared->tls)->run();
            } else {
                std::make_shared<Session<false>>(shared, std::move(socket))->run();
            }
        }
        do_accept();
    }

    void stop() {
        stopped = true;
        boost::system::error_code ignored;
        acceptor.close(ignored);
        backoff.cancel();
    }
};

HttpServer::HttpServer(net::io_context& ioc, const ServerConfig& config, RequestHandler handler)
    : shared_(std::make_shared<Shared>()) {
    shared_->config = config;
    shared_->handler = std::move(handler);
    if (config.max_connections == 0 || config.max_header_bytes == 0 || config.max_body_bytes == 0) {
        throw std::runtime_error("wwsf server: limits must be > 0");
    }
    if (config.https) {
        shared_->tls.emplace(ssl::context::tls_server);
        load_tls(*shared_->tls, config);
        https_ = std::make_shared<Listener>(ioc, "https", *config.https, true, shared_);
    }
    if (config.http) {
        http_ = std::make_shared<Listener>(ioc, "http", *config.http, false, shared_);
    }
}

HttpServer::~HttpServer() {
    shutdown();
}

void HttpServer::start() {
    for (const auto& l : {https_, http_}) {
        if (l) net::post(l->ioc, [l] { l->do_accept(); });
    }
}

void HttpServer::shutdown() {
    const auto& any = https_ ? https_ : http_;
    if (!any) return;
    net::post(any->ioc, [shared = shared_, https = https_, http = http_] {
        if (shared->stopped) return;
        shared->stopped = true;
        if (https) https->stop();
        if (http) http->stop();
        std::vector<std::shared_ptr<SessionBase>> live;
        for (auto& [id, weak] : shared->sessions) {
            if (auto s = weak.lock()) live.push_back(std::move(s));
        }
        for (auto& s : live)
            s->close();
    });
}

std::optional<tcp::endpoint> HttpServer::https_endpoint() const {
    return https_ ? std::optional(https_->local) : std::nullopt;
}

std::optional<tcp::endpoint> HttpServer::http_endpoint() const {
    return http_ ? std::optional(http_->local) : std::nullopt;
}

const ServerCounters& HttpServer::counters() const {
    return shared_->counters;
}

}  // namespace isthmus::wwsf
