// Commands, keys and frames the session and relay tests share.
//
// The reference session (srtp_to_rtp_command): access leg 198.18.0.2:40000
// (rtcp-mux, SDES AES_CM_128_HMAC_SHA1_80 both ways) toward a browser at
// 198.18.0.10:5000; core leg 198.18.1.2:50000/50001 (plain RTP) toward an
// IMS UE at 198.18.1.20:6000/6001.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "isthmus/dpif/messages.hpp"
#include "pkt/build.hpp"
#include "srtp/suite.hpp"

namespace isthmus::test {

inline dpif::IpEndpoint endpoint4(const char* ip, uint16_t port) {
    dpif::IpEndpoint e{};
    e.family = 4;
    e.port = port;
    if (inet_pton(AF_INET, ip, e.addr) != 1) throw std::invalid_argument(ip);
    return e;
}
inline dpif::IpEndpoint endpoint6(const char* ip, uint16_t port) {
    dpif::IpEndpoint e{};
    e.family = 6;
    e.port = port;
    if (inet_pton(AF_INET6, ip, e.addr) != 1) throw std::invalid_argument(ip);
    return e;
}

// Keys whose octets count up from `first` (key then salt).
inline dpif::SrtpKeys sdes_keys(srtp::Suite s, uint8_t first) {
    const srtp::SuiteInfo info = srtp::suite_info(s);
    dpif::SrtpKeys k{};
    k.suite = static_cast<uint8_t>(s);
    k.key_len = info.master_key_len;
    k.salt_len = info.master_salt_len;
    for (uint8_t i = 0; i < k.key_len; ++i)
        k.master_key[i] = static_cast<uint8_t>(first + i);
    for (uint8_t i = 0; i < k.salt_len; ++i)
        k.master_salt[i] = static_cast<uint8_t>(first + 0x40 + i);
    return k;
}
// key || salt, as libsrtp2 wants it.
inline std::vector<uint8_t> key_and_salt(const dpif::SrtpKeys& k) {
    std::vector<uint8_t> v(k.master_key, k.master_key + k.key_len);
    v.insert(v.end(), k.master_salt, k.master_salt + k.salt_len);
    return v;
}

// The link and transport addresses of a test host's datagram (TTL 64).
inline pkt::UdpEgress udp_egress(const uint8_t src_mac[6], const uint8_t dst_mac[6],
                                 const dpif::IpEndpoint& src, const dpif::IpEndpoint& dst) {
    pkt::UdpEgress e{};
    std::memcpy(e.src_mac, src_mac, 6);
    std::memcpy(e.dst_mac, dst_mac, 6);
    e.family = src.family;
    std::memcpy(e.src, src.addr, 16);
    std::memcpy(e.dst, dst.addr, 16);
    e.src_port = src.port;
    e.dst_port = dst.port;
    e.ttl = 64;
    return e;
}

inline dpif::Command srtp_to_rtp_command(uint64_t id) {
    dpif::Command c{};
    c.hdr.version = dpif::kAbiVersion;
    c.hdr.type = dpif::MsgType::SessionCreate;
    c.hdr.session_id = id;
    c.hdr.generation = 1;
    c.access.local = endpoint4("198.18.0.2", 40000);
    c.access.remote = endpoint4("198.18.0.10", 5000);
    c.access.rtcp_mux = 1;
    c.access.security = dpif::LegSecurity::Sdes;
    c.access.rx = sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x10);
    c.access.tx = sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x80);
    c.core.local = endpoint4("198.18.1.2", 50000);
    c.core.local_rtcp = endpoint4("198.18.1.2", 50001);
    c.core.remote = endpoint4("198.18.1.20", 6000);
    c.core.remote_rtcp = endpoint4("198.18.1.20", 6001);
    c.core.security = dpif::LegSecurity::Rtp;
    return c;
}

}  // namespace isthmus::test
