// The property the packet fuzzing checks, shared by the libFuzzer target
// (pkt_fuzz.cpp) and the CI regression test (pkt_fuzz_regress_test.cpp).
// What is checked is what the relay runs on every received frame before any
// crypto (pkt/parse.hpp, pkt/demux.hpp, srtp/rtp_header.hpp) and how it
// writes the way back (pkt/build.hpp):
//
//  - parse_frame, with and without the NIC's checksum flags, returns one
//    verdict; Drop names a reason (never a checksum the flags say was
//    verified, apart from IPv6's mandatory UDP checksum being 0); Udp points
//    inside the frame at a UDP datagram whose ports, addresses and, unless
//    verified, checksums (recomputed here the RFC 1071 way) are what the
//    octets say, from a unicast source; a frame Udp without the flags is Udp
//    with them, with the same fields;
//  - peek_udp_dst_port agrees with parse_frame on every Udp frame;
//  - ones_complement_add agrees with a plain 16-bit sum, in one piece and
//    split at an even offset;
//  - the demux (RFC 7983) classifies by the first octets as its table says,
//    and the RTP / RTCP header readers the SRTP transforms use, with every
//    trailer length a suite has, read only inside the packet and report a
//    header that fits;
//  - the reply the relay writes for a Udp frame (reply_egress +
//    write_udp_headers, each checksum mode) parses back to the same payload
//    between the swapped addresses and ports.
//
// The whole input is tried as a frame, and also as a UDP payload.
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "pkt/build.hpp"
#include "pkt/demux.hpp"
#include "pkt/parse.hpp"
#include "srtp/rtp_header.hpp"

namespace isthmus::pkt::fuzz {

inline uint16_t be16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// RFC 1071 the plain way: 16-bit big-endian words (an odd last octet padded)
// added to `sum`, reduced modulo 0xffff.
inline uint64_t reference_sum(const uint8_t* p, std::size_t n, uint64_t sum) {
    for (std::size_t i = 0; i < n; i += 2)
        sum += uint64_t{p[i]} << 8 | (i + 1 < n ? p[i + 1] : 0u);
    return sum % 0xffff;
}

inline std::string check_sums(std::span<const uint8_t> d) {
    const std::size_t n = d.size();
    for (const uint32_t start : {0u, 1u, 0xfffeu, 0xffffffffu}) {
        const uint64_t want = reference_sum(d.data(), n, start);
        if (ones_complement_add(d.data(), n, start) % 0xffff != want)
            return "ones_complement_add differs from the 16-bit sum";
        const std::size_t half = (n / 2) & ~std::size_t{1};
        const uint32_t first = ones_complement_add(d.data(), half, start);
        if (ones_complement_add(d.data() + half, n - half, first) % 0xffff != want)
            return "ones_complement_add in two pieces differs";
    }
    return "";
}

// RFC 7983 7 / RFC 5761 4, as a table.
inline Demux reference_demux(std::span<const uint8_t> p) {
    if (p.empty()) return Demux::Unknown;
    const unsigned b = p[0];
    if (b <= 3) return Demux::Stun;
    if (b >= 16 && b <= 19) return Demux::Zrtp;
    if (b >= 20 && b <= 63) return Demux::Dtls;
    if (b >= 64 && b <= 79) return Demux::TurnChannel;
    if (b >= 128 && b <= 191 && p.size() >= 2)
        return p[1] >= 192 && p[1] <= 223 ? Demux::Rtcp : Demux::Rtp;
    return Demux::Unknown;
}

// A UDP payload through the demux and the SRTP header readers.
inline std::string check_payload(std::span<const uint8_t> payload) {
    const std::vector<uint8_t> p(payload.begin(), payload.end());  // sized: ASan
    if (classify(p.data(), p.size()) != reference_demux(p)) return "classify disagrees";
    // The trailers of every suite: none (protect), SRTP tags 4, 10, 16,
    // SRTCP index + tag 14, 20.
    for (const std::size_t trailer : {0u, 4u, 10u, 14u, 16u, 20u}) {
        srtp::RtpHeaderInfo h{};
        const srtp::Status st = srtp::parse_rtp_header(p.data(), p.size(), trailer, h);
        if (st == srtp::Status::Ok) {
            if (h.header_len < 12 || h.header_len % 4 != 0 || h.header_len + trailer > p.size())
                return "RTP header does not fit the packet";
            if (h.seq != be16(&p[2]) || h.ssrc != srtp::load_be32(&p[8]))
                return "RTP sequence number or SSRC misread";
            if ((p[0] >> 6) != 2) return "RTP of another version";
        } else if (st != srtp::Status::TooShort && st != srtp::Status::BadVersion &&
                   st != srtp::Status::BadHeader) {
            return "parse_rtp_header: undocumented status";
        }
        uint32_t ssrc = 0;
        const srtp::Status rt = srtp::parse_rtcp_header(p.data(), p.size(), trailer, ssrc);
        if (rt == srtp::Status::Ok) {
            if (p.size() < 8 + trailer || ssrc != srtp::load_be32(&p[4]))
                return "RTCP header misread";
        } else if (rt != srtp::Status::TooShort && rt != srtp::Status::BadVersion) {
            return "parse_rtcp_header: undocumented status";
        }
    }
    return "";
}

inline bool unicast_source(uint8_t family, const uint8_t* a) {
    static constexpr uint8_t kZero[16] = {};
    if (family == 4) return a[0] != 0 && a[0] < 224;
    return a[0] != 0xff && std::memcmp(a, kZero, 16) != 0;
}

// What a Udp verdict promises about the frame.
inline std::string check_udp(std::span<const uint8_t> d, const Frame& f, ParseOptions opt) {
    const uint8_t* p = d.data();
    if (f.drop != Drop::None) return "Udp with a drop reason";
    if (f.l3_offset != 14) return "IP header not after Ethernet";
    const uint16_t ethertype = be16(p + 12);
    const uint8_t* ip = p + 14;
    if (f.ip_version == 4) {
        if (ethertype != 0x0800 || (ip[0] >> 4) != 4 || ip[9] != 17 || (be16(ip + 6) & 0x3fff) != 0)
            return "IPv4 Udp: not an unfragmented IPv4 UDP packet";
        if (f.l4_offset != 14 + 4 * (ip[0] & 0x0f) || f.l4_offset < 34) return "IPv4 l4 offset";
        if (14 + std::size_t{be16(ip + 2)} > d.size()) return "IPv4 total length past the frame";
        if (!opt.ip_checksum_verified && reference_sum(ip, f.l4_offset - 14u, 0) != 0)
            return "IPv4 header checksum accepted but wrong";
        if (std::memcmp(f.src, ip + 12, 4) != 0 || std::memcmp(f.dst, ip + 16, 4) != 0)
            return "IPv4 addresses misread";
    } else if (f.ip_version == 6) {
        if (ethertype != 0x86DD || (ip[0] >> 4) != 6 || ip[6] != 17) return "IPv6 Udp: not UDP";
        if (f.l4_offset != 54) return "IPv6 l4 offset";
        if (std::memcmp(f.src, ip + 8, 16) != 0 || std::memcmp(f.dst, ip + 24, 16) != 0)
            return "IPv6 addresses misread";
    } else {
        return "Udp of IP version " + std::to_string(f.ip_version);
    }
    if (!unicast_source(f.ip_version, f.src)) return "Udp from a source that is not unicast";
    const uint8_t* udp = p + f.l4_offset;
    if (f.payload_offset != f.l4_offset + 8u ||
        std::size_t{f.payload_offset} + f.payload_len > d.size())
        return "UDP payload outside the frame";
    if (be16(udp + 4) != f.payload_len + 8u) return "UDP length misread";
    if (f.src_port != be16(udp) || f.dst_port != be16(udp + 2)) return "UDP ports misread";
    const uint16_t cksum = be16(udp + 6);
    if (f.ip_version == 6 && cksum == 0) return "IPv6 UDP without a checksum accepted";
    if (cksum != 0 && !opt.udp_checksum_verified) {
        const std::size_t alen = f.ip_version == 4 ? 8 : 32;
        uint64_t sum = reference_sum(f.ip_version == 4 ? ip + 12 : ip + 8, alen, 0);
        sum += 17 + f.payload_len + 8u;
        if (reference_sum(udp, f.payload_len + 8u, sum) != 0)
            return "UDP checksum accepted but wrong";
    }
    if (peek_udp_dst_port(p, d.size()) != f.dst_port) return "peek_udp_dst_port disagrees";
    return "";
}

// The reply the relay writes (reply_egress + write_udp_headers) parses back.
inline std::string check_reply(std::span<const uint8_t> d, const Frame& f) {
    static constexpr uint8_t kOurMac[6] = {0x02, 0, 0, 0, 0, 0x01};
    const UdpEgress e = reply_egress(d.data(), f, kOurMac);
    for (const Checksums how : {Checksums::Software, Checksums::NoUdpOnIpv4, Checksums::Offload}) {
        const std::size_t room = udp_header_room(e.family);
        std::vector<uint8_t> buf(room + f.payload_len);
        std::memcpy(buf.data() + room, d.data() + f.payload_offset, f.payload_len);
        uint8_t* frame = write_udp_headers(buf.data() + room, room, f.payload_len, e, how);
        if (frame != buf.data()) return "write_udp_headers: the frame is not where it says";
        const ParseOptions opt{how == Checksums::Offload, how == Checksums::Offload};
        Frame r;
        const Verdict v = parse_frame(frame, buf.size(), r, opt);
        if (!unicast_source(f.ip_version, f.dst)) {
            if (v != Verdict::Drop || r.drop != Drop::BadAddress)
                return "a reply from a non-unicast address was not refused";
            continue;
        }
        if (v != Verdict::Udp) return "the reply does not parse: " + std::string(drop_name(r.drop));
        if (r.ip_version != f.ip_version || r.src_port != f.dst_port || r.dst_port != f.src_port ||
            std::memcmp(r.src, f.dst, 16) != 0 || std::memcmp(r.dst, f.src, 16) != 0 ||
            r.payload_len != f.payload_len || r.payload_offset != room ||
            std::memcmp(frame, d.data() + 6, 6) != 0 || std::memcmp(frame + 6, kOurMac, 6) != 0)
            return "the reply is not the frame's way back";
        if (std::memcmp(frame + room, d.data() + f.payload_offset, f.payload_len) != 0)
            return "the reply's payload changed";
    }
    return "";
}

inline std::string check_frame(std::span<const uint8_t> d) {
    Frame plain;
    const Verdict pv = parse_frame(d.data(), d.size(), plain);
    for (int flags = 0; flags < 4; ++flags) {
        const ParseOptions opt{(flags & 1) != 0, (flags & 2) != 0};
        Frame f;
        const Verdict v = parse_frame(d.data(), d.size(), f, opt);
        const std::string with = " (flags " + std::to_string(flags) + ")";
        switch (v) {
            case Verdict::Udp: {
                const std::string err = check_udp(d, f, opt);
                if (!err.empty()) return err + with;
                break;
            }
            case Verdict::Drop:
                if (f.drop == Drop::None || static_cast<std::size_t>(f.drop) >= kDropCount)
                    return "Drop without a reason" + with;
                if (opt.ip_checksum_verified && f.drop == Drop::BadIpChecksum)
                    return "BadIpChecksum with the IP checksum verified" + with;
                if (opt.udp_checksum_verified && f.drop == Drop::BadUdpChecksum &&
                    !(be16(d.data() + 12) == 0x86DD && d.size() >= 62 && be16(&d[60]) == 0))
                    return "BadUdpChecksum with the UDP checksum verified" + with;
                break;
            case Verdict::Exception:
                break;
            default:
                return "unknown verdict" + with;
        }
        if (pv == Verdict::Udp &&
            (v != Verdict::Udp || f.payload_offset != plain.payload_offset ||
             f.payload_len != plain.payload_len || f.src_port != plain.src_port ||
             std::memcmp(f.src, plain.src, 16) != 0))
            return "a frame the checksums pass is refused with them verified" + with;
    }
    if (pv == Verdict::Udp) {
        std::string err = check_payload(d.subspan(plain.payload_offset, plain.payload_len));
        if (!err.empty()) return "payload: " + err;
        err = check_reply(d, plain);
        if (!err.empty()) return "reply: " + err;
    }
    return "";
}

inline std::string check_input(std::span<const uint8_t> data) {
    const std::vector<uint8_t> exact(data.begin(), data.end());  // sized: ASan sees over-reads
    std::string err = check_frame(exact);
    if (!err.empty()) return "frame: " + err;
    err = check_payload(exact);
    if (!err.empty()) return "as a payload: " + err;
    return check_sums(exact);
}

}  // namespace isthmus::pkt::fuzz
