// browser_peer_flood.hpp: browser_peer's DTLS handshake flood (issue 5: "a
// handshake flood leaves established media untouched"). Datagrams that look
// like a browser's ClientHello, at an even rate, from the media socket to the
// peer while media runs, so that the gateway's workers see them from the
// leg's nominated remote and hand them to the slow path.
//
// The datagram is a real one: a fresh SSL client object's first flight
// (SSL_do_handshake into a memory BIO, captured once), with its record
// sequence number (RFC 6347 4.1) and ClientHello.random (RFC 5246 7.4.1.2)
// made new for every copy. Epoch 0, msg_type 1: what a receiver takes for a
// new handshake. Sans I/O: the caller owns the socket and the clock.
#pragma once

#include <openssl/bio.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "browser_peer_dtls.hpp"

namespace browser_peer {

// RFC 6347 4.1 / 4.2.2: the record header, then the handshake header, then
// ClientHello.client_version and .random.
inline constexpr std::size_t kDtlsRecordHeader = 13;
inline constexpr std::size_t kDtlsSequenceAt = 5;  // 48-bit record sequence number
inline constexpr std::size_t kDtlsSequenceLen = 6;
inline constexpr std::size_t kDtlsHandshakeHeader = 12;
inline constexpr std::size_t kClientHelloRandomAt = kDtlsRecordHeader + kDtlsHandshakeHeader + 2;
inline constexpr std::size_t kClientHelloRandomLen = 32;

// The first flight of a DTLS client on `ctx` (one datagram: a ClientHello
// record). Throws std::runtime_error when OpenSSL writes anything else.
inline std::vector<uint8_t> capture_client_hello(SSL_CTX* ctx) {
    std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx));
    if (!ssl) throw std::runtime_error("SSL_new: " + ssl_errors());
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (rbio == nullptr || wbio == nullptr) {
        BIO_free(rbio);
        BIO_free(wbio);
        throw std::runtime_error("BIO_new: " + ssl_errors());
    }
    BIO_ctrl(rbio, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nullptr);
    SSL_set_bio(ssl.get(), rbio, wbio);
    SSL_set_options(ssl.get(), SSL_OP_NO_QUERY_MTU);
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_MTU, 1200, nullptr);
    SSL_set_connect_state(ssl.get());
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl.get());
    if (r == 1 || SSL_get_error(ssl.get(), r) != SSL_ERROR_WANT_READ) {
        throw std::runtime_error("capturing a ClientHello: " + ssl_errors());
    }
    std::vector<uint8_t> out(static_cast<std::size_t>(BIO_ctrl_pending(wbio)));
    if (!out.empty() &&
        BIO_read(wbio, out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size())) {
        throw std::runtime_error("capturing a ClientHello: short read");
    }
    // One record, all of it: ContentType handshake, epoch 0, a ClientHello.
    const std::size_t body = kClientHelloRandomAt + kClientHelloRandomLen;
    if (out.size() < body || out[0] != 22 || out[3] != 0 || out[4] != 0 ||
        out[kDtlsRecordHeader] != 1 ||
        kDtlsRecordHeader + (std::size_t{out[11]} << 8 | out[12]) != out.size()) {
        throw std::runtime_error("capturing a ClientHello: OpenSSL wrote " +
                                 std::to_string(out.size()) + " octets that are not one record");
    }
    return out;
}

// R datagrams per second from start() on, for `duration_ns` (0: until the
// caller stops asking). Single-threaded, on browser_peer's loop.
class DtlsFlood {
  public:
    // At most this many datagrams per due() (a late wakeup does not turn
    // into a burst: the backlog beyond it is skipped, not sent later).
    static constexpr uint64_t kMaxBurst = 32;

    DtlsFlood(SSL_CTX* ctx, uint64_t pps, uint64_t duration_ns)
        : hello_(capture_client_hello(ctx)), pps_(pps), duration_ns_(duration_ns) {}

    void start(uint64_t now_ns) {
        start_ns_ = now_ns;
        scheduled_ = 0;
    }

    // How many datagrams to send now (each one from next()).
    uint64_t due(uint64_t now_ns) {
        if (pps_ == 0 || now_ns < start_ns_) return 0;
        uint64_t elapsed = now_ns - start_ns_;
        if (duration_ns_ != 0) elapsed = std::min(elapsed, duration_ns_);
        // +1: the first datagram is due at start.
        const uint64_t total = elapsed * pps_ / 1000000000ULL + 1;
        if (total <= scheduled_) return 0;
        const uint64_t n = std::min(total - scheduled_, kMaxBurst);
        skipped_ += total - scheduled_ - n;
        scheduled_ = total;
        return n;
    }

    // When the next datagram is due (for the loop's wakeup); nothing once
    // the duration has passed.
    std::optional<uint64_t> next_due_ns() const {
        if (pps_ == 0) return std::nullopt;
        // Datagram k (from 0) is due at start + k / R seconds.
        const uint64_t offset = (scheduled_ * 1000000000ULL + pps_ - 1) / pps_;
        if (duration_ns_ != 0 && offset > duration_ns_) return std::nullopt;
        return start_ns_ + offset;
    }

    // A fresh copy: a new record sequence number and ClientHello.random.
    const std::vector<uint8_t>& next() {
        uint8_t fresh[kDtlsSequenceLen + kClientHelloRandomLen];
        if (RAND_bytes(fresh, sizeof fresh) != 1) throw std::runtime_error("RAND_bytes");
        std::copy_n(fresh, kDtlsSequenceLen, hello_.begin() + kDtlsSequenceAt);
        std::copy_n(fresh + kDtlsSequenceLen, kClientHelloRandomLen,
                    hello_.begin() + kClientHelloRandomAt);
        return hello_;
    }

    uint64_t skipped() const { return skipped_; }  // due but past a burst's cap

  private:
    std::vector<uint8_t> hello_;
    uint64_t pps_, duration_ns_;
    uint64_t start_ns_ = 0, scheduled_ = 0, skipped_ = 0;
};

}  // namespace browser_peer
