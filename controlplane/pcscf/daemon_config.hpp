// The [pcscf] section of configs/isthmus.toml: what isthmus-pcscf needs to
// build its core (PcscfConfig) and its transports (TransportsConfig). Setup
// path only. Every key is documented in configs/isthmus.toml and
// docs/configuration.md; a key not known, of the wrong type or out of range
// is an error naming the file and the key (a typo must not be silently
// ignored), and the daemon refuses to start.
//
//   auto cfg = load_pcscf_file("configs/isthmus.toml");   // throws ConfigError
//   Transports t(cfg.transports, handlers);
//   PcscfCore core(cfg.core);
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "isthmus/log/level.hpp"
#include "pcscf/core_config.hpp"
#include "pcscf/lease_release.hpp"
#include "pcscf/transport_set.hpp"

namespace isthmus::pcscf {

struct PcscfConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct PcscfDaemonConfig {
    PcscfConfig core;
    TransportsConfig transports;
    // Threads running the io_context (the transports; the core is one
    // strand among them).
    int threads = 1;
    // Where flow_token_key came from: the file named by flow_token_key_file,
    // or "" (a random key made at start: tokens of an earlier run read as
    // forged, 403, rather than stale, 430).
    std::string flow_token_key_source;
    // The dataplane's dpif region ([dataplane] region) and how often a
    // missing or gone dataplane is looked for again (media enabled).
    std::string region = "/isthmus-dpif";
    std::chrono::milliseconds attach_interval{1000};
    // A dataplane whose heartbeat stands still this long is gone: three of
    // its [dataplane] heartbeat_ms, at least 3 s.
    std::chrono::milliseconds heartbeat_timeout{3000};
    // [pcscf.tokens] lease_release_*: where guest leases go back (A.3.3);
    // url empty: nowhere (they end at the WWSF at their own time).
    LeaseReleaseConfig lease_release;
    // [pcscf.tokens] replay_file: where the used tokens' ids are kept across
    // restarts ("" = in memory only); opened at start (token/replay_journal.hpp).
    std::string token_replay_file;
    // [pcscf] metrics: where the Prometheus exporter listens ("" = none),
    // as given ("198.18.0.1:9101"; IPv4 only: Debian's civetweb).
    std::string metrics;
    // [dataplane] sessions_per_worker (for the capacity metric).
    uint64_t dataplane_sessions_per_worker = 4096;
    // [pcscf] log_level, log_control: the level at start and the POSIX
    // shared-memory name `isthmus-ctl log-level pcscf` changes it through.
    log::Level log_level = log::Level::Info;
    std::string log_control = "/isthmus-pcscf-log";
};

// Parses `text` (TOML) as read from `origin` (named in errors) and checks
// the [pcscf] section, including everything PcscfCore checks of its
// configuration (LocalUris, check_config) so that --check-config catches
// it. Files the configuration names (TLS certificate and key, the flow
// token key) are read: a missing or unreadable one is an error here. Throws
// PcscfConfigError "ORIGIN: pcscf.KEY: what is wrong".
PcscfDaemonConfig load_pcscf_text(const std::string& text, const std::string& origin);
PcscfDaemonConfig load_pcscf_file(const std::string& path);

// "udp:198.18.20.2:5060", "tcp:[2001:db8::1]:5060" (IP literals only: no
// DNS). Throws std::invalid_argument saying what is wrong.
Peer parse_hop(const std::string& text);

}  // namespace isthmus::pcscf
