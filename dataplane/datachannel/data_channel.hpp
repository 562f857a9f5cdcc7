// WebRTC data channels (RFC 8831) over one SCTP association, issue 9: the
// endpoint the slow path keeps per DTLS leg that negotiated
// `m=application UDP/DTLS/SCTP webrtc-datachannel` (RFC 8841). It owns the
// SctpAssociation and speaks DCEP (RFC 8832, dcep.hpp) on it:
//
//  - Stream ids: a channel uses the same SCTP stream id both ways. The DTLS
//    client opens channels on even ids, the server on odd ones (RFC 8832 6):
//    our DTLS role, given at construction, decides which ids open() picks
//    and which ids the peer's OPENs may use.
//  - Peer's DATA_CHANNEL_OPEN: a channel is made (label, protocol, type and
//    reliability as the OPEN says), the ACK is queued on its stream, then
//    on_open(). Refused and counted, never a crash: an OPEN on a stream that
//    has a channel, on our parity, beyond the negotiated streams, beyond
//    max_channels (refused with a stream reset, so the peer sees it close),
//    malformed DCEP (dcep.hpp's reasons).
//  - open(): OPEN sent on the lowest free stream of our parity; the channel
//    is usable at once (RFC 8832 6 lets the opener send before the ACK,
//    ordered until the ACK comes, so nothing overtakes the OPEN). Data from
//    the peer on the channel before the ACK counts as the ACK (the peer has
//    the channel open; unordered data may overtake its ACK).
//  - Messages: PPID 51/56 are text, 53/57 binary (empty ones delivered
//    empty, RFC 8831 6.6), with the channel's stream id. Data on a stream
//    without an open channel, or with another PPID (the deprecated partial
//    PPIDs 52/54 included), is dropped and counted.
//  - Closing (RFC 8831 6.7): close() resets our outgoing stream; the peer
//    answers by resetting its own, then on_close(). A peer's reset closes
//    the channel (on_close) and is answered with ours. The stream id is
//    reused only once both directions are reset. When the association ends,
//    every channel closes (on_close each, then on_state).
//
// Callbacks follow SctpAssociation's rules (sctp_association.hpp): send_packet
// runs inside usrsctp and must not call back into the endpoint; the others
// run from receive_packet() / SctpStack::tick(), may call open / send /
// close / receive_packet, and must not destroy the endpoint.
//
// Threads: the slow-path lcore only (the SctpStack's). Allocates: channels
// in a map, their labels, DCEP messages; usrsctp underneath.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>

#include "datachannel/dcep.hpp"
#include "datachannel/sctp_association.hpp"

namespace isthmus::datachannel {

enum class MessageKind : uint8_t {
    Text,    // PPID 51 (56 when empty)
    Binary,  // PPID 53 (57 when empty)
};

struct DataChannel {
    uint16_t id = 0;           // the SCTP stream id, both directions
    OpenMessage params;        // type, reliability, priority, label, protocol
    bool local = false;        // we sent the OPEN
    bool acked = false;        // local: the ACK (or data) came back; remote: always
    bool closing = false;      // our outgoing stream is reset (or being reset)
    bool peer_closed = false;  // the peer reset its outgoing stream: on_close told
    bool reset_done = false;   // our outgoing reset finished (or failed)
};

struct EndpointOptions {
    bool dtls_client = false;    // our DTLS role: client opens even stream ids
    uint16_t max_channels = 64;  // channels at once, closing ones included
    SctpOptions sctp;
};

struct EndpointCallbacks {
    // An SCTP packet for the DTLS layer (SctpCallbacks::send_packet's rules).
    std::function<void(std::span<const uint8_t> packet)> send_packet;
    // The peer opened a channel; its ACK is queued.
    std::function<void(const DataChannel& channel)> on_open;
    // Optional: the peer acknowledged a channel we opened.
    std::function<void(uint16_t id)> on_ack;
    std::function<void(uint16_t id, MessageKind kind, std::span<const uint8_t> data)> on_message;
    // The channel closed: the peer reset it, our close() completed, or the
    // association ended. Once per channel.
    std::function<void(uint16_t id)> on_close;
    // The association: Up, Closed or Failed (after the channels' on_close).
    std::function<void(SctpState state)> on_state;
    // Optional: a send() said WouldBlock and there is room again.
    std::function<void()> on_writable;
};

// X(name) of the endpoint's counters (the association keeps its own).
#define ISTHMUS_DATACHANNEL_COUNTERS(X)                                                     \
    X(opened_local)      /* channels we opened (OPEN queued) */                             \
    X(opened_remote)     /* channels the peer opened (ACK queued) */                        \
    X(negotiated)        /* channels negotiated out of band (a=dcmap): no DCEP */           \
    X(closed)            /* channels closed, by either side or the association's end */     \
    X(acks_in)           /* ACKs of our OPENs */                                            \
    X(implicit_acks)     /* our OPENs answered by data before the ACK */                    \
    X(messages_in)       /* user messages delivered */                                      \
    X(messages_out)      /* user messages queued */                                         \
    X(open_wrong_parity) /* peer's OPEN on a stream id of our parity (RFC 8832 6) */        \
    X(open_busy)         /* peer's OPEN on a stream that has a channel */                   \
    X(open_bad_stream)   /* peer's OPEN on a stream we cannot send on */                    \
    X(open_over_limit)   /* peer's OPEN beyond max_channels: refused with a reset */        \
    X(ack_unsendable)    /* the ACK could not be queued: refused with a reset */            \
    X(dcep_malformed)    /* DCEP parse_dcep refused (dcep_errors() says why) */             \
    X(unexpected_ack)    /* an ACK with no OPEN of ours waiting for it */                   \
    X(data_no_channel)   /* user data on a stream without an open channel */                \
    X(unknown_ppid)      /* a PPID that is neither DCEP nor user data (52/54 included) */   \
    X(resets_no_channel) /* the peer reset a stream without a channel (e.g. one refused) */ \
    X(reset_failed)      /* our reset of a channel's stream was denied or failed */

struct EndpointCounters {
#define ISTHMUS_X(name) uint64_t name = 0;
    ISTHMUS_DATACHANNEL_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
};

struct OpenResult {
    SendResult result = SendResult::Ok;
    uint16_t id = 0;  // when Ok
};

class DataChannelEndpoint {
  public:
    // Makes the association (SctpAssociation's errors).
    DataChannelEndpoint(SctpStack& stack, EndpointOptions options, EndpointCallbacks callbacks);
    ~DataChannelEndpoint() = default;  // the association releases silently
    DataChannelEndpoint(const DataChannelEndpoint&) = delete;
    DataChannelEndpoint& operator=(const DataChannelEndpoint&) = delete;

    // SctpAssociation::connect / receive_packet (the DTLS leg is up / DTLS
    // application data arrived).
    void connect() { assoc_.connect(); }
    void receive_packet(std::span<const uint8_t> packet) { assoc_.receive_packet(packet); }

    // Opens a channel. `params.reliability` is the retransmission count or
    // the lifetime in ms (ChannelType); `params.priority` goes in the OPEN.
    // NotUp before the association is, NoStream when max_channels channels
    // exist or no stream id of our parity is free, else send()'s results for
    // the OPEN. On Ok the channel exists and send() may be called at once.
    OpenResult open(const OpenMessage& params);
    // A channel negotiated out of band (RFC 8832 5; the SDP a=dcmap of RFC
    // 8864): both sides make it on stream `id` with `params`, no DCEP OPEN or
    // ACK is sent, and any id may be used (no parity). Callable before the
    // association is up (send() says NotUp until it is). NoChannel when the
    // id has a channel, NoStream beyond max_channels or for id 65535.
    SendResult add_negotiated(uint16_t id, const OpenMessage& params);
    // One message on an open channel (closing ones refuse: NoChannel), with
    // the channel's ordering and reliability. Empty messages are fine.
    SendResult send(uint16_t id, MessageKind kind, std::span<const uint8_t> data);
    // Starts closing the channel: resets our outgoing stream; on_close once
    // the peer has reset its own. NoChannel if it is not open.
    SendResult close(uint16_t id);
    // Ends the association (SctpAssociation::close). Abort drops the
    // channels at once without on_close (the owner asked); Shutdown reports
    // them through on_close and on_state when it completes.
    void close_association(CloseMode mode = CloseMode::Abort);

    // The channel with that id (open or closing), or nullptr.
    const DataChannel* channel(uint16_t id) const;
    const std::map<uint16_t, DataChannel>& channels() const { return channels_; }
    SctpState state() const { return assoc_.state(); }
    const SctpAssociation& association() const { return assoc_; }
    const EndpointCounters& counters() const { return counters_; }
    // DCEP messages refused, by dcep.hpp's reason.
    uint64_t dcep_errors(DcepError e) const { return dcep_errors_[static_cast<std::size_t>(e)]; }

  private:
    void on_message(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data);
    void on_dcep(uint16_t stream, std::span<const uint8_t> data);
    void on_open_message(uint16_t stream, const OpenMessage& open);
    void on_ack(uint16_t stream);
    void on_stream_reset(uint16_t stream);
    void on_reset_done(uint16_t stream, bool performed);
    void on_state(SctpState state);
    void forget_if_done(uint16_t id);  // both directions reset: the id is free
    static SendOptions send_options(const DataChannel& ch);

    EndpointOptions options_;
    EndpointCallbacks cb_;
    std::map<uint16_t, DataChannel> channels_;
    EndpointCounters counters_;
    std::array<uint64_t, kDcepErrorCount> dcep_errors_{};
    SctpAssociation assoc_;  // last: its callbacks reach the members above
};

}  // namespace isthmus::datachannel
