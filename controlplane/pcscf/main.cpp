// isthmus-pcscf: the eP-CSCF (issue 6). The browsers' first SIP hop over
// WebSocket (W2, RFC 7118) and a P-CSCF toward the IMS (Mw, UDP/TCP).
//
// One io_context runs the transports (transport_set.hpp) on `threads`
// threads; the sans-I/O core (core.hpp) lives on the transports' core
// strand: every message, closed flow and timer reaches it there, one at a
// time, and what it asks for goes straight back to the transports. The core
// never reads a clock: the daemon gives it steady_clock's now() and arms a
// single timer for its next deadline, rounded up to a 10 ms grid (armed
// earlier only when that moves earlier; a timer that fires early just runs
// advance() and re-arms).
//
// Signals: SIGINT/SIGTERM shut the transports down (connections closed, the
// io_context runs dry) and the process exits 0 after a final statistics
// line; SIGUSR1 logs the statistics line now. Logs: one line per event on
// stderr, "isthmus-pcscf: level=... event=... key=value ...", never per
// message.
#include <atomic>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pcscf/core.hpp"
#include "pcscf/daemon_config.hpp"
#include "pcscf/transport_set.hpp"

namespace {

using namespace isthmus::pcscf;
using Clock = std::chrono::steady_clock;
using kTimerGrid = std::chrono::duration<int64_t, std::ratio<1, 100>>;  // 10 ms

constexpr const char* kUsage =
    "usage: isthmus-pcscf [--config FILE] [--check-config]\n"
    "\n"
    "The eP-CSCF: SIP over WebSocket from browsers (W2), P-CSCF toward the IMS\n"
    "(Mw). Reads the [pcscf] section of FILE (default: configs/isthmus.toml) and\n"
    "serves until SIGINT or SIGTERM; SIGUSR1 logs its counters.\n"
    "\n"
    "  --config FILE    configuration file\n"
    "  --check-config   load and check the configuration, then exit (0 = valid)\n"
    "  --help           this text\n";

void log_line(const std::string& line) {
    std::fprintf(stderr, "isthmus-pcscf: %s\n", line.c_str());
    std::fflush(stderr);
}

std::string endpoint_of(const char* name, const std::string& address, uint16_t port) {
    std::ostringstream s;
    s << "level=info event=listening transport=" << name << " address=" << address
      << " port=" << port;
    return s.str();
}

class Daemon {
  public:
    explicit Daemon(PcscfDaemonConfig cfg)
        : cfg_(std::move(cfg)),
          core_(cfg_.core),
          transports_(
              cfg_.transports,
              TransportHandlers{
                  .on_message = [this](std::string bytes, Peer from) { on_message(bytes, from); },
                  .on_flow_closed = [this](uint64_t flow) { on_flow_closed(flow); },
                  .on_unreachable = [this](Peer to) { on_unreachable(to); },
              }),
          timer_(transports_.core_executor()),
          signals_(transports_.context(), SIGINT, SIGTERM, SIGUSR1) {}

    int run() {
        transports_.start();
        announce();
        wait_signal();
        std::vector<std::thread> threads;
        for (int i = 1; i < cfg_.threads; ++i)
            threads.emplace_back([this] { run_thread(); });
        run_thread();
        for (auto& t : threads)
            t.join();
        log_line("level=info event=stopped " + stats_text());
        return failed_ ? 1 : 0;
    }

  private:
    // One io_context thread. Nothing in the handlers should throw; if
    // something does, the process stops in order (every thread returns, the
    // final counters are logged, exit 1) rather than in std::terminate.
    void run_thread() {
        try {
            transports_.context().run();
        } catch (const std::exception& e) {
            log_line(std::string("level=error event=fatal what=\"") + e.what() + "\"");
            failed_ = true;
            transports_.context().stop();
        }
    }

    void announce() {
        const auto& t = cfg_.transports;
        if (t.ws) log_line(endpoint_of("ws", t.ws->address, t.ws->port));
        if (t.wss) log_line(endpoint_of("wss", t.wss->address, t.wss->port));
        if (t.udp) log_line(endpoint_of("udp", t.udp->address, t.udp->port));
        if (t.tcp) log_line(endpoint_of("tcp", t.tcp->address, t.tcp->port));
        if (cfg_.flow_token_key_source.empty()) {
            log_line(
                "level=warning event=flow_token_key source=random note=\"flow tokens of an "
                "earlier run will read as forged (403), not stale (430): set "
                "pcscf.flow_token_key_file\"");
        }
        log_line("level=info event=started threads=" + std::to_string(cfg_.threads));
    }

    void wait_signal() {
        signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGUSR1) {
                net::post(transports_.core_executor(),
                          [this] { log_line("level=info event=stats " + stats_text()); });
                wait_signal();
                return;
            }
            log_line(std::string("level=info event=stopping signal=") +
                     (sig == SIGINT ? "SIGINT" : "SIGTERM"));
            // A second SIGINT/SIGTERM during shutdown takes its default
            // action: the operator can always force the stop.
            boost::system::error_code ignored;
            signals_.clear(ignored);
            net::post(transports_.core_executor(), [this] {
                stopping_ = true;
                timer_.cancel();
            });
            transports_.shutdown();
        });
    }

    // --- on the core strand ------------------------------------------------
    void on_message(const std::string& bytes, const Peer& from) {
        core_.on_message(bytes, from, Clock::now());
        drain();
    }
    void on_flow_closed(uint64_t flow) {
        core_.on_flow_closed(flow, Clock::now());
        drain();
    }
    void on_unreachable(const Peer& to) {
        core_.on_unreachable(to, Clock::now());
        drain();
    }
    void drain() {
        // A send refused at once (a full send queue, the connection limit, a
        // flow that just closed, shutdown) is left to the transaction's own
        // timers: it says nothing about the peer as a whole. Unreachable
        // peers come from the transports (on_unreachable: a connection made
        // on demand that failed).
        while (auto out = core_.poll())
            transports_.apply(std::move(*out));
        rearm();
    }
    void rearm() {
        if (stopping_) return;
        const auto next = core_.next_deadline();
        if (!next) return;
        // Deadlines are served on a 10 ms grid: under load a transaction's
        // timer ends every few microseconds (Timer K, 5 s after each relayed
        // response over UDP), and one wake-up per grid step serves them all
        // (measured: 4% of the daemon's CPU at 8,000 REGISTER/s went to
        // re-arming and waking up). SIP's timers are 500 ms and up.
        const auto when =
            Clock::time_point(std::chrono::ceil<kTimerGrid>(next->time_since_epoch()));
        if (armed_ && *armed_ <= when) return;
        armed_ = when;
        timer_.expires_at(when);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec == net::error::operation_aborted) return;
            armed_.reset();
            core_.advance(Clock::now());
            drain();
        });
    }

    std::string stats_text() const {
        const CoreStats& s = core_.stats();
        std::ostringstream o;
        const auto sum = [](const auto& a) {
            uint64_t n = 0;
            for (uint64_t v : a)
                n += v;
            return n;
        };
        o << "flows=" << core_.registrar().flows()
          << " registrations=" << core_.registrar().registrations()
          << " transactions=" << core_.transactions()
          << " lingering=" << core_.lingering_transactions()
          << " requests_w2=" << sum(s.requests_received[0])
          << " requests_mw=" << sum(s.requests_received[1])
          << " forwarded_w2=" << s.requests_forwarded[0]
          << " forwarded_mw=" << s.requests_forwarded[1];
        for (std::size_t i = 0; i < kRefusalCount; ++i) {
            if (s.refused[i] != 0)
                o << " refused_" << refusal_label(static_cast<Refusal>(i)) << "=" << s.refused[i];
        }
        for (std::size_t i = 0; i < kDropCount; ++i) {
            if (s.dropped[i] != 0)
                o << " dropped_" << drop_label(static_cast<Drop>(i)) << "=" << s.dropped[i];
        }
        o << " flows_closed=" << s.flows_closed << " unreachable=" << s.unreachable;
        return o.str();
    }

    PcscfDaemonConfig cfg_;
    PcscfCore core_;
    Transports transports_;
    net::steady_timer timer_;
    net::signal_set signals_;
    std::optional<Clock::time_point> armed_;
    bool stopping_ = false;
    std::atomic<bool> failed_{false};
};

}  // namespace

int main(int argc, char** argv) {
    std::string config_path = "configs/isthmus.toml";
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--check-config") {
            check_only = true;
        } else if (a == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            std::fprintf(stderr, "isthmus-pcscf: unknown argument '%s'\n\n%s", a.c_str(), kUsage);
            return 2;
        }
    }
    PcscfDaemonConfig cfg;
    try {
        cfg = load_pcscf_file(config_path);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "isthmus-pcscf: %s\n", e.what());
        return 2;
    }
    if (check_only) {
        std::printf("isthmus-pcscf: %s: configuration is valid\n", config_path.c_str());
        return 0;
    }
    try {
        Daemon daemon(std::move(cfg));
        return daemon.run();
    } catch (const std::exception& e) {
        // Binding a transport (address in use, TLS files unusable) fails here.
        std::fprintf(stderr, "isthmus-pcscf: %s\n", e.what());
        return 1;
    }
}
