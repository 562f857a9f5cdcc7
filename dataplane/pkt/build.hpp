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

// Header octets written for a family: 42 (IPv4) or 62 (IPv6).
constexpr std::size_t udp_header_room(uint8_t family) {
    return family == 6 ? 62 : 42;
}

// Writes the headers for `payload_len` octets starting at `payload`, in the
// `headroom` octets before it. IPv4: DF set, identification 0 (RFC 6864),
// header checksum; UDP checksum computed (IPv6 requires it, RFC 8200 8.1;
// on IPv4 with_udp_checksum=false leaves 0, meaning none). Returns the
// frame's first octet (payload - udp_header_room(family)), or nullptr when
// the headroom is too small, the family is not 4 or 6, or the datagram would
// not fit a 16-bit length.
uint8_t* write_udp_headers(uint8_t* payload, std::size_t headroom, std::size_t payload_len,
                           const UdpEgress& e, bool with_udp_checksum = true);

}  // namespace isthmus::pkt
