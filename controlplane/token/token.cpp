// Registration tokens (token.hpp): the payload codec, base64url, Ed25519
// with OpenSSL 3, the replay cache.
#include "token/token.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <charconv>
#include <stdexcept>
#include <vector>

namespace isthmus::token {

namespace {

constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kMaxToken = 4096;  // a token longer than this is not read

bool unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        if (unreserved(c)) {
            out += c;
        } else {
            const auto u = static_cast<unsigned char>(c);
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 15];
        }
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Strict: unreserved characters as themselves, anything else as %XX.
bool percent_decode(std::string_view s, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return false;
            const int hi = hex_value(s[i + 1]);
            const int lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (unreserved(c)) {
            out += c;
        } else {
            return false;
        }
    }
    return true;
}

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::unique_ptr<BIO, BioFree> mem_bio(std::string_view pem) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw std::runtime_error("BIO_new_mem_buf failed");
    return bio;
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

void require_ed25519(const Pkey& k, const char* what) {
    if (!k) throw std::invalid_argument(std::string(what) + ": not a PEM key OpenSSL can read");
    if (EVP_PKEY_id(k.get()) != EVP_PKEY_ED25519)
        throw std::invalid_argument(std::string(what) + ": not an Ed25519 key");
}

}  // namespace

bool valid_token_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

std::string base64url_encode(std::string_view octets) {
    std::string out;
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) {
        return static_cast<uint32_t>(static_cast<unsigned char>(octets[k]));
    };
    for (; i + 3 <= octets.size(); i += 3) {
        const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    if (octets.size() - i == 1) {
        const uint32_t v = byte(i) << 16;
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
    } else if (octets.size() - i == 2) {
        const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
    }
    return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
    out.clear();
    if (text.size() % 4 == 1) return false;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const std::size_t v = kB64.find(c);
        if (v == std::string_view::npos) return false;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    // Leftover bits must be zero (one encoding per octet string).
    return (acc & ((1u << bits) - 1)) == 0;
}

std::string encode_payload(const Claims& c) {
    if (c.subject.empty() || c.audience.empty() || !valid_token_id(c.id) ||
        (c.kind != "user" && c.kind != "guest") || c.expires <= 0)
        return {};
    return "v=1&sub=" + percent_encode(c.subject) + "&aud=" + percent_encode(c.audience) +
           "&exp=" + std::to_string(c.expires) + "&jti=" + c.id + "&kind=" + c.kind;
}

bool decode_payload(std::string_view payload, Claims& out) {
    constexpr std::string_view kNames[] = {"v", "sub", "aud", "exp", "jti", "kind"};
    std::string values[6];
    std::size_t pos = 0;
    for (std::size_t k = 0; k < 6; ++k) {
        const std::size_t amp = payload.find('&', pos);
        const std::string_view field =
            payload.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
        const std::size_t eq = field.find('=');
        if (eq == std::string_view::npos || field.substr(0, eq) != kNames[k]) return false;
        if (!percent_decode(field.substr(eq + 1), values[k])) return false;
        if (amp == std::string_view::npos) {
            if (k != 5) return false;
            pos = payload.size();
        } else {
            if (k == 5) return false;  // something after kind
            pos = amp + 1;
        }
    }
    if (values[0] != "1") return false;
    int64_t exp = 0;
    const auto [end, ec] =
        std::from_chars(values[3].data(), values[3].data() + values[3].size(), exp);
    if (ec != std::errc() || end != values[3].data() + values[3].size() || exp <= 0) return false;
    if (values[1].empty() || values[2].empty() || !valid_token_id(values[4])) return false;
    if (values[5] != "user" && values[5] != "guest") return false;
    out.subject = values[1];
    out.audience = values[2];
    out.expires = exp;
    out.id = values[4];
    out.kind = values[5];
    return true;
}

// --- signer ----------------------------------------------------------------

struct TokenSigner::Key {
    Pkey pkey;
};

TokenSigner TokenSigner::from_private_pem(std::string_view pem) {
    auto bio = mem_bio(pem);
    Pkey k(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    require_ed25519(k, "token signing key");
    auto key = std::make_shared<Key>();
    key->pkey = std::move(k);
    return TokenSigner(std::move(key));
}

TokenSigner TokenSigner::generate() {
    Pkey k(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!k) throw std::runtime_error("Ed25519 key generation failed");
    auto key = std::make_shared<Key>();
    key->pkey = std::move(k);
    return TokenSigner(std::move(key));
}

std::string TokenSigner::sign(const Claims& c) const {
    const std::string payload = encode_payload(c);
    if (payload.empty()) throw std::invalid_argument("token claims cannot be encoded");
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    std::array<unsigned char, 64> sig{};
    std::size_t len = sig.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &len,
                       reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) != 1)
        throw std::runtime_error("Ed25519 signing failed");
    return base64url_encode(payload) + "." +
           base64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), len));
}

std::string TokenSigner::public_pem() const {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_->pkey.get()) != 1)
        throw std::runtime_error("cannot write the public key");
    return bio_text(bio.get());
}

std::string TokenSigner::private_pem() const {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1)
        throw std::runtime_error("cannot write the private key");
    return bio_text(bio.get());
}

// --- verifier --------------------------------------------------------------

struct TokenVerifier::Key {
    Pkey pkey;
};

TokenVerifier TokenVerifier::from_public_pem(std::string_view pem) {
    auto bio = mem_bio(pem);
    Pkey k(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    require_ed25519(k, "token public key");
    auto key = std::make_shared<Key>();
    key->pkey = std::move(k);
    return TokenVerifier(std::move(key));
}

TokenCheck TokenVerifier::verify(std::string_view token, int64_t now, std::string_view audience,
                                 int64_t max_lifetime_s) const {
    TokenCheck r;
    r.error = TokenError::Malformed;
    if (token.size() > kMaxToken) return r;
    const std::size_t dot = token.find('.');
    if (dot == std::string_view::npos || token.find('.', dot + 1) != std::string_view::npos)
        return r;
    std::string payload;
    std::string sig;
    if (!base64url_decode(token.substr(0, dot), payload) ||
        !base64url_decode(token.substr(dot + 1), sig) || sig.size() != 64)
        return r;
    if (!decode_payload(payload, r.claims)) return r;
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    const bool good =
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(payload.data()),
                         payload.size()) == 1;
    if (!good) {
        r.error = TokenError::BadSignature;
        return r;
    }
    if (r.claims.expires <= now) {
        r.error = TokenError::Expired;
    } else if (r.claims.expires - now > max_lifetime_s) {
        r.error = TokenError::TooLong;
    } else if (r.claims.audience != audience) {
        r.error = TokenError::WrongAudience;
    } else {
        r.error = TokenError::None;
    }
    return r;
}

// --- replay cache ----------------------------------------------------------

void ReplayCache::purge(int64_t now) {
    while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
        by_id_.erase(by_expiry_.begin()->second);
        by_expiry_.erase(by_expiry_.begin());
    }
}

bool ReplayCache::first_use(const std::string& id, int64_t expires, int64_t now) {
    purge(now);
    if (by_id_.count(id) != 0) return false;
    // Full of live tokens: refuse new ones rather than forget a live id
    // (which would let that token be used again).
    if (by_id_.size() >= max_) return false;
    by_id_.emplace(id, expires);
    by_expiry_.emplace(expires, id);
    return true;
}

}  // namespace isthmus::token
