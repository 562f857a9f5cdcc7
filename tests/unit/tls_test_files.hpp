// Test helper: a fresh self-signed ECDSA P-256 certificate and its key as
// PEM text (OpenSSL 3), for the configuration loaders' TLS file checks.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace isthmus::tls_test {

struct TlsPem {
    std::string certificate;
    std::string private_key;
};

inline TlsPem make_self_signed(const char* common_name = "isthmus.test") {
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
    const std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), &X509_free);
    if (!key || !x) throw std::runtime_error("make_self_signed: OpenSSL");
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400);
    X509_set_pubkey(x.get(), key.get());
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
    X509_set_issuer_name(x.get(), name);
    if (X509_sign(x.get(), key.get(), EVP_sha256()) == 0) {
        throw std::runtime_error("make_self_signed: X509_sign");
    }
    const auto to_pem = [](auto write) {
        const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
        write(bio.get());
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(n));
    };
    TlsPem out;
    out.certificate = to_pem([&](BIO* b) { PEM_write_bio_X509(b, x.get()); });
    out.private_key = to_pem([&](BIO* b) {
        PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    return out;
}

}  // namespace isthmus::tls_test
