// Helpers of the P-CSCF core tests: a fake clock (milliseconds since t0),
// the core under test with a fixed configuration and deterministic random
// numbers, the peers on both sides (browsers on WSS flows, the I-CSCF and
// S-CSCF over UDP), the messages a browser and the IMS send, and the core's
// outputs parsed back with the SIP parser so that tests check them header
// by header.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pcscf/core.hpp"
#include "sip/headers.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "sip/transaction_match.hpp"

namespace isthmus::pcscf::test {

using sip::Message;

// "\n" -> "\r\n".
inline std::string wire(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') out.push_back('\r');
        out.push_back(c);
    }
    return out;
}

inline Peer browser(uint64_t flow = 42) {
    Peer p;
    p.transport = Transport::Wss;
    p.flow = flow;
    p.address = v4_mapped(198, 51, 100, 7);
    p.port = static_cast<uint16_t>(50000 + flow);
    return p;
}
inline Peer icscf() {
    Peer p;
    p.transport = Transport::Udp;
    p.address = v4_mapped(198, 18, 0, 10);
    p.port = 5060;
    return p;
}
inline Peer scscf() {
    Peer p = icscf();
    p.address = v4_mapped(198, 18, 0, 11);
    return p;
}

inline constexpr std::string_view kAor = "sip:alice@ims.example.net";
inline constexpr std::string_view kContact = "sip:a1b2c3@df7jal23ls0d.invalid;transport=ws";
inline constexpr std::string_view kServiceRoute = "<sip:orig@scscf.ims.example.net:6060;lr>";

inline Message parse(const std::string& bytes) {
    sip::ParseResult r = sip::parse_message(bytes, sip::Framing::Datagram);
    EXPECT_EQ(r.status, sip::ParseStatus::Ok) << r.reason << "\n" << bytes;
    return r.message;
}

// One output of the core, parsed.
struct Sent {
    Output::Kind kind = Output::Kind::Send;
    Peer to;
    Message msg;
};

inline std::string text(const Message& m, std::string_view name) {
    const auto v = m.header(name);
    return v ? std::string(*v) : std::string();
}
inline std::vector<std::string> values(const Message& m, std::string_view name) {
    std::vector<std::string> out;
    for (std::string_view v : m.headers(name))
        out.emplace_back(v);
    return out;
}

// A request from a browser (JsSIP-like): WSS Via on a .invalid host with
// rport, From/To of `aor`.
inline Message browser_request(std::string_view method, std::string_view branch, uint32_t cseq = 1,
                               std::string_view call_id = "call-1",
                               std::string_view target = "sip:bob@ims.example.net") {
    Message m = sip::make_request(method, *sip::parse_uri(target));
    m.add("Via", "SIP/2.0/WSS df7jal23ls0d.invalid;branch=" + std::string(branch) + ";rport");
    m.add("Max-Forwards", "70");
    m.add("To", "<" + std::string(target) + ">");
    m.add("From", "<" + std::string(kAor) + ">;tag=ue-tag");
    m.add("Call-ID", call_id);
    m.add("CSeq", std::to_string(cseq) + " " + std::string(method));
    return m;
}

inline Message browser_register(uint32_t cseq, std::string_view branch,
                                std::string_view expires = "600") {
    Message m = browser_request("REGISTER", branch, cseq, "reg-call-1", "sip:ims.example.net");
    m.set("To", "<" + std::string(kAor) + ">");
    m.add("Contact", "<" + std::string(kContact) +
                         ">;+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\";"
                         "reg-id=1;expires=" +
                         std::string(expires));
    m.add("Expires", expires);
    m.add("Supported", "outbound, gruu");
    return m;
}

// The response a server sends to `request` (what the core forwarded): its
// Via list, From, To (with a tag on all but 100), Call-ID, CSeq.
inline Message response_to(const Message& request, uint16_t code, std::string_view reason,
                           std::string_view to_tag = "ims-tag") {
    Message r = sip::make_response_to(request, code, reason);
    if (code > 100) {
        const auto to = sip::parse_name_addr(text(r, "To"));
        if (to && !to->tag()) r.set("To", text(r, "To") + ";tag=" + std::string(to_tag));
    }
    return r;
}

inline PcscfConfig default_config() {
    PcscfConfig c;
    c.w2_host = "pcscf.example.net";
    c.w2_port = 443;
    c.mw_host = "198.18.0.1";
    c.mw_port = 5060;
    c.ims_next_hop = icscf();
    c.static_routes = {StaticRoute{"scscf.ims.example.net", std::nullopt, scscf()}};
    c.visited_network_id = "visited.example.net";
    c.orig_ioi = "pcscf.visited.example.net";
    c.flow_token_key = "0123456789abcdef0123456789abcdef";
    c.random = [n = uint64_t{0x1000}]() mutable { return n++; };
    return c;
}

class CoreFixture : public ::testing::Test {
  protected:
    CoreFixture() { make_core(); }

    void make_core() { core = std::make_unique<PcscfCore>(config); }

    static TimePoint at(int64_t ms) { return TimePoint{} + sip::Duration(ms); }
    static int64_t ms_of(TimePoint t) {
        return std::chrono::duration_cast<sip::Duration>(t - TimePoint{}).count();
    }

    std::vector<Sent> drain() {
        std::vector<Sent> out;
        while (auto o = core->poll()) {
            Sent s;
            s.kind = o->kind;
            s.to = o->to;
            if (o->kind == Output::Kind::Send) s.msg = parse(o->bytes);
            out.push_back(std::move(s));
        }
        return out;
    }
    std::vector<Sent> feed_bytes(std::string_view bytes, const Peer& from) {
        core->on_message(bytes, from, at(now_ms));
        return drain();
    }
    std::vector<Sent> feed(const Message& m, const Peer& from) {
        return feed_bytes(sip::serialize(m), from);
    }
    std::vector<Sent> close_flow(uint64_t flow) {
        core->on_flow_closed(flow, at(now_ms));
        return drain();
    }
    // Runs every deadline up to `limit_ms` in turn, as an event loop would.
    std::vector<Sent> run_until(int64_t limit_ms) {
        std::vector<Sent> out;
        while (auto d = core->next_deadline()) {
            if (ms_of(*d) > limit_ms) break;
            now_ms = std::max(now_ms, ms_of(*d));
            core->advance(at(now_ms));
            for (Sent& s : drain())
                out.push_back(std::move(s));
        }
        now_ms = std::max(now_ms, limit_ms);
        core->advance(at(now_ms));
        for (Sent& s : drain())
            out.push_back(std::move(s));
        return out;
    }

    // Exactly one output, a Send: returns it (a failed expectation otherwise).
    static Sent only(const std::vector<Sent>& out) {
        EXPECT_EQ(out.size(), 1u);
        for (const Sent& s : out)
            EXPECT_EQ(s.kind, Output::Kind::Send);
        return out.empty() ? Sent{} : out.front();
    }

    // The whole A.3.1 registration of flow `flow`: REGISTER, 401 from the
    // IMS, the retried REGISTER, 200 OK with Service-Route and
    // P-Associated-URI. Returns the 200 the browser received.
    Message register_flow(uint64_t flow = 42, std::string_view expires = "600") {
        const std::string b = "z9hG4bK-reg-" + std::to_string(flow) + "-" + std::to_string(++seq);
        const Sent fwd1 = only(feed(browser_register(1, b + "a", expires), browser(flow)));
        Message challenge = response_to(fwd1.msg, 401, "Unauthorized");
        challenge.add(
            "WWW-Authenticate",
            "Digest realm=\"ims.example.net\", nonce=\"abc\", algorithm=MD5, qop=\"auth\"");
        only(feed(challenge, icscf()));
        Message retry = browser_register(2, b + "b", expires);
        retry.add("Authorization",
                  "Digest username=\"alice@ims.example.net\", realm=\"ims.example.net\", "
                  "nonce=\"abc\", uri=\"sip:ims.example.net\", response=\"0123\"");
        const Sent fwd2 = only(feed(retry, browser(flow)));
        return only(feed(ok_to_register(fwd2.msg, expires), icscf())).msg;
    }

    // The S-CSCF's 200 OK to a forwarded REGISTER.
    static Message ok_to_register(const Message& forwarded, std::string_view expires = "600") {
        Message ok = response_to(forwarded, 200, "OK");
        ok.add("Contact", "<" + std::string(kContact) + ">;expires=" + std::string(expires));
        ok.add("Service-Route", kServiceRoute);
        ok.add("P-Associated-URI",
               "<sip:alice@ims.example.net>, <tel:+15551234567>, "
               "\"Alice Work\" <sip:alice.work@ims.example.net>");
        for (std::string_view p : forwarded.headers("Path"))
            ok.add("Path", p);
        return ok;
    }

    std::string token(uint64_t flow = 42) const { return core->flow_token(flow); }
    std::string path_uri(uint64_t flow = 42) const {
        return "<sip:" + token(flow) + "@198.18.0.1:5060;lr;ob>";
    }
    std::string w2_rr(uint64_t flow = 42) const {
        return "<sip:" + token(flow) + "@pcscf.example.net:443;transport=ws;lr>";
    }

    // A request from the IMS (S-CSCF) toward the browser registered on
    // `flow`: Route = our Path, Request-URI = the registered contact.
    Message ims_request(std::string_view method, std::string_view branch, uint64_t flow = 42) {
        Message m = sip::make_request(method, *sip::parse_uri(kContact));
        m.add("Via", "SIP/2.0/UDP 198.18.0.11:5060;branch=" + std::string(branch));
        m.add("Via", "SIP/2.0/UDP 198.18.0.20:5060;branch=z9hG4bK-far-end");
        m.add("Max-Forwards", "65");
        m.add("Route", path_uri(flow));
        m.add("To", "<" + std::string(kAor) + ">");
        m.add("From", "<sip:bob@ims.example.net>;tag=bob-tag");
        m.add("Call-ID", "ims-call-1");
        m.add("CSeq", "7 " + std::string(method));
        m.add("P-Asserted-Identity", "<sip:bob@ims.example.net>");
        m.add("P-Charging-Vector", "icid-value=ims-icid-1;orig-ioi=home.example.net");
        return m;
    }

    const CoreStats& stats() const { return core->stats(); }
    uint64_t refused(Refusal r) const { return stats().refused[static_cast<std::size_t>(r)]; }
    uint64_t dropped(Drop d) const { return stats().dropped[static_cast<std::size_t>(d)]; }

    PcscfConfig config = default_config();
    std::unique_ptr<PcscfCore> core;
    int64_t now_ms = 0;
    int seq = 0;
};

}  // namespace isthmus::pcscf::test
