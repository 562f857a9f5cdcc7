// The Data Channel Establishment Protocol (RFC 8832) and the SCTP payload
// protocol identifiers of WebRTC data channels (RFC 8831 8), issue 9: pure
// functions over bytes for the slow path, which will run one SCTP
// association per DTLS leg (usrsctp) and open, acknowledge and close its
// channels with these messages.
//
//   DATA_CHANNEL_OPEN (0x03):
//     type(1) channel_type(1) priority(2) reliability(4)
//     label_length(2) protocol_length(2) label protocol      (network order)
//   DATA_CHANNEL_ACK (0x02): type(1)
//
// Parsing never reads past the span and never allocates more than the
// message carries (label and protocol are bounded by their 16-bit lengths
// and by the span). Errors are a reason enum with a metric label.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace isthmus::datachannel {

// SCTP payload protocol identifiers (RFC 8831 8, IANA).
enum class Ppid : uint32_t {
    Dcep = 50,
    String = 51,
    Binary = 53,
    StringEmpty = 56,  // an empty string message (one 0 octet on the wire)
    BinaryEmpty = 57,
};

enum class MessageType : uint8_t { Ack = 0x02, Open = 0x03 };

// RFC 8832 5.1: the high bit means unordered.
enum class ChannelType : uint8_t {
    Reliable = 0x00,
    ReliableUnordered = 0x80,
    PartialReliableRexmit = 0x01,
    PartialReliableRexmitUnordered = 0x81,
    PartialReliableTimed = 0x02,
    PartialReliableTimedUnordered = 0x82,
};

constexpr bool is_ordered(ChannelType t) {
    return (static_cast<uint8_t>(t) & 0x80) == 0;
}
constexpr bool is_reliable(ChannelType t) {
    return (static_cast<uint8_t>(t) & 0x7f) == 0;
}
// The reliability parameter is a retransmission count (Rexmit) or a
// lifetime in ms (Timed); 0 and ignored for reliable channels.
constexpr bool is_rexmit(ChannelType t) {
    return (static_cast<uint8_t>(t) & 0x7f) == 0x01;
}

struct OpenMessage {
    ChannelType channel_type = ChannelType::Reliable;
    uint16_t priority = 256;  // RFC 8831 6.4: "normal"
    uint32_t reliability = 0;
    std::string label;
    std::string protocol;  // "msrp" for MSRP over a data channel (RFC 8873)
    bool operator==(const OpenMessage&) const = default;
};

// X(Enumerator, "metric_label", "meaning")
#define ISTHMUS_DCEP_ERROR(X)                                                        \
    X(None, "none", "valid")                                                         \
    X(Empty, "empty", "no octets")                                                   \
    X(UnknownType, "unknown_type", "a message type other than OPEN (3) or ACK (2)")  \
    X(Truncated, "truncated", "shorter than its fixed part or its lengths say")      \
    X(TrailingBytes, "trailing_bytes", "longer than its fixed part and lengths say") \
    X(BadChannelType, "bad_channel_type", "a channel type RFC 8832 5.1 does not define")

enum class DcepError : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_DCEP_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kDcepErrorCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_DCEP_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    ;

constexpr std::string_view dcep_error_name(DcepError e) {
    constexpr std::array<std::string_view, kDcepErrorCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_DCEP_ERROR(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(e)];
}

struct DcepMessage {
    DcepError error = DcepError::None;
    MessageType type = MessageType::Ack;
    OpenMessage open;  // type == Open
    bool ok() const { return error == DcepError::None; }
};

// One DCEP message (the whole SCTP message of PPID 50).
DcepMessage parse_dcep(std::span<const uint8_t> bytes);

// Wire forms. A label or protocol over 65535 octets is cut to 65535.
std::vector<uint8_t> write_open(const OpenMessage& m);
std::vector<uint8_t> write_ack();

// RFC 8832 6: the DTLS client opens channels on even SCTP stream ids, the
// server on odd ones; a peer's OPEN on a stream of our parity is an error.
constexpr bool opens_on(uint16_t stream_id, bool dtls_client) {
    return (stream_id % 2 == 0) == dtls_client;
}

}  // namespace isthmus::datachannel
