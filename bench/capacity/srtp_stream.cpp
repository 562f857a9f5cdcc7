// SRTP for the load tool on OpenSSL, checked against libsrtp2 (see the
// header).
#include "srtp_stream.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace isthmus::bench::capacity {

namespace {

constexpr std::size_t kHeader = 12;
constexpr std::size_t kSessionKey = 16;
constexpr std::size_t kAuthKey = 20;  // HMAC-SHA1 (RFC 3711 4.2.1: n_a = 160)

[[noreturn]] void openssl_fail(const char* what) {
    throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

// The AES-CM PRF of RFC 3711 4.3.3 with kdr 0: `n` octets of keystream
// under the master key from IV = (master salt, zero-padded to 14 octets,
// XOR label in octet 7) * 2^16. libsrtp2 pads GCM's 12-octet salt the same
// way.
void derive(const SrtpKey& key, uint8_t label, uint8_t* out, std::size_t n) {
    const SrtpSuiteInfo& info = suite_info(key.suite);
    std::array<uint8_t, 16> iv{};
    std::memcpy(iv.data(), key.key_salt.data() + kSessionKey, info.key_salt_len - kSessionKey);
    iv[7] ^= label;
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                        EVP_CIPHER_CTX_free);
    std::array<uint8_t, 32> zero{};
    int outl = 0;
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, key.key_salt.data(), iv.data()) !=
            1 ||
        EVP_EncryptUpdate(ctx.get(), out, &outl, zero.data(), static_cast<int>(n)) != 1)
        openssl_fail("key derivation");
}

void put32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

}  // namespace

SrtpStream::SrtpStream(const SrtpKey& key, Role role)
    : suite_(key.suite), role_(role), tag_len_(suite_info(key.suite).tag_len) {
    std::array<uint8_t, kSessionKey> session_key{};
    derive(key, 0x00, session_key.data(), session_key.size());  // label 0: cipher key
    const bool gcm = suite_ == SrtpSuite::aead_aes_128_gcm;
    derive(key, 0x02, salt_, gcm ? 12 : 14);  // label 2: salt
    cipher_ = EVP_CIPHER_CTX_new();
    if (cipher_ == nullptr) openssl_fail("EVP_CIPHER_CTX_new");
    const int enc = role == Role::protect || !gcm ? 1 : 0;  // CTR runs the same both ways
    if (EVP_CipherInit_ex(cipher_, gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(), nullptr,
                          session_key.data(), nullptr, enc) != 1)
        openssl_fail("EVP_CipherInit_ex");
    if (gcm) return;
    std::array<uint8_t, kAuthKey> auth_key{};
    derive(key, 0x01, auth_key.data(), auth_key.size());  // label 1: auth key
    EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (hmac == nullptr) openssl_fail("EVP_MAC_fetch(HMAC)");
    mac_ = EVP_MAC_CTX_new(hmac);
    EVP_MAC_free(hmac);  // the context holds its own reference
    char digest[] = "SHA1";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (mac_ == nullptr || EVP_MAC_init(mac_, auth_key.data(), auth_key.size(), params) != 1)
        openssl_fail("EVP_MAC_init(HMAC-SHA1)");
}

SrtpStream::~SrtpStream() {
    EVP_CIPHER_CTX_free(cipher_);
    EVP_MAC_CTX_free(mac_);
}

void SrtpStream::iv(const uint8_t* p, uint64_t index, uint8_t* out) const {
    if (suite_ == SrtpSuite::aead_aes_128_gcm) {
        // RFC 7714 8.1: (00 00 || SSRC || ROC || SEQ) XOR salt, 12 octets.
        std::memcpy(out, salt_, 12);
        for (int i = 0; i < 4; ++i)
            out[2 + i] ^= p[8 + i];
        for (int i = 0; i < 6; ++i)
            out[6 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
        return;
    }
    // RFC 3711 4.1.1: (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16).
    std::memcpy(out, salt_, 14);
    out[14] = out[15] = 0;
    for (int i = 0; i < 4; ++i)
        out[4 + i] ^= p[8 + i];
    for (int i = 0; i < 6; ++i)
        out[8 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
}

std::size_t SrtpStream::protect(uint8_t* p, std::size_t len, uint64_t index) {
    std::array<uint8_t, 16> nonce;
    iv(p, index, nonce.data());
    const int payload = static_cast<int>(len - kHeader);
    int outl = 0;
    if (suite_ == SrtpSuite::aead_aes_128_gcm) {
        std::array<uint8_t, 16> none;
        if (EVP_EncryptInit_ex(cipher_, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
            EVP_EncryptUpdate(cipher_, nullptr, &outl, p, kHeader) != 1 ||  // AAD: the header
            EVP_EncryptUpdate(cipher_, p + kHeader, &outl, p + kHeader, payload) != 1 ||
            EVP_EncryptFinal_ex(cipher_, none.data(), &outl) != 1 ||
            EVP_CIPHER_CTX_ctrl(cipher_, EVP_CTRL_GCM_GET_TAG, 16, p + len) != 1)
            return 0;
        return len + 16;
    }
    if (EVP_EncryptInit_ex(cipher_, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
        EVP_EncryptUpdate(cipher_, p + kHeader, &outl, p + kHeader, payload) != 1)
        return 0;
    // RFC 3711 4.2: HMAC over the packet and the ROC, the first 80 bits.
    std::array<uint8_t, 4> roc;
    put32(roc.data(), static_cast<uint32_t>(index >> 16));
    std::array<uint8_t, 20> full;
    std::size_t macl = 0;
    if (EVP_MAC_init(mac_, nullptr, 0, nullptr) != 1 || EVP_MAC_update(mac_, p, len) != 1 ||
        EVP_MAC_update(mac_, roc.data(), roc.size()) != 1 ||
        EVP_MAC_final(mac_, full.data(), &macl, full.size()) != 1)
        return 0;
    std::memcpy(p + len, full.data(), tag_len_);
    return len + tag_len_;
}

std::size_t SrtpStream::unprotect(uint8_t* p, std::size_t len, uint64_t index) {
    if (len < kHeader + tag_len_) return 0;
    const std::size_t rtp_len = len - tag_len_;
    const int payload = static_cast<int>(rtp_len - kHeader);
    std::array<uint8_t, 16> nonce;
    iv(p, index, nonce.data());
    int outl = 0;
    if (suite_ == SrtpSuite::aead_aes_128_gcm) {
        std::array<uint8_t, 16> none;
        if (EVP_DecryptInit_ex(cipher_, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
            EVP_DecryptUpdate(cipher_, nullptr, &outl, p, kHeader) != 1 ||
            EVP_DecryptUpdate(cipher_, p + kHeader, &outl, p + kHeader, payload) != 1 ||
            EVP_CIPHER_CTX_ctrl(cipher_, EVP_CTRL_GCM_SET_TAG, 16, p + rtp_len) != 1 ||
            EVP_DecryptFinal_ex(cipher_, none.data(), &outl) != 1)
            return 0;
        return rtp_len;
    }
    std::array<uint8_t, 4> roc;
    put32(roc.data(), static_cast<uint32_t>(index >> 16));
    std::array<uint8_t, 20> full;
    std::size_t macl = 0;
    if (EVP_MAC_init(mac_, nullptr, 0, nullptr) != 1 || EVP_MAC_update(mac_, p, rtp_len) != 1 ||
        EVP_MAC_update(mac_, roc.data(), roc.size()) != 1 ||
        EVP_MAC_final(mac_, full.data(), &macl, full.size()) != 1 ||
        CRYPTO_memcmp(full.data(), p + rtp_len, tag_len_) != 0)
        return 0;
    if (EVP_EncryptInit_ex(cipher_, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
        EVP_EncryptUpdate(cipher_, p + kHeader, &outl, p + kHeader, payload) != 1)
        return 0;
    return rtp_len;
}

srtp_t make_libsrtp2_session(const SrtpKey& key, bool outbound) {
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof policy);
    switch (key.suite) {
        case SrtpSuite::aes_cm_128_hmac_sha1_80:
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
            break;
        case SrtpSuite::aead_aes_128_gcm:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
            break;
    }
    std::array<uint8_t, 30> master = key.key_salt;  // libsrtp2 takes a non-const pointer
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = master.data();
    policy.window_size = 0;  // libsrtp2's default replay window (128)
    policy.next = nullptr;
    srtp_t session = nullptr;
    if (const srtp_err_status_t err = srtp_create(&session, &policy); err != srtp_err_status_ok)
        throw std::runtime_error("srtp_create failed (srtp_err_status " +
                                 std::to_string(static_cast<int>(err)) + ") for " +
                                 suite_info(key.suite).sdes_name);
    return session;
}

void srtp_self_test(SrtpSuite suite) {
    const SrtpKey key = random_key(suite);
    const char* name = suite_info(suite).sdes_name;
    // Across a rollover in steps libsrtp2's index guess follows (< 2^15).
    constexpr std::array<uint64_t, 8> kIndices = {0, 1, 2, 30000, 60000, 65535, 65536, 65537};
    auto packet = [](uint64_t index, uint8_t* p) {
        std::memset(p, 0, kRtpPacket);
        p[0] = 0x80;
        p[2] = static_cast<uint8_t>(index >> 8);
        p[3] = static_cast<uint8_t>(index);
        put32(p + 8, kSsrcBase);
        fill_payload(p + kHeader, 7, 0, static_cast<uint16_t>(index));
    };
    auto fail = [&](const std::string& what, uint64_t index) {
        throw std::runtime_error(std::string("SRTP self-test (") + name + ", index " +
                                 std::to_string(index) + "): " + what);
    };
    for (const bool ours_protect : {true, false}) {
        SrtpStream ours(key,
                        ours_protect ? SrtpStream::Role::protect : SrtpStream::Role::unprotect);
        const std::unique_ptr<srtp_ctx_t, decltype(&srtp_dealloc)> session(
            make_libsrtp2_session(key, !ours_protect), srtp_dealloc);
        srtp_t ref = session.get();
        for (const uint64_t index : kIndices) {
            std::array<uint8_t, kRtpPacket + 32> p, want;
            packet(index, p.data());
            want = p;
            int len = static_cast<int>(kRtpPacket);
            if (ours_protect) {
                len = static_cast<int>(ours.protect(p.data(), kRtpPacket, index));
                if (len == 0 || srtp_unprotect(ref, p.data(), &len) != srtp_err_status_ok)
                    fail("libsrtp2 rejects what this code protected", index);
            } else {
                if (srtp_protect(ref, p.data(), &len) != srtp_err_status_ok)
                    fail("libsrtp2 cannot protect", index);
                std::array<uint8_t, kRtpPacket + 32> tampered = p;
                tampered[kHeader] ^= 1;
                if (ours.unprotect(tampered.data(), static_cast<std::size_t>(len), index) != 0)
                    fail("a tampered packet passed", index);
                len = static_cast<int>(
                    ours.unprotect(p.data(), static_cast<std::size_t>(len), index));
                if (len == 0) fail("this code rejects what libsrtp2 protected", index);
            }
            if (len != static_cast<int>(kRtpPacket) ||
                std::memcmp(p.data(), want.data(), kRtpPacket) != 0)
                fail("the packet differs after the round trip", index);
        }
    }
}

}  // namespace isthmus::bench::capacity
