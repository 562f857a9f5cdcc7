#include "pkt/neighbour.hpp"

#include <cstring>

#include "pkt/parse.hpp"

namespace isthmus::pkt {

namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kArpBody = 28;  // Ethernet/IPv4 ARP
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kNdHeader = 24;  // type, code, checksum, 4 octets, target
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kNeighborSolicitation = 135;
constexpr uint8_t kNeighborAdvertisement = 136;
constexpr uint8_t kOptSourceLla = 1;  // RFC 4861 4.6.1
constexpr uint8_t kOptTargetLla = 2;
constexpr uint8_t kNdHopLimit = 255;  // RFC 4861 7.1.1: not forwarded by a router

inline uint16_t be16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

inline void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

// A MAC worth learning: unicast (I/G bit clear, RFC 7042 2.1) and not zero.
inline bool unicast_mac(const uint8_t* m) {
    return (m[0] & 1U) == 0 && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) != 0;
}

inline bool ipv6_unspecified(const uint8_t* a) {
    static constexpr uint8_t kZero[16] = {};
    return std::memcmp(a, kZero, 16) == 0;
}

inline bool ipv6_multicast(const uint8_t* a) {
    return a[0] == 0xff;  // RFC 4291 2.7
}

bool snoop_arp(const uint8_t* p, std::size_t len, NeighbourObservation& out) {
    if (len < kEthHeader + kArpBody) return false;
    const uint8_t* arp = p + kEthHeader;
    // RFC 826: hardware Ethernet (1), protocol IPv4, 6- and 4-octet addresses.
    if (be16(arp) != 1 || be16(arp + 2) != kEtherIpv4 || arp[4] != 6 || arp[5] != 4) return false;
    const uint16_t op = be16(arp + 6);
    if (op != 1 && op != 2) return false;  // request, reply
    const uint8_t* sha = arp + 8;
    const uint8_t* spa = arp + 14;
    // RFC 5227 2.1.1: a probe's sender IP is 0.0.0.0; multicast and the
    // limited broadcast address are never a host's.
    if ((spa[0] | spa[1] | spa[2] | spa[3]) == 0 || spa[0] >= 224) return false;
    if (!unicast_mac(sha)) return false;
    out.family = 4;
    std::memset(out.addr, 0, sizeof out.addr);
    std::memcpy(out.addr, spa, 4);
    std::memcpy(out.mac, sha, 6);
    return true;
}

// Walks the ND options in [opt, end) (RFC 4861 4.6): every option must have a
// non-zero length and end inside the message. Sets *lla to the first option
// of type `want` (nullptr when none). Returns false when malformed.
bool walk_nd_options(const uint8_t* opt, const uint8_t* end, uint8_t want, const uint8_t** lla) {
    *lla = nullptr;
    while (opt < end) {
        if (end - opt < 2) return false;
        const std::size_t opt_len = std::size_t{opt[1]} * 8;
        if (opt_len == 0) return false;  // RFC 4861 4.6: length 0 is invalid
        if (opt_len > static_cast<std::size_t>(end - opt)) return false;
        // RFC 4861 4.6.1: type, length, then the MAC; a non-zero length is at
        // least 8 octets, so the 6 octets of an Ethernet address are inside.
        if (opt[0] == want && *lla == nullptr) *lla = opt + 2;
        opt += opt_len;
    }
    return true;
}

bool snoop_nd(const uint8_t* p, std::size_t len, NeighbourObservation& out) {
    if (len < kEthHeader + kIpv6Header) return false;
    const uint8_t* ip = p + kEthHeader;
    if ((ip[0] >> 4) != 6) return false;
    const std::size_t icmp_len = be16(ip + 4);
    if (icmp_len > len - kEthHeader - kIpv6Header) return false;
    if (ip[6] != kProtoIcmpv6 || ip[7] != kNdHopLimit) return false;
    if (icmp_len < kNdHeader) return false;
    const uint8_t* icmp = ip + kIpv6Header;
    const uint8_t type = icmp[0];
    if (type != kNeighborSolicitation && type != kNeighborAdvertisement) return false;
    if (icmp[1] != 0) return false;  // RFC 4861 7.1.1, 7.1.2: code 0
    const uint8_t* src = ip + 8;
    const uint8_t* target = icmp + 8;
    if (ipv6_multicast(target)) return false;  // RFC 4861 7.1.1, 7.1.2
    // RFC 4861 7.1.2: an NA to a multicast destination has Solicited clear.
    if (type == kNeighborAdvertisement && ipv6_multicast(ip + 24) && (icmp[4] & 0x40U) != 0) {
        return false;
    }
    // RFC 4443 2.3: the checksum covers the RFC 8200 8.1 pseudo-header
    // (addresses, upper-layer length, next header) and the whole message.
    uint32_t sum = ones_complement_add(ip + 8, 32, 0);
    sum += static_cast<uint32_t>(icmp_len) + kProtoIcmpv6;
    sum = ones_complement_add(icmp, icmp_len, sum);
    if (fold_checksum(sum) != 0) return false;

    const uint8_t want = type == kNeighborSolicitation ? kOptSourceLla : kOptTargetLla;
    const uint8_t* lla = nullptr;
    if (!walk_nd_options(icmp + kNdHeader, icmp + icmp_len, want, &lla)) return false;
    if (lla == nullptr || !unicast_mac(lla)) return false;
    const uint8_t* learned = target;
    if (type == kNeighborSolicitation) {
        // RFC 4861 7.2.3: an NS from :: is DAD and teaches nothing.
        if (ipv6_unspecified(src) || ipv6_multicast(src)) return false;
        learned = src;
    }
    out.family = 6;
    std::memcpy(out.addr, learned, 16);
    std::memcpy(out.mac, lla, 6);
    return true;
}

}  // namespace

bool snoop_neighbour(const uint8_t* frame, std::size_t len, NeighbourObservation& out) {
    if (len < kEthHeader) return false;
    const uint16_t ethertype = be16(frame + 12);
    if (ethertype == kEtherArp) return snoop_arp(frame, len, out);
    if (ethertype == kEtherIpv6) return snoop_nd(frame, len, out);
    return false;
}

std::size_t build_arp_request(uint8_t* out, std::size_t cap, const uint8_t src_mac[6],
                              const uint8_t src_ip[4], const uint8_t target_ip[4]) {
    if (cap < kArpRequestLen) return 0;
    std::memset(out, 0xff, 6);  // broadcast
    std::memcpy(out + 6, src_mac, 6);
    put16(out + 12, kEtherArp);
    uint8_t* arp = out + kEthHeader;
    put16(arp, 1);  // RFC 826: hardware type Ethernet
    put16(arp + 2, kEtherIpv4);
    arp[4] = 6;
    arp[5] = 4;
    put16(arp + 6, 1);  // request
    std::memcpy(arp + 8, src_mac, 6);
    std::memcpy(arp + 14, src_ip, 4);
    std::memset(arp + 18, 0, 6);  // target hardware address: unknown
    std::memcpy(arp + 24, target_ip, 4);
    std::memset(out + kEthHeader + kArpBody, 0, kArpRequestLen - kEthHeader - kArpBody);
    return kArpRequestLen;
}

std::size_t build_neighbour_solicitation(uint8_t* out, std::size_t cap, const uint8_t src_mac[6],
                                         const uint8_t src_ip[16], const uint8_t target_ip[16]) {
    if (cap < kNeighbourSolicitationLen) return 0;
    if (ipv6_unspecified(src_ip) || ipv6_multicast(src_ip)) return 0;
    if (ipv6_unspecified(target_ip) || ipv6_multicast(target_ip)) return 0;

    // RFC 4291 2.7.1: solicited-node address ff02::1:ff00:0/104 + the
    // target's low 24 bits; RFC 2464 7: MAC 33:33 + the low 32 bits.
    uint8_t dst_ip[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    std::memcpy(dst_ip + 13, target_ip + 13, 3);
    out[0] = 0x33;
    out[1] = 0x33;
    std::memcpy(out + 2, dst_ip + 12, 4);
    std::memcpy(out + 6, src_mac, 6);
    put16(out + 12, kEtherIpv6);

    constexpr std::size_t icmp_len = kNeighbourSolicitationLen - kEthHeader - kIpv6Header;
    uint8_t* ip = out + kEthHeader;
    put16(ip, 0x6000);  // version 6, traffic class 0, flow label 0
    put16(ip + 2, 0);
    put16(ip + 4, static_cast<uint16_t>(icmp_len));
    ip[6] = kProtoIcmpv6;
    ip[7] = kNdHopLimit;
    std::memcpy(ip + 8, src_ip, 16);
    std::memcpy(ip + 24, dst_ip, 16);

    uint8_t* icmp = ip + kIpv6Header;
    icmp[0] = kNeighborSolicitation;
    icmp[1] = 0;
    put16(icmp + 2, 0);
    std::memset(icmp + 4, 0, 4);  // reserved
    std::memcpy(icmp + 8, target_ip, 16);
    uint8_t* opt = icmp + kNdHeader;
    opt[0] = kOptSourceLla;
    opt[1] = 1;  // 8 octets
    std::memcpy(opt + 2, src_mac, 6);

    uint32_t sum = ones_complement_add(ip + 8, 32, 0);
    sum += static_cast<uint32_t>(icmp_len) + kProtoIcmpv6;
    sum = ones_complement_add(icmp, icmp_len, sum);
    put16(icmp + 2, fold_checksum(sum));
    return kNeighbourSolicitationLen;
}

}  // namespace isthmus::pkt
