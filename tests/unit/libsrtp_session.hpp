// libsrtp2 as the far end of the relay in tests: one direction of an
// SRTP/SRTCP session (the browser's side) of AES_CM_128_HMAC_SHA1_80/_32 or
// AEAD_AES_128/256_GCM, keyed from a dpif::SrtpKeys. Tests only; every
// failure is a gtest failure.
#pragma once

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <cstdint>
#include <vector>

#include "dataplane/session/session_fixtures.hpp"
#include "isthmus/dpif/messages.hpp"

namespace isthmus::test {

class LibSrtpSession {
  public:
    using Bytes = std::vector<uint8_t>;

    // `inbound`: unprotects what the relay sends; else protects what the
    // browser sends. srtp_init() runs once per process.
    LibSrtpSession(const dpif::SrtpKeys& k, bool inbound) {
        static const bool once = [] { return srtp_init() == srtp_err_status_ok; }();
        EXPECT_TRUE(once);
        key_ = key_and_salt(k);
        srtp_policy_t p{};
        switch (k.suite) {
            case 0:  // srtp::Suite::AesCm128HmacSha1_80
                srtp_crypto_policy_set_rtp_default(&p.rtp);
                srtp_crypto_policy_set_rtcp_default(&p.rtcp);
                break;
            case 1:  // AesCm128HmacSha1_32 (SRTCP keeps its 80-bit tag)
                srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
                srtp_crypto_policy_set_rtcp_default(&p.rtcp);
                break;
            case 4:  // AeadAes128Gcm
                srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
                srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
                break;
            case 5:  // AeadAes256Gcm
                srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtp);
                srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtcp);
                break;
            default:
                ADD_FAILURE() << "suite " << int{k.suite} << " not set up toward libsrtp2 here";
        }
        p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
        p.key = key_.data();
        p.window_size = 128;
        EXPECT_EQ(srtp_create(&s_, &p), srtp_err_status_ok);
    }
    ~LibSrtpSession() { srtp_dealloc(s_); }
    LibSrtpSession(const LibSrtpSession&) = delete;
    LibSrtpSession& operator=(const LibSrtpSession&) = delete;

    Bytes protect(Bytes b, bool rtcp = false) {
        int len = static_cast<int>(b.size());
        b.resize(b.size() + SRTP_MAX_TRAILER_LEN + 4);
        EXPECT_EQ(rtcp ? srtp_protect_rtcp(s_, b.data(), &len) : srtp_protect(s_, b.data(), &len),
                  srtp_err_status_ok);
        b.resize(static_cast<std::size_t>(len));
        return b;
    }
    bool unprotect(Bytes& b, bool rtcp = false) {
        int len = static_cast<int>(b.size());
        const auto st =
            rtcp ? srtp_unprotect_rtcp(s_, b.data(), &len) : srtp_unprotect(s_, b.data(), &len);
        b.resize(static_cast<std::size_t>(len));
        return st == srtp_err_status_ok;
    }

  private:
    srtp_t s_ = nullptr;
    Bytes key_;
};

}  // namespace isthmus::test
