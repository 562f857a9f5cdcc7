#include "pkt/build.hpp"

#include <cstring>

#include "pkt/parse.hpp"

namespace isthmus::pkt {

namespace {

inline void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

}  // namespace

UdpEgress reply_egress(const uint8_t* frame, const Frame& f, const uint8_t our_mac[6]) {
    UdpEgress e{};
    std::memcpy(e.src_mac, our_mac, 6);
    std::memcpy(e.dst_mac, frame + 6, 6);  // the Ethernet source
    e.family = f.ip_version;
    std::memcpy(e.src, f.dst, 16);
    std::memcpy(e.dst, f.src, 16);
    e.src_port = f.dst_port;
    e.dst_port = f.src_port;
    e.ttl = 64;
    return e;
}

uint8_t* write_udp_headers(uint8_t* payload, std::size_t headroom, std::size_t payload_len,
                           const UdpEgress& e, Checksums how) {
    if (e.family != 4 && e.family != 6) return nullptr;
    const std::size_t room = udp_header_room(e.family);
    const std::size_t ip_header = e.family == 4 ? 20 : 40;
    const std::size_t udp_len = 8 + payload_len;
    if (headroom < room || udp_len + ip_header > 0xffff) return nullptr;

    uint8_t* frame = payload - room;
    uint8_t* ip = frame + 14;
    uint8_t* udp = ip + ip_header;
    std::memcpy(frame, e.dst_mac, 6);
    std::memcpy(frame + 6, e.src_mac, 6);
    put16(frame + 12, e.family == 4 ? 0x0800 : 0x86DD);

    uint32_t pseudo = 0;
    if (e.family == 4) {
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, static_cast<uint16_t>(20 + udp_len));
        put16(ip + 4, 0);       // identification: atomic datagram (RFC 6864)
        put16(ip + 6, 0x4000);  // DF
        ip[8] = e.ttl;
        ip[9] = 17;
        put16(ip + 10, 0);
        std::memcpy(ip + 12, e.src, 4);
        std::memcpy(ip + 16, e.dst, 4);
        if (how != Checksums::Offload)
            put16(ip + 10, fold_checksum(ones_complement_add(ip, 20, 0)));
        pseudo = ones_complement_add(ip + 12, 8, 0);
    } else {
        put16(ip, 0x6000);  // version 6, traffic class 0, flow label 0
        put16(ip + 2, 0);
        put16(ip + 4, static_cast<uint16_t>(udp_len));
        ip[6] = 17;
        ip[7] = e.ttl;
        std::memcpy(ip + 8, e.src, 16);
        std::memcpy(ip + 24, e.dst, 16);
        pseudo = ones_complement_add(ip + 8, 32, 0);
    }
    put16(udp, e.src_port);
    put16(udp + 2, e.dst_port);
    put16(udp + 4, static_cast<uint16_t>(udp_len));
    put16(udp + 6, 0);
    if (how == Checksums::Offload) {
        // What the NIC starts from (DPDK's rte_ipv4/ipv6_phdr_cksum).
        uint32_t sum = pseudo + 17 + static_cast<uint32_t>(udp_len);
        while ((sum >> 16) != 0)
            sum = (sum & 0xffffU) + (sum >> 16);
        put16(udp + 6, static_cast<uint16_t>(sum));
    } else if (how == Checksums::Software || e.family == 6) {
        uint32_t sum = pseudo + 17 + static_cast<uint32_t>(udp_len);
        sum = ones_complement_add(udp, udp_len, sum);
        uint16_t c = fold_checksum(sum);
        if (c == 0) c = 0xffff;  // RFC 768: a computed zero is sent as all ones
        put16(udp + 6, c);
    }
    return frame;
}

}  // namespace isthmus::pkt
