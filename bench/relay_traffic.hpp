// relay_bench's sessions and the frames their peers send: session i's
// addresses, its SessionCreate command and next hops, and the Ethernet
// frame the browser (SRTP) or the IMS peer (RTP) sends it in a given round.
//
// Session i (i < 2^24), as a gateway with a few addresses and many ports
// would have them (25,000 sessions per local address):
//   access leg  local 198.18.<k>:p (rtcp-mux, SDES AES_CM_128_HMAC_SHA1_80
//               both ways), remote (browser) 100.<64+i[21:16]>.<i[15:8]>.<i[7:0]>:40000
//   core leg    local 198.19.<k>:p / p+1 (plain RTP, separate RTCP port),
//               remote (IMS) 10.<i[23:16]>.<i[15:8]>.<i[7:0]>:6000 / 6001
// with k = i / 25000 + 1 and p = 10000 + 2 * (i % 25000). Every session has
// its own SSRCs (0x10000000 + i browser -> gateway, 0x20000000 + i IMS ->
// gateway) and its own SRTP contexts in the table; all access legs use the
// same master keys, which changes no cost (keys are expanded per context at
// create) and lets one sending context make every browser packet.
//
// Packets are 172-octet RTP (12-octet header + 160 octets: G.711, 20 ms)
// before protection; round r of a session carries SRTP index 1000 + r, so
// every round is new to the replay windows and the ROC rolls over every
// 65,536 rounds as in a long call.
//
// What the calls carry can be changed once per process (TrafficProfile:
// capacity-rings --suite and --codec): the access legs' suite and the RTP
// packet's size, payload type and clock; the default is the above.
//
// Bench code: setup may allocate; the frame writer runs outside the timed
// section. Not thread-safe (one Traffic per thread).
#pragma once

#include <cstdint>
#include <string>

#include "isthmus/dpif/messages.hpp"
#include "session/session_table.hpp"
#include "srtp/context.hpp"
#include "srtp/engine.hpp"
#include "srtp/suite.hpp"

namespace isthmus::bench {

enum class Direction : uint8_t {
    SrtpToRtp,  // browser -> access port (SRTP) -> core port (RTP)
    RtpToSrtp,  // IMS -> core port (RTP) -> access port (SRTP)
};
constexpr const char* direction_name(Direction d) {
    return d == Direction::SrtpToRtp ? "srtp_to_rtp" : "rtp_to_srtp";
}
// The port a direction's frames arrive on.
constexpr session::Side arrival_side(Direction d) {
    return d == Direction::SrtpToRtp ? session::Side::Access : session::Side::Core;
}

inline constexpr uint32_t kRtpSize = 172;    // RTP packet before protection
inline constexpr uint32_t kTagLen = 10;      // AES_CM_128_HMAC_SHA1_80 SRTP tag
inline constexpr uint32_t kHeaderRoom = 42;  // Ethernet + IPv4 + UDP
inline constexpr uint64_t kFirstIndex = 1000;

// The link addresses of the two next hops (one router per side).
inline constexpr uint8_t kBrowserRouterMac[6] = {0x02, 0, 0, 0, 0xb0, 0x01};
inline constexpr uint8_t kImsRouterMac[6] = {0x02, 0, 0, 0, 0x1a, 0x01};

struct TrafficProfile {
    srtp::Suite suite = srtp::Suite::AesCm128HmacSha1_80;  // the access legs', both ways
    uint32_t rtp_size = kRtpSize;                          // octets before protection, 12..kRtpSize
    uint8_t payload_type = 0;       // 0 PCMU (G.711), 111 Opus as browsers number it
    uint32_t timestamp_step = 160;  // RTP clock per 20 ms: 160 at 8 kHz, 960 at 48 kHz
};
// G.711 (the default) or Opus at 32 kb/s: 80 octets per 20 ms, 92 with the
// RTP header. Returns false for another name.
bool codec_profile(const std::string& name, TrafficProfile& p);
// Set once, before any session command or FrameWriter is made.
void set_traffic_profile(const TrafficProfile& p);
const TrafficProfile& traffic_profile();

// The SessionCreate command of session i (id i + 1).
// police_kbps: both legs policed at that rate (0: not policed).
dpif::Command create_command(uint32_t i, uint32_t police_kbps = 0);
// The SDES keys of packets the gateway receives on access legs.
dpif::SrtpKeys access_rx_keys();
uint32_t browser_ssrc(uint32_t i);
uint32_t ims_ssrc(uint32_t i);

class FrameWriter {
  public:
    // gateway_mac[side]: the gateway port's MAC on that side. Throws
    // std::runtime_error when the sending context cannot be set up.
    FrameWriter(const uint8_t access_mac[6], const uint8_t core_mac[6]);

    // Writes the frame session i's peer sends in round `round` at `frame`
    // (`room` octets writable; kHeaderRoom + kRtpSize + 16 suffice).
    // Returns its length, or 0 when it could not be made (room, protect).
    uint32_t write(Direction d, uint32_t i, uint64_t round, uint8_t* frame, uint32_t room);

    // Checks a frame the relay sent for that packet: addressed to the
    // other leg's remote from the gateway's port, and its payload the
    // original RTP packet (SRTP -> RTP) or that packet protected with the
    // access leg's sending keys (RTP -> SRTP, decrypted here). Returns ""
    // when it is, otherwise what is wrong.
    std::string check(Direction d, uint32_t i, uint64_t round, const uint8_t* frame, uint32_t len);

  private:
    uint8_t mac_[2][6];
    srtp::Engine engine_;
    srtp::Context browser_;     // protects every browser's packets (one stream at a time)
    srtp::Context browser_rx_;  // unprotects what the gateway sends browsers (check only)
};

// The RTP payload octet at offset k of session i's packet of round r (to
// check what the relay decrypted).
inline uint8_t payload_octet(uint32_t i, uint64_t r, uint32_t k) {
    return static_cast<uint8_t>(i * 31U + static_cast<uint32_t>(r) * 7U + k);
}

}  // namespace isthmus::bench
