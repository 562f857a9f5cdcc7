// ws-register-load's clients: N SIP-over-WebSocket connections (RFC 7118,
// subprotocol `sip`, WS or WSS) spread over T io_context threads, each
// registering its own user back to back with K REGISTERs in flight, or
// (Mode::Call) registering once and then calling back to back with K calls
// in flight.
//
// Threads: each load thread runs its own io_context and owns its
// connections, its counters and its MD5 context outright (no strands, no
// locks). The main thread only reads the atomics (ready, failed) and, after
// stop(), the counters. `phase` is written by the main thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ws_register_load_stats.hpp"

namespace isthmus::bench {

enum class Phase : int {
    Setup,    // connecting and registering; nothing counted but setup
    Warmup,   // load running, nothing counted
    Measure,  // load running, counted
    Done,     // no new REGISTERs, no new calls (calls under way end: ACK, BYE)
};

enum class Mode : int {
    Register,  // REGISTERs back to back
    Call,      // one REGISTER per connection, then calls back to back
};

struct LoadConfig {
    std::string host;  // as given: name, IPv4 or IPv6 (without brackets)
    uint16_t port = 0;
    bool tls = false;
    std::string path = "/";
    std::size_t connections = 1;
    std::string user_prefix = "user";
    uint32_t first_user = 0;
    std::string domain = "ims.example.net";
    std::string password = "load-secret";
    uint32_t expires = 600;
    std::size_t outstanding = 1;  // REGISTERs in flight per connection
    std::size_t threads = 1;
    std::size_t connect_concurrency = 64;  // connections being set up at once
    bool full_parse = false;               // sip/parser.hpp + validate, else the minimal scan
    std::chrono::milliseconds transaction_timeout{5000};
    Mode mode = Mode::Register;
    std::string callee = "sip:bob@ims.example.net";  // Mode::Call: the INVITEs' Request-URI
    std::chrono::milliseconds hold{0};               // Mode::Call: from the ACK to the BYE
    bool retry_after = false;  // Mode::Call: a failed INVITE's Retry-After waited out
    bool stagger = false;      // Mode::Call: first calls spread over the hold
};

class LoadClients {
  public:
    // Resolves the target; throws std::runtime_error naming what failed.
    LoadClients(const LoadConfig& config, const std::atomic<Phase>& phase);
    ~LoadClients();
    LoadClients(const LoadClients&) = delete;
    LoadClients& operator=(const LoadClients&) = delete;

    // Starts the threads; connections open (at most connect_concurrency
    // at once) and each begins registering.
    void start();
    // Connections registered (first 200) / that failed to connect or
    // closed before their first 200. Any thread.
    std::size_t ready() const;
    std::size_t failed() const;
    // Stops the io_contexts, joins the threads, closes the connections.
    // Mode::Call: first waits (up to hold + 5 s) for the calls under way to
    // end, so that none is left in the proxy.
    void stop();
    // The counters of every thread; after stop().
    LoadCounters totals() const;
    // The first final response other than 2xx, 401 and 407, whole (for a
    // look at what went wrong); empty if none. After stop().
    std::string first_unexpected() const;
    // Calls still under way when stop() closed the connections (Mode::Call).
    std::size_t calls_unfinished() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace isthmus::bench
