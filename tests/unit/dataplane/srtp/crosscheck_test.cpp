// Byte-for-byte cross-checks of the SRTP engine against libsrtp2 2.5, the
// implementation most WebRTC and IMS peers run, for every suite in
// kAllSuites and every IPsec-MB manager this CPU runs:
//   - SRTP output equals libsrtp's for randomised packets of every RTP shape,
//     and each side unprotects the other's (SRTP and SRTCP);
//   - sequence-number wrap and out-of-band ROC (RFC 3711 3.3.1);
//   - replay decisions on reordered and duplicated streams (RFC 3711 3.3.2);
//   - every flipped bit and every truncation is refused and leaves the
//     stream state alone;
//   - bursts that mix suites give the results of one-at-a-time calls and
//     count every status.
// All randomness comes from std::mt19937 seeded with a fixed base seed
// (ISTHMUS_SRTP_CROSS_SEED overrides it) mixed with the test and the suite;
// every failure names the seed and the packet.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "hex.hpp"
#include "srtp/context.hpp"
#include "srtp/engine.hpp"
#include "srtp/rtp_header.hpp"
#include "srtp/status.hpp"
#include "srtp/suite.hpp"
#include "srtp/transform.hpp"

namespace isthmus::srtp {
namespace {

using Bytes = std::vector<uint8_t>;
using test::to_hex;

// Room past a packet for any trailer: libsrtp may write SRTP_MAX_TRAILER_LEN
// (+4 for SRTCP) octets, whatever the suite.
constexpr uint32_t kSlack = SRTP_MAX_TRAILER_LEN + 8;
constexpr std::size_t kWindow = 128;  // replay window of both implementations
constexpr std::size_t kSuites = kSuiteCount;

// --- set-up helpers -----------------------------------------------------------

void ensure_libsrtp() {
    static const srtp_err_status_t init = srtp_init();  // once per process; never shut down
    ASSERT_EQ(init, srtp_err_status_ok) << "srtp_init failed";
}

uint32_t base_seed() {
    if (const char* s = std::getenv("ISTHMUS_SRTP_CROSS_SEED")) {
        return static_cast<uint32_t>(std::strtoul(s, nullptr, 0));
    }
    return 0x15745D0EU;
}

std::string hex32(uint32_t v) {
    std::ostringstream o;
    o << "0x" << std::hex << v;
    return o.str();
}

std::string seed_note(uint32_t seed) {
    return "seed " + hex32(seed) + " (base " + hex32(base_seed()) +
           "; set ISTHMUS_SRTP_CROSS_SEED to change it)";
}

std::size_t suite_index(Suite s) {
    return static_cast<std::size_t>(s);
}

const char* arch_label(ImbArch a) {
    switch (a) {
        case ImbArch::Sse:
            return "Sse";
        case ImbArch::Avx2:
            return "Avx2";
        case ImbArch::Avx512:
            return "Avx512";
        case ImbArch::Auto:
            return "Auto";
    }
    return "Unknown";
}

// Whether the CPU has what IPsec-MB's manager needs; a manager that fails to
// start on a CPU that has it is a failure, not a skip.
bool cpu_has(ImbArch arch) {
    __builtin_cpu_init();
    const bool aes = __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
    switch (arch) {
        case ImbArch::Sse:
            return aes && __builtin_cpu_supports("sse4.2");
        case ImbArch::Avx2:
            return aes && __builtin_cpu_supports("avx2");
        case ImbArch::Avx512:
            return aes && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512cd");
        case ImbArch::Auto:
            return true;
    }
    return false;
}

// Use from SetUp(): `out` gets the engine, or the test is skipped (CPU lacks
// the instructions) or failed (it has them and the engine still refused).
void make_engine(ImbArch arch, std::unique_ptr<Engine>& out) {
    try {
        out = std::make_unique<Engine>(arch);
    } catch (const std::exception& e) {
        if (cpu_has(arch)) {
            FAIL() << "Engine(" << arch_label(arch)
                   << ") threw on a CPU that has its instructions: " << e.what();
        }
        GTEST_SKIP() << "CPU lacks " << arch_label(arch) << ": " << e.what();
    }
    ASSERT_EQ(static_cast<int>(out->arch()), static_cast<int>(arch));
}

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

struct MasterKey {
    Bytes key;
    Bytes salt;
};

MasterKey random_master_key(Rng& rng, Suite suite) {
    const SuiteInfo si = suite_info(suite);
    MasterKey mk;
    rng.append(mk.key, si.master_key_len);
    rng.append(mk.salt, si.master_salt_len);
    return mk;
}

std::vector<uint32_t> distinct_ssrcs(Rng& rng, std::size_t n) {
    std::set<uint32_t> s;
    while (s.size() < n)
        s.insert(rng.u32());
    std::vector<uint32_t> v(s.begin(), s.end());
    std::shuffle(v.begin(), v.end(), std::mt19937(rng.u32()));
    return v;
}

// --- libsrtp ------------------------------------------------------------------

void set_libsrtp_policy(Suite suite, srtp_policy_t& p) {
    switch (suite) {
        case Suite::AesCm128HmacSha1_80:
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
            srtp_crypto_policy_set_rtp_default(&p.rtcp);
            break;
        case Suite::AesCm128HmacSha1_32:
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
            srtp_crypto_policy_set_rtp_default(&p.rtcp);  // SRTCP keeps 80 bits (RFC 4568 6.2.1)
            break;
        case Suite::AesCm256HmacSha1_80:
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtp);
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtcp);
            break;
        case Suite::AesCm256HmacSha1_32:
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p.rtp);
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtcp);  // RFC 6188 4.1
            break;
        case Suite::AeadAes128Gcm:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
            break;
        case Suite::AeadAes256Gcm:
            srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtp);
            srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtcp);
            break;
    }
}

// One libsrtp session (srtp_t) with one policy; freed on destruction.
class LibSession {
  public:
    // type: ssrc_any_outbound / ssrc_any_inbound, or ssrc_specific with `ssrc`.
    // rtcp_encrypt false sends SRTCP with E=0 (authentication only).
    LibSession(Suite suite, const MasterKey& mk, srtp_ssrc_type_t type, uint32_t ssrc = 0,
               bool rtcp_encrypt = true) {
        Bytes key_salt = mk.key;  // libsrtp wants key || salt, contiguous
        key_salt.insert(key_salt.end(), mk.salt.begin(), mk.salt.end());
        srtp_policy_t p{};
        set_libsrtp_policy(suite, p);
        if (!rtcp_encrypt) p.rtcp.sec_serv = sec_serv_auth;
        p.ssrc.type = type;
        p.ssrc.value = ssrc;
        p.key = key_salt.data();
        p.window_size = kWindow;
        p.allow_repeat_tx = 0;
        p.next = nullptr;
        status_ = srtp_create(&session_, &p);
    }
    ~LibSession() {
        if (session_ != nullptr) srtp_dealloc(session_);
    }
    LibSession(const LibSession&) = delete;
    LibSession& operator=(const LibSession&) = delete;

    srtp_err_status_t create_status() const { return status_; }
    srtp_t get() const { return session_; }

    srtp_err_status_t protect_rtp(Bytes& b) { return run(srtp_protect, b); }
    srtp_err_status_t unprotect_rtp(Bytes& b) { return run(srtp_unprotect, b); }
    srtp_err_status_t protect_rtcp(Bytes& b) { return run(srtp_protect_rtcp, b); }
    srtp_err_status_t unprotect_rtcp(Bytes& b) { return run(srtp_unprotect_rtcp, b); }

    // The ROC of a stream, or nullopt when libsrtp has none for the SSRC.
    std::optional<uint32_t> roc(uint32_t ssrc) const {
        uint32_t r = 0;
        if (srtp_get_stream_roc(session_, ssrc, &r) != srtp_err_status_ok) return std::nullopt;
        return r;
    }

  private:
    // In place; the vector keeps the old size when libsrtp refuses.
    srtp_err_status_t run(srtp_err_status_t (*fn)(srtp_t, void*, int*), Bytes& b) {
        const std::size_t n = b.size();
        b.resize(n + kSlack);
        int len = static_cast<int>(n);
        const srtp_err_status_t st = fn(session_, b.data(), &len);
        b.resize(st == srtp_err_status_ok ? static_cast<std::size_t>(len) : n);
        return st;
    }

    srtp_t session_ = nullptr;
    srtp_err_status_t status_ = srtp_err_status_fail;
};

// libsrtp's per-packet verdict in our terms (parse errors and the like map
// to CryptoError: only "refused" matters for them).
Status from_libsrtp(srtp_err_status_t e) {
    switch (e) {
        case srtp_err_status_ok:
            return Status::Ok;
        case srtp_err_status_auth_fail:
            return Status::AuthFail;
        case srtp_err_status_replay_fail:
            return Status::Replay;
        case srtp_err_status_replay_old:
            return Status::ReplayOld;
        default:
            return Status::CryptoError;
    }
}

// --- our engine, on vectors ----------------------------------------------------

using SpanFn = void (*)(Engine&, std::span<PacketOp>);
const SpanFn kProtectRtp = static_cast<SpanFn>(&protect_rtp);
const SpanFn kUnprotectRtp = static_cast<SpanFn>(&unprotect_rtp);
const SpanFn kProtectRtcp = static_cast<SpanFn>(&protect_rtcp);
const SpanFn kUnprotectRtcp = static_cast<SpanFn>(&unprotect_rtcp);

// One packet through a transform, in place; the vector keeps its old size
// unless the status is Ok.
Status run_one(SpanFn fn, Engine& e, Context* c, Bytes& b) {
    const auto n = static_cast<uint32_t>(b.size());
    b.resize(n + kSlack);
    PacketOp op{c, b.data(), n, static_cast<uint32_t>(b.size()), Status::Ok};
    fn(e, std::span(&op, 1));
    b.resize(op.status == Status::Ok ? op.len : n);
    return op.status;
}

std::string_view name(Status s) {
    return status_name(s);
}

::testing::AssertionResult same_bytes(const Bytes& got, const Bytes& want) {
    if (got == want) return ::testing::AssertionSuccess();
    std::size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i])
        ++i;
    return ::testing::AssertionFailure()
           << "first difference at octet " << i << " (lengths " << got.size() << " vs "
           << want.size() << ")\n  got:  " << to_hex(got) << "\n  want: " << to_hex(want);
}

// --- packets -------------------------------------------------------------------

void push_be16(Bytes& b, uint32_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
void push_be32(Bytes& b, uint32_t v) {
    push_be16(b, v >> 16);
    push_be16(b, v & 0xffffU);
}
void set_seq(Bytes& b, uint16_t seq) {
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

RtpShape random_shape(Rng& rng) {
    RtpShape s;
    s.cc = rng.chance(50) ? 0 : rng.range(1, 15);
    s.ext = static_cast<Ext>(rng.range(0, 2));
    s.ext_elements = rng.range(0, 6);
    s.marker = rng.chance(30);
    const uint32_t size_class = rng.range(0, 9);
    s.payload = size_class == 0 ? 0 : size_class <= 3 ? rng.range(1, 40) : rng.range(41, 1400);
    s.padding = rng.chance(25) ? rng.range(1, 64) : 0;
    return s;
}

// RFC 8285 header extension with `elements` random elements, padded to words.
void append_extension(Rng& rng, Bytes& b, Ext ext, uint32_t elements) {
    const std::size_t start = b.size();
    push_be16(b, ext == Ext::OneByte ? 0xBEDEU : 0x1000U | rng.range(0, 15));
    push_be16(b, 0);  // length in words, set below
    for (uint32_t i = 0; i < elements; ++i) {
        if (ext == Ext::OneByte) {
            const uint32_t len = rng.range(1, 16);
            b.push_back(static_cast<uint8_t>((rng.range(1, 14) << 4) | (len - 1)));
            rng.append(b, len);
        } else {
            const uint32_t len = rng.range(0, 40);
            b.push_back(static_cast<uint8_t>(rng.range(1, 255)));
            b.push_back(static_cast<uint8_t>(len));
            rng.append(b, len);
        }
        if (rng.chance(20)) b.push_back(0);  // padding between elements
    }
    while ((b.size() - start) % 4 != 0)
        b.push_back(0);
    const auto words = static_cast<uint32_t>((b.size() - start - 4) / 4);
    b[start + 2] = static_cast<uint8_t>(words >> 8);
    b[start + 3] = static_cast<uint8_t>(words);
}

Bytes build_rtp(Rng& rng, const RtpShape& s, uint32_t ssrc, uint16_t seq) {
    Bytes b;
    b.push_back(static_cast<uint8_t>(0x80U | (s.padding != 0 ? 0x20U : 0U) |
                                     (s.ext != Ext::None ? 0x10U : 0U) | s.cc));
    b.push_back(static_cast<uint8_t>((s.marker ? 0x80U : 0U) | rng.range(0, 127)));
    push_be16(b, seq);
    push_be32(b, rng.u32());  // timestamp
    push_be32(b, ssrc);
    for (uint32_t i = 0; i < s.cc; ++i)
        push_be32(b, rng.u32());
    if (s.ext != Ext::None) append_extension(rng, b, s.ext, s.ext_elements);
    rng.append(b, s.payload);
    if (s.padding != 0) {
        b.insert(b.end(), s.padding - 1, 0);
        b.push_back(static_cast<uint8_t>(s.padding));
    }
    return b;
}

Bytes random_rtp(Rng& rng, uint32_t ssrc, uint16_t seq) {
    return build_rtp(rng, random_shape(rng), ssrc, seq);
}

// A compound RTCP packet (RFC 3550 6.1): an SR or RR from `ssrc` first, then
// up to two more packets of random type and length; 8 octets at least.
Bytes random_rtcp(Rng& rng, uint32_t ssrc) {
    Bytes b;
    const uint32_t packets = rng.range(1, 3);
    for (uint32_t i = 0; i < packets; ++i) {
        if (i == 0) {
            const bool sr = rng.chance(50);
            const uint32_t blocks = rng.range(0, 3);
            const uint32_t words = 1 + (sr ? 5 : 0) + 6 * blocks;
            b.push_back(static_cast<uint8_t>(0x80U | blocks));
            b.push_back(sr ? 200 : 201);
            push_be16(b, words);
            push_be32(b, ssrc);
            rng.append(b, 4 * (words - 1));
        } else {
            const uint32_t words = rng.range(1, 60);
            b.push_back(static_cast<uint8_t>(0x80U | rng.range(0, 31)));
            b.push_back(static_cast<uint8_t>(rng.range(202, 206)));
            push_be16(b, words);
            rng.append(b, 4 * words);
        }
    }
    return b;
}

// --- the suite x manager fixture -----------------------------------------------

using Param = std::tuple<ImbArch, Suite>;

class SrtpCrossCheck : public ::testing::TestWithParam<Param> {
  protected:
    void SetUp() override {
        ensure_libsrtp();
        if (HasFatalFailure()) return;
        arch_ = std::get<0>(GetParam());
        suite_ = std::get<1>(GetParam());
        info_ = suite_info(suite_);
        make_engine(arch_, engine_);
    }

    // Seed of one test: the same packets on every manager, different per suite.
    uint32_t seed(uint32_t test_tag) const {
        return base_seed() ^ (test_tag * 0x9E3779B1U) ^
               (static_cast<uint32_t>(suite_index(suite_) + 1) * 0x85EBCA6BU);
    }

    std::unique_ptr<Context> context(const MasterKey& mk) {
        auto c = std::make_unique<Context>();
        const SetupStatus st = c->init(*engine_, suite_, mk.key, mk.salt);
        EXPECT_EQ(setup_status_name(st), setup_status_name(SetupStatus::Ok));
        return c;
    }

    Status protect(Context& c, Bytes& b) { return run_one(kProtectRtp, *engine_, &c, b); }
    Status unprotect(Context& c, Bytes& b) { return run_one(kUnprotectRtp, *engine_, &c, b); }
    Status protect_c(Context& c, Bytes& b) { return run_one(kProtectRtcp, *engine_, &c, b); }
    Status unprotect_c(Context& c, Bytes& b) { return run_one(kUnprotectRtcp, *engine_, &c, b); }

    static uint32_t our_roc(const Context& c, uint32_t ssrc) {
        const Stream* s = c.find_stream(ssrc);
        return s == nullptr ? 0xDEADBEEFU : static_cast<uint32_t>(s->rtp.highest() >> 16);
    }

    // Protects `plain` with both senders, checks the SRTP is the same octets,
    // and that each receiver takes the other sender's packet back to `plain`.
    ::testing::AssertionResult rtp_both_ways(Context& ours_tx, LibSession& lib_tx, Context& ours_rx,
                                             LibSession& lib_rx, const Bytes& plain,
                                             Bytes* sent = nullptr) {
        Bytes ours = plain, lib = plain;
        const Status so = protect(ours_tx, ours);
        const srtp_err_status_t sl = lib_tx.protect_rtp(lib);
        if (so != Status::Ok || sl != srtp_err_status_ok) {
            return ::testing::AssertionFailure() << "protect: ours " << name(so) << ", libsrtp "
                                                 << sl << "; plaintext " << to_hex(plain);
        }
        if (auto r = same_bytes(ours, lib); !r) return r << "\n  plaintext " << to_hex(plain);
        if (sent != nullptr) *sent = ours;
        Bytes a = ours, b = lib;
        const srtp_err_status_t ul = lib_rx.unprotect_rtp(a);
        const Status uo = unprotect(ours_rx, b);
        if (ul != srtp_err_status_ok || uo != Status::Ok) {
            return ::testing::AssertionFailure()
                   << "unprotect: libsrtp of ours " << ul << ", ours of libsrtp " << name(uo)
                   << "; srtp " << to_hex(ours) << "; plaintext " << to_hex(plain);
        }
        if (auto r = same_bytes(a, plain); !r) return r << " (libsrtp unprotecting ours)";
        if (auto r = same_bytes(b, plain); !r) return r << " (ours unprotecting libsrtp's)";
        return ::testing::AssertionSuccess();
    }

    ImbArch arch_ = ImbArch::Auto;
    Suite suite_ = Suite::AesCm128HmacSha1_80;
    SuiteInfo info_ = suite_info(Suite::AesCm128HmacSha1_80);
    std::unique_ptr<Engine> engine_;
};

// 1. SRTP: same octets as libsrtp for every RTP shape, four SSRCs under one
// context, random starting sequence numbers; each side unprotects the other.
TEST_P(SrtpCrossCheck, RtpMatchesLibsrtpByteForByte) {
    const uint32_t sd = seed(1);
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    const MasterKey mk = random_master_key(rng, suite_);
    auto ours_tx = context(mk), ours_rx = context(mk);
    LibSession lib_tx(suite_, mk, ssrc_any_outbound), lib_rx(suite_, mk, ssrc_any_inbound);
    ASSERT_EQ(lib_tx.create_status(), srtp_err_status_ok);
    ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);

    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 4);
    std::vector<uint16_t> seqs;
    for (std::size_t k = 0; k < ssrcs.size(); ++k)
        seqs.push_back(static_cast<uint16_t>(rng.u32()));
    for (int i = 0; i < 400; ++i) {
        const std::size_t k = rng.range(0, 3);
        const Bytes plain = random_rtp(rng, ssrcs[k], seqs[k]++);
        ASSERT_TRUE(rtp_both_ways(*ours_tx, lib_tx, *ours_rx, lib_rx, plain)) << "packet " << i;
    }
    for (const uint32_t ssrc : ssrcs) {
        ASSERT_TRUE(lib_tx.roc(ssrc).has_value());
        EXPECT_EQ(our_roc(*ours_tx, ssrc), *lib_tx.roc(ssrc)) << "ssrc " << hex32(ssrc);
        EXPECT_EQ(our_roc(*ours_rx, ssrc), *lib_rx.roc(ssrc)) << "ssrc " << hex32(ssrc);
    }
}

// 1. SRTCP: our first index is 0 (RFC 3711 3.4) and libsrtp's is 1, so our
// sender sends one extra packet per SSRC first; after it both senders use the
// same index for the same packet and must produce the same octets.
TEST_P(SrtpCrossCheck, RtcpMatchesLibsrtpOnceIndicesAlign) {
    const uint32_t sd = seed(2);
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    const MasterKey mk = random_master_key(rng, suite_);
    auto ours_tx = context(mk), ours_rx = context(mk);
    LibSession lib_tx(suite_, mk, ssrc_any_outbound), lib_rx(suite_, mk, ssrc_any_inbound);
    ASSERT_EQ(lib_tx.create_status(), srtp_err_status_ok);
    ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);

    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 3);
    for (const uint32_t ssrc : ssrcs) {
        const Bytes plain = random_rtcp(rng, ssrc);
        Bytes first = plain;
        ASSERT_EQ(name(protect_c(*ours_tx, first)), name(Status::Ok));
        const std::size_t idx_at = first.size() - 4 - (info_.aead ? 0 : info_.rtcp_tag_len);
        EXPECT_EQ(to_hex(first.data() + idx_at, 4), "80000000") << "E=1, index 0";
        ASSERT_EQ(lib_rx.unprotect_rtcp(first), srtp_err_status_ok) << to_hex(plain);
        ASSERT_TRUE(same_bytes(first, plain));
    }
    for (int i = 0; i < 200; ++i) {
        const uint32_t ssrc = ssrcs[rng.range(0, 2)];
        const Bytes plain = random_rtcp(rng, ssrc);
        Bytes ours = plain, lib = plain;
        ASSERT_EQ(name(protect_c(*ours_tx, ours)), name(Status::Ok)) << to_hex(plain);
        ASSERT_EQ(lib_tx.protect_rtcp(lib), srtp_err_status_ok) << to_hex(plain);
        ASSERT_TRUE(same_bytes(ours, lib)) << "packet " << i << ", plaintext " << to_hex(plain);
        ASSERT_EQ(lib_rx.unprotect_rtcp(ours), srtp_err_status_ok) << "packet " << i;
        ASSERT_TRUE(same_bytes(ours, plain)) << "libsrtp unprotecting ours, packet " << i;
        ASSERT_EQ(name(unprotect_c(*ours_rx, lib)), name(Status::Ok)) << "packet " << i;
        ASSERT_TRUE(same_bytes(lib, plain)) << "ours unprotecting libsrtp's, packet " << i;
    }
}

// SRTCP with E=0 (RFC 3711 3.4; RFC 7714 9.3 for GCM: the whole packet is
// authenticated data) from libsrtp is accepted and left as sent.
TEST_P(SrtpCrossCheck, UnencryptedSrtcpFromLibsrtpIsAccepted) {
    const uint32_t sd = seed(3);
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    const MasterKey mk = random_master_key(rng, suite_);
    auto ours_rx = context(mk);
    LibSession lib_tx(suite_, mk, ssrc_any_outbound, 0, /*rtcp_encrypt=*/false);
    ASSERT_EQ(lib_tx.create_status(), srtp_err_status_ok);
    const uint32_t ssrc = rng.u32();
    for (int i = 0; i < 50; ++i) {
        const Bytes plain = random_rtcp(rng, ssrc);
        Bytes lib = plain;
        ASSERT_EQ(lib_tx.protect_rtcp(lib), srtp_err_status_ok);
        ASSERT_TRUE(std::equal(plain.begin(), plain.end(), lib.begin())) << "E=0 leaves RTCP clear";
        const std::size_t idx_at = lib.size() - 4 - (info_.aead ? 0 : info_.rtcp_tag_len);
        EXPECT_EQ(lib[idx_at] & 0x80, 0) << "E flag";
        Bytes forged = lib;
        forged[info_.aead ? lib.size() - 5 : lib.size() - 1] ^= 0x01;  // a tag octet
        EXPECT_NE(name(unprotect_c(*ours_rx, forged)), name(Status::Ok)) << to_hex(lib);
        ASSERT_EQ(name(unprotect_c(*ours_rx, lib)), name(Status::Ok))
            << "packet " << i << ": " << to_hex(plain);
        ASSERT_TRUE(same_bytes(lib, plain));
    }
}

// 2. A stream across seq 65535 -> 0: same octets, and ROC 1 afterwards on
// both sides of both implementations (RFC 3711 3.3.1).
TEST_P(SrtpCrossCheck, SequenceWrapAdvancesRoc) {
    const uint32_t sd = seed(4);
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    const MasterKey mk = random_master_key(rng, suite_);
    auto ours_tx = context(mk), ours_rx = context(mk);
    LibSession lib_tx(suite_, mk, ssrc_any_outbound), lib_rx(suite_, mk, ssrc_any_inbound);
    ASSERT_EQ(lib_tx.create_status(), srtp_err_status_ok);
    ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);
    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 2);
    std::vector<uint16_t> seqs = {static_cast<uint16_t>(65500 + rng.range(0, 30)),
                                  static_cast<uint16_t>(65500 + rng.range(0, 30))};
    for (int i = 0; i < 400; ++i) {
        const std::size_t k = rng.range(0, 1);
        const Bytes plain = random_rtp(rng, ssrcs[k], seqs[k]++);
        ASSERT_TRUE(rtp_both_ways(*ours_tx, lib_tx, *ours_rx, lib_rx, plain))
            << "packet " << i << ", seq " << seqs[k] - 1;
    }
    for (const uint32_t ssrc : ssrcs) {
        EXPECT_EQ(our_roc(*ours_tx, ssrc), 1U);
        EXPECT_EQ(our_roc(*ours_rx, ssrc), 1U);
        EXPECT_EQ(lib_tx.roc(ssrc).value_or(0), 1U);
        EXPECT_EQ(lib_rx.roc(ssrc).value_or(0), 1U);
    }
}

// 2. A ROC set out of band (Context::set_rollover_counter vs
// srtp_set_stream_roc): same octets from the first packet on, including a
// wrap from ROC 0xfffffffe to 0xffffffff; a receiver that was not told the
// ROC refuses the packets.
TEST_P(SrtpCrossCheck, OutOfBandRocMatchesLibsrtp) {
    const uint32_t sd = seed(5);
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    struct Case {
        uint32_t roc;
        uint16_t seq;
    };
    const Case cases[] = {
        {rng.range(1, 0x7fffffff), static_cast<uint16_t>(rng.u32())},
        {rng.range(0x80000000U, 0xfffffff0U), static_cast<uint16_t>(rng.range(0, 60000))},
        {0xfffffffeU, static_cast<uint16_t>(65400 + rng.range(0, 100))},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE("ROC " + hex32(c.roc) + ", first seq " + std::to_string(c.seq));
        const MasterKey mk = random_master_key(rng, suite_);
        const uint32_t ssrc = rng.u32();
        auto ours_tx = context(mk), ours_rx = context(mk), ours_unaware = context(mk);
        LibSession lib_tx(suite_, mk, ssrc_specific, ssrc), lib_rx(suite_, mk, ssrc_specific, ssrc);
        ASSERT_EQ(lib_tx.create_status(), srtp_err_status_ok);
        ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);
        ASSERT_EQ(srtp_set_stream_roc(lib_tx.get(), ssrc, c.roc), srtp_err_status_ok);
        ASSERT_EQ(srtp_set_stream_roc(lib_rx.get(), ssrc, c.roc), srtp_err_status_ok);
        ASSERT_TRUE(ours_tx->set_rollover_counter(ssrc, c.roc, c.seq));
        ASSERT_TRUE(ours_rx->set_rollover_counter(ssrc, c.roc, c.seq));
        uint16_t seq = c.seq;
        for (int i = 0; i < 300; ++i) {
            const Bytes plain = random_rtp(rng, ssrc, seq++);
            Bytes sent;
            ASSERT_TRUE(rtp_both_ways(*ours_tx, lib_tx, *ours_rx, lib_rx, plain, &sent))
                << "packet " << i << ", seq " << seq - 1;
            if (i == 0) {
                EXPECT_NE(name(unprotect(*ours_unaware, sent)), name(Status::Ok))
                    << "a receiver at ROC 0 took a packet of ROC " << hex32(c.roc);
            }
        }
        const uint32_t end_roc =
            static_cast<uint32_t>(((uint64_t{c.roc} << 16) + c.seq + 299) >> 16);
        EXPECT_EQ(our_roc(*ours_tx, ssrc), end_roc);
        EXPECT_EQ(our_roc(*ours_rx, ssrc), end_roc);
        EXPECT_EQ(lib_tx.roc(ssrc).value_or(0), end_roc);
        EXPECT_EQ(lib_rx.roc(ssrc).value_or(0), end_roc);
    }
}

// --- 3. replay ---------------------------------------------------------------

// RFC 3711 3.3.2 with a 128-entry window, as plainly as possible.
class WindowModel {
  public:
    Status check(uint64_t index) const {
        if (!started_ || index > highest_) return Status::Ok;
        if (highest_ - index >= kWindow) return Status::ReplayOld;
        return seen_.count(index) != 0 ? Status::Replay : Status::Ok;
    }
    void accept(uint64_t index) {
        if (!started_ || index > highest_) highest_ = index;
        started_ = true;
        seen_.insert(index);
    }

  private:
    bool started_ = false;
    uint64_t highest_ = 0;
    std::set<uint64_t> seen_;
};

// Delivery order of n packets sent in order: the first one first; some late
// by up to 200 packets (past the window), some delivered twice.
std::vector<std::size_t> delivery_schedule(Rng& rng, std::size_t n) {
    std::vector<std::pair<uint64_t, std::size_t>> ev = {{0, 0}};
    for (std::size_t i = 1; i < n; ++i) {
        uint64_t t = uint64_t{i} * 1000;
        if (rng.chance(20)) t += uint64_t{rng.range(1, 200)} * 1000 + rng.range(0, 999);
        ev.emplace_back(t, i);
        if (rng.chance(8)) ev.emplace_back(t + uint64_t{rng.range(0, 250)} * 1000 + 500, i);
    }
    std::stable_sort(ev.begin(), ev.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::size_t> order;
    for (const auto& e : ev)
        order.push_back(e.second);
    return order;
}

struct Receivers {
    std::function<Status(Bytes&)> ours;
    std::function<srtp_err_status_t(Bytes&)> lib;
};

// Feeds packets[order[k]] to both receivers; their verdicts must agree with
// each other and with the model, and accepted packets must decrypt. Returns
// how often each status was seen.
std::array<int, kStatusCount> replay_run(Receivers& rx, const std::vector<Bytes>& plain,
                                         const std::vector<Bytes>& prot,
                                         const std::vector<uint64_t>& index,
                                         const std::vector<std::size_t>& order,
                                         const std::vector<Status>* expected = nullptr) {
    std::array<int, kStatusCount> seen{};
    WindowModel model;
    for (std::size_t k = 0; k < order.size(); ++k) {
        const std::size_t i = order[k];
        Bytes a = prot[i], b = prot[i];
        const Status so = rx.ours(a);
        const Status sl = from_libsrtp(rx.lib(b));
        const Status want = model.check(index[i]);
        const std::string where = "delivery " + std::to_string(k) + " of packet " +
                                  std::to_string(i) + " (index " + std::to_string(index[i]) +
                                  "): " + to_hex(prot[i]);
        EXPECT_EQ(name(so), name(sl)) << "ours vs libsrtp, " << where;
        EXPECT_EQ(name(so), name(want)) << "ours vs RFC 3711 model, " << where;
        if (expected != nullptr) {
            EXPECT_EQ(name(so), name((*expected)[k])) << where;
        }
        if (so != sl || so != want) return seen;  // one report per divergence
        if (so == Status::Ok) {
            model.accept(index[i]);
            EXPECT_TRUE(same_bytes(a, plain[i])) << where;
            EXPECT_TRUE(same_bytes(b, plain[i])) << where;
        }
        ++seen[static_cast<std::size_t>(so)];
    }
    return seen;
}

// Packets 0, 200 and then around the window's edge (highest - 127 is in,
// highest - 128 is out).
const std::vector<std::size_t> kEdgeOrder = {0,   200, 73, 72, 73,  200, 199,
                                             201, 73,  74, 0,  300, 172, 173};
const std::vector<Status> kEdgeExpect = {
    Status::Ok,        Status::Ok, Status::Ok,        Status::ReplayOld, Status::Replay,
    Status::Replay,    Status::Ok, Status::Ok,        Status::ReplayOld, Status::Ok,
    Status::ReplayOld, Status::Ok, Status::ReplayOld, Status::Ok};

// 3. SRTP: a reordered, duplicated stream gets the same verdicts from both.
TEST_P(SrtpCrossCheck, RtpReplayDecisionsMatchLibsrtp) {
    const uint32_t sd = seed(6);
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    const MasterKey mk = random_master_key(rng, suite_);
    auto ours_tx = context(mk), ours_rx = context(mk);
    LibSession lib_rx(suite_, mk, ssrc_any_inbound);
    ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);
    Receivers rx{[&](Bytes& b) { return unprotect(*ours_rx, b); },
                 [&](Bytes& b) { return lib_rx.unprotect_rtp(b); }};

    // A random schedule on one SSRC (its start seq may wrap), the edge
    // schedule on another (start seq low enough not to).
    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 2);
    for (int run = 0; run < 2; ++run) {
        SCOPED_TRACE(run == 0 ? "random schedule" : "window edges");
        const std::size_t n = run == 0 ? 700 : 301;
        const uint16_t s0 = static_cast<uint16_t>(run == 0 ? rng.u32() : rng.range(1000, 20000));
        std::vector<Bytes> plain, prot;
        std::vector<uint64_t> index;
        for (std::size_t i = 0; i < n; ++i) {
            RtpShape shape = random_shape(rng);
            shape.payload %= 200;  // many packets; keep them small
            plain.push_back(build_rtp(rng, shape, ssrcs[static_cast<std::size_t>(run)],
                                      static_cast<uint16_t>(s0 + i)));
            prot.push_back(plain.back());
            ASSERT_EQ(name(protect(*ours_tx, prot.back())), name(Status::Ok));
            index.push_back(uint64_t{s0} + i);
        }
        if (run == 0) {
            const auto seen = replay_run(rx, plain, prot, index, delivery_schedule(rng, n));
            EXPECT_GT(seen[static_cast<std::size_t>(Status::Replay)], 0);
            EXPECT_GT(seen[static_cast<std::size_t>(Status::ReplayOld)], 0);
        } else {
            replay_run(rx, plain, prot, index, kEdgeOrder, &kEdgeExpect);
        }
    }
}

// 3. SRTCP: the same, on the 31-bit SRTCP index.
TEST_P(SrtpCrossCheck, RtcpReplayDecisionsMatchLibsrtp) {
    const uint32_t sd = seed(7);
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    const MasterKey mk = random_master_key(rng, suite_);
    auto ours_tx = context(mk), ours_rx = context(mk);
    LibSession lib_rx(suite_, mk, ssrc_any_inbound);
    ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);
    Receivers rx{[&](Bytes& b) { return unprotect_c(*ours_rx, b); },
                 [&](Bytes& b) { return lib_rx.unprotect_rtcp(b); }};
    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 2);
    for (int run = 0; run < 2; ++run) {
        SCOPED_TRACE(run == 0 ? "random schedule" : "window edges");
        const std::size_t n = run == 0 ? 700 : 301;
        std::vector<Bytes> plain, prot;
        std::vector<uint64_t> index;
        for (std::size_t i = 0; i < n; ++i) {
            plain.push_back(random_rtcp(rng, ssrcs[static_cast<std::size_t>(run)]));
            prot.push_back(plain.back());
            ASSERT_EQ(name(protect_c(*ours_tx, prot.back())), name(Status::Ok));
            index.push_back(i);  // our SRTCP index starts at 0
        }
        if (run == 0) {
            const auto seen = replay_run(rx, plain, prot, index, delivery_schedule(rng, n));
            EXPECT_GT(seen[static_cast<std::size_t>(Status::Replay)], 0);
            EXPECT_GT(seen[static_cast<std::size_t>(Status::ReplayOld)], 0);
        } else {
            replay_run(rx, plain, prot, index, kEdgeOrder, &kEdgeExpect);
        }
    }
}

// --- 4. tampering --------------------------------------------------------------

using StatusSet = uint32_t;
constexpr StatusSet bit_of(Status s) {
    return StatusSet{1} << static_cast<unsigned>(s);
}
constexpr StatusSet kAnyRefusal = ((StatusSet{1} << kStatusCount) - 1) & ~bit_of(Status::Ok);

std::string set_names(StatusSet s) {
    std::string out;
    for (std::size_t i = 0; i < kStatusCount; ++i) {
        if ((s & (StatusSet{1} << i)) != 0) {
            out += std::string(out.empty() ? "" : "|") +
                   std::string(status_name(static_cast<Status>(i)));
        }
    }
    return out;
}

// Flips each bit in `bits` of a fresh SRTP (or SRTCP) packet: both receivers
// must refuse it with a status from allowed(octet), after which the untouched
// packet must still be accepted by both (nothing was learnt from the forgery).
// Then every truncation of one more packet is refused, and a packet of a
// never-seen SSRC is accepted (no stream slot was spent on a forgery).
struct TamperRig {
    std::function<Bytes(uint32_t)> make_plain;  // plaintext number t
    std::function<Status(Bytes&)> protect;
    std::function<Status(Bytes&)> ours;
    std::function<srtp_err_status_t(Bytes&)> lib;
    std::function<StatusSet(std::size_t)> allowed;  // by octet offset in the protected packet
};

void flip_bits(TamperRig& rig, uint32_t& t, const std::vector<std::size_t>& bits) {
    for (const std::size_t bit : bits) {
        const Bytes plain = rig.make_plain(t++);
        Bytes prot = plain;
        ASSERT_EQ(name(rig.protect(prot)), name(Status::Ok));
        ASSERT_LT(bit / 8, prot.size());
        Bytes f = prot;
        f[bit / 8] ^= static_cast<uint8_t>(1U << (bit % 8));
        Bytes fo = f, fl = f;
        const Status so = rig.ours(fo);
        const StatusSet ok_set = rig.allowed(bit / 8);
        EXPECT_NE(ok_set & bit_of(so), 0U)
            << "bit " << bit << " (octet " << bit / 8 << ") flipped: got " << name(so) << ", want "
            << set_names(ok_set) << "\n  forged " << to_hex(f);
        const srtp_err_status_t sl = rig.lib(fl);
        EXPECT_NE(sl, srtp_err_status_ok) << "libsrtp took bit " << bit << " flipped";
        Bytes o = prot, l = prot;
        ASSERT_EQ(name(rig.ours(o)), name(Status::Ok))
            << "the genuine packet after a forgery of bit " << bit << " (forgery got " << name(so)
            << "): " << to_hex(prot);
        ASSERT_TRUE(same_bytes(o, plain));
        ASSERT_EQ(rig.lib(l), srtp_err_status_ok) << "libsrtp, genuine after bit " << bit;
    }
}

void truncate_all(TamperRig& rig, uint32_t& t) {
    const Bytes plain = rig.make_plain(t++);
    Bytes prot = plain;
    ASSERT_EQ(name(rig.protect(prot)), name(Status::Ok));
    for (std::size_t len = 0; len < prot.size(); ++len) {
        Bytes a(prot.begin(), prot.begin() + static_cast<std::ptrdiff_t>(len)), b = a;
        EXPECT_NE(name(rig.ours(a)), name(Status::Ok))
            << "truncated to " << len << " of " << prot.size() << ": " << to_hex(prot);
        EXPECT_NE(rig.lib(b), srtp_err_status_ok) << "libsrtp took truncation to " << len;
    }
    Bytes o = prot, l = prot;
    ASSERT_EQ(name(rig.ours(o)), name(Status::Ok)) << "genuine after truncations";
    ASSERT_TRUE(same_bytes(o, plain));
    ASSERT_EQ(rig.lib(l), srtp_err_status_ok);
}

std::vector<std::size_t> all_bits(std::size_t octets) {
    std::vector<std::size_t> v(octets * 8);
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = i;
    return v;
}
std::vector<std::size_t> some_bits(Rng& rng, std::size_t octets, std::size_t n) {
    std::vector<std::size_t> v;
    for (std::size_t i = 0; i < n; ++i)
        v.push_back(rng.range(0, static_cast<uint32_t>(octets * 8 - 1)));
    return v;
}

// 4. SRTP: every bit of a packet with CSRCs, an extension and padding; a
// sample of the bits of a 1200-octet one; every truncation.
TEST_P(SrtpCrossCheck, RtpForgeriesAndTruncationsAreRefused) {
    const uint32_t sd = seed(8);
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    const MasterKey mk = random_master_key(rng, suite_);
    auto ours_tx = context(mk), ours_rx = context(mk);
    LibSession lib_rx(suite_, mk, ssrc_any_inbound);
    ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);
    const uint32_t ssrc = rng.u32();
    const uint16_t s0 = static_cast<uint16_t>(rng.range(0, 40000));

    for (int big = 0; big < 2; ++big) {
        SCOPED_TRACE(big != 0 ? "1200-octet packet" : "small packet");
        RtpShape shape;
        shape.cc = big != 0 ? 1 : 2;
        shape.ext = big != 0 ? Ext::TwoByte : Ext::OneByte;
        shape.ext_elements = 2;
        shape.marker = true;
        shape.payload = big != 0 ? 1200 : 24;
        shape.padding = 3;
        const Bytes tmpl = build_rtp(rng, shape, ssrc, 0);
        const std::size_t ext_len_at = 12 + 4 * shape.cc + 2;
        TamperRig rig;
        rig.make_plain = [&](uint32_t t) {
            Bytes b = tmpl;
            set_seq(b, static_cast<uint16_t>(s0 + t));
            return b;
        };
        rig.protect = [&](Bytes& b) { return protect(*ours_tx, b); };
        rig.ours = [&](Bytes& b) { return unprotect(*ours_rx, b); };
        rig.lib = [&](Bytes& b) { return lib_rx.unprotect_rtp(b); };
        rig.allowed = [&](std::size_t octet) -> StatusSet {
            if (octet == 0) return kAnyRefusal;  // V, P, X, CC
            if (octet == 2 || octet == 3)
                return bit_of(Status::AuthFail) | bit_of(Status::Replay) |
                       bit_of(Status::ReplayOld);
            if (octet >= 8 && octet < 12)
                return bit_of(Status::AuthFail) | bit_of(Status::UnknownSsrc);
            if (octet == ext_len_at || octet == ext_len_at + 1) {
                return bit_of(Status::AuthFail) | bit_of(Status::BadHeader) |
                       bit_of(Status::TooShort);
            }
            return bit_of(Status::AuthFail);
        };
        uint32_t t = static_cast<uint32_t>(big) * 1000;
        const std::size_t octets = tmpl.size() + info_.rtp_tag_len;
        flip_bits(rig, t, big != 0 ? some_bits(rng, octets, 300) : all_bits(octets));
        if (HasFatalFailure()) return;
        truncate_all(rig, t);
        if (HasFatalFailure()) return;
    }
    // No slot was spent on the 32 forged SSRCs.
    Bytes fresh = random_rtp(rng, ssrc ^ 0x5A5A5A5AU, 7), plain = fresh;
    ASSERT_EQ(name(protect(*ours_tx, fresh)), name(Status::Ok));
    EXPECT_EQ(name(unprotect(*ours_rx, fresh)), name(Status::Ok));
    EXPECT_TRUE(same_bytes(fresh, plain));
}

// 4. SRTCP: every bit (header, payload, E flag, index, tag); every truncation.
TEST_P(SrtpCrossCheck, RtcpForgeriesAndTruncationsAreRefused) {
    const uint32_t sd = seed(9);
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    const MasterKey mk = random_master_key(rng, suite_);
    auto ours_tx = context(mk), ours_rx = context(mk);
    LibSession lib_rx(suite_, mk, ssrc_any_inbound);
    ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);
    const uint32_t ssrc = rng.u32();
    Bytes tmpl;
    do {
        tmpl = random_rtcp(rng, ssrc);
    } while (tmpl.size() > 120 || tmpl.size() < 40);
    const std::size_t prot_len = tmpl.size() + 4 + info_.rtcp_tag_len;
    // RFC 3711 3.4: E || index then tag; RFC 7714 9.2 (AEAD): tag then E || index.
    const std::size_t idx_at = info_.aead ? prot_len - 4 : tmpl.size();
    TamperRig rig;
    rig.make_plain = [&](uint32_t) { return tmpl; };
    rig.protect = [&](Bytes& b) { return protect_c(*ours_tx, b); };
    rig.ours = [&](Bytes& b) { return unprotect_c(*ours_rx, b); };
    rig.lib = [&](Bytes& b) { return lib_rx.unprotect_rtcp(b); };
    rig.allowed = [&](std::size_t octet) -> StatusSet {
        if (octet == 0) return kAnyRefusal;  // V, P, count
        if (octet >= 4 && octet < 8) return bit_of(Status::AuthFail) | bit_of(Status::UnknownSsrc);
        if (octet >= idx_at && octet < idx_at + 4) {
            return bit_of(Status::AuthFail) | bit_of(Status::Replay) | bit_of(Status::ReplayOld);
        }
        return bit_of(Status::AuthFail);
    };
    uint32_t t = 0;
    flip_bits(rig, t, all_bits(prot_len));
    if (HasFatalFailure()) return;
    truncate_all(rig, t);
    if (HasFatalFailure()) return;
    Bytes fresh = random_rtcp(rng, ssrc ^ 0xA5A5A5A5U), plain = fresh;
    ASSERT_EQ(name(protect_c(*ours_tx, fresh)), name(Status::Ok));
    EXPECT_EQ(name(unprotect_c(*ours_rx, fresh)), name(Status::Ok));
    EXPECT_TRUE(same_bytes(fresh, plain));
}

std::string param_name(const ::testing::TestParamInfo<Param>& i) {
    return std::string(arch_label(std::get<0>(i.param))) + "_" +
           std::string(suite_info(std::get<1>(i.param)).name);
}

INSTANTIATE_TEST_SUITE_P(Libsrtp, SrtpCrossCheck,
                         ::testing::Combine(::testing::Values(ImbArch::Sse, ImbArch::Avx2,
                                                              ImbArch::Avx512),
                                            ::testing::ValuesIn(kAllSuites)),
                         param_name);

// --- 5. bursts -----------------------------------------------------------------

// Bursts mixing every suite against one-at-a-time calls: engine A runs the
// spans, engine B (same keys, its own contexts) runs each packet alone.
class SrtpCrossBurst : public ::testing::TestWithParam<ImbArch> {
  protected:
    struct Suited {
        MasterKey mk;
        Context tx_a, tx_b, rx_a, rx_b;
    };
    struct Flow {
        std::size_t suite;
        uint32_t ssrc;
        uint16_t seq;
    };
    struct Item {
        Context* a = nullptr;  // context on engine A (nullptr: none)
        Context* b = nullptr;  // the same on engine B
        Bytes data;
        uint32_t room = kSlack;  // capacity past the packet
        std::optional<Status> expect;
        std::string what;
        int id = 0;                    // receive items made from sent packets: 1, 2, ...
        std::size_t suite = SIZE_MAX;  // receive items: the suite they were sent with
    };
    struct Outcome {
        Status status;
        Bytes bytes;
    };

    void SetUp() override {
        ensure_libsrtp();
        if (HasFatalFailure()) return;
        make_engine(GetParam(), a_);
        if (HasFatalFailure() || IsSkipped()) return;
        make_engine(GetParam(), b_);
        if (HasFatalFailure() || IsSkipped()) return;
        Rng rng(base_seed() ^ 0xB0257U);
        for (std::size_t k = 0; k < suites_.size(); ++k) {
            suites_[k] = std::make_unique<Suited>();
            Suited& s = *suites_[k];
            s.mk = random_master_key(rng, kAllSuites[k]);
            for (Context* c : {&s.tx_a, &s.rx_a, &s.tx_b, &s.rx_b}) {
                Engine& e = (c == &s.tx_a || c == &s.rx_a) ? *a_ : *b_;
                ASSERT_EQ(setup_status_name(c->init(e, kAllSuites[k], s.mk.key, s.mk.salt)),
                          setup_status_name(SetupStatus::Ok));
            }
        }
    }

    static std::vector<Outcome> run(Engine& e, SpanFn fn, const std::vector<Item>& items,
                                    bool burst, bool engine_a) {
        std::vector<Bytes> bufs;
        std::vector<PacketOp> ops;
        for (const Item& it : items) {
            bufs.push_back(it.data);
            bufs.back().resize(it.data.size() + it.room);
        }
        for (std::size_t i = 0; i < items.size(); ++i) {
            ops.push_back(PacketOp{engine_a ? items[i].a : items[i].b, bufs[i].data(),
                                   static_cast<uint32_t>(items[i].data.size()),
                                   static_cast<uint32_t>(items[i].data.size() + items[i].room),
                                   Status::Ok});
        }
        if (burst) {
            fn(e, ops);
        } else {
            for (PacketOp& op : ops)
                fn(e, std::span(&op, 1));
        }
        std::vector<Outcome> out;
        for (std::size_t i = 0; i < items.size(); ++i) {
            bufs[i].resize(ops[i].status == Status::Ok ? ops[i].len : items[i].data.size());
            out.push_back({ops[i].status, bufs[i]});
        }
        return out;
    }

    static ::testing::AssertionResult counted(const Counters& before, const Counters& after, Op op,
                                              const std::vector<Outcome>& out) {
        for (std::size_t o = 0; o < kOpCount; ++o) {
            for (std::size_t s = 0; s < kStatusCount; ++s) {
                const auto oo = static_cast<Op>(o);
                const auto ss = static_cast<Status>(s);
                uint64_t want = 0;
                if (oo == op) {
                    for (const Outcome& x : out)
                        want += x.status == ss ? 1U : 0U;
                }
                const uint64_t got = after.get(oo, ss) - before.get(oo, ss);
                if (got != want) {
                    return ::testing::AssertionFailure()
                           << "counter " << op_name(oo) << "/" << status_name(ss) << " moved by "
                           << got << ", want " << want;
                }
            }
        }
        return ::testing::AssertionSuccess();
    }

    // The burst on A, the same packets one at a time on B: same statuses,
    // same octets, counters moved by exactly the statuses seen. Returns A's.
    std::vector<Outcome> check(SpanFn fn, Op op, const std::vector<Item>& items) {
        const Counters before_a = a_->counters(), before_b = b_->counters();
        std::vector<Outcome> oa = run(*a_, fn, items, true, true);
        const std::vector<Outcome> ob = run(*b_, fn, items, false, false);
        for (std::size_t i = 0; i < items.size(); ++i) {
            const std::string where = std::string(op_name(op)) + " op " + std::to_string(i) +
                                      " of " + std::to_string(items.size()) + " (" + items[i].what +
                                      "): " + to_hex(items[i].data);
            EXPECT_EQ(name(oa[i].status), name(ob[i].status))
                << "burst vs one at a time, " << where;
            if (items[i].expect) {
                EXPECT_EQ(name(oa[i].status), name(*items[i].expect)) << where;
            }
            if (oa[i].status == Status::Ok && ob[i].status == Status::Ok) {
                EXPECT_TRUE(same_bytes(oa[i].bytes, ob[i].bytes)) << where;
            }
        }
        EXPECT_TRUE(counted(before_a, a_->counters(), op, oa)) << "burst engine";
        EXPECT_TRUE(counted(before_b, b_->counters(), op, ob)) << "one-at-a-time engine";
        return oa;
    }

    Item tx_item(const Flow& f, Bytes data, std::string what) {
        Suited& s = *suites_[f.suite];
        Item it;
        it.a = &s.tx_a;
        it.b = &s.tx_b;
        it.data = std::move(data);
        it.what = std::string(suite_info(kAllSuites[f.suite]).name) + " ssrc " + hex32(f.ssrc) +
                  " " + what;
        return it;
    }
    Item rx_item(std::size_t suite, Bytes data, std::string what) {
        Suited& s = *suites_[suite];
        Item it;
        it.a = &s.rx_a;
        it.b = &s.rx_b;
        it.data = std::move(data);
        it.what = std::move(what);  // callers name the suite (tx items' names do)
        it.suite = suite;
        return it;
    }

    // Protect then unprotect `n` packets of random flows (RTP or RTCP) as
    // bursts, with malformed, forged, duplicated and (for RTP) stale packets
    // mixed in; `stale` are extra receive items (in order) placed in the
    // unprotect burst at random positions.
    void round(Rng& rng, bool rtcp, std::size_t n, std::vector<Flow>& flows,
               const std::vector<Item>& stale) {
        const SpanFn prot_fn = rtcp ? kProtectRtcp : kProtectRtp;
        const SpanFn unprot_fn = rtcp ? kUnprotectRtcp : kUnprotectRtp;
        std::vector<Item> tx;
        std::vector<std::size_t> flow_of;  // per tx item, SIZE_MAX for malformed ones
        std::vector<Bytes> plain;
        for (std::size_t i = 0; i < n; ++i) {
            Flow& f = flows[rng.range(1, static_cast<uint32_t>(flows.size() - 1))];
            const SuiteInfo si = suite_info(kAllSuites[f.suite]);
            Bytes p = rtcp ? random_rtcp(rng, f.ssrc) : random_rtp(rng, f.ssrc, f.seq++);
            Item it = tx_item(f, p, "packet");
            std::size_t fi = static_cast<std::size_t>(&f - flows.data());
            if (rng.chance(15)) {
                fi = SIZE_MAX;
                switch (rng.range(0, rtcp ? 3 : 4)) {
                    case 0:
                        it.a = it.b = nullptr;
                        it.expect = Status::UnknownContext;
                        it.what += " without a context";
                        break;
                    case 1:
                        it.data[0] = static_cast<uint8_t>((it.data[0] & 0x3fU) | 0x40U);
                        it.expect = Status::BadVersion;
                        it.what += " of version 1";
                        break;
                    case 2:
                        it.data.resize(rtcp ? 7 : 11);
                        it.expect = Status::TooShort;
                        it.what += " cut short";
                        break;
                    case 3:
                        it.room = (rtcp ? 4U + si.rtcp_tag_len : si.rtp_tag_len) - 1U;
                        it.expect = Status::NoRoom;
                        it.what += " without room for the trailer";
                        break;
                    default:
                        it.data.resize(40);
                        it.data[0] = static_cast<uint8_t>((it.data[0] & 0xe0U) | 0x0fU);
                        it.expect = Status::BadHeader;
                        it.what += " with 15 CSRCs in 40 octets";
                        break;
                }
            }
            tx.push_back(std::move(it));
            flow_of.push_back(fi);
            plain.push_back(std::move(p));
        }
        const std::vector<Outcome> sent =
            check(prot_fn, rtcp ? Op::ProtectRtcp : Op::ProtectRtp, tx);
        if (HasFailure()) return;

        // Receive what was sent, lightly reordered, with forgeries, repeats
        // and the stale items mixed in.
        std::vector<Item> rx;
        int next_id = 1;
        for (std::size_t i = 0; i < tx.size(); ++i) {
            if (flow_of[i] == SIZE_MAX) continue;
            Item it = rx_item(flows[flow_of[i]].suite, sent[i].bytes, tx[i].what);
            it.expect = Status::Ok;
            it.id = next_id++;
            rx.push_back(std::move(it));
        }
        for (std::size_t i = 0; i + 1 < rx.size(); ++i) {
            if (rng.chance(20)) std::swap(rx[i], rx[i + 1]);
        }
        auto at = [&](std::size_t lo, std::size_t hi) {
            return static_cast<std::ptrdiff_t>(
                rng.range(static_cast<uint32_t>(lo), static_cast<uint32_t>(hi)));
        };
        const std::size_t good = rx.size();
        for (std::size_t k = 0; k < std::max<std::size_t>(2, n / 12); ++k) {
            const int victim = static_cast<int>(rng.range(1, static_cast<uint32_t>(good)));
            auto pos_of = [&](int id) {
                return static_cast<std::size_t>(
                    std::find_if(rx.begin(), rx.end(), [&](const Item& x) { return x.id == id; }) -
                    rx.begin());
            };
            Item copy = rx[pos_of(victim)];
            copy.id = next_id++;
            switch (k % 5) {
                case 0: {  // forged tag, before the genuine packet
                    // The tag's last octet: AEAD SRTCP ends in E || index (RFC 7714 9.2).
                    const bool index_last = rtcp && suite_info(kAllSuites[copy.suite]).aead;
                    copy.data[copy.data.size() - (index_last ? 5 : 1)] ^=
                        static_cast<uint8_t>(1U << rng.range(0, 7));
                    copy.expect = Status::AuthFail;
                    copy.what += ", tag forged";
                    rx.insert(rx.begin() + at(0, pos_of(victim)), std::move(copy));
                    break;
                }
                case 1: {  // repeat, after the genuine packet
                    copy.expect = Status::Replay;
                    copy.what += ", repeated";
                    rx.insert(rx.begin() + at(pos_of(victim) + 1, rx.size()), std::move(copy));
                    break;
                }
                case 2:
                    copy.a = copy.b = nullptr;
                    copy.expect = Status::UnknownContext;
                    copy.what += ", no context";
                    rx.insert(rx.begin() + at(0, rx.size()), std::move(copy));
                    break;
                case 3:
                    copy.data.resize(5);
                    copy.expect = Status::TooShort;
                    copy.what += ", cut to 5 octets";
                    rx.insert(rx.begin() + at(0, rx.size()), std::move(copy));
                    break;
                default: {  // to the receiver of another suite (same SSRC unknown there)
                    const std::size_t other = (copy.suite + 1 + k % 5) % kSuites;
                    Suited& s = *suites_[other];
                    copy.a = &s.rx_a;
                    copy.b = &s.rx_b;
                    copy.expect.reset();  // refused somehow; must match one at a time
                    copy.what +=
                        ", to a " + std::string(suite_info(kAllSuites[other]).name) + " receiver";
                    rx.insert(rx.begin() + at(0, rx.size()), std::move(copy));
                    break;
                }
            }
        }
        std::size_t lo = 0;
        for (const Item& s : stale) {
            const auto p = static_cast<std::size_t>(at(lo, rx.size()));
            rx.insert(rx.begin() + static_cast<std::ptrdiff_t>(p), s);
            lo = p + 1;
        }
        const std::vector<Outcome> got =
            check(unprot_fn, rtcp ? Op::UnprotectRtcp : Op::UnprotectRtp, rx);
        // Genuine packets came back to their plaintext.
        std::size_t tx_i = 0;
        for (std::size_t i = 0; i < rx.size(); ++i) {
            if (rx[i].expect != Status::Ok || rx[i].id == 0 || got[i].status != Status::Ok)
                continue;
            for (tx_i = 0; tx_i < tx.size(); ++tx_i) {
                if (flow_of[tx_i] != SIZE_MAX && sent[tx_i].bytes == rx[i].data) break;
            }
            ASSERT_LT(tx_i, tx.size());
            EXPECT_TRUE(same_bytes(got[i].bytes, plain[tx_i])) << rx[i].what;
        }
    }

    std::unique_ptr<Engine> a_, b_;
    std::array<std::unique_ptr<Suited>, kSuiteCount> suites_;
};

// 5. Mixed-suite bursts of ~40 and of 150 (over kMaxBurst) packets, SRTP and
// SRTCP, against one-at-a-time calls; stale and in-burst reordered packets
// of one stream check that the replay list is consulted in order.
TEST_P(SrtpCrossBurst, MixedSuiteBurstsMatchOneAtATime) {
    const uint32_t sd = base_seed() ^ 0xB0B0U;
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    std::vector<Flow> flows;
    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 2 * kSuites + 1);
    // flows[0]: the stale-packet stream, used only through `stale`.
    flows.push_back(
        {rng.range(0, kSuites - 1), ssrcs[0], static_cast<uint16_t>(rng.range(0, 30000))});
    for (std::size_t k = 0; k < 2 * kSuites; ++k) {
        flows.push_back({k % kSuites, ssrcs[k + 1], static_cast<uint16_t>(rng.u32())});
    }

    // flows[0]: 301 packets sent; 0..200 but 10, 150 and 173 received.
    Flow& f0 = flows[0];
    std::vector<Bytes> c0;
    {
        std::vector<Item> tx;
        for (int i = 0; i < 301; ++i) {
            tx.push_back(tx_item(f0, random_rtp(rng, f0.ssrc, f0.seq++),
                                 "stale stream packet " + std::to_string(i)));
        }
        const std::vector<Outcome> sent = check(kProtectRtp, Op::ProtectRtp, tx);
        std::vector<Item> rx;
        for (int i = 0; i < 301; ++i) {
            ASSERT_EQ(name(sent[static_cast<std::size_t>(i)].status), name(Status::Ok));
            c0.push_back(sent[static_cast<std::size_t>(i)].bytes);
            if (i <= 200 && i != 10 && i != 150 && i != 173) {
                rx.push_back(rx_item(f0.suite, c0.back(), tx[static_cast<std::size_t>(i)].what));
            }
        }
        for (const Outcome& o : check(kUnprotectRtp, Op::UnprotectRtp, rx)) {
            ASSERT_EQ(name(o.status), name(Status::Ok));
        }
    }
    // Index 200 is the highest; then, in this order inside one burst (the
    // case of a packet already received before the burst and out of the
    // window only after it is ReplayVerdictFollowsPacketOrder's):
    const std::pair<int, Status> stale_plan[] = {
        {10, Status::ReplayOld},                          // 190 behind, never received
        {250, Status::Ok},        {250, Status::Replay},  // repeated within the burst
        {300, Status::Ok},                                // moves the window on by 100
        {150, Status::ReplayOld},                         // in the window before 300, not after
        {173, Status::Ok},                                // 127 behind 300, never received
        {201, Status::Ok},
    };
    std::vector<Item> stale;
    for (const auto& [i, want] : stale_plan) {
        Item it = rx_item(f0.suite, c0[static_cast<std::size_t>(i)],
                          tx_item(f0, {}, "stale stream packet " + std::to_string(i)).what);
        it.expect = want;
        stale.push_back(std::move(it));
    }

    round(rng, false, 40, flows, stale);
    if (HasFatalFailure()) return;
    round(rng, false, 150, flows, {});
    if (HasFatalFailure()) return;
    round(rng, true, 40, flows, {});
    if (HasFatalFailure()) return;
    round(rng, true, 150, flows, {});
}

// A stream whose first packets straddle seq 65535 -> 0 inside one burst:
// one at a time (and in libsrtp) the packets after the wrap are ROC 1
// (RFC 3711 3.3.1); a burst must say the same.
TEST_P(SrtpCrossBurst, NewStreamWrappingInsideItsFirstBurst) {
    const uint32_t sd = base_seed() ^ 0x3A9U;
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    for (std::size_t k = 0; k < kSuites; ++k) {
        SCOPED_TRACE(std::string(suite_info(kAllSuites[k]).name));
        Flow f{k, rng.u32(), 65530};
        LibSession lib_tx(kAllSuites[k], suites_[k]->mk, ssrc_any_outbound);
        LibSession lib_rx(kAllSuites[k], suites_[k]->mk, ssrc_any_inbound);
        ASSERT_EQ(lib_tx.create_status(), srtp_err_status_ok);
        ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);
        std::vector<Item> tx;
        for (int i = 0; i < 12; ++i) {
            const uint16_t seq = f.seq++;
            tx.push_back(tx_item(f, random_rtp(rng, f.ssrc, seq), "seq " + std::to_string(seq)));
        }
        const std::vector<Outcome> sent = check(kProtectRtp, Op::ProtectRtp, tx);
        std::vector<Item> rx;
        for (std::size_t i = 0; i < tx.size(); ++i) {
            ASSERT_EQ(name(sent[i].status), name(Status::Ok));
            Bytes lib = tx[i].data;
            ASSERT_EQ(lib_tx.protect_rtp(lib), srtp_err_status_ok);
            EXPECT_TRUE(same_bytes(sent[i].bytes, lib)) << tx[i].what;
            Bytes back = lib;
            EXPECT_EQ(lib_rx.unprotect_rtp(back), srtp_err_status_ok) << tx[i].what;
            rx.push_back(rx_item(k, sent[i].bytes, tx[i].what));
            rx.back().expect = Status::Ok;
        }
        check(kUnprotectRtp, Op::UnprotectRtp, rx);
    }
}

// Inside one burst, a packet received before the burst that an earlier
// packet of the same burst pushed out of the window is ReplayOld, as one at
// a time and in libsrtp (srtp_rdbx_check / srtp_rdb_check test the age
// before the bitmap), for SRTP and SRTCP.
TEST_P(SrtpCrossBurst, ReplayVerdictFollowsPacketOrder) {
    const uint32_t sd = base_seed() ^ 0x5E7U;
    SCOPED_TRACE(seed_note(sd));
    Rng rng(sd);
    for (std::size_t k = 0; k < kSuites; ++k) {
        for (const bool rtcp : {false, true}) {
            SCOPED_TRACE(std::string(suite_info(kAllSuites[k]).name) + (rtcp ? " SRTCP" : " SRTP"));
            Flow f{k, rng.u32(), static_cast<uint16_t>(rng.range(0, 30000))};
            LibSession lib_rx(kAllSuites[k], suites_[k]->mk, ssrc_any_inbound);
            ASSERT_EQ(lib_rx.create_status(), srtp_err_status_ok);
            std::vector<Item> tx;
            for (int i = 0; i < 301; ++i) {
                tx.push_back(
                    tx_item(f, rtcp ? random_rtcp(rng, f.ssrc) : random_rtp(rng, f.ssrc, f.seq++),
                            "packet " + std::to_string(i)));
            }
            const std::vector<Outcome> sent = check(rtcp ? kProtectRtcp : kProtectRtp,
                                                    rtcp ? Op::ProtectRtcp : Op::ProtectRtp, tx);
            const SpanFn unprot = rtcp ? kUnprotectRtcp : kUnprotectRtp;
            const Op uop = rtcp ? Op::UnprotectRtcp : Op::UnprotectRtp;
            auto lib_unprotect = [&](Bytes b) {
                return rtcp ? lib_rx.unprotect_rtcp(b) : lib_rx.unprotect_rtp(b);
            };
            std::vector<Item> before;
            for (std::size_t i = 0; i <= 200; ++i) {
                before.push_back(rx_item(k, sent[i].bytes, tx[i].what));
                before.back().expect = Status::Ok;
                ASSERT_EQ(lib_unprotect(sent[i].bytes), srtp_err_status_ok);
            }
            check(unprot, uop, before);
            std::vector<Item> burst = {
                rx_item(k, sent[300].bytes, tx[300].what),
                rx_item(k, sent[172].bytes, tx[172].what + ", received before")};
            burst[0].expect = Status::Ok;
            burst[1].expect = Status::ReplayOld;
            EXPECT_EQ(lib_unprotect(sent[300].bytes), srtp_err_status_ok);
            EXPECT_EQ(lib_unprotect(sent[172].bytes), srtp_err_status_replay_old);
            check(unprot, uop, burst);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Libsrtp, SrtpCrossBurst,
                         ::testing::Values(ImbArch::Sse, ImbArch::Avx2, ImbArch::Avx512),
                         [](const ::testing::TestParamInfo<ImbArch>& i) {
                             return std::string(arch_label(i.param));
                         });

}  // namespace
}  // namespace isthmus::srtp
