// W2 transport (RFC 7118 over Boost.Beast): a real Beast WebSocket client on
// loopback against Transports, in process, ephemeral ports. Every wait is
// on an event (the core's callbacks, a client operation), bounded by 5 s.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>

#include "isthmus/tls/server_policy.hpp"
#include "pcscf/transport_set.hpp"
#include "transport_testing.hpp"

namespace isthmus::pcscf {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

using test::Event;
using test::Mailbox;

// Transports on one thread, with the core's callbacks feeding a Mailbox.
class Server {
  public:
    explicit Server(const TransportsConfig& config)
        : transports_(config, TransportHandlers{
                                  .on_message =
                                      [this](std::string bytes, Peer from) {
                                          check_strand();
                                          events_.push({false, std::move(bytes), from, from.flow});
                                      },
                                  .on_flow_closed =
                                      [this](uint64_t flow) {
                                          check_strand();
                                          events_.push({true, {}, {}, flow});
                                      },
                              }) {
        transports_.start();
        thread_ = std::thread([this] { transports_.context().run(); });
    }
    ~Server() { stop(); }
    // Shuts down and waits until every callback has run.
    void stop() {
        if (!thread_.joinable()) return;
        transports_.shutdown();
        thread_.join();
    }
    Transports& t() { return transports_; }
    Mailbox& events() { return events_; }
    int off_strand() const { return off_strand_; }
    uint16_t ws_port() { return transports_.ws()->local_endpoint().port(); }
    const TransportCounters& ws() { return transports_.ws()->counters(); }

  private:
    void check_strand() {
        if (!transports_.core_executor().running_in_this_thread()) ++off_strand_;
    }
    Mailbox events_;  // before transports_: outlives it
    std::atomic<int> off_strand_{0};
    Transports transports_;
    std::thread thread_;
};

// A Beast WebSocket client on its own io_context; every operation runs it
// until that operation completes (or 5 s: then the socket is closed).
template <bool kTls>
class WsClient {
    using Next = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
    net::io_context ioc_;
    ssl::context ctx_{ssl::context::tls_client};  // verify_none: a self-signed test cert
    std::optional<websocket::stream<Next>> ws_;

  public:
    WsClient() {
        if constexpr (kTls) {
            ctx_.set_verify_mode(ssl::verify_none);
            ws_.emplace(ioc_, ctx_);
        } else {
            ws_.emplace(ioc_);
        }
    }
    websocket::stream<Next>& ws() { return *ws_; }
    // The client's SSL object (TLS only): what it offers, before connect().
    SSL* ssl() { return ws_->next_layer().native_handle(); }

    // Runs one operation to completion. `start` gets the completion handler.
    template <class Start>
    beast::error_code run(Start start, std::chrono::milliseconds timeout = 5s) {
        auto done = std::make_shared<std::optional<beast::error_code>>();
        start([done](beast::error_code ec, auto&&...) { *done = ec; });
        ioc_.restart();
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!*done && std::chrono::steady_clock::now() < deadline)
            ioc_.run_one_until(deadline);
        if (*done) return **done;
        beast::get_lowest_layer(*ws_).close();
        ioc_.restart();
        ioc_.run_for(1s);
        return beast::error::timeout;
    }
    // Runs the io_context until `cond` holds (pending operations go on).
    bool pump_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 5s) {
        ioc_.restart();
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!cond() && std::chrono::steady_clock::now() < deadline)
            ioc_.run_one_until(deadline);
        return cond();
    }

    void set_receive_buffer(int bytes) {
        auto& s = beast::get_lowest_layer(*ws_).socket();
        s.open(tcp::v4());
        s.set_option(net::socket_base::receive_buffer_size(bytes));
    }
    uint16_t local_port() { return beast::get_lowest_layer(*ws_).socket().local_endpoint().port(); }

    // TCP, TLS, then the upgrade offering `protocols` (empty: no header).
    beast::error_code connect(uint16_t port, std::string protocols = "sip",
                              websocket::response_type* response = nullptr) {
        tcp::endpoint server(net::ip::make_address("127.0.0.1"), port);
        auto ec = run([&](auto h) { beast::get_lowest_layer(*ws_).async_connect(server, h); });
        if (ec) return ec;
        if constexpr (kTls) {
            ec = run(
                [&](auto h) { ws_->next_layer().async_handshake(ssl::stream_base::client, h); });
            if (ec) return ec;
        }
        ws_->set_option(websocket::stream_base::decorator([protocols](websocket::request_type& r) {
            if (!protocols.empty()) r.set(http::field::sec_websocket_protocol, protocols);
        }));
        websocket::response_type ignored;
        websocket::response_type& res = response ? *response : ignored;
        return run([&](auto h) { ws_->async_handshake(res, "127.0.0.1", "/", h); });
    }
    beast::error_code write(const std::string& message, bool binary = false) {
        ws_->binary(binary);
        return run([&](auto h) { ws_->async_write(net::buffer(message), h); });
    }
    // One message; std::nullopt and `ec` set on error.
    std::optional<std::string> read(beast::error_code* error = nullptr) {
        beast::flat_buffer buffer;
        auto ec = run([&](auto h) { ws_->async_read(buffer, h); });
        if (error) *error = ec;
        if (ec) return std::nullopt;
        return beast::buffers_to_string(buffer.data());
    }
};

const std::string kRegister =
    "REGISTER sip:ims.example SIP/2.0\r\n"
    "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n"
    "Content-Length: 0\r\n\r\n";
const std::string kOk = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

TransportsConfig ws_config(WsConfig ws = {}) {
    ws.address = "127.0.0.1";
    ws.port = 0;
    TransportsConfig c;
    c.ws = ws;
    return c;
}

// Connects, sends kRegister, returns the Peer the core saw.
template <bool kTls>
Peer register_flow(Server& server, WsClient<kTls>& client, uint16_t port) {
    EXPECT_FALSE(client.connect(port));
    EXPECT_FALSE(client.write(kRegister));
    auto e = server.events().pop();
    EXPECT_TRUE(e && !e->closed);
    return e ? e->peer : Peer{};
}

// Waits (at most 5 s) for the server to close a raw connection: 0 on EOF.
ssize_t wait_for_close(tcp::socket& raw) {
    timeval tv{5, 0};
    setsockopt(raw.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char byte = 0;
    return ::recv(raw.native_handle(), &byte, 1, 0);
}

// For counters the server bumps after the client has seen the outcome (a
// 400 written, a socket closed by a timer): no callback says when, so poll,
// for at most 5 s.
bool eventually(const std::function<bool()>& cond) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

uint64_t closes(const TransportCounters& c, CloseReason r) {
    return c.closes_of(r);
}

TEST(TransportWs, SubprotocolSipIsEchoed) {
    Server server(ws_config());
    for (std::string offer : {"sip", "foo, sip", "sip,foo"}) {
        WsClient<false> client;
        websocket::response_type res;
        ASSERT_FALSE(client.connect(server.ws_port(), offer, &res)) << offer;
        EXPECT_EQ(res.result(), http::status::switching_protocols);
        EXPECT_EQ(res[http::field::sec_websocket_protocol], "sip") << offer;
    }
    EXPECT_EQ(server.ws().upgrades_refused.load(), 0u);
}

TEST(TransportWs, UpgradeWithoutSipIsRefusedWith400) {
    Server server(ws_config());
    for (std::string offer : {"", "sipx", "SIP-like, xmpp"}) {
        WsClient<false> client;
        websocket::response_type res;
        EXPECT_EQ(client.connect(server.ws_port(), offer, &res), websocket::error::upgrade_declined)
            << offer;
        EXPECT_EQ(res.result(), http::status::bad_request) << offer;
    }
    EXPECT_EQ(server.ws().upgrades_refused.load(), 3u);
    EXPECT_TRUE(eventually([&] { return closes(server.ws(), CloseReason::UpgradeRefused) == 3; }));
    EXPECT_EQ(server.ws().connections_open.load(), 0u);
}

TEST(TransportWs, MessagesBothWaysWithPeerAndFlow) {
    Server server(ws_config());
    WsClient<false> a;
    WsClient<false> b;
    Peer pa = register_flow(server, a, server.ws_port());
    EXPECT_EQ(pa.transport, Transport::Ws);
    EXPECT_NE(pa.flow, 0u);
    EXPECT_EQ(pa.address, v4_mapped(127, 0, 0, 1));
    EXPECT_EQ(pa.port, a.local_port());

    // A binary frame is a message too (RFC 7118 4.2); a second connection
    // is another flow.
    ASSERT_FALSE(b.connect(server.ws_port()));
    ASSERT_FALSE(b.write(kRegister, /*binary=*/true));
    auto eb = server.events().pop();
    ASSERT_TRUE(eb && !eb->closed);
    EXPECT_EQ(eb->bytes, kRegister);
    EXPECT_NE(eb->peer.flow, pa.flow);

    ASSERT_TRUE(server.t().send(pa, kOk));
    EXPECT_EQ(a.read(), kOk);
    EXPECT_FALSE(a.ws().got_binary());
    // Not UTF-8: a binary frame.
    std::string body = kOk + std::string("\xff\xfe", 2);
    ASSERT_TRUE(server.t().send(eb->peer, body));
    EXPECT_EQ(b.read(), body);
    EXPECT_TRUE(b.ws().got_binary());

    EXPECT_TRUE(eventually([&] { return server.ws().messages_out.load() == 2; }));
    server.stop();
    EXPECT_EQ(server.off_strand(), 0);
    EXPECT_EQ(server.ws().messages_in.load(), 2u);
    EXPECT_EQ(server.ws().connections_total.load(), 2u);
}

TEST(TransportWs, PeerCloseFiresFlowClosedOnce) {
    Server server(ws_config());
    WsClient<false> client;
    Peer peer = register_flow(server, client, server.ws_port());
    ASSERT_FALSE(
        client.run([&](auto h) { client.ws().async_close(websocket::close_code::normal, h); }));
    auto e = server.events().pop();
    ASSERT_TRUE(e && e->closed);
    EXPECT_EQ(e->flow, peer.flow);
    EXPECT_FALSE(server.t().send(peer, kOk));  // gone: the core answers 430
    server.stop();
    EXPECT_EQ(server.events().closes_of(peer.flow), 1);
    EXPECT_EQ(closes(server.ws(), CloseReason::PeerClosed), 1u);
    EXPECT_EQ(server.ws().send_no_flow.load(), 1u);
}

TEST(TransportWs, CloseFlowSendsWhatIsQueuedThenCloses1000) {
    Server server(ws_config());
    WsClient<false> client;
    Peer peer = register_flow(server, client, server.ws_port());
    ASSERT_TRUE(server.t().send(peer, kOk));
    server.t().close_flow(peer);
    EXPECT_EQ(client.read(), kOk);
    beast::error_code ec;
    EXPECT_FALSE(client.read(&ec));
    EXPECT_EQ(ec, websocket::error::closed);
    EXPECT_EQ(client.ws().reason().code, websocket::close_code::normal);
    auto e = server.events().pop();
    ASSERT_TRUE(e && e->closed);
    EXPECT_EQ(e->flow, peer.flow);
    server.stop();
    EXPECT_EQ(server.events().closes_of(peer.flow), 1);
    EXPECT_EQ(closes(server.ws(), CloseReason::LocalClose), 1u);
}

TEST(TransportWs, OversizeMessageClosesWith1009) {
    WsConfig ws;
    ws.read_message_max = 1024;
    Server server(ws_config(ws));
    WsClient<false> client;
    Peer peer = register_flow(server, client, server.ws_port());
    std::string exactly(1024, 'a');
    ASSERT_FALSE(client.write(exactly));
    auto e = server.events().pop();
    ASSERT_TRUE(e && !e->closed);
    EXPECT_EQ(e->bytes.size(), 1024u);

    (void)client.write(std::string(1025, 'b'));
    beast::error_code ec;
    EXPECT_FALSE(client.read(&ec));
    EXPECT_EQ(ec, websocket::error::closed);
    EXPECT_EQ(client.ws().reason().code, websocket::close_code::too_big);
    e = server.events().pop();
    ASSERT_TRUE(e && e->closed);
    EXPECT_EQ(e->flow, peer.flow);
    server.stop();
    EXPECT_EQ(closes(server.ws(), CloseReason::MessageTooBig), 1u);
}

TEST(TransportWs, IdleTimeoutWithPings) {
    WsConfig ws;
    ws.idle_timeout = 200ms;  // a ping after 100 ms of silence, closed after 200 ms
    Server server(ws_config(ws));

    // A client that never reads sends no pong: closed after the idle timeout.
    WsClient<false> silent;
    Peer silent_peer = register_flow(server, silent, server.ws_port());
    auto e = server.events().pop();
    ASSERT_TRUE(e && e->closed);
    EXPECT_EQ(e->flow, silent_peer.flow);
    EXPECT_EQ(closes(server.ws(), CloseReason::IdleTimeout), 1u);

    // A client that reads answers the pings (Beast does, while a read is
    // pending): four pings, 400 ms and more, and still open.
    WsClient<false> alive;
    Peer alive_peer = register_flow(server, alive, server.ws_port());
    int pings = 0;
    alive.ws().control_callback([&](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::ping) ++pings;
    });
    beast::flat_buffer buffer;
    auto read_done = std::make_shared<bool>(false);
    alive.ws().async_read(buffer,
                          [read_done](beast::error_code, std::size_t) { *read_done = true; });
    EXPECT_TRUE(alive.pump_until([&] { return pings >= 4; }));
    EXPECT_FALSE(server.events().pop(0ms));  // nothing closed
    EXPECT_EQ(server.t().ws()->connections(), 1u);
    EXPECT_EQ(closes(server.ws(), CloseReason::IdleTimeout), 1u);

    beast::get_lowest_layer(alive.ws()).close();
    alive.pump_until([&] { return *read_done; });
    e = server.events().pop();
    ASSERT_TRUE(e && e->closed);
    EXPECT_EQ(e->flow, alive_peer.flow);
}

TEST(TransportWs, HandshakeTimeoutClosesAConnectionThatNeverUpgrades) {
    WsConfig ws;
    ws.handshake_timeout = 200ms;
    Server server(ws_config(ws));
    net::io_context ioc;
    tcp::socket raw(ioc);
    raw.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server.ws_port()));
    // Half an upgrade request, then nothing.
    net::write(raw, net::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n")));
    EXPECT_EQ(wait_for_close(raw), 0);
    EXPECT_TRUE(
        eventually([&] { return closes(server.ws(), CloseReason::HandshakeTimeout) == 1; }));
    server.stop();
    EXPECT_FALSE(server.events().pop(0ms));  // never a flow: no on_flow_closed
}

TEST(TransportWs, ConnectionLimit) {
    WsConfig ws;
    ws.max_connections = 2;
    Server server(ws_config(ws));
    WsClient<false> a;
    WsClient<false> b;
    WsClient<false> refused;
    Peer pa = register_flow(server, a, server.ws_port());
    ASSERT_FALSE(b.connect(server.ws_port()));
    EXPECT_TRUE(refused.connect(server.ws_port()));  // accepted by TCP, closed at once
    EXPECT_EQ(server.ws().connections_refused.load(), 1u);

    // One closes; its slot is free again.
    beast::get_lowest_layer(a.ws()).close();
    auto e = server.events().pop();
    ASSERT_TRUE(e && e->closed);
    EXPECT_EQ(e->flow, pa.flow);
    WsClient<false> again;
    EXPECT_FALSE(again.connect(server.ws_port()));
    EXPECT_EQ(server.ws().connections_open.load(), 2u);
}

long rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return 0;
}

TEST(TransportWs, StalledClientIsClosedByTheSendQueueBound) {
    WsConfig ws;
    ws.send_queue_max_bytes = 256 * 1024;
    Server server(ws_config(ws));
    WsClient<false> stalled;
    stalled.set_receive_buffer(4096);
    Peer peer = register_flow(server, stalled, server.ws_port());

    // 64 MiB offered to a client that never reads.
    const std::string chunk(16 * 1024, 'x');
    long before = rss_kib();
    int accepted = 0;
    for (int i = 0; i < 4096; ++i)
        accepted += server.t().send(peer, chunk) ? 1 : 0;
    auto e = server.events().pop();
    ASSERT_TRUE(e && e->closed);
    EXPECT_EQ(e->flow, peer.flow);
    long growth = rss_kib() - before;
    EXPECT_LT(accepted, 4096);
#ifndef __SANITIZE_ADDRESS__  // ASan's quarantine keeps freed chunks resident
    EXPECT_LT(growth, 16 * 1024) << "KiB";
#endif
    EXPECT_LE(server.ws().send_queue_peak_bytes.load(), 256u * 1024);
    EXPECT_EQ(closes(server.ws(), CloseReason::SendQueueFull), 1u);
    std::printf("stalled client: %d of 4096 16 KiB sends taken, RSS %+ld KiB\n", accepted, growth);

    // The same volume to a client that reads, paced by it: never closed.
    WsClient<false> reader;
    Peer rp = register_flow(server, reader, server.ws_port());
    for (int i = 0; i < 256; ++i) {
        ASSERT_TRUE(server.t().send(rp, chunk));
        ASSERT_EQ(reader.read(), chunk);
    }
    EXPECT_EQ(closes(server.ws(), CloseReason::SendQueueFull), 1u);
}

// WSS with a self-signed certificate made by the openssl command.
class TempCert {
  public:
    TempCert() {
        char dir[] = "/tmp/isthmus-wss-XXXXXX";
        if (!mkdtemp(dir)) return;
        dir_ = dir;
        cert_ = dir_ / "cert.pem";
        key_ = dir_ / "key.pem";
        std::string cmd =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
            "-nodes -subj /CN=localhost -days 1 -keyout " +
            key_.string() + " -out " + cert_.string() + " 2>/dev/null";
        ok_ = std::system(cmd.c_str()) == 0;
    }
    ~TempCert() {
        std::error_code ignored;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
    }
    bool ok() const { return ok_; }
    TlsFiles files() const { return {cert_.string(), key_.string()}; }

  private:
    std::filesystem::path dir_, cert_, key_;
    bool ok_ = false;
};

// A WSS listener on 127.0.0.1 (an ephemeral port) with `cert`.
TransportsConfig wss_on_loopback(const TempCert& cert) {
    TransportsConfig config;
    config.wss = WsConfig{};
    config.wss->address = "127.0.0.1";
    config.wss->tls = cert.files();
    return config;
}

TEST(TransportWss, SelfSignedMessagesBothWays) {
    TempCert cert;
    ASSERT_TRUE(cert.ok()) << "openssl req failed";
    TransportsConfig config = wss_on_loopback(cert);
    Server server(config);
    uint16_t port = server.t().wss()->local_endpoint().port();

    WsClient<true> client;
    websocket::response_type res;
    ASSERT_FALSE(client.connect(port, "sip", &res));
    EXPECT_EQ(res[http::field::sec_websocket_protocol], "sip");
    ASSERT_FALSE(client.write(kRegister));
    auto e = server.events().pop();
    ASSERT_TRUE(e && !e->closed);
    EXPECT_EQ(e->bytes, kRegister);
    EXPECT_EQ(e->peer.transport, Transport::Wss);
    ASSERT_TRUE(server.t().send(e->peer, kOk));
    EXPECT_EQ(client.read(), kOk);

    // No subprotocol over TLS: 400 as well.
    WsClient<true> refused;
    EXPECT_EQ(refused.connect(port, ""), websocket::error::upgrade_declined);
    server.stop();
    EXPECT_EQ(server.t().wss()->counters().upgrades_refused.load(), 1u);
    EXPECT_EQ(server.events().closes_of(e->peer.flow), 1);
}

// The listener's TLS policy (isthmus/tls/server_policy.hpp): a client that
// offers no more than TLS 1.1, or TLS 1.2 with only a suite without ECDHE
// or AEAD, fails its handshake (counted); TLS 1.2 with ECDHE-ECDSA and
// AES-GCM, and TLS 1.3, get through.
TEST(TransportWss, OnlyTls12WithEcdheAeadOrTls13) {
    TempCert cert;
    ASSERT_TRUE(cert.ok());
    TransportsConfig config = wss_on_loopback(cert);
    Server server(config);
    const uint16_t port = server.t().wss()->local_endpoint().port();
    struct Offer {
        const char* what;
        int max_version;
        const char* ciphers;  // TLS 1.2 and older
        bool accepted;
    };
    const Offer offers[] = {
        {"TLS 1.1", TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0", false},
        {"TLS 1.0", TLS1_VERSION, "DEFAULT:@SECLEVEL=0", false},
        {"TLS 1.2, RSA key exchange, AES-CBC", TLS1_2_VERSION, "AES128-SHA256", false},
        {"TLS 1.2, ECDHE, AES-CBC", TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA256", false},
        {"TLS 1.2, ECDHE, AES-GCM", TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", true},
        {"TLS 1.3", TLS1_3_VERSION, "DEFAULT", true},
    };
    uint64_t refused = 0;
    for (const Offer& o : offers) {
        WsClient<true> client;
        ASSERT_EQ(SSL_set_max_proto_version(client.ssl(), o.max_version), 1) << o.what;
        ASSERT_EQ(SSL_set_cipher_list(client.ssl(), o.ciphers), 1) << o.what;
        const beast::error_code ec = client.connect(port);
        EXPECT_EQ(!ec, o.accepted) << o.what << ": " << ec.message();
        if (!o.accepted) ++refused;
    }
    const auto& c = server.t().wss()->counters();
    EXPECT_TRUE(eventually([&] { return c.closes_of(CloseReason::HandshakeFailed) == refused; }))
        << c.closes_of(CloseReason::HandshakeFailed);
}

// No renegotiation: a TLS 1.2 client that asks for a new handshake on an
// open WebSocket is refused (the no_renegotiation alert ends its attempt);
// the message it tried to send with it never reaches the core, and the
// listener goes on serving new connections. (The policy sets
// SSL_OP_NO_RENEGOTIATION, checked first; OpenSSL 3 also refuses a
// client's by default: with SSL_OP_ALLOW_CLIENT_RENEGOTIATION in its place
// this test fails.)
TEST(TransportWss, RenegotiationIsRefused) {
    {
        std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                              &SSL_CTX_free);
        ASSERT_TRUE(ctx && tls::apply_server_policy(ctx.get()));
        EXPECT_NE(SSL_CTX_get_options(ctx.get()) & SSL_OP_NO_RENEGOTIATION, 0U);
        EXPECT_EQ(SSL_CTX_get_options(ctx.get()) & SSL_OP_ALLOW_CLIENT_RENEGOTIATION, 0U);
    }
    TempCert cert;
    ASSERT_TRUE(cert.ok());
    TransportsConfig config = wss_on_loopback(cert);
    Server server(config);
    const uint16_t port = server.t().wss()->local_endpoint().port();
    {
        WsClient<true> client;
        ASSERT_EQ(SSL_set_max_proto_version(client.ssl(), TLS1_2_VERSION), 1);
        ASSERT_FALSE(client.connect(port));
        ASSERT_EQ(SSL_renegotiate(client.ssl()), 1);
        const beast::error_code ec = client.write(kRegister);
        EXPECT_TRUE(ec) << "the renegotiating write went through";
        EXPECT_EQ(SSL_renegotiate_pending(client.ssl()), 1);  // never completed
    }
    std::optional<Event> e;
    while ((e = server.events().pop(200ms)))
        EXPECT_TRUE(e->closed) << "a message got through";
    WsClient<true> next;
    const Peer p = register_flow(server, next, port);
    EXPECT_NE(p.flow, 0U);
}

TEST(TransportWss, HandshakeTimeoutWithoutClientHello) {
    TempCert cert;
    ASSERT_TRUE(cert.ok());
    TransportsConfig config = wss_on_loopback(cert);
    config.wss->handshake_timeout = 200ms;
    Server server(config);
    net::io_context ioc;
    tcp::socket raw(ioc);
    raw.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                              server.t().wss()->local_endpoint().port()));
    EXPECT_EQ(wait_for_close(raw), 0);
    const auto& c = server.t().wss()->counters();
    EXPECT_TRUE(eventually([&] { return c.closes_of(CloseReason::HandshakeTimeout) == 1; }));
}

TEST(TransportWss, MissingCertificateIsASetupErrorNamingTheFile) {
    TransportsConfig config;
    config.wss = WsConfig{};
    config.wss->address = "127.0.0.1";
    config.wss->tls = TlsFiles{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
    try {
        Transports t(config, {});
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace isthmus::pcscf
