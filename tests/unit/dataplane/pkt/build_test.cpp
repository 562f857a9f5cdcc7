// Writing headers in front of a payload: exact bytes for one IPv4 case
// (checksums computed independently when the test was written), and round
// trips through the parser for both families.
#include "pkt/build.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "hex.hpp"
#include "pkt/parse.hpp"

namespace isthmus::pkt {
namespace {

using test::from_hex;
using test::to_hex;

const std::vector<uint8_t> kPayload = from_hex("80e0000100000a001234567868656c6c6f2d727470");

UdpEgress egress4() {
    UdpEgress e{};
    const uint8_t src_mac[6] = {2, 0, 0, 0, 0, 1}, dst_mac[6] = {2, 0, 0, 0, 0, 2};
    std::memcpy(e.src_mac, src_mac, 6);
    std::memcpy(e.dst_mac, dst_mac, 6);
    e.family = 4;
    const uint8_t s[4] = {198, 18, 0, 1}, d[4] = {198, 18, 0, 2};
    std::memcpy(e.src, s, 4);
    std::memcpy(e.dst, d, 4);
    e.src_port = 40000;
    e.dst_port = 50000;
    e.ttl = 64;
    return e;
}

TEST(WriteUdpHeaders, Ipv4ExactBytes) {
    std::vector<uint8_t> buf(128 + kPayload.size());
    uint8_t* payload = buf.data() + 128;
    std::memcpy(payload, kPayload.data(), kPayload.size());
    uint8_t* frame = write_udp_headers(payload, 128, kPayload.size(), egress4());
    ASSERT_EQ(frame, payload - 42);
    EXPECT_EQ(to_hex(frame, 42 + kPayload.size()),
              "020000000002020000000001080045000031000040004011ae94c6120001c6120002"
              "9c40c350001df9f880e0000100000a001234567868656c6c6f2d727470");
}

TEST(WriteUdpHeaders, RoundTripsThroughTheParserBothFamilies) {
    for (const uint8_t family : {uint8_t{4}, uint8_t{6}}) {
        UdpEgress e = egress4();
        e.family = family;
        if (family == 6) {
            const auto s = from_hex("20010db8000000000000000000000001");
            const auto d = from_hex("20010db8000000000000000000000002");
            std::memcpy(e.src, s.data(), 16);
            std::memcpy(e.dst, d.data(), 16);
        }
        for (std::size_t len :
             {std::size_t{0}, std::size_t{1}, std::size_t{21}, std::size_t{1400}}) {
            std::vector<uint8_t> buf(64 + len);
            for (std::size_t i = 0; i < len; ++i)
                buf[64 + i] = static_cast<uint8_t>(i * 13);
            uint8_t* frame = write_udp_headers(buf.data() + 64, 64, len, e);
            ASSERT_NE(frame, nullptr);
            Frame f;
            const std::size_t frame_len = udp_header_room(family) + len;
            ASSERT_EQ(parse_frame(frame, frame_len, f), Verdict::Udp)
                << "family " << int{family} << " len " << len << " drop " << drop_name(f.drop);
            EXPECT_EQ(f.payload_len, len);
            EXPECT_EQ(frame + f.payload_offset, buf.data() + 64);
            EXPECT_EQ(f.src_port, 40000);
            EXPECT_EQ(f.dst_port, 50000);
            EXPECT_EQ(std::memcmp(f.dst, e.dst, family == 4 ? 4 : 16), 0);
        }
    }
}

TEST(WriteUdpHeaders, RefusesWhatDoesNotFit) {
    std::vector<uint8_t> buf(200);
    UdpEgress e = egress4();
    EXPECT_EQ(write_udp_headers(buf.data() + 41, 41, 10, e), nullptr);  // IPv4 needs 42
    e.family = 6;
    EXPECT_EQ(write_udp_headers(buf.data() + 61, 61, 10, e), nullptr);  // IPv6 needs 62
    e.family = 5;
    EXPECT_EQ(write_udp_headers(buf.data() + 100, 100, 10, e), nullptr);
    e.family = 4;
    EXPECT_EQ(write_udp_headers(buf.data() + 100, 100, 65535 - 28 + 1, e), nullptr);
}

TEST(WriteUdpHeaders, Ipv4WithoutUdpChecksumLeavesZero) {
    std::vector<uint8_t> buf(64 + kPayload.size());
    std::memcpy(buf.data() + 64, kPayload.data(), kPayload.size());
    uint8_t* frame = write_udp_headers(buf.data() + 64, 64, kPayload.size(), egress4(), false);
    ASSERT_NE(frame, nullptr);
    EXPECT_EQ(frame[40], 0);
    EXPECT_EQ(frame[41], 0);
    Frame f;
    EXPECT_EQ(parse_frame(frame, 42 + kPayload.size(), f), Verdict::Udp);
}

}  // namespace
}  // namespace isthmus::pkt
