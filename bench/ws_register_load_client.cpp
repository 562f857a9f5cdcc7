// ws-register-load's WebSocket connections (make_ws_client,
// ws_register_load_thread.hpp; LoadClients in ws_register_load_clients.cpp
// runs them), in the shape of our server session
// (controlplane/pcscf/transport_ws_session.cpp): members first, then start
// -> on_connect -> (on_tls_handshake ->) on_upgrade -> do_read -> on_read,
// and send -> do_write -> on_write; every handler starts with its error
// check.
//
// Per connection, K slots: each slot is one REGISTER in flight with its own
// Call-ID (so that the registrar sees CSeq grow within each Call-ID however
// the proxy reorders them, RFC 3261 10.3 step 7). The connection's digest
// credentials are shared by its slots (one nonce, one nonce count).
// Responses are matched to slots by CSeq, which is unique per connection.
// Messages are written from a queue of buffers, each one's capacity reused
// for a later message.
//
// Mode::Call: one REGISTER slot registers the user, then the connection's
// CallSlots (ws_register_load_call.hpp) run K calls; responses whose CSeq
// method is not REGISTER go there, matched by Call-ID. The connection does
// the calls' I/O (CallTransport): writes, and one hold timer per call slot.
//
// Threads: a client lives on its thread's io_context, run by that thread
// alone, so no strand: handlers never run concurrently.
#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <string_view>
#include <type_traits>

#include "ws_register_load_thread.hpp"

namespace isthmus::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

template <bool kTls>
class WsClient final : public Client,
                       public CallTransport,
                       public std::enable_shared_from_this<WsClient<kTls>> {
    using NextLayer = std::conditional_t<kTls, net::ssl::stream<tcp::socket>, tcp::socket>;

    struct Slot {
        explicit Slot(const RegisterIdentity& id) : writer(id) {}
        RegisterWriter writer;
        uint32_t cseq = 0;
        Clock::time_point sent{};
        bool in_flight = false;  // awaiting its final response
    };

    ThreadState& thread_;
    websocket::stream<NextLayer> ws_;
    beast::flat_buffer buffer_;
    websocket::response_type upgrade_;
    std::vector<Slot> slots_;
    DigestCredentials creds_;
    DigestChallenge challenge_;  // scratch for parsing
    // Messages waiting to be written; the front one is being written while
    // writing_. Written ones go to spare_ for their capacity.
    std::deque<std::string> out_;
    std::vector<std::string> spare_;
    bool writing_ = false;
    std::optional<CallSlots> calls_;              // Mode::Call
    std::vector<net::steady_timer> hold_timers_;  // Mode::Call, one per call slot
    std::optional<net::steady_timer> refresh_;    // Mode::Call: the next re-REGISTER
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
    void on_message(std::string_view bytes, Clock::time_point now);
    void send(uint32_t slot);
    // Mode::Call: the registration refreshed at half the time granted,
    // so that calls outlive a binding; granted(): what a 2xx grants
    // (granted_expires, else --expires).
    void refresh_after(std::chrono::seconds granted);
    std::chrono::seconds granted(std::string_view ok) const;
    void do_write();
    void abandon_calls();
    void on_write(beast::error_code ec, std::size_t bytes);
    void ended(beast::error_code ec);

  public:
    // `call_slots`: Mode::Call's (then `slots` has one REGISTER slot).
    template <class... StreamArgs>
    WsClient(ThreadState& thread, const std::vector<RegisterIdentity>& slots,
             const std::vector<CallIdentity>& call_slots, std::string cnonce,
             StreamArgs&&... stream_args)
        : thread_(thread),
          ws_(std::forward<StreamArgs>(stream_args)...),
          creds_(slots.front().user, thread.shared.config.password,
                 "sip:" + thread.shared.config.domain, std::move(cnonce)) {
        slots_.reserve(slots.size());
        for (const auto& id : slots)
            slots_.emplace_back(id);
        if (!call_slots.empty()) {
            const LoadConfig& config = thread.shared.config;
            calls_.emplace(call_slots,
                           CallSlots::Policy{config.hold, config.transaction_timeout,
                                             config.retry_after, config.stagger},
                           &thread.shared.calls_active);
            refresh_.emplace(thread.ioc);
            hold_timers_.reserve(call_slots.size());
            for (std::size_t i = 0; i < call_slots.size(); ++i)
                hold_timers_.emplace_back(thread.ioc);
        }
    }

    // CallTransport.
    std::string buffer() override {
        if (spare_.empty()) return {};
        std::string s = std::move(spare_.back());
        spare_.pop_back();
        s.clear();
        return s;
    }
    void write(std::string message) override {
        out_.push_back(std::move(message));
        if (!writing_) do_write();
    }
    void hold(uint32_t slot, uint64_t token, std::chrono::milliseconds delay) override {
        net::steady_timer& timer = hold_timers_[slot];
        timer.expires_after(delay);
        timer.async_wait([s = self(), slot, token](beast::error_code ec) {
            if (ec || s->ended_ || !s->calls_) return;
            s->calls_->hold_expired(slot, token, Clock::now(), *s, s->measuring(),
                                    s->thread_.counters);
        });
    }
    bool may_start() const override { return !ended_ && thread_.phase() != Phase::Done; }

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
        abandon_calls();
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
    on_message(std::string_view(static_cast<const char*>(data.data()), data.size()), Clock::now());
    buffer_.consume(buffer_.size());
    do_read();
}

template <bool kTls>
void WsClient<kTls>::abandon_calls() {
    if (!calls_) return;
    calls_->abandon();
    for (net::steady_timer& t : hold_timers_)
        t.cancel();
    if (refresh_) refresh_->cancel();
}

template <bool kTls>
void WsClient<kTls>::on_message(std::string_view bytes, Clock::time_point now) {
    LoadCounters& counters = thread_.counters;
    const bool counting = measuring();
    if (calls_) {
        if (CallRequest rq; parse_call_request(bytes, rq)) {
            return calls_->on_request(rq, bytes, now, counting, counters, *this);
        }
        CallResponse cr;
        if (!parse_call_response(bytes, cr)) {
            if (counting) ++counters.bad_responses;
            return;
        }
        if (cr.method != "REGISTER") {
            return calls_->on_response(cr, bytes, now, counting, counters, thread_.first_unexpected,
                                       *this);
        }
    }
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
    if (counting && !calls_) {
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
        if (calls_) {  // no more REGISTERs but the refreshes
            refresh_after(granted(bytes));
            return calls_->start(*this, now, counting, counters);
        }
        for (uint32_t i = 1; i < slots_.size(); ++i)
            send(i);
    } else if (calls_ && registered_) {
        // A refresh's answer: a 2xx, or anything else but a challenge,
        // tried again in 5 s (a binding lives 10 s at least: min_expires).
        const bool refreshed = r.status / 100 == 2;
        if (counting) ++(refreshed ? counters.reregistered : counters.reregister_failed);
        refresh_after(refreshed ? granted(bytes) : std::chrono::seconds(10));
        return;
    }
    send(index);  // the next REGISTER, or the challenged one again with credentials
}

template <bool kTls>
std::chrono::seconds WsClient<kTls>::granted(std::string_view ok) const {
    const uint32_t s = granted_expires(ok);
    return std::chrono::seconds(s > 0 ? s : thread_.shared.config.expires);
}

template <bool kTls>
void WsClient<kTls>::refresh_after(std::chrono::seconds granted) {
    refresh_->expires_after(
        std::max<std::chrono::milliseconds>(std::chrono::seconds(1), granted / 2));
    refresh_->async_wait([s = self()](beast::error_code ec) {
        if (ec || s->ended_) return;
        s->send(0);
    });
}

template <bool kTls>
void WsClient<kTls>::send(uint32_t index) {
    if (ended_ || thread_.phase() == Phase::Done) return;
    Slot& slot = slots_[index];
    slot.cseq = ++cseq_;
    std::string request = buffer();
    slot.writer.request(slot.cseq, request, creds_, thread_.md5);
    slot.sent = Clock::now();
    slot.in_flight = true;
    if (measuring()) ++thread_.counters.sent;
    write(std::move(request));
}

template <bool kTls>
void WsClient<kTls>::do_write() {
    writing_ = true;
    ws_.async_write(net::buffer(out_.front()),
                    beast::bind_front_handler(&WsClient::on_write, self()));
}

template <bool kTls>
void WsClient<kTls>::on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) return ended(ec);
    spare_.push_back(std::move(out_.front()));
    out_.pop_front();
    if (!out_.empty()) do_write();
}

template <bool kTls>
void WsClient<kTls>::sweep(Clock::time_point now) {
    if (ended_ || !connected_) return;
    if (calls_) calls_->sweep(now, measuring(), thread_.counters, *this);
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
    abandon_calls();
    if (ec != websocket::error::closed) thread_.setup_error("websocket closed", ec.message());
    beast::get_lowest_layer(ws_).close(ec);
}

}  // namespace

std::shared_ptr<Client> make_ws_client(ThreadState& thread,
                                       const std::vector<RegisterIdentity>& slots,
                                       const std::vector<CallIdentity>& call_slots,
                                       std::string cnonce) {
    if (thread.shared.tls) {
        return std::make_shared<WsClient<true>>(thread, slots, call_slots, std::move(cnonce),
                                                thread.ioc, *thread.shared.tls);
    }
    return std::make_shared<WsClient<false>>(thread, slots, call_slots, std::move(cnonce),
                                             thread.ioc);
}

}  // namespace isthmus::bench
