// scrypt password hashes (password.hpp).
#include "wwsf/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "token/token.hpp"

namespace isthmus::wwsf {

namespace {

constexpr std::size_t kSaltOctets = 16;
constexpr std::size_t kHashOctets = 32;

// A decimal without sign or leading zeros, 1..max.
bool decimal(std::string_view s, uint64_t max, uint64_t& out) {
    if (s.empty() || s.size() > 20 || (s.size() > 1 && s.front() == '0')) return false;
    for (const char c : s) {
        if (c < '0' || c > '9') return false;
    }
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && out >= 1 && out <= max;
}

// What OpenSSL's scrypt needs: the V array (128 r (N + 2)) and B (128 r p).
uint64_t scrypt_memory(const ScryptParams& p) {
    return 128 * uint64_t{p.r} * (p.n + 2) + 128 * uint64_t{p.r} * p.p;
}

bool derive(std::string_view password, const std::string& salt, const ScryptParams& p,
            std::string& out, std::size_t length) {
    out.assign(length, '\0');
    return EVP_PBE_scrypt(password.data(), password.size(),
                          reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), p.n,
                          p.r, p.p, scrypt_memory(p) + 4096,
                          reinterpret_cast<unsigned char*>(out.data()), out.size()) == 1;
}

}  // namespace

std::optional<PasswordHash> parse_password_hash(std::string_view text, std::string& why) {
    std::array<std::string_view, 6> f{};
    std::size_t count = 0;
    while (true) {
        const std::size_t dollar = text.find('$');
        if (count == f.size()) {
            why = "expected scrypt$N$r$p$salt$hash (6 fields separated by '$')";
            return std::nullopt;
        }
        f[count++] = text.substr(0, dollar);
        if (dollar == std::string_view::npos) break;
        text.remove_prefix(dollar + 1);
    }
    if (count != f.size()) {
        why = "expected scrypt$N$r$p$salt$hash (6 fields separated by '$')";
        return std::nullopt;
    }
    if (f[0] != "scrypt") {
        why = "unknown scheme \"" + std::string(f[0]) + "\" (only scrypt)";
        return std::nullopt;
    }
    PasswordHash h;
    uint64_t v = 0;
    if (!decimal(f[1], uint64_t{1} << 20, v) || v < 2 || (v & (v - 1)) != 0) {
        why = "N must be a power of two 2..1048576";
        return std::nullopt;
    }
    h.params.n = v;
    if (!decimal(f[2], 32, v)) {
        why = "r must be 1..32";
        return std::nullopt;
    }
    h.params.r = static_cast<uint32_t>(v);
    if (!decimal(f[3], 16, v)) {
        why = "p must be 1..16";
        return std::nullopt;
    }
    h.params.p = static_cast<uint32_t>(v);
    if (128 * uint64_t{h.params.r} * h.params.n > kScryptMaxMemory) {
        why = "128 * r * N exceeds 256 MiB";
        return std::nullopt;
    }
    if (!token::base64url_decode(f[4], h.salt) || h.salt.size() < 8 || h.salt.size() > 64) {
        why = "salt: not base64url of 8..64 octets";
        return std::nullopt;
    }
    if (!token::base64url_decode(f[5], h.hash) || h.hash.size() < 16 || h.hash.size() > 64) {
        why = "hash: not base64url of 16..64 octets";
        return std::nullopt;
    }
    return h;
}

std::string format_password_hash(const PasswordHash& h) {
    return "scrypt$" + std::to_string(h.params.n) + "$" + std::to_string(h.params.r) + "$" +
           std::to_string(h.params.p) + "$" + token::base64url_encode(h.salt) + "$" +
           token::base64url_encode(h.hash);
}

PasswordHash hash_password(std::string_view password, const ScryptParams& params) {
    PasswordHash h;
    h.params = params;
    std::array<unsigned char, kSaltOctets> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
        throw std::runtime_error("hash_password: no randomness (RAND_bytes)");
    }
    h.salt.assign(salt.begin(), salt.end());
    if (!derive(password, h.salt, params, h.hash, kHashOctets)) {
        throw std::runtime_error("hash_password: EVP_PBE_scrypt failed (parameters or memory)");
    }
    return h;
}

bool verify_password(std::string_view password, const PasswordHash& h) {
    std::string derived;
    if (h.hash.empty() || !derive(password, h.salt, h.params, derived, h.hash.size())) {
        return false;
    }
    const bool same = CRYPTO_memcmp(derived.data(), h.hash.data(), h.hash.size()) == 0;
    OPENSSL_cleanse(derived.data(), derived.size());
    return same;
}

}  // namespace isthmus::wwsf
