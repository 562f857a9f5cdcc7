// The property the DCEP fuzzing checks, shared by the libFuzzer target
// (dcep_fuzz.cpp) and the CI regression test (dcep_fuzz_regress_test.cpp).
// What is checked is what the slow path runs on every SCTP message of PPID
// 50 a browser sends on a data channel (datachannel/dcep.hpp, RFC 8832):
//
//  - parse_dcep gives a reason of the known list (ISTHMUS_DCEP_ERROR), with
//    a metric label, and exactly the reason RFC 8832 5.1's layout calls for,
//    worked out here independently from the octets: Empty, UnknownType (a
//    first octet other than 2 or 3), an ACK of one octet or TrailingBytes,
//    an OPEN shorter than its 12 fixed octets (Truncated), of an undefined
//    channel type (BadChannelType), shorter or longer than 12 + its label
//    and protocol lengths (Truncated / TrailingBytes);
//  - an accepted OPEN holds the octets' fields: channel type, priority,
//    reliability, and a label and protocol whose sizes are the lengths in
//    the header (12 + label + protocol = the message);
//  - write_open rebuilds an accepted OPEN octet for octet, except that a
//    reliable channel's reliability parameter is written as 0 (RFC 8832
//    5.1: ignored, dcep.hpp); re-parsed it gives the same fields; an ACK is
//    write_ack();
//  - any OpenMessage made from the input (a defined channel type, label and
//    protocol cut from the octets) is written and read back unchanged (a
//    label or protocol over 65535 octets as its first 65535);
//  - nothing reads past the input: each is checked in its own exactly sized
//    buffer (ASan).
//
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "datachannel/dcep.hpp"

namespace isthmus::datachannel::fuzz {

inline constexpr std::size_t kOpenFixed = 12;  // RFC 8832 5.1: the octets before the label

inline uint16_t be16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t be32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// RFC 8832 5.1's channel types (8.2.2's registry).
inline constexpr uint8_t kChannelTypes[] = {0x00, 0x80, 0x01, 0x81, 0x02, 0x82};

inline bool defined_channel_type(uint8_t t) {
    return std::find(std::begin(kChannelTypes), std::end(kChannelTypes), t) !=
           std::end(kChannelTypes);
}

// The reason RFC 8832 5.1's layout gives these octets, worked out without
// the parser.
inline DcepError expected_error(std::span<const uint8_t> b) {
    if (b.empty()) return DcepError::Empty;
    if (b[0] == 0x02) return b.size() == 1 ? DcepError::None : DcepError::TrailingBytes;
    if (b[0] != 0x03) return DcepError::UnknownType;
    if (b.size() < kOpenFixed) return DcepError::Truncated;
    if (!defined_channel_type(b[1])) return DcepError::BadChannelType;
    const std::size_t need = kOpenFixed + be16(&b[8]) + be16(&b[10]);
    if (b.size() < need) return DcepError::Truncated;
    if (b.size() > need) return DcepError::TrailingBytes;
    return DcepError::None;
}

inline std::string name(DcepError e) {
    return std::string(dcep_error_name(e));
}

inline std::string check_open(std::span<const uint8_t> b, const OpenMessage& o) {
    const auto type = static_cast<uint8_t>(o.channel_type);
    if (type != b[1]) return "channel type not the octet's";
    if (o.priority != be16(&b[2])) return "priority not the octets'";
    if (o.reliability != be32(&b[4])) return "reliability not the octets'";
    if (o.label.size() != be16(&b[8]) || o.protocol.size() != be16(&b[10]))
        return "label or protocol size not the header's length";
    if (kOpenFixed + o.label.size() + o.protocol.size() != b.size())
        return "fixed part + label + protocol is not the message";
    if (std::memcmp(o.label.data(), b.data() + kOpenFixed, o.label.size()) != 0 ||
        std::memcmp(o.protocol.data(), b.data() + kOpenFixed + o.label.size(), o.protocol.size()) !=
            0)
        return "label or protocol not the octets";
    if (is_ordered(o.channel_type) != ((type & 0x80) == 0) ||
        is_reliable(o.channel_type) != ((type & 0x7f) == 0) ||
        is_rexmit(o.channel_type) != ((type & 0x7f) == 1))
        return "ordered / reliable / rexmit do not follow the type's bits";

    // Written back: the same octets, a reliable channel's reliability 0.
    std::vector<uint8_t> want(b.begin(), b.end());
    if (is_reliable(o.channel_type)) std::fill(want.begin() + 4, want.begin() + 8, uint8_t{0});
    const std::vector<uint8_t> written = write_open(o);
    if (written != want) return "write_open does not rebuild the OPEN";
    const DcepMessage again = parse_dcep(written);
    OpenMessage same = o;
    if (is_reliable(o.channel_type)) same.reliability = 0;
    if (!again.ok() || again.type != MessageType::Open || again.open != same)
        return "the rewritten OPEN reads back different";
    return "";
}

// An OpenMessage made of the input: type, priority and reliability from its
// first octets, the rest split into label and protocol at a point it names.
inline std::string check_written(std::span<const uint8_t> b) {
    OpenMessage o;
    if (b.size() >= 1) o.channel_type = static_cast<ChannelType>(kChannelTypes[b[0] % 6]);
    if (b.size() >= 3) o.priority = be16(&b[1]);
    if (b.size() >= 7) o.reliability = be32(&b[3]);
    if (is_reliable(o.channel_type)) o.reliability = 0;
    const std::size_t rest = b.size() > 7 ? b.size() - 7 : 0;
    const std::size_t split = rest == 0 ? 0 : b[b.size() - 1] % (rest + 1);
    if (rest > 0) {
        const auto* text = reinterpret_cast<const char*>(b.data() + 7);
        o.label.assign(text, split);
        o.protocol.assign(text + split, rest - split);
    }
    const std::vector<uint8_t> w = write_open(o);
    // A label or protocol over 65535 octets is cut to 65535 (dcep.hpp).
    OpenMessage cut = o;
    if (cut.label.size() > 0xffff) cut.label.resize(0xffff);
    if (cut.protocol.size() > 0xffff) cut.protocol.resize(0xffff);
    if (w.size() != kOpenFixed + cut.label.size() + cut.protocol.size())
        return "write_open: size not 12 + label + protocol";
    const DcepMessage m = parse_dcep(w);
    if (!m.ok() || m.type != MessageType::Open || m.open != cut)
        return "an OpenMessage written does not read back (" + name(m.error) + ")";
    return "";
}

inline std::string check_input(std::span<const uint8_t> data) {
    const std::vector<uint8_t> exact(data.begin(), data.end());  // sized: ASan sees over-reads
    const std::span<const uint8_t> b(exact);
    const DcepMessage m = parse_dcep(b);
    if (static_cast<std::size_t>(m.error) >= kDcepErrorCount) return "a reason not in the list";
    if (dcep_error_name(m.error).empty()) return "a reason without a metric label";
    const DcepError want = expected_error(b);
    if (m.error != want)
        return "parse_dcep says " + name(m.error) + ", RFC 8832 5.1 says " + name(want);
    if (m.ok()) {
        if (b[0] == 0x02) {
            if (m.type != MessageType::Ack || write_ack() != exact)
                return "an ACK that is not write_ack()";
        } else {
            if (m.type != MessageType::Open) return "an OPEN not read as one";
            const std::string err = check_open(b, m.open);
            if (!err.empty()) return "OPEN: " + err;
        }
    }
    return check_written(b);
}

}  // namespace isthmus::datachannel::fuzz
