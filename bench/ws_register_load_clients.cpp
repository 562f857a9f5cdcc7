// ws-register-load's LoadClients (see ws_register_load_client.hpp): the
// threads, the connections spread over them (their identities: users,
// Call-IDs, branches), start, the drain of calls and the close at the end,
// the counters.
#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <random>
#include <stdexcept>
#include <string_view>

#include "ws_register_load_client.hpp"
#include "ws_register_load_thread.hpp"

namespace isthmus::bench {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kCloseWait = std::chrono::seconds(2);  // for the close handshakes at the end

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
        : shared{config, phase, {}, {}, {}, {}, {}, {}} {}
    LoadShared shared;
    std::vector<std::unique_ptr<ThreadState>> threads;
    std::size_t calls_unfinished = 0;  // calls_active after the drain in stop()
};

LoadClients::LoadClients(const LoadConfig& config, const std::atomic<Phase>& phase)
    : impl_(std::make_unique<Impl>(config, phase)) {
    LoadShared& shared = impl_->shared;
    {
        net::io_context ioc;
        tcp::resolver resolver(ioc);
        boost::system::error_code ec;
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
        const bool calling = config.mode == Mode::Call;
        const std::size_t k = std::max<std::size_t>(1, config.outstanding);
        std::vector<RegisterIdentity> slots;
        for (std::size_t s = 0; s < (calling ? 1 : k); ++s) {
            id.call_id = call_id + "-" + std::to_string(s);
            id.branch_prefix =
                "z9hG4bK" + run + "." + std::to_string(i) + "." + std::to_string(s) + ".";
            slots.push_back(id);
        }
        // Mode::Call: slot s's calls are <call_id>-c<s>-<n>, their branches
        // z9hG4bK<run>.<i>.c<s>.<n><i|a|b>.
        std::vector<CallIdentity> call_slots;
        for (std::size_t s = 0; calling && s < k; ++s) {
            CallIdentity c;
            c.user = id.user;
            c.domain = id.domain;
            c.via_transport = id.via_transport;
            c.host = id.host;
            c.callee = config.callee;
            c.call_id_prefix = call_id + "-c" + std::to_string(s) + "-";
            c.branch_prefix =
                "z9hG4bK" + run + "." + std::to_string(i) + ".c" + std::to_string(s) + ".";
            call_slots.push_back(std::move(c));
        }
        std::string cnonce = random_token(rng, 16);
        thread.clients.push_back(make_ws_client(thread, slots, call_slots, std::move(cnonce)));
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
    LoadShared& shared = impl_->shared;
    // Mode::Call: the phase is Done (no new calls); the calls under way end
    // (their BYEs are answered, or they time out) before the connections go.
    if (shared.config.mode == Mode::Call) {
        const auto drain_deadline = Clock::now() + shared.config.hold +
                                    shared.config.transaction_timeout + 2 * kSweepPeriod;
        while (std::any_of(impl_->threads.begin(), impl_->threads.end(),
                           [](const auto& t) { return t->thread.joinable(); }) &&
               shared.calls_active.load(std::memory_order_relaxed) > 0 &&
               Clock::now() < drain_deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        impl_->calls_unfinished =
            std::max(impl_->calls_unfinished, shared.calls_active.load(std::memory_order_relaxed));
    }
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

std::size_t LoadClients::calls_unfinished() const {
    return impl_->calls_unfinished;
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
