// isthmus-wwsf: the WebRTC Web Server Function (TS 24.371; issue 8). The
// HTTPS origin of the WIC: serves its files, logs web users in, issues
// short-lived Ed25519-signed registration tokens (A.3.2), leases guest
// identities from a pool (A.3.3), and tells the WIC where the eP-CSCF's
// WebSocket is. docs/wwsf.md.
//
// One io_context thread runs the server (server.hpp) and the sans-I/O core
// (core.hpp); password checks (scrypt, tens of milliseconds each) run on a
// small thread pool (kdf_threads) and come back to the io_context thread
// with their result. A one-second timer ends expired leases and sessions.
//
// Metrics (wwsf.metrics, docs/wwsf.md "Metrics"): a prometheus::Exposer
// serves GET /metrics over plain HTTP on its own threads. They read only a
// MetricsCollector (metrics.hpp), whose snapshot the io_context thread
// refreshes at start and on the one-second timer.
//
// Signals: SIGINT/SIGTERM close every connection and exit 0 after a final
// statistics line; SIGHUP re-reads the users file (a bad one is logged and
// the old one kept); SIGUSR1 logs the statistics line now. Logs: one line
// per event on stderr, "isthmus-wwsf: level=... event=... key=value ..."
// (isthmus/log/log.hpp), filtered by [wwsf] log_level, which `isthmus-ctl
// log-level wwsf` changes at run time through the [wwsf] log_control
// object; one line per HTTP request (event=http_request: method, path
// without its query, status) only at level debug; never a body, password,
// token or cookie.
#include <fcntl.h>
#include <prometheus/exposer.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "isthmus/log/log.hpp"
#include "token/token.hpp"
#include "wwsf/config.hpp"
#include "wwsf/core.hpp"
#include "wwsf/metrics.hpp"
#include "wwsf/password.hpp"
#include "wwsf/server.hpp"

namespace {

using namespace isthmus::wwsf;
using isthmus::log::Level;
namespace token = isthmus::token;

constexpr const char* kUsage =
    "usage: isthmus-wwsf [--config FILE] [--check-config]\n"
    "       isthmus-wwsf --hash-password\n"
    "       isthmus-wwsf --generate-key FILE\n"
    "\n"
    "The WWSF: the HTTPS origin of the WebRTC IMS client (WIC). Reads the [wwsf]\n"
    "section of FILE (default: configs/isthmus.toml) and serves until SIGINT or\n"
    "SIGTERM; SIGHUP re-reads the users file, SIGUSR1 logs its counters.\n"
    "\n"
    "  --config FILE        configuration file\n"
    "  --check-config       load and check the configuration, then exit (0 = valid)\n"
    "  --hash-password      read a password on stdin, print its hash for the users\n"
    "                       file (scrypt$N$r$p$salt$hash)\n"
    "  --generate-key FILE  write a new Ed25519 token signing key to FILE (mode 0600,\n"
    "                       not overwritten) and print its public key (PEM) for the\n"
    "                       eP-CSCF\n"
    "  --help               this text\n";

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

#ifndef ISTHMUS_VERSION
#define ISTHMUS_VERSION ""
#endif

int hash_password_command() {
    const bool tty = isatty(STDIN_FILENO) == 1;
    termios saved{};
    if (tty) {
        std::fputs("password: ", stderr);
        std::fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &saved) == 0) {
            termios quiet = saved;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
    }
    std::string password;
    std::getline(std::cin, password);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::fputs("\n", stderr);
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) {
        std::fputs("isthmus-wwsf: no password on stdin\n", stderr);
        return 2;
    }
    try {
        std::printf("%s\n", format_password_hash(hash_password(password)).c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "isthmus-wwsf: %s\n", e.what());
        return 1;
    }
    std::fill(password.begin(), password.end(), '\0');
    return 0;
}

int generate_key_command(const std::string& path) {
    const token::TokenSigner signer = token::TokenSigner::generate();
    const std::string pem = signer.private_pem();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        std::fprintf(stderr, "isthmus-wwsf: %s: %s%s\n", path.c_str(), std::strerror(errno),
                     errno == EEXIST ? " (not overwritten)" : "");
        return 1;
    }
    std::size_t done = 0;
    while (done < pem.size()) {
        const ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            std::fprintf(stderr, "isthmus-wwsf: %s: %s\n", path.c_str(), std::strerror(errno));
            ::close(fd);
            return 1;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        std::fprintf(stderr, "isthmus-wwsf: %s: %s\n", path.c_str(), std::strerror(errno));
        return 1;
    }
    std::fputs(signer.public_pem().c_str(), stdout);
    return 0;
}

class Daemon {
  public:
    Daemon(WwsfDaemonConfig cfg, token::TokenSigner signer, isthmus::log::Logger& log)
        : cfg_(std::move(cfg)),
          log_(log),
          core_(cfg_.core, std::move(signer), cfg_.users, GuestPool(cfg_.guest_pool),
                StaticFiles(cfg_.web_root)),
          kdf_(static_cast<std::size_t>(cfg_.kdf_threads)),
          server_(ioc_, cfg_.server,
                  [this](HttpRequest req, Respond respond) {
                      on_request(std::move(req), std::move(respond));
                  }),
          tick_(ioc_),
          signals_(ioc_, SIGINT, SIGTERM, SIGHUP),
          users_(cfg_.users.size()) {
        signals_.add(SIGUSR1);
        core_.set_log([this](const std::string& line) { log_.write_tagged(line); });
        if (cfg_.metrics) start_exporter(*cfg_.metrics);
    }

    int run() {
        server_.start();
        announce();
        wait_signal();
        refresh_metrics();
        tick();
        ioc_.run();
        kdf_.join();
        log_.write(Level::Info, "event=stopped " + stats_text());
        return 0;
    }

  private:
    void announce() {
        if (const auto e = server_.https_endpoint()) {
            log_.write(Level::Info,
                       "event=listening scheme=https address=" + e->address().to_string() +
                           " port=" + std::to_string(e->port()));
        }
        if (const auto e = server_.http_endpoint()) {
            log_.write(Level::Warning,
                       "event=listening scheme=http address=" + e->address().to_string() +
                           " port=" + std::to_string(e->port()) +
                           " note=\"plain HTTP: for tests only\"");
        }
        if (cfg_.token_key_file.empty()) {
            log_.write(
                Level::Warning,
                "event=token_key source=random note=\"no eP-CSCF can verify "
                "these tokens: set wwsf.token_key_file (isthmus-wwsf --generate-key FILE)\"");
        }
        if (cfg_.users_file.empty()) {
            log_.write(Level::Warning,
                       "event=no_users note=\"no wwsf.users_file: every login fails\"");
        }
        if (exposer_) {
            log_.write(Level::Info, "event=metrics_listening address=" + cfg_.metrics->address +
                                        " port=" + std::to_string(metrics_port_) +
                                        " path=/metrics note=\"plain HTTP: Prometheus\"");
        }
        log_.write(Level::Info, "event=started users=" + std::to_string(cfg_.users.size()) +
                                    " guest_pool=" + std::to_string(cfg_.guest_pool.size()) +
                                    " web_root=" + cfg_.web_root + " ws_uri=" + cfg_.core.ws_uri +
                                    " audience=" + cfg_.core.token_audience);
    }

    void on_request(HttpRequest req, Respond respond) {
        if (log_.admit(Level::Debug)) {
            // One line when the response is known: the method, the path
            // without its query (which may hold anything), the status.
            const std::string& target = req.target;
            respond =
                [this,
                 what = "event=http_request method=" + isthmus::log::escape_value(req.method, 16) +
                        " path=" + isthmus::log::escape_value(target.substr(0, target.find('?'))),
                 peer = isthmus::log::escape_value(req.peer, 64),
                 inner = std::move(respond)](HttpResponse r) {
                    log_.write(Level::Debug,
                               what + " status=" + std::to_string(r.status) + " peer=" + peer);
                    inner(std::move(r));
                };
        }
        Reply reply = core_.handle(req, unix_now());
        if (auto* r = std::get_if<HttpResponse>(&reply)) return respond(std::move(*r));
        // A login: its scrypt check runs on the pool; the io_context keeps
        // running (and waits for it at shutdown) through the work guard.
        auto check = std::make_shared<PasswordCheck>(std::move(std::get<PasswordCheck>(reply)));
        net::post(kdf_, [this, check, respond = std::move(respond),
                         work = net::make_work_guard(ioc_)]() mutable {
            const bool matched = check_password(*check);
            net::post(ioc_,
                      [this, check, matched, respond = std::move(respond), work = std::move(work)] {
                          respond(core_.finish_login(std::move(*check), matched, unix_now()));
                      });
        });
    }

    void tick() {
        tick_.expires_after(std::chrono::seconds(1));
        tick_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            core_.advance(unix_now());
            refresh_metrics();
            tick();
        });
    }

    void wait_signal() {
        signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGUSR1) {
                log_.write(Level::Info, "event=stats " + stats_text());
                return wait_signal();
            }
            if (sig == SIGHUP) {
                reload_users();
                return wait_signal();
            }
            log_.write(Level::Info, std::string("event=stopping signal=") +
                                        (sig == SIGINT ? "SIGINT" : "SIGTERM"));
            // A second SIGINT/SIGTERM takes its default action: the operator
            // can always force the stop.
            boost::system::error_code ignored;
            signals_.clear(ignored);
            tick_.cancel();
            server_.shutdown();
        });
    }

    void reload_users() {
        if (cfg_.users_file.empty()) {
            log_.write(Level::Notice, "event=users_reload note=\"no wwsf.users_file\"");
            return;
        }
        try {
            UserDb users = UserDb::load(cfg_.users_file);
            const std::size_t n = users.size();
            core_.replace_users(std::move(users));
            users_ = n;
            log_.write(Level::Info, "event=users_reloaded users=" + std::to_string(n));
        } catch (const std::exception& e) {
            log_.write(Level::Error, "event=users_reload_failed what=\"" +
                                         isthmus::log::quoted_text(e.what()) +
                                         "\" note=\"the previous users stay\"");
        }
    }

    // The exporter on `at` (throws std::runtime_error naming the address
    // when it cannot listen). Its threads call metrics_->Collect() only.
    void start_exporter(const Endpoint& at) {
        const double start =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        metrics_ = std::make_shared<MetricsCollector>(ISTHMUS_VERSION, start);
        const std::string listen = at.address + ":" + std::to_string(at.port);
        try {
            // Two threads; a client that sends nothing is dropped after 10 s.
            exposer_ = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
                "listening_ports", listen, "num_threads", "2", "request_timeout_ms", "10000"});
        } catch (const std::exception& e) {
            throw std::runtime_error("metrics: cannot listen on " + listen + ": " + e.what());
        }
        exposer_->RegisterCollectable(metrics_);
        const std::vector<int> ports = exposer_->GetListeningPorts();
        metrics_port_ = ports.empty() ? at.port : ports.front();
    }

    // Copies the counters into the exporter's snapshot (io_context thread).
    void refresh_metrics() {
        if (!metrics_) return;
        MetricsSnapshot m;
        const ServerCounters& s = server_.counters();
        m.connections_open = s.connections_open.load(std::memory_order_relaxed);
        m.connections_total = s.connections_total.load(std::memory_order_relaxed);
        m.connections_refused = s.connections_refused.load(std::memory_order_relaxed);
        m.tls_failed = s.tls_failed.load(std::memory_order_relaxed);
        m.tls_aborted = s.tls_aborted.load(std::memory_order_relaxed);
        m.requests = s.requests.load(std::memory_order_relaxed);
        m.refused_parse = s.refused_parse.load(std::memory_order_relaxed);
        m.timeouts = s.timeouts.load(std::memory_order_relaxed);
        m.core = core_.stats();
        m.sessions = core_.sessions().size();
        m.logins_in_flight = core_.logins_in_flight();
        m.guests_leased = core_.pool().leased();
        m.guests_free = core_.pool().free();
        m.guest_pool = core_.pool().size();
        m.users = users_;
        metrics_->update(m);
    }

    std::string stats_text() const {
        std::ostringstream o;
        const ServerCounters& s = server_.counters();
        o << "sessions=" << core_.sessions().size() << " guests_leased=" << core_.pool().leased()
          << " guests_free=" << core_.pool().free() << " connections=" << s.connections_open.load()
          << " connections_total=" << s.connections_total.load()
          << " connections_refused=" << s.connections_refused.load()
          << " tls_failed=" << s.tls_failed.load() << " tls_aborted=" << s.tls_aborted.load()
          << " requests=" << s.requests.load() << " refused_parse=" << s.refused_parse.load()
          << " timeouts=" << s.timeouts.load();
        for (std::size_t i = 0; i < kCounterCount; ++i) {
            const auto c = static_cast<Counter>(i);
            o << " " << counter_label(c) << "=" << core_.stats().of(c);
        }
        return o.str();
    }

    WwsfDaemonConfig cfg_;
    isthmus::log::Logger& log_;  // main()'s; outlives the daemon
    WwsfCore core_;
    net::io_context ioc_{1};
    net::thread_pool kdf_;
    HttpServer server_;
    net::steady_timer tick_;
    net::signal_set signals_;
    std::size_t users_;  // web users as last loaded (the metrics)
    // The exporter (wwsf.metrics); null without. exposer_ goes first at
    // destruction: its threads stop before the collector does.
    std::shared_ptr<MetricsCollector> metrics_;
    std::unique_ptr<prometheus::Exposer> exposer_;
    int metrics_port_ = 0;
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
        } else if (a == "--hash-password" && argc == 2) {
            return hash_password_command();
        } else if (a == "--generate-key" && i + 1 < argc && argc == 3) {
            return generate_key_command(argv[i + 1]);
        } else if (a == "--check-config") {
            check_only = true;
        } else if (a == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            std::fprintf(stderr, "isthmus-wwsf: unknown argument '%s'\n\n%s", a.c_str(), kUsage);
            return 2;
        }
    }
    WwsfDaemonConfig cfg;
    try {
        cfg = load_wwsf_file(config_path);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "isthmus-wwsf: %s\n", e.what());
        return 2;
    }
    if (check_only) {
        std::printf("isthmus-wwsf: %s: configuration is valid\n", config_path.c_str());
        return 0;
    }
    // The logger and its control object (`isthmus-ctl log-level wwsf`);
    // without a writable /dev/shm the level stays the configured one.
    isthmus::log::Logger log("isthmus-wwsf", stderr, cfg.log_level);
    if (const std::string why = log.publish(cfg.log_control, "wwsf"); !why.empty()) {
        log.write(Level::Warning, "event=log_control_unavailable what=\"" +
                                      isthmus::log::quoted_text(why) +
                                      "\" note=\"log level fixed at " +
                                      std::string(isthmus::log::level_name(cfg.log_level)) + "\"");
    } else {
        log.write(Level::Info, "event=log_control name=" + cfg.log_control + " level=" +
                                   std::string(isthmus::log::level_name(cfg.log_level)));
    }
    try {
        token::TokenSigner signer = cfg.token_key_pem.empty()
                                        ? token::TokenSigner::generate()
                                        : token::TokenSigner::from_private_pem(cfg.token_key_pem);
        Daemon daemon(std::move(cfg), std::move(signer), log);
        return daemon.run();
    } catch (const std::exception& e) {
        // Binding a listener (address in use, TLS files unusable) fails here.
        std::fprintf(stderr, "isthmus-wwsf: %s\n", e.what());
        return 1;
    }
}
