// An SRTP crypto context (RFC 3711 3.2): one suite, the session keys derived
// from one master key and salt, and the per-SSRC state (ROC, replay lists,
// SRTCP index) of the streams protected under it.
//
// A context serves one direction: use it either for protect_* (sending) or
// for unprotect_* (receiving), as a DTLS-SRTP leg has one of each.
//
// Ownership and threads: a Context is owned by one worker lcore and touched
// only by that lcore's transforms, with the Engine its keys were set up with.
// Its memory is fixed at construction (no allocation afterwards); its size is
// given by sizeof(Context) and listed in docs/performance.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "srtp/engine.hpp"
#include "srtp/kdf.hpp"
#include "srtp/replay.hpp"
#include "srtp/suite.hpp"

namespace isthmus::srtp {

enum class SetupStatus : uint8_t {
    Ok,
    BadKeyLength,   // master key length does not match the suite
    BadSaltLength,  // master salt length does not match the suite
    CryptoInit,     // key expansion or derivation failed
};
std::string_view setup_status_name(SetupStatus s);

// Streams (SSRCs) one context can carry: audio, video, RTX and FEC of one
// bundled transport fit with room to spare.
inline constexpr std::size_t kMaxStreams = 8;

// Per-SSRC state (RFC 3711 3.2.3).
struct Stream {
    uint32_t ssrc = 0;
    bool active = false;
    ReplayWindow rtp;               // highest 48-bit index (ROC << 16 | SEQ) and window
    ReplayWindow rtcp;              // receiving: highest SRTCP index and window
    uint32_t next_srtcp_index = 0;  // sending: index of the next SRTCP packet (RFC 3711 3.4)
};

struct ContextOptions {
    // Streams this context may learn, at most kMaxStreams. A packet for an
    // unknown SSRC when all are taken gets Status::UnknownSsrc. Receiving
    // contexts learn an SSRC only from a packet that authenticated.
    uint8_t max_streams = kMaxStreams;
};

// Key material of one half (SRTP or SRTCP), as IPsec-MB wants it.
struct CmKeys {                                             // AES-CM + HMAC-SHA1 suites
    alignas(16) std::array<uint8_t, 16 * 15> aes_enc_keys;  // expanded, 128 or 256
    alignas(16) std::array<uint8_t, 32> hmac_ipad;  // SHA-1 state after (key ^ 0x36..) block
    alignas(16) std::array<uint8_t, 32> hmac_opad;  // SHA-1 state after (key ^ 0x5c..) block
};
// The salt first: with AES-CM a packet then reads one run of lines (salt,
// key schedule, HMAC pads: lines 0-5) instead of a line 1 KiB away.
struct alignas(64) HalfKeys {
    // Session salt, zero padded (14 octets for AES-CM, 12 for GCM)
    alignas(16) std::array<uint8_t, 16> salt{};
    union {
        CmKeys cm;
        // AEAD suites: IPsec-MB's struct gcm_key_data (arch-specific layout)
        alignas(64) std::array<uint8_t, 1024> gcm_key{};
    };
};

class Context {
  public:
    Context() = default;
    ~Context() { wipe(); }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    // Derives session keys (RFC 3711 4.3, kdr 0) from the master key and salt
    // and expands them for `engine`. Resets all stream state.
    SetupStatus init(Engine& engine, Suite suite, std::span<const uint8_t> master_key,
                     std::span<const uint8_t> master_salt, ContextOptions options = {});

    // Same with session keys given directly (test vectors, key continuity).
    SetupStatus init_with_session_keys(Engine& engine, Suite suite, const SessionKeySet& keys,
                                       ContextOptions options = {});

    // Zeroes every key and forgets all streams; the context is unusable until
    // the next init. Called by the destructor.
    void wipe();

    bool ready() const { return ready_; }
    // The manager architecture of the Engine the keys were expanded for;
    // transforms refuse (UnknownContext) an Engine of another one.
    ImbArch engine_arch() const { return engine_arch_; }
    Suite suite() const { return suite_; }
    const SuiteInfo& info() const { return info_; }

    // The stream of an SSRC, or nullptr.
    const Stream* find_stream(uint32_t ssrc) const;

    // RFC 3711 3.3.1: set the ROC (and the sequence number it goes with) of
    // an SSRC known out of band, creating the stream if needed. Returns false
    // when no stream slot is free.
    bool set_rollover_counter(uint32_t ssrc, uint32_t roc, uint16_t seq);

    // Forgets an SSRC's stream (the control plane, when the SSRC leaves the
    // session: BYE, a new offer). Receiving contexts only: a sending context
    // that saw the SSRC again would restart its index and reuse keystream, so
    // it must be re-keyed (init) instead. Returns whether it existed.
    bool remove_stream(uint32_t ssrc);

    // Sending: the SRTCP index the next protected RTCP packet of an SSRC
    // gets (RFC 3711 3.4; 0 for a new stream), for key continuity across a
    // restart and for test vectors. Returns false when no slot is free.
    bool set_next_srtcp_index(uint32_t ssrc, uint32_t index);

    // Starts loading the lines an RTP transform of this context touches
    // (keys, salt, suite and stream state) into the cache: the relay calls
    // it for every packet of a burst before running the transforms, so that
    // with many sessions the misses overlap instead of queueing.
    void prefetch() const {
        const auto* k = reinterpret_cast<const char*>(&rtp_keys);
        for (int line = 0; line < 6; ++line)  // salt, AES-CM keys and HMAC pads
            __builtin_prefetch(k + 64 * line);
        __builtin_prefetch(&ready_);    // suite
        __builtin_prefetch(&streams_);  // the first stream
    }

    // --- used by the transforms (transform.cpp) -------------------------
    Stream* find_stream(uint32_t ssrc);
    // The stream for ssrc, creating it in a free slot; nullptr when full.
    Stream* find_or_add_stream(uint32_t ssrc);
    bool has_free_stream() const { return active_streams_ < options_.max_streams; }

    HalfKeys rtp_keys;
    HalfKeys rtcp_keys;

  private:
    bool ready_ = false;
    ImbArch engine_arch_ = ImbArch::Auto;
    Suite suite_ = Suite::AesCm128HmacSha1_80;
    SuiteInfo info_ = suite_info(Suite::AesCm128HmacSha1_80);
    ContextOptions options_{};
    uint8_t active_streams_ = 0;
    std::array<Stream, kMaxStreams> streams_{};
};

}  // namespace isthmus::srtp
