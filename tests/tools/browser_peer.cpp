// browser_peer: a test host that behaves like a browser's media stack, for
// the namespace tests against the gateway (ICE-lite, DTLS-SRTP). One UDP
// socket carries STUN, DTLS and SRTP/SRTCP (rtcp-mux), told apart by their
// first octet (RFC 7983). In one run it does what a browser does after
// offer/answer:
//
//   1. ICE as the controlling full agent (RFC 8445): binding requests with
//      USE-CANDIDATE every 50 ms until a verified success response.
//   2. DTLS 1.2 (OpenSSL) in the given role; the peer's certificate must
//      match the signalled fingerprint; SRTP keys exported (RFC 5764 4.2).
//   3. N SRTP packets out (an SRTCP receiver report after every 5th), SRTP
//      in, checked and counted, consent checks (RFC 7675) all along.
//
// Its STUN (browser_peer_stun.hpp), DTLS-SRTP (browser_peer_dtls.hpp) and
// ClientHello flood (--dtls-flood-pps, browser_peer_flood.hpp) are its own,
// independent of dataplane/; the command line is parsed in
// browser_peer_args.hpp. No DPDK. Not installed. Self-test:
// tests/component/browser_peer_selftest.sh.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "browser_peer_args.hpp"
#include "browser_peer_dtls.hpp"
#include "browser_peer_flood.hpp"
#include "browser_peer_stun.hpp"

namespace {

using namespace browser_peer;

constexpr const char* kUsage =
    "usage: browser_peer --bind EP --to EP --ufrag U --pwd P --remote-ufrag RU --remote-pwd RP\n"
    "                    --cert FILE --key FILE --remote-fingerprint FP --dtls client|server\n"
    "                    --profiles LIST --count N --interval-us I --expect M --timeout-ms T\n"
    "                    [--consent-ms C] [--pause-consent-ms A:B] [--expect-dtls-fail]\n"
    "                    [--second-handshake] [--answer-checks] [--linger-ms L] [--dtls-stall]\n"
    "                    [--dtls-flood-pps R [--dtls-flood-ms D]] [--replay K] [--forge F]\n"
    "\n"
    "A browser's media stack on one UDP socket (no DPDK). EP: ADDR:PORT, IPv6 [ADDR]:PORT.\n"
    "\n"
    "ICE: binding requests to --to every 50 ms (USERNAME RU:U, PRIORITY, ICE-CONTROLLING,\n"
    "  USE-CANDIDATE, MESSAGE-INTEGRITY keyed with RP, FINGERPRINT) until a success\n"
    "  response whose MESSAGE-INTEGRITY (RP), FINGERPRINT and XOR-MAPPED-ADDRESS (our\n"
    "  --bind) check out; prints \"ice=ok\", or \"ice=fail\" (\"error=CODE\" for an error\n"
    "  response) after T ms.\n"
    "DTLS 1.2 as client (a=setup:active) or server, certificate --cert/--key (PEM), use_srtp\n"
    "  with LIST (comma separated: SRTP_AES128_CM_SHA1_80, SRTP_AES128_CM_SHA1_32,\n"
    "  SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM). The peer's certificate must have\n"
    "  SHA-256 fingerprint FP (\"AB:CD:...\", any case), else the handshake is aborted with a\n"
    "  bad_certificate alert. Prints \"dtls=ok profile=NAME\", or dtls=fail, dtls=timeout\n"
    "  (not done T ms after ICE), dtls=fingerprint_mismatch.\n"
    "Media: N SRTP packets, one every I us (PT 0, seq 1..N, timestamp 160*seq, SSRC\n"
    "  0x11223344, 160 payload octets derived from seq as media_peer's), an SRTCP receiver\n"
    "  report after every 5th. SRTP in from --to: ok when new, PT 0, 160 octets in the\n"
    "  pattern of its seq; else bad (srtp_fail when it does not unprotect). Ends when all N\n"
    "  are sent and M are ok or T ms passed since DTLS came up; then L ms (default 0) more.\n"
    "Consent: a binding request without USE-CANDIDATE every C ms (default 1000) from ICE on,\n"
    "  none between A and B ms after DTLS came up; verified answers count as consent_ok.\n"
    "--expect-dtls-fail: success is a DTLS handshake that does not complete (no media).\n"
    "--dtls-stall: a peer that stalls mid-handshake: its first flight (a client's\n"
    "  ClientHello) goes out, then no DTLS datagram is read and nothing retransmitted;\n"
    "  ICE consent goes on. With --expect-dtls-fail, ends after T ms.\n"
    "--second-handshake: after media, a new DTLS client handshake (new SSL object) on the\n"
    "  same 5-tuple for up to min(T, 3000) ms: \"completed\", or \"refused\" (alert or silence).\n"
    "--answer-checks: also answer binding requests with USERNAME U:RU keyed with P.\n"
    "--dtls-flood-pps R: while media runs (from DTLS up until media ends; with\n"
    "  --dtls-flood-ms D, for its first D ms at most), R datagrams a second to --to from\n"
    "  the same socket, evenly paced between the media packets (at most 32 at once; a\n"
    "  backlog beyond that is skipped): a ClientHello from a fresh DTLS client (captured\n"
    "  once) with a new random record sequence number and random in each. Adds\n"
    "  \" flood_sent=S\" (datagrams sent) to the last line.\n"
    "--replay K: right after the last media packet, the first K datagrams of the media\n"
    "  (SRTP and SRTCP as they went: an SRTCP after every 5th SRTP) sent again, byte for\n"
    "  byte. --forge F: then F SRTP packets (seq N+1..N+F) whose last tag octet is\n"
    "  flipped. Adds \" replayed=K forged=F\" to the last line. Neither may reach the far\n"
    "  side: the gateway counts them (srtp_replay, srtp_auth_fail).\n"
    "\n"
    "Last line: \"ice=ok|fail dtls=... profile=P|none sent=N received=R ok=O bad=B\n"
    "  srtp_fail=F consent_ok=K second_handshake=refused|completed|not_tried rtcp=C\"\n"
    "  (rtcp: SRTCP packets received), then \" flood_sent=S\" with --dtls-flood-pps.\n"
    "Exit status: 0 when ICE is ok, DTLS is ok (with --expect-dtls-fail: is not), O == M,\n"
    "  B == 0, F == 0 and a second handshake did not complete; 1 otherwise; 2 usage error.\n";

constexpr std::size_t kRtpHeader = 12;
constexpr std::size_t kPayload = 160;
constexpr uint8_t kPayloadType = 0;  // PCMU (RFC 3551 table 4)
constexpr uint32_t kTimestampStep = 160;
constexpr uint32_t kSsrc = 0x11223344;
constexpr uint64_t kRtcpEvery = 5;
constexpr std::size_t kMaxDatagram = 2048;
constexpr uint64_t kMs = 1000000;  // ns
constexpr uint64_t kCheckPacingNs = 50 * kMs;
constexpr uint64_t kSecondHandshakeMaxMs = 3000;
// RFC 8445 5.1.2.1: a peer-reflexive candidate (type preference 110), local
// preference 65535, component 1.
constexpr uint32_t kPrflxPriority = 110U << 24 | 65535U << 8 | (256U - 1U);

// --- RTP -----------------------------------------------------------------------

// Octet k of the payload of the packet with sequence number `seq` (media_peer's).
uint8_t pattern(uint16_t seq, std::size_t k) {
    return static_cast<uint8_t>((seq * 151U) ^ (static_cast<unsigned>(k) * 7U + 0x5aU));
}

// RFC 3550 5.1: V=2, no padding/extension/CSRC, M=0.
std::size_t build_rtp(uint8_t* b, uint16_t seq) {
    b[0] = 0x80;
    b[1] = kPayloadType;
    stun::put16(b + 2, seq);
    stun::put32(b + 4, uint32_t{seq} * kTimestampStep);
    stun::put32(b + 8, kSsrc);
    for (std::size_t k = 0; k < kPayload; ++k)
        b[kRtpHeader + k] = pattern(seq, k);
    return kRtpHeader + kPayload;
}

// RFC 3550 6.4.2: a receiver report with one report block (media_peer's).
std::size_t build_rtcp_rr(uint8_t* b, uint16_t highest_seq) {
    std::memset(b, 0, 32);
    b[0] = 0x81;            // V=2, RC=1
    b[1] = 201;             // RR
    stun::put16(b + 2, 7);  // length in 32-bit words minus one
    stun::put32(b + 4, kSsrc);
    stun::put32(b + 8, kSsrc ^ 0xffffffffU);
    stun::put32(b + 16, highest_seq);
    return 32;
}

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// --- the peer ------------------------------------------------------------------

// Everything on one thread: a loop of timers and one socket.
class BrowserPeer {
  public:
    explicit BrowserPeer(const Config& c) : c_(c) {
        fd_ = ::socket(c_.bind.ss_family, SOCK_DGRAM, 0);
        if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        const int buf = 1 << 20;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&c_.bind), sockaddr_len(c_.bind)) != 0) {
            const std::string why = std::strerror(errno);
            ::close(fd_);
            throw std::runtime_error("bind " + to_string(c_.bind) + ": " + why);
        }
        socklen_t len = sizeof local_;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local_), &len);
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
        ctx_ = make_dtls_context(c_.cert, c_.key, c_.profiles, &DtlsAssociation::verify);
        if (c_.flood_pps != 0) {
            flood_ = std::make_unique<DtlsFlood>(ctx_.get(), c_.flood_pps, c_.flood_ms * kMs);
        }
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&tiebreaker_), sizeof tiebreaker_) != 1) {
            throw std::runtime_error("RAND_bytes: " + ssl_errors());
        }
    }
    ~BrowserPeer() {
        second_.reset();
        dtls_.reset();
        ::close(fd_);
    }
    BrowserPeer(const BrowserPeer&) = delete;
    BrowserPeer& operator=(const BrowserPeer&) = delete;

    int run();

  private:
    enum class Phase { Ice, Dtls, Media, Linger, SecondHandshake, Done };
    enum class Check { Ice, Consent };

    void advance(uint64_t now);
    uint64_t next_wakeup(uint64_t now);
    void on_datagram(uint8_t* b, std::size_t n, const sockaddr_storage& src);
    void on_stun(const uint8_t* b, std::size_t n, const sockaddr_storage& src);
    void on_srtp(uint8_t* b, std::size_t n, const sockaddr_storage& src);
    void answer_check(const stun::Message& m, const uint8_t* b, const sockaddr_storage& src);
    void send_check(Check kind);
    void send_media();
    void send_flood(uint64_t now);
    void send_replays_and_forgeries();
    void dtls_up(uint64_t now);
    void send(const uint8_t* b, std::size_t n, const sockaddr_storage& dst);
    void keep_copy(const uint8_t* b, std::size_t n) {
        if (sent_copies_.size() < c_.replay) sent_copies_.emplace_back(b, b + n);
    }
    void note(const std::string& what) { std::fprintf(stderr, "browser_peer: %s\n", what.c_str()); }
    bool consent_paused(uint64_t now) const {
        if (!c_.pause_consent_ms || dtls_up_ns_ == 0) return false;
        const uint64_t since_ms = (now - dtls_up_ns_) / kMs;
        return since_ms >= c_.pause_consent_ms->first && since_ms < c_.pause_consent_ms->second;
    }

    const Config& c_;
    int fd_ = -1;
    sockaddr_storage local_{};
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
    uint64_t tiebreaker_ = 0;
    Phase phase_ = Phase::Ice;
    std::map<stun::TransactionId, Check> pending_;  // our outstanding binding requests
    uint64_t ice_deadline_ = 0, next_check_ = 0, next_consent_ = 0;
    std::string ice_ = "fail";  // result words for the last line
    std::string dtls_result_ = "not_tried", profile_ = "none", second_result_ = "not_tried";
    bool ice_ok_ = false;
    int ice_error_ = 0;  // ERROR-CODE of an error response to a check
    std::unique_ptr<DtlsAssociation> dtls_, second_;
    std::vector<std::vector<uint8_t>> early_dtls_;  // DTLS before our ICE was done
    uint64_t dtls_deadline_ = 0, dtls_up_ns_ = 0, media_deadline_ = 0, linger_end_ = 0;
    uint64_t second_deadline_ = 0;
    std::unique_ptr<SrtpSession> srtp_out_, srtp_in_;
    std::vector<bool> seen_ = std::vector<bool>(65536, false);
    uint64_t next_seq_ = 1, sent_ = 0, received_ = 0, ok_ = 0, bad_ = 0, srtp_fail_ = 0;
    uint64_t rtcp_ = 0, consent_ok_ = 0, early_srtp_ = 0, send_errors_ = 0, rejected_ = 0;
    std::unique_ptr<DtlsFlood> flood_;  // with --dtls-flood-pps
    uint64_t flood_sent_ = 0, flood_errors_ = 0;
    std::vector<std::vector<uint8_t>> sent_copies_;  // with --replay: the first K datagrams
    uint64_t replayed_ = 0, forged_ = 0;
    bool replays_done_ = false;
};

void BrowserPeer::send(const uint8_t* b, std::size_t n, const sockaddr_storage& dst) {
    if (::sendto(fd_, b, n, 0, reinterpret_cast<const sockaddr*>(&dst), sockaddr_len(dst)) !=
        static_cast<ssize_t>(n)) {
        if (++send_errors_ <= 5) note("sendto " + to_string(dst) + ": " + std::strerror(errno));
    }
}

// RFC 8445 7.2.2 (USERNAME "RU:U", PRIORITY, ICE-CONTROLLING, USE-CANDIDATE:
// we nominate at once, as browsers do with an ICE-lite peer); RFC 7675 5.1
// (consent: the same without USE-CANDIDATE).
void BrowserPeer::send_check(Check kind) {
    stun::TransactionId id{};
    RAND_bytes(id.data(), static_cast<int>(id.size()));
    stun::Writer w(stun::kBindingRequest, id);
    w.add_string(stun::kUsername, c_.remote_ufrag + ":" + c_.ufrag);
    w.add_u32(stun::kPriority, kPrflxPriority);
    w.add_u64(stun::kIceControlling, tiebreaker_);
    if (kind == Check::Ice) w.add(stun::kUseCandidate, nullptr, 0);
    w.add_integrity(c_.remote_pwd);
    w.add_fingerprint();
    pending_[id] = kind;
    send(w.bytes().data(), w.bytes().size(), c_.to);
}

// RFC 8445 7.3: a full agent's answer (success, XOR-MAPPED-ADDRESS, MI keyed
// with our password, FINGERPRINT). Requests that do not verify are ignored.
void BrowserPeer::answer_check(const stun::Message& m, const uint8_t* b,
                               const sockaddr_storage& src) {
    const std::string want = c_.ufrag + ":" + c_.remote_ufrag;
    std::string why;
    if (!m.username || *m.username != want) {
        why = "USERNAME '" + m.username.value_or("") + "' is not '" + want + "'";
    } else if (!m.fingerprint_ok) {
        why = "FINGERPRINT missing or wrong";
    } else if (!stun::integrity_ok(b, m, c_.pwd)) {
        why = "MESSAGE-INTEGRITY missing or not keyed with --pwd";
    }
    if (!why.empty()) {
        if (++rejected_ <= 5) note("ignored a binding request from " + to_string(src) + ": " + why);
        return;
    }
    stun::Writer w(stun::kBindingSuccess, m.id);
    w.add_xor_address(src);
    w.add_integrity(c_.pwd);
    w.add_fingerprint();
    send(w.bytes().data(), w.bytes().size(), src);
}

void BrowserPeer::on_stun(const uint8_t* b, std::size_t n, const sockaddr_storage& src) {
    const auto m = stun::parse(b, n);
    if (!m) {
        note("malformed STUN message from " + to_string(src));
        return;
    }
    if (m->type == stun::kBindingRequest) {
        if (c_.answer_checks) answer_check(*m, b, src);
        return;
    }
    if (m->type != stun::kBindingSuccess && m->type != stun::kBindingError) return;
    const auto it = pending_.find(m->id);
    if (it == pending_.end() || !same_endpoint(src, c_.to)) return;  // not an answer to us
    const Check kind = it->second;
    if (m->type == stun::kBindingError) {
        pending_.erase(it);
        note(std::string(kind == Check::Ice ? "ICE" : "consent") + " check: error response " +
             std::to_string(m->error_code));
        if (kind == Check::Ice && phase_ == Phase::Ice) ice_error_ = m->error_code;
        return;
    }
    // RFC 8445 7.2.5.2: a success response must be authentic and from where we sent.
    std::string why;
    if (!m->fingerprint_ok) {
        why = "FINGERPRINT missing or wrong";
    } else if (!stun::integrity_ok(b, *m, c_.remote_pwd)) {
        why = "MESSAGE-INTEGRITY missing or not keyed with --remote-pwd";
    } else if (!m->xor_mapped) {
        why = "no XOR-MAPPED-ADDRESS";
    } else if (!same_endpoint(*m->xor_mapped, local_, true)) {
        why = "XOR-MAPPED-ADDRESS " + to_string(*m->xor_mapped) + " is not " + to_string(local_);
    }
    if (!why.empty()) {
        if (++rejected_ <= 5) note("rejected a success response: " + why);
        return;
    }
    pending_.erase(it);
    if (kind == Check::Consent) {
        ++consent_ok_;
    } else if (phase_ == Phase::Ice) {
        ice_ok_ = true;
    }
}

void BrowserPeer::on_srtp(uint8_t* b, std::size_t n, const sockaddr_storage& src) {
    const bool rtcp = n >= 2 && b[1] >= 200 && b[1] <= 204;  // RFC 5761 4
    if (!rtcp) ++received_;
    if (!same_endpoint(src, c_.to)) {
        if (!rtcp) ++bad_;  // not unprotected: a stranger must not move the replay window
        return;
    }
    if (!srtp_in_) {
        ++early_srtp_;  // before our DTLS is done: no keys yet, dropped as browsers do
        return;
    }
    std::size_t len = n;
    if (!srtp_in_->unprotect(b, len, rtcp)) {
        ++srtp_fail_;
        return;
    }
    if (rtcp) {
        ++rtcp_;
        return;
    }
    // RFC 3550 5.1: version 2; our senders use no CSRC, extension or padding.
    if (len != kRtpHeader + kPayload || (b[0] & 0xc0) != 0x80 || (b[0] & 0x3f) != 0 ||
        (b[1] & 0x7f) != kPayloadType) {
        ++bad_;
        return;
    }
    const uint16_t seq = stun::get16(b + 2);
    bool match = !seen_[seq];
    for (std::size_t k = 0; match && k < kPayload; ++k)
        match = b[kRtpHeader + k] == pattern(seq, k);
    seen_[seq] = true;
    if (match) {
        ++ok_;
    } else {
        ++bad_;
    }
}

// RFC 7983 7: 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP.
void BrowserPeer::on_datagram(uint8_t* b, std::size_t n, const sockaddr_storage& src) {
    if (n == 0) return;
    if (b[0] <= 3) {
        on_stun(b, n, src);
    } else if (b[0] >= 20 && b[0] <= 63) {
        if (!same_endpoint(src, c_.to)) return;
        if (phase_ == Phase::Ice) {
            if (early_dtls_.size() < 32) early_dtls_.emplace_back(b, b + n);
        } else if (phase_ == Phase::SecondHandshake) {
            second_->feed(b, n);
        } else if (dtls_ && !c_.dtls_stall) {
            dtls_->feed(b, n);
            if (const std::string what = dtls_->take_note(); !what.empty()) note("DTLS: " + what);
        }
    } else if (b[0] >= 128 && b[0] <= 191) {
        on_srtp(b, n, src);
    }
}

void BrowserPeer::dtls_up(uint64_t now) {
    const DtlsAssociation::Keys keys = dtls_->export_keys();
    srtp_out_ = std::make_unique<SrtpSession>(*keys.profile, keys.local, false);
    srtp_in_ = std::make_unique<SrtpSession>(*keys.profile, keys.remote, true);
    dtls_result_ = "ok";
    profile_ = keys.profile->name;
    dtls_up_ns_ = now;
    media_deadline_ = now + c_.timeout_ms * kMs;
    if (flood_) flood_->start(now);
    std::printf("dtls=ok profile=%s\n", profile_.c_str());
    std::fflush(stdout);
}

void BrowserPeer::send_media() {
    std::array<uint8_t, kMaxDatagram> buf{};
    const auto seq = static_cast<uint16_t>(next_seq_++);
    std::size_t len = build_rtp(buf.data(), seq);
    if (!srtp_out_->protect(buf.data(), len, false)) {
        note("srtp_protect failed for seq " + std::to_string(seq));
        return;
    }
    const uint64_t errors = send_errors_;
    send(buf.data(), len, c_.to);
    if (send_errors_ == errors) {
        ++sent_;
        keep_copy(buf.data(), len);  // a copy of what went out: its resending is a replay
    }
    if (seq % kRtcpEvery == 0) {
        len = build_rtcp_rr(buf.data(), seq);
        if (srtp_out_->protect(buf.data(), len, true)) {
            const uint64_t rtcp_errors = send_errors_;
            send(buf.data(), len, c_.to);
            if (send_errors_ == rtcp_errors) keep_copy(buf.data(), len);
        } else {
            note("srtp_protect_rtcp failed");
        }
    }
}

// --replay and --forge: the kept datagrams again, then packets past the last
// sequence number with a flipped tag octet (new indices: a replay window
// that moved for them would show as a later loss).
void BrowserPeer::send_replays_and_forgeries() {
    replays_done_ = true;
    for (const std::vector<uint8_t>& d : sent_copies_) {
        const uint64_t errors = send_errors_;
        send(d.data(), d.size(), c_.to);
        if (send_errors_ == errors) ++replayed_;
    }
    std::array<uint8_t, kMaxDatagram> buf{};
    for (uint64_t k = 1; k <= c_.forge; ++k) {
        std::size_t len = build_rtp(buf.data(), static_cast<uint16_t>(c_.count + k));
        if (!srtp_out_->protect(buf.data(), len, false)) {
            note("srtp_protect failed for a forgery");
            return;
        }
        buf[len - 1] ^= 0x01U;
        const uint64_t errors = send_errors_;
        send(buf.data(), len, c_.to);
        if (send_errors_ == errors) ++forged_;
    }
}

// The flood's datagrams due by `now`, after the media that was due. Failures
// are counted apart from the media's (a full socket buffer is the flood's
// problem, not a media loss).
void BrowserPeer::send_flood(uint64_t now) {
    for (uint64_t n = flood_->due(now); n != 0; --n) {
        const std::vector<uint8_t>& d = flood_->next();
        if (::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&c_.to),
                     sockaddr_len(c_.to)) == static_cast<ssize_t>(d.size())) {
            ++flood_sent_;
        } else if (++flood_errors_ <= 5) {
            note("flood: sendto " + to_string(c_.to) + ": " + std::strerror(errno));
        }
    }
}

// Timers and phase changes; runs after every wakeup.
void BrowserPeer::advance(uint64_t now) {
    if (phase_ == Phase::Ice) {
        if (ice_ok_ || ice_error_ != 0 || now >= ice_deadline_) {
            ice_ = ice_ok_ ? "ok" : "fail";
            if (ice_error_ != 0 && !ice_ok_) {
                std::printf("ice=fail error=%d\n", ice_error_);
            } else {
                std::printf("ice=%s\n", ice_.c_str());
            }
            std::fflush(stdout);
            if (!ice_ok_) {
                if (ice_error_ == 0) {
                    note("ICE: no verified success response from " + to_string(c_.to) + " within " +
                         std::to_string(c_.timeout_ms) + " ms");
                }
                phase_ = Phase::Done;
                return;
            }
            phase_ = Phase::Dtls;
            dtls_deadline_ = now + c_.timeout_ms * kMs;
            next_consent_ = now + c_.consent_ms * kMs;
            dtls_ = std::make_unique<DtlsAssociation>(ctx_.get(), fd_, c_.to, c_.client,
                                                      c_.fingerprint);
            dtls_->start();
            for (const auto& d : early_dtls_)
                dtls_->feed(d.data(), d.size());
            early_dtls_.clear();
        } else if (now >= next_check_) {
            send_check(Check::Ice);
            next_check_ = now + kCheckPacingNs;
        }
    }
    if (dtls_ && !c_.dtls_stall) {
        if (const auto t = dtls_->timer_ns(); t && *t == 0) dtls_->on_timer();
    }
    if (phase_ == Phase::Dtls) {
        const auto state = dtls_->state();
        if (state == DtlsAssociation::State::Established) {
            try {
                dtls_up(now);
            } catch (const std::exception& e) {
                dtls_result_ = "fail";
                note(std::string("DTLS-SRTP keys: ") + e.what());
                phase_ = Phase::Done;
                return;
            }
            phase_ = c_.expect_dtls_fail ? Phase::Done : Phase::Media;
            if (c_.expect_dtls_fail) note("DTLS: the handshake completed (--expect-dtls-fail)");
        } else if (state == DtlsAssociation::State::Failed || now >= dtls_deadline_) {
            if (state == DtlsAssociation::State::Failed) {
                dtls_result_ = dtls_->fingerprint_mismatch() ? "fingerprint_mismatch" : "fail";
                note("DTLS: handshake failed: " + dtls_->error());
            } else {
                dtls_result_ = "timeout";
                note("DTLS: no handshake within " + std::to_string(c_.timeout_ms) + " ms");
            }
            std::printf("dtls=%s\n", dtls_result_.c_str());
            std::fflush(stdout);
            phase_ = Phase::Done;
            return;
        }
    }
    if (phase_ != Phase::Done && phase_ != Phase::Ice && now >= next_consent_) {
        if (!consent_paused(now)) send_check(Check::Consent);
        next_consent_ = now + c_.consent_ms * kMs;
    }
    if (phase_ == Phase::Media) {
        while (next_seq_ <= c_.count &&
               now >= dtls_up_ns_ + (next_seq_ - 1) * c_.interval_us * 1000)
            send_media();
        if (flood_) send_flood(now);
        if (next_seq_ > c_.count && !replays_done_ && (c_.replay != 0 || c_.forge != 0)) {
            send_replays_and_forgeries();
        }
        if (next_seq_ > c_.count && (ok_ >= c_.expect || now >= media_deadline_)) {
            phase_ = Phase::Linger;
            linger_end_ = now + c_.linger_ms * kMs;
        }
    }
    if (phase_ == Phase::Linger && now >= linger_end_) {
        if (!c_.second_handshake) {
            phase_ = Phase::Done;
            return;
        }
        // A brand-new ClientHello on the established 5-tuple, whatever our role.
        phase_ = Phase::SecondHandshake;
        second_deadline_ = now + std::min(c_.timeout_ms, kSecondHandshakeMaxMs) * kMs;
        second_ = std::make_unique<DtlsAssociation>(ctx_.get(), fd_, c_.to, true, c_.fingerprint);
        second_->start();
    }
    if (phase_ == Phase::SecondHandshake) {
        if (const auto t = second_->timer_ns(); t && *t == 0) second_->on_timer();
        const auto state = second_->state();
        if (state == DtlsAssociation::State::Established) {
            second_result_ = "completed";
            note("second DTLS handshake: completed on the established 5-tuple");
            phase_ = Phase::Done;
        } else if (state == DtlsAssociation::State::Failed) {
            second_result_ = "refused";
            note("second DTLS handshake: refused: " + second_->error());
            phase_ = Phase::Done;
        } else if (now >= second_deadline_) {
            second_result_ = "refused";
            note("second DTLS handshake: no answer");
            phase_ = Phase::Done;
        }
    }
}

uint64_t BrowserPeer::next_wakeup(uint64_t now) {
    uint64_t at = now + 1000 * kMs;
    const auto soon = [&](uint64_t t) { at = std::min(at, t); };
    const auto timer = [&](DtlsAssociation* d) {
        if (d == nullptr) return;
        if (const auto t = d->timer_ns()) soon(now + *t);
    };
    switch (phase_) {
        case Phase::Ice:
            soon(next_check_);
            soon(ice_deadline_);
            break;
        case Phase::Dtls:
            soon(dtls_deadline_);
            break;
        case Phase::Media:
            if (next_seq_ <= c_.count) {
                soon(dtls_up_ns_ + (next_seq_ - 1) * c_.interval_us * 1000);
            } else {
                soon(media_deadline_);
            }
            if (flood_) {
                if (const auto t = flood_->next_due_ns()) soon(*t);
            }
            break;
        case Phase::Linger:
            soon(linger_end_);
            break;
        case Phase::SecondHandshake:
            soon(second_deadline_);
            timer(second_.get());
            break;
        case Phase::Done:
            return now;
    }
    if (phase_ != Phase::Ice) soon(next_consent_);
    if (!c_.dtls_stall) timer(dtls_.get());  // stalled: its timers never run
    return std::max(at, now);
}

int BrowserPeer::run() {
    const uint64_t start = now_ns();
    ice_deadline_ = start + c_.timeout_ms * kMs;
    next_check_ = start;
    std::array<uint8_t, kMaxDatagram + SRTP_MAX_TRAILER_LEN> buf{};
    for (;;) {
        advance(now_ns());
        if (phase_ == Phase::Done) break;
        const uint64_t now = now_ns();
        const uint64_t wait = next_wakeup(now) - now;
        const timespec ts{static_cast<time_t>(wait / 1000000000ULL),
                          static_cast<long>(wait % 1000000000ULL)};
        pollfd pfd{fd_, POLLIN, 0};
        if (::ppoll(&pfd, 1, &ts, nullptr) < 0 && errno != EINTR) {
            note(std::string("ppoll: ") + std::strerror(errno));
            return 1;
        }
        for (;;) {
            sockaddr_storage src{};
            socklen_t src_len = sizeof src;
            const ssize_t got = ::recvfrom(fd_, buf.data(), kMaxDatagram, 0,
                                           reinterpret_cast<sockaddr*>(&src), &src_len);
            if (got < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    note(std::string("recvfrom: ") + std::strerror(errno));
                }
                break;
            }
            on_datagram(buf.data(), static_cast<std::size_t>(got), src);
        }
    }

    if (early_srtp_ != 0) {
        note(std::to_string(early_srtp_) + " SRTP packets came before DTLS was up (dropped)");
    }
    if (dtls_result_ == "ok" && !c_.expect_dtls_fail &&
        (ok_ != c_.expect || bad_ != 0 || srtp_fail_ != 0)) {
        note("media: " + std::to_string(ok_) + " of " + std::to_string(c_.expect) +
             " RTP packets ok, " + std::to_string(bad_) + " bad, " + std::to_string(srtp_fail_) +
             " failed to unprotect");
    }
    if (flood_ && (flood_errors_ != 0 || flood_->skipped() != 0)) {
        note("flood: " + std::to_string(flood_sent_) + " sent, " + std::to_string(flood_errors_) +
             " failed to send, " + std::to_string(flood_->skipped()) +
             " skipped (late wakeups past the burst cap)");
    }
    std::printf(
        "ice=%s dtls=%s profile=%s sent=%llu received=%llu ok=%llu bad=%llu srtp_fail=%llu "
        "consent_ok=%llu second_handshake=%s rtcp=%llu",
        ice_.c_str(), dtls_result_.c_str(), profile_.c_str(),
        static_cast<unsigned long long>(sent_), static_cast<unsigned long long>(received_),
        static_cast<unsigned long long>(ok_), static_cast<unsigned long long>(bad_),
        static_cast<unsigned long long>(srtp_fail_), static_cast<unsigned long long>(consent_ok_),
        second_result_.c_str(), static_cast<unsigned long long>(rtcp_));
    if (flood_) std::printf(" flood_sent=%llu", static_cast<unsigned long long>(flood_sent_));
    if (c_.replay != 0 || c_.forge != 0) {
        std::printf(" replayed=%llu forged=%llu", static_cast<unsigned long long>(replayed_),
                    static_cast<unsigned long long>(forged_));
    }
    std::printf("\n");
    std::fflush(stdout);
    if (!ice_ok_) return 1;
    if (c_.expect_dtls_fail) return dtls_result_ != "ok" ? 0 : 1;
    const bool media_ok = ok_ == c_.expect && bad_ == 0 && srtp_fail_ == 0;
    return dtls_result_ == "ok" && media_ok && second_result_ != "completed" ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
    }
    try {
        const Config c = parse_config(argc, argv);
        BrowserPeer peer(c);
        return peer.run();
    } catch (const UsageError& e) {
        std::fprintf(stderr, "browser_peer: %s\n\n%s", e.what(), kUsage);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "browser_peer: %s\n", e.what());
        return 1;
    }
}
