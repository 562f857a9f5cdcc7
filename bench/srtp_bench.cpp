// srtp_bench: SRTP/SRTCP protect and unprotect, per suite and packet size,
// for our engine, libsrtp2 and the raw IPsec-MB floor, in one run.
//
// Names: <op>/<RFC suite name>/<RTP or RTCP size before protection>/<impl>,
// e.g. protect_rtp/AES_CM_128_HMAC_SHA1_80/172/isthmus. Implementations:
//   isthmus             the burst API, 32 PacketOps per call, IPsec-MB manager
//                       chosen by IPsec-MB (ImbArch::Auto; the JSON context's
//                       imb_auto_arch says which)
//   isthmus_sse/_avx2   the same on a forced manager
//   isthmus_burst1[_sse]  one packet per call
//   isthmus_burstN[_mb] (protect_rtp AES_CM_128_HMAC_SHA1_80 172 only) N
//                       packets per call, as configured / multi-buffer
//                       manager only (no SSE companion for small bursts)
//   isthmus_nocheck     Engine::set_job_checks(false): IPsec-MB does not
//                       validate the jobs (IMB_SUBMIT_JOB_NOCHECK)
//   floor[...]          srtp_floor.cpp: only the IPsec-MB cipher + auth jobs of
//                       the same packets, same burst, same manager choice, same
//                       job validation (floor_nocheck: none, like isthmus_nocheck)
//   libsrtp2            srtp_protect()/srtp_unprotect()... one packet per call
//   memcpy              (unprotect only) the copy the unprotect benches do
//                       before each burst, alone: subtract it to get the
//                       transform's own cost
//
// Method. Every implementation works on the same 32 working buffers (64-octet
// aligned, a burst of 1 rotates through them), so cache footprints match.
// Protect re-protects the same buffers in place; RTP sequence numbers advance
// every packet (so the ROC rolls over as in real traffic) and SRTCP indices
// advance inside the implementations. Unprotect needs valid, fresh packets:
// 4096 packets with increasing indices are protected once before timing, each
// iteration copies the next ones into the working buffers (counted, see
// `memcpy`) and unprotects them; when the ring wraps, the receiving context or
// session is re-created under PauseTiming (once per 4096 packets) so the
// replay window accepts the indices again. Every result is checked: a bench
// whose packets do not all come back Ok reports an error instead of a time.
// Reported: ns_per_pkt, Mpps (= items_per_second / 1e6), bytes_per_second
// over the unprotected size. One thread, one core.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <srtp2/srtp.h>
#pragma GCC diagnostic pop

#include "srtp/context.hpp"
#include "srtp/engine.hpp"
#include "srtp/imb.hpp"
#include "srtp/suite.hpp"
#include "srtp/transform.hpp"
#include "srtp_floor.hpp"
#include "srtp_harness.hpp"

namespace isthmus::bench {
namespace {

using srtp::Context;
using srtp::Engine;
using srtp::ImbArch;
using srtp::PacketOp;
using srtp::Status;
using srtp::Suite;

constexpr std::array<uint32_t, 3> kSizes = {72, 172, 1200};

std::span<const uint8_t> master_key(Suite suite) {
    return {kMasterKey.data(), srtp::suite_info(suite).master_key_len};
}
std::span<const uint8_t> master_salt(Suite suite) {
    return {kMasterSalt.data(), srtp::suite_info(suite).master_salt_len};
}

// Counts packets that did not come back Ok and remembers the first reason.
struct Failures {
    uint64_t count = 0;
    std::string first;

    void add(const std::string& why) {
        if (count++ == 0) first = why;
    }
    // Turns failures into a bench error; true when there were none.
    bool report(benchmark::State& state) const {
        if (count == 0) return true;
        state.SkipWithError((std::to_string(count) + " packets failed, first: " + first).c_str());
        return false;
    }
};

// ---- isthmus ---------------------------------------------------------------

template <BenchOp kOp>
void transform(Engine& engine, std::span<PacketOp> ops) {
    if constexpr (kOp == BenchOp::ProtectRtp) srtp::protect_rtp(engine, ops);
    if constexpr (kOp == BenchOp::UnprotectRtp) srtp::unprotect_rtp(engine, ops);
    if constexpr (kOp == BenchOp::ProtectRtcp) srtp::protect_rtcp(engine, ops);
    if constexpr (kOp == BenchOp::UnprotectRtcp) srtp::unprotect_rtcp(engine, ops);
}

void init_context(Context& ctx, Engine& engine, Suite suite) {
    const srtp::SetupStatus s = ctx.init(engine, suite, master_key(suite), master_salt(suite));
    if (s != srtp::SetupStatus::Ok) {
        throw std::runtime_error("Context::init: " + std::string(srtp::setup_status_name(s)));
    }
}

inline void check_ops(std::span<const PacketOp> ops, uint32_t want_len, Failures& failures) {
    for (const PacketOp& op : ops) {
        if (op.status != Status::Ok || op.len != want_len) [[unlikely]] {
            failures.add(std::string(srtp::status_name(op.status)) + ", len " +
                         std::to_string(op.len));
        }
    }
}

// Protects `ring` in place (plain packets of `size`) with `tx`, in bursts.
template <BenchOp kProtectOp>
void protect_ring(Engine& engine, Context& tx, const Slab& ring, uint32_t size, uint32_t wire_len) {
    std::array<PacketOp, kBurst> ops{};
    Failures failures;
    for (std::size_t base = 0; base < ring.size(); base += kBurst) {
        for (std::size_t i = 0; i < kBurst; ++i) {
            ops[i] = {&tx, ring[base + i], size, ring.stride(), Status::Ok};
        }
        transform<kProtectOp>(engine, ops);
        check_ops(ops, wire_len, failures);
    }
    if (failures.count != 0) throw std::runtime_error("protecting the ring: " + failures.first);
}

template <BenchOp kOp>
void bench_isthmus(benchmark::State& state, Suite suite, uint32_t size, ImbArch arch,
                   std::size_t burst, bool job_checks,
                   std::size_t small_burst = srtp::kDefaultSmallBurst) try {
    Engine engine(arch);
    engine.set_job_checks(job_checks);
    engine.set_small_burst(small_burst);
    auto tx = std::make_unique<Context>();
    auto rx = std::make_unique<Context>();
    init_context(*tx, engine, suite);
    init_context(*rx, engine, suite);

    const uint32_t wire_len = size + trailer_len(suite, kOp);
    Slab work(kBurst, size);
    for (std::size_t i = 0; i < kBurst; ++i) {
        write_plain(work[i], kOp, size, static_cast<uint16_t>(i));
    }
    std::array<PacketOp, kBurst> ops{};
    const std::span<PacketOp> burst_ops(ops.data(), burst);
    Failures failures;
    std::size_t slot = 0;

    if constexpr (is_protect(kOp)) {
        uint16_t seq = 0;
        for (auto _ : state) {
            for (std::size_t i = 0; i < burst; ++i) {
                uint8_t* p = work[(slot + i) % kBurst];
                if constexpr (kOp == BenchOp::ProtectRtp) set_rtp_seq(p, seq++);
                ops[i] = {tx.get(), p, size, work.stride(), Status::Ok};
            }
            transform<kOp>(engine, burst_ops);
            check_ops(burst_ops, wire_len, failures);
            slot = (slot + burst) % kBurst;
        }
    } else {
        constexpr BenchOp kProtectOp =
            kOp == BenchOp::UnprotectRtp ? BenchOp::ProtectRtp : BenchOp::ProtectRtcp;
        Slab ring(kRing, size);
        for (std::size_t i = 0; i < kRing; ++i) {
            write_plain(ring[i], kOp, size, static_cast<uint16_t>(1000 + i));
        }
        protect_ring<kProtectOp>(engine, *tx, ring, size, wire_len);
        std::size_t pos = 0;
        for (auto _ : state) {
            if (pos + burst > kRing) [[unlikely]] {
                state.PauseTiming();
                init_context(*rx, engine, suite);  // forget the replay window
                pos = 0;
                state.ResumeTiming();
            }
            for (std::size_t i = 0; i < burst; ++i) {
                uint8_t* p = work[(slot + i) % kBurst];
                std::memcpy(p, ring[pos + i], wire_len);
                ops[i] = {rx.get(), p, wire_len, work.stride(), Status::Ok};
            }
            transform<kOp>(engine, burst_ops);
            check_ops(burst_ops, size, failures);
            pos += burst;
            slot = (slot + burst) % kBurst;
        }
    }
    if (failures.report(state)) report_packets(state, burst, size);
} catch (const std::exception& e) {
    state.SkipWithError(e.what());
}

// The copy the unprotect benches do before each burst of 32, alone.
void bench_memcpy(benchmark::State& state, BenchOp op, Suite suite, uint32_t size) {
    const uint32_t wire_len = size + trailer_len(suite, op);
    Slab ring(kRing, size);
    Slab work(kBurst, size);
    for (std::size_t i = 0; i < kRing; ++i) {
        write_plain(ring[i], op, size, static_cast<uint16_t>(i));
    }
    std::array<PacketOp, kBurst> ops{};
    std::size_t pos = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < kBurst; ++i) {
            std::memcpy(work[i], ring[pos + i], wire_len);
            ops[i] = {nullptr, work[i], wire_len, work.stride(), Status::Ok};
        }
        benchmark::DoNotOptimize(ops.data());
        benchmark::ClobberMemory();
        pos = (pos + kBurst) % kRing;
    }
    report_packets(state, kBurst, size);
}

// ---- libsrtp2 --------------------------------------------------------------

void set_policy(Suite suite, srtp_crypto_policy_t& rtp, srtp_crypto_policy_t& rtcp) {
    switch (suite) {
        case Suite::AesCm128HmacSha1_80:
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtp);
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtcp);
            break;
        case Suite::AesCm128HmacSha1_32:  // RFC 4568 6.2.1: SRTCP keeps the 80-bit tag
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&rtp);
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtcp);
            break;
        case Suite::AesCm256HmacSha1_80:
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&rtp);
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&rtcp);
            break;
        case Suite::AesCm256HmacSha1_32:
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&rtp);
            srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&rtcp);
            break;
        case Suite::AeadAes128Gcm:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&rtp);
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&rtcp);
            break;
        case Suite::AeadAes256Gcm:
            srtp_crypto_policy_set_aes_gcm_256_16_auth(&rtp);
            srtp_crypto_policy_set_aes_gcm_256_16_auth(&rtcp);
            break;
    }
}

// One libsrtp2 session keyed like our contexts (master key || master salt).
class LibsrtpSession {
  public:
    LibsrtpSession(Suite suite, bool outbound) : suite_(suite), outbound_(outbound) { create(); }
    ~LibsrtpSession() { srtp_dealloc(session_); }
    LibsrtpSession(const LibsrtpSession&) = delete;
    LibsrtpSession& operator=(const LibsrtpSession&) = delete;

    srtp_t get() const { return session_; }
    void recreate() {
        srtp_dealloc(session_);
        session_ = nullptr;
        create();
    }

  private:
    void create() {
        std::array<uint8_t, 32 + 14> key{};
        const auto k = master_key(suite_);
        const auto s = master_salt(suite_);
        std::memcpy(key.data(), k.data(), k.size());
        std::memcpy(key.data() + k.size(), s.data(), s.size());
        srtp_policy_t policy;
        std::memset(&policy, 0, sizeof policy);
        set_policy(suite_, policy.rtp, policy.rtcp);
        policy.ssrc.type = outbound_ ? ssrc_any_outbound : ssrc_any_inbound;
        policy.key = key.data();
        policy.window_size = 128;
        policy.allow_repeat_tx = 1;
        policy.next = nullptr;
        if (const srtp_err_status_t err = srtp_create(&session_, &policy);
            err != srtp_err_status_ok) {
            throw std::runtime_error("srtp_create failed: " + std::to_string(err));
        }
    }

    Suite suite_;
    bool outbound_;
    srtp_t session_ = nullptr;
};

template <BenchOp kOp>
srtp_err_status_t libsrtp_transform(srtp_t session, uint8_t* packet, int* len) {
    if constexpr (kOp == BenchOp::ProtectRtp) return srtp_protect(session, packet, len);
    if constexpr (kOp == BenchOp::UnprotectRtp) return srtp_unprotect(session, packet, len);
    if constexpr (kOp == BenchOp::ProtectRtcp) return srtp_protect_rtcp(session, packet, len);
    if constexpr (kOp == BenchOp::UnprotectRtcp) return srtp_unprotect_rtcp(session, packet, len);
}

inline void check_libsrtp(srtp_err_status_t err, int len, uint32_t want_len, Failures& failures) {
    if (err != srtp_err_status_ok || len != static_cast<int>(want_len)) [[unlikely]] {
        failures.add("srtp_err_status " + std::to_string(err) + ", len " + std::to_string(len));
    }
}

template <BenchOp kOp>
void bench_libsrtp2(benchmark::State& state, Suite suite, uint32_t size) try {
    LibsrtpSession tx(suite, true);
    LibsrtpSession rx(suite, false);
    const uint32_t wire_len = size + trailer_len(suite, kOp);
    Slab work(kBurst, size);
    for (std::size_t i = 0; i < kBurst; ++i) {
        write_plain(work[i], kOp, size, static_cast<uint16_t>(i));
    }
    Failures failures;
    std::size_t slot = 0;

    if constexpr (is_protect(kOp)) {
        uint16_t seq = 0;
        for (auto _ : state) {
            uint8_t* p = work[slot];
            if constexpr (kOp == BenchOp::ProtectRtp) set_rtp_seq(p, seq++);
            int len = static_cast<int>(size);
            const srtp_err_status_t err = libsrtp_transform<kOp>(tx.get(), p, &len);
            check_libsrtp(err, len, wire_len, failures);
            slot = (slot + 1) % kBurst;
        }
    } else {
        constexpr BenchOp kProtectOp =
            kOp == BenchOp::UnprotectRtp ? BenchOp::ProtectRtp : BenchOp::ProtectRtcp;
        Slab ring(kRing, size);
        for (std::size_t i = 0; i < kRing; ++i) {
            write_plain(ring[i], kOp, size, static_cast<uint16_t>(1000 + i));
            int len = static_cast<int>(size);
            const srtp_err_status_t err = libsrtp_transform<kProtectOp>(tx.get(), ring[i], &len);
            check_libsrtp(err, len, wire_len, failures);
        }
        if (!failures.report(state)) return;
        std::size_t pos = 0;
        for (auto _ : state) {
            if (pos == kRing) [[unlikely]] {
                state.PauseTiming();
                rx.recreate();  // forget the replay window
                pos = 0;
                state.ResumeTiming();
            }
            uint8_t* p = work[slot];
            std::memcpy(p, ring[pos], wire_len);
            int len = static_cast<int>(wire_len);
            const srtp_err_status_t err = libsrtp_transform<kOp>(rx.get(), p, &len);
            check_libsrtp(err, len, size, failures);
            ++pos;
            slot = (slot + 1) % kBurst;
        }
    }
    if (failures.report(state)) report_packets(state, 1, size);
} catch (const std::exception& e) {
    state.SkipWithError(e.what());
}

// ---- registration ----------------------------------------------------------

struct Variant {
    const char* suffix;  // appended to "isthmus" / "floor"
    ImbArch arch;
    std::size_t burst;
    bool job_checks;  // IMB_SUBMIT_JOB (validating, the engine's default) or _NOCHECK
};
constexpr std::array<Variant, 6> kVariants = {{
    {"", ImbArch::Auto, kBurst, true},
    {"_sse", ImbArch::Sse, kBurst, true},
    {"_avx2", ImbArch::Avx2, kBurst, true},
    {"_burst1", ImbArch::Auto, 1, true},
    {"_burst1_sse", ImbArch::Sse, 1, true},
    {"_nocheck", ImbArch::Auto, kBurst, false},
}};

template <BenchOp kOp>
void register_op() {
    for (const Suite suite : srtp::kAllSuites) {
        for (const uint32_t size : kSizes) {
            const std::string base = std::string(bench_op_name(kOp)) + "/" +
                                     std::string(srtp::suite_info(suite).name) + "/" +
                                     std::to_string(size) + "/";
            for (const Variant& v : kVariants) {
                benchmark::RegisterBenchmark(
                    (base + "isthmus" + v.suffix).c_str(), [=](benchmark::State& st) {
                        bench_isthmus<kOp>(st, suite, size, v.arch, v.burst, v.job_checks);
                    });
            }
            for (const Variant& v : kVariants) {
                benchmark::RegisterBenchmark(
                    (base + "floor" + v.suffix).c_str(), [=](benchmark::State& st) {
                        bench_floor(st, kOp, suite, size, v.arch, v.burst, v.job_checks);
                    });
            }
            benchmark::RegisterBenchmark((base + "libsrtp2").c_str(), [=](benchmark::State& st) {
                bench_libsrtp2<kOp>(st, suite, size);
            });
            if constexpr (!is_protect(kOp)) {
                benchmark::RegisterBenchmark((base + "memcpy").c_str(), [=](benchmark::State& st) {
                    bench_memcpy(st, kOp, suite, size);
                });
            }
        }
    }
}

// Burst-size sweep for AES-CM, where the manager choice matters: the engine
// as configured (multi-buffer manager from kDefaultSmallBurst packets up, SSE
// below) against the multi-buffer manager alone (`_mb`, small_burst 0).
void register_burst_sweep() {
    constexpr Suite kSuite = Suite::AesCm128HmacSha1_80;
    constexpr uint32_t kSize = 172;
    for (const std::size_t burst : std::array<std::size_t, 6>{2, 4, 8, 12, 16, 24}) {
        const std::string b = std::to_string(burst);
        const std::string tail = "/" + std::string(srtp::suite_info(kSuite).name) + "/172/";
        benchmark::RegisterBenchmark(
            ("protect_rtp" + tail + "isthmus_burst" + b).c_str(), [=](benchmark::State& st) {
                bench_isthmus<BenchOp::ProtectRtp>(st, kSuite, kSize, ImbArch::Auto, burst, true);
            });
        benchmark::RegisterBenchmark(("protect_rtp" + tail + "isthmus_burst" + b + "_mb").c_str(),
                                     [=](benchmark::State& st) {
                                         bench_isthmus<BenchOp::ProtectRtp>(
                                             st, kSuite, kSize, ImbArch::Auto, burst, true, 0);
                                     });
    }
}

std::string engine_auto_arch() {
    try {
        Engine engine(ImbArch::Auto);
        return std::string(srtp::arch_name(engine.arch()));
    } catch (const std::exception& e) {
        return e.what();
    }
}

}  // namespace
}  // namespace isthmus::bench

int main(int argc, char** argv) {
    using namespace isthmus::bench;
    if (const srtp_err_status_t err = srtp_init(); err != srtp_err_status_ok) {
        std::fprintf(stderr, "srtp_bench: srtp_init failed (%d)\n", static_cast<int>(err));
        return 1;
    }
    register_op<BenchOp::ProtectRtp>();
    register_op<BenchOp::UnprotectRtp>();
    register_op<BenchOp::ProtectRtcp>();
    register_op<BenchOp::UnprotectRtcp>();
    register_burst_sweep();

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("imb_version", imb_get_version_str());
    benchmark::AddCustomContext("imb_auto_arch", floor_auto_arch());
    benchmark::AddCustomContext("isthmus_auto_arch", engine_auto_arch());
    benchmark::AddCustomContext("libsrtp2_version", srtp_get_version_string());
    benchmark::AddCustomContext("burst", std::to_string(kBurst));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    srtp_shutdown();
    return 0;
}
