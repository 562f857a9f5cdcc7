// What the relay's unit tests share (relay_test.cpp, ice_relay_test.cpp):
// libsrtp2 sessions, RTP/RTCP builders, mbuf-like buffers, frame builders
// and the RelayTest fixture (the reference session of session_fixtures.hpp
// in a 16-slot table).
#pragma once

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "ice/binding.hpp"
#include "ice/writer.hpp"
#include "libsrtp_session.hpp"
#include "pkt/build.hpp"
#include "pkt/parse.hpp"
#include "rtp_packets.hpp"
#include "session/relay.hpp"
#include "session_fixtures.hpp"

namespace isthmus::session::relay_rig {

using dpif::ResultCode;
using test::endpoint4;
using test::endpoint6;
using Bytes = std::vector<uint8_t>;

inline constexpr uint8_t kAccessMac[6] = {0x02, 0, 0, 0, 0xaa, 0x01};
inline constexpr uint8_t kCoreMac[6] = {0x02, 0, 0, 0, 0xcc, 0x01};
inline constexpr uint8_t kBrowserMac[6] = {0x02, 0, 0, 0, 0xb0, 0x01};
inline constexpr uint8_t kImsMac[6] = {0x02, 0, 0, 0, 0x1a, 0x01};

// A libsrtp2 session for one direction.
using LibSrtp = test::LibSrtpSession;

inline Bytes rtp(uint16_t seq, uint32_t ssrc = 0x11223344, std::size_t payload = 160) {
    Bytes b;
    test::append_rtp_fixed_header(
        b, {.payload_type = 0, .seq = seq, .timestamp = seq * 160U, .ssrc = ssrc});
    for (std::size_t i = 0; i < payload; ++i)
        b.push_back(static_cast<uint8_t>(seq + i));
    return b;
}
// A receiver report with one report block (RFC 3550 6.4.2).
inline Bytes rtcp_rr(uint32_t ssrc) {
    Bytes b;
    test::append_rtcp_common_header(b, 1, 201, 7);
    test::push_be32(b, ssrc);
    for (int i = 0; i < 6; ++i)
        test::push_be32(b, 0x01010101U * static_cast<uint32_t>(i + 1));
    return b;
}

// One packet buffer laid out as an mbuf's: headroom, frame, tailroom.
struct Buffer {
    static constexpr uint32_t kHeadroom = 128;
    static constexpr uint32_t kSize = 2048;
    std::array<uint8_t, kSize> mem{};
    RelayPacket pkt{};
};

inline void frame_into(Buffer& buf, Side arrived, const uint8_t src_mac[6],
                       const uint8_t dst_mac[6], const dpif::IpEndpoint& src,
                       const dpif::IpEndpoint& dst, const Bytes& payload) {
    const pkt::UdpEgress e = test::udp_egress(src_mac, dst_mac, src, dst);
    uint8_t* pl = buf.mem.data() + Buffer::kHeadroom + 62;
    std::memcpy(pl, payload.data(), payload.size());
    uint8_t* f = pkt::write_udp_headers(pl, 62 + Buffer::kHeadroom, payload.size(), e);
    ASSERT_NE(f, nullptr);
    buf.pkt = {};
    buf.pkt.data = f;
    buf.pkt.len = static_cast<uint32_t>(pkt::udp_header_room(src.family) + payload.size());
    buf.pkt.headroom = static_cast<uint32_t>(f - buf.mem.data());
    buf.pkt.tailroom = static_cast<uint32_t>(Buffer::kSize - buf.pkt.headroom - buf.pkt.len);
    buf.pkt.arrived = arrived;
}

struct Sent {
    pkt::Frame f;
    Bytes payload;
    const uint8_t* dst_mac;
    const uint8_t* src_mac;
};
inline Sent parse_sent(const RelayPacket& p) {
    Sent s{};
    EXPECT_EQ(pkt::parse_frame(p.data, p.len, s.f), pkt::Verdict::Udp);
    s.payload.assign(p.data + s.f.payload_offset, p.data + s.f.payload_offset + s.f.payload_len);
    s.dst_mac = p.data;
    s.src_mac = p.data + 6;
    // The buffer bookkeeping stays consistent.
    EXPECT_EQ(p.headroom + p.len + p.tailroom, Buffer::kSize);
    return s;
}
inline bool is_endpoint(const pkt::Frame& f, bool source, const dpif::IpEndpoint& e) {
    const uint8_t* a = source ? f.src : f.dst;
    const uint16_t port = source ? f.src_port : f.dst_port;
    return f.ip_version == e.family && port == e.port &&
           std::memcmp(a, e.addr, e.family == 6 ? 16 : 4) == 0;
}

class RelayTest : public ::testing::Test {
  protected:
    void SetUp() override {
        cmd_ = test::srtp_to_rtp_command(1);
        std::string why;
        ASSERT_EQ(table_.create(cmd_, why), ResultCode::Ok) << why;
    }
    // Relays one frame; returns its packet.
    RelayPacket& run(Buffer& b) {
        relay_.process(std::span(&b.pkt, 1));
        return b.pkt;
    }
    // A browser SRTP (or SRTCP) packet to the access port.
    void from_browser(Buffer& b, const Bytes& plain, bool rtcp, LibSrtp& tx) {
        frame_into(b, Side::Access, kBrowserMac, kAccessMac, cmd_.access.remote, cmd_.access.local,
                   tx.protect(plain, rtcp));
    }
    void from_ims(Buffer& b, const Bytes& plain, bool rtcp) {
        frame_into(b, Side::Core, kImsMac, kCoreMac,
                   rtcp ? cmd_.core.remote_rtcp : cmd_.core.remote,
                   rtcp ? cmd_.core.local_rtcp : cmd_.core.local, plain);
    }
    uint64_t drops(RelayDrop d) const {
        return relay_.counters().drops[static_cast<std::size_t>(d)];
    }

    srtp::Engine engine_{srtp::ImbArch::Auto};
    SessionTable table_{engine_, {16, 0}};
    Relay relay_{table_, engine_, kAccessMac, kCoreMac};
    dpif::Command cmd_{};
    LibSrtp browser_tx_{test::sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x10), false};
    LibSrtp browser_rx_{test::sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x80), true};
};

}  // namespace isthmus::session::relay_rig
