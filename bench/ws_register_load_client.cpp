// ws-register-load's WebSocket clients (see the header), in the shape of
// our server session (controlplane/pcscf/transport_ws_session.cpp): members
// first, then start -> on_connect -> (on_tls_handshake ->) on_upgrade ->
// do_read -> on_read, and send -> do_write -> on_write; every handler
// starts with its error check.
//
// Per connection, K slots: each slot is one REGISTER in flight with its own
// Call-ID (so that the registrar sees CSeq grow within each Call-ID however
// the proxy reorders them, RFC 3261 10.3 step 7) and its own request buffer,
// rewritten in place for the next transaction. The connection's digest
// credentials are shared by its slots (one nonce, one nonce count).
// Responses are matched to slots by CSeq, which is unique per connection.
//
// Threads: a client lives on its thread's io_context, run by that thread
// alone, so no strand: handlers never run concurrently.
#include "ws_register_load_client.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdio>
#include <optional>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "ws_register_load_sip.hpp"

namespace isthmus::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kSweepPeriod = std::chrono::milliseconds(250);
constexpr auto kCloseWait = std::chrono::seconds(2);  // for the close handshakes at the end
constexpr int kSetupErrorsShown = 3;                  // per thread, on stderr

// What the threads share; set before they start, then read only (but the
// two atomics).
struct LoadShared {
    const LoadConfig& config;
    const std::atomic<Phase>& phase;
    tcp::endpoint endpoint;
    std::string host_header;  // "HOST:PORT", IPv6 in brackets
    std::optional<net::ssl::context> tls;
    std::atomic<std::size_t> ready{0};
    std::atomic<std::size_t> failed{0};
    std::atomic<std::size_t> open{0};  // WebSockets up and not yet ended
};

class Client {
  public:
    virtual ~Client() = default;
    virtual void start() = 0;
    virtual void sweep(Clock::time_point now) = 0;
    // Sends a WebSocket close (after any write in progress); the read then
    // ends with `closed`. A connection still in setup is closed at once.
    virtual void close_gracefully() = 0;
    // Closes the socket: pending operations end with operation_aborted.
    virtual void close() = 0;
};

// One load thread: its io_context, connections, counters, MD5 context.
struct ThreadState {
    explicit ThreadState(LoadShared& s, std::size_t max_connecting_)
        : shared(s), max_connecting(max_connecting_) {}

    LoadShared& shared;
    net::io_context ioc{1};
    net::steady_timer sweep_timer{ioc};
    DigestMd5 md5;
    LoadCounters counters;
    std::string challenge_storage;  // the full parse's copy of a challenge
    std::string first_unexpected;   // the first final response not 2xx/401/407
    std::vector<std::shared_ptr<Client>> clients;
    std::size_t next_start = 0;
    std::size_t connecting = 0;
    std::size_t max_connecting;
    int setup_errors_shown = 0;
    bool stopping = false;
    std::thread thread;

    Phase phase() const { return shared.phase.load(std::memory_order_relaxed); }

    // Starts connections while fewer than max_connecting are in setup.
    void start_more() {
        while (!stopping && connecting < max_connecting && next_start < clients.size()) {
            ++connecting;
            clients[next_start++]->start();
        }
    }
    void setup_done() {
        --connecting;
        start_more();
    }
    void setup_error(const char* what, const std::string& message) {
        if (stopping || setup_errors_shown >= kSetupErrorsShown) return;
        ++setup_errors_shown;
        std::fprintf(stderr, "ws-register-load: %s: %s\n", what, message.c_str());
    }
    void sweep() {
        const Clock::time_point now = Clock::now();
        for (auto& c : clients)
            c->sweep(now);
        sweep_timer.expires_after(kSweepPeriod);
        sweep_timer.async_wait([this](beast::error_code ec) {
            if (!ec && !stopping) sweep();
        });
    }
};

template <bool kTls>
class WsClient final : public Client, public std::enable_shared_from_this<WsClient<kTls>> {
    using NextLayer = std::conditional_t<kTls, net::ssl::stream<tcp::socket>, tcp::socket>;

    struct Slot {
        explicit Slot(const RegisterIdentity& id) : writer(id) {}
        RegisterWriter writer;
        std::string request;  // the last REGISTER; kept until written
        uint32_t cseq = 0;
        Clock::time_point sent{};
        bool in_flight = false;  // awaiting its final response
        bool in_write = false;   // queued or being written: `request` must stay
        bool resend = false;     // answered before written: send again after
    };

    ThreadState& thread_;
    websocket::stream<NextLayer> ws_;
    beast::flat_buffer buffer_;
    websocket::response_type upgrade_;
    std::vector<Slot> slots_;
    DigestCredentials creds_;
    DigestChallenge challenge_;  // scratch for parsing
    // Slots waiting to be written, a ring; the front one is being written
    // while writing_.
    std::vector<uint32_t> queue_;
    std::size_t queue_head_ = 0;
    std::size_t queue_size_ = 0;
    bool writing_ = false;
    uint32_t cseq_ = 0;
    bool connected_ = false;
    bool registered_ = false;
    bool ended_ = false;

    std::shared_ptr<WsClient> self() { return this->shared_from_this(); }
    bool measuring() const { return thread_.phase() == Phase::Measure; }

    void setup_failed(beast::error_code ec, const char* what);
    void on_connect(beast::error_code ec);
    void on_tls_handshake(beast::error_code ec);
    void do_upgrade();
    void on_upgrade(beast::error_code ec);
    void do_read();
    void on_read(beast::error_code ec, std::size_t bytes);
    void on_response(std::string_view bytes, Clock::time_point now);
    void send(uint32_t slot);
    void do_write();
    void on_write(beast::error_code ec, std::size_t bytes);
    void ended(beast::error_code ec);

  public:
    template <class... StreamArgs>
    WsClient(ThreadState& thread, const std::vector<RegisterIdentity>& slots, std::string cnonce,
             StreamArgs&&... stream_args)
        : thread_(thread),
          ws_(std::forward<StreamArgs>(stream_args)...),
          creds_(slots.front().user, thread.shared.config.password,
                 "sip:" + thread.shared.config.domain, std::move(cnonce)),
          queue_(slots.size()) {
        slots_.reserve(slots.size());
        for (const auto& id : slots)
            slots_.emplace_back(id);
    }

    void start() override {
        beast::get_lowest_layer(ws_).async_connect(
            thread_.shared.endpoint, beast::bind_front_handler(&WsClient::on_connect, self()));
    }
    void sweep(Clock::time_point now) override;
    void close_gracefully() override {
        if (!connected_ || ended_) return close();
        ws_.async_close(websocket::close_code::normal, [s = self()](beast::error_code ec) {
            if (ec) s->ended(ec);  // else the read ends with `closed`
        });
    }
    void close() override {
        if (connected_ && !ended_) thread_.shared.open.fetch_sub(1, std::memory_order_relaxed);
        ended_ = true;
        beast::error_code ec;
        beast::get_lowest_layer(ws_).close(ec);
    }
};

template <bool kTls>
void WsClient<kTls>::setup_failed(beast::error_code ec, const char* what) {
    if (ended_) return;
    ended_ = true;
    thread_.setup_error(what, ec.message());
    ++thread_.counters.connect_failed;
    thread_.shared.failed.fetch_add(1, std::memory_order_relaxed);
    beast::get_lowest_layer(ws_).close(ec);
    thread_.setup_done();
}

template <bool kTls>
void WsClient<kTls>::on_connect(beast::error_code ec) {
    if (ec) return setup_failed(ec, "connect");
    beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true), ec);
    if constexpr (kTls) {
        ws_.next_layer().async_handshake(
            net::ssl::stream_base::client,
            beast::bind_front_handler(&WsClient::on_tls_handshake, self()));
    } else {
        do_upgrade();
    }
}

template <bool kTls>
void WsClient<kTls>::on_tls_handshake(beast::error_code ec) {
    if (ec) return setup_failed(ec, "tls handshake");
    do_upgrade();
}

template <bool kTls>
void WsClient<kTls>::do_upgrade() {
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
        req.set(http::field::sec_websocket_protocol, "sip");  // RFC 7118 4.1
        req.set(http::field::user_agent, "ws-register-load");
    }));
    // Masking keys need no cryptographic strength here (RFC 6455 10.3
    // guards browsers against hostile scripts, not a bench).
    ws_.secure_prng(false);
    ws_.auto_fragment(false);
    ws_.async_handshake(upgrade_, thread_.shared.host_header, thread_.shared.config.path,
                        beast::bind_front_handler(&WsClient::on_upgrade, self()));
}

template <bool kTls>
void WsClient<kTls>::on_upgrade(beast::error_code ec) {
    if (ec) return setup_failed(ec, "websocket upgrade");
    if (upgrade_[http::field::sec_websocket_protocol] != "sip") {
        return setup_failed(beast::error_code(net::error::no_protocol_option),
                            "websocket upgrade without subprotocol sip");
    }
    connected_ = true;
    thread_.shared.open.fetch_add(1, std::memory_order_relaxed);
    ++thread_.counters.connected;
    thread_.setup_done();
    ws_.text(true);
    do_read();
    send(0);  // the others follow the first 200
}

template <bool kTls>
void WsClient<kTls>::do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WsClient::on_read, self()));
}

template <bool kTls>
void WsClient<kTls>::on_read(beast::error_code ec, std::size_t) {
    if (ec) return ended(ec);
    const auto data = buffer_.cdata();
    on_response(std::string_view(static_cast<const char*>(data.data()), data.size()), Clock::now());
    buffer_.consume(buffer_.size());
    do_read();
}

template <bool kTls>
void WsClient<kTls>::on_response(std::string_view bytes, Clock::time_point now) {
    LoadCounters& counters = thread_.counters;
    const bool counting = measuring();
    ResponseSummary r;
    const bool ok = thread_.shared.config.full_parse
                        ? summarize_response_full(bytes, r, thread_.challenge_storage)
                        : summarize_response_fast(bytes, r);
    if (!ok || !r.cseq_register) {
        if (counting) ++counters.bad_responses;
        return;
    }
    if (r.status < 200) {
        if (counting) ++counters.provisional;
        return;
    }
    uint32_t index = 0;
    while (index < slots_.size() && !(slots_[index].in_flight && slots_[index].cseq == r.cseq)) {
        ++index;
    }
    if (index == slots_.size()) {
        if (counting) ++counters.unmatched;
        return;
    }
    Slot& slot = slots_[index];
    slot.in_flight = false;
    if (counting) {
        ++counters.by_status[r.status];
        counters.latency.record(now - slot.sent);
    }
    if (r.status >= 300 && r.status != 401 && r.status != 407 && thread_.first_unexpected.empty()) {
        thread_.first_unexpected.assign(bytes);
    }
    if (r.status == 401 || r.status == 407) {
        if (!parse_digest_challenge(r.challenge, challenge_) ||
            !creds_.challenge(challenge_, r.status == 407, thread_.md5)) {
            if (counting) ++counters.unanswerable;
        }
    } else if (r.status / 100 == 2 && !registered_) {
        registered_ = true;
        ++counters.registered;
        thread_.shared.ready.fetch_add(1, std::memory_order_relaxed);
        for (uint32_t i = 1; i < slots_.size(); ++i)
            send(i);
    }
    send(index);
}

template <bool kTls>
void WsClient<kTls>::send(uint32_t index) {
    if (ended_ || thread_.phase() == Phase::Done) return;
    Slot& slot = slots_[index];
    if (slot.in_write) {
        slot.resend = true;
        return;
    }
    slot.cseq = ++cseq_;
    slot.writer.request(slot.cseq, slot.request, creds_, thread_.md5);
    slot.sent = Clock::now();
    slot.in_flight = true;
    slot.in_write = true;
    if (measuring()) ++thread_.counters.sent;
    queue_[(queue_head_ + queue_size_) % queue_.size()] = index;
    ++queue_size_;
    if (!writing_) do_write();
}

template <bool kTls>
void WsClient<kTls>::do_write() {
    writing_ = true;
    const std::string& request = slots_[queue_[queue_head_]].request;
    ws_.async_write(net::buffer(request), beast::bind_front_handler(&WsClient::on_write, self()));
}

template <bool kTls>
void WsClient<kTls>::on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) return ended(ec);
    const uint32_t index = queue_[queue_head_];
    queue_head_ = (queue_head_ + 1) % queue_.size();
    --queue_size_;
    Slot& slot = slots_[index];
    slot.in_write = false;
    if (slot.resend) {
        slot.resend = false;
        send(index);
    }
    if (queue_size_ > 0 && !writing_) do_write();
}

template <bool kTls>
void WsClient<kTls>::sweep(Clock::time_point now) {
    if (ended_ || !connected_) return;
    const auto timeout = thread_.shared.config.transaction_timeout;
    for (uint32_t i = 0; i < slots_.size(); ++i) {
        Slot& slot = slots_[i];
        if (!slot.in_flight || now - slot.sent < timeout) continue;
        // RFC 3261 17.1.2.2's Timer F, as the bench sees it: the
        // transaction is over; the connection goes on.
        slot.in_flight = false;
        if (measuring()) ++thread_.counters.timeouts;
        send(i);
    }
}

template <bool kTls>
void WsClient<kTls>::ended(beast::error_code ec) {
    if (ended_) return;
    ended_ = true;
    thread_.shared.open.fetch_sub(1, std::memory_order_relaxed);
    if (!thread_.stopping) ++thread_.counters.closed_total;
    if (measuring()) ++thread_.counters.ws_closes;
    if (!registered_) thread_.shared.failed.fetch_add(1, std::memory_order_relaxed);
    if (ec != websocket::error::closed) thread_.setup_error("websocket closed", ec.message());
    beast::get_lowest_layer(ws_).close(ec);
}

std::string random_token(std::mt19937_64& rng, std::size_t length) {
    constexpr std::string_view kChars = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(length, 'a');
    for (char& c : s)
        c = kChars[static_cast<std::size_t>(rng() % kChars.size())];
    return s;
}

std::string user_name(const LoadConfig& c, std::size_t index) {
    std::string n = std::to_string(c.first_user + index);
    if (n.size() < 4) n.insert(0, 4 - n.size(), '0');
    return c.user_prefix + n;
}

}  // namespace

struct LoadClients::Impl {
    explicit Impl(const LoadConfig& config, const std::atomic<Phase>& phase)
        : shared{config, phase, {}, {}, {}, {}, {}} {}
    LoadShared shared;
    std::vector<std::unique_ptr<ThreadState>> threads;
};

LoadClients::LoadClients(const LoadConfig& config, const std::atomic<Phase>& phase)
    : impl_(std::make_unique<Impl>(config, phase)) {
    LoadShared& shared = impl_->shared;
    {
        net::io_context ioc;
        tcp::resolver resolver(ioc);
        beast::error_code ec;
        auto results = resolver.resolve(config.host, std::to_string(config.port), ec);
        if (ec || results.empty()) {
            throw std::runtime_error("cannot resolve " + config.host + ": " + ec.message());
        }
        shared.endpoint = *results.begin();
    }
    const bool v6 = config.host.find(':') != std::string::npos;
    shared.host_header =
        (v6 ? "[" + config.host + "]" : config.host) + ":" + std::to_string(config.port);
    if (config.tls) {
        shared.tls.emplace(net::ssl::context::tls_client);
        shared.tls->set_verify_mode(net::ssl::verify_none);  // a bench: any certificate
    }

    const std::size_t threads = config.threads == 0 ? 1 : config.threads;
    const std::size_t per_thread = std::max<std::size_t>(1, config.connect_concurrency / threads);
    for (std::size_t t = 0; t < threads; ++t) {
        impl_->threads.push_back(std::make_unique<ThreadState>(shared, per_thread));
    }
    std::mt19937_64 rng{std::random_device{}()};
    const std::string run = random_token(rng, 6);
    for (std::size_t i = 0; i < config.connections; ++i) {
        ThreadState& thread = *impl_->threads[i % threads];
        RegisterIdentity id;
        id.user = user_name(config, i);
        id.domain = config.domain;
        id.via_transport = config.tls ? "WSS" : "WS";
        id.host = random_token(rng, 12) + ".invalid";  // RFC 7118 5.2
        id.from_tag = random_token(rng, 10);
        id.expires = config.expires;
        const std::string call_id = random_token(rng, 16) + "-" + std::to_string(i);
        std::vector<RegisterIdentity> slots;
        for (std::size_t s = 0; s < std::max<std::size_t>(1, config.outstanding); ++s) {
            id.call_id = call_id + "-" + std::to_string(s);
            id.branch_prefix =
                "z9hG4bK" + run + "." + std::to_string(i) + "." + std::to_string(s) + ".";
            slots.push_back(id);
        }
        std::string cnonce = random_token(rng, 16);
        if (config.tls) {
            thread.clients.push_back(std::make_shared<WsClient<true>>(
                thread, slots, std::move(cnonce), thread.ioc, *shared.tls));
        } else {
            thread.clients.push_back(
                std::make_shared<WsClient<false>>(thread, slots, std::move(cnonce), thread.ioc));
        }
    }
}

LoadClients::~LoadClients() {
    stop();
}

void LoadClients::start() {
    for (auto& t : impl_->threads) {
        ThreadState* state = t.get();
        state->thread = std::thread([state] {
            auto guard = net::make_work_guard(state->ioc);
            net::post(state->ioc, [state] {
                state->start_more();
                state->sweep();
            });
            state->ioc.run();
        });
    }
}

std::size_t LoadClients::ready() const {
    return impl_->shared.ready.load(std::memory_order_relaxed);
}

std::size_t LoadClients::failed() const {
    return impl_->shared.failed.load(std::memory_order_relaxed);
}

void LoadClients::stop() {
    // A WebSocket close on every connection, from its thread, and a short
    // wait for them (so that the server sees an orderly end, not a reset).
    bool running = false;
    for (auto& t : impl_->threads) {
        if (!t->thread.joinable()) continue;
        running = true;
        ThreadState* state = t.get();
        net::post(state->ioc, [state] {
            state->stopping = true;
            for (auto& c : state->clients)
                c->close_gracefully();
        });
    }
    const auto deadline = Clock::now() + kCloseWait;
    while (running && impl_->shared.open.load(std::memory_order_relaxed) > 0 &&
           Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& t : impl_->threads)
        t->ioc.stop();
    for (auto& t : impl_->threads) {
        if (t->thread.joinable()) t->thread.join();
    }
    // The threads are gone: close every connection from here and let the
    // aborted operations finish, so that nothing is left pending.
    for (auto& t : impl_->threads) {
        t->stopping = true;
        t->sweep_timer.cancel();
        for (auto& c : t->clients)
            c->close();
        t->ioc.restart();
        t->ioc.poll();
        t->clients.clear();
    }
}

std::string LoadClients::first_unexpected() const {
    for (const auto& t : impl_->threads) {
        if (!t->first_unexpected.empty()) return t->first_unexpected;
    }
    return {};
}

LoadCounters LoadClients::totals() const {
    LoadCounters total;
    for (const auto& t : impl_->threads)
        total.merge(t->counters);
    return total;
}

}  // namespace isthmus::bench
