// Two SctpAssociations back to back over a Wire (sctp_wire.hpp), recording
// what each one's callbacks said.
#pragma once

#include <memory>
#include <utility>

#include "sctp_wire.hpp"

namespace isthmus::datachannel::testing {

struct Message {
    uint16_t stream;
    uint32_t ppid;
    Bytes data;
};

struct Side {
    std::unique_ptr<SctpAssociation> assoc;
    std::vector<Message> messages;
    std::vector<SctpState> states;
    std::vector<uint16_t> resets_in;
    std::vector<std::pair<uint16_t, bool>> resets_done;
    int writable = 0;
    uint64_t packets = 0;                 // send_packet calls
    std::function<void()> after_message;  // a test's hook inside on_message
};

class Peers {
  public:
    Peers(SctpStack& stack, SctpOptions a = {}, SctpOptions b = {}, Clock* clock = nullptr)
        : wire(stack, clock) {
        make(stack, 0, a);
        make(stack, 1, b);
    }

    SctpAssociation& a() { return *side[0].assoc; }
    SctpAssociation& b() { return *side[1].assoc; }

    // Both connect (simultaneous open) and the wire runs until both are up.
    bool up() {
        a().connect();
        b().connect();
        return wire.run_until(
            [&] { return a().state() == SctpState::Up && b().state() == SctpState::Up; });
    }
    // The side is destroyed; packets toward it are lost from now on.
    void destroy(int i) {
        wire.detach(i);
        side[i].assoc.reset();
    }

    Wire wire;
    Side side[2];

  private:
    void make(SctpStack& stack, int i, SctpOptions o) {
        Side& s = side[i];
        const Receiver out = wire.sender(i);
        s.assoc = std::make_unique<SctpAssociation>(
            stack, o,
            SctpCallbacks{
                .send_packet =
                    [&s, out](std::span<const uint8_t> p) {
                        ++s.packets;
                        out(p);
                    },
                .on_message =
                    [&s](uint16_t stream, uint32_t ppid, std::span<const uint8_t> d) {
                        s.messages.push_back({stream, ppid, Bytes(d.begin(), d.end())});
                        if (s.after_message) s.after_message();
                    },
                .on_state = [&s](SctpState st) { s.states.push_back(st); },
                .on_stream_reset = [&s](uint16_t stream) { s.resets_in.push_back(stream); },
                .on_reset_done = [&s](uint16_t stream,
                                      bool ok) { s.resets_done.emplace_back(stream, ok); },
                .on_writable = [&s] { ++s.writable; },
            });
        wire.attach(i, [&s](std::span<const uint8_t> p) { s.assoc->receive_packet(p); });
    }
};

}  // namespace isthmus::datachannel::testing
