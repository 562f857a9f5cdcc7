// The implementation of config.hpp, header-only as the shared contract is
// (include it in exactly one translation unit per binary).
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <toml++/toml.h>
#pragma GCC diagnostic pop

#include <arpa/inet.h>

#include <set>
#include <sstream>

#include "isthmus/config/config.hpp"

namespace isthmus::config {

// "a.b.c.d/n" (n <= 32) or "x::y/n" (n <= 128).
inline bool valid_cidr(const std::string& text) {
    const auto slash = text.find('/');
    if (slash == std::string::npos || slash + 1 >= text.size()) return false;
    const std::string addr = text.substr(0, slash);
    const std::string len = text.substr(slash + 1);
    if (len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos) return false;
    const int bits = std::stoi(len);
    unsigned char buf[16];
    if (inet_pton(AF_INET, addr.c_str(), buf) == 1) return bits <= 32;
    if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) return bits <= 128;
    return false;
}

inline DataplaneConfig load_dataplane(const std::string& path) {
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
            << e.description();
        throw ConfigError(msg.str());
    }
    // The file's sections are the binaries': a misspelled one ([dataplan])
    // would otherwise be ignored whole.
    for (const auto& [k, v] : root) {
        const std::string key(k.str());
        if (key != "dataplane" && key != "pcscf" && key != "wwsf") {
            throw ConfigError(path + ": " + key +
                              ": unknown section (dataplane, pcscf and wwsf are known)");
        }
    }
    DataplaneConfig cfg;
    const toml::table* dp = root["dataplane"].as_table();
    if (dp == nullptr) throw ConfigError(path + ": no [dataplane] section");
    static const std::set<std::string> known = {"region",
                                                "eal",
                                                "heartbeat_ms",
                                                "port",
                                                "sessions_per_worker",
                                                "workers",
                                                "srtp_contexts_per_worker",
                                                "dtls_certificate",
                                                "dtls_private_key",
                                                "dtls_max_handshakes",
                                                "dtls_handshake_timeout_s",
                                                "media_timeout_s",
                                                "police_burst_ms",
                                                "log_level",
                                                "log_control"};
    for (const auto& [k, v] : *dp) {
        if (known.count(std::string(k.str())) == 0) {
            throw ConfigError(path + ": dataplane." + std::string(k.str()) + ": unknown key");
        }
    }
    if (const auto* n = dp->get("region")) {
        const auto s = n->value<std::string>();
        if (!s || s->size() < 2 || (*s)[0] != '/' || s->find('/', 1) != std::string::npos) {
            throw ConfigError(path + ": dataplane.region: must be a string like \"/isthmus-dpif\"");
        }
        cfg.region = *s;
    }
    if (const auto* n = dp->get("log_level")) {
        const auto s = n->value<std::string>();
        const auto level = s ? log::parse_level(*s) : std::nullopt;
        if (!level) {
            throw ConfigError(path + ": dataplane.log_level: must be " +
                              std::string(log::kLevelWords));
        }
        cfg.log_level = *level;
    }
    if (const auto* n = dp->get("log_control")) {
        const auto s = n->value<std::string>();
        if (!s || !log::valid_control_name(*s)) {
            throw ConfigError(path +
                              ": dataplane.log_control: must be a string like "
                              "\"/isthmus-dataplane-log\" ('/' and a name without another '/')");
        }
        cfg.log_control = *s;
    }
    if (const auto* n = dp->get("eal")) {
        const toml::array* a = n->as_array();
        if (a == nullptr) throw ConfigError(path + ": dataplane.eal: must be an array of strings");
        for (const auto& e : *a) {
            const auto s = e.value<std::string>();
            if (!s) throw ConfigError(path + ": dataplane.eal: must be an array of strings");
            cfg.eal.push_back(*s);
        }
    }
    if (const auto* n = dp->get("heartbeat_ms")) {
        const auto v = n->value_exact<int64_t>();  // not 4.0 or true
        if (!v || *v < 1 || *v > 10000) {
            throw ConfigError(path + ": dataplane.heartbeat_ms: must be an integer 1..10000");
        }
        cfg.heartbeat_ms = static_cast<uint32_t>(*v);
    }
    const auto count = [&](const char* key, int64_t lo, int64_t hi, uint32_t& out) {
        if (const auto* n = dp->get(key)) {
            const auto v = n->value_exact<int64_t>();
            if (!v || *v < lo || *v > hi) {
                throw ConfigError(path + ": dataplane." + key + ": must be an integer " +
                                  std::to_string(lo) + ".." + std::to_string(hi));
            }
            out = static_cast<uint32_t>(*v);
        }
    };
    count("workers", 1, 16, cfg.workers);
    count("sessions_per_worker", 1, int64_t{1} << 28, cfg.sessions_per_worker);
    count("srtp_contexts_per_worker", 0, int64_t{1} << 29, cfg.srtp_contexts_per_worker);
    count("dtls_max_handshakes", 1, 1 << 20, cfg.dtls_max_handshakes);
    count("dtls_handshake_timeout_s", 1, 300, cfg.dtls_handshake_timeout_s);
    count("media_timeout_s", 0, 86400, cfg.media_timeout_s);
    count("police_burst_ms", 1, 4000, cfg.police_burst_ms);
    for (const char* key : {"dtls_certificate", "dtls_private_key"}) {
        if (const auto* n = dp->get(key)) {
            const auto s = n->value<std::string>();
            if (!s || s->empty())
                throw ConfigError(path + ": dataplane." + key + ": must be a file path");
            (std::string(key) == "dtls_certificate" ? cfg.dtls_certificate : cfg.dtls_private_key) =
                *s;
        }
    }
    if (cfg.dtls_certificate.empty() != cfg.dtls_private_key.empty()) {
        throw ConfigError(path +
                          ": dataplane.dtls_certificate and dtls_private_key go together (or "
                          "neither: a certificate is generated at start)");
    }
    if (const auto* n = dp->get("port")) {
        const toml::array* a = n->as_array();
        if (a == nullptr)
            throw ConfigError(path + ": dataplane.port: must be [[dataplane.port]] tables");
        std::set<std::string> names;
        for (std::size_t i = 0; i < a->size(); ++i) {
            const toml::table* t = (*a)[i].as_table();
            const std::string where = path + ": dataplane.port[" + std::to_string(i) + "]";
            if (t == nullptr) throw ConfigError(where + ": must be a table");
            PortConfig pc;
            for (const auto& [k, v] : *t) {
                const std::string key(k.str());
                if (key == "networks") {
                    const toml::array* nets = v.as_array();
                    if (nets == nullptr)
                        throw ConfigError(where + ".networks: must be an array of CIDR strings");
                    for (const auto& e : *nets) {
                        const auto net = e.value<std::string>();
                        if (!net || !valid_cidr(*net)) {
                            throw ConfigError(where +
                                              ".networks: each must be a CIDR like "
                                              "\"198.18.1.0/24\" or \"2001:2:1::/64\"");
                        }
                        pc.networks.push_back(*net);
                    }
                    continue;
                }
                const auto s = v.value<std::string>();
                if (key != "name" && key != "device" && key != "exception" && key != "gateway" &&
                    key != "gateway6" && key != "checksums") {
                    throw ConfigError(where + "." + key + ": unknown key");
                }
                if (!s || s->empty())
                    throw ConfigError(where + "." + key + ": must be a non-empty string");
                if (key == "gateway" || key == "gateway6") {
                    unsigned char buf[16];
                    if (inet_pton(key == "gateway" ? AF_INET : AF_INET6, s->c_str(), buf) != 1) {
                        throw ConfigError(where + "." + key + ": not an " +
                                          (key == "gateway" ? "IPv4" : "IPv6") + " address");
                    }
                    (key == "gateway" ? pc.gateway : pc.gateway6) = *s;
                    continue;
                }
                if (key == "checksums") {
                    if (*s != "auto" && *s != "software" && *s != "no-ipv4-udp") {
                        throw ConfigError(where +
                                          ".checksums: must be \"auto\", \"software\" or "
                                          "\"no-ipv4-udp\"");
                    }
                    pc.checksums = *s;
                    continue;
                }
                (key == "name" ? pc.name : key == "device" ? pc.device : pc.exception) = *s;
            }
            if (pc.name.empty()) throw ConfigError(where + ".name: missing");
            if (pc.name != "access" && pc.name != "core") {
                throw ConfigError(where +
                                  ".name: must be \"access\" or \"core\" (the port's role)");
            }
            if (pc.device.empty()) throw ConfigError(where + ".device: missing");
            if (pc.exception.empty()) throw ConfigError(where + ".exception: missing");
            if (!names.insert(pc.name).second) {
                throw ConfigError(where + ".name: \"" + pc.name + "\" used twice");
            }
            cfg.ports.push_back(pc);
        }
    }
    return cfg;
}

}  // namespace isthmus::config
