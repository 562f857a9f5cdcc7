// The property the registration token fuzzing checks, shared by the
// libFuzzer target (token_fuzz.cpp) and the CI regression test
// (token_fuzz_regress_test.cpp). The eP-CSCF runs TokenVerifier::verify
// (token/token.hpp) on the Bearer token of every REGISTER that has one:
//
//  - verify() of any octets refuses cleanly: Malformed or BadSignature,
//    unless the token is one the WWSF's key signed (its exact octets), and
//    then the verdict follows from its claims, `now` and the audience in
//    the documented order (Expired, TooLong, WrongAudience, else None),
//    with the claims as the payload says;
//  - the input as a payload, signed with the key: verify() reads it exactly
//    when decode_payload does (and the token is not over 4096 octets), with
//    the same claims and the verdict they call for; the same token with any
//    one character changed to another base64url character is refused
//    (Malformed or BadSignature);
//  - decode_payload -> encode_payload -> decode_payload gives the same
//    claims; base64url_decode is strict (what it accepts encodes back to the
//    same text) and base64url_encode -> decode is the identity.
//
// The key is a fixed Ed25519 test key (below; never used anywhere else).
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "token/token.hpp"

namespace isthmus::token::fuzz {

inline constexpr std::string_view kPrivatePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEICEfbvR4t211O3bq46jAtPQB7lz2zWr5RJRPjiXniAOj\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr std::string_view kPublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAnj0bJjJynWcTGFvFg5ng6v87KvTPOIZkUkQH11HG+GY=\n"
    "-----END PUBLIC KEY-----\n";
inline constexpr int64_t kNow = 1700000000;
inline constexpr std::string_view kAudience = "pcscf.example.net";
inline constexpr int64_t kMaxLifetime = 3600;
inline constexpr std::size_t kMaxToken = 4096;  // token.cpp: longer is not read

inline const TokenVerifier& verifier() {
    static const TokenVerifier v = TokenVerifier::from_public_pem(kPublicPem);
    return v;
}

// The Ed25519 signature of any payload octets (TokenSigner signs only
// claims it encodes itself).
inline std::string sign_raw(std::string_view payload) {
    struct Free {
        void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
        void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
        void operator()(BIO* b) const { BIO_free(b); }
    };
    static const std::unique_ptr<EVP_PKEY, Free> key = [] {
        std::unique_ptr<BIO, Free> bio(
            BIO_new_mem_buf(kPrivatePem.data(), static_cast<int>(kPrivatePem.size())));
        return std::unique_ptr<EVP_PKEY, Free>(
            PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    }();
    std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
    std::array<unsigned char, 64> sig{};
    std::size_t len = sig.size();
    if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &len,
                       reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) != 1)
        return {};
    return std::string(reinterpret_cast<const char*>(sig.data()), len);
}

inline std::string signed_token(std::string_view payload) {
    return base64url_encode(payload) + "." + base64url_encode(sign_raw(payload));
}

inline std::string name(TokenError e) {
    return std::string(token_error_name(e));
}

// The verdict verify() documents for a correctly signed token of `c`.
inline TokenError expected(const Claims& c) {
    if (c.expires <= kNow) return TokenError::Expired;
    if (c.expires - kNow > kMaxLifetime) return TokenError::TooLong;
    if (c.audience != kAudience) return TokenError::WrongAudience;
    return TokenError::None;
}

inline std::string check_verify(std::string_view token) {
    const TokenCheck r = verifier().verify(token, kNow, kAudience, kMaxLifetime);
    if (static_cast<std::size_t>(r.error) >= kTokenErrorCount) return "unknown error";
    if (r.error == TokenError::Replayed) return "verify() said Replayed (the cache's word)";
    if (r.error == TokenError::Malformed) return "";
    // Past the form: the payload decodes to the claims reported.
    const std::size_t dot = token.find('.');
    std::string payload;
    Claims c;
    if (dot == std::string_view::npos || !base64url_decode(token.substr(0, dot), payload) ||
        !decode_payload(payload, c) || !(c == r.claims))
        return "not Malformed, but the claims are not the payload's";
    if (r.error == TokenError::BadSignature) return "";
    if (token != signed_token(payload))
        return "accepted a signature the key did not make (" + name(r.error) + ")";
    if (r.error != expected(c)) return name(r.error) + " where " + name(expected(c)) + " is due";
    return "";
}

inline std::string check_signed(std::string_view payload) {
    const std::string token = signed_token(payload);
    const TokenCheck r = verifier().verify(token, kNow, kAudience, kMaxLifetime);
    Claims c;
    const bool readable = token.size() <= kMaxToken && decode_payload(payload, c);
    if (!readable) {
        if (r.error != TokenError::Malformed) return "signed, unreadable payload: " + name(r.error);
        return "";
    }
    if (r.error != expected(c) || !(r.claims == c))
        return "signed payload: " + name(r.error) + " where " + name(expected(c)) + " is due";
    // Any one character changed: refused.
    static constexpr std::string_view kB64 =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const std::size_t at = (payload.size() * 7919) % token.size();
    if (token[at] == '.') return "";
    std::string changed = token;
    changed[at] = kB64[(kB64.find(token[at]) + 1 + payload.size() % 63) % 64];
    const TokenError e = verifier().verify(changed, kNow, kAudience, kMaxLifetime).error;
    if (e != TokenError::Malformed && e != TokenError::BadSignature)
        return "a changed token verified: " + name(e) + " (character " + std::to_string(at) + ")";
    return "";
}

inline std::string check_codecs(std::string_view text) {
    Claims c;
    if (decode_payload(text, c)) {
        const std::string again = encode_payload(c);
        Claims d;
        if (again.empty() || !decode_payload(again, d) || !(d == c))
            return "decode -> encode -> decode changes the claims";
    }
    std::string octets;
    if (base64url_decode(text, octets) && base64url_encode(octets) != text)
        return "base64url_decode took a text that is not the encoding of its octets";
    std::string back;
    if (!base64url_decode(base64url_encode(text), back) || back != text)
        return "base64url_encode does not decode back";
    return "";
}

inline std::string check_input(std::string_view data) {
    std::string err = check_verify(data);
    if (!err.empty()) return "as a token: " + err;
    err = check_signed(data);
    if (!err.empty()) return "as a payload: " + err;
    return check_codecs(data);
}

}  // namespace isthmus::token::fuzz
