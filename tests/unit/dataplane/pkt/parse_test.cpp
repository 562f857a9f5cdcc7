// Frame parsing against annotated wire bytes (checksums computed by an
// independent implementation when the frames were written).
#include "pkt/parse.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hex.hpp"

namespace isthmus::pkt {
namespace {

using test::from_hex;

// Ethernet | IPv4 198.18.0.1 -> 198.18.0.2, DF, TTL 64, UDP | 40000 -> 50000,
// len 29, checksum f9f8 | RTP-looking payload (21 octets).
const std::vector<uint8_t> kIpv4Udp = from_hex(
    "020000000002 020000000001 0800"
    "4500 0031 1234 4000 4011 9c60 c6120001 c6120002"
    "9c40 c350 001d f9f8"
    "80e0000100000a001234567868656c6c6f2d727470");

// Ethernet | IPv6 2001:db8::1 -> 2001:db8::2, UDP | same ports and payload.
const std::vector<uint8_t> kIpv6Udp = from_hex(
    "020000000002 020000000001 86dd"
    "60000000 001d 11 40 20010db8000000000000000000000001 20010db8000000000000000000000002"
    "9c40 c350 001d 2aac"
    "80e0000100000a001234567868656c6c6f2d727470");

constexpr std::size_t kL3 = 14;

TEST(PeekUdpDstPort, FindsThePortOfUdpAndNothingElse) {
    EXPECT_EQ(peek_udp_dst_port(kIpv4Udp.data(), kIpv4Udp.size()), 50000);
    EXPECT_EQ(peek_udp_dst_port(kIpv6Udp.data(), kIpv6Udp.size()), 50000);
    for (std::size_t n = 0; n < 14 + 20 + 4; ++n)
        EXPECT_EQ(peek_udp_dst_port(kIpv4Udp.data(), n), -1) << n;
    std::vector<uint8_t> f = kIpv4Udp;
    f[kL3 + 6] |= 0x20;  // a fragment: no port to steer by
    EXPECT_EQ(peek_udp_dst_port(f.data(), f.size()), -1);
    f = kIpv4Udp;
    f[kL3 + 9] = 6;  // TCP
    EXPECT_EQ(peek_udp_dst_port(f.data(), f.size()), -1);
    f = kIpv6Udp;
    f[kL3 + 6] = 58;  // ICMPv6
    EXPECT_EQ(peek_udp_dst_port(f.data(), f.size()), -1);
    f = kIpv4Udp;
    f[12] = 0x08;
    f[13] = 0x06;  // ARP
    EXPECT_EQ(peek_udp_dst_port(f.data(), f.size()), -1);
}

TEST(ParseFrame, Ipv4Udp) {
    Frame f;
    ASSERT_EQ(parse_frame(kIpv4Udp.data(), kIpv4Udp.size(), f), Verdict::Udp);
    EXPECT_EQ(f.ip_version, 4);
    EXPECT_EQ(f.l3_offset, 14);
    EXPECT_EQ(f.l4_offset, 34);
    EXPECT_EQ(f.payload_offset, 42);
    EXPECT_EQ(f.payload_len, 21);
    EXPECT_EQ(f.src_port, 40000);
    EXPECT_EQ(f.dst_port, 50000);
    EXPECT_EQ(test::to_hex(f.src, 4), "c6120001");
    EXPECT_EQ(test::to_hex(f.dst, 4), "c6120002");
    EXPECT_EQ(f.drop, Drop::None);
}

TEST(ParseFrame, Ipv6Udp) {
    Frame f;
    ASSERT_EQ(parse_frame(kIpv6Udp.data(), kIpv6Udp.size(), f), Verdict::Udp);
    EXPECT_EQ(f.ip_version, 6);
    EXPECT_EQ(f.l4_offset, 54);
    EXPECT_EQ(f.payload_offset, 62);
    EXPECT_EQ(f.payload_len, 21);
    EXPECT_EQ(test::to_hex(f.src, 16), "20010db8000000000000000000000001");
    EXPECT_EQ(test::to_hex(f.dst, 16), "20010db8000000000000000000000002");
}

TEST(ParseFrame, EthernetPaddingAfterTheDatagramIsIgnored) {
    std::vector<uint8_t> padded = kIpv4Udp;
    padded.resize(padded.size() + 10, 0);
    Frame f;
    ASSERT_EQ(parse_frame(padded.data(), padded.size(), f), Verdict::Udp);
    EXPECT_EQ(f.payload_len, 21);
}

Verdict parse_mutated(const std::vector<uint8_t>& base, std::size_t at, uint8_t value, Frame& f,
                      ParseOptions opt = {}) {
    std::vector<uint8_t> b = base;
    b[at] = value;
    return parse_frame(b.data(), b.size(), f, opt);
}

TEST(ParseFrame, ChecksumsAreVerifiedUnlessTheNicDid) {
    Frame f;
    // A payload octet changed: the UDP checksum no longer matches.
    EXPECT_EQ(parse_mutated(kIpv4Udp, 50, 0x00, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadUdpChecksum);
    EXPECT_EQ(parse_mutated(kIpv6Udp, 70, 0x00, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadUdpChecksum);
    EXPECT_EQ(parse_mutated(kIpv4Udp, 50, 0x00, f, {.udp_checksum_verified = true}), Verdict::Udp);
    // The TTL changed: the IPv4 header checksum no longer matches.
    EXPECT_EQ(parse_mutated(kIpv4Udp, kL3 + 8, 0x3f, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadIpChecksum);
    EXPECT_EQ(parse_mutated(kIpv4Udp, kL3 + 8, 0x3f, f, {.ip_checksum_verified = true}),
              Verdict::Udp);
}

TEST(ParseFrame, UdpChecksumZeroIsAllowedOnIpv4Only) {
    std::vector<uint8_t> v4 = kIpv4Udp;
    v4[40] = v4[41] = 0;
    Frame f;
    EXPECT_EQ(parse_frame(v4.data(), v4.size(), f), Verdict::Udp);
    std::vector<uint8_t> v6 = kIpv6Udp;
    v6[60] = v6[61] = 0;
    EXPECT_EQ(parse_frame(v6.data(), v6.size(), f), Verdict::Drop);  // RFC 8200 8.1
    EXPECT_EQ(f.drop, Drop::BadUdpChecksum);
}

TEST(ParseFrame, FragmentsAreDropped) {
    Frame f;
    // The mutated IPv4 headers keep their old checksum, so these parse as if
    // the NIC had verified it: the fragment test is what refuses them.
    EXPECT_EQ(parse_mutated(kIpv4Udp, kL3 + 6, 0x20, f, {.ip_checksum_verified = true}),
              Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::IpFragment);
    EXPECT_EQ(parse_mutated(kIpv4Udp, kL3 + 7, 0x10, f, {.ip_checksum_verified = true}),
              Verdict::Drop);  // fragment offset != 0
    EXPECT_EQ(f.drop, Drop::IpFragment);
    EXPECT_EQ(parse_mutated(kIpv6Udp, kL3 + 6, 44, f), Verdict::Drop);  // Fragment header
    EXPECT_EQ(f.drop, Drop::IpFragment);
}

TEST(ParseFrame, MalformedHeadersAreDroppedByReason) {
    Frame f;
    EXPECT_EQ(parse_frame(kIpv4Udp.data(), 13, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::TooShort);
    EXPECT_EQ(parse_frame(kIpv4Udp.data(), 14 + 19, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::TooShort);
    EXPECT_EQ(parse_frame(kIpv6Udp.data(), 14 + 39, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::TooShort);
    // IHL 4 (< 20 octets)
    EXPECT_EQ(parse_mutated(kIpv4Udp, kL3, 0x44, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadIpHeader);
    // version 5
    EXPECT_EQ(parse_mutated(kIpv4Udp, kL3, 0x55, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadIpHeader);
    // total length past the frame
    EXPECT_EQ(parse_mutated(kIpv4Udp, kL3 + 2, 0x01, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadIpHeader);
    // IPv6 payload length past the frame
    EXPECT_EQ(parse_mutated(kIpv6Udp, kL3 + 4, 0x01, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadIpHeader);
    // UDP length larger than the IP payload, and below 8
    EXPECT_EQ(parse_mutated(kIpv4Udp, 39, 0x30, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadUdpLength);
    EXPECT_EQ(parse_mutated(kIpv4Udp, 39, 0x07, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadUdpLength);
    // every truncation of a valid frame is refused or handed on, never read past
    for (std::size_t n = 0; n < kIpv4Udp.size(); ++n) {
        std::vector<uint8_t> cut(kIpv4Udp.begin(), kIpv4Udp.begin() + static_cast<long>(n));
        EXPECT_NE(parse_frame(cut.data(), cut.size(), f), Verdict::Udp) << n;
    }
    for (std::size_t n = 0; n < kIpv6Udp.size(); ++n) {
        std::vector<uint8_t> cut(kIpv6Udp.begin(), kIpv6Udp.begin() + static_cast<long>(n));
        EXPECT_NE(parse_frame(cut.data(), cut.size(), f), Verdict::Udp) << n;
    }
}

TEST(ParseFrame, SourceAddressMustBeUnicast) {
    Frame f;
    // 224.x source (header checksum left to a "NIC")
    EXPECT_EQ(parse_mutated(kIpv4Udp, kL3 + 12, 224, f, {.ip_checksum_verified = true}),
              Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadAddress);
    EXPECT_EQ(parse_mutated(kIpv6Udp, kL3 + 8, 0xff, f), Verdict::Drop);
    EXPECT_EQ(f.drop, Drop::BadAddress);
}

TEST(ParseFrame, WhatIsNotUdpGoesToTheKernel) {
    Frame f;
    // ARP
    const auto arp = from_hex(
        "ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 c6120001 "
        "000000000000 c6120002");
    EXPECT_EQ(parse_frame(arp.data(), arp.size(), f), Verdict::Exception);
    // IPv4 ICMP (protocol 1) with a valid checksum: rewrite proto and fix the sum
    std::vector<uint8_t> icmp = kIpv4Udp;
    icmp[kL3 + 9] = 1;
    icmp[kL3 + 10] = icmp[kL3 + 11] = 0;
    const uint16_t c = fold_checksum(ones_complement_add(icmp.data() + kL3, 20, 0));
    icmp[kL3 + 10] = static_cast<uint8_t>(c >> 8);
    icmp[kL3 + 11] = static_cast<uint8_t>(c);
    EXPECT_EQ(parse_frame(icmp.data(), icmp.size(), f), Verdict::Exception);
    // ICMPv6 (58): neighbour discovery lives there
    EXPECT_EQ(parse_mutated(kIpv6Udp, kL3 + 6, 58, f), Verdict::Exception);
    // 802.1Q tagged
    EXPECT_EQ(parse_mutated(kIpv4Udp, 12, 0x81, f), Verdict::Exception);
}

TEST(Checksum, Rfc1071Example) {
    // RFC 1071 1.3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (folded).
    const auto words = from_hex("0001 f203 f4f5 f6f7");
    EXPECT_EQ(fold_checksum(ones_complement_add(words.data(), words.size(), 0)),
              static_cast<uint16_t>(~0xddf2 & 0xffff));
    // An odd octet is padded with zero.
    const auto odd = from_hex("0102 03");
    EXPECT_EQ(ones_complement_add(odd.data(), odd.size(), 0), 0x0102U + 0x0300U);
}

// The word-wide sum against the RFC's 16-bit loop, every length 0..300 at
// every alignment, random data (fixed seed), chained with a prior sum.
TEST(Checksum, WideSumAgreesWithTheSixteenBitDefinition) {
    std::mt19937 rng(1071);
    std::vector<uint8_t> buf(320);
    for (auto& b : buf)
        b = static_cast<uint8_t>(rng());
    const auto reference = [](const uint8_t* p, std::size_t len, uint32_t sum) {
        uint64_t s = sum;
        for (std::size_t i = 0; i + 1 < len; i += 2)
            s += static_cast<uint32_t>((p[i] << 8) | p[i + 1]);
        if (len % 2 != 0) s += static_cast<uint32_t>(p[len - 1] << 8);
        while ((s >> 16) != 0)
            s = (s & 0xffffU) + (s >> 16);
        return static_cast<uint16_t>(~s & 0xffffU);
    };
    for (std::size_t off = 0; off < 8; ++off) {
        for (std::size_t len = 0; len <= 300; ++len) {
            const uint32_t prior = rng() & 0x3ffffU;
            ASSERT_EQ(fold_checksum(ones_complement_add(buf.data() + off, len, prior)),
                      reference(buf.data() + off, len, prior))
                << "offset " << off << " length " << len;
        }
    }
    // All ones: the carries wrap around many times.
    std::vector<uint8_t> ff(1500, 0xff);
    EXPECT_EQ(fold_checksum(ones_complement_add(ff.data(), ff.size(), 0xffffffffU)),
              reference(ff.data(), ff.size(), 0xffffffffU));
}

}  // namespace
}  // namespace isthmus::pkt
