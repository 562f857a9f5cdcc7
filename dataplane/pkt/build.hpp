// Writing Ethernet + IPv4/IPv6 + UDP headers in front of a UDP payload, as
// the relay does when it sends a packet out of the other leg: the payload
// stays where it is (SRTP works on it in place) and the headers are written
// into the headroom before it. Pure function over bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace isthmus::pkt {

// Where a packet goes on one leg: link and transport addresses.
struct UdpEgress {
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint8_t family;   // 4 or 6
    uint8_t src[16];  // network byte order; IPv4 in the first 4 octets
    uint8_t dst[16];
    uint16_t src_port;  // host byte order
    uint16_t dst_port;
    uint8_t ttl;  // IPv4 TTL / IPv6 hop limit
};

struct Frame;

// The way back to the sender of a received frame (`frame` its first octet,
// `f` what parse_frame said of it): from the address and port it was sent
// to, with `our_mac` as the link source and its link source as the
// destination; TTL 64.
UdpEgress reply_egress(const uint8_t* frame, const Frame& f, const uint8_t our_mac[6]);

// Header octets written for a family: 42 (IPv4) or 62 (IPv6).
constexpr std::size_t udp_header_room(uint8_t family) {
    return family == 6 ? 62 : 42;
}

// How the checksums of the headers written are made.
enum class Checksums : uint8_t {
    Software,     // IPv4 header and UDP checksums computed here
    NoUdpOnIpv4,  // IPv4: UDP checksum 0, "none" (RFC 768); IPv6 still computes it
    Offload,      // for a NIC with TX checksum offload (RTE_MBUF_F_TX_IP_CKSUM |
                  // RTE_MBUF_F_TX_UDP_CKSUM): IPv4 header checksum 0, the UDP
                  // field holds the folded, uncomplemented pseudo-header sum
};

// Writes the headers for `payload_len` octets starting at `payload`, in the
// `headroom` octets before it. IPv4: DF set, identification 0 (RFC 6864);
// checksums as `how` says (IPv6 always carries a UDP checksum, RFC 8200
// 8.1, computed unless offloaded). Returns the frame's first octet
// (payload - udp_header_room(family)), or nullptr when the headroom is too
// small, the family is not 4 or 6, or the datagram would not fit a 16-bit
// length.
uint8_t* write_udp_headers(uint8_t* payload, std::size_t headroom, std::size_t payload_len,
                           const UdpEgress& e, Checksums how = Checksums::Software);

}  // namespace isthmus::pkt
