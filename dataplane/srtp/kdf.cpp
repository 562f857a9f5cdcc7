#include "srtp/kdf.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace isthmus::srtp {

namespace {
struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Fetched once: OpenSSL 3 otherwise looks the algorithm up (under a lock)
// on every init, which was most of a session's set-up time
// (bench/command_bench).
const EVP_CIPHER* ctr_cipher(std::size_t key_len) {
    static EVP_CIPHER* const aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-CTR", nullptr);
    static EVP_CIPHER* const aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
    return key_len == 16 ? aes128 : key_len == 32 ? aes256 : nullptr;
}

// Keys `ctx` with the master key (setup once per master key).
bool key_ctx(EVP_CIPHER_CTX* ctx, std::span<const uint8_t> master_key) {
    const EVP_CIPHER* cipher = ctr_cipher(master_key.size());
    return cipher != nullptr &&
           EVP_EncryptInit_ex(ctx, cipher, nullptr, master_key.data(), nullptr) == 1;
}

// One PRF output under the key already in `ctx`.
bool prf_keyed(EVP_CIPHER_CTX* ctx, std::span<const uint8_t> master_salt, uint8_t label,
               std::span<uint8_t> out) {
    if (master_salt.size() > 14) return false;
    // x = (label || index DIV kdr) XOR master_salt, with kdr = 0 the index
    // part is zero: the label lands in octet 7 of the 14-octet value.
    std::array<uint8_t, 16> iv{};
    std::memcpy(iv.data(), master_salt.data(), master_salt.size());
    iv[7] ^= label;
    // iv[14], iv[15] = 0: the "* 2^16" of RFC 3711 4.3.3, the block counter.
    if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
    std::array<uint8_t, 64> zeros{};
    std::size_t done = 0;
    while (done < out.size()) {
        const std::size_t n = std::min(zeros.size(), out.size() - done);
        int outl = 0;
        if (EVP_EncryptUpdate(ctx, out.data() + done, &outl, zeros.data(), static_cast<int>(n)) !=
                1 ||
            static_cast<std::size_t>(outl) != n) {
            return false;
        }
        done += n;
    }
    return true;
}

}  // namespace

bool aes_cm_prf(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt,
                uint8_t label, std::span<uint8_t> out) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    return ctx && key_ctx(ctx.get(), master_key) && prf_keyed(ctx.get(), master_salt, label, out);
}

bool derive_session_keys(Suite suite, std::span<const uint8_t> master_key,
                         std::span<const uint8_t> master_salt, SessionKeySet& out) {
    const SuiteInfo info = suite_info(suite);
    if (master_key.size() != info.master_key_len || master_salt.size() != info.master_salt_len) {
        return false;
    }
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx || !key_ctx(ctx.get(), master_key)) return false;
    SessionKeySet keys;
    const auto derive = [&](KdfLabel label, std::span<uint8_t> dst) {
        return prf_keyed(ctx.get(), master_salt, static_cast<uint8_t>(label), dst);
    };
    const std::size_t klen = info.master_key_len;
    const std::size_t slen = info.session_salt_len;
    bool ok = derive(KdfLabel::RtpCipher, std::span(keys.rtp.cipher_key).first(klen)) &&
              derive(KdfLabel::RtpSalt, std::span(keys.rtp.salt).first(slen)) &&
              derive(KdfLabel::RtcpCipher, std::span(keys.rtcp.cipher_key).first(klen)) &&
              derive(KdfLabel::RtcpSalt, std::span(keys.rtcp.salt).first(slen));
    if (ok && !info.aead) {
        ok = derive(KdfLabel::RtpAuth, keys.rtp.auth_key) &&
             derive(KdfLabel::RtcpAuth, keys.rtcp.auth_key);
    }
    if (ok) out = keys;
    OPENSSL_cleanse(&keys, sizeof keys);
    return ok;
}

}  // namespace isthmus::srtp
