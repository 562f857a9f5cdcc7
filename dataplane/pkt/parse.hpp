// Ethernet / IPv4 / IPv6 / UDP parsing of one received frame: where the UDP
// payload is, the 5-tuple, and whether the frame is media for a flow (Udp),
// belongs to the kernel (Exception: ARP, ICMP, ND, TCP, anything not UDP), or
// is dropped with a reason. Pure function over bytes; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pkt/drop.hpp"

namespace isthmus::pkt {

enum class Verdict : uint8_t {
    Udp,        // IPv4/IPv6 UDP datagram, headers valid: look up its flow
    Exception,  // for the kernel (TAP exception port): ARP, ICMP/ICMPv6, TCP, VLAN, ...
    Drop,       // malformed or refused: Frame::drop says why
};

struct Frame {
    uint8_t ip_version = 0;  // 4 or 6
    Drop drop = Drop::None;
    uint16_t l3_offset = 0;       // IP header
    uint16_t l4_offset = 0;       // UDP header
    uint16_t payload_offset = 0;  // UDP payload
    uint16_t payload_len = 0;
    uint16_t src_port = 0;  // host byte order
    uint16_t dst_port = 0;
    uint8_t src[16] = {};  // network byte order; IPv4 in the first 4 octets
    uint8_t dst[16] = {};
};

struct ParseOptions {
    // Skip checksum verification (set when the NIC verified them and said
    // so in the mbuf's offload flags).
    bool ip_checksum_verified = false;
    bool udp_checksum_verified = false;
};

// Parses an Ethernet II frame of `len` octets. On Verdict::Udp every field of
// `out` is set; on Drop, out.drop names the reason; on Exception nothing
// else is promised.
Verdict parse_frame(const uint8_t* p, std::size_t len, Frame& out, ParseOptions opt = {});

// The UDP destination port of an unfragmented IPv4/IPv6 UDP frame, or -1
// (not UDP, a fragment, too short to tell). Checks nothing else: it only
// steers a frame to the worker that owns the port, whose parse_frame()
// then validates it. Pure; reads at most the first 14 + 60 + 4 octets.
int peek_udp_dst_port(const uint8_t* p, std::size_t len);

// RFC 1071 one's-complement sum of `len` octets (as 16-bit big-endian words,
// an odd last octet padded with zero) added to `sum`; the result is congruent
// to it modulo 0xffff, not necessarily folded: give it to fold_checksum.
uint32_t ones_complement_add(const uint8_t* p, std::size_t len, uint32_t sum);
// Folds a sum to 16 bits and complements it: the checksum field value.
uint16_t fold_checksum(uint32_t sum);

}  // namespace isthmus::pkt
