// Neighbour learning and resolution: ARP and ND frames as annotated wire
// bytes (ICMPv6 checksums computed by an independent implementation when the
// frames were written), every refusal, the requests we build checked octet
// by octet and snooped back, and the neighbour table against a std::map
// model under random churn.
#include "pkt/neighbour.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "hex.hpp"
#include "pkt/neighbour_table.hpp"
#include "pkt/parse.hpp"

namespace isthmus::pkt {
namespace {

using test::from_hex;
using test::to_hex;

// Ethernet broadcast <- 02:00:00:00:00:02 | ARP Ethernet/IPv4, request:
// who has 198.18.0.1, tell 198.18.0.2 (at 02:00:00:00:00:02) | padding.
const std::vector<uint8_t> kArpRequest = from_hex(
    "ffffffffffff 020000000002 0806"
    "0001 0800 06 04 0001 020000000002 c6120002 000000000000 c6120001"
    "000000000000000000000000000000000000");

// Ethernet 02:..:02 <- 02:..:01 | ARP reply: 198.18.0.1 is at 02:00:00:00:00:01.
const std::vector<uint8_t> kArpReply = from_hex(
    "020000000002 020000000001 0806"
    "0001 0800 06 04 0002 020000000001 c6120001 020000000002 c6120002");

// Ethernet 33:33:ff:00:00:01 <- 02:..:02 | IPv6 fe80::2 -> ff02::1:ff00:1,
// payload 32, next header 58, hop limit 255 | NS type 135 code 0 checksum
// 7a97, target fe80::1 | option 1 (SLLA) length 1: 02:00:00:00:00:02.
const std::vector<uint8_t> kNs = from_hex(
    "3333ff000001 020000000002 86dd"
    "60000000 0020 3a ff fe800000000000000000000000000002 ff0200000000000000000001ff000001"
    "87 00 7a97 00000000 fe800000000000000000000000000001"
    "01 01 020000000002");

// Ethernet 02:..:02 <- 02:..:01 | IPv6 fe80::1 -> fe80::2 | NA type 136,
// checksum 181c, flags Solicited|Override, target fe80::1 | option 2 (TLLA)
// length 1: 02:00:00:00:00:01.
const std::vector<uint8_t> kNa = from_hex(
    "020000000002 020000000001 86dd"
    "60000000 0020 3a ff fe800000000000000000000000000001 fe800000000000000000000000000002"
    "88 00 181c 60000000 fe800000000000000000000000000001"
    "02 01 020000000001");

constexpr std::size_t kIp6 = 14;        // IPv6 header
constexpr std::size_t kIcmp = 14 + 40;  // ICMPv6 message
constexpr std::size_t kOpt = kIcmp + 24;

// Sets the ICMPv6 checksum after a test changed a covered octet, so that the
// frame is refused for the change and not for the checksum.
std::vector<uint8_t> with_icmpv6_checksum(std::vector<uint8_t> f) {
    const std::size_t icmp_len = std::size_t{f[kIp6 + 4]} << 8 | f[kIp6 + 5];
    f[kIcmp + 2] = 0;
    f[kIcmp + 3] = 0;
    uint32_t sum = ones_complement_add(f.data() + kIp6 + 8, 32, 0);
    sum += static_cast<uint32_t>(icmp_len) + 58;
    sum = ones_complement_add(f.data() + kIcmp, icmp_len, sum);
    const uint16_t c = fold_checksum(sum);
    f[kIcmp + 2] = static_cast<uint8_t>(c >> 8);
    f[kIcmp + 3] = static_cast<uint8_t>(c);
    return f;
}

bool icmpv6_checksum_ok(const uint8_t* f) {
    const std::size_t icmp_len = std::size_t{f[kIp6 + 4]} << 8 | f[kIp6 + 5];
    uint32_t sum = ones_complement_add(f + kIp6 + 8, 32, 0);
    sum += static_cast<uint32_t>(icmp_len) + 58;
    return fold_checksum(ones_complement_add(f + kIcmp, icmp_len, sum)) == 0;
}

bool snoop(const std::vector<uint8_t>& f) {
    NeighbourObservation o{};
    return snoop_neighbour(f.data(), f.size(), o);
}

std::vector<uint8_t> mutated(std::vector<uint8_t> f, std::size_t at, uint8_t value) {
    f[at] = value;
    return f;
}

// --- ARP ---------------------------------------------------------------------

TEST(SnoopNeighbour, ArpRequestTeachesTheSender) {
    NeighbourObservation o{};
    ASSERT_TRUE(snoop_neighbour(kArpRequest.data(), kArpRequest.size(), o));
    EXPECT_EQ(o.family, 4);
    EXPECT_EQ(to_hex(o.addr, 16), "c6120002000000000000000000000000");
    EXPECT_EQ(to_hex(o.mac, 6), "020000000002");
}

TEST(SnoopNeighbour, ArpReplyTeachesTheSender) {
    NeighbourObservation o{};
    ASSERT_TRUE(snoop_neighbour(kArpReply.data(), kArpReply.size(), o));  // 42 octets, unpadded
    EXPECT_EQ(o.family, 4);
    EXPECT_EQ(to_hex(o.addr, 16), "c6120001000000000000000000000000");
    EXPECT_EQ(to_hex(o.mac, 6), "020000000001");
}

TEST(SnoopNeighbour, ArpProbeTeachesNothing) {
    // RFC 5227 2.1.1: sender IP 0.0.0.0.
    std::vector<uint8_t> probe = kArpRequest;
    std::memset(probe.data() + 14 + 14, 0, 4);
    NeighbourObservation o{};
    o.family = 99;
    EXPECT_FALSE(snoop_neighbour(probe.data(), probe.size(), o));
    EXPECT_EQ(o.family, 99);  // untouched
}

TEST(SnoopNeighbour, ArpRefusals) {
    constexpr std::size_t a = 14;
    EXPECT_FALSE(snoop(mutated(kArpReply, a + 1, 6)));     // htype 6 (IEEE 802)
    EXPECT_FALSE(snoop(mutated(kArpReply, a + 2, 0x86)));  // ptype 0x8600: not IPv4
    EXPECT_FALSE(snoop(mutated(kArpReply, a + 4, 8)));     // hlen
    EXPECT_FALSE(snoop(mutated(kArpReply, a + 5, 16)));    // plen
    EXPECT_FALSE(snoop(mutated(kArpReply, a + 7, 3)));     // RARP request
    EXPECT_FALSE(snoop(mutated(kArpReply, a + 8, 0x03)));  // sender MAC multicast
    EXPECT_FALSE(snoop(mutated(kArpReply, a + 14, 224)));  // sender IP multicast
    std::vector<uint8_t> f = kArpReply;
    std::memset(f.data() + a + 8, 0xff, 6);  // sender MAC broadcast
    EXPECT_FALSE(snoop(f));
    std::memset(f.data() + a + 8, 0, 6);  // sender MAC zero
    EXPECT_FALSE(snoop(f));
    f = kArpReply;
    std::memset(f.data() + a + 14, 0xff, 4);  // 255.255.255.255
    EXPECT_FALSE(snoop(f));
    EXPECT_FALSE(snoop(mutated(kArpReply, 13, 0x35)));  // ethertype 0x8035 (RARP)
}

TEST(SnoopNeighbour, TruncatedArpAtEveryLength) {
    for (std::size_t len = 0; len < 42; ++len) {
        // A copy of exactly `len` octets, so a read past the end is caught by
        // ASan / valgrind rather than reading the rest of the frame.
        std::vector<uint8_t> cut(kArpReply.begin(),
                                 kArpReply.begin() + static_cast<std::ptrdiff_t>(len));
        NeighbourObservation o{};
        EXPECT_FALSE(snoop_neighbour(cut.data(), cut.size(), o)) << len;
    }
}

// --- Neighbor Discovery ------------------------------------------------------

TEST(SnoopNeighbour, TheVectorsChecksumsAreRight) {
    EXPECT_TRUE(icmpv6_checksum_ok(kNs.data()));
    EXPECT_TRUE(icmpv6_checksum_ok(kNa.data()));
    EXPECT_EQ(with_icmpv6_checksum(kNs), kNs);
    EXPECT_EQ(with_icmpv6_checksum(kNa), kNa);
}

TEST(SnoopNeighbour, SolicitationWithSourceLinkLayerAddress) {
    NeighbourObservation o{};
    ASSERT_TRUE(snoop_neighbour(kNs.data(), kNs.size(), o));
    EXPECT_EQ(o.family, 6);
    EXPECT_EQ(to_hex(o.addr, 16), "fe800000000000000000000000000002");  // the IPv6 source
    EXPECT_EQ(to_hex(o.mac, 6), "020000000002");
}

TEST(SnoopNeighbour, AdvertisementWithTargetLinkLayerAddress) {
    NeighbourObservation o{};
    ASSERT_TRUE(snoop_neighbour(kNa.data(), kNa.size(), o));
    EXPECT_EQ(o.family, 6);
    EXPECT_EQ(to_hex(o.addr, 16), "fe800000000000000000000000000001");  // the target
    EXPECT_EQ(to_hex(o.mac, 6), "020000000001");
}

TEST(SnoopNeighbour, EthernetPaddingAfterTheMessageIsIgnored) {
    std::vector<uint8_t> f = kNa;
    f.resize(f.size() + 6, 0xee);
    EXPECT_TRUE(snoop(f));
}

TEST(SnoopNeighbour, UnknownOptionsAreSkippedAndTheFirstAddressWins) {
    // NS with a Nonce option (14, length 1) before the SLLA and a second SLLA
    // after it: payload 32 -> 48.
    std::vector<uint8_t> f(kNs.begin(), kNs.begin() + static_cast<std::ptrdiff_t>(kOpt));
    const auto tail = from_hex("0e01 0102030405 06  0101 020000000002  0101 02000000000f");
    f.insert(f.end(), tail.begin(), tail.end());
    f[kIp6 + 5] = 48;
    f = with_icmpv6_checksum(f);
    NeighbourObservation o{};
    ASSERT_TRUE(snoop_neighbour(f.data(), f.size(), o));
    EXPECT_EQ(to_hex(o.mac, 6), "020000000002");
}

TEST(SnoopNeighbour, HopLimitMustBe255) {
    // Not covered by the checksum: only the hop limit is wrong.
    EXPECT_FALSE(snoop(mutated(kNs, kIp6 + 7, 254)));
    EXPECT_FALSE(snoop(mutated(kNa, kIp6 + 7, 64)));
}

TEST(SnoopNeighbour, ChecksumMustBeRight) {
    EXPECT_FALSE(snoop(mutated(kNs, kIcmp + 3, 0x98)));
    EXPECT_FALSE(snoop(mutated(kNa, kOpt + 7, 0x02)));  // MAC changed, checksum not
}

TEST(SnoopNeighbour, CodeMustBeZero) {
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNs, kIcmp + 1, 1))));
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNa, kIcmp + 1, 1))));
}

TEST(SnoopNeighbour, OptionLengthZeroIsRefused) {
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNs, kOpt + 1, 0))));
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNa, kOpt + 1, 0))));
}

TEST(SnoopNeighbour, OptionPastTheEndIsRefused) {
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNs, kOpt + 1, 2))));
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNa, kOpt + 1, 0xff))));
    // The same, with Ethernet padding after the message that the option
    // would reach: the option must end inside the ICMPv6 message.
    std::vector<uint8_t> f = with_icmpv6_checksum(mutated(kNa, kOpt + 1, 2));
    f.resize(f.size() + 8, 0);
    EXPECT_FALSE(snoop(f));
    // One stray octet after the option: not even a type and length.
    std::vector<uint8_t> g = kNa;
    g.push_back(0x02);
    g[kIp6 + 5] = 33;
    EXPECT_FALSE(snoop(with_icmpv6_checksum(g)));
}

TEST(SnoopNeighbour, OptionOfTheWrongKindTeachesNothing) {
    // NS with a TLLA, NA with an SLLA: well-formed, nothing to learn.
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNs, kOpt, 2))));
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNa, kOpt, 1))));
    // No options at all.
    std::vector<uint8_t> f(kNa.begin(), kNa.begin() + static_cast<std::ptrdiff_t>(kOpt));
    f[kIp6 + 5] = 24;
    EXPECT_FALSE(snoop(with_icmpv6_checksum(f)));
}

TEST(SnoopNeighbour, NdRefusals) {
    // Solicitation from :: (DAD).
    std::vector<uint8_t> dad = kNs;
    std::memset(dad.data() + kIp6 + 8, 0, 16);
    EXPECT_FALSE(snoop(with_icmpv6_checksum(dad)));
    // Solicitation from a multicast source.
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNs, kIp6 + 8, 0xff))));
    // Multicast target.
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNa, kIcmp + 8, 0xff))));
    // NA to a multicast destination with Solicited set; allowed without it.
    std::vector<uint8_t> na = kNa;
    const auto all_nodes = from_hex("ff020000000000000000000000000001");
    std::memcpy(na.data() + kIp6 + 24, all_nodes.data(), 16);
    EXPECT_FALSE(snoop(with_icmpv6_checksum(na)));
    EXPECT_TRUE(snoop(with_icmpv6_checksum(mutated(na, kIcmp + 4, 0x20))));  // Override only
    // Link-layer address multicast or zero.
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNa, kOpt + 2, 0x33))));
    std::vector<uint8_t> zero = kNa;
    std::memset(zero.data() + kOpt + 2, 0, 6);
    EXPECT_FALSE(snoop(with_icmpv6_checksum(zero)));
    // Other ICMPv6 types: Router Advertisement, Echo Request.
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNa, kIcmp, 134))));
    EXPECT_FALSE(snoop(with_icmpv6_checksum(mutated(kNa, kIcmp, 128))));
    // An extension header first (hop-by-hop), or UDP.
    EXPECT_FALSE(snoop(mutated(kNa, kIp6 + 6, 0)));
    EXPECT_FALSE(snoop(mutated(kNa, kIp6 + 6, 17)));
    // Not version 6.
    EXPECT_FALSE(snoop(mutated(kNa, kIp6, 0x40)));
    // ICMP length under 24, and past the frame.
    std::vector<uint8_t> short_icmp(kNa.begin(), kNa.begin() + static_cast<std::ptrdiff_t>(kOpt));
    short_icmp[kIp6 + 5] = 20;
    short_icmp.resize(kIcmp + 20);
    EXPECT_FALSE(snoop(with_icmpv6_checksum(short_icmp)));
    EXPECT_FALSE(snoop(mutated(kNa, kIp6 + 5, 33)));
    EXPECT_FALSE(snoop(mutated(kNa, kIp6 + 4, 0xff)));
}

TEST(SnoopNeighbour, TruncatedNdAtEveryLength) {
    for (const auto* base : {&kNs, &kNa}) {
        for (std::size_t len = 0; len < base->size(); ++len) {
            std::vector<uint8_t> cut(base->begin(),
                                     base->begin() + static_cast<std::ptrdiff_t>(len));
            NeighbourObservation o{};
            EXPECT_FALSE(snoop_neighbour(cut.data(), cut.size(), o)) << len;
        }
    }
}

TEST(SnoopNeighbour, OtherFramesTeachNothing) {
    // IPv4 UDP, and a frame shorter than an Ethernet header.
    const auto udp = from_hex(
        "020000000002 020000000001 0800"
        "4500 0031 1234 4000 4011 9c60 c6120001 c6120002"
        "9c40 c350 001d f9f8"
        "80e0000100000a001234567868656c6c6f2d727470");
    EXPECT_FALSE(snoop(udp));
    EXPECT_FALSE(snoop(from_hex("ffffffffffff0200000000020806")));
}

// --- Requests we send --------------------------------------------------------

const uint8_t kOurMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};

TEST(BuildArpRequest, ExactBytesAndSnoopedBack) {
    const uint8_t src_ip[4] = {198, 18, 0, 10}, target_ip[4] = {198, 18, 0, 1};
    std::vector<uint8_t> buf(128, 0xee);
    ASSERT_EQ(build_arp_request(buf.data(), buf.size(), kOurMac, src_ip, target_ip), 60U);
    const auto want = from_hex(
        "ffffffffffff 02000000000a 0806"          // broadcast <- us, ARP
        "0001 0800 06 04 0001"                    // Ethernet, IPv4, 6, 4, request
        "02000000000a c612000a"                   // sender: us
        "000000000000 c6120001"                   // target: unknown MAC, 198.18.0.1
        "000000000000000000000000000000000000");  // padding to 60
    EXPECT_EQ(to_hex(buf.data(), 60), to_hex(want));
    EXPECT_EQ(buf[60], 0xee);  // nothing past the frame
    // A request we build teaches our own binding to whoever snoops it.
    NeighbourObservation o{};
    ASSERT_TRUE(snoop_neighbour(buf.data(), 60, o));
    EXPECT_EQ(o.family, 4);
    EXPECT_EQ(to_hex(o.addr, 16), "c612000a000000000000000000000000");
    EXPECT_EQ(to_hex(o.mac, 6), "02000000000a");
}

TEST(BuildArpRequest, RefusesASmallBuffer) {
    const uint8_t ip[4] = {198, 18, 0, 1};
    std::vector<uint8_t> buf(59, 0xee);
    EXPECT_EQ(build_arp_request(buf.data(), buf.size(), kOurMac, ip, ip), 0U);
    EXPECT_EQ(buf, std::vector<uint8_t>(59, 0xee));
}

TEST(BuildNeighbourSolicitation, ExactBytesAndSnoopedBack) {
    const auto src_ip = from_hex("20010db8000000000000000000000010");
    const auto target_ip = from_hex("20010db8000000000000000123456789");
    std::vector<uint8_t> buf(128, 0xee);
    ASSERT_EQ(build_neighbour_solicitation(buf.data(), buf.size(), kOurMac, src_ip.data(),
                                           target_ip.data()),
              86U);
    const auto want = from_hex(
        "3333ff456789 02000000000a 86dd"  // solicited-node MAC <- us
        "60000000 0020 3a ff"             // payload 32, ICMPv6, hop limit 255
        "20010db8000000000000000000000010 ff0200000000000000000001ff456789"
        "87 00 2975 00000000 20010db8000000000000000123456789"  // NS, target
        "01 01 02000000000a");                                  // SLLA: us
    EXPECT_EQ(to_hex(buf.data(), 86), to_hex(want));
    EXPECT_EQ(buf[86], 0xee);
    EXPECT_EQ(to_hex(buf.data(), 6), "3333ff456789");
    EXPECT_EQ(to_hex(buf.data() + kIp6 + 24, 16), "ff0200000000000000000001ff456789");
    EXPECT_TRUE(icmpv6_checksum_ok(buf.data()));
    NeighbourObservation o{};
    ASSERT_TRUE(snoop_neighbour(buf.data(), 86, o));
    EXPECT_EQ(o.family, 6);
    EXPECT_EQ(std::memcmp(o.addr, src_ip.data(), 16), 0);
    EXPECT_EQ(to_hex(o.mac, 6), "02000000000a");
}

TEST(BuildNeighbourSolicitation, ChecksumVerifiesForManyTargets) {
    std::mt19937 rng(4861);
    uint8_t src_ip[16], target_ip[16], mac[6];
    for (int i = 0; i < 1000; ++i) {
        for (auto& b : src_ip)
            b = static_cast<uint8_t>(rng());
        for (auto& b : target_ip)
            b = static_cast<uint8_t>(rng());
        for (auto& b : mac)
            b = static_cast<uint8_t>(rng());
        src_ip[0] = 0x20;
        target_ip[0] = 0xfe;
        mac[0] &= 0xfe;  // unicast
        uint8_t buf[86];
        ASSERT_EQ(build_neighbour_solicitation(buf, sizeof buf, mac, src_ip, target_ip), 86U);
        ASSERT_TRUE(icmpv6_checksum_ok(buf)) << i;
        EXPECT_EQ(std::memcmp(buf + 3, target_ip + 13, 3), 0);
        EXPECT_EQ(std::memcmp(buf + kIp6 + 24 + 13, target_ip + 13, 3), 0);
        NeighbourObservation o{};
        ASSERT_TRUE(snoop_neighbour(buf, sizeof buf, o)) << i;
        EXPECT_EQ(std::memcmp(o.addr, src_ip, 16), 0);
        EXPECT_EQ(std::memcmp(o.mac, mac, 6), 0);
    }
}

TEST(BuildNeighbourSolicitation, Refusals) {
    const auto ok = from_hex("20010db8000000000000000000000010");
    const auto unspecified = from_hex("00000000000000000000000000000000");
    const auto multicast = from_hex("ff020000000000000000000000000001");
    std::vector<uint8_t> buf(128, 0xee);
    EXPECT_EQ(build_neighbour_solicitation(buf.data(), 85, kOurMac, ok.data(), ok.data()), 0U);
    EXPECT_EQ(build_neighbour_solicitation(buf.data(), 128, kOurMac, unspecified.data(), ok.data()),
              0U);
    EXPECT_EQ(build_neighbour_solicitation(buf.data(), 128, kOurMac, multicast.data(), ok.data()),
              0U);
    EXPECT_EQ(build_neighbour_solicitation(buf.data(), 128, kOurMac, ok.data(), unspecified.data()),
              0U);
    EXPECT_EQ(build_neighbour_solicitation(buf.data(), 128, kOurMac, ok.data(), multicast.data()),
              0U);
    EXPECT_EQ(buf, std::vector<uint8_t>(128, 0xee));
}

// --- NeighbourTable ----------------------------------------------------------

NeighbourObservation v4(uint32_t ip, uint8_t mac_low) {
    NeighbourObservation o{};
    o.family = 4;
    o.addr[0] = static_cast<uint8_t>(ip >> 24);
    o.addr[1] = static_cast<uint8_t>(ip >> 16);
    o.addr[2] = static_cast<uint8_t>(ip >> 8);
    o.addr[3] = static_cast<uint8_t>(ip);
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0, mac_low};
    std::memcpy(o.mac, mac, 6);
    return o;
}

TEST(NeighbourTable, LearnFindRefresh) {
    NeighbourTable t(8);
    const NeighbourObservation a = v4(0xc6120001, 1);
    EXPECT_EQ(t.find(4, a.addr), nullptr);
    EXPECT_TRUE(t.learn(a, 100));
    ASSERT_NE(t.find(4, a.addr), nullptr);
    EXPECT_EQ(to_hex(t.find(4, a.addr), 6), "020000000001");
    EXPECT_EQ(t.updated_ns(4, a.addr), 100U);
    EXPECT_EQ(t.size(), 1U);
    // Refresh: new MAC, new time, same entry.
    EXPECT_TRUE(t.learn(v4(0xc6120001, 9), 250));
    EXPECT_EQ(to_hex(t.find(4, a.addr), 6), "020000000009");
    EXPECT_EQ(t.updated_ns(4, a.addr), 250U);
    EXPECT_EQ(t.size(), 1U);
    // Same octets as IPv6: another key.
    EXPECT_EQ(t.find(6, a.addr), nullptr);
    NeighbourObservation six = a;
    six.family = 6;
    EXPECT_TRUE(t.learn(six, 300));
    EXPECT_EQ(to_hex(t.find(6, a.addr), 6), "020000000001");
    EXPECT_EQ(to_hex(t.find(4, a.addr), 6), "020000000009");
    EXPECT_EQ(t.size(), 2U);
}

TEST(NeighbourTable, Ipv4IgnoresTheUnusedOctetsAndOtherFamiliesAreRefused) {
    NeighbourTable t(8);
    NeighbourObservation a = v4(0x0a000001, 1);
    a.addr[7] = 0x55;  // garbage past the IPv4 address
    EXPECT_TRUE(t.learn(a, 1));
    const uint8_t clean[16] = {10, 0, 0, 1};
    EXPECT_NE(t.find(4, clean), nullptr);
    EXPECT_NE(t.find(4, a.addr), nullptr);
    a.family = 5;
    EXPECT_FALSE(t.learn(a, 1));
    EXPECT_EQ(t.find(5, clean), nullptr);
    EXPECT_EQ(t.find(0, clean), nullptr);
    EXPECT_EQ(t.size(), 1U);
}

TEST(NeighbourTable, Expire) {
    NeighbourTable t(8);
    EXPECT_TRUE(t.learn(v4(1, 1), 1000));
    EXPECT_TRUE(t.learn(v4(2, 2), 2000));
    EXPECT_TRUE(t.learn(v4(3, 3), 3000));
    EXPECT_EQ(t.expire(3000, 1000), 1U);  // age 2000 > 1000; age 1000 is not stale yet
    EXPECT_EQ(t.find(4, v4(1, 1).addr), nullptr);
    EXPECT_NE(t.find(4, v4(2, 2).addr), nullptr);
    EXPECT_TRUE(t.learn(v4(2, 2), 3500));  // refreshed
    EXPECT_EQ(t.expire(4001, 1000), 1U);   // 3 is 1001 old, 2 is 501
    EXPECT_EQ(t.find(4, v4(3, 3).addr), nullptr);
    EXPECT_NE(t.find(4, v4(2, 2).addr), nullptr);
    EXPECT_EQ(t.expire(0, 0), 0U);  // updated after "now": kept
    EXPECT_EQ(t.expire(UINT64_MAX, 0), 1U);
    EXPECT_EQ(t.size(), 0U);
    EXPECT_EQ(t.expire(UINT64_MAX, 0), 0U);
}

TEST(NeighbourTable, RefusesNewAddressesWhenFull) {
    NeighbourTable t(3);
    for (uint32_t i = 0; i < 3; ++i)
        EXPECT_TRUE(t.learn(v4(i + 1, 1), 10));
    EXPECT_FALSE(t.learn(v4(99, 1), 10));
    EXPECT_EQ(t.find(4, v4(99, 1).addr), nullptr);
    EXPECT_TRUE(t.learn(v4(2, 7), 20));  // a refresh still works
    EXPECT_EQ(t.expire(20, 5), 2U);
    EXPECT_TRUE(t.learn(v4(99, 1), 30));
    EXPECT_EQ(t.size(), 2U);
    EXPECT_EQ(t.max_entries(), 3U);
    NeighbourTable none(0);
    EXPECT_FALSE(none.learn(v4(1, 1), 0));
    EXPECT_THROW(NeighbourTable((1U << 30) + 1), std::invalid_argument);
}

// Random learns, lookups and expiries in a small table (long probe runs,
// wrap-around at the end of the slot array) must always agree with a
// std::map.
TEST(NeighbourTable, AgreesWithAModelUnderChurn) {
    using Addr = std::pair<uint8_t, std::array<uint8_t, 16>>;
    struct Value {
        std::array<uint8_t, 6> mac;
        uint64_t updated;
    };
    constexpr uint32_t kMax = 64;  // 128 slots
    std::mt19937_64 rng(20261126);
    NeighbourTable t(kMax);
    std::map<Addr, Value> model;
    uint64_t now = 1;
    auto random_addr = [&] {
        Addr a{};
        const auto n = static_cast<uint32_t>(rng() % 96);
        a.first = n % 2 == 0 ? 4 : 6;
        if (a.first == 4) {
            a.second[0] = 198;
            a.second[1] = 18;
            a.second[3] = static_cast<uint8_t>(n);
        } else {
            a.second[0] = 0xfe;
            a.second[1] = 0x80;
            a.second[15] = static_cast<uint8_t>(n);
        }
        return a;
    };
    std::size_t expired = 0;
    for (int step = 0; step < 200000; ++step) {
        now += rng() % 100;
        const Addr a = random_addr();
        switch (rng() % 8) {
            case 0:
            case 1:
            case 2: {
                NeighbourObservation o{};
                o.family = a.first;
                std::memcpy(o.addr, a.second.data(), 16);
                for (auto& b : o.mac)
                    b = static_cast<uint8_t>(rng());
                const bool known = model.count(a) != 0;
                const bool ok = t.learn(o, now);
                if (known || model.size() < kMax) {
                    ASSERT_TRUE(ok) << step;
                    Value& v = model[a];
                    std::memcpy(v.mac.data(), o.mac, 6);
                    v.updated = now;
                } else {
                    ASSERT_FALSE(ok) << step;
                }
                break;
            }
            case 3: {
                const uint64_t max_age = rng() % 4000;
                std::size_t want = 0;
                for (auto it = model.begin(); it != model.end();) {
                    if (now > it->second.updated && now - it->second.updated > max_age) {
                        it = model.erase(it);
                        ++want;
                    } else {
                        ++it;
                    }
                }
                ASSERT_EQ(t.expire(now, max_age), want) << step;
                expired += want;
                break;
            }
            default: {
                const auto it = model.find(a);
                const uint8_t* mac = t.find(a.first, a.second.data());
                if (it == model.end()) {
                    ASSERT_EQ(mac, nullptr) << step;
                } else {
                    ASSERT_NE(mac, nullptr) << step;
                    ASSERT_EQ(std::memcmp(mac, it->second.mac.data(), 6), 0) << step;
                    ASSERT_EQ(t.updated_ns(a.first, a.second.data()), it->second.updated) << step;
                }
            }
        }
        ASSERT_EQ(t.size(), model.size()) << step;
    }
    EXPECT_GT(expired, 1000U);  // the churn really deleted
    // Every remaining address is still found.
    for (const auto& [a, v] : model) {
        const uint8_t* mac = t.find(a.first, a.second.data());
        ASSERT_NE(mac, nullptr);
        EXPECT_EQ(std::memcmp(mac, v.mac.data(), 6), 0);
    }
}

}  // namespace
}  // namespace isthmus::pkt
