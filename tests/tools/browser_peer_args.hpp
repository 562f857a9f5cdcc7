// browser_peer_args.hpp: browser_peer's command line (see kUsage in
// browser_peer.cpp) and the socket address helpers it needs.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "browser_peer_dtls.hpp"

namespace browser_peer {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

inline uint64_t parse_number(const std::string& option, std::string_view text, uint64_t lo,
                             uint64_t hi) {
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
        throw UsageError(option + ": '" + std::string(text) + "' is not a number");
    }
    if (v < lo || v > hi) {
        throw UsageError(option + ": " + std::to_string(v) + " is outside " + std::to_string(lo) +
                         ".." + std::to_string(hi));
    }
    return v;
}

// "A.B.C.D:PORT" or "[v6]:PORT".
inline sockaddr_storage parse_endpoint(const std::string& option, const std::string& text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        throw UsageError(option + ": '" + text + "' is not ADDR:PORT");
    }
    std::string addr = text.substr(0, colon);
    const auto port = static_cast<uint16_t>(
        parse_number(option + " port", std::string_view(text).substr(colon + 1), 1, 65535));
    sockaddr_storage sa{};
    if (addr.size() > 2 && addr.front() == '[' && addr.back() == ']') {
        addr = addr.substr(1, addr.size() - 2);
        sockaddr_in6 s6{};
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons(port);
        if (inet_pton(AF_INET6, addr.c_str(), &s6.sin6_addr) != 1) {
            throw UsageError(option + ": '" + addr + "' is not an IPv6 address");
        }
        std::memcpy(&sa, &s6, sizeof s6);
    } else {
        sockaddr_in s4{};
        s4.sin_family = AF_INET;
        s4.sin_port = htons(port);
        if (inet_pton(AF_INET, addr.c_str(), &s4.sin_addr) != 1) {
            throw UsageError(option + ": '" + addr + "' is not an IPv4 address");
        }
        std::memcpy(&sa, &s4, sizeof s4);
    }
    return sa;
}

inline socklen_t sockaddr_len(const sockaddr_storage& sa) {
    return sa.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

// Same family and port; the same address too unless `wildcard_ok` and b's
// address is the unspecified one (a socket bound to 0.0.0.0 or ::).
inline bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& b,
                          bool wildcard_ok = false) {
    if (a.ss_family != b.ss_family) return false;
    if (a.ss_family == AF_INET) {
        sockaddr_in x{}, y{};
        std::memcpy(&x, &a, sizeof x);
        std::memcpy(&y, &b, sizeof y);
        return x.sin_port == y.sin_port && (x.sin_addr.s_addr == y.sin_addr.s_addr ||
                                            (wildcard_ok && y.sin_addr.s_addr == INADDR_ANY));
    }
    sockaddr_in6 x{}, y{};
    std::memcpy(&x, &a, sizeof x);
    std::memcpy(&y, &b, sizeof y);
    return x.sin6_port == y.sin6_port &&
           (std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0 ||
            (wildcard_ok && IN6_IS_ADDR_UNSPECIFIED(&y.sin6_addr)));
}

inline std::string to_string(const sockaddr_storage& sa) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa.ss_family == AF_INET) {
        sockaddr_in s4{};
        std::memcpy(&s4, &sa, sizeof s4);
        inet_ntop(AF_INET, &s4.sin_addr, host, sizeof host);
        return std::string(host) + ":" + std::to_string(ntohs(s4.sin_port));
    }
    sockaddr_in6 s6{};
    std::memcpy(&s6, &sa, sizeof s6);
    inet_ntop(AF_INET6, &s6.sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(s6.sin6_port));
}

struct Config {
    sockaddr_storage bind{}, to{};
    std::string ufrag, pwd, remote_ufrag, remote_pwd, cert, key, fingerprint;
    bool client = true;
    std::string profiles;  // OpenSSL's form: colon separated
    uint64_t count = 0, interval_us = 0, expect = 0, timeout_ms = 0, consent_ms = 1000;
    uint64_t linger_ms = 0;
    uint64_t flood_pps = 0, flood_ms = 0;  // 0: no flood; 0 ms: the whole media phase
    uint64_t replay = 0, forge = 0;        // --replay, --forge: datagrams after the media
    std::optional<std::pair<uint64_t, uint64_t>> pause_consent_ms;
    bool expect_dtls_fail = false, second_handshake = false, answer_checks = false;
    bool dtls_stall = false;  // the first flight, then deaf and mute
};

inline Config parse_config(int argc, char** argv) {
    static const std::set<std::string> kRequired = {
        "--bind",        "--to",           "--ufrag",
        "--pwd",         "--remote-ufrag", "--remote-pwd",
        "--cert",        "--key",          "--remote-fingerprint",
        "--dtls",        "--profiles",     "--count",
        "--interval-us", "--expect",       "--timeout-ms"};
    static const std::set<std::string> kOptional = {
        "--consent-ms",    "--pause-consent-ms", "--linger-ms", "--dtls-flood-pps",
        "--dtls-flood-ms", "--replay",           "--forge"};
    static const std::set<std::string> kFlags = {"--expect-dtls-fail", "--second-handshake",
                                                 "--answer-checks", "--dtls-stall"};
    std::map<std::string, std::string> o;
    std::set<std::string> flags;
    for (int i = 1; i < argc; ++i) {
        const std::string name = argv[i];
        if (kFlags.count(name) != 0) {
            if (!flags.insert(name).second) throw UsageError(name + " given twice");
        } else if (kRequired.count(name) != 0 || kOptional.count(name) != 0) {
            if (i + 1 == argc) throw UsageError(name + " needs a value");
            if (!o.emplace(name, argv[++i]).second) throw UsageError(name + " given twice");
        } else {
            throw UsageError("unknown option '" + name + "'");
        }
    }
    for (const std::string& required : kRequired)
        if (o.count(required) == 0) throw UsageError(required + " missing");
    Config c;
    c.bind = parse_endpoint("--bind", o.at("--bind"));
    c.to = parse_endpoint("--to", o.at("--to"));
    if (c.bind.ss_family != c.to.ss_family) throw UsageError("--bind and --to: one family");
    c.ufrag = o.at("--ufrag");
    c.pwd = o.at("--pwd");
    c.remote_ufrag = o.at("--remote-ufrag");
    c.remote_pwd = o.at("--remote-pwd");
    c.cert = o.at("--cert");
    c.key = o.at("--key");
    const auto fp = normalize_fingerprint(o.at("--remote-fingerprint"));
    if (!fp) throw UsageError("--remote-fingerprint: not a SHA-256 fingerprint (AB:CD:...)");
    c.fingerprint = *fp;
    const std::string& role = o.at("--dtls");
    if (role != "client" && role != "server") throw UsageError("--dtls: client or server");
    c.client = role == "client";
    std::string_view list = o.at("--profiles");
    while (!list.empty()) {
        const std::size_t comma = std::min(list.find(','), list.size());
        const std::string_view name = list.substr(0, comma);
        if (find_profile(name) == nullptr) {
            throw UsageError("--profiles: unknown profile '" + std::string(name) + "'");
        }
        c.profiles += (c.profiles.empty() ? "" : ":") + std::string(name);
        list.remove_prefix(std::min(comma + 1, list.size()));
    }
    if (c.profiles.empty()) throw UsageError("--profiles: none given");
    c.count = parse_number("--count", o.at("--count"), 0, 65535);
    c.interval_us = parse_number("--interval-us", o.at("--interval-us"), 0, 10000000);
    c.expect = parse_number("--expect", o.at("--expect"), 0, 65535);
    c.timeout_ms = parse_number("--timeout-ms", o.at("--timeout-ms"), 1, 3600000);
    if (o.count("--consent-ms") != 0) {
        c.consent_ms = parse_number("--consent-ms", o.at("--consent-ms"), 1, 3600000);
    }
    if (o.count("--linger-ms") != 0) {
        c.linger_ms = parse_number("--linger-ms", o.at("--linger-ms"), 0, 3600000);
    }
    if (o.count("--dtls-flood-pps") != 0) {
        c.flood_pps = parse_number("--dtls-flood-pps", o.at("--dtls-flood-pps"), 1, 1000000);
    }
    if (o.count("--dtls-flood-ms") != 0) {
        if (c.flood_pps == 0) throw UsageError("--dtls-flood-ms needs --dtls-flood-pps");
        c.flood_ms = parse_number("--dtls-flood-ms", o.at("--dtls-flood-ms"), 1, 3600000);
    }
    if (o.count("--replay") != 0) c.replay = parse_number("--replay", o.at("--replay"), 1, 1000);
    if (o.count("--forge") != 0) c.forge = parse_number("--forge", o.at("--forge"), 1, 1000);
    if (c.count + c.forge > 65535)
        throw UsageError("--forge: N+F must fit 16-bit sequence numbers");
    if (o.count("--pause-consent-ms") != 0) {
        const std::string& v = o.at("--pause-consent-ms");
        const std::size_t colon = v.find(':');
        if (colon == std::string::npos) throw UsageError("--pause-consent-ms: A:B");
        const uint64_t a = parse_number("--pause-consent-ms", v.substr(0, colon), 0, 3600000);
        const uint64_t b = parse_number("--pause-consent-ms", v.substr(colon + 1), a, 3600000);
        c.pause_consent_ms.emplace(a, b);
    }
    c.expect_dtls_fail = flags.count("--expect-dtls-fail") != 0;
    c.second_handshake = flags.count("--second-handshake") != 0;
    c.answer_checks = flags.count("--answer-checks") != 0;
    c.dtls_stall = flags.count("--dtls-stall") != 0;
    return c;
}

}  // namespace browser_peer
