// Helpers of the transaction layer tests: a fake clock (milliseconds since
// t0), the layer under test, messages on both sides (a P-CSCF sending toward
// the IMS, a browser's requests arriving over WSS), and a way to run the
// timers and collect what the layer asked for, with the time it asked.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/transaction_match.hpp"

namespace isthmus::sip::test {

inline Peer udp_peer() {
    Peer p;
    p.transport = Transport::Udp;
    p.flow = 7;
    p.address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 2};
    p.port = 5060;
    return p;
}
inline Peer tcp_peer() {
    Peer p = udp_peer();
    p.transport = Transport::Tcp;
    p.flow = 8;
    return p;
}
inline Peer wss_peer() {
    Peer p;
    p.transport = Transport::Wss;
    p.flow = 42;  // the browser's WebSocket connection
    return p;
}

inline Message parse_bytes(const std::string& bytes) {
    ParseResult r = parse_message(bytes, Framing::Datagram);
    EXPECT_EQ(r.status, ParseStatus::Ok) << r.reason << "\n" << bytes;
    return r.message;
}

// A request the P-CSCF sends toward the IMS: its own Via on top (with the
// given parameters, e.g. ";branch=z9hG4bKx"; none: the layer adds one).
inline Message outgoing_request(std::string_view method, std::string_view via_params = "",
                                std::string_view transport = "UDP") {
    Message m = make_request(method, *parse_uri("sip:bob@ims.example.net"));
    m.add("Via", "SIP/2.0/" + std::string(transport) + " pcscf.example.net:5060" +
                     std::string(via_params));
    m.add("Via", "SIP/2.0/WSS ue.invalid;branch=z9hG4bK-ue-0;received=198.51.100.7");
    m.add("Max-Forwards", "69");
    m.add("Route", "<sip:scscf.ims.example.net;lr>");
    m.add("From", "<sip:alice@ims.example.net>;tag=a1");
    m.add("To", "<sip:bob@ims.example.net>");
    m.add("Call-ID", "call-1@pcscf.example.net");
    m.add("CSeq", "1 " + std::string(method));
    m.add("Content-Length", "0");
    return m;
}

// A request arriving from a browser (or the IMS): top Via with `branch` and
// `sent_by`.
inline Message incoming_request(std::string_view method, std::string_view branch = "z9hG4bK-ue-1",
                                std::string_view sent_by = "ue.invalid", uint32_t cseq = 1) {
    Message m = make_request(method, *parse_uri("sip:bob@ims.example.net"));
    std::string via = "SIP/2.0/WSS " + std::string(sent_by);
    if (!branch.empty()) via += ";branch=" + std::string(branch);
    m.add("Via", via + ";rport");
    m.add("Max-Forwards", "70");
    m.add("From", "<sip:alice@ims.example.net>;tag=a1");
    m.add("To", "<sip:bob@ims.example.net>");
    m.add("Call-ID", "call-2@ue.invalid");
    m.add("CSeq", std::to_string(cseq) + " " + std::string(method == "ACK" ? "ACK" : method));
    m.add("Timestamp", "54");
    return m;
}

// The response a server would send to `request` (a To tag on all but 100).
inline Message response_to(const Message& request, uint16_t code, std::string_view reason = "X",
                           std::string_view to_tag = "b2") {
    Message r = make_response_to(request, code, reason);
    if (code > 100) {
        const std::string to(*r.header("To"));
        r.set("To", to + ";tag=" + std::string(to_tag));
    }
    return r;
}

// What the layer asked for, and when (ms after t0).
struct Timed {
    int64_t ms;
    Action action;
};

class TransactionFixture : public ::testing::Test {
  protected:
    TransactionFixture() { make_layer(); }

    // Rebuilds the layer from `config` (tests change it first).
    void make_layer() { layer = std::make_unique<TransactionLayer>(config); }

    static LayerConfig default_config() {
        LayerConfig c;
        c.random = [] { return uint64_t{0x0123456789abcdef}; };
        return c;
    }

    TimePoint at(int64_t ms) const { return TimePoint{} + Duration(ms); }
    static int64_t ms_of(TimePoint t) {
        return std::chrono::duration_cast<Duration>(t - TimePoint{}).count();
    }

    std::vector<Action> drain() {
        std::vector<Action> out;
        while (auto a = layer->poll())
            out.push_back(std::move(*a));
        return out;
    }

    // Advances to each deadline up to `limit_ms` in turn (as an event loop
    // would), collecting the actions with their time.
    std::vector<Timed> run_until(int64_t limit_ms) {
        std::vector<Timed> out;
        while (auto d = layer->next_deadline()) {
            if (ms_of(*d) > limit_ms) break;
            layer->advance(*d);
            for (Action& a : drain())
                out.push_back({ms_of(*d), std::move(a)});
        }
        return out;
    }

    static std::vector<int64_t> send_times(const std::vector<Timed>& events) {
        std::vector<int64_t> out;
        for (const Timed& e : events) {
            if (e.action.kind == ActionKind::Send) out.push_back(e.ms);
        }
        return out;
    }

    // Sends `request` from the client side at `ms` and returns its id,
    // leaving its Send action in `sent` (the request as it went out).
    TransactionId start_client(Message request, const Peer& peer, int64_t ms = 0) {
        const SendResult r = layer->send_request(std::move(request), peer, at(ms));
        EXPECT_EQ(r.status, SendStatus::Ok) << send_status_name(r.status);
        const std::vector<Action> actions = drain();
        EXPECT_EQ(actions.size(), 1u);
        if (!actions.empty()) {
            EXPECT_EQ(actions[0].kind, ActionKind::Send);
            sent = parse_bytes(*actions[0].bytes);
        }
        return r.transaction;
    }

    LayerConfig config = default_config();
    std::unique_ptr<TransactionLayer> layer;
    Message sent;  // the last request start_client sent
};

}  // namespace isthmus::sip::test
