#include "crosscheck_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <set>
#include <sstream>

#include "rtp_packets.hpp"
#include "test_engines.hpp"

namespace isthmus::srtp::crosscheck {

using test::append_rtcp_common_header;
using test::append_rtp_fixed_header;
using test::append_rtp_padding;
using test::push_be16;
using test::push_be32;

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

const char* arch_label(ImbArch a) {
    switch (a) {
        case ImbArch::Sse:
            return "Sse";
        case ImbArch::Avx:
            return "Avx";
        case ImbArch::Avx2:
            return "Avx2";
        case ImbArch::Avx512:
            return "Avx512";
        case ImbArch::Auto:
            return "Auto";
    }
    return "Unknown";
}

namespace {

bool cpu_has(ImbArch arch) {
    return test::cpu_supports(arch);
}

std::size_t suite_index(Suite s) {
    return static_cast<std::size_t>(s);
}

}  // namespace

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

namespace {

using PolicySetter = void (*)(srtp_crypto_policy_t*);

// libsrtp's crypto policy setters for each suite, SRTP's then SRTCP's.
// srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 is a macro for
// srtp_crypto_policy_set_rtp_default, hence the latter here.
struct LibPolicy {
    Suite suite;
    PolicySetter rtp, rtcp;
};
constexpr PolicySetter kAesCm128Sha1_80 = srtp_crypto_policy_set_rtp_default;
constexpr PolicySetter kAesCm256Sha1_80 = srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80;
constexpr LibPolicy kLibPolicies[] = {
    {Suite::AesCm128HmacSha1_80, kAesCm128Sha1_80, kAesCm128Sha1_80},
    {Suite::AesCm128HmacSha1_32, srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
     kAesCm128Sha1_80},  // SRTCP keeps 80 bits (RFC 4568 6.2.1)
    {Suite::AesCm256HmacSha1_80, kAesCm256Sha1_80, kAesCm256Sha1_80},
    {Suite::AesCm256HmacSha1_32, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
     kAesCm256Sha1_80},  // RFC 6188 4.1
    {Suite::AeadAes128Gcm, srtp_crypto_policy_set_aes_gcm_128_16_auth,
     srtp_crypto_policy_set_aes_gcm_128_16_auth},
    {Suite::AeadAes256Gcm, srtp_crypto_policy_set_aes_gcm_256_16_auth,
     srtp_crypto_policy_set_aes_gcm_256_16_auth},
};

static_assert(std::size(kLibPolicies) == kSuiteCount, "a libsrtp policy for every suite");

void set_libsrtp_policy(Suite suite, srtp_policy_t& p) {
    for (const LibPolicy& lp : kLibPolicies) {
        if (lp.suite != suite) continue;
        lp.rtp(&p.rtp);
        lp.rtcp(&p.rtcp);
    }
}

}  // namespace

LibSession::LibSession(Suite suite, const MasterKey& mk, srtp_ssrc_type_t type, uint32_t ssrc,
                       bool rtcp_encrypt) {
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

LibSession::~LibSession() {
    if (session_ != nullptr) srtp_dealloc(session_);
}

std::optional<uint32_t> LibSession::roc(uint32_t ssrc) const {
    uint32_t r = 0;
    if (srtp_get_stream_roc(session_, ssrc, &r) != srtp_err_status_ok) return std::nullopt;
    return r;
}

srtp_err_status_t LibSession::run(srtp_err_status_t (*fn)(srtp_t, void*, int*), Bytes& b) {
    const std::size_t n = b.size();
    b.resize(n + kSlack);
    int len = static_cast<int>(n);
    const srtp_err_status_t st = fn(session_, b.data(), &len);
    b.resize(st == srtp_err_status_ok ? static_cast<std::size_t>(len) : n);
    return st;
}

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

Status run_one(SpanFn fn, Engine& e, Context* c, Bytes& b) {
    const auto n = static_cast<uint32_t>(b.size());
    // Only protect appends; unprotect gets exactly the packet, so that
    // AddressSanitizer sees any read past a short or hostile packet.
    const bool appends =
        fn == static_cast<SpanFn>(&protect_rtp) || fn == static_cast<SpanFn>(&protect_rtcp);
    if (appends) b.resize(n + kSlack);
    PacketOp op{c, b.data(), n, static_cast<uint32_t>(b.size()), Status::Ok};
    fn(e, std::span(&op, 1));
    b.resize(op.status == Status::Ok ? op.len : n);
    return op.status;
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

namespace {

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

}  // namespace

Bytes build_rtp(Rng& rng, const RtpShape& s, uint32_t ssrc, uint16_t seq) {
    Bytes b;
    // Braced initialisers run in order: the payload type is drawn before the timestamp.
    append_rtp_fixed_header(b, {.padding = s.padding != 0,
                                .extension = s.ext != Ext::None,
                                .cc = s.cc,
                                .marker = s.marker,
                                .payload_type = rng.range(0, 127),
                                .seq = seq,
                                .timestamp = rng.u32(),
                                .ssrc = ssrc});
    for (uint32_t i = 0; i < s.cc; ++i)
        push_be32(b, rng.u32());
    if (s.ext != Ext::None) append_extension(rng, b, s.ext, s.ext_elements);
    rng.append(b, s.payload);
    append_rtp_padding(b, s.padding);
    return b;
}

Bytes random_rtp(Rng& rng, uint32_t ssrc, uint16_t seq) {
    return build_rtp(rng, random_shape(rng), ssrc, seq);
}

Bytes random_rtcp(Rng& rng, uint32_t ssrc) {
    Bytes b;
    const uint32_t packets = rng.range(1, 3);
    for (uint32_t i = 0; i < packets; ++i) {
        if (i == 0) {
            const bool sr = rng.chance(50);
            const uint32_t blocks = rng.range(0, 3);
            const uint32_t words = 1 + (sr ? 5 : 0) + 6 * blocks;
            append_rtcp_common_header(b, blocks, sr ? 200 : 201, words);
            push_be32(b, ssrc);
            rng.append(b, 4 * (words - 1));
        } else {
            // Drawn in this order: length, count, type.
            const uint32_t words = rng.range(1, 60);
            const uint32_t count = rng.range(0, 31);
            const uint32_t type = rng.range(202, 206);
            append_rtcp_common_header(b, count, type, words);
            rng.append(b, 4 * words);
        }
    }
    return b;
}

// --- the suite x manager fixture -----------------------------------------------

void SrtpCrossCheck::SetUp() {
    ensure_libsrtp();
    if (HasFatalFailure()) return;
    arch_ = std::get<0>(GetParam());
    suite_ = std::get<1>(GetParam());
    info_ = suite_info(suite_);
    make_engine(arch_, engine_);
}

uint32_t SrtpCrossCheck::seed(uint32_t test_tag) const {
    return base_seed() ^ (test_tag * 0x9E3779B1U) ^
           (static_cast<uint32_t>(suite_index(suite_) + 1) * 0x85EBCA6BU);
}

std::unique_ptr<Context> SrtpCrossCheck::context(const MasterKey& mk) {
    auto c = std::make_unique<Context>();
    const SetupStatus st = c->init(*engine_, suite_, mk.key, mk.salt);
    EXPECT_EQ(setup_status_name(st), setup_status_name(SetupStatus::Ok));
    return c;
}

Peers SrtpCrossCheck::peers(Rng& rng) {
    const MasterKey mk = random_master_key(rng, suite_);
    return {mk, context(mk), context(mk), LibSession(suite_, mk, ssrc_any_outbound),
            LibSession(suite_, mk, ssrc_any_inbound)};
}

uint32_t SrtpCrossCheck::our_roc(const Context& c, uint32_t ssrc) {
    const Stream* s = c.find_stream(ssrc);
    return s == nullptr ? 0xDEADBEEFU : static_cast<uint32_t>(s->rtp.highest() >> 16);
}

::testing::AssertionResult SrtpCrossCheck::rtp_both_ways(Context& ours_tx, LibSession& lib_tx,
                                                         Context& ours_rx, LibSession& lib_rx,
                                                         const Bytes& plain, Bytes* sent) {
    Bytes ours = plain, lib = plain;
    const Status so = protect(ours_tx, ours);
    const srtp_err_status_t sl = lib_tx.protect_rtp(lib);
    if (so != Status::Ok || sl != srtp_err_status_ok) {
        return ::testing::AssertionFailure() << "protect: ours " << name(so) << ", libsrtp " << sl
                                             << "; plaintext " << to_hex(plain);
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

std::string param_name(const ::testing::TestParamInfo<Param>& i) {
    return std::string(arch_label(std::get<0>(i.param))) + "_" +
           std::string(suite_info(std::get<1>(i.param)).name);
}

}  // namespace isthmus::srtp::crosscheck
