// The DTLS record header (RFC 6347 4.1), read without decrypting anything:
// enough to tell a new handshake (epoch 0) from the running association's
// records before OpenSSL sees them. A pure function of the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace isthmus::dtls {

enum class ContentType : uint8_t {
    ChangeCipherSpec = 20,
    Alert = 21,
    Handshake = 22,
    ApplicationData = 23,
};

struct RecordHeader {
    uint8_t content_type;
    uint16_t version;  // 0xfefd DTLS 1.2, 0xfeff DTLS 1.0
    uint16_t epoch;
    uint64_t sequence;  // 48 bits
    uint16_t length;    // of the fragment that follows
};
inline constexpr std::size_t kRecordHeaderLen = 13;

// The first record's header of a datagram; false when shorter than a header
// or the content type is not one of RFC 6347's.
inline bool peek_record(std::span<const uint8_t> d, RecordHeader& out) {
    if (d.size() < kRecordHeaderLen) return false;
    if (d[0] < 20 || d[0] > 23) return false;
    out.content_type = d[0];
    out.version = static_cast<uint16_t>(d[1] << 8 | d[2]);
    out.epoch = static_cast<uint16_t>(d[3] << 8 | d[4]);
    out.sequence = 0;
    for (std::size_t i = 5; i < 11; ++i)
        out.sequence = out.sequence << 8 | d[i];
    out.length = static_cast<uint16_t>(d[11] << 8 | d[12]);
    return true;
}

// A datagram that starts a handshake from scratch: an epoch-0 handshake
// record whose message is a ClientHello (msg_type 1).
inline bool is_client_hello(std::span<const uint8_t> d) {
    RecordHeader h{};
    return peek_record(d, h) && h.content_type == 22 && h.epoch == 0 &&
           d.size() > kRecordHeaderLen && d[kRecordHeaderLen] == 1;
}

}  // namespace isthmus::dtls
