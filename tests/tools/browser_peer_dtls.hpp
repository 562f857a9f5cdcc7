// browser_peer_dtls.hpp: browser_peer's DTLS-SRTP (RFC 5763, RFC 5764) with
// OpenSSL 3 and libsrtp2: the context (certificate, use_srtp profiles), one
// DTLS 1.2 association over browser_peer's UDP socket, the SRTP keys it
// exports, and a libsrtp2 session per direction. Independent of dataplane/.
//
// Datagrams in: the caller hands each received DTLS datagram to feed() (a
// memory BIO, one datagram at a time so records are never concatenated).
// Datagrams out: a datagram BIO on the shared socket aimed at the peer, so
// every record OpenSSL writes leaves as its own datagram. Retransmissions:
// the caller asks timer_ns() and calls on_timer() when it has run out.
#pragma once

#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <srtp2/srtp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace browser_peer {

// A use_srtp profile (RFC 5764 4.1.2, RFC 7714 14.2) and its libsrtp2 policies.
struct SrtpProfile {
    unsigned long id;
    const char* name;  // OpenSSL's name, also what browser_peer prints
    std::size_t key_len;
    std::size_t salt_len;
    void (*rtp_policy)(srtp_crypto_policy_t*);
    void (*rtcp_policy)(srtp_crypto_policy_t*);
};

// SRTCP keeps the 80-bit tag with SHA1_32 (RFC 5764 4.1.2).
inline const SrtpProfile kProfiles[] = {
    {SRTP_AES128_CM_SHA1_80, "SRTP_AES128_CM_SHA1_80", 16, 14, srtp_crypto_policy_set_rtp_default,
     srtp_crypto_policy_set_rtcp_default},
    {SRTP_AES128_CM_SHA1_32, "SRTP_AES128_CM_SHA1_32", 16, 14,
     srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32, srtp_crypto_policy_set_rtcp_default},
    {SRTP_AEAD_AES_128_GCM, "SRTP_AEAD_AES_128_GCM", 16, 12,
     srtp_crypto_policy_set_aes_gcm_128_16_auth, srtp_crypto_policy_set_aes_gcm_128_16_auth},
    {SRTP_AEAD_AES_256_GCM, "SRTP_AEAD_AES_256_GCM", 32, 12,
     srtp_crypto_policy_set_aes_gcm_256_16_auth, srtp_crypto_policy_set_aes_gcm_256_16_auth},
};

inline const SrtpProfile* find_profile(std::string_view name) {
    for (const SrtpProfile& p : kProfiles)
        if (name == p.name) return &p;
    return nullptr;
}

// Drains OpenSSL's error queue into one line ("" when it is empty).
inline std::string ssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

// "AB:CD:..." (RFC 8122 5: SHA-256 of the DER certificate, upper-case hex).
inline std::string fingerprint_of(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        static const char kHex[] = "0123456789ABCDEF";
        if (i != 0) out += ':';
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0x0F];
    }
    return out;
}

// An a=fingerprint value ("sha-256 " optional, hex in either case) in
// fingerprint_of()'s form, or nothing when it is not 32 colon-separated octets.
inline std::optional<std::string> normalize_fingerprint(std::string_view text) {
    if (text.size() > 8 && (text.substr(0, 8) == "sha-256 " || text.substr(0, 8) == "SHA-256 ")) {
        text.remove_prefix(8);
    }
    std::string out(text);
    for (char& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (out.size() != 32 * 3 - 1) return std::nullopt;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const bool ok =
            i % 3 == 2 ? out[i] == ':' : std::isxdigit(static_cast<unsigned char>(out[i]));
        if (!ok) return std::nullopt;
    }
    return out;
}

struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};

// DTLS 1.2 only (what browsers negotiate), our certificate, the peer's
// certificate requested in both roles, use_srtp with `profiles` (OpenSSL's
// colon-separated list). Throws std::runtime_error naming the cause.
inline std::unique_ptr<SSL_CTX, SslCtxFree> make_dtls_context(const std::string& cert,
                                                              const std::string& key,
                                                              const std::string& profiles,
                                                              SSL_verify_cb verify) {
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(DTLS_method()));
    if (!ctx) throw std::runtime_error("SSL_CTX_new: " + ssl_errors());
    if (SSL_CTX_set_min_proto_version(ctx.get(), DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx.get(), DTLS1_2_VERSION) != 1) {
        throw std::runtime_error("DTLS 1.2: " + ssl_errors());
    }
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1) {
        throw std::runtime_error("--cert " + cert + ": " + ssl_errors());
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw std::runtime_error("--key " + key + ": " + ssl_errors());
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
        throw std::runtime_error("--key does not match --cert: " + ssl_errors());
    }
    // Note the inverted result: 0 is success.
    if (SSL_CTX_set_tlsext_use_srtp(ctx.get(), profiles.c_str()) != 0) {
        throw std::runtime_error("use_srtp '" + profiles + "': " + ssl_errors());
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify);
    SSL_CTX_set_read_ahead(ctx.get(), 1);
    return ctx;
}

// One DTLS association with the peer at `to`, written to socket `fd`.
// Single-threaded: everything runs on browser_peer's one loop.
class DtlsAssociation {
  public:
    enum class State { Handshaking, Established, Failed };

    DtlsAssociation(SSL_CTX* ctx, int fd, const sockaddr_storage& to, bool client,
                    std::string expected_fingerprint)
        : ssl_(SSL_new(ctx)), client_(client), expected_(std::move(expected_fingerprint)) {
        if (!ssl_) throw std::runtime_error("SSL_new: " + ssl_errors());
        BIO* rbio = BIO_new(BIO_s_mem());
        BIO* wbio = BIO_new_dgram(fd, BIO_NOCLOSE);
        BIO_ADDR* peer = BIO_ADDR_new();
        if (rbio == nullptr || wbio == nullptr || peer == nullptr) {
            BIO_free(rbio);
            BIO_free(wbio);
            BIO_ADDR_free(peer);
            throw std::runtime_error("BIO_new: " + ssl_errors());
        }
        BIO_ctrl(rbio, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nullptr);  // empty: retry, not EOF
        if (to.ss_family == AF_INET) {
            sockaddr_in s4{};
            std::memcpy(&s4, &to, sizeof s4);
            BIO_ADDR_rawmake(peer, AF_INET, &s4.sin_addr, sizeof s4.sin_addr, s4.sin_port);
        } else {
            sockaddr_in6 s6{};
            std::memcpy(&s6, &to, sizeof s6);
            BIO_ADDR_rawmake(peer, AF_INET6, &s6.sin6_addr, sizeof s6.sin6_addr, s6.sin6_port);
        }
        BIO_ctrl(wbio, BIO_CTRL_DGRAM_SET_PEER, 0, peer);
        BIO_ADDR_free(peer);
        SSL_set_bio(ssl_.get(), rbio, wbio);
        SSL_set_ex_data(ssl_.get(), 0, this);  // for verify()
        // A browser's path MTU guess, never asked of the socket.
        SSL_set_options(ssl_.get(), SSL_OP_NO_QUERY_MTU);
        SSL_ctrl(ssl_.get(), SSL_CTRL_SET_MTU, 1200, nullptr);
        DTLS_set_timer_cb(ssl_.get(), &DtlsAssociation::next_timeout_us);
        if (client_) {
            SSL_set_connect_state(ssl_.get());
        } else {
            SSL_set_accept_state(ssl_.get());
        }
    }

    // Starts the handshake (a client sends its ClientHello).
    void start() { step(); }

    // One received DTLS datagram.
    void feed(const uint8_t* b, std::size_t n) {
        BIO_write(SSL_get_rbio(ssl_.get()), b, static_cast<int>(n));
        step();
    }

    // Nanoseconds until the retransmission timer fires; nothing when it is idle.
    std::optional<uint64_t> timer_ns() {
        timeval tv{};
        if (SSL_ctrl(ssl_.get(), DTLS_CTRL_GET_TIMEOUT, 0, &tv) != 1) return std::nullopt;
        return static_cast<uint64_t>(tv.tv_sec) * 1000000000ULL +
               static_cast<uint64_t>(tv.tv_usec) * 1000ULL;
    }
    void on_timer() {
        ERR_clear_error();
        if (SSL_ctrl(ssl_.get(), DTLS_CTRL_HANDLE_TIMEOUT, 0, nullptr) < 0 &&
            state_ == State::Handshaking) {
            fail("retransmission: " + ssl_errors());
        }
    }

    State state() const { return state_; }
    bool fingerprint_mismatch() const { return mismatch_; }
    const std::string& error() const { return error_; }  // why it failed
    // What happened after it was established (close_notify, an alert); "" when
    // nothing new since the last call.
    std::string take_note() { return std::exchange(note_, std::string()); }
    bool peer_closed() const { return closed_; }

    // RFC 5764 4.2: the negotiated profile and the keys for our direction
    // (`local`) and the peer's (`remote`), each key||salt for libsrtp2.
    struct Keys {
        const SrtpProfile* profile = nullptr;
        std::vector<uint8_t> local, remote;
    };
    Keys export_keys() {
        const SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(ssl_.get());
        if (p == nullptr) throw std::runtime_error("no use_srtp profile was negotiated");
        Keys k;
        for (const SrtpProfile& known : kProfiles)
            if (known.id == p->id) k.profile = &known;
        if (k.profile == nullptr) throw std::runtime_error(std::string("profile ") + p->name);
        const std::size_t kl = k.profile->key_len, sl = k.profile->salt_len;
        std::vector<uint8_t> m(2 * (kl + sl));
        static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
        if (SSL_export_keying_material(ssl_.get(), m.data(), m.size(), kLabel, sizeof kLabel - 1,
                                       nullptr, 0, 0) != 1) {
            throw std::runtime_error("SSL_export_keying_material: " + ssl_errors());
        }
        // client_key | server_key | client_salt | server_salt
        const auto key_salt = [&](bool of_client) {
            std::vector<uint8_t> out(m.begin() + static_cast<long>(of_client ? 0 : kl),
                                     m.begin() + static_cast<long>(of_client ? kl : 2 * kl));
            const std::size_t s = 2 * kl + (of_client ? 0 : sl);
            out.insert(out.end(), m.begin() + static_cast<long>(s),
                       m.begin() + static_cast<long>(s + sl));
            return out;
        };
        k.local = key_salt(client_);
        k.remote = key_salt(!client_);
        return k;
    }

    // RFC 5763 5: the peer's certificate must have the signalled fingerprint.
    // Checked here, during the handshake (as browsers do once they know the
    // fingerprint), so the peer gets a bad_certificate alert instead of an
    // association that looks established; the chain itself is not judged
    // (WebRTC certificates are self-signed).
    static int verify(int /*preverify_ok*/, X509_STORE_CTX* store) {
        if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
        auto* ssl = static_cast<SSL*>(
            X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        auto* self = static_cast<DtlsAssociation*>(SSL_get_ex_data(ssl, 0));
        if (fingerprint_of(X509_STORE_CTX_get_current_cert(store)) == self->expected_) return 1;
        self->mismatch_ = true;
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }

  private:
    // Retransmission timer (RFC 6347 4.2.4.1): 100 ms, doubling up to 2 s.
    static unsigned int next_timeout_us(SSL* /*ssl*/, unsigned int previous_us) {
        return previous_us == 0 ? 100000U : std::min(previous_us * 2U, 2000000U);
    }

    void step() {
        if (state_ == State::Handshaking) {
            ERR_clear_error();
            const int r = SSL_do_handshake(ssl_.get());
            if (r != 1) {
                const int e = SSL_get_error(ssl_.get(), r);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                    const std::string why = ssl_errors();
                    fail(why.empty()
                             ? "SSL_get_error " + std::to_string(e) + ", " + std::strerror(errno)
                             : why);
                }
                return;
            }
            // Belt and braces: the certificate that actually finished the handshake.
            X509* cert = SSL_get1_peer_certificate(ssl_.get());
            const std::string got = cert != nullptr ? fingerprint_of(cert) : "";
            X509_free(cert);
            if (got != expected_) {
                mismatch_ = true;
                fail("peer certificate " + got + " is not " + expected_);
                return;
            }
            state_ = State::Established;
        }
        if (state_ != State::Established) return;
        // Established: OpenSSL still answers retransmitted flights and reads
        // alerts; WebRTC sends no application data over DTLS without data channels.
        for (;;) {
            ERR_clear_error();
            uint8_t buf[2048];
            const int r = SSL_read(ssl_.get(), buf, sizeof buf);
            if (r > 0) continue;
            const int e = SSL_get_error(ssl_.get(), r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
            if (e == SSL_ERROR_ZERO_RETURN) {
                closed_ = true;
                note_ = "peer sent close_notify";
            } else {
                note_ = "after the handshake: " + ssl_errors();
            }
            return;
        }
    }

    void fail(std::string why) {
        state_ = State::Failed;
        error_ = std::move(why);
    }

    std::unique_ptr<SSL, SslFree> ssl_;
    bool client_;
    std::string expected_;  // the peer's fingerprint, fingerprint_of()'s form
    State state_ = State::Handshaking;
    bool mismatch_ = false;
    bool closed_ = false;
    std::string error_, note_;
};

// One libsrtp2 session for one direction (RTP and RTCP, rtcp-mux).
class SrtpSession {
  public:
    SrtpSession(const SrtpProfile& profile, std::vector<uint8_t> key_salt, bool inbound)
        : key_(std::move(key_salt)) {
        static const srtp_err_status_t init = srtp_init();
        if (init != srtp_err_status_ok) {
            throw std::runtime_error("srtp_init failed (" + std::to_string(init) + ")");
        }
        srtp_policy_t p{};
        profile.rtp_policy(&p.rtp);
        profile.rtcp_policy(&p.rtcp);
        p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
        p.key = key_.data();
        p.window_size = 128;
        if (const srtp_err_status_t st = srtp_create(&session_, &p); st != srtp_err_status_ok) {
            throw std::runtime_error("srtp_create failed (" + std::to_string(st) + ") for " +
                                     profile.name);
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
    srtp_t session_ = nullptr;
    std::vector<uint8_t> key_;  // key||salt; libsrtp reads it at srtp_create only
};

}  // namespace browser_peer
