#include "datachannel/dcep.hpp"

namespace isthmus::datachannel {

namespace {

constexpr std::size_t kOpenFixed = 12;

uint16_t be16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
uint32_t be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
void put16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<uint8_t>(v >> shift));
}

bool known_channel_type(uint8_t t) {
    switch (t) {
        case 0x00:
        case 0x80:
        case 0x01:
        case 0x81:
        case 0x02:
        case 0x82:
            return true;
        default:
            return false;
    }
}

}  // namespace

DcepMessage parse_dcep(std::span<const uint8_t> b) {
    DcepMessage m;
    if (b.empty()) {
        m.error = DcepError::Empty;
        return m;
    }
    if (b[0] == static_cast<uint8_t>(MessageType::Ack)) {
        m.type = MessageType::Ack;
        if (b.size() != 1) m.error = DcepError::TrailingBytes;
        return m;
    }
    if (b[0] != static_cast<uint8_t>(MessageType::Open)) {
        m.error = DcepError::UnknownType;
        return m;
    }
    m.type = MessageType::Open;
    if (b.size() < kOpenFixed) {
        m.error = DcepError::Truncated;
        return m;
    }
    if (!known_channel_type(b[1])) {
        m.error = DcepError::BadChannelType;
        return m;
    }
    const std::size_t label_len = be16(&b[8]);
    const std::size_t protocol_len = be16(&b[10]);
    const std::size_t need = kOpenFixed + label_len + protocol_len;
    if (b.size() < need) {
        m.error = DcepError::Truncated;
        return m;
    }
    if (b.size() > need) {
        m.error = DcepError::TrailingBytes;
        return m;
    }
    m.open.channel_type = static_cast<ChannelType>(b[1]);
    m.open.priority = be16(&b[2]);
    m.open.reliability = be32(&b[4]);
    const auto* text = reinterpret_cast<const char*>(b.data() + kOpenFixed);
    m.open.label.assign(text, label_len);
    m.open.protocol.assign(text + label_len, protocol_len);
    return m;
}

std::vector<uint8_t> write_open(const OpenMessage& m) {
    const std::size_t label_len = std::min<std::size_t>(m.label.size(), 0xffff);
    const std::size_t protocol_len = std::min<std::size_t>(m.protocol.size(), 0xffff);
    std::vector<uint8_t> out;
    out.reserve(kOpenFixed + label_len + protocol_len);
    out.push_back(static_cast<uint8_t>(MessageType::Open));
    out.push_back(static_cast<uint8_t>(m.channel_type));
    put16(out, m.priority);
    put32(out, is_reliable(m.channel_type) ? 0 : m.reliability);
    put16(out, static_cast<uint16_t>(label_len));
    put16(out, static_cast<uint16_t>(protocol_len));
    out.insert(out.end(), m.label.begin(),
               m.label.begin() + static_cast<std::ptrdiff_t>(label_len));
    out.insert(out.end(), m.protocol.begin(),
               m.protocol.begin() + static_cast<std::ptrdiff_t>(protocol_len));
    return out;
}

std::vector<uint8_t> write_ack() {
    return {static_cast<uint8_t>(MessageType::Ack)};
}

}  // namespace isthmus::datachannel
