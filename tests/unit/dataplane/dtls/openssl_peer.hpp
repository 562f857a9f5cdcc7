// A DTLS-SRTP peer for the association tests, written straight on OpenSSL
// with memory BIOs (not on dataplane/dtls), so that our association meets an
// implementation that shares none of its code: its own certificate, role,
// use_srtp profile list, and the RFC 5764 key export done by hand.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "dtls/identity.hpp"

namespace isthmus::dtls::test {

class OpenSslPeer {
  public:
    // client: DTLS client (the browser with a=setup:active).
    OpenSslPeer(const Identity& id, bool client, const std::string& profiles,
                bool offer_srtp = true) {
        ctx_ = SSL_CTX_new(DTLS_method());
        SSL_CTX_use_certificate(ctx_, id.certificate());
        SSL_CTX_use_PrivateKey(ctx_, id.key());
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           [](int, X509_STORE_CTX*) { return 1; });
        if (offer_srtp && SSL_CTX_set_tlsext_use_srtp(ctx_, profiles.c_str()) != 0)
            throw std::runtime_error("use_srtp " + profiles);
        ssl_ = SSL_new(ctx_);
        rbio_ = BIO_new(BIO_s_mem());
        wbio_ = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(rbio_, -1);
        SSL_set_bio(ssl_, rbio_, wbio_);
        SSL_set_mtu(ssl_, 1200);
        SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
        if (client)
            SSL_set_connect_state(ssl_);
        else
            SSL_set_accept_state(ssl_);
        client_ = client;
    }
    ~OpenSslPeer() {
        SSL_free(ssl_);
        SSL_CTX_free(ctx_);
    }
    OpenSslPeer(const OpenSslPeer&) = delete;
    OpenSslPeer& operator=(const OpenSslPeer&) = delete;

    // Drives the handshake; returns 1 done, 0 in progress, -1 failed.
    int step() {
        const int r = SSL_do_handshake(ssl_);
        if (r == 1) return 1;
        const int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
        ERR_clear_error();
        return -1;
    }
    void feed(const std::vector<uint8_t>& d) {
        BIO_write(rbio_, d.data(), static_cast<int>(d.size()));
    }
    // What the peer wrote since the last call, as one datagram (empty: none).
    std::vector<uint8_t> drain() {
        std::vector<uint8_t> out(static_cast<std::size_t>(BIO_ctrl_pending(wbio_)));
        if (!out.empty()) BIO_read(wbio_, out.data(), static_cast<int>(out.size()));
        return out;
    }
    // Reads application data / alerts; returns SSL_get_error's code.
    int read_once() {
        uint8_t buf[2048];
        const int r = SSL_read(ssl_, buf, sizeof buf);
        if (r > 0) return SSL_ERROR_NONE;
        const int e = SSL_get_error(ssl_, r);
        ERR_clear_error();
        return e;
    }
    void write(const std::string& s) { SSL_write(ssl_, s.data(), static_cast<int>(s.size())); }
    // One application data record read (empty: none waiting).
    std::string read_data() {
        char buf[2048];
        const int r = SSL_read(ssl_, buf, sizeof buf);
        if (r > 0) return std::string(buf, static_cast<std::size_t>(r));
        ERR_clear_error();
        return {};
    }
    void shutdown() { SSL_shutdown(ssl_); }

    // RFC 5764 4.2 by hand: (client key, server key, client salt, server salt).
    std::vector<uint8_t> export_material(std::size_t key_len, std::size_t salt_len) {
        std::vector<uint8_t> m(2 * (key_len + salt_len));
        static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
        if (SSL_export_keying_material(ssl_, m.data(), m.size(), kLabel, sizeof kLabel - 1, nullptr,
                                       0, 0) != 1)
            throw std::runtime_error("export");
        return m;
    }
    std::string selected_profile() const {
        const SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(ssl_);
        return p != nullptr ? p->name : "";
    }
    bool client() const { return client_; }
    SSL* ssl() const { return ssl_; }

  private:
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    BIO* rbio_ = nullptr;
    BIO* wbio_ = nullptr;
    bool client_ = false;
};

}  // namespace isthmus::dtls::test
