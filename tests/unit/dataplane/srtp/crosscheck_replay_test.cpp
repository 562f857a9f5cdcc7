// Cross-checks of the SRTP engine against libsrtp2 2.5 (see
// crosscheck_test.cpp, which instantiates SrtpCrossCheck for these tests too):
//   - replay decisions on reordered and duplicated streams (RFC 3711 3.3.2);
//   - every flipped bit and every truncation is refused and leaves the
//     stream state alone.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crosscheck_support.hpp"

namespace isthmus::srtp::crosscheck {
namespace {

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

// A stream for replay_runs. Run 0 is the random schedule, run 1 the window
// edges, each on its own SSRC; `first_index` gives the index of a run's first
// packet and `make_plain` the plaintext of one index (both may draw from the
// test's Rng).
struct ReplayStream {
    bool rtcp = false;
    std::function<uint64_t(int run)> first_index;
    std::function<Bytes(uint32_t ssrc, uint64_t index)> make_plain;
};

// Our sender protects each run's packets; both receivers get them in the
// run's delivery order (replay_run).
void replay_runs(Rng& rng, Engine& engine, Peers& p, const ReplayStream& stream) {
    const SpanFn prot_fn = stream.rtcp ? kProtectRtcp : kProtectRtp;
    const SpanFn unprot_fn = stream.rtcp ? kUnprotectRtcp : kUnprotectRtp;
    Receivers rx{[&](Bytes& b) { return run_one(unprot_fn, engine, p.ours_rx.get(), b); },
                 [&](Bytes& b) {
                     return stream.rtcp ? p.lib_rx.unprotect_rtcp(b) : p.lib_rx.unprotect_rtp(b);
                 }};
    const std::vector<uint32_t> ssrcs = distinct_ssrcs(rng, 2);
    for (int run = 0; run < 2; ++run) {
        SCOPED_TRACE(run == 0 ? "random schedule" : "window edges");
        const std::size_t n = run == 0 ? 700 : 301;
        const uint64_t first = stream.first_index(run);
        std::vector<Bytes> plain, prot;
        std::vector<uint64_t> index;
        for (std::size_t i = 0; i < n; ++i) {
            plain.push_back(stream.make_plain(ssrcs[static_cast<std::size_t>(run)], first + i));
            prot.push_back(plain.back());
            ASSERT_EQ(name(run_one(prot_fn, engine, p.ours_tx.get(), prot.back())),
                      name(Status::Ok));
            index.push_back(first + i);
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

// 3. SRTP: a reordered, duplicated stream gets the same verdicts from both.
TEST_P(SrtpCrossCheck, RtpReplayDecisionsMatchLibsrtp) {
    SeededRng rng(seed(6));
    Peers p = peers(rng);
    ASSERT_EQ(p.lib_rx.create_status(), srtp_err_status_ok);
    ReplayStream rtp;
    // The random schedule's start seq may wrap; the edge schedule's is low
    // enough not to.
    rtp.first_index = [&](int run) -> uint64_t {
        return static_cast<uint16_t>(run == 0 ? rng.u32() : rng.range(1000, 20000));
    };
    rtp.make_plain = [&](uint32_t ssrc, uint64_t index) {
        RtpShape shape = random_shape(rng);
        shape.payload %= 200;  // many packets; keep them small
        return build_rtp(rng, shape, ssrc, static_cast<uint16_t>(index));
    };
    replay_runs(rng, *engine_, p, rtp);
}

// 3. SRTCP: the same, on the 31-bit SRTCP index.
TEST_P(SrtpCrossCheck, RtcpReplayDecisionsMatchLibsrtp) {
    SeededRng rng(seed(7));
    Peers p = peers(rng);
    ASSERT_EQ(p.lib_rx.create_status(), srtp_err_status_ok);
    ReplayStream rtcp;
    rtcp.rtcp = true;
    rtcp.first_index = [](int) -> uint64_t { return 0; };  // our SRTCP index starts at 0
    rtcp.make_plain = [&](uint32_t ssrc, uint64_t) { return random_rtcp(rng, ssrc); };
    replay_runs(rng, *engine_, p, rtcp);
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

// Flips `bits`, then truncates; the caller checks HasFatalFailure().
void flip_and_truncate(TamperRig& rig, uint32_t& t, const std::vector<std::size_t>& bits) {
    flip_bits(rig, t, bits);
    if (::testing::Test::HasFatalFailure()) return;
    truncate_all(rig, t);
}

// A rig whose packets our sender protects and both receivers get, as SRTP or
// SRTCP; make_plain and allowed are the test's.
TamperRig wired_rig(Engine& engine, Peers& p, bool rtcp) {
    TamperRig rig;
    rig.protect = [&engine, &p, rtcp](Bytes& b) {
        return run_one(rtcp ? kProtectRtcp : kProtectRtp, engine, p.ours_tx.get(), b);
    };
    rig.ours = [&engine, &p, rtcp](Bytes& b) {
        return run_one(rtcp ? kUnprotectRtcp : kUnprotectRtp, engine, p.ours_rx.get(), b);
    };
    rig.lib = [&p, rtcp](Bytes& b) {
        return rtcp ? p.lib_rx.unprotect_rtcp(b) : p.lib_rx.unprotect_rtp(b);
    };
    return rig;
}

// After the forgeries: a packet of a never-seen SSRC is accepted (no stream
// slot was spent on a forgery).
void fresh_ssrc_accepted(TamperRig& rig, Bytes fresh) {
    const Bytes plain = fresh;
    ASSERT_EQ(name(rig.protect(fresh)), name(Status::Ok));
    EXPECT_EQ(name(rig.ours(fresh)), name(Status::Ok));
    EXPECT_TRUE(same_bytes(fresh, plain));
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
    SeededRng rng(seed(8));
    Peers p = peers(rng);
    ASSERT_EQ(p.lib_rx.create_status(), srtp_err_status_ok);
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
        TamperRig rig = wired_rig(*engine_, p, false);
        rig.make_plain = [&](uint32_t t) {
            Bytes b = tmpl;
            set_seq(b, static_cast<uint16_t>(s0 + t));
            return b;
        };
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
        flip_and_truncate(rig, t, big != 0 ? some_bits(rng, octets, 300) : all_bits(octets));
        if (HasFatalFailure()) return;
    }
    // No slot was spent on the 32 forged SSRCs.
    TamperRig rig = wired_rig(*engine_, p, false);
    fresh_ssrc_accepted(rig, random_rtp(rng, ssrc ^ 0x5A5A5A5AU, 7));
}

// 4. SRTCP: every bit (header, payload, E flag, index, tag); every truncation.
TEST_P(SrtpCrossCheck, RtcpForgeriesAndTruncationsAreRefused) {
    SeededRng rng(seed(9));
    Peers p = peers(rng);
    ASSERT_EQ(p.lib_rx.create_status(), srtp_err_status_ok);
    const uint32_t ssrc = rng.u32();
    Bytes tmpl;
    do {
        tmpl = random_rtcp(rng, ssrc);
    } while (tmpl.size() > 120 || tmpl.size() < 40);
    const std::size_t prot_len = tmpl.size() + 4 + info_.rtcp_tag_len;
    // RFC 3711 3.4: E || index then tag; RFC 7714 9.2 (AEAD): tag then E || index.
    const std::size_t idx_at = info_.aead ? prot_len - 4 : tmpl.size();
    TamperRig rig = wired_rig(*engine_, p, true);
    rig.make_plain = [&](uint32_t) { return tmpl; };
    rig.allowed = [&](std::size_t octet) -> StatusSet {
        if (octet == 0) return kAnyRefusal;  // V, P, count
        if (octet >= 4 && octet < 8) return bit_of(Status::AuthFail) | bit_of(Status::UnknownSsrc);
        if (octet >= idx_at && octet < idx_at + 4) {
            return bit_of(Status::AuthFail) | bit_of(Status::Replay) | bit_of(Status::ReplayOld);
        }
        return bit_of(Status::AuthFail);
    };
    uint32_t t = 0;
    flip_and_truncate(rig, t, all_bits(prot_len));
    if (HasFatalFailure()) return;
    fresh_ssrc_accepted(rig, random_rtcp(rng, ssrc ^ 0xA5A5A5A5U));
}

}  // namespace
}  // namespace isthmus::srtp::crosscheck
