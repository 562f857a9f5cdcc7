// Checks a TLS certificate chain and private key the way a server will load
// them (OpenSSL: a PEM chain, leaf first, and an unencrypted PEM key that
// matches the leaf), for the configuration loaders: a broken file is a
// configuration error naming its key (--check-config finds it), not a
// start-up failure later. Setup path only; header-only (include/isthmus is
// what the planes share).
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace isthmus::config {

struct TlsFilesProblem {
    std::string key;   // "certificate" or "private_key"; empty: both load and match
    std::string what;  // what is wrong, with the file's path
};

inline TlsFilesProblem check_tls_files(const std::string& certificate,
                                       const std::string& private_key) {
    const auto reason = [] {
        const unsigned long e = ERR_get_error();
        ERR_clear_error();
        char buf[256] = {};
        if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
        return std::string(e != 0 ? buf : "unknown error");
    };
    const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                                &SSL_CTX_free);
    if (!ctx) return {"certificate", "cannot make a TLS context: " + reason()};
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), certificate.c_str()) != 1) {
        return {"certificate", certificate + ": not a PEM certificate chain (" + reason() + ")"};
    }
    // The key alone first (a file that is not one), then against the leaf.
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(private_key.c_str(), "r"),
                                                        &BIO_free);
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr,
        &EVP_PKEY_free);
    if (!pkey) {
        return {"private_key",
                private_key + ": not an unencrypted PEM private key (" + reason() + ")"};
    }
    if (SSL_CTX_use_PrivateKey(ctx.get(), pkey.get()) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
        ERR_clear_error();
        return {"private_key", private_key + ": does not match the certificate " + certificate};
    }
    return {};
}

}  // namespace isthmus::config
