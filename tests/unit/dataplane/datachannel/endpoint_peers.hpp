// Two DataChannelEndpoints back to back over a Wire (sctp_wire.hpp): side 0
// is the DTLS client (opens even stream ids), side 1 the server (odd ids).
#pragma once

#include <memory>
#include <string>

#include "datachannel/data_channel.hpp"
#include "sctp_wire.hpp"

namespace isthmus::datachannel::testing {

struct ChannelMessage {
    uint16_t id;
    MessageKind kind;
    Bytes data;
};

struct EndpointSide {
    std::unique_ptr<DataChannelEndpoint> ep;
    std::vector<DataChannel> opened;  // on_open
    std::vector<uint16_t> acked;      // on_ack
    std::vector<ChannelMessage> messages;
    std::vector<uint16_t> closed;  // on_close
    std::vector<SctpState> states;
    int writable = 0;
    std::function<void(const ChannelMessage&)> after_message;  // a test's hook
};

inline EndpointOptions client_options() {
    EndpointOptions o;
    o.dtls_client = true;
    return o;
}
inline EndpointOptions server_options() {
    EndpointOptions o;
    o.dtls_client = false;
    return o;
}

// The callbacks of an endpoint recording into `s`, sending through `out`.
inline EndpointCallbacks recording(EndpointSide& s, Receiver out) {
    return EndpointCallbacks{
        .send_packet = std::move(out),
        .on_open = [&s](const DataChannel& ch) { s.opened.push_back(ch); },
        .on_ack = [&s](uint16_t id) { s.acked.push_back(id); },
        .on_message =
            [&s](uint16_t id, MessageKind kind, std::span<const uint8_t> d) {
                s.messages.push_back({id, kind, Bytes(d.begin(), d.end())});
                if (s.after_message) s.after_message(s.messages.back());
            },
        .on_close = [&s](uint16_t id) { s.closed.push_back(id); },
        .on_state = [&s](SctpState st) { s.states.push_back(st); },
        .on_writable = [&s] { ++s.writable; },
    };
}

class Endpoints {
  public:
    Endpoints(SctpStack& stack, EndpointOptions client = client_options(),
              EndpointOptions server = server_options())
        : wire(stack) {
        client.dtls_client = true;
        server.dtls_client = false;
        make(stack, 0, client);
        make(stack, 1, server);
    }

    DataChannelEndpoint& client() { return *side[0].ep; }
    DataChannelEndpoint& server() { return *side[1].ep; }

    bool up() {
        client().connect();
        server().connect();
        return wire.run_until(
            [&] { return client().state() == SctpState::Up && server().state() == SctpState::Up; });
    }
    // Runs until the ACK of `id` reached `opener` (0 or 1).
    bool acked(int opener, uint16_t id) {
        return wire.run_until([&] {
            const auto& a = side[opener].acked;
            return std::find(a.begin(), a.end(), id) != a.end();
        });
    }

    Wire wire;
    EndpointSide side[2];

  private:
    void make(SctpStack& stack, int i, const EndpointOptions& o) {
        EndpointSide& s = side[i];
        s.ep = std::make_unique<DataChannelEndpoint>(stack, o, recording(s, wire.sender(i)));
        wire.attach(i, [&s](std::span<const uint8_t> p) { s.ep->receive_packet(p); });
    }
};

inline OpenMessage channel(std::string label, ChannelType type = ChannelType::Reliable,
                           uint32_t reliability = 0, std::string protocol = "") {
    OpenMessage m;
    m.label = std::move(label);
    m.protocol = std::move(protocol);
    m.channel_type = type;
    m.reliability = reliability;
    return m;
}

inline Bytes text(std::string_view s) {
    return Bytes(s.begin(), s.end());
}

}  // namespace isthmus::datachannel::testing
