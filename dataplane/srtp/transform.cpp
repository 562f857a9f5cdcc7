// SRTP/SRTCP transforms on IPsec-MB jobs. See transform.hpp for the contract.
//
// Shape of every transform (STYLE.md, l3fwd/ipsec-secgw): for each chunk of
// up to kMaxBurst packets, prepare() checks headers, finds the stream,
// estimates the index, pre-checks replay and fills one IPsec-MB job; all jobs
// are submitted, the manager is flushed, and complete() finishes the packets
// in submission order (tag comparison, replay-list update, trailer layout).
// State changes happen only in complete() for receiving, so a forged packet
// never moves a window or creates a stream.
#include "srtp/transform.hpp"

#include <bit>
#include <cstring>

#include "srtp/burst_scratch.hpp"
#include "srtp/imb.hpp"
#include "srtp/rtp_header.hpp"

namespace isthmus::srtp {

namespace {

using detail::PacketSlot;

constexpr uint64_t kMaxSrtpIndex = (uint64_t{1} << 48) - 1;  // RFC 3711 3.2.1
constexpr uint32_t kMaxSrtcpIndex = 0x7fffffffU;             // RFC 3711 3.4
constexpr uint32_t kSrtcpEBit = 0x80000000U;

static_assert(std::endian::native == std::endian::little,
              "the IV and tag helpers below assume a little-endian CPU (x86-64)");

// Constant-time comparison of n octets (n is 4, 10 or 16; both buffers hold 16).
inline uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline bool tags_equal(const uint8_t* a, const uint8_t* b, std::size_t n) {
    const uint64_t lo = load64(a) ^ load64(b);
    const uint64_t hi = load64(a + 8) ^ load64(b + 8);
    const uint64_t mlo = n >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
    const uint64_t mhi = n >= 16 ? ~uint64_t{0} : n <= 8 ? 0 : (uint64_t{1} << (8 * (n - 8))) - 1;
    return ((lo & mlo) | (hi & mhi)) == 0;
}
inline void copy_tag(uint8_t* dst, const uint8_t* src, std::size_t n) {
    if (n == 16)
        std::memcpy(dst, src, 16);
    else if (n == 10)
        std::memcpy(dst, src, 10);
    else
        std::memcpy(dst, src, 4);
}

// RFC 3711 4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), where
// i is the 48-bit SRTP index or the 31-bit SRTCP index.
inline void aes_cm_iv(uint8_t* iv, const HalfKeys& k, uint32_t ssrc, uint64_t index) {
    uint64_t a, b;
    std::memcpy(&a, k.salt.data(), 8);
    std::memcpy(&b, k.salt.data() + 8, 8);
    a ^= __builtin_bswap64(uint64_t{ssrc});
    b ^= __builtin_bswap64(index << 16);
    std::memcpy(iv, &a, 8);
    std::memcpy(iv + 8, &b, 8);
}

// RFC 7714 8.1 (SRTP): IV = (00 00 || SSRC || ROC || SEQ) XOR salt;
// RFC 7714 9.1 (SRTCP): IV = (00 00 || SSRC || 00 00 || 0+index) XOR salt.
// Both are the 48-bit value `index48` in the last six octets.
inline void gcm_iv(uint8_t* iv, const HalfKeys& k, uint32_t ssrc, uint64_t index48) {
    uint64_t a;
    uint32_t b;
    std::memcpy(&a, k.salt.data(), 8);
    std::memcpy(&b, k.salt.data() + 8, 4);
    a ^= __builtin_bswap64((uint64_t{ssrc} << 16) | (index48 >> 32));
    b ^= __builtin_bswap32(static_cast<uint32_t>(index48));
    std::memcpy(iv, &a, 8);
    std::memcpy(iv + 8, &b, 4);
}

// AES-CM + HMAC-SHA1 job over buf: cipher [c_off, c_off + c_len), then (or,
// decrypting, before) HMAC over [0, h_len); the full 20-octet HMAC goes to
// slot.tag.
inline void fill_cm_job(IMB_JOB* job, const HalfKeys& k, uint64_t key_len, uint8_t* buf,
                        uint32_t c_off, uint32_t c_len, uint32_t h_len, bool encrypt,
                        PacketSlot& slot) {
    job->enc_keys = k.cm.aes_enc_keys.data();
    job->dec_keys = k.cm.aes_enc_keys.data();  // CTR uses the encryption schedule both ways
    job->key_len_in_bytes = key_len;
    job->src = buf;
    job->dst = buf + c_off;  // in place: dst is where output of src + offset goes
    job->cipher_start_src_offset_in_bytes = c_off;
    job->msg_len_to_cipher_in_bytes = c_len;
    job->hash_start_src_offset_in_bytes = 0;
    job->msg_len_to_hash_in_bytes = h_len;
    job->iv = slot.iv.data();
    job->iv_len_in_bytes = 16;
    job->auth_tag_output = slot.tag.data();
    job->auth_tag_output_len_in_bytes = IMB_SHA1_DIGEST_SIZE_IN_BYTES;
    job->u.HMAC._hashed_auth_key_xor_ipad = k.cm.hmac_ipad.data();
    job->u.HMAC._hashed_auth_key_xor_opad = k.cm.hmac_opad.data();
    // IPsec-MB refuses zero-length CTR jobs; an empty payload is only hashed.
    job->cipher_mode = c_len != 0 ? IMB_CIPHER_CNTR : IMB_CIPHER_NULL;
    job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
    job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
    job->hash_alg = IMB_AUTH_HMAC_SHA_1;
    job->user_data = &slot;
}

// AES-GCM job: AAD, then cipher [c_off, c_off + c_len) in place; 16-octet
// tag to `tag_out`.
inline void fill_gcm_job(IMB_JOB* job, const HalfKeys& k, uint64_t key_len, uint8_t* buf,
                         uint32_t c_off, uint32_t c_len, const uint8_t* aad, uint32_t aad_len,
                         uint8_t* tag_out, bool encrypt, PacketSlot& slot) {
    const void* gcm = k.gcm_key.data();
    job->enc_keys = gcm;
    job->dec_keys = gcm;
    job->key_len_in_bytes = key_len;
    job->src = buf;
    job->dst = buf + c_off;
    job->cipher_start_src_offset_in_bytes = c_off;
    job->msg_len_to_cipher_in_bytes = c_len;
    job->hash_start_src_offset_in_bytes = c_off;
    job->msg_len_to_hash_in_bytes = c_len;
    job->iv = slot.iv.data();
    job->iv_len_in_bytes = 12;
    job->u.GCM.aad = aad;
    job->u.GCM.aad_len_in_bytes = aad_len;
    job->auth_tag_output = tag_out;
    job->auth_tag_output_len_in_bytes = 16;
    job->cipher_mode = IMB_CIPHER_GCM;
    job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
    job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
    job->hash_alg = IMB_AUTH_AES_GMAC;
    job->user_data = &slot;
}

inline void mark_done(IMB_JOB* job) {
    static_cast<PacketSlot*>(job->user_data)->job_ok = job->status == IMB_STATUS_COMPLETED;
}

// The burst driver shared by the four transforms. Prepare(op, slot, job)
// returns Ok after filling the job, or the packet's failure; Complete(slot)
// returns the packet's final status.
template <Op kOp, class Prepare, class Complete>
inline void run_burst(Engine& engine, std::span<PacketOp> ops, Prepare prepare, Complete complete) {
    IMB_MGR* const main_mgr = engine.mgr();
    detail::BurstScratch& sc = engine.scratch();
    Counters& counters = engine.counters();
    const bool checks = engine.job_checks();

    for (std::size_t base = 0; base < ops.size(); base += kMaxBurst) {
        const std::size_t n = std::min(kMaxBurst, ops.size() - base);
        IMB_MGR* const cm_mgr = engine.cm_mgr(n);
        std::size_t pending = 0;
        for (std::size_t i = 0; i < n; ++i) {
            PacketOp& op = ops[base + i];
            PacketSlot& slot = sc.slots[i];
            slot.op = &op;
            slot.job_ok = false;
            slot.submitted = true;
            // GCM keys are laid out for the main manager; AES-CM keys suit both.
            IMB_MGR* const mgr = (op.ctx != nullptr && !op.ctx->info().aead) ? cm_mgr : main_mgr;
            IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
            const Status st = prepare(op, slot, job);
            if (st != Status::Ok) [[unlikely]] {
                op.status = st;
                counters.add(kOp, st);
                continue;
            }
            sc.pending[pending++] = &slot;
            if (!slot.submitted) [[unlikely]]
                continue;  // complete() decides in burst order
            IMB_JOB* done = checks ? IMB_SUBMIT_JOB(mgr) : IMB_SUBMIT_JOB_NOCHECK(mgr);
            while (done != nullptr) {
                mark_done(done);
                done = IMB_GET_COMPLETED_JOB(mgr);
            }
        }
        while (IMB_JOB* done = IMB_FLUSH_JOB(main_mgr))
            mark_done(done);
        if (cm_mgr != main_mgr) {
            while (IMB_JOB* done = IMB_FLUSH_JOB(cm_mgr))
                mark_done(done);
        }

        for (std::size_t k = 0; k < pending; ++k) {
            PacketSlot& slot = *sc.pending[k];
            const Status st =
                (slot.job_ok || !slot.submitted) ? complete(slot) : Status::CryptoError;
            slot.op->status = st;
            counters.add(kOp, st);
        }
    }
}

// Runs one already-filled job of `mgr` to completion on that idle manager
// (the rare re-run path of unprotect_rtp). Returns whether it completed.
inline bool run_job_now(Engine& engine, IMB_MGR* mgr, IMB_JOB* job, PacketSlot& slot) {
    job->user_data = &slot;
    slot.job_ok = false;
    IMB_JOB* done = engine.job_checks() ? IMB_SUBMIT_JOB(mgr) : IMB_SUBMIT_JOB_NOCHECK(mgr);
    while (done != nullptr) {
        mark_done(done);
        done = IMB_GET_COMPLETED_JOB(mgr);
    }
    while (IMB_JOB* d = IMB_FLUSH_JOB(mgr))
        mark_done(d);
    return slot.job_ok;
}

inline bool context_usable(const Engine& engine, const PacketOp& op) {
    return op.ctx != nullptr && op.ctx->ready() && op.ctx->engine_arch() == engine.arch();
}

}  // namespace

// ---------------------------------------------------------------- SRTP

void protect_rtp(Engine& engine, std::span<PacketOp> ops) {
    const auto prepare = [&engine](PacketOp& op, PacketSlot& slot, IMB_JOB* job) -> Status {
        if (!context_usable(engine, op)) return Status::UnknownContext;
        Context& ctx = *op.ctx;
        const SuiteInfo& si = ctx.info();
        RtpHeaderInfo h;
        if (const Status st = parse_rtp_header(op.data, op.len, 0, h); st != Status::Ok) return st;
        if (uint64_t{op.capacity} < uint64_t{op.len} + si.rtp_tag_len) return Status::NoRoom;
        Stream* stream = ctx.find_or_add_stream(h.ssrc);
        if (stream == nullptr) return Status::UnknownSsrc;
        const int64_t delta = estimate_index_delta(stream->rtp.highest(), h.seq);
        const int64_t index = static_cast<int64_t>(stream->rtp.highest()) + delta;
        if (index < 0) return Status::ReplayOld;
        if (static_cast<uint64_t>(index) > kMaxSrtpIndex) return Status::KeyExhausted;
        // A sender never reuses an index: that would reuse keystream.
        if (const Status st = stream->rtp.check(delta); st != Status::Ok) return st;
        stream->rtp.accept(delta);

        const auto idx = static_cast<uint64_t>(index);
        const uint32_t payload = op.len - h.header_len;
        slot.tag_len = si.rtp_tag_len;
        slot.out_len = op.len + si.rtp_tag_len;
        if (si.aead) {
            gcm_iv(slot.iv.data(), ctx.rtp_keys, h.ssrc, idx);
            fill_gcm_job(job, ctx.rtp_keys, si.master_key_len, op.data, h.header_len, payload,
                         op.data, h.header_len, op.data + op.len, true, slot);
        } else {
            aes_cm_iv(slot.iv.data(), ctx.rtp_keys, h.ssrc, idx);
            // RFC 3711 4.2: the tag covers the packet followed by the ROC;
            // the ROC sits where the tag will go until the tag replaces it.
            store_be32(op.data + op.len, static_cast<uint32_t>(idx >> 16));
            fill_cm_job(job, ctx.rtp_keys, si.master_key_len, op.data, h.header_len, payload,
                        op.len + 4, true, slot);
        }
        return Status::Ok;
    };
    const auto complete = [](PacketSlot& slot) -> Status {
        PacketOp& op = *slot.op;
        if (!op.ctx->info().aead) std::memcpy(op.data + op.len, slot.tag.data(), slot.tag_len);
        op.len = slot.out_len;
        return Status::Ok;
    };
    run_burst<Op::ProtectRtp>(engine, ops, prepare, complete);
}

namespace {

// The job that authenticates and decrypts an SRTP packet as index `idx`.
// AES-CM: the ROC goes where the tag was (saved in slot.rx_tag first).
inline void fill_unprotect_rtp_job(IMB_JOB* job, const Context& ctx, PacketOp& op, PacketSlot& slot,
                                   uint64_t idx) {
    const SuiteInfo& si = ctx.info();
    const uint32_t body = slot.out_len;
    const uint32_t payload = body - slot.header_len;
    if (si.aead) {
        gcm_iv(slot.iv.data(), ctx.rtp_keys, slot.ssrc, idx);
        fill_gcm_job(job, ctx.rtp_keys, si.master_key_len, op.data, slot.header_len, payload,
                     op.data, slot.header_len, slot.tag.data(), false, slot);
    } else {
        aes_cm_iv(slot.iv.data(), ctx.rtp_keys, slot.ssrc, idx);
        store_be32(op.data + body, static_cast<uint32_t>(idx >> 16));  // ROC (RFC 3711 4.2)
        fill_cm_job(job, ctx.rtp_keys, si.master_key_len, op.data, slot.header_len, payload,
                    body + 4, false, slot);
    }
}

// Undoes a decryption made with the keystream of slot.iv (CTR: applying the
// same keystream again gives the ciphertext back).
inline void fill_undo_decrypt_job(IMB_JOB* job, const Context& ctx, PacketOp& op,
                                  PacketSlot& slot) {
    const SuiteInfo& si = ctx.info();
    const uint32_t payload = slot.out_len - slot.header_len;
    if (si.aead) {
        fill_gcm_job(job, ctx.rtp_keys, si.master_key_len, op.data, slot.header_len, payload,
                     op.data, slot.header_len, slot.tag.data(), true, slot);
    } else {
        fill_cm_job(job, ctx.rtp_keys, si.master_key_len, op.data, slot.header_len, payload, 0,
                    true, slot);
        job->hash_alg = IMB_AUTH_NULL;
        job->auth_tag_output_len_in_bytes = 0;
    }
}

}  // namespace

void unprotect_rtp(Engine& engine, std::span<PacketOp> ops) {
    const auto prepare = [&engine](PacketOp& op, PacketSlot& slot, IMB_JOB* job) -> Status {
        if (!context_usable(engine, op)) return Status::UnknownContext;
        Context& ctx = *op.ctx;
        const SuiteInfo& si = ctx.info();
        RtpHeaderInfo h;
        if (const Status st = parse_rtp_header(op.data, op.len, si.rtp_tag_len, h);
            st != Status::Ok) {
            return st;
        }
        Stream* stream = ctx.find_stream(h.ssrc);
        if (stream == nullptr && !ctx.has_free_stream()) return Status::UnknownSsrc;
        const uint64_t highest = stream != nullptr ? stream->rtp.highest() : 0;
        const int64_t delta = estimate_index_delta(highest, h.seq);
        const int64_t index = static_cast<int64_t>(highest) + delta;
        slot.ssrc = h.ssrc;
        slot.seq = h.seq;
        slot.header_len = h.header_len;
        slot.tag_len = si.rtp_tag_len;
        slot.out_len = op.len - si.rtp_tag_len;
        // A replayed or stale packet costs no crypto; complete() gives its
        // verdict in burst order, as one packet at a time would.
        if (index < 0 || static_cast<uint64_t>(index) > kMaxSrtpIndex ||
            (stream != nullptr && stream->rtp.check(delta) != Status::Ok)) {
            slot.submitted = false;
            return Status::Ok;
        }
        slot.index = static_cast<uint64_t>(index);
        copy_tag(slot.rx_tag.data(), op.data + slot.out_len, si.rtp_tag_len);
        fill_unprotect_rtp_job(job, ctx, op, slot, slot.index);
        return Status::Ok;
    };
    const auto complete = [&engine](PacketSlot& slot) -> Status {
        PacketOp& op = *slot.op;
        Context& ctx = *op.ctx;
        // Decide against the stream as the earlier packets of this burst left it.
        Stream* stream = ctx.find_stream(slot.ssrc);
        const uint64_t highest = stream != nullptr ? stream->rtp.highest() : 0;
        const int64_t delta = estimate_index_delta(highest, slot.seq);
        const int64_t index = static_cast<int64_t>(highest) + delta;
        if (index < 0) return Status::ReplayOld;
        if (static_cast<uint64_t>(index) > kMaxSrtpIndex) return Status::KeyExhausted;
        if (stream != nullptr) {
            if (const Status st = stream->rtp.check(delta); st != Status::Ok) return st;
        }
        const auto idx = static_cast<uint64_t>(index);
        if (!slot.submitted || idx != slot.index) [[unlikely]] {
            // prepare() estimated another index (e.g. a new stream wrapping
            // inside its first burst): run the crypto again with this one.
            // A lone job: the SSE companion for AES-CM (a multi-buffer
            // manager flushing one lane costs 3x), the main manager for GCM.
            IMB_MGR* mgr = ctx.info().aead ? engine.mgr() : engine.cm_mgr(1);
            if (slot.submitted) {  // the payload was decrypted with the wrong keystream
                IMB_JOB* undo = IMB_GET_NEXT_JOB(mgr);
                fill_undo_decrypt_job(undo, ctx, op, slot);
                if (!run_job_now(engine, mgr, undo, slot)) return Status::CryptoError;
            } else {
                copy_tag(slot.rx_tag.data(), op.data + slot.out_len, slot.tag_len);
            }
            slot.index = idx;
            IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
            fill_unprotect_rtp_job(job, ctx, op, slot, idx);
            if (!run_job_now(engine, mgr, job, slot)) return Status::CryptoError;
        }
        if (!tags_equal(slot.tag.data(), slot.rx_tag.data(), slot.tag_len)) {
            return Status::AuthFail;
        }
        if (stream == nullptr) {
            stream = ctx.find_or_add_stream(slot.ssrc);
            if (stream == nullptr) return Status::UnknownSsrc;  // slots taken earlier in this burst
        }
        stream->rtp.accept(delta);
        op.len = slot.out_len;
        return Status::Ok;
    };
    run_burst<Op::UnprotectRtp>(engine, ops, prepare, complete);
}

// --------------------------------------------------------------- SRTCP

void protect_rtcp(Engine& engine, std::span<PacketOp> ops) {
    const auto prepare = [&engine](PacketOp& op, PacketSlot& slot, IMB_JOB* job) -> Status {
        if (!context_usable(engine, op)) return Status::UnknownContext;
        Context& ctx = *op.ctx;
        const SuiteInfo& si = ctx.info();
        uint32_t ssrc = 0;
        if (const Status st = parse_rtcp_header(op.data, op.len, 0, ssrc); st != Status::Ok) {
            return st;
        }
        if (uint64_t{op.capacity} < uint64_t{op.len} + 4 + si.rtcp_tag_len) return Status::NoRoom;
        Stream* stream = ctx.find_or_add_stream(ssrc);
        if (stream == nullptr) return Status::UnknownSsrc;
        const uint32_t index = stream->next_srtcp_index;
        if (index > kMaxSrtcpIndex) return Status::KeyExhausted;
        stream->next_srtcp_index = index + 1;

        const uint32_t e_index = kSrtcpEBit | index;
        slot.tag_len = si.rtcp_tag_len;
        slot.out_len = op.len + 4 + si.rtcp_tag_len;
        if (si.aead) {
            // RFC 7714 9.1: AAD = first 8 octets || E+index; tag, then E+index.
            std::memcpy(slot.aad.data(), op.data, 8);
            store_be32(slot.aad.data() + 8, e_index);
            store_be32(op.data + op.len + 16, e_index);
            gcm_iv(slot.iv.data(), ctx.rtcp_keys, ssrc, index);
            fill_gcm_job(job, ctx.rtcp_keys, si.master_key_len, op.data, 8, op.len - 8,
                         slot.aad.data(), 12, op.data + op.len, true, slot);
        } else {
            // RFC 3711 3.4: E+index follows the encrypted part and is authenticated.
            store_be32(op.data + op.len, e_index);
            aes_cm_iv(slot.iv.data(), ctx.rtcp_keys, ssrc, index);
            fill_cm_job(job, ctx.rtcp_keys, si.master_key_len, op.data, 8, op.len - 8, op.len + 4,
                        true, slot);
        }
        return Status::Ok;
    };
    const auto complete = [](PacketSlot& slot) -> Status {
        PacketOp& op = *slot.op;
        if (!op.ctx->info().aead) {
            std::memcpy(op.data + op.len + 4, slot.tag.data(), slot.tag_len);
        }
        op.len = slot.out_len;
        return Status::Ok;
    };
    run_burst<Op::ProtectRtcp>(engine, ops, prepare, complete);
}

void unprotect_rtcp(Engine& engine, std::span<PacketOp> ops) {
    const auto prepare = [&engine](PacketOp& op, PacketSlot& slot, IMB_JOB* job) -> Status {
        if (!context_usable(engine, op)) return Status::UnknownContext;
        Context& ctx = *op.ctx;
        const SuiteInfo& si = ctx.info();
        const uint32_t trailer = 4U + si.rtcp_tag_len;
        uint32_t ssrc = 0;
        if (const Status st = parse_rtcp_header(op.data, op.len, trailer, ssrc); st != Status::Ok) {
            return st;
        }
        const uint32_t body = op.len - trailer;  // RTCP octets (header + encrypted part)
        // AES-CM: body || E+index || tag; GCM: body || tag || E+index.
        const uint8_t* e_index_at = si.aead ? op.data + op.len - 4 : op.data + body;
        const uint32_t e_index = load_be32(e_index_at);
        const bool encrypted = (e_index & kSrtcpEBit) != 0;
        const uint32_t index = e_index & kMaxSrtcpIndex;

        Stream* stream = ctx.find_stream(ssrc);
        if (stream == nullptr && !ctx.has_free_stream()) return Status::UnknownSsrc;
        slot.stream = stream;
        slot.ssrc = ssrc;
        slot.index = index;
        slot.tag_len = si.rtcp_tag_len;
        slot.out_len = body;
        if (stream != nullptr &&
            stream->rtcp.check(int64_t{index} - static_cast<int64_t>(stream->rtcp.highest())) !=
                Status::Ok) {
            slot.submitted = false;  // no crypto; complete() gives the verdict in burst order
            return Status::Ok;
        }
        if (si.aead) {
            gcm_iv(slot.iv.data(), ctx.rtcp_keys, ssrc, index);
            copy_tag(slot.rx_tag.data(), op.data + body, 16);
            if (encrypted) {
                std::memcpy(slot.aad.data(), op.data, 8);
                store_be32(slot.aad.data() + 8, e_index);
                fill_gcm_job(job, ctx.rtcp_keys, si.master_key_len, op.data, 8, body - 8,
                             slot.aad.data(), 12, slot.tag.data(), false, slot);
            } else {
                // RFC 7714 9.2, E=0: AAD = whole RTCP || E+index. Move E+index
                // over the (saved) tag so the AAD is contiguous.
                store_be32(op.data + body, e_index);
                fill_gcm_job(job, ctx.rtcp_keys, si.master_key_len, op.data, body, 0, op.data,
                             body + 4, slot.tag.data(), false, slot);
            }
        } else {
            aes_cm_iv(slot.iv.data(), ctx.rtcp_keys, ssrc, index);
            copy_tag(slot.rx_tag.data(), op.data + body + 4, si.rtcp_tag_len);
            fill_cm_job(job, ctx.rtcp_keys, si.master_key_len, op.data, 8, encrypted ? body - 8 : 0,
                        body + 4, false, slot);
        }
        return Status::Ok;
    };
    const auto complete = [](PacketSlot& slot) -> Status {
        PacketOp& op = *slot.op;
        Stream* stream = slot.stream != nullptr ? slot.stream : op.ctx->find_stream(slot.ssrc);
        const int64_t delta = static_cast<int64_t>(slot.index) -
                              static_cast<int64_t>(stream != nullptr ? stream->rtcp.highest() : 0);
        if (stream != nullptr) {
            if (const Status st = stream->rtcp.check(delta); st != Status::Ok) return st;
        }
        // The SRTCP index is explicit and windows only move forward, so a
        // packet refused in prepare() is refused here too.
        if (!slot.submitted) return Status::Replay;
        if (!tags_equal(slot.tag.data(), slot.rx_tag.data(), slot.tag_len)) {
            return Status::AuthFail;
        }
        if (stream == nullptr) {
            stream = op.ctx->find_or_add_stream(slot.ssrc);
            if (stream == nullptr) return Status::UnknownSsrc;
        }
        stream->rtcp.accept(delta);
        op.len = slot.out_len;
        return Status::Ok;
    };
    run_burst<Op::UnprotectRtcp>(engine, ops, prepare, complete);
}

}  // namespace isthmus::srtp
