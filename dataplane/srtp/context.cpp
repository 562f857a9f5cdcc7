#include "srtp/context.hpp"

#include <openssl/crypto.h>

#include <cstring>

#include "srtp/engine.hpp"
#include "srtp/imb.hpp"

namespace isthmus::srtp {

static_assert(sizeof(gcm_key_data) <= sizeof(HalfKeys::gcm_key),
              "HalfKeys::gcm_key too small for this IPsec-MB's gcm_key_data");
static_assert(alignof(gcm_key_data) <= 64);

std::string_view setup_status_name(SetupStatus s) {
    switch (s) {
        case SetupStatus::Ok:
            return "ok";
        case SetupStatus::BadKeyLength:
            return "bad_key_length";
        case SetupStatus::BadSaltLength:
            return "bad_salt_length";
        case SetupStatus::CryptoInit:
            return "crypto_init";
    }
    return "?";
}

namespace {

// HMAC-SHA1 precompute (RFC 2104): the SHA-1 states after one block of
// key ^ ipad and key ^ opad, which IPsec-MB's HMAC jobs start from.
void hmac_sha1_precompute(IMB_MGR* mgr, const std::array<uint8_t, 20>& key, HalfKeys& out) {
    std::array<uint8_t, 64> block{};
    for (std::size_t i = 0; i < block.size(); ++i) {
        block[i] = static_cast<uint8_t>((i < key.size() ? key[i] : 0) ^ 0x36);
    }
    IMB_SHA1_ONE_BLOCK(mgr, block.data(), out.cm.hmac_ipad.data());
    for (std::size_t i = 0; i < block.size(); ++i) {
        block[i] = static_cast<uint8_t>((i < key.size() ? key[i] : 0) ^ 0x5c);
    }
    IMB_SHA1_ONE_BLOCK(mgr, block.data(), out.cm.hmac_opad.data());
    OPENSSL_cleanse(block.data(), block.size());
}

bool expand_half(IMB_MGR* mgr, const SuiteInfo& info, const SessionKeys& keys, HalfKeys& out) {
    out.salt.fill(0);
    std::memcpy(out.salt.data(), keys.salt.data(), info.session_salt_len);
    if (info.aead) {
        auto* gcm = reinterpret_cast<gcm_key_data*>(out.gcm_key.data());
        if (info.master_key_len == 16) {
            IMB_AES128_GCM_PRE(mgr, keys.cipher_key.data(), gcm);
        } else {
            IMB_AES256_GCM_PRE(mgr, keys.cipher_key.data(), gcm);
        }
    } else {
        alignas(16) std::array<uint8_t, 16 * 15> dec_unused{};
        if (info.master_key_len == 16) {
            IMB_AES_KEYEXP_128(mgr, keys.cipher_key.data(), out.cm.aes_enc_keys.data(),
                               dec_unused.data());
        } else {
            IMB_AES_KEYEXP_256(mgr, keys.cipher_key.data(), out.cm.aes_enc_keys.data(),
                               dec_unused.data());
        }
        OPENSSL_cleanse(dec_unused.data(), dec_unused.size());
        hmac_sha1_precompute(mgr, keys.auth_key, out);
    }
    return imb_get_errno(mgr) == 0;
}

}  // namespace

SetupStatus Context::init(Engine& engine, Suite suite, std::span<const uint8_t> master_key,
                          std::span<const uint8_t> master_salt, ContextOptions options) {
    const SuiteInfo si = suite_info(suite);
    if (master_key.size() != si.master_key_len) return SetupStatus::BadKeyLength;
    if (master_salt.size() != si.master_salt_len) return SetupStatus::BadSaltLength;
    SessionKeySet keys;
    if (!derive_session_keys(suite, master_key, master_salt, keys)) return SetupStatus::CryptoInit;
    const SetupStatus st = init_with_session_keys(engine, suite, keys, options);
    OPENSSL_cleanse(&keys, sizeof keys);
    return st;
}

SetupStatus Context::init_with_session_keys(Engine& engine, Suite suite, const SessionKeySet& keys,
                                            ContextOptions options) {
    wipe();
    suite_ = suite;
    info_ = suite_info(suite);
    options_ = options;
    if (options_.max_streams > kMaxStreams) options_.max_streams = kMaxStreams;
    if (!expand_half(engine.mgr(), info_, keys.rtp, rtp_keys) ||
        !expand_half(engine.mgr(), info_, keys.rtcp, rtcp_keys)) {
        wipe();
        return SetupStatus::CryptoInit;
    }
    engine_arch_ = engine.arch();
    ready_ = true;
    return SetupStatus::Ok;
}

void Context::wipe() {
    OPENSSL_cleanse(&rtp_keys, sizeof rtp_keys);
    OPENSSL_cleanse(&rtcp_keys, sizeof rtcp_keys);
    streams_.fill(Stream{});
    active_streams_ = 0;
    ready_ = false;
}

const Stream* Context::find_stream(uint32_t ssrc) const {
    for (const Stream& s : streams_) {
        if (s.active && s.ssrc == ssrc) return &s;
    }
    return nullptr;
}

Stream* Context::find_stream(uint32_t ssrc) {
    for (Stream& s : streams_) {
        if (s.active && s.ssrc == ssrc) return &s;
    }
    return nullptr;
}

Stream* Context::find_or_add_stream(uint32_t ssrc) {
    if (Stream* s = find_stream(ssrc)) return s;
    if (!has_free_stream()) return nullptr;
    for (Stream& s : streams_) {
        if (!s.active) {
            s = Stream{};
            s.ssrc = ssrc;
            s.active = true;
            ++active_streams_;
            return &s;
        }
    }
    return nullptr;
}

bool Context::remove_stream(uint32_t ssrc) {
    Stream* s = find_stream(ssrc);
    if (s == nullptr) return false;
    *s = Stream{};
    --active_streams_;
    return true;
}

bool Context::set_rollover_counter(uint32_t ssrc, uint32_t roc, uint16_t seq) {
    Stream* s = find_or_add_stream(ssrc);
    if (s == nullptr) return false;
    s->rtp.reset((uint64_t{roc} << 16) | seq);
    return true;
}

bool Context::set_next_srtcp_index(uint32_t ssrc, uint32_t index) {
    Stream* s = find_or_add_stream(ssrc);
    if (s == nullptr) return false;
    s->next_srtcp_index = index;
    return true;
}

}  // namespace isthmus::srtp
