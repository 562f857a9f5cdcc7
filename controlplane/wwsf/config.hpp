// The [wwsf] section of configs/isthmus.toml: what isthmus-wwsf needs to
// build its core (CoreConfig) and its server (ServerConfig). Setup path
// only. Every key is described in configs/isthmus.toml and docs/wwsf.md; a
// key not known, of the wrong type or out of range is an error naming the
// file and the full key ("isthmus.toml: wwsf.limits.max_connections: must
// be an integer 1..1000000"), and the daemon refuses to start. The files
// it names are read now (the token key, the users file, the TLS files):
// a missing or malformed one is an error here, so --check-config finds it.
//
//   WwsfDaemonConfig cfg = load_wwsf_file("configs/isthmus.toml");  // throws WwsfConfigError
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "isthmus/log/level.hpp"
#include "wwsf/core.hpp"
#include "wwsf/server_config.hpp"
#include "wwsf/users.hpp"

namespace isthmus::wwsf {

struct WwsfConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct WwsfDaemonConfig {
    CoreConfig core;
    ServerConfig server;
    std::string web_root = "controlplane/wwsf/web/dist";  // the built site (build.mjs)
    std::string users_file;               // "" : no web users (every login is refused)
    UserDb users;                         // read from users_file
    std::string token_key_file;           // "" : a new key at every start
    std::string token_key_pem;            // read from token_key_file (an Ed25519 private key)
    std::vector<std::string> guest_pool;  // guest_pool and guest_pool_range, in order
    int kdf_threads = 2;                  // threads running password checks
    // The Prometheus exporter's "address:port" (plain HTTP, GET /metrics;
    // IPv4: the exporter's civetweb has no IPv6); none: no exporter.
    std::optional<Endpoint> metrics;
    // [wwsf] log_level, log_control: the level at start and the POSIX
    // shared-memory name `isthmus-ctl log-level wwsf` changes it through.
    log::Level log_level = log::Level::Info;
    std::string log_control = "/isthmus-wwsf-log";
};

// Parses `text` (TOML) read from `origin` (named in errors) and checks the
// [wwsf] section. Throws WwsfConfigError "ORIGIN: wwsf.KEY: what is wrong".
WwsfDaemonConfig load_wwsf_text(const std::string& text, const std::string& origin);
WwsfDaemonConfig load_wwsf_file(const std::string& path);

}  // namespace isthmus::wwsf
