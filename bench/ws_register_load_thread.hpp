// ws-register-load's load threads, as the connections and LoadClients see
// them: what the threads share (LoadShared), one thread's state
// (ThreadState: its io_context, connections, counters), a connection as its
// thread drives it (Client), and the factory of WebSocket connections
// (ws_register_load_client.cpp). Internal to ws-register-load.
//
// Threads: a ThreadState and its connections belong to its thread; the
// main thread reads LoadShared's atomics, and the rest once the threads are
// joined.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ws_register_load_call.hpp"
#include "ws_register_load_client.hpp"
#include "ws_register_load_sip.hpp"
#include "ws_register_load_stats.hpp"

namespace isthmus::bench {

using Clock = std::chrono::steady_clock;

inline constexpr auto kSweepPeriod = std::chrono::milliseconds(250);
inline constexpr int kSetupErrorsShown = 3;  // per thread, on stderr

// What the threads share; set before they start, then read only (but the
// two atomics).
struct LoadShared {
    const LoadConfig& config;
    const std::atomic<Phase>& phase;
    boost::asio::ip::tcp::endpoint endpoint;
    std::string host_header;  // "HOST:PORT", IPv6 in brackets
    std::optional<boost::asio::ssl::context> tls;
    std::atomic<std::size_t> ready{0};
    std::atomic<std::size_t> failed{0};
    std::atomic<std::size_t> open{0};          // WebSockets up and not yet ended
    std::atomic<std::size_t> calls_active{0};  // Mode::Call: calls under way
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
    boost::asio::io_context ioc{1};
    boost::asio::steady_timer sweep_timer{ioc};
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
        sweep_timer.async_wait([this](boost::system::error_code ec) {
            if (!ec && !stopping) sweep();
        });
    }
};

// A WebSocket connection (WsClient<true> for wss, WsClient<false> for ws) on
// `thread`: REGISTER slots, and call slots in Mode::Call (then `slots` has
// one REGISTER slot).
std::shared_ptr<Client> make_ws_client(ThreadState& thread,
                                       const std::vector<RegisterIdentity>& slots,
                                       const std::vector<CallIdentity>& call_slots,
                                       std::string cnonce);

}  // namespace isthmus::bench
