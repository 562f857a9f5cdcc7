// The property the SRTP fuzzing checks, shared by the libFuzzer target
// (srtp_fuzz.cpp) and the CI regression test (srtp_fuzz_regress_test.cpp).
// What is checked is what the relay runs on every received RTP / RTCP
// payload (srtp/transform.hpp: unprotect_rtp, unprotect_rtcp over a burst,
// with a context keyed once), and the protect it runs on the way out.
//
// The first octet of an input says what to do with the rest:
//   bits 0-2  the suite (kAllSuites[n % 6]);
//   bit 3     RTCP (else RTP);
//   bit 4     0: the rest is a received packet ("raw"),
//             1: the rest is octets 1-2 a position, 3 an XOR mask, 4 how
//                many octets to cut off the end, then a plain packet
//                ("protect, mutate, unprotect");
//   bit 5     the SSE manager (else the one Auto picks: two managers, as
//             the engine uses for small and large bursts);
//   bit 6     IPsec-MB's job checks off (as a tuned worker may run).
//
// Raw: the packet is unprotected twice in one burst with a fresh receiving
// context. The status is one unprotect documents (never CryptoError: that
// would be a job we built wrong). Garbage never authenticates; whatever
// does is a packet the same key protects to exactly those octets (RTP;
// SRTCP with E=1 at its index), or, SRTCP with E=0, comes out unchanged; and
// its second copy is a replay. A refused packet leaves the context as it
// was: the second copy gets the same status.
//
// Protect, mutate, unprotect: the plain packet is protected with a fresh
// sending context (Ok, or a header refusal); the header stays in the clear;
// the protected packet with one octet XORed and / or octets cut off is
// unprotected in one burst with the untouched packet and a copy of it, with
// a fresh receiving context: the changed packet never authenticates, the
// untouched one then does and gives back the plain packet, and the copy is
// a replay. (A packet left unchanged authenticates first.)
//
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson; needs IPsec-MB and a CPU with AES-NI.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "srtp/context.hpp"
#include "srtp/engine.hpp"
#include "srtp/rtp_header.hpp"
#include "srtp/suite.hpp"
#include "srtp/transform.hpp"

namespace isthmus::srtp::fuzz {

// RFC 3711 B.2's master key and salt, the key extended for the 256-bit suites.
inline constexpr std::array<uint8_t, 32> kMasterKey = {
    0xE1, 0xF9, 0x7A, 0x0D, 0x3E, 0x01, 0x8B, 0xE0, 0xD6, 0x4F, 0xA3, 0x2C, 0x06, 0xDE, 0x41, 0x39,
    0xF0, 0xF0, 0x49, 0xC7, 0x34, 0x1A, 0x7B, 0x64, 0xA3, 0xD2, 0x66, 0x71, 0x60, 0x31, 0x2B, 0x26};
inline constexpr std::array<uint8_t, 14> kMasterSalt = {0x0E, 0xC6, 0x75, 0xAD, 0x49, 0x8A, 0xFE,
                                                        0xEB, 0xB6, 0x96, 0x0B, 0x3A, 0xAB, 0xE6};

inline constexpr uint8_t kRtcp = 0x08;
inline constexpr uint8_t kMutate = 0x10;
inline constexpr uint8_t kSse = 0x20;
inline constexpr uint8_t kNoJobChecks = 0x40;
inline constexpr std::size_t kMutateHeader = 4;  // position (2), XOR mask, cut

// The engines, made once: the one Auto picks, and SSE (Auto again when the
// CPU has no SSE manager, which cannot happen where Auto works).
inline Engine& engine(bool sse) {
    static Engine automatic(ImbArch::Auto);
    static std::unique_ptr<Engine> sse_engine = [] {
        try {
            return std::make_unique<Engine>(ImbArch::Sse);
        } catch (const std::runtime_error&) {
            return std::unique_ptr<Engine>();
        }
    }();
    return sse && sse_engine ? *sse_engine : automatic;
}

inline std::unique_ptr<Context> fresh_context(Engine& e, Suite suite) {
    const SuiteInfo si = suite_info(suite);
    auto ctx = std::make_unique<Context>();
    if (ctx->init(e, suite, std::span(kMasterKey.data(), si.master_key_len),
                  std::span(kMasterSalt.data(), si.master_salt_len)) != SetupStatus::Ok)
        return nullptr;
    return ctx;
}

inline std::string name(Status s) {
    return std::string(status_name(s));
}

// What unprotect may say of a packet for a fresh context with room for
// every stream.
inline bool unprotect_status(Status s) {
    switch (s) {
        case Status::Ok:
        case Status::AuthFail:
        case Status::Replay:
        case Status::ReplayOld:
        case Status::TooShort:
        case Status::BadVersion:
        case Status::BadHeader:
            return true;
        default:
            return false;
    }
}

// A packet in its own buffer: `len` octets, `room` more writable after them.
struct Buffer {
    std::vector<uint8_t> bytes;
    uint32_t len = 0;
    Buffer(std::span<const uint8_t> p, std::size_t room) : bytes(p.size() + room) {
        std::copy(p.begin(), p.end(), bytes.begin());
        len = static_cast<uint32_t>(p.size());
    }
    PacketOp op(Context* ctx) {
        return {ctx, bytes.data(), len, static_cast<uint32_t>(bytes.size()), Status::Ok};
    }
    std::span<const uint8_t> view(uint32_t n) const { return {bytes.data(), n}; }
};

inline bool equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

inline void unprotect(Engine& e, bool rtcp, std::span<PacketOp> ops) {
    if (rtcp)
        unprotect_rtcp(e, ops);
    else
        unprotect_rtp(e, ops);
}

// The octets the sending side makes of `plain` (nullopt-like empty when it
// refuses it), its SRTCP index set to `index` first.
inline std::vector<uint8_t> protect_again(Engine& e, Suite suite, bool rtcp,
                                          std::span<const uint8_t> plain, uint32_t ssrc,
                                          uint32_t index) {
    auto tx = fresh_context(e, suite);
    if (!tx) return {};
    if (rtcp && !tx->set_next_srtcp_index(ssrc, index)) return {};
    Buffer b(plain, 64);
    PacketOp op = b.op(tx.get());
    if (rtcp)
        protect_rtcp(e, std::span(&op, 1));
    else
        protect_rtp(e, std::span(&op, 1));
    if (op.status != Status::Ok) return {};
    return {b.bytes.begin(), b.bytes.begin() + op.len};
}

inline std::string check_raw(Engine& e, Suite suite, bool rtcp, std::span<const uint8_t> pkt) {
    const SuiteInfo si = suite_info(suite);
    auto rx = fresh_context(e, suite);
    if (!rx) return "context setup failed";
    Buffer a(pkt, 0), b(pkt, 0);
    std::array<PacketOp, 2> ops = {a.op(rx.get()), b.op(rx.get())};
    unprotect(e, rtcp, ops);
    const Status first = ops[0].status;
    if (!unprotect_status(first)) return "unprotect said " + name(first);
    if (first != Status::Ok) {
        if (ops[1].status != first)
            return "the same refused packet twice: " + name(first) + ", then " +
                   name(ops[1].status);
        if (ops[0].len != pkt.size()) return "a refused packet's length changed";
        return "";
    }
    if (ops[1].status != Status::Replay)
        return "an accepted packet's copy in the same burst: " + name(ops[1].status);
    const std::size_t trailer = rtcp ? 4u + si.rtcp_tag_len : si.rtp_tag_len;
    if (ops[0].len + trailer != pkt.size()) return "accepted, but the trailer is not stripped";
    const auto plain = a.view(ops[0].len);
    // Ok for garbage would be a forgery: only octets the key makes get here.
    if (rtcp) {
        const std::size_t body = pkt.size() - trailer;
        const std::size_t at = si.aead ? pkt.size() - 4 : body;
        const uint32_t e_index = load_be32(&pkt[at]);
        if ((e_index & 0x80000000U) == 0) {
            if (!equal(plain, pkt.first(body))) return "SRTCP with E=0 changed by unprotect";
            return "";
        }
        if (!equal(protect_again(e, suite, true, plain, load_be32(&pkt[4]), e_index & 0x7fffffffU),
                   pkt))
            return "SRTCP accepted that the key does not protect to these octets";
        return "";
    }
    if (!equal(protect_again(e, suite, false, plain, 0, 0), pkt))
        return "SRTP accepted that the key does not protect to these octets";
    return "";
}

inline std::string check_mutated(Engine& e, Suite suite, bool rtcp, std::span<const uint8_t> in) {
    if (in.size() < kMutateHeader) return "";
    const std::size_t pos = std::size_t{in[0]} << 8 | in[1];
    const uint8_t mask = in[2];
    const std::size_t cut = in[3];
    const auto plain = in.subspan(kMutateHeader);
    const SuiteInfo si = suite_info(suite);

    auto tx = fresh_context(e, suite);
    if (!tx) return "context setup failed";
    Buffer p(plain, 64);
    PacketOp op = p.op(tx.get());
    if (rtcp)
        protect_rtcp(e, std::span(&op, 1));
    else
        protect_rtp(e, std::span(&op, 1));
    if (op.status != Status::Ok) {
        const bool header = op.status == Status::TooShort || op.status == Status::BadVersion ||
                            (!rtcp && op.status == Status::BadHeader);
        if (!header) return "protect said " + name(op.status);
        return "";
    }
    const std::size_t trailer = rtcp ? 4u + si.rtcp_tag_len : si.rtp_tag_len;
    if (op.len != plain.size() + trailer) return "protect: wrong trailer length";
    std::size_t clear = 8;  // RTCP: the first 8 octets stay in the clear
    if (!rtcp) {
        RtpHeaderInfo h{};
        if (parse_rtp_header(plain.data(), plain.size(), 0, h) != Status::Ok)
            return "protect took a header the reader refuses";
        clear = h.header_len;
    }
    if (!std::equal(plain.begin(), plain.begin() + static_cast<long>(clear), p.bytes.begin()))
        return "protect changed the header";
    const std::vector<uint8_t> sent(p.bytes.begin(), p.bytes.begin() + op.len);

    std::vector<uint8_t> changed = sent;
    if (mask != 0) changed[pos % changed.size()] ^= mask;
    changed.resize(changed.size() - std::min(cut, changed.size()));
    const bool same = changed == sent;

    auto rx = fresh_context(e, suite);
    if (!rx) return "context setup failed";
    Buffer m(changed, 0), good(sent, 0), copy(sent, 0);
    std::array<PacketOp, 3> ops = {m.op(rx.get()), good.op(rx.get()), copy.op(rx.get())};
    unprotect(e, rtcp, ops);
    for (const PacketOp& o : ops)
        if (!unprotect_status(o.status)) return "unprotect said " + name(o.status);
    if (same) {
        if (ops[0].status != Status::Ok || !equal(m.view(ops[0].len), plain))
            return "the protected packet does not come back: " + name(ops[0].status);
        if (ops[1].status != Status::Replay || ops[2].status != Status::Replay)
            return "copies of an accepted packet not replays";
        return "";
    }
    if (ops[0].status == Status::Ok) return "a changed packet authenticated";
    if (ops[1].status != Status::Ok)
        return "after a changed packet was refused, the real one was not: " + name(ops[1].status);
    if (!equal(good.view(ops[1].len), plain)) return "unprotect does not give the plain packet";
    if (ops[2].status != Status::Replay) return "a copy of the packet not a replay";
    return "";
}

inline std::string check_input(std::span<const uint8_t> data) {
    if (data.empty()) return "";
    const uint8_t ctl = data[0];
    const Suite suite = kAllSuites[(ctl & 7) % kSuiteCount];
    const bool rtcp = (ctl & kRtcp) != 0;
    Engine& e = engine((ctl & kSse) != 0);
    e.set_job_checks((ctl & kNoJobChecks) == 0);
    const std::vector<uint8_t> rest(data.begin() + 1, data.end());  // sized: ASan
    const std::string what = std::string(suite_info(suite).name) + (rtcp ? " SRTCP " : " SRTP ") +
                             std::string(arch_name(e.arch())) + ": ";
    const std::string err = (ctl & kMutate) != 0 ? check_mutated(e, suite, rtcp, rest)
                                                 : check_raw(e, suite, rtcp, rest);
    e.set_job_checks(true);
    return err.empty() ? err : what + err;
}

}  // namespace isthmus::srtp::fuzz
