// Loading the [wwsf] section (config.hpp). A small typed reader over
// toml++ (the same idea as the eP-CSCF's daemon_config.cpp): each table
// lists its keys, a key not listed is refused, and each read names the key
// in its error.
#include "wwsf/config.hpp"

#include "isthmus/config/tls_files.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <toml++/toml.h>
#pragma GCC diagnostic pop

#include <arpa/inet.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string_view>

#include "sip/host.hpp"
#include "token/token.hpp"
#include "wwsf/guest_pool.hpp"

namespace isthmus::wwsf {

namespace {

constexpr std::size_t kMaxPool = 100000;

// One TOML table of the [wwsf] tree: typed, range-checked reads that name
// the key ("wwsf.limits.max_connections") in every error.
class Table {
  public:
    Table(const toml::table* t, std::string name, const std::string& origin,
          std::initializer_list<std::string_view> known)
        : t_(t), name_(std::move(name)), origin_(origin) {
        if (t_ == nullptr) return;
        const std::set<std::string_view> k(known);
        for (const auto& [key, value] : *t_) {
            if (k.count(key.str()) == 0) fail(std::string(key.str()), "unknown key");
        }
    }

    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        throw WwsfConfigError(origin_ + ": " + name_ + "." + key + ": " + what);
    }
    bool has(const char* key) const { return node(key) != nullptr; }
    const toml::node* node(const char* key) const { return t_ == nullptr ? nullptr : t_->get(key); }

    template <typename T>
    void integer(const char* key, int64_t lo, int64_t hi, T& out) const {
        const toml::node* n = node(key);
        if (n == nullptr) return;
        // value_exact: value<int64_t>() would take 4.0 and true as integers.
        const auto v = n->value_exact<int64_t>();
        if (!v || *v < lo || *v > hi) {
            fail(key, "must be an integer " + std::to_string(lo) + ".." + std::to_string(hi));
        }
        out = static_cast<T>(*v);
    }
    void string(const char* key, std::string& out) const {
        const toml::node* n = node(key);
        if (n == nullptr) return;
        const auto v = n->value_exact<std::string>();
        if (!v || v->empty()) fail(key, "must be a non-empty string");
        out = *v;
    }
    // A string or an array of strings.
    std::vector<std::string> strings(const char* key) const {
        std::vector<std::string> out;
        const toml::node* n = node(key);
        if (n == nullptr) return out;
        if (const auto v = n->value_exact<std::string>()) return {*v};
        const toml::array* a = n->as_array();
        if (a == nullptr) fail(key, "must be a string or an array of strings");
        for (const auto& e : *a) {
            const auto v = e.value_exact<std::string>();
            if (!v) fail(key, "must be a string or an array of strings");
            out.push_back(*v);
        }
        return out;
    }
    const toml::table* sub(const char* key) const {
        const toml::node* n = node(key);
        if (n == nullptr) return nullptr;
        if (!n->is_table()) fail(key, "must be a table ([" + name_ + "." + key + "])");
        return n->as_table();
    }

  private:
    const toml::table* t_;
    std::string name_;
    const std::string& origin_;
};

bool is_ip_literal(const std::string& s) {
    std::array<unsigned char, 16> buf{};
    return inet_pton(AF_INET, s.c_str(), buf.data()) == 1 ||
           inet_pton(AF_INET6, s.c_str(), buf.data()) == 1;
}

// "ADDR:PORT" / "[V6]:PORT" (port 0: ephemeral, for tests).
Endpoint parse_endpoint(const std::string& text) {
    std::string addr;
    std::string port;
    // inet_pton reads up to a NUL: "127.0.0.1\u0000junk:9101" must not pass.
    if (text.find('\0') != std::string::npos) throw std::invalid_argument("holds a NUL");
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            throw std::invalid_argument("expected \"[IPv6]:port\"");
        }
        addr = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon) {
            throw std::invalid_argument("expected \"address:port\" (IPv6 as \"[addr]:port\")");
        }
        addr = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (!is_ip_literal(addr)) throw std::invalid_argument("\"" + addr + "\" is not an IP address");
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
        throw std::invalid_argument("port must be 0..65535");
    }
    return {addr, static_cast<uint16_t>(std::stoul(port))};
}

bool is_directory(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
}

std::string read_file(const Table& t, const char* key, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in || is_directory(path)) t.fail(key, "cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

WwsfDaemonConfig load_wwsf_text(const std::string& text, const std::string& origin) {
    toml::table root;
    try {
        root = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
            << e.description();
        throw WwsfConfigError(msg.str());
    }
    // The file's sections are the binaries': a misspelled one would
    // otherwise be ignored whole.
    for (const auto& [k, v] : root) {
        const std::string key(k.str());
        if (key != "dataplane" && key != "pcscf" && key != "wwsf") {
            throw WwsfConfigError(origin + ": " + key +
                                  ": unknown section (dataplane, pcscf and wwsf are known)");
        }
    }
    const toml::node* section = root.get("wwsf");
    if (section == nullptr || !section->is_table()) {
        throw WwsfConfigError(origin + ": no [wwsf] section");
    }
    WwsfDaemonConfig cfg;
    CoreConfig& core = cfg.core;
    ServerConfig& server = cfg.server;

    // [wwsf]
    const Table top(section->as_table(), "wwsf", origin,
                    {"https",
                     "http",
                     "certificate",
                     "private_key",
                     "web_root",
                     "users_file",
                     "token_key_file",
                     "token_audience",
                     "token_lifetime_s",
                     "ws_uri",
                     "domain",
                     "session_lifetime_s",
                     "max_sessions",
                     "max_sessions_per_user",
                     "guest_pool",
                     "guest_pool_range",
                     "guest_lease_s",
                     "max_guest_leases_per_address",
                     "hsts_max_age_s",
                     "metrics",
                     "log_level",
                     "log_control",
                     "limits"});
    std::string level = "info";
    top.string("log_level", level);
    if (const auto l = log::parse_level(level)) {
        cfg.log_level = *l;
    } else {
        top.fail("log_level", "must be " + std::string(log::kLevelWords));
    }
    top.string("log_control", cfg.log_control);
    if (!log::valid_control_name(cfg.log_control)) {
        top.fail("log_control", "must be a name like \"/isthmus-wwsf-log\" ('/' and no other '/')");
    }
    for (const char* which : {"https", "http"}) {
        std::string endpoint;
        top.string(which, endpoint);
        if (endpoint.empty()) continue;
        try {
            (std::string_view(which) == "https" ? server.https : server.http) =
                parse_endpoint(endpoint);
        } catch (const std::invalid_argument& e) {
            top.fail(which, e.what());
        }
    }
    if (!server.https && !server.http) {
        top.fail("https", "missing: the address:port to serve the WIC on");
    }
    // The exporter: absent or "" is none. Debian's civetweb (under
    // prometheus-cpp's Exposer) is built without IPv6.
    if (const toml::node* n = top.node("metrics")) {
        const auto v = n->value_exact<std::string>();
        if (!v) top.fail("metrics", "must be a string (\"address:port\", \"\" for none)");
        if (!v->empty()) {
            try {
                cfg.metrics = parse_endpoint(*v);
            } catch (const std::invalid_argument& e) {
                top.fail("metrics", e.what());
            }
            if (cfg.metrics->address.find(':') != std::string::npos) {
                top.fail("metrics", "must be an IPv4 address (the exporter has no IPv6)");
            }
        }
    }
    top.string("certificate", server.certificate_chain_file);
    top.string("private_key", server.private_key_file);
    if (server.https) {
        if (server.certificate_chain_file.empty() || server.private_key_file.empty()) {
            top.fail(server.certificate_chain_file.empty() ? "certificate" : "private_key",
                     "https needs certificate and private_key (PEM files)");
        }
        read_file(top, "certificate", server.certificate_chain_file);
        read_file(top, "private_key", server.private_key_file);
        const config::TlsFilesProblem tls =
            config::check_tls_files(server.certificate_chain_file, server.private_key_file);
        if (!tls.key.empty()) top.fail(tls.key, tls.what);
    } else if (!server.certificate_chain_file.empty() || !server.private_key_file.empty()) {
        top.fail(server.certificate_chain_file.empty() ? "private_key" : "certificate",
                 "set without https");
    }

    top.string("web_root", cfg.web_root);
    if (!is_directory(cfg.web_root)) top.fail("web_root", cfg.web_root + " is not a directory");

    top.string("users_file", cfg.users_file);
    if (!cfg.users_file.empty()) {
        try {
            cfg.users = UserDb::parse(read_file(top, "users_file", cfg.users_file), cfg.users_file);
        } catch (const UsersError& e) {
            top.fail("users_file", e.what());
        }
    }

    top.string("token_key_file", cfg.token_key_file);
    if (!cfg.token_key_file.empty()) {
        cfg.token_key_pem = read_file(top, "token_key_file", cfg.token_key_file);
        try {
            (void)token::TokenSigner::from_private_pem(cfg.token_key_pem);
        } catch (const std::exception& e) {
            top.fail("token_key_file", cfg.token_key_file + ": " + e.what());
        }
    }
    top.string("token_audience", core.token_audience);
    if (core.token_audience.empty()) {
        top.fail("token_audience", "missing: the eP-CSCF the tokens are for (its host name)");
    }
    if (core.token_audience.find_first_of(" \t\r\n") != std::string::npos) {
        top.fail("token_audience", "must not hold white space");
    }
    top.integer("token_lifetime_s", 1, 3600, core.token_lifetime_s);

    top.string("ws_uri", core.ws_uri);
    if (core.ws_uri.empty()) top.fail("ws_uri", "missing: the eP-CSCF's wss:// URI");
    if (!websocket_origin(core.ws_uri)) {
        top.fail("ws_uri", "\"" + core.ws_uri + "\" is not a ws:// or wss:// URI");
    }
    top.string("domain", core.domain);
    if (core.domain.empty()) top.fail("domain", "missing: the home network domain");
    if (!sip::classify_host(core.domain)) {
        top.fail("domain", "\"" + core.domain + "\" is not a host name");
    }

    top.integer("session_lifetime_s", 60, 30 * 86400, core.session_lifetime_s);
    top.integer("max_sessions", 1, 10000000, core.max_sessions);
    top.integer("max_sessions_per_user", 1, 1000, core.max_sessions_per_user);
    top.integer("guest_lease_s", 10, 7 * 86400, core.guest_lease_s);
    top.integer("max_guest_leases_per_address", 0, 1000000, core.max_guest_leases_per_address);
    top.integer("hsts_max_age_s", 0, 2 * 31536000, core.hsts_max_age_s);

    // The pool: identities listed, then the ranges expanded.
    for (const std::string& id : top.strings("guest_pool")) {
        if (!is_public_identity(id)) {
            top.fail("guest_pool", "\"" + id + "\" is not a public user identity (sip:user@host)");
        }
        cfg.guest_pool.push_back(id);
    }
    for (const std::string& pattern : top.strings("guest_pool_range")) {
        try {
            for (std::string& id : expand_identity_range(pattern)) {
                if (!is_public_identity(id)) {
                    top.fail("guest_pool_range",
                             "\"" + id + "\" is not a public user identity (sip:user@host)");
                }
                cfg.guest_pool.push_back(std::move(id));
                if (cfg.guest_pool.size() > kMaxPool) {
                    top.fail("guest_pool_range", "more than 100000 guest identities in all");
                }
            }
        } catch (const std::invalid_argument& e) {
            top.fail("guest_pool_range", "\"" + pattern + "\": " + e.what());
        }
    }
    try {
        const GuestPool check(cfg.guest_pool);
    } catch (const std::invalid_argument& e) {
        top.fail(top.has("guest_pool_range") ? "guest_pool_range" : "guest_pool", e.what());
    }

    // [wwsf.limits]
    const Table limits(
        top.sub("limits"), "wwsf.limits", origin,
        {"max_connections", "max_header_bytes", "max_body_bytes", "request_timeout_s",
         "handshake_timeout_ms", "max_logins_in_flight", "kdf_threads"});
    limits.integer("max_connections", 1, 1000000, server.max_connections);
    limits.integer("max_header_bytes", 1024, 65536, server.max_header_bytes);
    limits.integer("max_body_bytes", 256, 1 << 20, server.max_body_bytes);
    int64_t seconds = server.request_timeout.count();
    limits.integer("request_timeout_s", 1, 3600, seconds);
    server.request_timeout = std::chrono::seconds(seconds);
    int64_t ms = server.handshake_timeout.count();
    limits.integer("handshake_timeout_ms", 100, 600000, ms);
    server.handshake_timeout = std::chrono::milliseconds(ms);
    limits.integer("max_logins_in_flight", 1, 1024, core.max_logins_in_flight);
    limits.integer("kdf_threads", 1, 64, cfg.kdf_threads);
    return cfg;
}

WwsfDaemonConfig load_wwsf_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in || is_directory(path)) {
        throw WwsfConfigError(path + ": cannot read the configuration file");
    }
    std::ostringstream s;
    s << in.rdbuf();
    return load_wwsf_text(s.str(), path);
}

}  // namespace isthmus::wwsf
