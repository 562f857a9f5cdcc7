// isthmus-ctl capture: its arguments and the pcapng blocks it writes
// (layout checked field by field against the pcapng draft: block type,
// total length at both ends, byte-order magic, options padded to 32 bits).
#include "ctl/capture.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctl/pcapng.hpp"

namespace isthmus::ctl {
namespace {

using Args = std::vector<std::string>;

uint32_t le32(const std::string& b, std::size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = v << 8 | static_cast<uint8_t>(b[at + static_cast<std::size_t>(i)]);
    return v;
}
uint16_t le16(const std::string& b, std::size_t at) {
    return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1])
                                                                   << 8);
}

TEST(CaptureArgs, DefaultsAndEveryOption) {
    CaptureOptions o;
    std::string err;
    ASSERT_TRUE(parse_capture_args({"-w", "x.pcapng"}, o, err)) << err;
    EXPECT_EQ(o.file, "x.pcapng");
    EXPECT_EQ(o.sides, dpif::kCaptureAccess | dpif::kCaptureCore);
    EXPECT_EQ(o.session_id, 0U);
    EXPECT_EQ(o.count, 0U);
    EXPECT_EQ(o.seconds, 0U);
    EXPECT_EQ(o.snaplen, dpif::kCaptureData);
    ASSERT_TRUE(parse_capture_args({"--port", "core", "--session", "42", "--count", "10",
                                    "--seconds", "5", "--snaplen", "128", "--write", "-"},
                                   o, err))
        << err;
    EXPECT_EQ(o.sides, dpif::kCaptureCore);
    EXPECT_EQ(o.session_id, 42U);
    EXPECT_EQ(o.count, 10U);
    EXPECT_EQ(o.seconds, 5U);
    EXPECT_EQ(o.snaplen, 128U);
    EXPECT_EQ(o.file, "-");
    ASSERT_TRUE(parse_capture_args({"--port", "access", "-w", "a"}, o, err));
    EXPECT_EQ(o.sides, dpif::kCaptureAccess);
}

TEST(CaptureArgs, RefusesWithTheReason) {
    const std::vector<std::pair<Args, std::string>> bad = {
        {{}, "-w FILE"},
        {{"--port", "core"}, "-w FILE"},
        {{"-w"}, "-w needs a value"},
        {{"-w", ""}, "give a file name"},
        {{"--port", "up", "-w", "f"}, "access, core or both"},
        {{"--session", "0", "-w", "f"}, "not 0"},
        {{"--session", "x1", "-w", "f"}, "not a number"},
        {{"--count", "-1", "-w", "f"}, "not a number"},
        {{"--count", "99999999999999999999", "-w", "f"}, "not a number"},
        {{"--snaplen", "63", "-w", "f"}, "64 to 2016"},
        {{"--snaplen", "2017", "-w", "f"}, "64 to 2016"},
        {{"--filter", "udp", "-w", "f"}, "unknown option '--filter'"},
    };
    for (const auto& [args, why] : bad) {
        CaptureOptions o;
        o.file = "untouched";
        std::string err;
        EXPECT_FALSE(parse_capture_args(args, o, err)) << why;
        EXPECT_NE(err.find(why), std::string::npos) << err;
        EXPECT_EQ(o.file, "untouched");
    }
}

// The claim / start / stop protocol against a CaptureArea in memory, with
// the lcores' side played by the test (acknowledgements).
class CaptureClaimTest : public ::testing::Test {
  protected:
    void SetUp() override {
        area = std::make_unique<dpif::CaptureArea>();
        area->control.worker_rings = 2;
    }
    void ack_all(uint32_t seq) {
        area->control.ring[0].ack.store(seq);
        area->control.ring[1].ack.store(seq);
        area->control.ring[dpif::kCaptureSlowPathRing].ack.store(seq);
    }
    dpif::CaptureControl& cc() { return area->control; }
    std::unique_ptr<dpif::CaptureArea> area;
    static constexpr uint64_t kSec = 1000000000ULL;
};

TEST_F(CaptureClaimTest, OneOwnerAtATimeUntilItsBeatStops) {
    CaptureClaim a(cc(), 100), b(cc(), 200);
    uint32_t holder = 0;
    ASSERT_TRUE(a.claim(10 * kSec, holder));
    EXPECT_EQ(cc().owner_pid.load(), 100U);
    EXPECT_FALSE(b.claim(11 * kSec, holder));
    EXPECT_EQ(holder, 100U);
    EXPECT_TRUE(a.beat(12 * kSec));
    EXPECT_FALSE(b.claim(14 * kSec, holder));     // 2 s since the beat: still a's
    ASSERT_TRUE(b.claim(14 * kSec + 1, holder));  // silent longer: taken over
    EXPECT_EQ(cc().owner_pid.load(), 200U);
    EXPECT_EQ(cc().owner_beat_ns.load(), 14 * kSec + 1);
    EXPECT_FALSE(a.beat(15 * kSec));  // a learns it lost the claim
    a.release();                      // and does not free b's
    EXPECT_EQ(cc().owner_pid.load(), 200U);
    b.release();
    EXPECT_EQ(cc().owner_pid.load(), 0U);
}

TEST_F(CaptureClaimTest, StartWritesTheFilterThenStopsWithAcknowledgements) {
    CaptureClaim c(cc(), 100);
    uint32_t holder = 0;
    ASSERT_TRUE(c.claim(kSec, holder));
    EXPECT_EQ(c.stop_leftover(), 0U);  // nothing running
    const uint32_t started = c.start(dpif::kCaptureCore, 128, 42);
    ASSERT_EQ(started, 1U);
    EXPECT_EQ(cc().seq.load(), 1U);
    EXPECT_EQ(cc().sides.load(), dpif::kCaptureCore);
    EXPECT_EQ(cc().snaplen.load(), 128U);
    EXPECT_EQ(cc().session_id.load(), 42U);
    EXPECT_FALSE(c.acknowledged(started));
    area->control.ring[0].ack.store(started);
    area->control.ring[1].ack.store(started);
    EXPECT_FALSE(c.acknowledged(started));  // the slow path's ring too
    ack_all(started);
    EXPECT_TRUE(c.acknowledged(started));
    EXPECT_TRUE(c.beat(2 * kSec));
    EXPECT_EQ(c.stop(), 2U);
    EXPECT_EQ(cc().seq.load(), 2U);
    EXPECT_EQ(c.stop(), 0U);  // once
}

TEST_F(CaptureClaimTest, ACaptureStoppedUnderItsOwnerIsNoticedAndNotRestarted) {
    CaptureClaim c(cc(), 100);
    uint32_t holder = 0;
    ASSERT_TRUE(c.claim(kSec, holder));
    ASSERT_EQ(c.start(dpif::kCaptureAccess, 64, 0), 1U);
    cc().seq.store(2);  // the dataplane stopped it
    EXPECT_FALSE(c.beat(2 * kSec));
    EXPECT_EQ(c.stop(), 0U);  // seq stays where the dataplane left it
    EXPECT_EQ(cc().seq.load(), 2U);
}

TEST_F(CaptureClaimTest, ALeftoverCaptureIsStoppedBeforeANewStart) {
    cc().seq.store(5);  // a dead owner's capture, still running
    CaptureClaim c(cc(), 100);
    uint32_t holder = 0;
    ASSERT_TRUE(c.claim(kSec, holder));
    EXPECT_EQ(c.start(dpif::kCaptureAccess, 64, 0), 0U);  // not while odd
    EXPECT_EQ(c.stop_leftover(), 6U);
    EXPECT_EQ(c.start(dpif::kCaptureAccess, 64, 0), 7U);
}

TEST(Pcapng, SectionHeaderBlock) {
    std::string b;
    pcapng_section_header(b, "isthmus-ctl capture");  // 19 octets: padded to 20
    ASSERT_EQ(b.size(), 28U + 4 + 20 + 4);
    EXPECT_EQ(le32(b, 0), 0x0A0D0D0AU);
    EXPECT_EQ(le32(b, 4), b.size());
    EXPECT_EQ(le32(b, 8), 0x1A2B3C4DU);
    EXPECT_EQ(le16(b, 12), 1);  // major
    EXPECT_EQ(le16(b, 14), 0);  // minor
    EXPECT_EQ(le32(b, 16), 0xFFFFFFFFU);
    EXPECT_EQ(le32(b, 20), 0xFFFFFFFFU);
    EXPECT_EQ(le16(b, 24), 4);   // shb_userappl
    EXPECT_EQ(le16(b, 26), 19);  // its length before padding
    EXPECT_EQ(b.substr(28, 19), "isthmus-ctl capture");
    EXPECT_EQ(b[47], '\0');
    EXPECT_EQ(le32(b, 48), 0U);  // opt_endofopt
    EXPECT_EQ(le32(b, b.size() - 4), b.size());
}

TEST(Pcapng, InterfaceBlockNamesThePortInNanoseconds) {
    std::string b;
    pcapng_interface(b, "core", 2016);
    EXPECT_EQ(le32(b, 0), 1U);
    EXPECT_EQ(le32(b, 4), b.size());
    EXPECT_EQ(le16(b, 8), 1);  // LINKTYPE_ETHERNET
    EXPECT_EQ(le32(b, 12), 2016U);
    EXPECT_EQ(le16(b, 16), 2);  // if_name
    EXPECT_EQ(le16(b, 18), 4);
    EXPECT_EQ(b.substr(20, 4), "core");
    EXPECT_EQ(le16(b, 24), 9);  // if_tsresol
    EXPECT_EQ(le16(b, 26), 1);
    EXPECT_EQ(b[28], 9);
    EXPECT_EQ(le32(b, 32), 0U);  // opt_endofopt
    EXPECT_EQ(b.size(), 40U);
    EXPECT_EQ(le32(b, 36), 40U);
}

TEST(Pcapng, EnhancedPacketBlockCarriesTimeLengthsDirectionAndComment) {
    const std::vector<uint8_t> frame = {1, 2, 3, 4, 5, 6, 7};  // padded to 8
    std::string b;
    const uint64_t ts = 1764100000123456789ULL;
    pcapng_packet(b, 1, ts, frame, 1500, false, "session=7");
    EXPECT_EQ(le32(b, 0), 6U);
    EXPECT_EQ(le32(b, 4), b.size());
    EXPECT_EQ(b.size() % 4, 0U);
    EXPECT_EQ(le32(b, 8), 1U);  // interface
    EXPECT_EQ((uint64_t{le32(b, 12)} << 32) | le32(b, 16), ts);
    EXPECT_EQ(le32(b, 20), 7U);     // captured
    EXPECT_EQ(le32(b, 24), 1500U);  // on the wire
    EXPECT_EQ(b.substr(28, 7), std::string("\1\2\3\4\5\6\7"));
    EXPECT_EQ(b[35], '\0');
    EXPECT_EQ(le16(b, 36), 2);  // epb_flags
    EXPECT_EQ(le16(b, 38), 4);
    EXPECT_EQ(le32(b, 40), 2U);  // outbound
    EXPECT_EQ(le16(b, 44), 1);   // opt_comment
    EXPECT_EQ(le16(b, 46), 9);
    EXPECT_EQ(b.substr(48, 9), "session=7");
    EXPECT_EQ(le32(b, 60), 0U);  // opt_endofopt
    EXPECT_EQ(b.size(), 68U);

    std::string in;
    pcapng_packet(in, 0, 0, frame, 7, true, "");
    EXPECT_EQ(le32(in, 40), 1U);  // inbound
    EXPECT_EQ(le32(in, 44), 0U);  // no comment: end of options
    EXPECT_EQ(in.size(), 52U);
}

}  // namespace
}  // namespace isthmus::ctl
