#include "datachannel/data_channel.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace isthmus::datachannel {

namespace {

constexpr uint32_t ppid(Ppid p) {
    return static_cast<uint32_t>(p);
}

}  // namespace

DataChannelEndpoint::DataChannelEndpoint(SctpStack& stack, EndpointOptions options,
                                         EndpointCallbacks callbacks)
    : options_(std::move(options)),
      cb_(std::move(callbacks)),
      assoc_(
          stack, options_.sctp,
          SctpCallbacks{
              .send_packet =
                  [this](std::span<const uint8_t> packet) {
                      if (cb_.send_packet) cb_.send_packet(packet);
                  },
              .on_message = [this](uint16_t stream, uint32_t p,
                                   std::span<const uint8_t> data) { on_message(stream, p, data); },
              .on_state = [this](SctpState s) { on_state(s); },
              .on_stream_reset = [this](uint16_t stream) { on_stream_reset(stream); },
              .on_reset_done = [this](uint16_t stream,
                                      bool performed) { on_reset_done(stream, performed); },
              .on_writable =
                  [this] {
                      if (cb_.on_writable) cb_.on_writable();
                  },
          }) {}

const DataChannel* DataChannelEndpoint::channel(uint16_t id) const {
    const auto it = channels_.find(id);
    return it == channels_.end() ? nullptr : &it->second;
}

SendOptions DataChannelEndpoint::send_options(const DataChannel& ch) {
    const ChannelType type = ch.params.channel_type;
    SendOptions o;
    // RFC 8832 6: ordered until the ACK, so nothing overtakes the OPEN.
    o.ordered = is_ordered(type) || (ch.local && !ch.acked);
    if (!is_reliable(type)) {
        o.policy = is_rexmit(type) ? PrPolicy::MaxRetransmits : PrPolicy::MaxLifetime;
        o.pr_value = ch.params.reliability;
    }
    return o;
}

OpenResult DataChannelEndpoint::open(const OpenMessage& params) {
    const SctpState s = assoc_.state();
    if (s > SctpState::Up) return {SendResult::Closed, 0};
    if (s != SctpState::Up) return {SendResult::NotUp, 0};
    if (channels_.size() >= options_.max_channels) return {SendResult::NoStream, 0};
    // A channel uses its id both ways: it must exist in both directions.
    const uint32_t limit = std::min(assoc_.outbound_streams(), assoc_.inbound_streams());
    uint32_t id = options_.dtls_client ? 0 : 1;  // RFC 8832 6
    while (id < limit && channels_.contains(static_cast<uint16_t>(id)))
        id += 2;
    if (id >= limit) return {SendResult::NoStream, 0};
    const auto stream = static_cast<uint16_t>(id);

    OpenMessage m = params;
    if (is_reliable(m.channel_type)) m.reliability = 0;
    const SendResult r = assoc_.send(stream, ppid(Ppid::Dcep), write_open(m));
    if (r != SendResult::Ok) return {r, 0};
    DataChannel ch;
    ch.id = stream;
    ch.params = std::move(m);
    ch.local = true;
    channels_.emplace(stream, std::move(ch));
    ++counters_.opened_local;
    return {SendResult::Ok, stream};
}

SendResult DataChannelEndpoint::add_negotiated(uint16_t id, const OpenMessage& params) {
    if (id == 0xFFFF) return SendResult::NoStream;
    if (channels_.contains(id)) return SendResult::NoChannel;  // taken
    if (channels_.size() >= options_.max_channels) return SendResult::NoStream;
    DataChannel ch;
    ch.id = id;
    ch.params = params;
    if (is_reliable(ch.params.channel_type)) ch.params.reliability = 0;
    ch.local = true;
    ch.acked = true;  // nothing to acknowledge: both sides made it (RFC 8832 5)
    channels_.emplace(id, std::move(ch));
    ++counters_.negotiated;
    return SendResult::Ok;
}

SendResult DataChannelEndpoint::send(uint16_t id, MessageKind kind, std::span<const uint8_t> data) {
    const auto it = channels_.find(id);
    if (it == channels_.end() || it->second.closing) return SendResult::NoChannel;
    const uint32_t p = kind == MessageKind::Text ? ppid(Ppid::String) : ppid(Ppid::Binary);
    const SendResult r = assoc_.send(id, p, data, send_options(it->second));
    if (r == SendResult::Ok) ++counters_.messages_out;
    return r;
}

SendResult DataChannelEndpoint::close(uint16_t id) {
    const auto it = channels_.find(id);
    if (it == channels_.end() || it->second.closing) return SendResult::NoChannel;
    it->second.closing = true;
    const SendResult r = assoc_.reset_stream(id);
    if (r != SendResult::Ok) it->second.reset_done = true;  // nothing will come of it
    return r;
}

void DataChannelEndpoint::close_association(CloseMode mode) {
    assoc_.close(mode);
    if (assoc_.state() != SctpState::ShuttingDown) channels_.clear();
}

// --- from the association ----------------------------------------------------------

void DataChannelEndpoint::on_message(uint16_t stream, uint32_t p, std::span<const uint8_t> data) {
    MessageKind kind = MessageKind::Binary;
    switch (p) {
        case ppid(Ppid::Dcep):
            on_dcep(stream, data);
            return;
        case ppid(Ppid::String):
        case ppid(Ppid::StringEmpty):
            kind = MessageKind::Text;
            break;
        case ppid(Ppid::Binary):
        case ppid(Ppid::BinaryEmpty):
            kind = MessageKind::Binary;
            break;
        default:
            ++counters_.unknown_ppid;
            return;
    }
    const auto it = channels_.find(stream);
    if (it == channels_.end() || it->second.peer_closed) {
        ++counters_.data_no_channel;
        return;
    }
    DataChannel& ch = it->second;
    if (ch.local && !ch.acked) {  // the peer has the channel: its ACK is overtaken
        ch.acked = true;
        ++counters_.implicit_acks;
    }
    ++counters_.messages_in;
    if (cb_.on_message) cb_.on_message(stream, kind, data);
}

void DataChannelEndpoint::on_dcep(uint16_t stream, std::span<const uint8_t> data) {
    const DcepMessage m = parse_dcep(data);
    if (!m.ok()) {
        ++counters_.dcep_malformed;
        ++dcep_errors_[static_cast<std::size_t>(m.error)];
        return;
    }
    if (m.type == MessageType::Open)
        on_open_message(stream, m.open);
    else
        on_ack(stream);
}

void DataChannelEndpoint::on_open_message(uint16_t stream, const OpenMessage& open) {
    // RFC 8832 6: the peer opens on the other parity than ours.
    if (!opens_on(stream, !options_.dtls_client)) {
        ++counters_.open_wrong_parity;
        return;
    }
    if (channels_.contains(stream)) {
        ++counters_.open_busy;
        return;
    }
    if (stream >= assoc_.outbound_streams()) {  // we could never answer on it
        ++counters_.open_bad_stream;
        return;
    }
    if (channels_.size() >= options_.max_channels) {
        ++counters_.open_over_limit;
        assoc_.reset_stream(stream);
        return;
    }
    if (assoc_.send(stream, ppid(Ppid::Dcep), write_ack()) != SendResult::Ok) {
        ++counters_.ack_unsendable;
        assoc_.reset_stream(stream);
        return;
    }
    DataChannel ch;
    ch.id = stream;
    ch.params = open;
    ch.acked = true;
    channels_.emplace(stream, ch);
    ++counters_.opened_remote;
    // A copy: the callback may end the association (which clears the map).
    if (cb_.on_open) cb_.on_open(ch);
}

void DataChannelEndpoint::on_ack(uint16_t stream) {
    const auto it = channels_.find(stream);
    if (it == channels_.end() || !it->second.local || it->second.acked) {
        ++counters_.unexpected_ack;
        return;
    }
    it->second.acked = true;
    ++counters_.acks_in;
    if (cb_.on_ack) cb_.on_ack(stream);
}

void DataChannelEndpoint::on_stream_reset(uint16_t stream) {
    const auto it = channels_.find(stream);
    if (it == channels_.end() || it->second.peer_closed) {
        ++counters_.resets_no_channel;
        return;
    }
    DataChannel& ch = it->second;
    ch.peer_closed = true;
    if (!ch.closing) {  // RFC 8831 6.7: the peer closed it; reset ours in turn
        ch.closing = true;
        if (assoc_.reset_stream(stream) != SendResult::Ok) ch.reset_done = true;
    }
    ++counters_.closed;
    if (cb_.on_close) cb_.on_close(stream);
    forget_if_done(stream);
}

void DataChannelEndpoint::on_reset_done(uint16_t stream, bool performed) {
    const auto it = channels_.find(stream);
    if (it == channels_.end()) return;
    if (!performed) ++counters_.reset_failed;
    it->second.reset_done = true;
    forget_if_done(stream);
}

void DataChannelEndpoint::forget_if_done(uint16_t id) {
    const auto it = channels_.find(id);
    if (it != channels_.end() && it->second.peer_closed && it->second.reset_done)
        channels_.erase(it);
}

void DataChannelEndpoint::on_state(SctpState state) {
    if (state == SctpState::Closed || state == SctpState::Failed) {
        std::vector<uint16_t> open;
        for (const auto& [id, ch] : channels_)
            if (!ch.peer_closed) open.push_back(id);
        channels_.clear();
        for (const uint16_t id : open) {
            ++counters_.closed;
            if (cb_.on_close) cb_.on_close(id);
        }
    }
    if (cb_.on_state) cb_.on_state(state);
}

}  // namespace isthmus::datachannel
