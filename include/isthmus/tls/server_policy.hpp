// The TLS policy of every listener of ours that browsers reach (the
// eP-CSCF's WSS, the WWSF's HTTPS): TLS 1.2 and later; in TLS 1.2 only the
// ECDHE suites with AEAD of Mozilla's "intermediate" profile (TLS 1.3's
// suites are OpenSSL's defaults, all AEAD); no compression, no
// renegotiation, a fresh ECDH key per handshake.
#pragma once

#include <openssl/ssl.h>

namespace isthmus::tls {

inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Applies the policy to a server context; false when OpenSSL refuses any of
// it (the caller fails its setup: never serve with a weaker default).
inline bool apply_server_policy(SSL_CTX* ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_SINGLE_ECDH_USE | SSL_OP_CIPHER_SERVER_PREFERENCE);
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
           SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) == 1;
}

}  // namespace isthmus::tls
