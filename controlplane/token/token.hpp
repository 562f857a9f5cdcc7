// Registration tokens (TS 24.371 A.3.2 web authentication, A.3.3 identity
// from a pool; issue 8): the WWSF signs a short-lived token naming the public
// user identity a WIC may register; the WIC presents it in its REGISTER
// (RFC 8898: `Authorization: Bearer <token>`); the eP-CSCF, holding only the
// WWSF's public key, verifies it and registers toward the IMS without a
// further challenge.
//
// Wire form: base64url(payload) "." base64url(Ed25519 signature of the
// payload octets), no padding (RFC 4648 5). The payload is a form-encoded
// list in a fixed order,
//
//   v=1&sub=<identity>&aud=<audience>&exp=<unix seconds>&jti=<id>&kind=user|guest
//
// values percent-encoded (application/x-www-form-urlencoded rules, space
// as %20). `sub` is the public user identity (a SIP URI), `aud` the
// eP-CSCF it is for (DESIGN.md: the WWSF issues tokens whose audience is
// the pair a WIC is sent to), `jti` a random id that makes a token
// single-use (ReplayCache), `kind` whether it names the user's own
// identity (A.3.2) or one leased from a pool (A.3.3).
//
//   TokenSigner s = TokenSigner::from_private_pem(pem);       // the WWSF
//   std::string t = s.sign({.subject = "sip:alice@ims.example.net",
//                           .audience = "pcscf.example.net",
//                           .expires = now + 120, .id = random_id()});
//   TokenVerifier v = TokenVerifier::from_public_pem(pub);   // the eP-CSCF
//   TokenCheck c = v.verify(t, now, "pcscf.example.net");
//   if (c.error == TokenError::None && replay.first_use(c.claims.id, c.claims.expires, now)) ...
//
// Pure functions of their inputs apart from OpenSSL; no clock is read (the
// caller passes unix time). Signers and verifiers are immutable after
// construction: any thread. ReplayCache: one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace isthmus::token {

struct Claims {
    std::string subject;        // sub: the public user identity (SIP URI)
    std::string audience;       // aud: the eP-CSCF it is for
    int64_t expires = 0;        // exp: unix seconds
    std::string id;             // jti: single-use id (1..64 of [A-Za-z0-9_-])
    std::string kind = "user";  // "user" (A.3.2) or "guest" (A.3.3, pool)
    bool operator==(const Claims&) const = default;
};

// X(Enumerator, "metric_label", "meaning")
#define ISTHMUS_TOKEN_ERROR(X)                                                                \
    X(None, "none", "valid")                                                                  \
    X(Malformed, "malformed", "not base64url payload.signature, or a payload we cannot read") \
    X(BadSignature, "bad_signature", "the signature does not verify with the WWSF's key")     \
    X(Expired, "expired", "exp is not after now")                                             \
    X(TooLong, "too_long", "exp is further ahead than the verifier allows")                   \
    X(WrongAudience, "wrong_audience", "aud names another eP-CSCF")                           \
    X(Replayed, "replayed", "its jti was used before (single use)")

enum class TokenError : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_TOKEN_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
};
inline constexpr std::size_t kTokenErrorCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_TOKEN_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    ;
constexpr std::string_view token_error_name(TokenError e) {
    constexpr std::array<std::string_view, kTokenErrorCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_TOKEN_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(e)];
}

struct TokenCheck {
    TokenError error = TokenError::Malformed;
    Claims claims;  // filled when the payload could be read (even if invalid)
};

// The payload as signed (v=1&sub=...); nullopt-like empty string when a
// claim cannot be encoded (an id outside [A-Za-z0-9_-]{1,64}, a kind other
// than user/guest, an empty subject or audience).
std::string encode_payload(const Claims& c);
// Reads a payload; false when it is not exactly the form above.
bool decode_payload(std::string_view payload, Claims& out);

std::string base64url_encode(std::string_view octets);
// Strict: only [A-Za-z0-9_-], no padding, no trailing bits set.
bool base64url_decode(std::string_view text, std::string& out);

class TokenSigner {
  public:
    // An Ed25519 private key in PEM (PKCS#8). Throws std::invalid_argument
    // saying what is wrong.
    static TokenSigner from_private_pem(std::string_view pem);
    // A new key (for tests and first starts).
    static TokenSigner generate();
    // Throws std::invalid_argument for claims encode_payload refuses.
    std::string sign(const Claims& c) const;
    // The public key in PEM (SubjectPublicKeyInfo), for the eP-CSCF.
    std::string public_pem() const;
    std::string private_pem() const;

  private:
    struct Key;
    explicit TokenSigner(std::shared_ptr<Key> key) : key_(std::move(key)) {}
    std::shared_ptr<Key> key_;
};

class TokenVerifier {
  public:
    // An Ed25519 public key in PEM. Throws std::invalid_argument.
    static TokenVerifier from_public_pem(std::string_view pem);
    // Checks the form, the signature, exp > now, exp <= now + max_lifetime_s
    // and aud == audience, in that order (the first failure is reported).
    TokenCheck verify(std::string_view token, int64_t now, std::string_view audience,
                      int64_t max_lifetime_s = 3600) const;

  private:
    struct Key;
    explicit TokenVerifier(std::shared_ptr<Key> key) : key_(std::move(key)) {}
    std::shared_ptr<Key> key_;
};

// The jtis seen, each kept until its token expires; bounded: when full of
// live ids, new tokens are refused (as replays) until some expire, so a
// flood of valid tokens can neither grow it nor reopen a used one. Single
// use holds per cache: per eP-CSCF process, and across its restarts when
// a ReplayJournal (replay_journal.hpp) keeps the ids on disk; not across
// the pair of eP-CSCFs an audience names.
// Whether `id` is a jti as tokens carry it: 1..64 of [A-Za-z0-9_-].
bool valid_token_id(std::string_view id);

class ReplayCache {
  public:
    explicit ReplayCache(std::size_t max_entries = 100000) : max_(max_entries) {}
    // True the first time `id` is seen (and remembers it until `expires`);
    // false for an id seen before, or when the cache is full.
    bool first_use(const std::string& id, int64_t expires, int64_t now);
    std::size_t size() const { return by_id_.size(); }
    // Every id held, with its expiry, soonest first (the journal's compaction).
    template <typename F>
    void for_each(F&& f) const {
        for (const auto& [expires, id] : by_expiry_)
            f(id, expires);
    }

  private:
    void purge(int64_t now);
    std::size_t max_;
    std::map<std::string, int64_t> by_id_;
    std::set<std::pair<int64_t, std::string>> by_expiry_;
};

}  // namespace isthmus::token
