// RFC 7983 demultiplexing of the packets that share one 5-tuple (ICE, DTLS,
// SRTP, SRTCP), by their first octet, with RFC 5761 4 telling RTCP from RTP
// by the second. Pure; one branch table, no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace isthmus::pkt {

enum class Demux : uint8_t {
    Stun,         // 0..3      -> ICE-lite responder / consent
    Zrtp,         // 16..19    (not used by WebRTC: dropped and counted)
    Dtls,         // 20..63    -> slow path (handshake, SCTP)
    TurnChannel,  // 64..79    (no TURN here: dropped and counted)
    Rtp,          // 128..191, second octet (PT with marker) not 192..223
    Rtcp,         // 128..191, second octet 192..223 (RFC 5761 4)
    Unknown,      // anything else: RFC 7983 7 says drop
};

constexpr std::string_view demux_name(Demux d) {
    switch (d) {
        case Demux::Stun:
            return "stun";
        case Demux::Zrtp:
            return "zrtp";
        case Demux::Dtls:
            return "dtls";
        case Demux::TurnChannel:
            return "turn_channel";
        case Demux::Rtp:
            return "rtp";
        case Demux::Rtcp:
            return "rtcp";
        case Demux::Unknown:
            return "unknown";
    }
    return "?";
}

// Classifies a UDP payload of `len` octets (len 0 -> Unknown; RTP/RTCP need
// two octets to be told apart, one octet in 128..191 -> Unknown).
constexpr Demux classify(const uint8_t* p, std::size_t len) {
    if (len == 0) return Demux::Unknown;
    const uint8_t b = p[0];
    if (b <= 3) return Demux::Stun;
    if (b >= 16 && b <= 19) return Demux::Zrtp;
    if (b >= 20 && b <= 63) return Demux::Dtls;
    if (b >= 64 && b <= 79) return Demux::TurnChannel;
    if (b >= 128 && b <= 191) {
        if (len < 2) return Demux::Unknown;
        return (p[1] >= 192 && p[1] <= 223) ? Demux::Rtcp : Demux::Rtp;
    }
    return Demux::Unknown;
}

}  // namespace isthmus::pkt
