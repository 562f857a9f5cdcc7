// Loading the [pcscf] section (daemon_config.hpp). A small typed reader over
// toml++ keeps the per-key code to one line: each table lists its keys, a
// key not listed is refused, and each read names the key in its error.
#include "pcscf/daemon_config.hpp"

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
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string_view>

#include "sip/grammar.hpp"
#include "sip/host.hpp"

namespace isthmus::pcscf {
namespace {

// One TOML table of the [pcscf] tree: typed, range-checked reads that name
// the key ("pcscf.w2.max_connections") in every error.
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
        throw PcscfConfigError(origin_ + ": " + name_ + "." + key + ": " + what);
    }
    bool has(const char* key) const { return t_ != nullptr && t_->get(key) != nullptr; }
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
    template <typename Rep, typename Period>
    void duration(const char* key, int64_t lo, int64_t hi,
                  std::chrono::duration<Rep, Period>& out) const {
        int64_t v = -1;
        integer(key, lo, hi, v);
        if (v >= 0) out = std::chrono::duration<Rep, Period>(v);
    }
    void boolean(const char* key, bool& out) const {
        const toml::node* n = node(key);
        if (n == nullptr) return;
        const auto v = n->value_exact<bool>();
        if (!v) fail(key, "must be true or false");
        out = *v;
    }
    void string(const char* key, std::string& out, bool non_empty = true) const {
        const toml::node* n = node(key);
        if (n == nullptr) return;
        const auto v = n->value<std::string>();
        if (!v || (non_empty && v->empty())) fail(key, "must be a non-empty string");
        out = *v;
    }
    std::vector<std::string> strings(const char* key) const {
        std::vector<std::string> out;
        const toml::node* n = node(key);
        if (n == nullptr) return out;
        const toml::array* a = n->as_array();
        if (a == nullptr) fail(key, "must be an array of strings");
        for (const auto& e : *a) {
            const auto v = e.value<std::string>();
            if (!v) fail(key, "must be an array of strings");
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

bool is_v4_literal(const std::string& s) {
    std::array<unsigned char, 4> buf{};
    return inet_pton(AF_INET, s.c_str(), buf.data()) == 1;
}

// 0.0.0.0 or :: however written ("0:0::0").
bool is_unspecified(const std::string& s) {
    std::array<unsigned char, 16> buf{};
    if (inet_pton(AF_INET, s.c_str(), buf.data()) != 1 &&
        inet_pton(AF_INET6, s.c_str(), buf.data()) != 1) {
        return false;
    }
    return std::all_of(buf.begin(), buf.end(), [](unsigned char b) { return b == 0; });
}

bool is_v4_peer(const Peer& p) {
    const auto mapped = v4_mapped(0, 0, 0, 0);
    return std::equal(mapped.begin(), mapped.begin() + 12, p.address.begin());
}

// "ADDR:PORT" / "[V6]:PORT" -> address, port (1..65535).
std::pair<std::string, uint16_t> parse_endpoint(const std::string& text) {
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
        port.find_first_not_of("0123456789") != std::string::npos) {
        throw std::invalid_argument("port must be 1..65535");
    }
    const unsigned long p = std::stoul(port);
    if (p == 0 || p > 65535) throw std::invalid_argument("port must be 1..65535");
    return {addr, static_cast<uint16_t>(p)};
}

Transport parse_mw_transport(const std::string& s) {
    if (s == "udp") return Transport::Udp;
    if (s == "tcp") return Transport::Tcp;
    throw std::invalid_argument("must be \"udp\" or \"tcp\"");
}

// A directory opens as a stream on Linux: refused as unreadable too.
bool is_directory(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
}

std::string read_secret_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in || is_directory(path)) {
        error = "cannot read " + path;
        return {};
    }
    std::ostringstream s;
    s << in.rdbuf();
    std::string key = s.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r'))
        key.pop_back();
    return key;
}

void check_readable(const Table& t, const char* key, const std::string& path) {
    std::ifstream in(path);
    if (!in || is_directory(path)) t.fail(key, "cannot read " + path);
}

}  // namespace

Peer parse_hop(const std::string& text) {
    const auto colon = text.find(':');
    if (colon == std::string::npos) {
        throw std::invalid_argument("expected \"udp:ADDR:PORT\" or \"tcp:ADDR:PORT\"");
    }
    Peer p;
    p.transport = parse_mw_transport(text.substr(0, colon));
    const auto [addr, port] = parse_endpoint(text.substr(colon + 1));
    p.port = port;
    std::array<unsigned char, 16> buf{};
    if (inet_pton(AF_INET, addr.c_str(), buf.data()) == 1) {
        p.address = v4_mapped(buf[0], buf[1], buf[2], buf[3]);
    } else {
        inet_pton(AF_INET6, addr.c_str(), buf.data());
        std::copy(buf.begin(), buf.end(), p.address.begin());
    }
    return p;
}

PcscfDaemonConfig load_pcscf_text(const std::string& text, const std::string& origin) {
    toml::table root;
    try {
        root = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
            << e.description();
        throw PcscfConfigError(msg.str());
    }
    // The file's sections are the binaries': a misspelled one would
    // otherwise be ignored whole.
    for (const auto& [k, v] : root) {
        const std::string key(k.str());
        if (key != "dataplane" && key != "pcscf" && key != "wwsf") {
            throw PcscfConfigError(origin + ": " + key +
                                   ": unknown section (dataplane, pcscf and wwsf are known)");
        }
    }
    const toml::node* section = root.get("pcscf");
    if (section == nullptr || !section->is_table()) {
        throw PcscfConfigError(origin + ": no [pcscf] section");
    }
    PcscfDaemonConfig cfg;
    PcscfConfig& core = cfg.core;
    TransportsConfig& tr = cfg.transports;

    // [pcscf]
    const Table top(
        section->as_table(), "pcscf", origin,
        {"threads", "visited_network_id", "orig_ioi", "flow_token_key_file", "w2", "mw", "limits",
         "admission", "timers", "media", "tokens", "metrics", "log_level", "log_control"});
    top.integer("threads", 1, 64, cfg.threads);
    std::string level = "info";
    top.string("log_level", level);
    if (const auto l = log::parse_level(level)) {
        cfg.log_level = *l;
    } else {
        top.fail("log_level", "must be " + std::string(log::kLevelWords));
    }
    top.string("log_control", cfg.log_control);
    if (!log::valid_control_name(cfg.log_control)) {
        top.fail("log_control",
                 "must be a name like \"/isthmus-pcscf-log\" ('/' and no other '/')");
    }
    top.string("metrics", cfg.metrics, false);
    if (!cfg.metrics.empty()) {
        // Debian's civetweb (prometheus-cpp's HTTP server) is built without
        // IPv6: an IPv6 address would only fail at start, obscurely.
        if (cfg.metrics.front() == '[') top.fail("metrics", "IPv4 only (the exporter has no IPv6)");
        try {
            parse_endpoint(cfg.metrics);
        } catch (const std::invalid_argument& e) {
            top.fail("metrics", e.what());
        }
    }
    tr.concurrency_hint = cfg.threads;
    top.string("visited_network_id", core.visited_network_id);
    top.string("orig_ioi", core.orig_ioi);
    if (!sip::is_token(core.orig_ioi)) top.fail("orig_ioi", "must be a token (RFC 7315 4.6)");
    std::string key_file;
    top.string("flow_token_key_file", key_file);
    if (!key_file.empty()) {
        std::string error;
        core.flow_token_key = read_secret_file(key_file, error);
        if (!error.empty()) top.fail("flow_token_key_file", error);
        if (core.flow_token_key.size() < 16) {
            top.fail("flow_token_key_file", key_file + " holds fewer than 16 octets");
        }
        cfg.flow_token_key_source = key_file;
    } else {
        std::array<unsigned char, 32> key{};
        if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
            throw PcscfConfigError(origin + ": pcscf: no random flow token key (RAND_bytes)");
        }
        core.flow_token_key.assign(key.begin(), key.end());
    }

    // [pcscf.limits]
    const Table limits(top.sub("limits"), "pcscf.limits", origin,
                       {"max_flows", "max_registrations", "max_registrations_per_flow",
                        "max_transactions", "max_message_bytes", "retry_after_s"});
    limits.integer("max_flows", 1, 10000000, core.max_flows);
    limits.integer("max_registrations", 1, 10000000, core.max_registrations);
    limits.integer("max_registrations_per_flow", 1, 64, core.max_registrations_per_flow);
    limits.integer("max_transactions", 16, 10000000, core.max_transactions);
    std::size_t max_message = core.parse_limits.max_message_bytes;
    limits.integer("max_message_bytes", 1024, 1 << 20, max_message);
    core.parse_limits.max_message_bytes = max_message;
    limits.integer("retry_after_s", 1, 3600, core.retry_after_s);

    // [pcscf.admission]: rates of out-of-dialog requests from the browsers
    // (admission.hpp). A global burst left out is one second's worth.
    const Table admission(
        top.sub("admission"), "pcscf.admission", origin,
        {"flow_rate", "flow_burst", "register_rate", "register_burst", "initial_rate",
         "initial_burst", "max_invites_in_setup", "retry_after_s", "close_after_refusals"});
    AdmissionConfig& ac = core.admission;
    admission.integer("flow_rate", 0, 1000000, ac.flow_rate);
    admission.integer("flow_burst", 1, 10000000, ac.flow_burst);
    admission.integer("register_rate", 0, 1000000, ac.register_rate);
    ac.register_burst = ac.register_rate;
    admission.integer("register_burst", 1, 10000000, ac.register_burst);
    admission.integer("initial_rate", 0, 1000000, ac.initial_rate);
    ac.initial_burst = ac.initial_rate;
    admission.integer("initial_burst", 1, 10000000, ac.initial_burst);
    for (const auto& [rate, value] :
         {std::pair{"flow_rate", ac.flow_rate}, std::pair{"register_rate", ac.register_rate},
          std::pair{"initial_rate", ac.initial_rate}}) {
        std::string burst(rate);
        burst.replace(burst.size() - 4, 4, "burst");
        if (value == 0 && admission.has(burst.c_str())) {
            admission.fail(burst, std::string("set while ") + rate + " is 0 (no limit)");
        }
    }
    admission.integer("max_invites_in_setup", 0, 10000000, ac.max_invites_in_setup);
    admission.integer("retry_after_s", 1, 3600, ac.retry_after_s);
    admission.integer("close_after_refusals", 0, 1000000, ac.close_after_refusals);

    // [pcscf.timers]
    const Table timers(top.sub("timers"), "pcscf.timers", origin,
                       {"t1_ms", "t2_ms", "t4_ms", "timer_c_s", "default_expires_s"});
    timers.duration("t1_ms", 1, 60000, core.timers.t1);
    timers.duration("t2_ms", 1, 600000, core.timers.t2);
    timers.duration("t4_ms", 1, 600000, core.timers.t4);
    std::chrono::seconds timer_c{0};
    timers.duration("timer_c_s", 1, 86400, timer_c);
    if (timer_c.count() > 0) core.timer_c = timer_c;
    timers.duration("default_expires_s", 1, 86400 * 7, core.default_expires);
    if (core.timers.t1 > core.timers.t2) timers.fail("t1_ms", "must not exceed t2_ms");

    // [pcscf.w2]
    const Table w2(
        top.sub("w2"), "pcscf.w2", origin,
        {"host", "uri_port", "ws", "wss", "certificate", "private_key", "handshake_timeout_ms",
         "idle_timeout_s", "max_connections", "send_queue_messages", "send_queue_bytes"});
    w2.string("host", core.w2_host);
    if (!sip::classify_host(core.w2_host)) {
        w2.fail("host",
                "\"" + core.w2_host + "\" is not a host name or address ([v6] in brackets)");
    }
    WsConfig ws;
    w2.duration("handshake_timeout_ms", 100, 600000, ws.handshake_timeout);
    std::chrono::seconds idle{-1};
    w2.duration("idle_timeout_s", 0, 86400, idle);
    if (idle.count() >= 0) ws.idle_timeout = idle;
    w2.integer("max_connections", 1, 10000000, ws.max_connections);
    w2.integer("send_queue_messages", 1, 1 << 20, ws.send_queue_max_messages);
    w2.integer("send_queue_bytes", 1024, int64_t{1} << 30, ws.send_queue_max_bytes);
    ws.read_message_max = max_message;
    for (const char* which : {"ws", "wss"}) {
        std::string endpoint;
        w2.string(which, endpoint);
        if (endpoint.empty()) continue;
        WsConfig c = ws;
        try {
            std::tie(c.address, c.port) = parse_endpoint(endpoint);
        } catch (const std::invalid_argument& e) {
            w2.fail(which, e.what());
        }
        (std::string_view(which) == "ws" ? tr.ws : tr.wss) = c;
    }
    if (!tr.ws && !tr.wss) w2.fail("ws", "neither ws nor wss is set: browsers could not connect");
    std::string cert;
    std::string private_key;
    w2.string("certificate", cert);
    w2.string("private_key", private_key);
    if (tr.wss) {
        if (cert.empty() || private_key.empty()) {
            w2.fail(cert.empty() ? "certificate" : "private_key",
                    "wss needs certificate and private_key (PEM files)");
        }
        check_readable(w2, "certificate", cert);
        check_readable(w2, "private_key", private_key);
        const config::TlsFilesProblem tls = config::check_tls_files(cert, private_key);
        if (!tls.key.empty()) w2.fail(tls.key, tls.what);
        tr.wss->tls = TlsFiles{cert, private_key};
    } else if (!cert.empty() || !private_key.empty()) {
        w2.fail(cert.empty() ? "private_key" : "certificate", "set without wss");
    }
    // The port our W2 URIs carry: the secure one when there is one.
    core.w2_port = tr.wss ? tr.wss->port : tr.ws->port;
    w2.integer("uri_port", 0, 65535, core.w2_port);

    // [pcscf.mw]
    const Table mw(top.sub("mw"), "pcscf.mw", origin,
                   {"address", "port", "host", "transports", "transport", "next_hop", "route",
                    "max_tcp_connections", "tcp_idle_timeout_s", "udp_buffer_bytes"});
    std::string address = "0.0.0.0";
    mw.string("address", address);
    if (!is_ip_literal(address)) mw.fail("address", "\"" + address + "\" is not an IP address");
    uint16_t port = 5060;
    mw.integer("port", 1, 65535, port);
    // Written in our Via, Path and Record-Route: an IPv6 address as a reference.
    core.mw_host = is_unspecified(address)  ? std::string()
                   : is_v4_literal(address) ? address
                                            : "[" + address + "]";
    mw.string("host", core.mw_host);
    if (core.mw_host.empty()) {
        mw.fail("host", "required when address is unspecified (" + address +
                            "): the IMS must be able to reach the name in our Path and Via");
    }
    if (!sip::classify_host(core.mw_host)) {
        mw.fail("host",
                "\"" + core.mw_host + "\" is not a host name or address ([v6] in brackets)");
    }
    core.mw_port = port;
    std::vector<std::string> transports = mw.strings("transports");
    if (!mw.has("transports")) {
        transports = {"udp"};
    } else if (transports.empty()) {
        mw.fail("transports", "must list at least one of \"udp\", \"tcp\"");
    }
    std::set<std::string> seen;
    for (const std::string& t : transports) {
        if (!seen.insert(t).second) mw.fail("transports", "\"" + t + "\" listed twice");
        try {
            if (parse_mw_transport(t) == Transport::Udp) {
                tr.udp = UdpConfig{};
                tr.udp->address = address;
                tr.udp->port = port;
                tr.udp->max_datagram = max_message;
            } else {
                tr.tcp = TcpConfig{};
                tr.tcp->address = address;
                tr.tcp->port = port;
                tr.tcp->limits = core.parse_limits;
            }
        } catch (const std::invalid_argument& e) {
            mw.fail("transports", std::string("each ") + e.what());
        }
    }
    std::string uri_transport = transports.front();
    mw.string("transport", uri_transport);
    if (seen.count(uri_transport) == 0) {
        mw.fail("transport", "\"" + uri_transport + "\" is not one of transports");
    }
    core.mw_transport = parse_mw_transport(uri_transport);
    if (tr.udp) {
        // A burst of responses from the IMS (a thousand REGISTERs in flight)
        // overflows the system's default 208 KiB: drops, then retransmits.
        int udp_buffer = 4 << 20;
        mw.integer("udp_buffer_bytes", 0, 1 << 30, udp_buffer);
        tr.udp->receive_buffer_bytes = udp_buffer;
        tr.udp->send_buffer_bytes = udp_buffer;
    } else if (mw.has("udp_buffer_bytes")) {
        mw.fail("udp_buffer_bytes", "set without udp in transports");
    }
    if (tr.tcp) {
        mw.integer("max_tcp_connections", 1, 1000000, tr.tcp->max_connections);
        std::chrono::seconds tcp_idle{-1};
        mw.duration("tcp_idle_timeout_s", 0, 86400, tcp_idle);
        if (tcp_idle.count() >= 0) tr.tcp->idle_timeout = tcp_idle;
    } else if (mw.has("max_tcp_connections") || mw.has("tcp_idle_timeout_s")) {
        mw.fail(mw.has("max_tcp_connections") ? "max_tcp_connections" : "tcp_idle_timeout_s",
                "set without tcp in transports");
    }
    const auto hop = [&](const Table& table, const char* name) {
        std::string spec;
        table.string(name, spec);
        if (spec.empty()) table.fail(name, "missing (\"udp:ADDR:PORT\" or \"tcp:ADDR:PORT\")");
        try {
            Peer p = parse_hop(spec);
            if ((p.transport == Transport::Udp && !tr.udp) ||
                (p.transport == Transport::Tcp && !tr.tcp)) {
                table.fail(name, "\"" + spec + "\" needs its transport in pcscf.mw.transports");
            }
            // The Mw sockets send from `address` (TCP connects from it when
            // it is specified): the other family is out of their reach, but
            // from "::" (dual stack) and over TCP from "0.0.0.0".
            const bool v4_socket = is_v4_literal(address);
            const bool reachable = v4_socket ? is_v4_peer(p) || (p.transport == Transport::Tcp &&
                                                                 is_unspecified(address))
                                             : !is_v4_peer(p) || is_unspecified(address);
            if (!reachable) {
                table.fail(name, "\"" + spec + "\" is " + (is_v4_peer(p) ? "IPv4" : "IPv6") +
                                     ", pcscf.mw.address " + address + " is not");
            }
            return p;
        } catch (const std::invalid_argument& e) {
            table.fail(name, e.what());
        }
    };
    core.ims_next_hop = hop(mw, "next_hop");
    if (const toml::node* n = mw.node("route")) {
        const toml::array* routes = n->as_array();
        if (routes == nullptr) mw.fail("route", "must be [[pcscf.mw.route]] tables");
        for (std::size_t i = 0; i < routes->size(); ++i) {
            const std::string name = "pcscf.mw.route[" + std::to_string(i) + "]";
            const toml::table* rt = (*routes)[i].as_table();
            if (rt == nullptr) throw PcscfConfigError(origin + ": " + name + ": must be a table");
            const Table r(rt, name, origin, {"host", "port", "next_hop"});
            StaticRoute route;
            r.string("host", route.host);
            if (route.host.empty()) r.fail("host", "missing");
            if (!sip::classify_host(route.host)) {
                r.fail("host", "\"" + route.host + "\" is not a host name or address");
            }
            if (r.has("port")) {
                uint16_t p = 0;
                r.integer("port", 1, 65535, p);
                route.port = p;
            }
            route.peer = hop(r, "next_hop");
            core.static_routes.push_back(std::move(route));
        }
    }

    // [pcscf.tokens]: WWSF tokens (A.3.2/A.3.3), verified with its public key.
    const Table tokens(top.sub("tokens"), "pcscf.tokens", origin,
                       {"public_key_file", "audience", "max_lifetime_s", "lease_release_url",
                        "lease_release_ca_file", "lease_release_timeout_ms", "replay_file"});
    std::string public_key_file;
    tokens.string("public_key_file", public_key_file);
    tokens.string("audience", core.token_audience);
    tokens.integer("max_lifetime_s", 1, 86400, core.token_max_lifetime_s);
    if (!public_key_file.empty()) {
        std::string error;
        const std::string pem = read_secret_file(public_key_file, error);
        if (!error.empty()) tokens.fail("public_key_file", error);
        try {
            core.token_verifier =
                std::make_shared<token::TokenVerifier>(token::TokenVerifier::from_public_pem(pem));
        } catch (const std::invalid_argument& e) {
            tokens.fail("public_key_file", public_key_file + ": " + e.what());
        }
        if (core.token_audience.empty()) tokens.fail("audience", "missing (the tokens' aud)");
        core.unix_time = [] { return static_cast<int64_t>(::time(nullptr)); };
    } else if (tokens.has("audience")) {
        tokens.fail("public_key_file", "missing (audience is set)");
    }
    tokens.string("replay_file", cfg.token_replay_file);
    if (!cfg.token_replay_file.empty()) {
        if (public_key_file.empty()) tokens.fail("replay_file", "needs public_key_file");
        // Its directory must exist; the file itself is made at start.
        std::filesystem::path dir = std::filesystem::path(cfg.token_replay_file).parent_path();
        if (dir.empty()) dir = ".";
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            tokens.fail("replay_file", cfg.token_replay_file + ": no directory " + dir.string());
    }
    // Guest leases (A.3.3) given back to the WWSF when their registration ends.
    LeaseReleaseConfig& lr = cfg.lease_release;
    tokens.string("lease_release_url", lr.url);
    tokens.string("lease_release_ca_file", lr.ca_file);
    tokens.duration("lease_release_timeout_ms", 100, 60000, lr.timeout);
    if (!lr.url.empty()) {
        std::string error;
        const auto url = parse_release_url(lr.url, error);
        if (!url) tokens.fail("lease_release_url", lr.url + ": " + error);
        if (public_key_file.empty()) {
            tokens.fail("lease_release_url", "needs public_key_file (guests register with tokens)");
        }
        if (!url->tls && !lr.ca_file.empty()) {
            tokens.fail("lease_release_ca_file", "set, but lease_release_url is http://");
        }
        if (!lr.ca_file.empty()) check_readable(tokens, "lease_release_ca_file", lr.ca_file);
        try {  // what the daemon will do: the CA file must load as PEM
            boost::asio::io_context probe;
            LeaseReleaser(probe.get_executor(), lr, [](const std::string&) {});
        } catch (const std::invalid_argument& e) {
            tokens.fail(lr.ca_file.empty() ? "lease_release_url" : "lease_release_ca_file",
                        e.what());
        }
    } else if (tokens.has("lease_release_ca_file")) {
        tokens.fail("lease_release_url", "missing (lease_release_ca_file is set)");
    }

    // [pcscf.media]: the IMS-ALG and the dataplane it programs. The region
    // and the worker count are the dataplane's own ([dataplane] region,
    // workers), read from the same file so the two cannot disagree.
    const Table media(top.sub("media"), "pcscf.media", origin,
                      {"enabled", "access_address", "core_address", "access_port_min",
                       "access_port_max", "core_port_min", "core_port_max", "core_srtp",
                       "core_rtcp_mux", "max_calls", "max_calls_per_flow", "attach_interval_ms",
                       "police", "police_audio_kbps", "police_video_kbps", "police_percent"});
    MediaConfig& mc = core.media;
    media.boolean("enabled", mc.enabled);
    media.string("access_address", mc.access_address);
    media.string("core_address", mc.core_address);
    media.integer("access_port_min", 1, 65535, mc.access_ports.min);
    media.integer("access_port_max", 1, 65535, mc.access_ports.max);
    media.integer("core_port_min", 1, 65535, mc.core_ports.min);
    media.integer("core_port_max", 1, 65535, mc.core_ports.max);
    media.boolean("core_srtp", mc.core_srtp);
    media.boolean("core_rtcp_mux", mc.core_rtcp_mux);
    media.integer("max_calls", 1, 10000000, mc.max_calls);
    media.integer("max_calls_per_flow", 1, 1000, mc.max_calls_per_flow);
    media.duration("attach_interval_ms", 10, 60000, cfg.attach_interval);
    media.boolean("police", mc.police.enabled);
    media.integer("police_audio_kbps", 8, 10000000, mc.police.audio_kbps);
    media.integer("police_video_kbps", 8, 10000000, mc.police.video_kbps);
    media.integer("police_percent", 100, 1000, mc.police.percent);
    if (const toml::node* dp = root.get("dataplane"); dp != nullptr && dp->is_table()) {
        const toml::table& d = *dp->as_table();
        // Read here too, so the two cannot disagree; refused as the
        // dataplane refuses them (it names the same keys).
        const auto bad = [&](const char* key, const std::string& what) {
            throw PcscfConfigError(origin + ": dataplane." + key + ": " + what);
        };
        if (d.get("workers") != nullptr) {
            const auto w = d["workers"].value_exact<int64_t>();
            if (!w || *w < 1 || *w > 16) bad("workers", "must be an integer 1..16");
            mc.workers = static_cast<uint32_t>(*w);
        }
        if (d.get("sessions_per_worker") != nullptr) {
            const auto n = d["sessions_per_worker"].value_exact<int64_t>();
            if (!n || *n < 1 || *n > (int64_t{1} << 28)) {
                bad("sessions_per_worker", "must be an integer 1..268435456");
            }
            cfg.dataplane_sessions_per_worker = static_cast<uint64_t>(*n);
        }
        if (const auto r = d["region"].value<std::string>(); r && !r->empty()) cfg.region = *r;
        if (const auto h = d["heartbeat_ms"].value_exact<int64_t>(); h && *h > 0 && *h <= 60000)
            cfg.heartbeat_timeout =
                std::max(cfg.heartbeat_timeout, std::chrono::milliseconds(3 * *h));
    }
    if (mc.enabled) {
        if (mc.access_address.empty()) media.fail("access_address", "missing");
        if (mc.core_address.empty()) media.fail("core_address", "missing");
        for (const char* key : {"access_address", "core_address"}) {
            const std::string& a =
                std::string_view(key) == "access_address" ? mc.access_address : mc.core_address;
            if (!is_ip_literal(a) || is_unspecified(a))
                media.fail(key, "\"" + a + "\" is not a unicast IPv4 or IPv6 address");
        }
        try {
            const MediaPorts ports(mc.access_ports, mc.core_ports, mc.workers);
        } catch (const std::invalid_argument& e) {
            media.fail("access_port_min", e.what());
        }
    }

    // What the core itself checks, so that --check-config finds it too.
    try {
        const LocalUris uris(core);
        check_config(core);
    } catch (const std::invalid_argument& e) {
        throw PcscfConfigError(origin + ": " + e.what());
    }
    return cfg;
}

PcscfDaemonConfig load_pcscf_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw PcscfConfigError(path + ": cannot read the configuration file");
    std::ostringstream s;
    s << in.rdbuf();
    return load_pcscf_text(s.str(), path);
}

}  // namespace isthmus::pcscf
