// media_peer: a test host's RTP endpoint for the namespace tests
// (tests/component/relay_ns_test.sh). Plain UDP sockets and libsrtp2, no
// DPDK: it stands for the browser (SRTP, SDES keys) or the IMS media node
// (plain RTP) on the far side of the gateway.
//
//   media_peer send ...   N RTP packets (PT 0, seq 1..N, timestamp += 160,
//                         a payload derived from seq), optionally SRTP-
//                         protected, optionally with an RTCP receiver report
//                         every K packets (SRTCP with --srtp)
//   media_peer recv ...   receives until N RTP packets passed the checks or
//                         the time is up; prints
//                         "received=R ok=O bad=B rtcp=C srtp_fail=F"
//   media_peer echo ...   an SDES UE that echoes: every SRTP/SRTCP packet
//                         unprotected with the far end's key, protected again
//                         with its own and sent back to its source; prints
//                         "received=R echoed=E rtcp=C srtp_fail=F errors=X"
//
// Exit status: 0 success (recv: ok == N, bad == 0, srtp_fail == 0); 1 the
// run failed (a check, a socket or libsrtp error); 2 usage error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <srtp2/srtp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "isthmus/dpif/sdes.hpp"

namespace {

constexpr const char* kUsage =
    "usage: media_peer send --bind EP --to EP --count N --interval-us U [--ssrc X]\n"
    "                       [--srtp KEY] [--payload-size S] [--rtcp-every K]\n"
    "                       [--rtcp-bind EP --rtcp-to EP]\n"
    "       media_peer recv --bind EP --expect N --timeout-ms T [--srtp KEY] [--from EP]\n"
    "                       [--payload-size S] [--rtcp-bind EP [--rtcp-from EP]]\n"
    "                       [--linger-ms L]\n"
    "       media_peer echo --bind EP --srtp-in KEY --srtp-out KEY --expect N --timeout-ms T\n"
    "                       [--rtcp-bind EP] [--linger-ms L]\n"
    "\n"
    "A test host's RTP endpoint (no DPDK). EP: ADDR:PORT, IPv6 as [ADDR]:PORT.\n"
    "KEY: \"SUITE inline:BASE64\" (RFC 4568 SDES; key||salt, no MKI).\n"
    "\n"
    "send: N RTP packets, PT 0, seq 1..N, timestamp 160*seq, SSRC X (default\n"
    "  0x11223344), S payload octets (default 160) derived from seq, one every U\n"
    "  microseconds; SRTP-protected with KEY. --rtcp-every K: after every K-th\n"
    "  RTP packet an RTCP receiver report (SRTCP with KEY), on the RTP socket\n"
    "  (rtcp-mux) or, with --rtcp-bind/--rtcp-to, from and to those addresses.\n"
    "  Prints \"sent=N rtcp_sent=M send_errors=E\"; exit 0 iff E == 0.\n"
    "\n"
    "recv: until N RTP packets passed the checks or T ms passed; then L more ms\n"
    "  (default 0) for stragglers (trailing RTCP, duplicates). SRTP-unprotects\n"
    "  with KEY. An RTP packet is ok when it is new (no seq twice), has PT 0, S\n"
    "  payload octets (default 160) matching the pattern of its seq and, with\n"
    "  --from, came from EP; otherwise bad. RTCP (second octet 200-204) is\n"
    "  counted apart (SRTCP-unprotected with KEY); --rtcp-bind takes RTCP on a\n"
    "  second socket, --rtcp-from checks its source. Prints\n"
    "  \"received=R ok=O bad=B rtcp=C srtp_fail=F\"; exit 0 iff O == N, B == 0, F == 0.\n"
    "\n"
    "echo: an IMS UE with SDES keys (RFC 4568) on both sides: every packet that\n"
    "  arrives at EP (and, with --rtcp-bind, RTCP at that second socket) is\n"
    "  SRTP-unprotected with --srtp-in (the key the far end sends with; RTP or\n"
    "  RTCP by its second octet), protected again with --srtp-out (ours) and\n"
    "  sent back to its source from the socket it came to; until N RTP packets\n"
    "  were echoed or T ms passed, then L more ms (default 0). Prints\n"
    "  \"received=R echoed=E rtcp=C srtp_fail=F errors=X\" (rtcp: SRTCP packets\n"
    "  echoed; errors: protect or send failures); exit 0 iff E >= N, F == 0, X == 0.\n"
    "\n"
    "Exit status: 0 success; 1 failure; 2 usage error.\n";

constexpr std::size_t kRtpHeader = 12;
constexpr uint8_t kPayloadType = 0;  // PCMU (RFC 3551 table 4)
constexpr uint32_t kTimestampStep = 160;
constexpr std::size_t kMaxDatagram = 2048;

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// --- arguments -----------------------------------------------------------------

// "--name value" pairs; every option takes a value and may appear once.
std::map<std::string, std::string> parse_options(int argc, char** argv, int first,
                                                 const std::set<std::string>& allowed) {
    std::map<std::string, std::string> out;
    for (int i = first; i < argc; ++i) {
        const std::string name = argv[i];
        if (allowed.count(name) == 0) throw UsageError("unknown option '" + name + "'");
        if (i + 1 == argc) throw UsageError(name + " needs a value");
        if (!out.emplace(name, argv[++i]).second) throw UsageError(name + " given twice");
    }
    return out;
}

// The value of option `k`, or `dflt` when it was not given.
std::string option_or(const std::map<std::string, std::string>& o, const char* k,
                      const char* dflt) {
    const auto it = o.find(k);
    return it == o.end() ? std::string(dflt) : it->second;
}

// A decimal number (or 0x-prefixed hexadecimal when `hex_ok`) in [lo, hi].
uint64_t parse_number(const std::string& option, std::string_view text, uint64_t lo, uint64_t hi,
                      bool hex_ok = false) {
    int base = 10;
    if (hex_ok && text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
        throw UsageError(option + ": '" + std::string(text) + "' is not a number");
    }
    if (v < lo || v > hi) {
        throw UsageError(option + ": " + std::to_string(v) + " is outside " + std::to_string(lo) +
                         ".." + std::to_string(hi));
    }
    return v;
}

struct Endpoint {
    sockaddr_storage sa{};
    socklen_t len = 0;
};

// "A.B.C.D:PORT" or "[v6]:PORT".
Endpoint parse_endpoint(const std::string& option, const std::string& text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        throw UsageError(option + ": '" + text + "' is not ADDR:PORT");
    }
    std::string addr = text.substr(0, colon);
    const auto port = static_cast<uint16_t>(
        parse_number(option + " port", std::string_view(text).substr(colon + 1), 1, 65535));
    Endpoint e;
    if (addr.size() > 2 && addr.front() == '[' && addr.back() == ']') {
        addr = addr.substr(1, addr.size() - 2);
        sockaddr_in6 s6{};
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons(port);
        if (inet_pton(AF_INET6, addr.c_str(), &s6.sin6_addr) != 1) {
            throw UsageError(option + ": '" + addr + "' is not an IPv6 address");
        }
        std::memcpy(&e.sa, &s6, sizeof s6);
        e.len = sizeof s6;
    } else {
        sockaddr_in s4{};
        s4.sin_family = AF_INET;
        s4.sin_port = htons(port);
        if (inet_pton(AF_INET, addr.c_str(), &s4.sin_addr) != 1) {
            throw UsageError(option + ": '" + addr + "' is not an IPv4 address");
        }
        std::memcpy(&e.sa, &s4, sizeof s4);
        e.len = sizeof s4;
    }
    return e;
}

bool same_endpoint(const sockaddr_storage& a, const Endpoint& b) {
    if (a.ss_family != b.sa.ss_family) return false;
    if (a.ss_family == AF_INET) {
        sockaddr_in x{}, y{};
        std::memcpy(&x, &a, sizeof x);
        std::memcpy(&y, &b.sa, sizeof y);
        return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
    }
    sockaddr_in6 x{}, y{};
    std::memcpy(&x, &a, sizeof x);
    std::memcpy(&y, &b.sa, sizeof y);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
}

// --- sockets -------------------------------------------------------------------

class Socket {
  public:
    explicit Socket(const Endpoint& bind_to) {
        fd_ = ::socket(bind_to.sa.ss_family, SOCK_DGRAM, 0);
        if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        const int buf = 1 << 20;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&bind_to.sa), bind_to.len) != 0) {
            const std::string why = std::strerror(errno);
            ::close(fd_);
            throw std::runtime_error("bind: " + why);
        }
    }
    ~Socket() { ::close(fd_); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return fd_; }

  private:
    int fd_ = -1;
};

// --- libsrtp2 ------------------------------------------------------------------

// One libsrtp2 session for one direction's SDES key (RTP and RTCP).
class SrtpSession {
  public:
    SrtpSession(const std::string& sdes, bool inbound, const std::string& option = "--srtp") {
        isthmus::dpif::SrtpKeys keys{};
        std::string error;
        if (!isthmus::dpif::parse_sdes_inline(sdes, keys, error)) {
            throw UsageError(option + ": " + error);
        }
        static const srtp_err_status_t init = srtp_init();
        if (init != srtp_err_status_ok) {
            throw std::runtime_error("srtp_init failed (" + std::to_string(init) + ")");
        }
        key_.assign(keys.master_key, keys.master_key + keys.key_len);
        key_.insert(key_.end(), keys.master_salt, keys.master_salt + keys.salt_len);
        srtp_policy_t p{};
        set_policy(static_cast<isthmus::dpif::SdesSuite>(keys.suite), p);
        p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
        p.key = key_.data();
        p.window_size = 128;
        if (const srtp_err_status_t st = srtp_create(&session_, &p); st != srtp_err_status_ok) {
            throw std::runtime_error("srtp_create failed (" + std::to_string(st) +
                                     "): is libsrtp2 built with this suite?");
        }
    }
    ~SrtpSession() { srtp_dealloc(session_); }
    SrtpSession(const SrtpSession&) = delete;
    SrtpSession& operator=(const SrtpSession&) = delete;

    // In place; `len` in and out; the buffer has SRTP_MAX_TRAILER_LEN spare.
    bool protect(uint8_t* b, std::size_t& len, bool rtcp) {
        int n = static_cast<int>(len);
        const srtp_err_status_t st =
            rtcp ? srtp_protect_rtcp(session_, b, &n) : srtp_protect(session_, b, &n);
        len = static_cast<std::size_t>(n);
        return st == srtp_err_status_ok;
    }
    bool unprotect(uint8_t* b, std::size_t& len, bool rtcp) {
        int n = static_cast<int>(len);
        const srtp_err_status_t st =
            rtcp ? srtp_unprotect_rtcp(session_, b, &n) : srtp_unprotect(session_, b, &n);
        if (st == srtp_err_status_ok) len = static_cast<std::size_t>(n);
        return st == srtp_err_status_ok;
    }

  private:
    // SRTCP keeps the 80-bit tag with the _32 suites (RFC 4568 6.2.2, RFC 6188 4.1).
    static void set_policy(isthmus::dpif::SdesSuite suite, srtp_policy_t& p) {
        using isthmus::dpif::SdesSuite;
        switch (suite) {
            case SdesSuite::AesCm128HmacSha1_80:
                srtp_crypto_policy_set_rtp_default(&p.rtp);
                srtp_crypto_policy_set_rtcp_default(&p.rtcp);
                return;
            case SdesSuite::AesCm128HmacSha1_32:
                srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
                srtp_crypto_policy_set_rtcp_default(&p.rtcp);
                return;
            case SdesSuite::AesCm256HmacSha1_80:
                srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtp);
                srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtcp);
                return;
            case SdesSuite::AesCm256HmacSha1_32:
                srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p.rtp);
                srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtcp);
                return;
            case SdesSuite::AeadAes128Gcm:
                srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
                srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
                return;
            case SdesSuite::AeadAes256Gcm:
                srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtp);
                srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtcp);
                return;
        }
        throw UsageError("--srtp: unsupported suite");
    }

    srtp_t session_ = nullptr;
    std::vector<uint8_t> key_;  // key||salt; libsrtp reads it at srtp_create only
};

// --- packets -------------------------------------------------------------------

void put16(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v);
}
uint16_t get16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// Octet k of the payload of the packet with sequence number `seq`.
uint8_t pattern(uint16_t seq, std::size_t k) {
    return static_cast<uint8_t>((seq * 151U) ^ (static_cast<unsigned>(k) * 7U + 0x5aU));
}

// RFC 3550 5.1: V=2, no padding/extension/CSRC, M=0.
std::size_t build_rtp(uint8_t* b, uint16_t seq, uint32_t ssrc, std::size_t payload) {
    b[0] = 0x80;
    b[1] = kPayloadType;
    put16(b + 2, seq);
    put32(b + 4, uint32_t{seq} * kTimestampStep);
    put32(b + 8, ssrc);
    for (std::size_t k = 0; k < payload; ++k)
        b[kRtpHeader + k] = pattern(seq, k);
    return kRtpHeader + payload;
}

// RFC 3550 6.4.2: a receiver report with one report block (about `ssrc`
// itself: enough for a relay, which does not read it).
std::size_t build_rtcp_rr(uint8_t* b, uint32_t ssrc, uint16_t highest_seq) {
    std::memset(b, 0, 32);
    b[0] = 0x81;      // V=2, RC=1
    b[1] = 201;       // RR
    put16(b + 2, 7);  // length in 32-bit words minus one
    put32(b + 4, ssrc);
    put32(b + 8, ssrc ^ 0xffffffffU);  // SSRC of the source reported on
    put32(b + 16, highest_seq);        // extended highest sequence number
    return 32;
}

bool is_rtcp(const uint8_t* b, std::size_t len) {
    return len >= 2 && b[1] >= 200 && b[1] <= 204;  // RFC 5761 4
}

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

void sleep_until(uint64_t ns) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1000000000ULL);
    ts.tv_nsec = static_cast<long>(ns % 1000000000ULL);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

// --- send ----------------------------------------------------------------------

int send_main(const std::map<std::string, std::string>& o) {
    for (const char* required : {"--bind", "--to", "--count", "--interval-us"}) {
        if (o.count(required) == 0) throw UsageError(std::string("send: ") + required + " missing");
    }
    if (o.count("--rtcp-bind") != o.count("--rtcp-to")) {
        throw UsageError("send: --rtcp-bind and --rtcp-to go together");
    }
    const auto get = [&](const char* k, const char* dflt) { return option_or(o, k, dflt); };
    const Endpoint bind_to = parse_endpoint("--bind", o.at("--bind"));
    const Endpoint to = parse_endpoint("--to", o.at("--to"));
    const uint64_t count = parse_number("--count", o.at("--count"), 0, 65535);
    const uint64_t interval_us = parse_number("--interval-us", o.at("--interval-us"), 0, 10000000);
    const auto ssrc = static_cast<uint32_t>(
        parse_number("--ssrc", get("--ssrc", "0x11223344"), 0, 0xffffffffU, true));
    const std::size_t payload = parse_number("--payload-size", get("--payload-size", "160"), 0,
                                             kMaxDatagram - kRtpHeader - SRTP_MAX_TRAILER_LEN);
    const uint64_t rtcp_every = parse_number("--rtcp-every", get("--rtcp-every", "0"), 0, 65535);
    std::optional<Endpoint> rtcp_bind, rtcp_to;
    if (o.count("--rtcp-bind") != 0) {
        rtcp_bind = parse_endpoint("--rtcp-bind", o.at("--rtcp-bind"));
        rtcp_to = parse_endpoint("--rtcp-to", o.at("--rtcp-to"));
    }
    std::unique_ptr<SrtpSession> srtp;
    if (o.count("--srtp") != 0) srtp = std::make_unique<SrtpSession>(o.at("--srtp"), false);

    const Socket rtp_sock(bind_to);
    std::unique_ptr<Socket> rtcp_sock;
    if (rtcp_bind) rtcp_sock = std::make_unique<Socket>(*rtcp_bind);

    uint64_t sent = 0, rtcp_sent = 0, errors = 0;
    const auto transmit = [&](int fd, uint8_t* b, std::size_t len, bool rtcp, const Endpoint& dst,
                              uint64_t& counter) {
        if (srtp && !srtp->protect(b, len, rtcp)) {
            ++errors;
            return;
        }
        if (::sendto(fd, b, len, 0, reinterpret_cast<const sockaddr*>(&dst.sa), dst.len) ==
            static_cast<ssize_t>(len)) {
            ++counter;
        } else {
            ++errors;
        }
    };
    std::array<uint8_t, kMaxDatagram> buf{};
    const uint64_t start = now_ns();
    for (uint64_t i = 1; i <= count; ++i) {
        if (interval_us != 0) sleep_until(start + (i - 1) * interval_us * 1000);
        const auto seq = static_cast<uint16_t>(i);
        transmit(rtp_sock.fd(), buf.data(), build_rtp(buf.data(), seq, ssrc, payload), false, to,
                 sent);
        if (rtcp_every != 0 && i % rtcp_every == 0) {
            const std::size_t len = build_rtcp_rr(buf.data(), ssrc, seq);
            if (rtcp_sock) {
                transmit(rtcp_sock->fd(), buf.data(), len, true, *rtcp_to, rtcp_sent);
            } else {
                transmit(rtp_sock.fd(), buf.data(), len, true, to, rtcp_sent);
            }
        }
    }
    std::printf("sent=%llu rtcp_sent=%llu send_errors=%llu\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(rtcp_sent),
                static_cast<unsigned long long>(errors));
    return errors == 0 ? 0 : 1;
}

// --- receiving ---------------------------------------------------------------

// Hands each datagram's socket to `take(fd, on_rtcp_socket)` (`rtcp` may be
// null) until `done()` holds, then for `linger_ms` more, or until
// `timeout_ms` passed. False (said on stderr) when poll fails.
template <class Done, class Take>
bool serve(const Socket& rtp, const Socket* rtcp, uint64_t timeout_ms, uint64_t linger_ms,
           Done&& done, Take&& take) {
    const uint64_t deadline = now_ns() + timeout_ms * 1000000ULL;
    uint64_t end = deadline;
    bool lingering = false;
    for (;;) {
        if (!lingering && done()) {
            lingering = true;
            end = std::min(deadline, now_ns()) + linger_ms * 1000000ULL;
        }
        const uint64_t now = now_ns();
        if (now >= end) return true;
        pollfd fds[2] = {{rtp.fd(), POLLIN, 0}, {rtcp != nullptr ? rtcp->fd() : -1, POLLIN, 0}};
        const auto wait_ms = static_cast<int>((end - now + 999999) / 1000000);
        if (::poll(fds, rtcp != nullptr ? 2 : 1, wait_ms) < 0 && errno != EINTR) {
            std::fprintf(stderr, "media_peer: poll: %s\n", std::strerror(errno));
            return false;
        }
        if ((fds[0].revents & POLLIN) != 0) take(rtp.fd(), false);
        if (rtcp != nullptr && (fds[1].revents & POLLIN) != 0) take(rtcp->fd(), true);
    }
}

// --- recv ----------------------------------------------------------------------

struct RecvCounts {
    uint64_t received = 0;  // RTP datagrams (whatever became of them)
    uint64_t ok = 0;
    uint64_t bad = 0;
    uint64_t rtcp = 0;
    uint64_t srtp_fail = 0;
};

int recv_main(const std::map<std::string, std::string>& o) {
    for (const char* required : {"--bind", "--expect", "--timeout-ms"}) {
        if (o.count(required) == 0) throw UsageError(std::string("recv: ") + required + " missing");
    }
    if (o.count("--rtcp-from") != 0 && o.count("--rtcp-bind") == 0) {
        throw UsageError("recv: --rtcp-from needs --rtcp-bind");
    }
    const auto get = [&](const char* k, const char* dflt) { return option_or(o, k, dflt); };
    const Endpoint bind_to = parse_endpoint("--bind", o.at("--bind"));
    const uint64_t expect = parse_number("--expect", o.at("--expect"), 0, 65535);
    const uint64_t timeout_ms = parse_number("--timeout-ms", o.at("--timeout-ms"), 0, 3600000);
    const uint64_t linger_ms = parse_number("--linger-ms", get("--linger-ms", "0"), 0, 3600000);
    const std::size_t payload =
        parse_number("--payload-size", get("--payload-size", "160"), 0, kMaxDatagram - kRtpHeader);
    std::optional<Endpoint> from, rtcp_bind, rtcp_from;
    if (o.count("--from") != 0) from = parse_endpoint("--from", o.at("--from"));
    if (o.count("--rtcp-bind") != 0) rtcp_bind = parse_endpoint("--rtcp-bind", o.at("--rtcp-bind"));
    if (o.count("--rtcp-from") != 0) rtcp_from = parse_endpoint("--rtcp-from", o.at("--rtcp-from"));
    std::unique_ptr<SrtpSession> srtp;
    if (o.count("--srtp") != 0) srtp = std::make_unique<SrtpSession>(o.at("--srtp"), true);

    const Socket rtp_sock(bind_to);
    std::unique_ptr<Socket> rtcp_sock;
    if (rtcp_bind) rtcp_sock = std::make_unique<Socket>(*rtcp_bind);

    RecvCounts c;
    std::vector<bool> seen(65536, false);
    // One datagram from socket `fd`; `want_from`: the source it must have.
    const auto take = [&](int fd, const std::optional<Endpoint>& want_from) {
        std::array<uint8_t, kMaxDatagram> b{};
        sockaddr_storage src{};
        socklen_t src_len = sizeof src;
        const ssize_t got =
            ::recvfrom(fd, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&src), &src_len);
        if (got < 0) return;
        auto len = static_cast<std::size_t>(got);
        const bool rtcp = is_rtcp(b.data(), len);
        if (!rtcp) ++c.received;
        if (want_from && !same_endpoint(src, *want_from)) {
            ++c.bad;  // not unprotected: a stranger must not move the replay window
            return;
        }
        if (srtp && !srtp->unprotect(b.data(), len, rtcp)) {
            ++c.srtp_fail;
            return;
        }
        if (rtcp) {
            ++c.rtcp;
            return;
        }
        // RFC 3550 5.1: version 2; our sender uses no CSRC, extension or padding.
        if (len < kRtpHeader || (b[0] & 0xc0) != 0x80 || (b[1] & 0x7f) != kPayloadType ||
            (b[0] & 0x3f) != 0 || len - kRtpHeader != payload) {
            ++c.bad;
            return;
        }
        const uint16_t seq = get16(b.data() + 2);
        bool match = !seen[seq];
        for (std::size_t k = 0; match && k < payload; ++k)
            match = b[kRtpHeader + k] == pattern(seq, k);
        seen[seq] = true;
        if (match) {
            ++c.ok;
        } else {
            ++c.bad;
        }
    };

    if (!serve(
            rtp_sock, rtcp_sock.get(), timeout_ms, linger_ms, [&] { return c.ok >= expect; },
            [&](int fd, bool on_rtcp_socket) { take(fd, on_rtcp_socket ? rtcp_from : from); })) {
        return 1;
    }
    std::printf("received=%llu ok=%llu bad=%llu rtcp=%llu srtp_fail=%llu\n",
                static_cast<unsigned long long>(c.received), static_cast<unsigned long long>(c.ok),
                static_cast<unsigned long long>(c.bad), static_cast<unsigned long long>(c.rtcp),
                static_cast<unsigned long long>(c.srtp_fail));
    return c.ok == expect && c.bad == 0 && c.srtp_fail == 0 ? 0 : 1;
}

// --- echo ----------------------------------------------------------------------

int echo_main(const std::map<std::string, std::string>& o) {
    for (const char* required : {"--bind", "--srtp-in", "--srtp-out", "--expect", "--timeout-ms"}) {
        if (o.count(required) == 0) throw UsageError(std::string("echo: ") + required + " missing");
    }
    const auto get = [&](const char* k, const char* dflt) { return option_or(o, k, dflt); };
    const Endpoint bind_to = parse_endpoint("--bind", o.at("--bind"));
    const uint64_t expect = parse_number("--expect", o.at("--expect"), 0, 65535);
    const uint64_t timeout_ms = parse_number("--timeout-ms", o.at("--timeout-ms"), 0, 3600000);
    const uint64_t linger_ms = parse_number("--linger-ms", get("--linger-ms", "0"), 0, 3600000);
    std::optional<Endpoint> rtcp_bind;
    if (o.count("--rtcp-bind") != 0) rtcp_bind = parse_endpoint("--rtcp-bind", o.at("--rtcp-bind"));
    SrtpSession in(o.at("--srtp-in"), true, "--srtp-in");
    SrtpSession out(o.at("--srtp-out"), false, "--srtp-out");

    const Socket rtp_sock(bind_to);
    std::unique_ptr<Socket> rtcp_sock;
    if (rtcp_bind) rtcp_sock = std::make_unique<Socket>(*rtcp_bind);

    uint64_t received = 0, echoed = 0, rtcp = 0, srtp_fail = 0, errors = 0;
    const auto take = [&](int fd) {
        // Room for the trailer our protect adds where the far end's was shorter.
        std::array<uint8_t, kMaxDatagram + SRTP_MAX_TRAILER_LEN> b{};
        sockaddr_storage src{};
        socklen_t src_len = sizeof src;
        const ssize_t got =
            ::recvfrom(fd, b.data(), kMaxDatagram, 0, reinterpret_cast<sockaddr*>(&src), &src_len);
        if (got < 0) return;
        auto len = static_cast<std::size_t>(got);
        const bool is_control = is_rtcp(b.data(), len);
        if (!is_control) ++received;
        if (!in.unprotect(b.data(), len, is_control)) {
            ++srtp_fail;
            return;
        }
        if (!out.protect(b.data(), len, is_control) ||
            ::sendto(fd, b.data(), len, 0, reinterpret_cast<const sockaddr*>(&src), src_len) !=
                static_cast<ssize_t>(len)) {
            ++errors;
            return;
        }
        ++(is_control ? rtcp : echoed);
    };

    if (!serve(
            rtp_sock, rtcp_sock.get(), timeout_ms, linger_ms, [&] { return echoed >= expect; },
            [&](int fd, bool) { take(fd); })) {
        return 1;
    }
    std::printf("received=%llu echoed=%llu rtcp=%llu srtp_fail=%llu errors=%llu\n",
                static_cast<unsigned long long>(received), static_cast<unsigned long long>(echoed),
                static_cast<unsigned long long>(rtcp), static_cast<unsigned long long>(srtp_fail),
                static_cast<unsigned long long>(errors));
    return echoed >= expect && srtp_fail == 0 && errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
    }
    const std::string verb = argc > 1 ? argv[1] : "";
    try {
        if (verb == "send") {
            return send_main(
                parse_options(argc, argv, 2,
                              {"--bind", "--to", "--count", "--interval-us", "--ssrc", "--srtp",
                               "--payload-size", "--rtcp-every", "--rtcp-bind", "--rtcp-to"}));
        }
        if (verb == "recv") {
            return recv_main(
                parse_options(argc, argv, 2,
                              {"--bind", "--expect", "--timeout-ms", "--srtp", "--from",
                               "--payload-size", "--rtcp-bind", "--rtcp-from", "--linger-ms"}));
        }
        if (verb == "echo") {
            return echo_main(parse_options(argc, argv, 2,
                                           {"--bind", "--srtp-in", "--srtp-out", "--expect",
                                            "--timeout-ms", "--rtcp-bind", "--linger-ms"}));
        }
        throw UsageError(verb.empty() ? "give send, recv or echo"
                                      : "unknown command '" + verb + "'");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "media_peer: %s\n\n%s", e.what(), kUsage);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "media_peer: %s\n", e.what());
        return 1;
    }
}
