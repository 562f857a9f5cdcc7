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
// The dataplane (pcscf.media.enabled): a dpif Client on the core strand.
// The daemon attaches to the [dataplane] region at start and, while none
// runs (or after it stopped, was replaced, or its heartbeat stopped for 3 s),
// every attach_interval_ms; each attachment gives the core the dataplane's
// DTLS fingerprint, which makes it resync (ResyncBegin, every live session,
// ResyncEnd). The core's commands go on the ring as soon as the core made
// them (after every message), so a session is programmed before the answer
// that announces it has left; a full ring keeps them in order in a backlog
// retried every 10 ms. Events (results, ICE, DTLS) are read every 10 ms.
// Without a dataplane, new calls get 503 and commands are dropped (the next
// attachment's resync re-creates what is live).
//
// Signals: SIGINT/SIGTERM shut the transports down (connections closed, the
// io_context runs dry) and the process exits 0 after a final statistics
// line; SIGUSR1 logs the statistics line now. Logs: one line per event on
// stderr, "isthmus-pcscf: level=... event=... key=value ..." (isthmus/log/
// log.hpp), filtered by [pcscf] log_level, which `isthmus-ctl log-level
// pcscf` changes at run time through the [pcscf] log_control object; one
// line per SIP message (event=sip_in, sip_out) only at level debug.
#include <prometheus/exposer.h>

#include <array>
#include <atomic>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "isthmus/dpif/client.hpp"
#include "isthmus/log/log.hpp"
#include "pcscf/core.hpp"
#include "pcscf/daemon_config.hpp"
#include "pcscf/metrics.hpp"
#include "pcscf/sip_log.hpp"
#include "pcscf/transport_set.hpp"

namespace {

using namespace isthmus::pcscf;
using isthmus::log::Level;
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

std::string endpoint_of(const char* name, const std::string& address, uint16_t port) {
    std::ostringstream s;
    s << "event=listening transport=" << name << " address=" << address << " port=" << port;
    return s.str();
}

class Daemon {
  public:
    Daemon(PcscfDaemonConfig cfg, isthmus::log::Logger& log)
        : cfg_(std::move(cfg)),
          log_(log),
          core_(cfg_.core),
          transports_(
              cfg_.transports,
              TransportHandlers{
                  .on_message = [this](std::string bytes, Peer from) { on_message(bytes, from); },
                  .on_flow_closed = [this](uint64_t flow) { on_flow_closed(flow); },
                  .on_unreachable = [this](Peer to) { on_unreachable(to); },
              }),
          timer_(transports_.core_executor()),
          dpif_timer_(transports_.core_executor()),
          metrics_timer_(transports_.core_executor()),
          signals_(transports_.context(), SIGINT, SIGTERM, SIGUSR1) {
        if (!cfg_.lease_release.url.empty()) {
            releaser_.emplace(transports_.core_executor(), cfg_.lease_release,
                              [this](const std::string& line) { log_.write_tagged(line); });
        }
        if (!cfg_.metrics.empty()) {
            std::vector<std::pair<std::string, const TransportCounters*>> t;
            if (transports_.ws()) t.emplace_back("ws", &transports_.ws()->counters());
            if (transports_.wss()) t.emplace_back("wss", &transports_.wss()->counters());
            if (transports_.udp()) t.emplace_back("udp", &transports_.udp()->counters());
            if (transports_.tcp()) t.emplace_back("tcp", &transports_.tcp()->counters());
            collector_ = std::make_shared<PcscfCollector>(std::move(t));
            // Throws (the daemon exits 1) when the address cannot be bound.
            exposer_ = std::make_unique<prometheus::Exposer>(cfg_.metrics, 2);
            exposer_->RegisterCollectable(collector_);
        }
    }

    int run() {
        transports_.start();
        announce();
        wait_signal();
        if (cfg_.core.media.enabled) {
            net::post(transports_.core_executor(), [this] {
                dpif_attach();
                dpif_tick();
            });
        }
        if (collector_) {
            const auto colon = cfg_.metrics.rfind(':');
            log_.write(Level::Info,
                       "event=metrics_listening address=" + cfg_.metrics.substr(0, colon) +
                           " port=" + cfg_.metrics.substr(colon + 1) + " path=/metrics");
            net::post(transports_.core_executor(), [this] { metrics_tick(); });
        }
        std::vector<std::thread> threads;
        for (int i = 1; i < cfg_.threads; ++i)
            threads.emplace_back([this] { run_thread(); });
        run_thread();
        for (auto& t : threads)
            t.join();
        log_.write(Level::Info, "event=stopped " + stats_text());
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
            log_.write(Level::Error,
                       "event=fatal what=\"" + isthmus::log::quoted_text(e.what()) + "\"");
            failed_ = true;
            transports_.context().stop();
        }
    }

    void announce() {
        const auto& t = cfg_.transports;
        if (t.ws) log_.write(Level::Info, endpoint_of("ws", t.ws->address, t.ws->port));
        if (t.wss) log_.write(Level::Info, endpoint_of("wss", t.wss->address, t.wss->port));
        if (t.udp) log_.write(Level::Info, endpoint_of("udp", t.udp->address, t.udp->port));
        if (t.tcp) log_.write(Level::Info, endpoint_of("tcp", t.tcp->address, t.tcp->port));
        if (cfg_.flow_token_key_source.empty()) {
            log_.write(Level::Warning,
                       "event=flow_token_key source=random note=\"flow tokens of an "
                       "earlier run will read as forged (403), not stale (430): set "
                       "pcscf.flow_token_key_file\"");
        }
        const MediaConfig& m = cfg_.core.media;
        if (m.enabled) {
            log_.write(Level::Info, "event=media enabled=true region=" + cfg_.region +
                                        " access_address=" + m.access_address + " core_address=" +
                                        m.core_address + " workers=" + std::to_string(m.workers) +
                                        " core_srtp=" + (m.core_srtp ? "true" : "false"));
        } else {
            log_.write(Level::Info,
                       "event=media enabled=false note=\"SDP passes unchanged: no "
                       "IMS-ALG, no dataplane\"");
        }
        log_.write(Level::Info, "event=started threads=" + std::to_string(cfg_.threads));
    }

    void wait_signal() {
        signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGUSR1) {
                net::post(transports_.core_executor(),
                          [this] { log_.write(Level::Info, "event=stats " + stats_text()); });
                wait_signal();
                return;
            }
            log_.write(Level::Info, std::string("event=stopping signal=") +
                                        (sig == SIGINT ? "SIGINT" : "SIGTERM"));
            // A second SIGINT/SIGTERM during shutdown takes its default
            // action: the operator can always force the stop.
            boost::system::error_code ignored;
            signals_.clear(ignored);
            net::post(transports_.core_executor(), [this] {
                stopping_ = true;
                timer_.cancel();
                dpif_timer_.cancel();
                metrics_timer_.cancel();
                if (releaser_) releaser_->wind_down(std::chrono::seconds(2));
            });
            transports_.shutdown();
        });
    }

    // --- on the core strand ------------------------------------------------
    void on_message(const std::string& bytes, const Peer& from) {
        if (log_.admit(Level::Debug)) {
            log_.write(Level::Debug,
                       "event=sip_in " + sip_log_fields(bytes) + " " + peer_log_fields(from));
        }
        core_.on_message(bytes, from, Clock::now());
        drain();
    }
    void on_flow_closed(uint64_t flow) {
        if (log_.admit(Level::Debug))
            log_.write(Level::Debug, "event=flow_closed flow=" + std::to_string(flow));
        core_.on_flow_closed(flow, Clock::now());
        drain();
    }
    void on_unreachable(const Peer& to) {
        core_.on_unreachable(to, Clock::now());
        drain();
    }
    void drain() {
        if (const uint64_t e = core_.stats().token_journal_errors; e != journal_errors_logged_) {
            journal_errors_logged_ = e;
            log_.write(Level::Error, "event=token_replay_file_error errors=" + std::to_string(e) +
                                         " what=\"" +
                                         isthmus::log::quoted_text(core_.token_journal_error()) +
                                         "\" note=\"the token id is kept in memory only\"");
        }
        // A send refused at once (a full send queue, the connection limit, a
        // flow that just closed, shutdown) is left to the transaction's own
        // timers: it says nothing about the peer as a whole. Unreachable
        // peers come from the transports (on_unreachable: a connection made
        // on demand that failed).
        while (auto out = core_.poll()) {
            if (out->kind == Output::Kind::Send && log_.admit(Level::Debug)) {
                log_.write(Level::Debug, "event=sip_out " + sip_log_fields(out->bytes) + " " +
                                             peer_log_fields(out->to));
            }
            transports_.apply(std::move(*out));
        }
        while (auto lease = core_.poll_lease_end())
            lease_ended(std::move(*lease));
        send_commands();
        rearm();
    }

    // A guest's registration ended (A.3.3): its identity goes back to the
    // WWSF's pool now (lease_release.hpp), or at the lease's end when no
    // lease_release_url is configured.
    void lease_ended(GuestLeaseRef lease) {
        if (releaser_) {
            releaser_->release(std::move(lease));
        } else {
            log_.write(Level::Info, "event=guest_registration_ended identity=" + lease.identity +
                                        " lease=kept_until_its_end");
        }
    }

    // --- metrics (on the core strand) ----------------------------------------
    // Once a second: what the core and the dataplane counted, copied for
    // the exporter's threads (metrics.hpp).
    void metrics_tick() {
        if (stopping_) return;
        MetricsSnapshot m;
        m.core = core_.stats();
        m.registrar = core_.registrar().stats();
        m.transactions = core_.transaction_stats();
        m.flows = core_.registrar().flows();
        m.registrations = core_.registrar().registrations();
        m.max_registrations = cfg_.core.max_registrations;
        m.transactions_active = core_.transactions();
        m.transactions_lingering = core_.lingering_transactions();
        m.invites_in_setup = core_.invites_in_setup();
        m.max_invites_in_setup = cfg_.core.admission.max_invites_in_setup;
        if (const MediaAlg* a = core_.media()) {
            m.media = true;
            m.media_stats = a->stats();
            m.calls = a->calls();
            m.max_calls = cfg_.core.media.max_calls;
            m.sessions = a->sessions();
            m.dataplane_attached = a->has_dataplane();
            m.command_backlog = backlog_.size();
            m.commands_dropped = commands_dropped_;
            m.dataplane_workers = cfg_.core.media.workers;
            m.dataplane_sessions_capacity =
                cfg_.core.media.workers * cfg_.dataplane_sessions_per_worker;
        }
        if (dpif_ && core_.media() && core_.media()->has_dataplane()) {
            const isthmus::dpif::StatsArea& st = dpif_->region().stats;
            const uint32_t blocks = std::min(st.blocks.load(), isthmus::dpif::kMaxStatBlocks);
            const auto text = [](const char* p, std::size_t n) {
                return std::string(p, strnlen(p, n));
            };
            for (uint32_t b = 0; b < blocks; ++b) {
                const isthmus::dpif::StatBlock& blk = st.block[b];
                const uint32_t n = std::min(blk.counters, isthmus::dpif::kMaxStatCounters);
                for (uint32_t c = 0; c < n; ++c) {
                    m.dataplane.push_back({text(blk.kind, sizeof blk.kind),
                                           text(blk.name, sizeof blk.name),
                                           text(blk.counter[c].name, sizeof blk.counter[c].name),
                                           isthmus::dpif::stat_load(blk.counter[c])});
                }
            }
            m.busy_ratio = busy_ratios(last_dataplane_, m.dataplane);
            m.sessions_sustainable = sustainable_sessions(m.dataplane, m.busy_ratio);
            const isthmus::dpif::Region& r = dpif_->region();
            m.command_ring_depth = r.commands.size();
            m.command_ring_slots = r.commands.kCapacity;
            m.event_ring_depth = r.events.size();
            m.event_ring_slots = r.events.kCapacity;
            m.commands_unparsed = r.header.commands_dropped.load();
            m.capture_active = (r.capture.control.seq.load() & 1U) != 0;
            for (const auto& ring : r.capture.control.ring)
                m.capture_records_dropped += ring.dropped.load();
            last_dataplane_ = m.dataplane;
        } else {
            last_dataplane_.clear();
        }
        if (releaser_) {
            m.leases = releaser_->stats();
            m.leases_pending = releaser_->pending();
        }
        collector_->set(std::move(m));
        metrics_timer_.expires_after(std::chrono::seconds(1));
        metrics_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) metrics_tick();
        });
    }

    // --- the dataplane (on the core strand) --------------------------------
    void dpif_attach() {
        try {
            // Larger than any this process used before, even if the wall
            // clock stepped back (the dataplane refuses an older one).
            const uint64_t wall =
                static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
            const uint64_t generation = std::max(last_generation_ + 1, wall);
            dpif_.emplace(cfg_.region, generation);
            last_generation_ = generation;
        } catch (const std::exception& e) {
            if (!dpif_missing_logged_) {
                log_.write(Level::Warning, "event=dataplane_unavailable what=\"" +
                                               isthmus::log::quoted_text(e.what()) +
                                               "\" note=\"calls get 503 until it runs\"");
                dpif_missing_logged_ = true;
            }
            return;
        }
        const auto& header = dpif_->region().header;
        if (dpif_->dataplane_state() != isthmus::dpif::DataplaneState::Running) {
            dpif_.reset();  // starting: look again at the next attempt
            return;
        }
        if (dpif_->dataplane_generation() == gone_dp_generation_ &&
            header.heartbeat_ns.load() == gone_beat_) {
            dpif_.reset();  // still silent (dead or frozen): not attached again
            return;
        }
        const std::string fingerprint(
            header.dtls_fingerprint,
            strnlen(header.dtls_fingerprint, sizeof header.dtls_fingerprint));
        dpif_missing_logged_ = false;
        last_beat_ = header.heartbeat_ns.load();
        last_beat_seen_ = Clock::now();
        backlog_.clear();
        log_.write(Level::Info, "event=dataplane_attached region=" + cfg_.region +
                                    " pid=" + std::to_string(header.dataplane_pid.load()) +
                                    " generation=" + std::to_string(dpif_->dataplane_generation()) +
                                    " fingerprint=" + fingerprint);
        // Another dataplane process than the one before: its calls' DTLS
        // state went with the old one, so they are ended rather than resynced.
        const uint64_t dp_generation = dpif_->dataplane_generation();
        const bool restarted = last_dp_generation_ != 0 && dp_generation != last_dp_generation_;
        last_dp_generation_ = dp_generation;
        if (restarted)
            log_.write(Level::Warning, "event=dataplane_restarted note=\"its calls end\"");
        core_.set_dataplane(fingerprint, Clock::now(), restarted);
        drain();
    }
    bool dpif_alive() {
        if (dpif_->dataplane_gone()) return false;
        const uint64_t beat = dpif_->region().header.heartbeat_ns.load();
        const auto now = Clock::now();
        if (beat != last_beat_) {
            last_beat_ = beat;
            last_beat_seen_ = now;
            return true;
        }
        return now - last_beat_seen_ < cfg_.heartbeat_timeout;
    }
    void dpif_tick() {
        if (stopping_) return;
        const auto now = Clock::now();
        if (dpif_ && !dpif_alive()) {
            gone_dp_generation_ = dpif_->dataplane_generation();
            gone_beat_ = dpif_->region().header.heartbeat_ns.load();
            log_.write(
                Level::Warning,
                "event=dataplane_gone region=" + cfg_.region +
                    " note=\"calls get 503 until it runs again; live sessions are re-sent then\"");
            dpif_.reset();
            backlog_.clear();
            core_.set_dataplane(std::nullopt, now);
            next_attach_ = now;
        }
        if (!dpif_ && now >= next_attach_) {
            next_attach_ = now + cfg_.attach_interval;
            dpif_attach();
        }
        if (dpif_) {
            std::array<isthmus::dpif::Event, 64> events;
            for (int burst = 0; burst < 16; ++burst) {
                const std::size_t n = dpif_->poll(events);
                for (std::size_t i = 0; i < n; ++i) {
                    log_media_failure(events[i]);
                    core_.on_dataplane_event(events[i], Clock::now());
                }
                if (n < events.size()) break;
            }
            drain();  // BYEs for calls whose media failed, and commands
        }
        dpif_timer_.expires_after(std::chrono::milliseconds(10));
        dpif_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec == net::error::operation_aborted) return;
            dpif_tick();
        });
    }
    // A leg's DTLS that failed (a fingerprint mismatch, a handshake
    // timeout, an alert) ends its call if the call is confirmed (MediaAlg):
    // say why, with the session's id (isthmus-ctl session show). A
    // browser's close_notify at hang-up is no failure (debug).
    void log_media_failure(const isthmus::dpif::Event& ev) {
        if (ev.hdr.type != isthmus::dpif::MsgType::DtlsFailed) return;
        const bool closed = isthmus::pcscf::dtls_event_is_close(ev);
        if (!log_.admit(closed ? Level::Debug : Level::Warning)) return;
        const std::string detail(ev.detail, strnlen(ev.detail, sizeof ev.detail));
        log_.write(closed ? Level::Debug : Level::Warning,
                   std::string(closed ? "event=dtls_closed" : "event=dtls_failed") +
                       " session=" + std::to_string(ev.hdr.session_id) + " detail=\"" +
                       isthmus::log::quoted_text(detail) + "\"");
    }
    void send_commands() {
        while (!backlog_.empty() && dpif_ && dpif_->send(backlog_.front())) {
            backlog_.pop_front();
        }
        while (auto cmd = core_.poll_command()) {
            if (!dpif_) {
                ++commands_dropped_;  // the next attachment resyncs
                continue;
            }
            if (!backlog_.empty() || !dpif_->send(*cmd)) backlog_.push_back(*cmd);
        }
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
        if (s.admission_flows_closed != 0)
            o << " admission_flows_closed=" << s.admission_flows_closed;
        if (cfg_.core.token_verifier) {
            o << " token_registrations=" << s.token_registrations;
            for (std::size_t i = 1; i < isthmus::token::kTokenErrorCount; ++i) {
                if (s.token_refused[i] != 0)
                    o << " token_"
                      << isthmus::token::token_error_name(
                             static_cast<isthmus::token::TokenError>(i))
                      << "=" << s.token_refused[i];
            }
            if (s.token_wrong_identity != 0)
                o << " token_wrong_identity=" << s.token_wrong_identity;
            o << " token_guest_registrations=" << s.token_guest_registrations;
            if (cfg_.core.token_journal) o << " token_journal_errors=" << s.token_journal_errors;
        }
        if (releaser_) {
            const LeaseReleaseStats& l = releaser_->stats();
            o << " leases_pending=" << releaser_->pending();
#define ISTHMUS_X(name, doc) o << " leases_" #name "=" << l.name;
            ISTHMUS_PCSCF_LEASE_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
        }
        if (const MediaAlg* m = core_.media()) {
            o << " calls=" << m->calls() << " sessions=" << m->sessions()
              << " dataplane=" << (m->has_dataplane() ? "attached" : "none")
              << " command_backlog=" << backlog_.size()
              << " commands_dropped=" << commands_dropped_;
            const MediaStats& ms = m->stats();
            for (std::size_t i = 0; i < kMediaCounterCount; ++i) {
                if (ms.counters[i] != 0)
                    o << " media_" << media_counter_label(static_cast<MediaCounter>(i)) << "="
                      << ms.counters[i];
            }
            for (std::size_t i = 0; i < isthmus::sdp::kRewriteErrorCount; ++i) {
                if (ms.rewrite_errors[i] != 0)
                    o << " rewrite_"
                      << isthmus::sdp::rewrite_error_name(
                             static_cast<isthmus::sdp::RewriteError>(i))
                      << "=" << ms.rewrite_errors[i];
            }
        }
        return o.str();
    }

    PcscfDaemonConfig cfg_;
    isthmus::log::Logger& log_;  // main()'s; outlives the daemon
    PcscfCore core_;
    uint64_t journal_errors_logged_ = 0;
    Transports transports_;
    net::steady_timer timer_;
    net::steady_timer dpif_timer_;
    net::steady_timer metrics_timer_;
    net::signal_set signals_;
    std::optional<isthmus::dpif::Client> dpif_;
    std::optional<LeaseReleaser> releaser_;         // lease_release_url set
    std::vector<DataplaneCounter> last_dataplane_;  // the previous tick's (busy ratios)
    std::deque<isthmus::dpif::Command> backlog_;    // commands waiting for ring room
    Clock::time_point next_attach_{};
    uint64_t last_beat_ = 0;
    Clock::time_point last_beat_seen_{};
    bool dpif_missing_logged_ = false;
    uint64_t last_generation_ = 0;     // ours, the last used
    uint64_t last_dp_generation_ = 0;  // the dataplane's, last attached to
    // The dataplane let go for a silent heartbeat: its generation and the
    // beat it stopped at. Its region is not attached again until the beat
    // moves (a frozen process that runs on); one killed leaves its region
    // "Running" with a beat that never moves, and stays let go.
    uint64_t gone_dp_generation_ = 0;
    uint64_t gone_beat_ = 0;
    uint64_t commands_dropped_ = 0;
    std::optional<Clock::time_point> armed_;
    bool stopping_ = false;
    std::atomic<bool> failed_{false};
    // Last: the exporter's threads stop before anything they read goes.
    std::shared_ptr<PcscfCollector> collector_;
    std::unique_ptr<prometheus::Exposer> exposer_;
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
    // The logger and its control object (`isthmus-ctl log-level pcscf`);
    // without a writable /dev/shm the level stays the configured one.
    isthmus::log::Logger log("isthmus-pcscf", stderr, cfg.log_level);
    if (const std::string why = log.publish(cfg.log_control, "pcscf"); !why.empty()) {
        log.write(Level::Warning, "event=log_control_unavailable what=\"" +
                                      isthmus::log::quoted_text(why) +
                                      "\" note=\"log level fixed at " +
                                      std::string(isthmus::log::level_name(cfg.log_level)) + "\"");
    } else {
        log.write(Level::Info, "event=log_control name=" + cfg.log_control + " level=" +
                                   std::string(isthmus::log::level_name(cfg.log_level)));
    }
    if (!cfg.token_replay_file.empty()) {
        try {
            cfg.core.token_journal = isthmus::token::ReplayJournal::open(
                cfg.token_replay_file, static_cast<int64_t>(::time(nullptr)));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "isthmus-pcscf: pcscf.tokens.replay_file: %s\n", e.what());
            return 1;
        }
        const auto& l = cfg.core.token_journal->loaded();
        log.write(Level::Info, "event=token_replay_file path=\"" +
                                   isthmus::log::quoted_text(cfg.token_replay_file) +
                                   "\" live=" + std::to_string(l.live) +
                                   " expired=" + std::to_string(l.expired) +
                                   " malformed=" + std::to_string(l.malformed));
    }
    try {
        Daemon daemon(std::move(cfg), log);
        return daemon.run();
    } catch (const std::exception& e) {
        // Binding a transport (address in use, TLS files unusable) fails here.
        std::fprintf(stderr, "isthmus-pcscf: %s\n", e.what());
        return 1;
    }
}
