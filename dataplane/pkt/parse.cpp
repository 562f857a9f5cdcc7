#include "pkt/parse.hpp"

#include <bit>
#include <cstring>

namespace isthmus::pkt {

namespace {

constexpr std::size_t kEthHeader = 14;
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kIpv6Fragment = 44;

inline uint16_t be16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

inline Verdict drop(Frame& f, Drop why) {
    f.drop = why;
    return Verdict::Drop;
}

// The UDP header at l4 with `avail` octets of IP payload; the pseudo-header
// sum `pseudo` already holds addresses, protocol and length.
Verdict parse_udp(const uint8_t* p, std::size_t l4, std::size_t avail, bool v6, uint32_t pseudo,
                  const ParseOptions& opt, Frame& f) {
    if (avail < 8) return drop(f, Drop::BadUdpLength);
    const uint16_t udp_len = be16(p + l4 + 4);
    // RFC 768: the UDP length covers header and data; it may be shorter than
    // the IP payload (padding), never longer.
    if (udp_len < 8 || udp_len > avail) return drop(f, Drop::BadUdpLength);
    const uint16_t cksum = be16(p + l4 + 6);
    if (cksum == 0) {
        if (v6) return drop(f, Drop::BadUdpChecksum);  // RFC 8200 8.1: mandatory on IPv6
    } else if (!opt.udp_checksum_verified) {
        uint32_t sum = pseudo + udp_len;  // pseudo-header length field
        sum = ones_complement_add(p + l4, udp_len, sum);
        if (fold_checksum(sum) != 0) return drop(f, Drop::BadUdpChecksum);
    }
    f.l4_offset = static_cast<uint16_t>(l4);
    f.src_port = be16(p + l4);
    f.dst_port = be16(p + l4 + 2);
    f.payload_offset = static_cast<uint16_t>(l4 + 8);
    f.payload_len = static_cast<uint16_t>(udp_len - 8);
    return Verdict::Udp;
}

Verdict parse_ipv4(const uint8_t* p, std::size_t len, const ParseOptions& opt, Frame& f) {
    const std::size_t l3 = kEthHeader;
    if (len < l3 + 20) return drop(f, Drop::TooShort);
    const uint8_t* ip = p + l3;
    if ((ip[0] >> 4) != 4) return drop(f, Drop::BadIpHeader);
    const std::size_t ihl = std::size_t{ip[0] & 0x0fU} * 4;
    const uint16_t total = be16(ip + 2);
    if (ihl < 20 || total < ihl || l3 + total > len) return drop(f, Drop::BadIpHeader);
    if (!opt.ip_checksum_verified && fold_checksum(ones_complement_add(ip, ihl, 0)) != 0) {
        return drop(f, Drop::BadIpChecksum);
    }
    const uint16_t frag = be16(ip + 6);
    if ((frag & 0x3fffU) != 0) return drop(f, Drop::IpFragment);  // MF set or offset != 0
    if (ip[9] != kProtoUdp) return Verdict::Exception;            // ICMP, TCP (MSRP), ...
    // Source must be a unicast host address (RFC 1122 3.2.1.3).
    if (ip[12] == 0 || ip[12] >= 224) return drop(f, Drop::BadAddress);
    f.ip_version = 4;
    f.l3_offset = static_cast<uint16_t>(l3);
    std::memset(f.src, 0, sizeof f.src);
    std::memset(f.dst, 0, sizeof f.dst);
    std::memcpy(f.src, ip + 12, 4);
    std::memcpy(f.dst, ip + 16, 4);
    uint32_t pseudo = ones_complement_add(ip + 12, 8, 0) + kProtoUdp;
    return parse_udp(p, l3 + ihl, total - ihl, false, pseudo, opt, f);
}

Verdict parse_ipv6(const uint8_t* p, std::size_t len, const ParseOptions& opt, Frame& f) {
    const std::size_t l3 = kEthHeader;
    if (len < l3 + 40) return drop(f, Drop::TooShort);
    const uint8_t* ip = p + l3;
    if ((ip[0] >> 4) != 6) return drop(f, Drop::BadIpHeader);
    const uint16_t payload = be16(ip + 4);
    if (l3 + 40 + payload > len) return drop(f, Drop::BadIpHeader);
    const uint8_t next = ip[6];
    if (next == kIpv6Fragment) return drop(f, Drop::IpFragment);
    // ICMPv6 (ND), TCP, extension headers: the kernel's.
    if (next != kProtoUdp) return Verdict::Exception;
    // Source must not be multicast (ff00::/8) or unspecified (RFC 4291 2.5.2, 2.7).
    static constexpr uint8_t kZero[16] = {};
    if (ip[8] == 0xff || std::memcmp(ip + 8, kZero, 16) == 0) return drop(f, Drop::BadAddress);
    f.ip_version = 6;
    f.l3_offset = static_cast<uint16_t>(l3);
    std::memcpy(f.src, ip + 8, 16);
    std::memcpy(f.dst, ip + 24, 16);
    uint32_t pseudo = ones_complement_add(ip + 8, 32, 0) + kProtoUdp;
    return parse_udp(p, l3 + 40, payload, true, pseudo, opt, f);
}

}  // namespace

uint32_t ones_complement_add(const uint8_t* p, std::size_t len, uint32_t sum) {
    // RFC 1071 1(B)/(C): the one's-complement sum is independent of byte
    // order and can be taken over wider words and folded: native loads,
    // folded to 16 bits and swapped into network order at the end. 16
    // octets per step instead of 2 (the relay sums every datagram it
    // receives and sends: bench/relay_bench).
    // 32-bit halves summed into two 64-bit accumulators: no carry to
    // propagate inside the loop (2^32 words would be needed to overflow).
    uint64_t a0 = 0, a1 = 0;
    std::size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        uint64_t w0, w1;
        std::memcpy(&w0, p + i, 8);
        std::memcpy(&w1, p + i + 8, 8);
        a0 += (w0 & 0xffffffffU) + (w0 >> 32);
        a1 += (w1 & 0xffffffffU) + (w1 >> 32);
    }
    if (i + 8 <= len) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        a0 += (w & 0xffffffffU) + (w >> 32);
        i += 8;
    }
    if (i < len) {
        // The tail, zero padded in place: octet k keeps its position k % 8.
        uint64_t w = 0;
        std::memcpy(&w, p + i, len - i);
        a1 += (w & 0xffffffffU) + (w >> 32);
    }
    uint64_t acc = a0 + a1;  // < 2^63: no overflow
    // Fold 64 -> 16 bits (native order), then to network order.
    acc = (acc & 0xffffffffU) + (acc >> 32);
    acc = (acc & 0xffffffffU) + (acc >> 32);
    uint32_t x = static_cast<uint32_t>(acc);
    x = (x & 0xffffU) + (x >> 16);
    x = (x & 0xffffU) + (x >> 16);
    static_assert(std::endian::native == std::endian::little, "x86-64");
    const uint32_t be = ((x & 0xffU) << 8) | (x >> 8);
    uint64_t s = uint64_t{sum} + be;
    s = (s & 0xffffffffU) + (s >> 32);
    return static_cast<uint32_t>(s);
}

uint16_t fold_checksum(uint32_t sum) {
    while ((sum >> 16) != 0)
        sum = (sum & 0xffffU) + (sum >> 16);
    return static_cast<uint16_t>(~sum & 0xffffU);
}

int peek_udp_dst_port(const uint8_t* p, std::size_t len) {
    if (len < kEthHeader + 20) return -1;
    const uint16_t ethertype = be16(p + 12);
    const uint8_t* ip = p + kEthHeader;
    std::size_t l4 = 0;
    if (ethertype == kEtherIpv4) {
        if ((be16(ip + 6) & 0x3fffU) != 0 || ip[9] != kProtoUdp) return -1;
        l4 = kEthHeader + std::size_t{ip[0] & 0x0fU} * 4;
    } else if (ethertype == kEtherIpv6) {
        if (ip[6] != kProtoUdp) return -1;
        l4 = kEthHeader + 40;
    } else {
        return -1;
    }
    if (len < l4 + 4) return -1;
    return be16(p + l4 + 2);
}

Verdict parse_frame(const uint8_t* p, std::size_t len, Frame& out, ParseOptions opt) {
    out.drop = Drop::None;
    if (len < kEthHeader) return drop(out, Drop::TooShort);
    const uint16_t ethertype = be16(p + 12);
    if (ethertype == kEtherIpv4) return parse_ipv4(p, len, opt, out);
    if (ethertype == kEtherIpv6) return parse_ipv6(p, len, opt, out);
    return Verdict::Exception;  // ARP, VLAN-tagged, LLDP, ...: the kernel decides
}

}  // namespace isthmus::pkt
