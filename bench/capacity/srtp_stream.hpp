// The load tool's SRTP for one direction of one stream, on OpenSSL (EVP):
// AES_CM_128_HMAC_SHA1_80 (RFC 3711 4.1.1, 4.2.1) and AEAD_AES_128_GCM
// (RFC 7714 8), session keys from the master key and salt by the AES-CM
// PRF with a key derivation rate of 0 (RFC 3711 4.3).
//
// Why not libsrtp2 on the packet path: Debian's libsrtp2 is built on NSS,
// whose cost per packet grows with the number of keys alive in the process
// (measured here: AES-CM protect 2.2 us with 10 sessions, 8.2 us with
// 1,000, 32 us with 4,000; GCM 0.8, 2.7, 18 us), so a tool holding two
// keys per call for thousands of calls would measure itself. libsrtp2
// stays the reference: self_test() checks this code against it, both
// ways, before every run, and --srtp libsrtp2 puts it back on the path.
//
// Bench code: a SrtpStream belongs to one thread; protect/unprotect do not
// allocate.
#pragma once

#include <srtp2/srtp.h>

#include <cstddef>
#include <cstdint>

#include "socket_load.hpp"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace isthmus::bench::capacity {

class SrtpStream {
  public:
    enum class Role : uint8_t { protect, unprotect };

    // Derives the session keys and sets up the contexts; throws
    // std::runtime_error when OpenSSL refuses.
    SrtpStream(const SrtpKey& key, Role role);
    ~SrtpStream();
    SrtpStream(const SrtpStream&) = delete;
    SrtpStream& operator=(const SrtpStream&) = delete;

    // p: an RTP packet of `len` octets with a 12-octet header (no CSRC, no
    // extension) and room for the tag after it; index: its packet index
    // (ROC << 16 | SEQ, RFC 3711 3.3.1). Encrypts the payload in place and
    // appends the tag; returns the new length (0 on an OpenSSL failure).
    std::size_t protect(uint8_t* p, std::size_t len, uint64_t index);
    // p: an SRTP packet of `len` octets (12-octet header); returns the RTP
    // length after checking the tag and decrypting in place, 0 when the tag
    // does not match (or the packet is shorter than header and tag).
    std::size_t unprotect(uint8_t* p, std::size_t len, uint64_t index);

  private:
    void iv(const uint8_t* p, uint64_t index, uint8_t* out) const;

    SrtpSuite suite_;
    Role role_;
    std::size_t tag_len_;
    uint8_t salt_[14] = {};  // session salt: 14 octets (AES-CM), 12 (GCM)
    EVP_CIPHER_CTX* cipher_ = nullptr;
    EVP_MAC_CTX* mac_ = nullptr;  // HMAC-SHA1 with the session auth key (AES-CM)
};

// A libsrtp2 session under `key` for what a side sends (outbound) or
// receives (inbound), any SSRC; throws std::runtime_error when
// srtp_create() fails.
srtp_t make_libsrtp2_session(const SrtpKey& key, bool outbound);

// Protects a few packets with SrtpStream and unprotects them with libsrtp2,
// and the other way, for `suite` (sequence numbers across a rollover).
// Throws std::runtime_error saying what differed. srtp_init() first.
void srtp_self_test(SrtpSuite suite);

}  // namespace isthmus::bench::capacity
