// Per-leg media policing (issue 11; dataplane/session/policer.hpp): the
// GCRA on its own (the rate, the burst, an idle leg, rounding), then in the
// relay with a fake clock: a flood from a session's own IMS address beyond
// its rate is dropped as `policed` and counted against that session only,
// a session beside it in the same bursts loses nothing, media at the rate
// loses nothing, forgeries spend nothing of the allowance, and updates keep,
// change or lift the limit.
#include "relay_fixture.hpp"
#include "session/policer.hpp"

namespace isthmus::session::relay_rig {
namespace {

constexpr uint64_t kMs = 1000000;
constexpr uint64_t kStart = 5000 * kMs;  // any monotonic time

// --- the GCRA alone ---

TEST(Policer, OffAdmitsEverything) {
    Policer p;
    EXPECT_FALSE(p.on());
    for (int i = 0; i < 1000; ++i)
        EXPECT_TRUE(police_admit(p, kStart, 1500));
}

TEST(Policer, AFloodAtOneInstantGetsTheBurstOnly) {
    Policer p;
    police_configure(p, 8000, 4000);  // 64 kb/s, 500 ms of burst
    ASSERT_TRUE(p.on());
    EXPECT_EQ(p.ps_per_octet, 125000000U);
    EXPECT_EQ(p.tau_ns, 500 * kMs);
    int admitted = 0;
    for (int i = 0; i < 100; ++i)
        admitted += police_admit(p, kStart, 200) ? 1 : 0;
    // 200 octets take 25 ms at the rate: the first, and 20 more within 500 ms.
    EXPECT_EQ(admitted, 21);
    // 25 ms later room for one more, not two.
    EXPECT_TRUE(police_admit(p, kStart + 25 * kMs, 200));
    EXPECT_FALSE(police_admit(p, kStart + 25 * kMs, 200));
}

TEST(Policer, TrafficAtTheRateNeverDropsAndAnIdleLegStartsWithAFullBurst) {
    Policer p;
    police_configure(p, 8000, 1500);  // the smallest burst
    uint64_t t = kStart;
    for (int i = 0; i < 4000; ++i, t += 25 * kMs)  // 200 octets every 25 ms: exactly the rate
        ASSERT_TRUE(police_admit(p, t, 200)) << i;
    // A packet early by more than the burst is refused, one early by less
    // is not (jitter within the burst).
    Policer q;
    police_configure(q, 8000, 1500);  // tau 187.5 ms
    ASSERT_TRUE(police_admit(q, kStart, 200));
    ASSERT_TRUE(police_admit(q, kStart + 1 * kMs, 200));
    int early = 0;
    while (police_admit(q, kStart + 1 * kMs, 200))
        ++early;
    EXPECT_EQ(early, 6);  // 7 packets of 25 ms each fit in 187.5 ms + 1 ms
    // Ten idle seconds give back the burst, not ten seconds of credit.
    int after_idle = 0;
    while (police_admit(q, kStart + 10000 * kMs, 200))
        ++after_idle;
    EXPECT_EQ(after_idle, 8);  // 0, 25, ..., 175 ms of the 187.5 ms burst
}

TEST(Policer, ReconfiguringKeepsTheStateOnlyWhenNothingChanged) {
    Policer p;
    police_configure(p, 8000, 4000);
    while (police_admit(p, kStart, 200)) {
    }
    police_configure(p, 8000, 4000);  // the same: still spent
    EXPECT_FALSE(police_admit(p, kStart, 200));
    police_configure(p, 16000, 4000);  // another rate: starts afresh
    EXPECT_TRUE(police_admit(p, kStart, 200));
    police_configure(p, 0, 0);
    EXPECT_FALSE(p.on());
}

TEST(Policer, ParameterLimits) {
    EXPECT_TRUE(police_params_valid(0, 0));
    EXPECT_TRUE(police_params_valid(kPoliceMinOctetsPerS, kPoliceMinBurstOctets));
    EXPECT_TRUE(police_params_valid(kPoliceMaxOctetsPerS, 64U << 20));
    EXPECT_FALSE(police_params_valid(kPoliceMinOctetsPerS - 1, 4000));
    EXPECT_FALSE(police_params_valid(kPoliceMaxOctetsPerS + 1, 4000));
    EXPECT_FALSE(police_params_valid(8000, kPoliceMinBurstOctets - 1));
    EXPECT_TRUE(police_params_valid(8000, 32000));   // 4 s at the rate
    EXPECT_FALSE(police_params_valid(8000, 32001));  // more
    // The largest rate: 800 ps per octet, no rounding to zero.
    Policer p;
    police_configure(p, kPoliceMaxOctetsPerS, 1500);
    EXPECT_EQ(p.ps_per_octet, 800U);
    EXPECT_TRUE(p.on());
}

// --- in the relay ---

class PoliceRelayTest : public RelayTest {
  protected:
    // Session 1 as RelayTest makes it, re-made with the given rates.
    void police(uint32_t access_kbps, uint32_t core_kbps) {
        cmd_.hdr.type = dpif::MsgType::SessionUpdate;
        cmd_.police_kbps[0] = access_kbps;
        cmd_.police_kbps[1] = core_kbps;
        std::string why;
        ASSERT_EQ(table_.update(cmd_, why), ResultCode::Ok) << why;
    }
    // Session 2 beside it: the same kinds of legs on other ports, not policed.
    void add_neighbour() {
        neighbour_ = test::srtp_to_rtp_command(2);
        neighbour_.access.local = endpoint4("198.18.0.2", 40002);
        neighbour_.access.remote = endpoint4("198.18.0.11", 5000);
        neighbour_.core.local = endpoint4("198.18.1.2", 50002);
        neighbour_.core.local_rtcp = endpoint4("198.18.1.2", 50003);
        neighbour_.core.remote = endpoint4("198.18.1.21", 6000);
        neighbour_.core.remote_rtcp = endpoint4("198.18.1.21", 6001);
        std::string why;
        ASSERT_EQ(table_.create(neighbour_, why), ResultCode::Ok) << why;
        ASSERT_TRUE(table_.set_next_hop(2, Side::Access, kBrowserMac));
    }
    // Both browsers' MACs known (their first packet), the IMS's given.
    void learn_next_hops() {
        ASSERT_TRUE(table_.set_next_hop(1, Side::Core, kImsMac));
        ASSERT_TRUE(table_.set_next_hop(1, Side::Access, kBrowserMac));
    }
    const Session& session(uint64_t id) const { return table_.at(table_.slot_of(id)); }

    dpif::Command neighbour_{};
};

TEST_F(PoliceRelayTest, AFloodFromTheImsBeyondTheRateIsDroppedAndCountedForThatSessionOnly) {
    police(0, 64);  // what the IMS side may send: 64 kb/s, 500 ms of burst
    add_neighbour();
    learn_next_hops();
    relay_.set_now(kStart);
    // 8 bursts of 32: each frame of session 1's flood (200-octet IP
    // packets from its own IMS address) alternating with one of session 2.
    std::size_t relayed1 = 0, policed1 = 0, relayed2 = 0;
    uint16_t seq = 1;
    for (int burst = 0; burst < 8; ++burst) {
        std::array<Buffer, 32> bufs;
        std::array<RelayPacket, 32> pkts{};
        for (std::size_t k = 0; k < bufs.size(); ++k, ++seq) {
            const bool mine = k % 2 == 0;
            const dpif::Command& c = mine ? cmd_ : neighbour_;
            frame_into(bufs[k], Side::Core, kImsMac, kCoreMac, c.core.remote, c.core.local,
                       rtp(seq, mine ? 0x1111 : 0x2222));
            pkts[k] = bufs[k].pkt;
        }
        relay_.process(std::span(pkts));
        for (std::size_t k = 0; k < pkts.size(); ++k) {
            const bool mine = k % 2 == 0;
            if (pkts[k].action == Action::ToAccess) {
                ++(mine ? relayed1 : relayed2);
            } else {
                ASSERT_TRUE(mine) << "session 2 lost a packet: " << relay_drop_name(pkts[k].drop);
                ASSERT_EQ(pkts[k].drop, RelayDrop::Policed);
                ++policed1;
            }
        }
    }
    EXPECT_EQ(relayed1, 21U);  // the burst: 500 ms at 25 ms a packet, and the first
    EXPECT_EQ(policed1, 128U - 21U);
    EXPECT_EQ(relayed2, 128U);
    EXPECT_EQ(drops(RelayDrop::Policed), policed1);
    EXPECT_EQ(session(1).dropped[1], policed1);
    EXPECT_EQ(session(1).relayed[1], 21U);
    EXPECT_EQ(session(2).dropped[1], 0U);
    EXPECT_EQ(session(2).relayed[1], 128U);
    // The other direction of session 1 is not policed.
    for (uint16_t s = 1; s <= 50; ++s) {
        Buffer b;
        from_browser(b, rtp(s), false, browser_tx_);
        ASSERT_EQ(run(b).action, Action::ToCore) << s;
    }
    // A second later the leg has a burst again: 21 more of a new flood.
    relay_.set_now(kStart + 1000 * kMs);
    std::size_t again = 0;
    for (int i = 0; i < 40; ++i, ++seq) {
        Buffer b;
        from_ims(b, rtp(seq, 0x1111), false);
        again += run(b).action == Action::ToAccess ? 1U : 0U;
    }
    EXPECT_EQ(again, 21U);
}

TEST_F(PoliceRelayTest, MediaAtItsRateLosesNothing) {
    // 200-octet packets (210 with the SRTP tag) every 20 ms: 80 and
    // 84 kb/s, policed at 96.
    police(96, 96);
    learn_next_hops();
    uint64_t t = kStart;
    for (uint16_t seq = 1; seq <= 3000; ++seq, t += 20 * kMs) {  // 60 s of 20 ms packets
        relay_.set_now(t);
        Buffer in, out;
        from_ims(in, rtp(seq), false);
        ASSERT_EQ(run(in).action, Action::ToAccess) << seq;
        from_browser(out, rtp(seq), false, browser_tx_);
        ASSERT_EQ(run(out).action, Action::ToCore) << seq;
    }
    EXPECT_EQ(drops(RelayDrop::Policed), 0U);
}

TEST_F(PoliceRelayTest, ForgeriesAndStrangersSpendNothingOfTheAllowance) {
    police(64, 0);  // the browser may send 64 kb/s; its SRTP packets are 210 octets of IP
    learn_next_hops();
    relay_.set_now(kStart);
    // 500 forgeries (another key) from the browser's address, 500 valid
    // packets from a stranger's: none authenticates or passes the source
    // check, none is policed.
    LibSrtp forger{test::sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x33), false};
    for (uint16_t s = 1; s <= 500; ++s) {
        Buffer b;
        from_browser(b, rtp(s), false, forger);
        ASSERT_EQ(run(b).drop, RelayDrop::SrtpIn);
        Buffer c;
        frame_into(c, Side::Access, kBrowserMac, kAccessMac, endpoint4("198.18.0.99", 5000),
                   cmd_.access.local, browser_tx_.protect(rtp(s), false));
        ASSERT_EQ(run(c).drop, RelayDrop::WrongSource);
    }
    EXPECT_EQ(drops(RelayDrop::Policed), 0U);
    // The browser's own burst is whole: 210 octets take 26.25 ms at
    // 8,000 octets/s, 19 of them fit in 500 ms, and the first.
    std::size_t relayed = 0;
    for (uint16_t s = 1000; s < 1100; ++s) {
        Buffer b;
        from_browser(b, rtp(s), false, browser_tx_);
        relayed += run(b).action == Action::ToCore ? 1U : 0U;
    }
    EXPECT_EQ(relayed, 20U);
    EXPECT_EQ(drops(RelayDrop::Policed), 80U);
}

TEST_F(PoliceRelayTest, AnUpdateKeepsChangesOrLiftsTheLimit) {
    police(0, 64);
    learn_next_hops();
    relay_.set_now(kStart);
    const auto flood = [&](uint16_t first, int n) {
        std::size_t relayed = 0;
        for (int i = 0; i < n; ++i) {
            Buffer b;
            from_ims(b, rtp(static_cast<uint16_t>(first + i)), false);
            relayed += run(b).action == Action::ToAccess ? 1U : 0U;
        }
        return relayed;
    };
    EXPECT_EQ(flood(1, 40), 21U);
    police(0, 64);  // a re-offer with the same bandwidth: still spent
    EXPECT_EQ(flood(100, 40), 0U);
    police(0, 128);  // more bandwidth: a new allowance at the new rate
    EXPECT_EQ(flood(200, 80), 41U);
    police(0, 0);  // not policed any more
    EXPECT_EQ(flood(300, 500), 500U);
    EXPECT_FALSE(session(1).leg[1].policed);
}

TEST_F(PoliceRelayTest, RatesOutsideTheLimitsAreRefusedAndNothingChanges) {
    std::string why;
    for (const uint32_t bad : {1U, 7U, 10000001U, UINT32_MAX}) {
        dpif::Command c = test::srtp_to_rtp_command(9);
        c.access.local = endpoint4("198.18.0.2", 40100);
        c.core.local = endpoint4("198.18.1.2", 50100);
        c.core.local_rtcp = endpoint4("198.18.1.2", 50101);
        c.police_kbps[1] = bad;
        EXPECT_EQ(table_.create(c, why), ResultCode::BadParams) << bad;
        EXPECT_NE(why.find("police_kbps[1] (core): 8..10000000 kb/s"), std::string::npos) << why;
        EXPECT_EQ(table_.slot_of(9), SessionTable::kNoSlot);
        dpif::Command up = cmd_;
        up.hdr.type = dpif::MsgType::SessionUpdate;
        up.police_kbps[0] = bad;
        EXPECT_EQ(table_.update(up, why), ResultCode::BadParams);
        EXPECT_NE(why.find("police_kbps[0] (access)"), std::string::npos) << why;
    }
    EXPECT_FALSE(session(1).leg[0].policed);
    EXPECT_THROW((SessionTable{engine_, {4, 0, 0}}), std::invalid_argument);
    EXPECT_THROW((SessionTable{engine_, {4, 0, 4001}}), std::invalid_argument);
    // The smallest rate gets at least one full-size packet of burst.
    SessionTable t{engine_, {4, 0, 1}};
    dpif::Command c = test::srtp_to_rtp_command(3);
    c.police_kbps[0] = 8;
    ASSERT_EQ(t.create(c, why), ResultCode::Ok) << why;
    EXPECT_EQ(t.at(t.slot_of(3)).police[0].tau_ns,
              1500ULL * 1000000ULL);  // 1,500 octets at 1,000/s
    EXPECT_TRUE(t.at(t.slot_of(3)).leg[0].policed);
    EXPECT_FALSE(t.at(t.slot_of(3)).leg[1].policed);
}

}  // namespace
}  // namespace isthmus::session::relay_rig
