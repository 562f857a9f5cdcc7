// CaptureTap (dataplane/capture_tap.hpp): what an lcore takes into its
// capture ring for each filter the capturer sets, and what it does when the
// ring is full (drops the record and counts it, never blocks).
#include "capture_tap.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

namespace isthmus::dataplane {
namespace {

// An Ethernet + IPv4 + UDP frame to `dst_port` with `payload` octets.
std::vector<uint8_t> udp_frame(uint16_t dst_port, std::size_t payload) {
    std::vector<uint8_t> f(14 + 20 + 8 + payload, 0);
    f[12] = 0x08;  // IPv4
    f[14] = 0x45;
    const auto ip_len = static_cast<uint16_t>(20 + 8 + payload);
    f[16] = static_cast<uint8_t>(ip_len >> 8);
    f[17] = static_cast<uint8_t>(ip_len);
    f[22] = 64;
    f[23] = 17;  // UDP
    f[34] = 0x13;
    f[35] = 0x88;  // source port 5000
    f[36] = static_cast<uint8_t>(dst_port >> 8);
    f[37] = static_cast<uint8_t>(dst_port);
    const auto udp_len = static_cast<uint16_t>(8 + payload);
    f[38] = static_cast<uint8_t>(udp_len >> 8);
    f[39] = static_cast<uint8_t>(udp_len);
    for (std::size_t k = 0; k < payload; ++k)
        f[42 + k] = static_cast<uint8_t>(k);
    return f;
}

class CaptureTapTest : public ::testing::Test {
  protected:
    void SetUp() override {
        area = std::make_unique<dpif::CaptureArea>();
        tap.attach(area.get(), 3);
    }
    // The capturer's side: a filter, then seq odd (start) or even (stop).
    void start(uint32_t sides, uint64_t session, uint32_t snaplen = dpif::kCaptureData) {
        area->control.sides.store(sides);
        area->control.session_id.store(session);
        area->control.snaplen.store(snaplen);
        area->control.seq.fetch_add(1);
    }
    std::vector<dpif::CaptureRecord> taken() {
        std::vector<dpif::CaptureRecord> out;
        dpif::CaptureRecord r;
        while (area->ring[3].try_pop(r))
            out.push_back(r);
        return out;
    }
    std::unique_ptr<dpif::CaptureArea> area;
    CaptureTap tap;
};

TEST_F(CaptureTapTest, OffUntilTheCapturerStartsAndAcknowledgesEachSeq) {
    EXPECT_FALSE(tap.poll());
    EXPECT_FALSE(tap.on());
    start(dpif::kCaptureAccess, 0);
    EXPECT_TRUE(tap.poll());
    EXPECT_TRUE(tap.on());
    EXPECT_EQ(area->control.ring[3].ack.load(), 1U);
    EXPECT_FALSE(tap.poll());  // nothing new
    area->control.seq.fetch_add(1);
    EXPECT_TRUE(tap.poll());
    EXPECT_FALSE(tap.on());
    EXPECT_EQ(area->control.ring[3].ack.load(), 2U);
    EXPECT_FALSE(tap.side_on(0));
}

TEST_F(CaptureTapTest, PortCaptureTakesItsSideOnlyWithLengthsAndDirection) {
    start(dpif::kCaptureCore, 0, 64);
    tap.poll();
    const auto f = udp_frame(40000, 100);
    EXPECT_FALSE(tap.wants_in(f.data(), f.size(), 0));
    ASSERT_TRUE(tap.wants_in(f.data(), f.size(), 1));
    tap.write(f.data(), f.size(), f.size(), 1, dpif::CaptureDir::Out, 9);
    const auto recs = taken();
    ASSERT_EQ(recs.size(), 1U);
    EXPECT_EQ(recs[0].orig_len, f.size());
    EXPECT_EQ(recs[0].cap_len, 64U);  // the snaplen
    EXPECT_EQ(recs[0].side, 1U);
    EXPECT_EQ(recs[0].dir, static_cast<uint8_t>(dpif::CaptureDir::Out));
    EXPECT_EQ(recs[0].session_id, 9U);
    EXPECT_EQ(std::memcmp(recs[0].data, f.data(), 64), 0);
    EXPECT_GT(recs[0].tsc, 0U);
    EXPECT_EQ(area->control.ring[3].taken.load(), 1U);
}

TEST_F(CaptureTapTest, AMultiSegmentFrameKeepsItsFirstSegmentAndWholeLength) {
    start(dpif::kCaptureAccess, 0);
    tap.poll();
    const auto f = udp_frame(40000, 300);
    tap.write(f.data(), 3000, f.size(), 0, dpif::CaptureDir::In, 0);
    const auto recs = taken();
    ASSERT_EQ(recs.size(), 1U);
    EXPECT_EQ(recs[0].orig_len, 3000U);
    EXPECT_EQ(recs[0].cap_len, f.size());
}

TEST_F(CaptureTapTest, SessionCaptureTakesFramesToItsLocalPortsOnly) {
    start(dpif::kCaptureAccess | dpif::kCaptureCore, 77);
    tap.poll();
    tap.set_ports(0, 40000, 0);      // access: RTP and RTCP muxed
    tap.set_ports(1, 50000, 50001);  // core: separate RTCP
    const auto a = udp_frame(40000, 20), a_rtcp = udp_frame(40001, 20);
    const auto c = udp_frame(50000, 20), c_rtcp = udp_frame(50001, 20);
    const auto other = udp_frame(40002, 20);
    EXPECT_TRUE(tap.wants_in(a.data(), a.size(), 0));
    EXPECT_FALSE(tap.wants_in(a_rtcp.data(), a_rtcp.size(), 0));
    EXPECT_FALSE(tap.wants_in(other.data(), other.size(), 0));
    EXPECT_FALSE(tap.wants_in(a.data(), a.size(), 1));  // its port, the other side
    EXPECT_TRUE(tap.wants_in(c.data(), c.size(), 1));
    EXPECT_TRUE(tap.wants_in(c_rtcp.data(), c_rtcp.size(), 1));
    const std::vector<uint8_t> arp(60, 0);
    EXPECT_FALSE(tap.wants_in(arp.data(), arp.size(), 0));
    // A new capture forgets the ports of the last one's session.
    area->control.seq.fetch_add(1);
    tap.poll();
    start(dpif::kCaptureAccess, 78);
    tap.poll();
    EXPECT_FALSE(tap.wants_in(a.data(), a.size(), 0));
}

TEST_F(CaptureTapTest, AFullRingDropsAndCountsTheRecord) {
    start(dpif::kCaptureAccess, 0);
    tap.poll();
    const auto f = udp_frame(40000, 1400);
    for (uint32_t i = 0; i < dpif::kCaptureSlots + 10; ++i)
        tap.write(f.data(), f.size(), f.size(), 0, dpif::CaptureDir::In, 0);
    EXPECT_EQ(area->control.ring[3].taken.load(), dpif::kCaptureSlots);
    EXPECT_EQ(area->control.ring[3].dropped.load(), 10U);
    EXPECT_EQ(taken().size(), dpif::kCaptureSlots);
    tap.write(f.data(), f.size(), f.size(), 0, dpif::CaptureDir::In, 0);  // room again
    EXPECT_EQ(taken().size(), 1U);
}

}  // namespace
}  // namespace isthmus::dataplane
