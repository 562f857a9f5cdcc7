// Cross-checks of the SRTP engine's bursts against one-at-a-time calls and
// libsrtp2 2.5: bursts that mix suites give the results of one-at-a-time
// calls and count every status; sequence wrap and replay order inside a burst.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "crosscheck_support.hpp"

namespace isthmus::srtp::crosscheck {
namespace {

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
        bool must_fail = false;  // no exact status expected, but refused
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
            if (items[i].must_fail) {
                EXPECT_NE(name(oa[i].status), name(Status::Ok)) << where;
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
                    copy.must_fail = true;
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
    SeededRng rng(base_seed() ^ 0xB0B0U);
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
    SeededRng rng(base_seed() ^ 0x3A9U);
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
    SeededRng rng(base_seed() ^ 0x5E7U);
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
}  // namespace isthmus::srtp::crosscheck
