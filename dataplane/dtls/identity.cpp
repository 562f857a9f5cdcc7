#include "dtls/identity.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

namespace isthmus::dtls {

std::string openssl_errors() {
    std::string out;
    unsigned long e = 0;
    while ((e = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out.empty() ? std::string("no OpenSSL error queued") : out;
}

Fingerprint fingerprint_of(X509* cert) {
    Fingerprint fp{};
    unsigned int n = 0;
    if (X509_digest(cert, EVP_sha256(), fp.data(), &n) != 1 || n != fp.size())
        throw std::runtime_error("X509_digest: " + openssl_errors());
    return fp;
}

Identity::Identity(std::unique_ptr<EVP_PKEY, FreeKey> key, std::unique_ptr<X509, FreeCert> cert)
    : key_(std::move(key)), cert_(std::move(cert)), fingerprint_(fingerprint_of(cert_.get())) {}

Identity Identity::generate(const std::string& common_name, int days) {
    std::unique_ptr<EVP_PKEY, FreeKey> key(EVP_EC_gen("P-256"));
    if (!key) throw std::runtime_error("DTLS key generation (P-256): " + openssl_errors());
    std::unique_ptr<X509, FreeCert> cert(X509_new());
    if (!cert) throw std::bad_alloc();
    uint8_t serial[8];
    if (RAND_bytes(serial, sizeof serial) != 1)
        throw std::runtime_error("RAND_bytes: " + openssl_errors());
    serial[0] &= 0x7f;  // a positive INTEGER
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    const bool ok =
        bn != nullptr && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr &&
        X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400L) != nullptr &&
        X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * days) != nullptr &&
        X509_set_pubkey(cert.get(), key.get()) == 1 &&
        X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) == 1 &&
        X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) == 1 &&
        X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
    BN_free(bn);
    if (!ok) throw std::runtime_error("DTLS certificate: " + openssl_errors());
    return Identity(std::move(key), std::move(cert));
}

Identity Identity::load(const std::string& cert_file, const std::string& key_file) {
    FILE* f = std::fopen(cert_file.c_str(), "r");
    if (f == nullptr) throw std::runtime_error("DTLS certificate " + cert_file + ": cannot open");
    std::unique_ptr<X509, FreeCert> cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    if (!cert)
        throw std::runtime_error("DTLS certificate " + cert_file + ": not a PEM certificate (" +
                                 openssl_errors() + ")");
    f = std::fopen(key_file.c_str(), "r");
    if (f == nullptr) throw std::runtime_error("DTLS key " + key_file + ": cannot open");
    // No passphrase prompt at start (an encrypted key is refused below).
    const auto no_passphrase = [](char*, int, int, void*) { return -1; };
    std::unique_ptr<EVP_PKEY, FreeKey> key(PEM_read_PrivateKey(f, nullptr, no_passphrase, nullptr));
    std::fclose(f);
    if (!key)
        throw std::runtime_error("DTLS key " + key_file + ": not an unencrypted PEM private key (" +
                                 openssl_errors() + ")");
    char group[64] = {};
    std::size_t glen = 0;
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(key.get(), group, sizeof group, &glen) != 1 ||
        std::string(group) != "prime256v1")
        throw std::runtime_error("DTLS key " + key_file + ": must be an EC P-256 key");
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("DTLS key " + key_file + " does not match certificate " +
                                 cert_file);
    }
    return Identity(std::move(key), std::move(cert));
}

}  // namespace isthmus::dtls
