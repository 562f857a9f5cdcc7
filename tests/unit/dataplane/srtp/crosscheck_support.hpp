// What the byte-for-byte cross-checks of the SRTP engine against libsrtp2 2.5
// share (crosscheck_test.cpp, crosscheck_replay_test.cpp,
// crosscheck_burst_test.cpp): a libsrtp session, our engine one packet at a
// time, random RTP and RTCP packets, seeds, and the suite x manager fixture.
// All randomness comes from std::mt19937 seeded with a fixed base seed
// (ISTHMUS_SRTP_CROSS_SEED overrides it) mixed with the test and the suite;
// every failure names the seed and the packet.
//
// Not in an anonymous namespace: SrtpCrossCheck has TEST_Ps in more than one
// file, and gtest wants one fixture type per suite name.
#pragma once

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <source_location>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "hex.hpp"
#include "srtp/context.hpp"
#include "srtp/engine.hpp"
#include "srtp/status.hpp"
#include "srtp/suite.hpp"
#include "srtp/transform.hpp"

namespace isthmus::srtp::crosscheck {

using Bytes = std::vector<uint8_t>;
using test::to_hex;

// Room past a packet for any trailer: libsrtp may write SRTP_MAX_TRAILER_LEN
// (+4 for SRTCP) octets, whatever the suite.
inline constexpr uint32_t kSlack = SRTP_MAX_TRAILER_LEN + 8;
inline constexpr std::size_t kWindow = 128;  // replay window of both implementations
inline constexpr std::size_t kSuites = kSuiteCount;

// --- set-up helpers -----------------------------------------------------------

// srtp_init, once per process (never shut down); a fatal failure if it fails.
void ensure_libsrtp();

uint32_t base_seed();
std::string hex32(uint32_t v);
std::string seed_note(uint32_t seed);

// The manager's name in test names ("Sse", "Avx2", ...).
const char* arch_label(ImbArch a);

// Use from SetUp(): `out` gets the engine, or the test is skipped (CPU lacks
// the instructions) or failed (it has them and the engine still refused).
void make_engine(ImbArch arch, std::unique_ptr<Engine>& out);

class Rng {
  public:
    explicit Rng(uint32_t seed) : gen_(seed) {}
    uint32_t u32() { return static_cast<uint32_t>(gen_()); }
    uint32_t range(uint32_t lo, uint32_t hi) {
        return std::uniform_int_distribution<uint32_t>(lo, hi)(gen_);
    }
    bool chance(uint32_t percent) { return range(0, 99) < percent; }
    uint8_t byte() { return static_cast<uint8_t>(range(0, 255)); }
    void append(Bytes& b, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
            b.push_back(byte());
    }

  private:
    std::mt19937 gen_;
};

// The Rng of one test on `seed`; while it lives, every failure names the
// seed, traced to the line that made it (as SCOPED_TRACE would be).
class SeededRng : public Rng {
  public:
    explicit SeededRng(uint32_t seed, std::source_location at = std::source_location::current())
        : Rng(seed), trace_(at.file_name(), static_cast<int>(at.line()), seed_note(seed)) {}

  private:
    ::testing::ScopedTrace trace_;
};

struct MasterKey {
    Bytes key;
    Bytes salt;
};

MasterKey random_master_key(Rng& rng, Suite suite);
std::vector<uint32_t> distinct_ssrcs(Rng& rng, std::size_t n);

// --- libsrtp ------------------------------------------------------------------

// One libsrtp session (srtp_t) with one policy; freed on destruction.
class LibSession {
  public:
    // type: ssrc_any_outbound / ssrc_any_inbound, or ssrc_specific with `ssrc`.
    // rtcp_encrypt false sends SRTCP with E=0 (authentication only).
    LibSession(Suite suite, const MasterKey& mk, srtp_ssrc_type_t type, uint32_t ssrc = 0,
               bool rtcp_encrypt = true);
    ~LibSession();
    LibSession(const LibSession&) = delete;
    LibSession& operator=(const LibSession&) = delete;

    srtp_err_status_t create_status() const { return status_; }
    srtp_t get() const { return session_; }

    srtp_err_status_t protect_rtp(Bytes& b) { return run(srtp_protect, b); }
    srtp_err_status_t unprotect_rtp(Bytes& b) { return run(srtp_unprotect, b); }
    srtp_err_status_t protect_rtcp(Bytes& b) { return run(srtp_protect_rtcp, b); }
    srtp_err_status_t unprotect_rtcp(Bytes& b) { return run(srtp_unprotect_rtcp, b); }

    // The ROC of a stream, or nullopt when libsrtp has none for the SSRC.
    std::optional<uint32_t> roc(uint32_t ssrc) const;

  private:
    // In place; the vector keeps the old size when libsrtp refuses.
    srtp_err_status_t run(srtp_err_status_t (*fn)(srtp_t, void*, int*), Bytes& b);

    srtp_t session_ = nullptr;
    srtp_err_status_t status_ = srtp_err_status_fail;
};

// libsrtp's per-packet verdict in our terms (parse errors and the like map
// to CryptoError: only "refused" matters for them).
Status from_libsrtp(srtp_err_status_t e);

// --- our engine, on vectors ----------------------------------------------------

using SpanFn = void (*)(Engine&, std::span<PacketOp>);
inline const SpanFn kProtectRtp = static_cast<SpanFn>(&protect_rtp);
inline const SpanFn kUnprotectRtp = static_cast<SpanFn>(&unprotect_rtp);
inline const SpanFn kProtectRtcp = static_cast<SpanFn>(&protect_rtcp);
inline const SpanFn kUnprotectRtcp = static_cast<SpanFn>(&unprotect_rtcp);

// One packet through a transform, in place; the vector keeps its old size
// unless the status is Ok.
Status run_one(SpanFn fn, Engine& e, Context* c, Bytes& b);

inline std::string_view name(Status s) {
    return status_name(s);
}

::testing::AssertionResult same_bytes(const Bytes& got, const Bytes& want);

// --- packets -------------------------------------------------------------------

inline void set_seq(Bytes& b, uint16_t seq) {
    b[2] = static_cast<uint8_t>(seq >> 8);
    b[3] = static_cast<uint8_t>(seq);
}

enum class Ext : uint8_t { None, OneByte, TwoByte };

struct RtpShape {
    uint32_t cc = 0;      // CSRC count, 0..15
    Ext ext = Ext::None;  // RFC 8285 one-byte (0xBEDE) or two-byte (0x100X) extension
    uint32_t ext_elements = 0;
    bool marker = false;
    uint32_t payload = 0;  // octets before any padding
    uint32_t padding = 0;  // RTP padding octets (last one holds the count), 0 = P bit clear
};

RtpShape random_shape(Rng& rng);
Bytes build_rtp(Rng& rng, const RtpShape& s, uint32_t ssrc, uint16_t seq);
Bytes random_rtp(Rng& rng, uint32_t ssrc, uint16_t seq);

// A compound RTCP packet (RFC 3550 6.1): an SR or RR from `ssrc` first, then
// up to two more packets of random type and length; 8 octets at least.
Bytes random_rtcp(Rng& rng, uint32_t ssrc);

// --- the suite x manager fixture -----------------------------------------------

using Param = std::tuple<ImbArch, Suite>;

// Both ends of a cross-check on one master key: our sender and receiver, and
// libsrtp's (ssrc_any_outbound / ssrc_any_inbound). Each test checks the
// create_status() of the libsrtp ends it uses.
struct Peers {
    MasterKey mk;
    std::unique_ptr<Context> ours_tx, ours_rx;
    LibSession lib_tx, lib_rx;
};

class SrtpCrossCheck : public ::testing::TestWithParam<Param> {
  protected:
    void SetUp() override;

    // Seed of one test: the same packets on every manager, different per suite.
    uint32_t seed(uint32_t test_tag) const;

    std::unique_ptr<Context> context(const MasterKey& mk);

    // Peers on a master key drawn from `rng`.
    Peers peers(Rng& rng);

    Status protect(Context& c, Bytes& b) { return run_one(kProtectRtp, *engine_, &c, b); }
    Status unprotect(Context& c, Bytes& b) { return run_one(kUnprotectRtp, *engine_, &c, b); }
    Status protect_c(Context& c, Bytes& b) { return run_one(kProtectRtcp, *engine_, &c, b); }
    Status unprotect_c(Context& c, Bytes& b) { return run_one(kUnprotectRtcp, *engine_, &c, b); }

    static uint32_t our_roc(const Context& c, uint32_t ssrc);

    // Protects `plain` with both senders, checks the SRTP is the same octets,
    // and that each receiver takes the other sender's packet back to `plain`.
    ::testing::AssertionResult rtp_both_ways(Context& ours_tx, LibSession& lib_tx, Context& ours_rx,
                                             LibSession& lib_rx, const Bytes& plain,
                                             Bytes* sent = nullptr);
    ::testing::AssertionResult rtp_both_ways(Peers& p, const Bytes& plain) {
        return rtp_both_ways(*p.ours_tx, p.lib_tx, *p.ours_rx, p.lib_rx, plain);
    }

    ImbArch arch_ = ImbArch::Auto;
    Suite suite_ = Suite::AesCm128HmacSha1_80;
    SuiteInfo info_ = suite_info(Suite::AesCm128HmacSha1_80);
    std::unique_ptr<Engine> engine_;
};

// "Sse_AES_CM_128_HMAC_SHA1_80" and so on.
std::string param_name(const ::testing::TestParamInfo<Param>& i);

}  // namespace isthmus::srtp::crosscheck
