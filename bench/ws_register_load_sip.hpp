// ws-register-load's SIP side, sans I/O: the REGISTER one connection sends,
// pre-formatted so that each transaction only writes its branch, CSeq and
// (once challenged) its digest; the RFC 7616 / RFC 2617 MD5 digest; and a
// response cut down to what the load tool needs (status code, CSeq number,
// the challenge).
//
// Thread-safety: a RegisterWriter, DigestCredentials and DigestMd5 belong to
// one connection or one thread; nothing here is shared.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace isthmus::bench {

// What one connection registers: its user and where it claims to be.
struct RegisterIdentity {
    std::string user;           // "user0042"
    std::string domain;         // "ims.example.net": Request-URI, From, To
    std::string via_transport;  // "WS" or "WSS" (RFC 7118 5.2)
    std::string host;           // "<random>.invalid" (RFC 7118 5.2: Via and Contact)
    std::string call_id;        // one per connection (per slot with --outstanding > 1)
    std::string from_tag;
    std::string branch_prefix;  // "z9hG4bK<conn>-<slot>-": + CSeq makes it unique
    uint32_t expires = 600;
};

// A parsed WWW-Authenticate / Proxy-Authenticate: Digest (RFC 7616 3.3).
struct DigestChallenge {
    std::string realm;
    std::string nonce;
    std::string opaque;  // echoed when present
    bool has_opaque = false;
    bool qop_auth = false;  // "auth" among the offered qop values
    bool stale = false;
    bool md5 = true;  // algorithm absent or MD5; anything else is not answered
};

// Parses `Digest k=v, ...`; false when it is not a Digest challenge with a
// realm and a nonce.
bool parse_digest_challenge(std::string_view value, DigestChallenge& out);

// MD5 through OpenSSL's EVP, with the algorithm fetched once and one context
// reused. Throws std::runtime_error when OpenSSL has no MD5 (FIPS provider).
class DigestMd5 {
  public:
    DigestMd5();
    ~DigestMd5();
    DigestMd5(const DigestMd5&) = delete;
    DigestMd5& operator=(const DigestMd5&) = delete;

    // Lowercase hex MD5 of the concatenated parts.
    using Hex = std::array<char, 32>;
    Hex hex(std::initializer_list<std::string_view> parts);

  private:
    EVP_MD* md_ = nullptr;
    EVP_MD_CTX* ctx_ = nullptr;
};

// The credentials of one connection: the last challenge answered, shared by
// the connection's REGISTERs in flight so that their nonce counts never
// repeat (RFC 7616 3.4: nc counts the requests sent with one nonce).
class DigestCredentials {
  public:
    DigestCredentials(std::string user, std::string password, std::string uri, std::string cnonce);

    // Takes a challenge (401 -> Authorization, 407 -> Proxy-Authorization).
    // The same nonce again (the other REGISTERs in flight were challenged
    // too) keeps the count going; a new one restarts it at 1. False if it
    // cannot be answered (not MD5): requests then go without credentials.
    bool challenge(const DigestChallenge& c, bool proxy, DigestMd5& md5);
    bool has_credentials() const { return !auth_head_.empty(); }
    // Appends the Authorization field line (CRLF included) for the next
    // nonce count; nothing without credentials.
    void append(std::string& out, DigestMd5& md5);

  private:
    std::string user_;
    std::string password_;
    std::string uri_;  // the digest-uri: the Request-URI, "sip:DOMAIN"
    std::string cnonce_;
    // Once challenged: "Authorization: Digest username=.., realm, nonce,
    // uri, algorithm=MD5[, opaque]".
    std::string auth_head_;
    std::string realm_;
    std::string nonce_;
    DigestMd5::Hex ha1_{};
    DigestMd5::Hex ha2_{};
    bool qop_ = false;
    bool proxy_ = false;
    uint32_t nc_ = 0;
};

// The REGISTER of one connection (one per REGISTER slot: each has its own
// Call-ID), formatted once; request() writes the per-transaction parts into
// a buffer the caller keeps (no allocation once its capacity is reached).
//
//   REGISTER sip:DOMAIN SIP/2.0
//   Via: SIP/2.0/WS HOST;branch=z9hG4bK<prefix><cseq>
//   Max-Forwards: 70
//   From: <sip:USER@DOMAIN>;tag=...      To: <sip:USER@DOMAIN>
//   Call-ID, CSeq: N REGISTER, Contact: <sip:USER@HOST;transport=ws>,
//   Expires, Supported: path, User-Agent,
//   [Authorization: Digest ... (RFC 7616 3.4)]
//   Content-Length: 0
class RegisterWriter {
  public:
    explicit RegisterWriter(const RegisterIdentity& id);

    // Replaces `out` by the REGISTER with this CSeq, with credentials when
    // `creds` has them.
    void request(uint32_t cseq, std::string& out, DigestCredentials& creds, DigestMd5& md5) const;

  private:
    std::string head_;  // request line .. "branch=z9hG4bK<prefix>"
    std::string mid_;   // "\r\nMax-Forwards .. CSeq: "
    std::string tail_;  // " REGISTER\r\nContact .. User-Agent\r\n"
};

// What ws-register-load reads from a response.
struct ResponseSummary {
    uint16_t status = 0;  // 0: not a response
    uint32_t cseq = 0;
    bool cseq_register = false;
    std::string_view challenge;  // WWW-/Proxy-Authenticate value, 401/407 only
};

// A minimal parse: the status line, the CSeq and the first WWW-Authenticate
// or Proxy-Authenticate field (header names matched case-insensitively,
// compact forms included; no folding). Views point into `bytes`. False when
// the message is not a response with a CSeq.
bool summarize_response_fast(std::string_view bytes, ResponseSummary& out);

// The registration a 2xx to REGISTER grants, in seconds: the first
// Contact's expires parameter, else the Expires field; 0 when neither
// (header names case-insensitive, compact forms included).
uint32_t granted_expires(std::string_view bytes);

// The same through sip/parser.hpp (Framing::Datagram, as a WebSocket frame
// is one message), sip/validate.hpp and sip/headers.hpp: what the P-CSCF
// core does with each message. The challenge is copied into `challenge`
// and out.challenge views it. False also when the response is invalid.
bool summarize_response_full(std::string_view bytes, ResponseSummary& out, std::string& challenge);

}  // namespace isthmus::bench
