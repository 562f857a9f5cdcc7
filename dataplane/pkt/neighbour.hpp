// Next-hop neighbour learning and resolution: which IP -> MAC bindings a
// received frame teaches (ARP, IPv6 Neighbor Discovery), and the requests the
// relay sends when it has none for a next hop (ARP request, Neighbor
// Solicitation). Pure functions over bytes; no allocation, no state.
#pragma once

#include <cstddef>
#include <cstdint>

namespace isthmus::pkt {

// One IP -> MAC binding seen on the wire.
struct NeighbourObservation {
    uint8_t family;    // 4 or 6
    uint8_t addr[16];  // network byte order; IPv4 in the first 4 octets, rest zero
    uint8_t mac[6];
};

// Looks at a whole Ethernet II frame of `len` octets (no VLAN tag) and
// returns true, with every field of `out` set, when it teaches a binding:
//   - ARP request or reply over Ethernet/IPv4 (RFC 826: htype 1, ptype
//     0x0800, hlen 6, plen 4, opcode 1 or 2): sender IP -> sender MAC;
//   - ICMPv6 Neighbor Solicitation (RFC 4861 4.3) carrying a Source
//     Link-Layer Address option: IPv6 source -> that MAC;
//   - ICMPv6 Neighbor Advertisement (RFC 4861 4.4) carrying a Target
//     Link-Layer Address option: target address -> that MAC.
// Returns false, leaving `out` untouched, for every other frame and when:
//   - the frame is shorter than its headers, or a length field points past
//     `len` (nothing beyond `len` is ever read);
//   - ARP: another hardware/protocol type or length, another opcode, sender
//     IP 0.0.0.0 (an RFC 5227 probe) or 224.0.0.0 and above (multicast,
//     class E, 255.255.255.255: never a host's);
//   - ND: not IPv6 with next header 58 right after the fixed header; hop
//     limit not 255, ICMP code not 0, ICMPv6 checksum wrong, ICMP length
//     under 24, the target multicast, an NA to a multicast destination with
//     the Solicited flag set, an option of length 0 or running past
//     the ICMP message (RFC 4861 7.1.1, 7.1.2); an NS from :: (DAD) or
//     from a multicast source; no link-layer address option of the right
//     kind (Source for an NS, Target for an NA);
//   - the MAC to learn is multicast/broadcast or all zero.
// When several link-layer address options of the right kind are present,
// the first wins.
bool snoop_neighbour(const uint8_t* frame, std::size_t len, NeighbourObservation& out);

// Length of the frames below (no FCS).
inline constexpr std::size_t kArpRequestLen = 60;  // 42 octets padded to the Ethernet minimum
inline constexpr std::size_t kNeighbourSolicitationLen = 86;  // 14 + 40 + 24 + 8 (SLLA)

// Writes a broadcast ARP request (RFC 826) from src_ip/src_mac asking for
// target_ip: Ethernet ff:ff:ff:ff:ff:ff <- src_mac, target hardware address
// zero, zero padding from octet 42 to 60. Returns kArpRequestLen, or 0 when
// `cap` is smaller than that (nothing written).
std::size_t build_arp_request(uint8_t* out, std::size_t cap, const uint8_t src_mac[6],
                              const uint8_t src_ip[4], const uint8_t target_ip[4]);

// Writes an RFC 4861 4.3 Neighbor Solicitation for target_ip from src_ip:
// IPv6 destination the target's solicited-node multicast address
// ff02::1:ffXX:XXXX (RFC 4291 2.7.1), Ethernet destination
// 33:33:ff:XX:XX:XX (RFC 2464 7), hop limit 255, a Source Link-Layer
// Address option with src_mac, ICMPv6 checksum set. Returns
// kNeighbourSolicitationLen, or 0 (nothing written) when `cap` is smaller,
// when src_ip is :: or multicast (an NS from :: is DAD and must not carry
// the option), or when target_ip is :: or multicast.
std::size_t build_neighbour_solicitation(uint8_t* out, std::size_t cap, const uint8_t src_mac[6],
                                         const uint8_t src_ip[16], const uint8_t target_ip[16]);

}  // namespace isthmus::pkt
