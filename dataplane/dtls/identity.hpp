// The dataplane's DTLS identity (RFC 5763 5): one ECDSA P-256 key and
// self-signed certificate per dataplane instance, generated at start or
// loaded from PEM files, and the SHA-256 fingerprint the control plane puts
// in its SDP answers (a=fingerprint:sha-256 ...).
//
// Setup path only: constructors throw std::runtime_error naming the cause
// (with OpenSSL's error text). Immutable afterwards; any thread may read it.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "isthmus/dpif/fingerprint.hpp"

namespace isthmus::dtls {

using Fingerprint = dpif::Sha256Fingerprint;  // SHA-256 of a certificate's DER
using dpif::fingerprint_text;                 // "AB:CD:..." (RFC 8122 5)
using dpif::parse_fingerprint;
// The SHA-256 fingerprint of a certificate.
Fingerprint fingerprint_of(X509* cert);

class Identity {
  public:
    // A new P-256 key and a self-signed certificate (random serial, CN
    // `common_name`, valid from a day ago for `days`).
    static Identity generate(const std::string& common_name = "isthmus", int days = 365);
    // A key and certificate from PEM files. Refuses a key that does not
    // match the certificate, or a key that is not EC P-256.
    static Identity load(const std::string& cert_file, const std::string& key_file);

    X509* certificate() const { return cert_.get(); }
    EVP_PKEY* key() const { return key_.get(); }
    const Fingerprint& fingerprint() const { return fingerprint_; }

  private:
    struct FreeKey {
        void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
    };
    struct FreeCert {
        void operator()(X509* c) const { X509_free(c); }
    };
    Identity(std::unique_ptr<EVP_PKEY, FreeKey> key, std::unique_ptr<X509, FreeCert> cert);

    std::unique_ptr<EVP_PKEY, FreeKey> key_;
    std::unique_ptr<X509, FreeCert> cert_;
    Fingerprint fingerprint_{};
};

// OpenSSL's queued errors as one line (and the queue cleared).
std::string openssl_errors();

}  // namespace isthmus::dtls
