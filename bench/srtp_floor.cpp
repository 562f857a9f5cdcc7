// The IPsec-MB floor of the SRTP benches; see srtp_floor.hpp.
#include "srtp_floor.hpp"

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "srtp/imb.hpp"

namespace isthmus::bench {
namespace {

using srtp::ImbArch;
using srtp::Suite;

struct FreeManager {
    void operator()(IMB_MGR* mgr) const { free_mb_mgr(mgr); }
};
using ManagerPtr = std::unique_ptr<IMB_MGR, FreeManager>;

const char* imb_arch_name(IMB_ARCH arch) {
    switch (arch) {
        case IMB_ARCH_NOAESNI:
            return "noaesni";
        case IMB_ARCH_SSE:
            return "sse";
        case IMB_ARCH_AVX:
            return "avx";
        case IMB_ARCH_AVX2:
            return "avx2";
        case IMB_ARCH_AVX512:
            return "avx512";
        default:
            return "none";
    }
}

// Throws std::runtime_error naming the cause (the bench then skips).
ManagerPtr make_manager(ImbArch arch, IMB_ARCH* picked = nullptr) {
    ManagerPtr mgr(alloc_mb_mgr(0));
    if (!mgr) throw std::runtime_error("alloc_mb_mgr failed");
    IMB_ARCH auto_arch = IMB_ARCH_NONE;
    switch (arch) {
        case ImbArch::Auto:
            init_mb_mgr_auto(mgr.get(), &auto_arch);
            break;
        case ImbArch::Sse:
            init_mb_mgr_sse(mgr.get());
            break;
        case ImbArch::Avx:
            init_mb_mgr_avx(mgr.get());
            break;
        case ImbArch::Avx2:
            init_mb_mgr_avx2(mgr.get());
            break;
        case ImbArch::Avx512:
            init_mb_mgr_avx512(mgr.get());
            break;
    }
    if (const int err = imb_get_errno(mgr.get()); err != 0) {
        throw std::runtime_error(std::string("IPsec-MB manager init: ") + imb_get_strerror(err));
    }
    if (picked != nullptr) *picked = auto_arch;
    return mgr;
}

// Expanded keys of one suite for one manager (GCM key layout is per arch).
struct FloorKeys {
    alignas(64) gcm_key_data gcm;
    alignas(16) std::array<uint8_t, 16 * 15> enc{};
    alignas(16) std::array<uint8_t, 16 * 15> dec{};
    alignas(16) std::array<uint8_t, 32> ipad{};
    alignas(16) std::array<uint8_t, 32> opad{};
};

void expand_keys(IMB_MGR* mgr, Suite suite, FloorKeys& keys) {
    const srtp::SuiteInfo info = srtp::suite_info(suite);
    const uint8_t* key = kMasterKey.data();
    if (info.aead) {
        if (info.master_key_len == 16) {
            IMB_AES128_GCM_PRE(mgr, key, &keys.gcm);
        } else {
            IMB_AES256_GCM_PRE(mgr, key, &keys.gcm);
        }
        return;
    }
    if (info.master_key_len == 16) {
        IMB_AES_KEYEXP_128(mgr, key, keys.enc.data(), keys.dec.data());
    } else {
        IMB_AES_KEYEXP_256(mgr, key, keys.enc.data(), keys.dec.data());
    }
    // HMAC (RFC 2104): SHA-1 state after one block of (key ^ ipad) / (key ^ opad).
    std::array<uint8_t, 64> block{};
    for (std::size_t i = 0; i < block.size(); ++i) {
        block[i] = static_cast<uint8_t>((i < 20 ? kMasterKey[i] : 0) ^ 0x36);
    }
    IMB_SHA1_ONE_BLOCK(mgr, block.data(), keys.ipad.data());
    for (std::size_t i = 0; i < block.size(); ++i) {
        block[i] = static_cast<uint8_t>((i < 20 ? kMasterKey[i] : 0) ^ 0x5c);
    }
    IMB_SHA1_ONE_BLOCK(mgr, block.data(), keys.opad.data());
}

// Everything about a job that does not change from packet to packet.
struct JobPlan {
    IMB_CIPHER_MODE cipher_mode;
    IMB_HASH_ALG hash_alg;
    IMB_CHAIN_ORDER chain_order;
    IMB_CIPHER_DIRECTION direction;
    uint64_t key_len;
    uint64_t cipher_offset;  // header stays clear
    uint64_t cipher_len;
    uint64_t hash_len;  // AES-CM: header + payload + ROC (or E||index), from offset 0
    uint64_t iv_len;
    uint64_t tag_len;
    bool aad_in_packet;  // GCM SRTP: the RTP header is the AAD
};

JobPlan make_plan(BenchOp op, Suite suite, uint32_t size) {
    const srtp::SuiteInfo info = srtp::suite_info(suite);
    const uint64_t header = is_rtcp(op) ? kRtcpHeaderLen : kRtpHeaderLen;
    JobPlan plan{};
    plan.direction = is_protect(op) ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
    // Encrypt then authenticate; verify then decrypt.
    plan.chain_order = is_protect(op) ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
    plan.key_len = info.master_key_len;
    plan.cipher_offset = header;
    plan.cipher_len = size - header;
    if (info.aead) {
        plan.cipher_mode = IMB_CIPHER_GCM;
        plan.hash_alg = IMB_AUTH_AES_GMAC;
        plan.hash_len = plan.cipher_len;
        plan.iv_len = 12;
        plan.tag_len = 16;
        plan.aad_in_packet = !is_rtcp(op);
    } else {
        plan.cipher_mode = IMB_CIPHER_CNTR;
        plan.hash_alg = IMB_AUTH_HMAC_SHA_1;
        plan.hash_len = uint64_t{size} + 4;  // RFC 3711 4.2: M = packet || ROC (or E||index)
        plan.iv_len = 16;
        plan.tag_len = 20;  // full HMAC-SHA1 output; truncation is the engine's business
        plan.aad_in_packet = false;
    }
    return plan;
}

// Per-slot IVs, AADs (SRTCP: header || E||index) and tag outputs.
struct SlotScratch {
    alignas(16) std::array<std::array<uint8_t, 16>, kBurst> iv{};
    alignas(16) std::array<std::array<uint8_t, 16>, kBurst> aad{};
    alignas(16) std::array<std::array<uint8_t, 32>, kBurst> tag{};
};

inline void fill_job(IMB_JOB* job, const JobPlan& plan, const FloorKeys& keys, SlotScratch& scratch,
                     std::size_t slot, uint8_t* packet) {
    job->cipher_mode = plan.cipher_mode;
    job->hash_alg = plan.hash_alg;
    job->chain_order = plan.chain_order;
    job->cipher_direction = plan.direction;
    job->key_len_in_bytes = plan.key_len;
    job->src = packet;
    job->dst = packet + plan.cipher_offset;  // IPsec-MB writes output at dst, in place
    job->cipher_start_src_offset_in_bytes = plan.cipher_offset;
    job->msg_len_to_cipher_in_bytes = plan.cipher_len;
    job->iv = scratch.iv[slot].data();
    job->iv_len_in_bytes = plan.iv_len;
    job->auth_tag_output = scratch.tag[slot].data();
    job->auth_tag_output_len_in_bytes = plan.tag_len;
    if (plan.cipher_mode == IMB_CIPHER_GCM) {
        job->enc_keys = &keys.gcm;
        job->dec_keys = &keys.gcm;
        job->hash_start_src_offset_in_bytes = plan.cipher_offset;
        job->msg_len_to_hash_in_bytes = plan.cipher_len;
        job->u.GCM.aad = plan.aad_in_packet ? packet : scratch.aad[slot].data();
        job->u.GCM.aad_len_in_bytes = plan.cipher_offset + (plan.aad_in_packet ? 0 : 4);
    } else {
        job->enc_keys = keys.enc.data();
        job->dec_keys = keys.enc.data();
        job->hash_start_src_offset_in_bytes = 0;
        job->msg_len_to_hash_in_bytes = plan.hash_len;
        job->u.HMAC._hashed_auth_key_xor_ipad = keys.ipad.data();
        job->u.HMAC._hashed_auth_key_xor_opad = keys.opad.data();
    }
}

}  // namespace

std::string floor_auto_arch() {
    IMB_ARCH picked = IMB_ARCH_NONE;
    try {
        make_manager(ImbArch::Auto, &picked);
    } catch (const std::exception& e) {
        return e.what();
    }
    return imb_arch_name(picked);
}

void bench_floor(benchmark::State& state, BenchOp op, Suite suite, uint32_t size, ImbArch arch,
                 std::size_t burst, bool job_checks) {
    ManagerPtr mgr;
    try {
        mgr = make_manager(arch);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    auto keys = std::make_unique<FloorKeys>();
    expand_keys(mgr.get(), suite, *keys);
    auto scratch = std::make_unique<SlotScratch>();
    for (std::size_t i = 0; i < kBurst; ++i) {
        scratch->iv[i].fill(static_cast<uint8_t>(i));
        scratch->iv[i][14] = scratch->iv[i][15] = 0;  // AES-CM block counter starts at 0
        scratch->aad[i].fill(static_cast<uint8_t>(0x80 + i));
    }
    const JobPlan plan = make_plan(op, suite, size);

    // Same buffers as the engine's benches: 32 working slots (a burst of 1
    // rotates through them); unprotect copies protected-size packets from a
    // ring of kRing first.
    const uint32_t wire_len = is_protect(op) ? size : size + trailer_len(suite, op);
    Slab work(kBurst, size);
    for (std::size_t i = 0; i < kBurst; ++i) {
        write_plain(work[i], op, size, static_cast<uint16_t>(i));
    }
    std::unique_ptr<Slab> ring;
    if (!is_protect(op)) {
        ring = std::make_unique<Slab>(kRing, size);
        for (std::size_t i = 0; i < kRing; ++i) {
            write_plain((*ring)[i], op, size, static_cast<uint16_t>(i));
        }
    }

    IMB_MGR* const m = mgr.get();
    uint64_t completed = 0;
    uint64_t failed = 0;
    std::size_t slot = 0;
    std::size_t pos = 0;
    for (auto _ : state) {
        if (ring) {
            for (std::size_t i = 0; i < burst; ++i) {
                std::memcpy(work[slot + i], (*ring)[pos + i], wire_len);
            }
            pos = (pos + burst) % kRing;
        }
        for (std::size_t i = 0; i < burst; ++i) {
            IMB_JOB* job = IMB_GET_NEXT_JOB(m);
            fill_job(job, plan, *keys, *scratch, slot + i, work[slot + i]);
            job = job_checks ? IMB_SUBMIT_JOB(m) : IMB_SUBMIT_JOB_NOCHECK(m);
            if (job != nullptr) {
                ++completed;
                failed += job->status != IMB_STATUS_COMPLETED;
            }
        }
        while (IMB_JOB* job = IMB_FLUSH_JOB(m)) {
            ++completed;
            failed += job->status != IMB_STATUS_COMPLETED;
        }
        slot = (slot + burst) % kBurst;
    }
    if (failed != 0 || completed != static_cast<uint64_t>(state.iterations()) * burst) {
        state.SkipWithError(("IPsec-MB jobs failed: " + std::to_string(failed) + " of " +
                             std::to_string(completed) + ", errno " +
                             imb_get_strerror(imb_get_errno(m)))
                                .c_str());
        return;
    }
    report_packets(state, burst, size);
}

}  // namespace isthmus::bench
