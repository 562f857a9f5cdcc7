#include "relay_traffic.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

#include "pkt/build.hpp"
#include "pkt/parse.hpp"
#include "srtp/suite.hpp"
#include "srtp/transform.hpp"

namespace isthmus::bench {

namespace {

constexpr uint32_t kPerAddress = 25000;  // sessions per gateway address

TrafficProfile g_profile;

dpif::IpEndpoint ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    dpif::IpEndpoint e{};
    e.family = 4;
    e.port = port;
    e.addr[0] = a;
    e.addr[1] = b;
    e.addr[2] = c;
    e.addr[3] = d;
    return e;
}

uint8_t octet(uint32_t v, unsigned shift) {
    return static_cast<uint8_t>(v >> shift);
}

uint16_t local_port(uint32_t i) {
    return static_cast<uint16_t>(10000 + 2 * (i % kPerAddress));
}
dpif::IpEndpoint access_local(uint32_t i) {
    const uint32_t k = i / kPerAddress + 1;
    return ip4(198, 18, octet(k, 8), octet(k, 0), local_port(i));
}
dpif::IpEndpoint core_local(uint32_t i, uint16_t plus = 0) {
    const uint32_t k = i / kPerAddress + 1;
    return ip4(198, 19, octet(k, 8), octet(k, 0), static_cast<uint16_t>(local_port(i) + plus));
}
dpif::IpEndpoint browser(uint32_t i) {
    return ip4(100, static_cast<uint8_t>(64 + ((i >> 16) & 0x3f)), octet(i, 8), octet(i, 0), 40000);
}
dpif::IpEndpoint ims(uint32_t i, uint16_t plus = 0) {
    return ip4(10, octet(i, 16), octet(i, 8), octet(i, 0), static_cast<uint16_t>(6000 + plus));
}

dpif::SrtpKeys keys(uint8_t first) {
    const srtp::SuiteInfo info = srtp::suite_info(g_profile.suite);
    dpif::SrtpKeys k{};
    k.suite = static_cast<uint8_t>(g_profile.suite);
    k.key_len = info.master_key_len;
    k.salt_len = info.master_salt_len;
    for (uint8_t n = 0; n < k.key_len; ++n)
        k.master_key[n] = static_cast<uint8_t>(first + n);
    for (uint8_t n = 0; n < k.salt_len; ++n)
        k.master_salt[n] = static_cast<uint8_t>(first + 0x40 + n);
    return k;
}

void put_be16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void put_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

}  // namespace

bool codec_profile(const std::string& name, TrafficProfile& p) {
    if (name == "g711") {
        p.rtp_size = kRtpSize;
        p.payload_type = 0;
        p.timestamp_step = 160;
    } else if (name == "opus") {
        p.rtp_size = 12 + 80;
        p.payload_type = 111;
        p.timestamp_step = 960;
    } else {
        return false;
    }
    return true;
}
void set_traffic_profile(const TrafficProfile& p) {
    if (p.rtp_size < 12 || p.rtp_size > kRtpSize || p.payload_type > 127)
        throw std::invalid_argument("traffic profile: RTP of 12.." + std::to_string(kRtpSize) +
                                    " octets, payload type 0..127");
    g_profile = p;
}
const TrafficProfile& traffic_profile() {
    return g_profile;
}

dpif::SrtpKeys access_rx_keys() {
    return keys(0x10);
}
uint32_t browser_ssrc(uint32_t i) {
    return 0x10000000U + i;
}
uint32_t ims_ssrc(uint32_t i) {
    return 0x20000000U + i;
}

dpif::Command create_command(uint32_t i, uint32_t police_kbps) {
    dpif::Command c{};
    c.police_kbps[0] = c.police_kbps[1] = police_kbps;
    c.hdr.version = dpif::kAbiVersion;
    c.hdr.type = dpif::MsgType::SessionCreate;
    c.hdr.session_id = uint64_t{i} + 1;
    c.hdr.generation = 1;
    c.access.local = access_local(i);
    c.access.remote = browser(i);
    c.access.rtcp_mux = 1;
    c.access.security = dpif::LegSecurity::Sdes;
    c.access.rx = access_rx_keys();
    c.access.tx = keys(0x80);
    c.core.local = core_local(i);
    c.core.local_rtcp = core_local(i, 1);
    c.core.remote = ims(i);
    c.core.remote_rtcp = ims(i, 1);
    c.core.security = dpif::LegSecurity::Rtp;
    return c;
}

FrameWriter::FrameWriter(const uint8_t access_mac[6], const uint8_t core_mac[6])
    : engine_(srtp::ImbArch::Auto) {
    std::memcpy(mac_[0], access_mac, 6);
    std::memcpy(mac_[1], core_mac, 6);
    const dpif::SrtpKeys k = access_rx_keys();
    const srtp::SetupStatus st = browser_.init(engine_, g_profile.suite, {k.master_key, k.key_len},
                                               {k.master_salt, k.salt_len});
    const dpif::SrtpKeys tk = keys(0x80);  // the access legs' sending keys
    const srtp::SetupStatus rst = browser_rx_.init(
        engine_, g_profile.suite, {tk.master_key, tk.key_len}, {tk.master_salt, tk.salt_len});
    if (st != srtp::SetupStatus::Ok || rst != srtp::SetupStatus::Ok) {
        throw std::runtime_error(
            "browser SRTP context: " + std::string(srtp::setup_status_name(st)) + ", " +
            std::string(srtp::setup_status_name(rst)));
    }
}

uint32_t FrameWriter::write(Direction d, uint32_t i, uint64_t round, uint8_t* frame,
                            uint32_t room) {
    const uint32_t size = g_profile.rtp_size;
    if (room < kHeaderRoom + size + srtp::suite_info(g_profile.suite).rtp_tag_len) return 0;
    const uint64_t index = kFirstIndex + round;
    const bool srtp = d == Direction::SrtpToRtp;
    const uint32_t ssrc = srtp ? browser_ssrc(i) : ims_ssrc(i);
    uint8_t* rtp = frame + kHeaderRoom;
    // RFC 3550 5.1: V=2, the profile's PT (PCMU), no CSRC or extension.
    rtp[0] = 0x80;
    rtp[1] = g_profile.payload_type;
    put_be16(rtp + 2, static_cast<uint16_t>(index));
    put_be32(rtp + 4, static_cast<uint32_t>(index * g_profile.timestamp_step));
    put_be32(rtp + 8, ssrc);
    for (uint32_t k = 12; k < size; ++k)
        rtp[k] = payload_octet(i, round, k);
    uint32_t len = size;
    if (srtp) {
        // The sending context holds this browser's stream only while it
        // protects one packet: its index is set to continue the round before.
        const uint64_t before = index - 1;
        if (!browser_.set_rollover_counter(ssrc, static_cast<uint32_t>(before >> 16),
                                           static_cast<uint16_t>(before))) {
            return 0;
        }
        const srtp::Status st = srtp::protect_rtp(engine_, browser_, rtp, len, room - kHeaderRoom);
        browser_.remove_stream(ssrc);
        if (st != srtp::Status::Ok) return 0;
    }
    const dpif::IpEndpoint src = srtp ? browser(i) : ims(i);
    const dpif::IpEndpoint dst = srtp ? access_local(i) : core_local(i);
    pkt::UdpEgress e{};
    std::memcpy(e.src_mac, srtp ? kBrowserRouterMac : kImsRouterMac, 6);
    std::memcpy(e.dst_mac, mac_[srtp ? 0 : 1], 6);
    e.family = 4;
    std::memcpy(e.src, src.addr, 16);
    std::memcpy(e.dst, dst.addr, 16);
    e.src_port = src.port;
    e.dst_port = dst.port;
    e.ttl = 64;
    if (pkt::write_udp_headers(rtp, kHeaderRoom, len, e) != frame) return 0;
    return kHeaderRoom + len;
}

std::string FrameWriter::check(Direction d, uint32_t i, uint64_t round, const uint8_t* frame,
                               uint32_t len) {
    const bool to_core = d == Direction::SrtpToRtp;
    pkt::Frame f;
    if (pkt::parse_frame(frame, len, f) != pkt::Verdict::Udp) return "not a valid UDP frame";
    const dpif::IpEndpoint src = to_core ? core_local(i) : access_local(i);
    const dpif::IpEndpoint dst = to_core ? ims(i) : browser(i);
    if (f.ip_version != 4 || std::memcmp(f.src, src.addr, 4) != 0 || f.src_port != src.port ||
        std::memcmp(f.dst, dst.addr, 4) != 0 || f.dst_port != dst.port) {
        return "wrong addresses";
    }
    if (std::memcmp(frame, to_core ? kImsRouterMac : kBrowserRouterMac, 6) != 0 ||
        std::memcmp(frame + 6, mac_[to_core ? 1 : 0], 6) != 0) {
        return "wrong MAC addresses";
    }
    const uint32_t size = g_profile.rtp_size;
    uint8_t rtp[kRtpSize + 16 + 16];
    if (f.payload_len != (to_core ? size : size + srtp::suite_info(g_profile.suite).rtp_tag_len))
        return "wrong payload length";
    std::memcpy(rtp, frame + f.payload_offset, f.payload_len);
    uint32_t rtp_len = f.payload_len;
    const uint64_t index = kFirstIndex + round;
    if (!to_core) {
        const uint64_t before = index - 1;
        browser_rx_.set_rollover_counter(ims_ssrc(i), static_cast<uint32_t>(before >> 16),
                                         static_cast<uint16_t>(before));
        const srtp::Status st = srtp::unprotect_rtp(engine_, browser_rx_, rtp, rtp_len);
        browser_rx_.remove_stream(ims_ssrc(i));
        if (st != srtp::Status::Ok) {
            return "the SRTP it sent does not unprotect: " + std::string(srtp::status_name(st));
        }
    }
    const uint32_t ssrc = to_core ? browser_ssrc(i) : ims_ssrc(i);
    const uint32_t got_ssrc =
        (uint32_t{rtp[8]} << 24) | (uint32_t{rtp[9]} << 16) | (uint32_t{rtp[10]} << 8) | rtp[11];
    const auto got_seq = static_cast<uint16_t>((rtp[2] << 8) | rtp[3]);
    if (rtp_len != size || got_ssrc != ssrc || got_seq != static_cast<uint16_t>(index) ||
        (rtp[1] & 0x7f) != g_profile.payload_type) {
        return "wrong RTP header";
    }
    for (uint32_t k = 12; k < size; ++k) {
        if (rtp[k] != payload_octet(i, round, k)) return "wrong RTP payload";
    }
    return "";
}

}  // namespace isthmus::bench
