#include "pcscf/lease_release.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <stdexcept>

namespace isthmus::pcscf {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A JSON string literal of `s` (identities and tokens are ASCII; anything
// below 0x20, '"' and '\' escaped all the same).
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\u00";
            out += kHex[u >> 4];
            out += kHex[u & 15];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

}  // namespace

std::optional<ReleaseUrl> parse_release_url(std::string_view url, std::string& error) {
    ReleaseUrl u;
    std::string_view rest;
    if (url.starts_with("https://")) {
        rest = url.substr(8);
    } else if (url.starts_with("http://")) {
        u.tls = false;
        rest = url.substr(7);
    } else {
        error = "must start with https:// or http://";
        return std::nullopt;
    }
    if (rest.find_first_of("?#") != std::string_view::npos) {
        error = "no query or fragment";
        return std::nullopt;
    }
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
        error = "a path is needed (e.g. /api/guest/release)";
        return std::nullopt;
    }
    std::string_view authority = rest.substr(0, slash);
    u.target = std::string(rest.substr(slash));
    if (authority.find('@') != std::string_view::npos) {
        error = "no user information in the URL";
        return std::nullopt;
    }
    std::string_view port;
    if (authority.starts_with("[")) {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "unclosed [ in the host";
            return std::nullopt;
        }
        u.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(":")) {
                error = "junk after the bracketed host";
                return std::nullopt;
            }
            port = after.substr(1);
        }
        boost::system::error_code ec;
        net::ip::make_address_v6(u.host, ec);
        if (ec) {
            error = "not an IPv6 address in brackets";
            return std::nullopt;
        }
    } else {
        const std::size_t colon = authority.rfind(':');
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
            authority = authority.substr(0, colon);
        }
        u.host = std::string(authority);
    }
    if (u.host.empty()) {
        error = "no host";
        return std::nullopt;
    }
    if (!port.empty()) {
        if (!all_digits(port) || port.size() > 5 || std::stoul(std::string(port)) == 0 ||
            std::stoul(std::string(port)) > 65535) {
            error = "the port must be 1..65535";
            return std::nullopt;
        }
        u.port = std::string(port);
    } else {
        u.port = u.tls ? "443" : "80";
    }
    return u;
}

// One POST: resolve, connect, (TLS handshake,) write, read. Owned by a
// shared_ptr its handlers hold; `owner` is cleared when the releaser stops,
// after which its handlers do nothing but let it go.
struct LeaseReleaser::Exchange : std::enable_shared_from_this<LeaseReleaser::Exchange> {
    using Plain = beast::tcp_stream;
    using Tls = beast::ssl_stream<beast::tcp_stream>;

    Exchange(LeaseReleaser* o, const GuestLeaseRef& lease)
        : owner(o), resolver(o->ex_), timeout(o->cfg_.timeout) {
        if (o->tls_) {
            tls.emplace(o->ex_, *o->tls_);
        } else {
            plain.emplace(o->ex_);
        }
        req.method(http::verb::post);
        req.target(o->url_.target);
        req.version(11);
        const bool v6 = o->url_.host.find(':') != std::string::npos;
        req.set(http::field::host,
                (v6 ? "[" + o->url_.host + "]" : o->url_.host) + ":" + o->url_.port);
        req.set(http::field::user_agent, "isthmus-pcscf");
        req.set(http::field::content_type, "application/json");
        req.set(http::field::connection, "close");
        req.body() = "{\"identity\":" + json_string(lease.identity) +
                     ",\"token\":" + json_string(lease.token) + "}";
        req.prepare_payload();
    }

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

    void start() {
        resolver.async_resolve(owner->url_.host, owner->url_.port,
                               [self = shared_from_this()](const beast::error_code& ec,
                                                           const tcp::resolver::results_type& r) {
                                   self->on_resolved(ec, r);
                               });
    }
    void on_resolved(const beast::error_code& ec, const tcp::resolver::results_type& results) {
        if (!owner) return;
        if (ec) return finish(0, "resolve: " + ec.message());
        lowest().expires_after(timeout);
        lowest().async_connect(
            results, [self = shared_from_this()](const beast::error_code& e, const tcp::endpoint&) {
                self->on_connected(e);
            });
    }
    void on_connected(const beast::error_code& ec) {
        if (!owner) return;
        if (ec) return finish(0, "connect: " + ec.message());
        if (!tls) return write();
        SSL* ssl = tls->native_handle();
        const std::string& host = owner->url_.host;
        // The certificate must name the host: a DNS name (and SNI), or the
        // IP address (its iPAddress SAN).
        bool named = false;
        if (is_ip_literal(host)) {
            named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
        } else {
            // (SSL_set_tlsext_host_name, without its macro's C cast)
            named = SSL_set1_host(ssl, host.c_str()) == 1 &&
                    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                             const_cast<char*>(host.c_str())) == 1;
        }
        if (!named) return finish(0, "tls: cannot set the name to verify");
        lowest().expires_after(timeout);
        tls->async_handshake(net::ssl::stream_base::client,
                             [self = shared_from_this()](const beast::error_code& e) {
                                 if (!self->owner) return;
                                 if (e) return self->finish(0, "tls: " + e.message());
                                 self->write();
                             });
    }
    void write() {
        lowest().expires_after(timeout);
        const auto on_written = [self = shared_from_this()](const beast::error_code& e,
                                                            std::size_t) {
            if (!self->owner) return;
            if (e) return self->finish(0, "write: " + e.message());
            self->read();
        };
        if (tls) {
            http::async_write(*tls, req, on_written);
        } else {
            http::async_write(*plain, req, on_written);
        }
    }
    void read() {
        lowest().expires_after(timeout);
        const auto on_read = [self = shared_from_this()](const beast::error_code& e, std::size_t) {
            if (!self->owner) return;
            if (e) return self->finish(0, "read: " + e.message());
            self->finish(static_cast<int>(self->res.result_int()), "");
        };
        if (tls) {
            http::async_read(*tls, buffer, res, on_read);
        } else {
            http::async_read(*plain, buffer, res, on_read);
        }
    }
    void finish(int status, const std::string& error) {
        beast::error_code ignored;
        lowest().socket().close(ignored);
        LeaseReleaser* o = owner;
        owner = nullptr;
        if (o) o->done(status, error);
    }
    void cancel() {
        owner = nullptr;
        resolver.cancel();
        beast::error_code ignored;
        lowest().socket().close(ignored);
    }

    LeaseReleaser* owner;
    tcp::resolver resolver;
    std::chrono::milliseconds timeout;
    std::optional<Plain> plain;  // http://
    std::optional<Tls> tls;      // https://
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
};

LeaseReleaser::LeaseReleaser(net::any_io_executor ex, LeaseReleaseConfig cfg, Log log)
    : ex_(std::move(ex)),
      cfg_(std::move(cfg)),
      log_(std::move(log)),
      retry_timer_(ex_),
      grace_timer_(ex_) {
    std::string error;
    const auto url = parse_release_url(cfg_.url, error);
    if (!url) throw std::invalid_argument(cfg_.url + ": " + error);
    url_ = *url;
    if (url_.tls) {
        tls_.emplace(net::ssl::context::tls_client);
        SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
        tls_->set_verify_mode(net::ssl::verify_peer);
        boost::system::error_code ec;
        if (cfg_.ca_file.empty()) {
            tls_->set_default_verify_paths(ec);
        } else {
            tls_->load_verify_file(cfg_.ca_file, ec);
        }
        if (ec) {
            throw std::invalid_argument(
                (cfg_.ca_file.empty() ? std::string("the system's CAs") : cfg_.ca_file) + ": " +
                ec.message());
        }
    }
}

LeaseReleaser::~LeaseReleaser() {
    if (current_) current_->cancel();
}

void LeaseReleaser::release(GuestLeaseRef lease) {
    if (stopped_) return;
    if (queue_.size() >= cfg_.max_pending) {
        ++stats_.dropped;
        log_("level=warning event=guest_lease_not_released identity=" + lease.identity +
             " reason=queue_full pending=" + std::to_string(queue_.size()));
        return;
    }
    queue_.push_back(std::move(lease));
    // Leases ended by the shutdown itself get the same bound as the rest.
    if (winding_down_ && queue_.size() == 1) arm_grace();
    next();
}

void LeaseReleaser::wind_down(std::chrono::milliseconds grace) {
    if (stopped_ || winding_down_) return;
    winding_down_ = true;
    if (waiting_) {  // a retry would come too late: send it now, once
        retry_timer_.cancel();
        waiting_ = false;
        next();
    }
    grace_ = grace;
    if (!queue_.empty()) arm_grace();
}

void LeaseReleaser::arm_grace() {
    grace_timer_.expires_after(grace_);
    grace_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec == net::error::operation_aborted) return;
        stop();
    });
}

void LeaseReleaser::stop() {
    if (stopped_) return;
    stopped_ = true;
    retry_timer_.cancel();
    grace_timer_.cancel();
    if (current_) current_->cancel();
    current_.reset();
    for (const GuestLeaseRef& l : queue_)
        log_("level=notice event=guest_lease_not_released identity=" + l.identity +
             " reason=shutdown");
    queue_.clear();
}

void LeaseReleaser::next() {
    if (stopped_ || current_ || waiting_ || queue_.empty()) return;
    ++attempt_;
    current_ = std::make_shared<Exchange>(this, queue_.front());
    current_->start();
}

void LeaseReleaser::done(int status, const std::string& error) {
    current_.reset();
    const std::string identity = queue_.front().identity;
    // 5xx and no answer may pass; 4xx will not (and 1xx/3xx are not ours).
    const bool transient = status == 0 || status >= 500;
    if (status >= 200 && status < 300) {
        ++stats_.released;
        log_("level=info event=guest_lease_released identity=" + identity +
             " status=" + std::to_string(status));
    } else if (status >= 400 && status < 500) {
        ++stats_.refused;
        log_("level=notice event=guest_lease_release_refused identity=" + identity +
             " status=" + std::to_string(status));
    } else if (transient && !winding_down_ && attempt_ < cfg_.max_attempts) {
        ++stats_.retried;
        const auto delay = std::chrono::seconds(1 << std::min(attempt_ - 1, 5));
        log_("level=notice event=guest_lease_release_retry identity=" + identity +
             " attempt=" + std::to_string(attempt_) +
             (status ? " status=" + std::to_string(status) : " error=\"" + error + "\"") +
             " in_s=" + std::to_string(delay.count()));
        waiting_ = true;
        retry_timer_.expires_after(delay);
        retry_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec == net::error::operation_aborted || stopped_) return;
            waiting_ = false;
            next();
        });
        return;
    } else {
        ++stats_.failed;
        log_("level=warning event=guest_lease_release_failed identity=" + identity +
             " attempts=" + std::to_string(attempt_) +
             (status ? " status=" + std::to_string(status) : " error=\"" + error + "\""));
    }
    queue_.pop_front();
    attempt_ = 0;
    if (winding_down_ && queue_.empty()) grace_timer_.cancel();
    next();
}

}  // namespace isthmus::pcscf
