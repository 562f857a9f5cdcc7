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
    uint8_t* frame =
        write_udp_headers(buf.data() + 64, 64, kPayload.size(), egress4(), Checksums::NoUdpOnIpv4);
    ASSERT_NE(frame, nullptr);
    EXPECT_EQ(frame[40], 0);
    EXPECT_EQ(frame[41], 0);
    Frame f;
    EXPECT_EQ(parse_frame(frame, 42 + kPayload.size(), f), Verdict::Udp);
}

// Offload: what is left for the NIC. Doing the NIC's part here (the IPv4
// header checksum; the UDP checksum over the segment starting from the
// pseudo-header sum in the field) must give a frame that parses with
// checksums verified, for both families.
TEST(WriteUdpHeaders, OffloadLeavesWhatATxChecksumNicCompletes) {
    for (const bool v6 : {false, true}) {
        UdpEgress e = egress4();
        if (v6) {
            e.family = 6;
            const uint8_t s6[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
            const uint8_t d6[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
            std::memcpy(e.src, s6, 16);
            std::memcpy(e.dst, d6, 16);
        }
        std::vector<uint8_t> buf(64 + kPayload.size());
        std::memcpy(buf.data() + 64, kPayload.data(), kPayload.size());
        uint8_t* frame =
            write_udp_headers(buf.data() + 64, 64, kPayload.size(), e, Checksums::Offload);
        ASSERT_NE(frame, nullptr);
        const std::size_t l3 = 14, l4 = v6 ? 54 : 34;
        const std::size_t len = l4 + 8 + kPayload.size();
        Frame f;
        if (!v6) {
            EXPECT_EQ(frame[l3 + 10], 0);  // left to the NIC
            EXPECT_EQ(frame[l3 + 11], 0);
            const uint16_t ip = fold_checksum(ones_complement_add(frame + l3, 20, 0));
            frame[l3 + 10] = static_cast<uint8_t>(ip >> 8);
            frame[l3 + 11] = static_cast<uint8_t>(ip);
        }
        // The NIC sums the segment with the field as it stands (the
        // pseudo-header sum) and writes the complement.
        uint16_t c = fold_checksum(ones_complement_add(frame + l4, 8 + kPayload.size(), 0));
        if (c == 0) c = 0xffff;
        frame[l4 + 6] = static_cast<uint8_t>(c >> 8);
        frame[l4 + 7] = static_cast<uint8_t>(c);
        EXPECT_EQ(parse_frame(frame, len, f), Verdict::Udp) << (v6 ? "IPv6" : "IPv4");
        EXPECT_EQ(f.drop, Drop::None);
    }
}

}  // namespace
}  // namespace isthmus::pkt
