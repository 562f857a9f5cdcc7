// Minimal RTP/RTCP header reading for SRTP: where the payload starts and the
// SSRC/sequence number. Pure functions over bytes (RFC 3550 5.1, 6.4).
#pragma once

#include <cstddef>
#include <cstdint>

#include "srtp/status.hpp"

namespace isthmus::srtp {

inline uint16_t load_be16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline void store_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

struct RtpHeaderInfo {
    uint32_t header_len;  // fixed header + CSRCs + header extension (RFC 3550 5.3.1)
    uint32_t ssrc;
    uint16_t seq;
};

// Reads the RTP header of a packet of `len` octets of which the last
// `trailer` (SRTP tag) are not RTP. Ok, TooShort, BadVersion or BadHeader.
inline Status parse_rtp_header(const uint8_t* p, std::size_t len, std::size_t trailer,
                               RtpHeaderInfo& out) {
    if (len < 12 + trailer) return Status::TooShort;
    if ((p[0] >> 6) != 2) return Status::BadVersion;
    const std::size_t body = len - trailer;
    std::size_t hlen = 12 + 4 * std::size_t{p[0] & 0x0fU};
    if ((p[0] & 0x10U) != 0) {  // X: 4-octet extension header + length words
        if (hlen + 4 > body) return Status::BadHeader;
        hlen += 4 + 4 * std::size_t{load_be16(p + hlen + 2)};
    }
    if (hlen > body) return Status::BadHeader;
    out.header_len = static_cast<uint32_t>(hlen);
    out.ssrc = load_be32(p + 8);
    out.seq = load_be16(p + 2);
    return Status::Ok;
}

// RTCP: version check and the sender SSRC (octets 4-7 of the first packet of
// a compound). `trailer` as above (SRTCP index + tag).
inline Status parse_rtcp_header(const uint8_t* p, std::size_t len, std::size_t trailer,
                                uint32_t& ssrc) {
    if (len < 8 + trailer) return Status::TooShort;
    if ((p[0] >> 6) != 2) return Status::BadVersion;
    ssrc = load_be32(p + 4);
    return Status::Ok;
}

}  // namespace isthmus::srtp
