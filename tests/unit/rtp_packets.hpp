// Octet-by-octet builders for RTP and RTCP test packets (RFC 3550 5.1, 6.4.1):
// the fixed headers and RTP padding; what goes between them is the caller's.
#pragma once

#include <cstdint>
#include <vector>

namespace isthmus::test {

inline void push_be16(std::vector<uint8_t>& b, uint32_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
inline void push_be32(std::vector<uint8_t>& b, uint32_t v) {
    push_be16(b, v >> 16);
    push_be16(b, v & 0xffffU);
}

// The 12-octet fixed RTP header, version 2 (RFC 3550 5.1).
struct RtpFixedHeader {
    bool padding = false;    // P: the packet ends in padding (append_rtp_padding)
    bool extension = false;  // X: a header extension follows the CSRCs
    uint32_t cc = 0;         // CSRC count, 0..15; the CSRCs are the caller's
    bool marker = false;
    uint32_t payload_type = 0;  // 0..127
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
};

inline void append_rtp_fixed_header(std::vector<uint8_t>& b, const RtpFixedHeader& h) {
    b.push_back(
        static_cast<uint8_t>(0x80U | (h.padding ? 0x20U : 0U) | (h.extension ? 0x10U : 0U) | h.cc));
    b.push_back(static_cast<uint8_t>((h.marker ? 0x80U : 0U) | h.payload_type));
    push_be16(b, h.seq);
    push_be32(b, h.timestamp);
    push_be32(b, h.ssrc);
}

// RTP padding of `n` octets (RFC 3550 5.1): n - 1 zeros, then the count;
// nothing when n is 0.
inline void append_rtp_padding(std::vector<uint8_t>& b, uint32_t n) {
    if (n == 0) return;
    b.insert(b.end(), n - 1, 0);
    b.push_back(static_cast<uint8_t>(n));
}

// The first word of an RTCP packet (RFC 3550 6.4.1): version 2, no padding,
// a 5-bit count, the packet type and the length in words minus one.
inline void append_rtcp_common_header(std::vector<uint8_t>& b, uint32_t count, uint32_t type,
                                      uint32_t length_words) {
    b.push_back(static_cast<uint8_t>(0x80U | count));
    b.push_back(static_cast<uint8_t>(type));
    push_be16(b, length_words);
}

}  // namespace isthmus::test
