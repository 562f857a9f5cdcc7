#include "dtls/association.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "dtls/record.hpp"

namespace isthmus::dtls {

std::string_view state_name(State s) {
    switch (s) {
        case State::Handshaking:
            return "handshaking";
        case State::Up:
            return "up";
        case State::Failed:
            return "failed";
        case State::Closed:
            return "closed";
    }
    return "?";
}

void KeyMaterial::wipe() {
    OPENSSL_cleanse(local_key, sizeof local_key);
    OPENSSL_cleanse(local_salt, sizeof local_salt);
    OPENSSL_cleanse(remote_key, sizeof remote_key);
    OPENSSL_cleanse(remote_salt, sizeof remote_salt);
}

// The datagram BIO: writes become datagrams in Association::out_, reads
// return the datagram on_datagram() is handling, once.
struct BioGlue {
    static BIO_METHOD* method() {
        static BIO_METHOD* m = [] {
            BIO_METHOD* bm =
                BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "isthmus-dtls-datagram");
            if (bm == nullptr) return bm;
            BIO_meth_set_write(bm, write);
            BIO_meth_set_read(bm, read);
            BIO_meth_set_ctrl(bm, ctrl);
            BIO_meth_set_create(bm, create);
            return bm;
        }();
        return m;
    }
    static Association* owner(BIO* b) { return static_cast<Association*>(BIO_get_data(b)); }
    static int create(BIO* b) {
        BIO_set_init(b, 1);
        return 1;
    }
    static int write(BIO* b, const char* data, int len) {
        Association* a = owner(b);
        if (a == nullptr || len <= 0) return 0;
        const auto* p = reinterpret_cast<const uint8_t*>(data);
        a->out_.emplace_back(p, p + len);
        return len;
    }
    static int read(BIO* b, char* data, int len) {
        BIO_clear_retry_flags(b);
        Association* a = owner(b);
        if (a == nullptr || a->in_.empty() || len <= 0) {
            BIO_set_retry_read(b);
            return -1;
        }
        const std::size_t n = std::min(a->in_.size(), static_cast<std::size_t>(len));
        std::memcpy(data, a->in_.data(), n);
        a->in_ = {};
        return static_cast<int>(n);
    }
    static long ctrl(BIO* b, int cmd, long num, void* ptr) {
        (void)num;
        (void)ptr;
        Association* a = owner(b);
        switch (cmd) {
            case BIO_CTRL_FLUSH:
                return 1;
            case BIO_CTRL_PENDING:
                return a != nullptr ? static_cast<long>(a->in_.size()) : 0;
            case BIO_CTRL_WPENDING:
                return 0;
            case BIO_CTRL_DGRAM_QUERY_MTU:
            case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
                return a != nullptr ? a->ctx_.options().mtu : 1200;
            case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
                return 0;
            case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
                return 1;
            default:
                return 0;
        }
    }
};

namespace {

Association* association_of(SSL* ssl) {
    return static_cast<Association*>(SSL_get_app_data(ssl));
}

// RFC 6347 4.2.4.1: start at the configured timeout, double up to the cap.
unsigned int retransmit_timer(SSL* ssl, unsigned int previous_us) {
    const auto* ctx = static_cast<const Context*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    const uint64_t first = uint64_t{ctx->options().initial_timeout_ms} * 1000;
    const uint64_t cap = uint64_t{ctx->options().max_timeout_ms} * 1000;
    const uint64_t next = previous_us == 0 ? first : std::min<uint64_t>(previous_us * 2ULL, cap);
    return static_cast<unsigned int>(next);
}

}  // namespace

// Accepts exactly the certificate whose fingerprint the control plane gave
// (RFC 5763 5: self-signed certificates, the fingerprint is the trust; no
// chain is built or checked, which also saves X509_verify_cert's cost per
// handshake: docs/performance.md, "DTLS-SRTP handshakes").
struct VerifyGlue {
    static int verify(X509_STORE_CTX* store, void* /*arg*/) {
        auto* ssl = static_cast<SSL*>(
            X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        Association* a = ssl != nullptr ? association_of(ssl) : nullptr;
        X509* cert = X509_STORE_CTX_get0_cert(store);
        if (a == nullptr || cert == nullptr) return 0;
        Fingerprint fp{};
        unsigned int n = 0;
        if (X509_digest(cert, EVP_sha256(), fp.data(), &n) != 1 || n != fp.size() ||
            CRYPTO_memcmp(fp.data(), a->remote_.data(), fp.size()) != 0) {
            a->fingerprint_mismatch_ = true;
            X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }
    static void info(const SSL* ssl, int where, int ret) {
        if ((where & SSL_CB_ALERT) == 0 || (where & SSL_CB_READ) == 0) return;
        Association* a = association_of(const_cast<SSL*>(ssl));
        if (a != nullptr) a->alert_ = SSL_alert_desc_string_long(ret);
    }
};

Context::Context(const Identity& identity, ContextOptions options)
    : identity_(identity), options_(options) {
    ctx_ = SSL_CTX_new(DTLS_method());
    if (ctx_ == nullptr) throw std::runtime_error("SSL_CTX_new(DTLS): " + openssl_errors());
    const std::string profiles(kSrtpProfileList);
    const bool ok =
        SSL_CTX_set_min_proto_version(ctx_, DTLS1_2_VERSION) == 1 &&
        SSL_CTX_set_max_proto_version(ctx_, DTLS1_2_VERSION) == 1 &&
        SSL_CTX_use_certificate(ctx_, identity.certificate()) == 1 &&
        SSL_CTX_use_PrivateKey(ctx_, identity.key()) == 1 && SSL_CTX_check_private_key(ctx_) == 1 &&
        SSL_CTX_set_cipher_list(ctx_,
                                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:"
                                "ECDHE-ECDSA-AES256-SHA") == 1 &&
        SSL_CTX_set1_groups_list(ctx_, "X25519:P-256") == 1 &&
        // Returns 0 on success (sic).
        SSL_CTX_set_tlsext_use_srtp(ctx_, profiles.c_str()) == 0;
    if (!ok) {
        const std::string why = openssl_errors();
        SSL_CTX_free(ctx_);
        throw std::runtime_error("DTLS context: " + why);
    }
    SSL_CTX_set_options(ctx_, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
    // No chain for our own certificate either (self-signed): libssl would
    // otherwise rebuild it on every handshake.
    SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
    // The peer must send a certificate; VerifyGlue::verify decides on it.
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx_, VerifyGlue::verify, nullptr);
    SSL_CTX_set_info_callback(ctx_, VerifyGlue::info);
    SSL_CTX_set_app_data(ctx_, this);
}

Context::~Context() {
    SSL_CTX_free(ctx_);
}

Association::Association(Context& ctx, Role role, const Fingerprint& remote, bool srtp_required)
    : ctx_(ctx), role_(role), remote_(remote), srtp_required_(srtp_required) {
    BIO_METHOD* method = BioGlue::method();
    if (method == nullptr) throw std::runtime_error("BIO_meth_new: " + openssl_errors());
    ssl_ = SSL_new(ctx.ssl_ctx());
    if (ssl_ == nullptr) throw std::runtime_error("SSL_new: " + openssl_errors());
    BIO* bio = BIO_new(method);
    if (bio == nullptr) {
        SSL_free(ssl_);
        throw std::runtime_error("BIO_new: " + openssl_errors());
    }
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);  // one BIO both ways; the SSL owns it
    SSL_set_app_data(ssl_, this);
    SSL_set_mtu(ssl_, ctx.options().mtu);
    DTLS_set_timer_cb(ssl_, retransmit_timer);
    if (role == Role::Active)
        SSL_set_connect_state(ssl_);
    else
        SSL_set_accept_state(ssl_);
}

Association::~Association() {
    SSL_free(ssl_);
}

void Association::start() {
    if (role_ == Role::Active && state_ == State::Handshaking) drive_handshake();
}

void Association::fail(std::string reason) {
    state_ = State::Failed;
    reason_ = std::move(reason);
    ERR_clear_error();
}

void Association::drive_handshake() {
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
        finish_handshake();
        return;
    }
    const int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return;
    }
    if (fingerprint_mismatch_)
        fail("fingerprint mismatch");
    else if (!alert_.empty())
        fail("alert: " + alert_);
    else
        fail("handshake: " + openssl_errors());
}

void Association::finish_handshake() {
    const SRTP_PROTECTION_PROFILE* sp = SSL_get_selected_srtp_profile(ssl_);
    const auto prof = sp != nullptr ? profile_by_id(sp->id) : std::nullopt;
    if (!prof) {
        if (!srtp_required_) {
            // A data channel's association: SCTP needs no SRTP keys.
            state_ = State::Up;
            return;
        }
        // RFC 5764 4.1.1: no common profile -> no SRTP; we have nothing else.
        SSL_shutdown(ssl_);
        fail("no common use_srtp profile");
        return;
    }
    profile_ = prof;
    if (!export_keys(keys_)) {
        profile_.reset();
        fail("key export: " + openssl_errors());
        return;
    }
    state_ = State::Up;
}

bool Association::export_keys(KeyMaterial& out) const {
    if (!profile_) return false;
    const srtp::SuiteInfo info = srtp::suite_info(profile_->suite);
    const std::size_t k = info.master_key_len, s = info.master_salt_len;
    uint8_t material[2 * (32 + 14)];
    static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(ssl_, material, 2 * (k + s), kLabel, sizeof kLabel - 1, nullptr,
                                   0, 0) != 1)
        return false;
    // RFC 5764 4.2: client_key | server_key | client_salt | server_salt.
    const uint8_t* client_key = material;
    const uint8_t* server_key = material + k;
    const uint8_t* client_salt = material + 2 * k;
    const uint8_t* server_salt = material + 2 * k + s;
    const bool client = role_ == Role::Active;
    out.profile = *profile_;
    out.key_len = static_cast<uint8_t>(k);
    out.salt_len = static_cast<uint8_t>(s);
    std::memcpy(out.local_key, client ? client_key : server_key, k);
    std::memcpy(out.local_salt, client ? client_salt : server_salt, s);
    std::memcpy(out.remote_key, client ? server_key : client_key, k);
    std::memcpy(out.remote_salt, client ? server_salt : client_salt, s);
    OPENSSL_cleanse(material, sizeof material);
    return true;
}

Input Association::on_datagram(std::span<const uint8_t> datagram) {
    if (state_ == State::Failed || state_ == State::Closed) return Input::Ignored;
    // A browser starts over only with a new offer/answer (a new fingerprint:
    // the control plane updates the leg and we make a new association), so a
    // ClientHello on a running association is refused here, before OpenSSL
    // (which would drop or answer it depending on the epoch).
    if (state_ == State::Up && is_client_hello(datagram)) return Input::Refused;
    in_ = datagram;
    if (state_ == State::Handshaking) {
        drive_handshake();
        in_ = {};
        return Input::Handshake;
    }
    Input result = Input::Ignored;
    uint8_t buf[2048];
    for (;;) {
        const int r = SSL_read(ssl_, buf, sizeof buf);
        if (r > 0) {
            result = Input::AppData;
            app_in_.emplace_back(buf, buf + r);
            continue;
        }
        const int err = SSL_get_error(ssl_, r);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            break;
        }
        if (err == SSL_ERROR_ZERO_RETURN) {
            state_ = State::Closed;
            reason_ = "close_notify";
            ERR_clear_error();
        } else {
            fail(!alert_.empty() ? "alert: " + alert_ : "read: " + openssl_errors());
        }
        result = Input::Handshake;
        break;
    }
    in_ = {};
    return result;
}

bool Association::write_app_data(std::span<const uint8_t> data) {
    if (state_ != State::Up || data.empty() || data.size() > 16384) return false;
    const int w = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
    if (w == static_cast<int>(data.size())) return true;
    ERR_clear_error();
    return false;
}

std::optional<uint64_t> Association::timeout_us() const {
    if (state_ != State::Handshaking) return std::nullopt;
    timeval tv{};
    if (DTLSv1_get_timeout(ssl_, &tv) != 1) return std::nullopt;
    return static_cast<uint64_t>(tv.tv_sec) * 1000000ULL + static_cast<uint64_t>(tv.tv_usec);
}

void Association::on_timer() {
    if (state_ != State::Handshaking) return;
    if (DTLSv1_handle_timeout(ssl_) < 0) fail("handshake timeout (no answer to retransmissions)");
}

void Association::close() {
    if (state_ == State::Up || state_ == State::Handshaking) {
        SSL_shutdown(ssl_);
        ERR_clear_error();
    }
    if (state_ != State::Failed) {
        state_ = State::Closed;
        if (reason_.empty()) reason_ = "closed locally";
    }
}

bool Association::take_keys(KeyMaterial& out) {
    if (state_ != State::Up || keys_taken_) return false;
    out = keys_;
    keys_.wipe();
    keys_taken_ = true;
    return true;
}

}  // namespace isthmus::dtls
