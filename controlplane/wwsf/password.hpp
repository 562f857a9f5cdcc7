// Web users' password hashes: scrypt (RFC 7914) with OpenSSL's
// EVP_PBE_scrypt, a random salt per user, in a self-describing text form
//
//   scrypt$N$r$p$SALT$HASH
//
// N the CPU/memory cost (a power of two, written in decimal: 32768), r the
// block size, p the parallelism, SALT and HASH base64url without padding
// (RFC 4648 5; token::base64url_encode). Defaults N = 2^15, r = 8, p = 1:
// 32 MiB and about 50-100 ms per check on one core, the cost RFC 7914 and
// OWASP suggest for interactive logins.
//
//   PasswordHash h = hash_password("secret");          // random 16-octet salt
//   std::string line = format_password_hash(h);        // "scrypt$32768$8$1$...$..."
//   auto back = parse_password_hash(line, why);        // strict
//   bool ok = verify_password("secret", *back);        // constant-time compare
//
// Pure functions apart from OpenSSL (RAND_bytes for the salt); any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace isthmus::wwsf {

struct ScryptParams {
    uint64_t n = uint64_t{1} << 15;  // cost: a power of two, 2^1..2^20
    uint32_t r = 8;                  // block size 1..32
    uint32_t p = 1;                  // parallelism 1..16
    bool operator==(const ScryptParams&) const = default;
};

struct PasswordHash {
    ScryptParams params;
    std::string salt;  // 8..64 octets
    std::string hash;  // 16..64 octets: the derived key
    bool operator==(const PasswordHash&) const = default;
};

// Bounds a stored hash must keep (so that a users file cannot make a check
// take gigabytes): 128 * r * N at most 256 MiB.
inline constexpr uint64_t kScryptMaxMemory = uint64_t{256} << 20;

// Reads the text form. Strict: exactly six '$'-separated fields, "scrypt"
// first, decimals without sign or leading zeros, N a power of two >= 2,
// the bounds above, base64url without padding. nullopt with `why` saying
// what is wrong ("N must be a power of two", "salt: not base64url", ...).
std::optional<PasswordHash> parse_password_hash(std::string_view text, std::string& why);

// The text form of `h`; parse_password_hash(format_password_hash(h)) == h.
std::string format_password_hash(const PasswordHash& h);

// A new hash of `password` with a random 16-octet salt and a 32-octet key.
// Throws std::runtime_error if OpenSSL fails (no randomness, no memory).
PasswordHash hash_password(std::string_view password, const ScryptParams& params = {});

// Whether `password` derives `h.hash` under `h`'s salt and parameters; the
// comparison is constant-time (CRYPTO_memcmp). False when OpenSSL fails.
bool verify_password(std::string_view password, const PasswordHash& h);

}  // namespace isthmus::wwsf
