// The call rig of pcscf_core_bench (pcscf_core_bench.cpp says what it
// measures): one PcscfCore with FLOWS browsers registered, the IMS on the
// far side, and whole calls through it, each message checked, the time
// inside the core's calls added up apart.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "isthmus/dpif/messages.hpp"
#include "pcscf/core.hpp"
#include "sip/headers.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "sip/transaction_match.hpp"

namespace isthmus::bench::pcscf_core {

using pcscf::Output;
using pcscf::PcscfCore;
using pcscf::Peer;
using pcscf::TimePoint;
using pcscf::Transport;
using sip::Message;
using SteadyClock = std::chrono::steady_clock;

inline constexpr std::string_view kFingerprint =
    "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"
    "FF:00";
inline constexpr std::string_view kDataplaneFingerprint =
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:"
    "88:99";
inline constexpr std::string_view kServiceRoute = "<sip:orig@scscf.ims.example.net:6060;lr>";

inline std::string crlf(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') out.push_back('\r');
        out.push_back(c);
    }
    return out;
}

// The browser's transport lines of its audio m= line (one host candidate).
inline std::string browser_transport(std::string_view setup) {
    return "c=IN IP4 0.0.0.0\n"
           "a=rtcp:9 IN IP4 0.0.0.0\n"
           "a=candidate:3574069562 1 udp 2122260223 198.51.100.7 50123 typ host generation 0 "
           "network-id 1\n"
           "a=ice-ufrag:Hx3c\n"
           "a=ice-pwd:y1Xk2Zq4bq6Q0m9yE1fE0c7h\n"
           "a=ice-options:trickle\n"
           "a=fingerprint:sha-256 " +
           std::string(kFingerprint) + "\na=setup:" + std::string(setup) + "\n";
}

// Chrome 120's audio offer, as the load tool sends it.
inline const std::string kBrowserOffer = crlf(
    "v=0\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\n"
    "s=-\n"
    "t=0 0\n"
    "a=group:BUNDLE 0\n"
    "a=extmap-allow-mixed\n"
    "a=msid-semantic: WMS 3b0e4f2c\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 126\n" +
    browser_transport("actpass") +
    "a=mid:0\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\n"
    "a=sendrecv\n"
    "a=msid:3b0e4f2c 9a3f2b1c\n"
    "a=rtcp-mux\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=rtcp-fb:111 transport-cc\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:126 telephone-event/8000\n"
    "a=ssrc:1001 cname:Yq2xk7\n"
    "a=ssrc:1001 msid:3b0e4f2c 9a3f2b1c\n");

// The browser's answer to an IMS offer (setup active).
inline const std::string kBrowserAnswer = crlf(
    "v=0\n"
    "o=- 7100 2 IN IP4 127.0.0.1\n"
    "s=-\n"
    "t=0 0\n"
    "a=group:BUNDLE 0\n"
    "a=msid-semantic: WMS 3b0e4f2c\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 0 126\n" +
    browser_transport("active") +
    "a=mid:0\n"
    "a=sendrecv\n"
    "a=msid:3b0e4f2c 9a3f2b1c\n"
    "a=rtcp-mux\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:126 telephone-event/8000\n"
    "a=ssrc:1001 cname:Yq2xk7\n");

// What a VoLTE-ish UE (bob) sends, offer or answer: RTP/AVP, PCMU and
// telephone-event.
inline const std::string kImsSdp = crlf(
    "v=0\n"
    "o=bob 2890844527 2890844527 IN IP4 198.18.5.20\n"
    "s=-\n"
    "c=IN IP4 198.18.5.20\n"
    "t=0 0\n"
    "m=audio 40000 RTP/AVP 0 126\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:126 telephone-event/8000\n"
    "a=fmtp:126 0-15\n"
    "a=ptime:20\n"
    "a=sendrecv\n");

inline Peer browser_peer(uint64_t flow) {
    Peer p;
    p.transport = Transport::Ws;
    p.flow = flow;
    p.address = pcscf::v4_mapped(198, 51, 100, 7);
    p.port = static_cast<uint16_t>(40000 + flow % 20000);
    return p;
}
inline Peer icscf() {
    Peer p;
    p.transport = Transport::Udp;
    p.address = pcscf::v4_mapped(198, 18, 0, 10);
    p.port = 5060;
    return p;
}
inline Peer scscf() {
    Peer p = icscf();
    p.address = pcscf::v4_mapped(198, 18, 0, 11);
    return p;
}

[[noreturn]] inline void fail(const std::string& what) {
    throw std::runtime_error(what);
}

inline std::string text(const Message& m, std::string_view name) {
    const auto v = m.header(name);
    return v ? std::string(*v) : std::string();
}

inline Message response_to(const Message& request, uint16_t code, std::string_view reason,
                           std::string_view to_tag) {
    Message r = sip::make_response_to(request, code, reason);
    if (code > 100) {
        const auto to = sip::parse_name_addr(text(r, "To"));
        if (to && !to->tag()) r.set("To", text(r, "To") + ";tag=" + std::string(to_tag));
    }
    return r;
}

struct Sent {
    Peer to;
    Message msg;
};

enum class Direction : uint8_t { Orig, Term };

struct Mode {
    const char* name;
    Direction direction;
    bool media;
};

// One core and its far ends.
class Rig {
  public:
    Rig(const Mode& mode, unsigned flows, unsigned rate) : mode_(mode), flows_(flows) {
        step_ns_ = 1'000'000'000 / std::max(1u, rate);
        pcscf::PcscfConfig c;
        c.w2_host = "pcscf.example.net";
        c.w2_port = 443;
        c.mw_host = "198.18.0.1";
        c.mw_port = 5060;
        c.ims_next_hop = icscf();
        c.static_routes = {pcscf::StaticRoute{"scscf.ims.example.net", std::nullopt, scscf()},
                           pcscf::StaticRoute{"198.18.0.11", std::nullopt, scscf()}};
        c.visited_network_id = "visited.example.net";
        c.orig_ioi = "pcscf.visited.example.net";
        c.flow_token_key = "0123456789abcdef0123456789abcdef";
        c.max_flows = flows + 16;
        c.max_registrations = flows + 16;
        c.max_transactions = 1'000'000;  // as call_bench.sh: 32 s of lingering INVITEs
        c.media.enabled = mode.media;
        c.media.access_address = "198.18.7.1";
        c.media.core_address = "198.18.8.1";
        c.media.access_ports = {20000, 29999};
        c.media.core_ports = {30000, 39999};
        c.media.workers = 1;
        core_ = std::make_unique<PcscfCore>(c);
        if (mode.media) {
            core_->set_dataplane(std::string(kDataplaneFingerprint), now());
            answer_commands(0, 0, 0);  // the first resync
        }
        for (unsigned f = 1; f <= flows_; ++f)
            register_flow(f);
        messages_in_ = messages_out_ = commands_ = 0;  // per call from here
    }

    // One call, checked. Returns the nanoseconds spent in the core.
    uint64_t call() {
        core_ns_ = 0;
        const uint64_t flow = 1 + (calls_ % flows_);
        ++calls_;
        if (mode_.direction == Direction::Orig)
            orig_call(flow);
        else
            term_call(flow);
        tick();
        return core_ns_;
    }

    // At the end: no transaction, proxy entry, call or command left once
    // every deadline ran.
    void finish() {
        time_ns_ += 40'000'000'000;  // past every lingering transaction
        timed([&] { core_->advance(now()); });
        if (mode_.media) answer_commands(0, 0, 0);
        if (core_->invites_in_setup() != 0) fail("INVITEs left in setup");
        if (core_->transactions() != 0)
            fail("transactions left: " + std::to_string(core_->transactions()));
        if (core_->proxy_entries() != 0)
            fail("proxy state left: " + std::to_string(core_->proxy_entries()) + " entries");
        for (const Sent& s : drain())
            if (s.msg.is_request()) fail("a " + s.msg.method + " sent at the end");
        if (const pcscf::MediaAlg* m = core_->media(); m && m->calls() != 0)
            fail("media calls left: " + std::to_string(m->calls()));
    }

    // The core's drop and refusal counters that are not zero, for a failure.
    std::string counters() const {
        std::string out;
        const pcscf::CoreStats& st = core_->stats();
        for (std::size_t i = 0; i < st.dropped.size(); ++i)
            if (st.dropped[i] != 0)
                out += " dropped[" + std::to_string(i) + "]=" + std::to_string(st.dropped[i]);
        for (std::size_t i = 0; i < st.refused.size(); ++i)
            if (st.refused[i] != 0)
                out += " refused[" + std::to_string(i) + "]=" + std::to_string(st.refused[i]);
        return out;
    }

    uint64_t messages_in() const { return messages_in_; }
    uint64_t messages_out() const { return messages_out_; }
    uint64_t commands() const { return commands_; }

  private:
    TimePoint now() const { return TimePoint{} + std::chrono::nanoseconds(time_ns_); }

    template <typename F>
    void timed(F&& f) {
        const auto t0 = SteadyClock::now();
        f();
        core_ns_ += static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t0).count());
    }

    // Every output of the core: polled in the timed part, parsed outside it.
    std::vector<Sent> drain() {
        std::vector<Output> raw;
        timed([&] {
            while (auto o = core_->poll())
                raw.push_back(std::move(*o));
        });
        std::vector<Sent> out;
        for (Output& o : raw) {
            if (o.kind != Output::Kind::Send) fail("the core closed a flow");
            sip::ParseResult r = sip::parse_message(o.bytes, sip::Framing::Datagram);
            if (r.status != sip::ParseStatus::Ok) fail("unparsable output: " + r.reason);
            out.push_back(Sent{o.to, std::move(r.message)});
        }
        messages_out_ += out.size();
        return out;
    }

    std::vector<Sent> feed(const Message& m, const Peer& from) {
        last_from_ = from;
        last_was_invite_ = m.method == "INVITE";
        const std::string bytes = sip::serialize(m);
        ++messages_in_;
        timed([&] { core_->on_message(bytes, from, now()); });
        return drain();
    }

    // Answers each queued command Ok; checks there are `creates` creates,
    // `updates` updates and `deletes` deletes.
    void answer_commands(unsigned creates, unsigned updates, unsigned deletes) {
        std::vector<dpif::Command> cmds;
        timed([&] {
            while (auto c = core_->poll_command())
                cmds.push_back(*c);
        });
        unsigned seen[3] = {0, 0, 0};
        for (const dpif::Command& c : cmds) {
            if (c.hdr.type == dpif::MsgType::SessionCreate)
                ++seen[0];
            else if (c.hdr.type == dpif::MsgType::SessionUpdate)
                ++seen[1];
            else if (c.hdr.type == dpif::MsgType::SessionDelete)
                ++seen[2];
            else
                continue;  // a resync's markers
            dpif::Event ev{};
            ev.hdr.type = dpif::MsgType::Result;
            ev.hdr.session_id = c.hdr.session_id;
            ev.hdr.seq = c.hdr.seq;
            ev.hdr.generation = c.hdr.generation;
            ev.hdr.reserved = static_cast<uint32_t>(c.hdr.type);
            ev.result = dpif::ResultCode::Ok;
            timed([&] { core_->on_dataplane_event(ev, now()); });
        }
        if (seen[0] != creates || seen[1] != updates || seen[2] != deletes)
            fail("commands: " + std::to_string(seen[0]) + " creates, " + std::to_string(seen[1]) +
                 " updates, " + std::to_string(seen[2]) + " deletes");
        commands_ += cmds.size();
        if (!drain().empty()) fail("a dataplane Result made SIP messages");
    }

    // The deadlines of the time passed, on the daemon's 10 ms grid.
    void tick() {
        time_ns_ += step_ns_;
        if (time_ns_ - last_tick_ns_ < 10'000'000) return;
        last_tick_ns_ = time_ns_;
        timed([&] { core_->advance(now()); });
        for (const Sent& s : drain())
            if (s.msg.is_request() || s.msg.status_code != 100)
                fail("a deadline sent " +
                     (s.msg.is_request() ? s.msg.method : std::to_string(s.msg.status_code)));
    }

    static bool same_peer(const Peer& a, const Peer& b) {
        return a.transport == b.transport && a.flow == b.flow && a.address == b.address &&
               a.port == b.port;
    }

    // The one message `out` holds for `expected` (failing when there is
    // none, or more than one); any other message fails too, but a 100
    // Trying to the sender of the INVITE just fed.
    const Sent& one_to(const std::vector<Sent>& out, const Peer& expected, const char* what) const {
        const Sent* found = nullptr;
        for (const Sent& s : out) {
            if (s.msg.status_code == 100 && last_was_invite_ && same_peer(s.to, last_from_) &&
                !same_peer(s.to, expected))
                continue;
            if (!same_peer(s.to, expected)) {
                fail(std::string(what) + ": a " +
                     (s.msg.is_request() ? s.msg.method : std::to_string(s.msg.status_code)) +
                     " went to another peer");
            }
            if (found != nullptr) fail(std::string(what) + ": more than one message");
            found = &s;
        }
        if (found == nullptr) fail(std::string(what) + ": nothing sent");
        return *found;
    }

    std::string id(const char* prefix, uint64_t flow) const {
        return std::string(prefix) + std::to_string(calls_) + "-" + std::to_string(flow);
    }

    Message browser_request(std::string_view method, const std::string& branch, uint32_t cseq,
                            const std::string& call_id, std::string_view target,
                            uint64_t flow) const {
        Message m = sip::make_request(method, *sip::parse_uri(target));
        m.add("Via", "SIP/2.0/WSS df7jal23ls0d.invalid;branch=" + branch + ";rport");
        m.add("Max-Forwards", "70");
        m.add("To", "<" + std::string(target) + ">");
        m.add("From", "<" + aor(flow) + ">;tag=ue" + std::to_string(flow));
        m.add("Call-ID", call_id);
        m.add("CSeq", std::to_string(cseq) + " " + std::string(method));
        m.add("User-Agent", "JsSIP 3.10.1");
        return m;
    }
    static std::string aor(uint64_t flow) {
        return "sip:user" + std::to_string(flow) + "@ims.example.net";
    }
    static std::string contact(uint64_t flow) {
        return "sip:c" + std::to_string(flow) + "@df7jal23ls0d.invalid;transport=ws";
    }

    void register_flow(uint64_t flow) {
        auto reg = [&](uint32_t cseq, const std::string& branch) {
            Message m = browser_request("REGISTER", branch, cseq, "reg-" + std::to_string(flow),
                                        "sip:ims.example.net", flow);
            m.set("To", "<" + aor(flow) + ">");
            m.add("Contact", "<" + contact(flow) +
                                 ">;+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-"
                                 "00a0c91e6bf6>\";reg-id=1;expires=7200");
            m.add("Expires", "7200");
            m.add("Supported", "path, outbound, gruu");
            return m;
        };
        const Sent fwd1 =
            one_to(feed(reg(1, id("z9hG4bK-r1-", flow)), browser_peer(flow)), icscf(), "REGISTER");
        Message challenge = response_to(fwd1.msg, 401, "Unauthorized", "reg");
        challenge.add("WWW-Authenticate",
                      "Digest realm=\"ims.example.net\", nonce=\"abc\", algorithm=MD5, "
                      "qop=\"auth\"");
        one_to(feed(challenge, icscf()), browser_peer(flow), "401");
        Message retry = reg(2, id("z9hG4bK-r2-", flow));
        retry.add("Authorization", "Digest username=\"user" + std::to_string(flow) +
                                       "@ims.example.net\", realm=\"ims.example.net\", "
                                       "nonce=\"abc\", uri=\"sip:ims.example.net\", "
                                       "response=\"0123\"");
        const Sent fwd2 = one_to(feed(retry, browser_peer(flow)), icscf(), "second REGISTER");
        Message ok = response_to(fwd2.msg, 200, "OK", "reg");
        ok.add("Contact", "<" + contact(flow) + ">;expires=7200");
        ok.add("Service-Route", kServiceRoute);
        ok.add("P-Associated-URI", "<" + aor(flow) + ">");
        for (std::string_view p : fwd2.msg.headers("Path"))
            ok.add("Path", p);
        const Sent got = one_to(feed(ok, icscf()), browser_peer(flow), "200 to REGISTER");
        if (got.msg.status_code != 200) fail("registration refused");
        paths_.resize(flow + 1);
        paths_[flow] = std::string(fwd2.msg.headers("Path").at(0));
    }

    void expect_sdp(const Message& m, std::string_view needle, const char* what) const {
        if (!mode_.media) return;
        if (m.body.find(needle) == std::string::npos)
            fail(std::string(what) + ": no \"" + std::string(needle) + "\" in its SDP");
    }

    void orig_call(uint64_t flow) {
        const std::string call_id = id("call-", flow);
        const std::string target = "sip:bob@ims.example.net";
        Message inv = browser_request("INVITE", id("z9hG4bK-i-", flow), 1, call_id, target, flow);
        inv.add("Contact", "<" + contact(flow) + ";ob>");
        inv.add("Allow", "INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY");
        inv.add("Supported", "timer,ice,replaces,outbound");
        inv.add("Content-Type", "application/sdp");
        inv.body = kBrowserOffer;
        const Sent fwd = one_to(feed(inv, browser_peer(flow)), scscf(), "INVITE");
        expect_sdp(fwd.msg, "RTP/AVP", "the INVITE to the IMS");
        if (mode_.media) answer_commands(0, 0, 0);

        // The IMS's 100 Trying ends nothing and goes nowhere.
        if (!feed(response_to(fwd.msg, 100, "Trying", "bob"), scscf()).empty())
            fail("the IMS's 100 Trying was sent on");
        one_to(feed(response_to(fwd.msg, 180, "Ringing", "bob"), scscf()), browser_peer(flow),
               "180");
        Message ok = response_to(fwd.msg, 200, "OK", "bob");
        ok.add("Contact", "<sip:bob@198.18.5.20:5070>");
        ok.add("Record-Route", "<sip:198.18.0.11:5060;lr>");
        for (std::string_view rr : fwd.msg.headers("Record-Route"))
            ok.add("Record-Route", rr);
        ok.add("Content-Type", "application/sdp");
        ok.body = kImsSdp;
        const Sent ok_out = one_to(feed(ok, scscf()), browser_peer(flow), "200 to INVITE");
        expect_sdp(ok_out.msg, "a=ice-lite", "the 200 to the browser");
        if (mode_.media) answer_commands(1, 0, 0);

        // The route set: the 200's Record-Route reversed (RFC 3261 12.1.2).
        std::vector<std::string_view> rs = ok_out.msg.headers("Record-Route");
        std::reverse(rs.begin(), rs.end());
        const std::string to = "<" + target + ">;tag=bob";
        Message ack = browser_request("ACK", id("z9hG4bK-a-", flow), 1, call_id,
                                      "sip:bob@198.18.5.20:5070", flow);
        ack.set("To", to);
        for (std::string_view r : rs)
            ack.add("Route", r);
        one_to(feed(ack, browser_peer(flow)), scscf(), "ACK");

        Message bye = browser_request("BYE", id("z9hG4bK-b-", flow), 2, call_id,
                                      "sip:bob@198.18.5.20:5070", flow);
        bye.set("To", to);
        for (std::string_view r : rs)
            bye.add("Route", r);
        const Sent bye_fwd = one_to(feed(bye, browser_peer(flow)), scscf(), "BYE");
        if (mode_.media) answer_commands(0, 0, 1);
        const Sent bye_ok = one_to(feed(response_to(bye_fwd.msg, 200, "OK", "bob"), scscf()),
                                   browser_peer(flow), "200 to BYE");
        if (bye_ok.msg.status_code != 200) fail("BYE not answered 200");
    }

    void term_call(uint64_t flow) {
        const std::string call_id = id("ims-call-", flow);
        Message inv = sip::make_request("INVITE", *sip::parse_uri(contact(flow)));
        inv.add("Via", "SIP/2.0/UDP 198.18.0.11:5060;branch=" + id("z9hG4bK-si-", flow));
        inv.add("Via", "SIP/2.0/UDP 198.18.5.20:5070;branch=" + id("z9hG4bK-bi-", flow) +
                           ";received=198.18.5.20");
        inv.add("Max-Forwards", "65");
        inv.add("Route", paths_[flow]);
        inv.add("Record-Route", "<sip:198.18.0.11:5060;lr>");
        inv.add("To", "<" + aor(flow) + ">");
        inv.add("From", "<sip:bob@ims.example.net>;tag=bob");
        inv.add("Call-ID", call_id);
        inv.add("CSeq", "1 INVITE");
        inv.add("Contact", "<sip:bob@198.18.5.20:5070>");
        inv.add("P-Asserted-Identity", "<sip:bob@ims.example.net>");
        inv.add("P-Charging-Vector",
                "icid-value=ims-icid-" + std::to_string(calls_) + ";orig-ioi=home.example.net");
        inv.add("Content-Type", "application/sdp");
        inv.body = kImsSdp;
        const Sent fwd = one_to(feed(inv, scscf()), browser_peer(flow), "INVITE to the browser");
        expect_sdp(fwd.msg, "a=ice-lite", "the INVITE to the browser");
        if (mode_.media) answer_commands(1, 0, 0);  // the session awaiting the answer

        // As a UAS does, the browser copies the Record-Route into its
        // responses (RFC 3261 12.1.1).
        auto from_browser = [&](uint16_t code, std::string_view reason) {
            Message r = response_to(fwd.msg, code, reason, "ue");
            for (std::string_view rr : fwd.msg.headers("Record-Route"))
                r.add("Record-Route", rr);
            r.add("Contact", "<" + contact(flow) + ";ob>");
            return r;
        };
        one_to(feed(from_browser(180, "Ringing"), browser_peer(flow)), scscf(), "180");
        Message ok = from_browser(200, "OK");
        ok.add("Content-Type", "application/sdp");
        ok.body = kBrowserAnswer;
        const Sent ok_out = one_to(feed(ok, browser_peer(flow)), scscf(), "200 to INVITE");
        expect_sdp(ok_out.msg, "RTP/AVP", "the 200 to the IMS");
        if (mode_.media) answer_commands(0, 1, 0);

        // bob's ACK and BYE along his route set (the 200's Record-Route).
        auto in_dialog = [&](std::string_view method, const std::string& branch, uint32_t cseq) {
            Message m = sip::make_request(method, *sip::parse_uri(contact(flow)));
            m.add("Via", "SIP/2.0/UDP 198.18.0.11:5060;branch=" + branch);
            m.add("Via", "SIP/2.0/UDP 198.18.5.20:5070;branch=" + branch + "b");
            m.add("Max-Forwards", "69");
            // bob's route set is the Record-Route reversed (RFC 3261 12.1.2):
            // the S-CSCF's entry first, which it takes off before sending on.
            std::vector<std::string_view> rs = ok_out.msg.headers("Record-Route");
            std::reverse(rs.begin(), rs.end());
            for (std::size_t i = 1; i < rs.size(); ++i)
                m.add("Route", rs[i]);
            m.add("To", "<" + aor(flow) + ">;tag=ue");
            m.add("From", "<sip:bob@ims.example.net>;tag=bob");
            m.add("Call-ID", call_id);
            m.add("CSeq", std::to_string(cseq) + " " + std::string(method));
            return m;
        };
        one_to(feed(in_dialog("ACK", id("z9hG4bK-sa-", flow), 1), scscf()), browser_peer(flow),
               "ACK");
        const Sent bye_fwd = one_to(feed(in_dialog("BYE", id("z9hG4bK-sb-", flow), 2), scscf()),
                                    browser_peer(flow), "BYE");
        if (mode_.media) answer_commands(0, 0, 1);
        const Sent bye_ok =
            one_to(feed(response_to(bye_fwd.msg, 200, "OK", "ue"), browser_peer(flow)), scscf(),
                   "200 to BYE");
        if (bye_ok.msg.status_code != 200) fail("BYE not answered 200");
    }

    Mode mode_;
    unsigned flows_;
    std::unique_ptr<PcscfCore> core_;
    std::vector<std::string> paths_;  // per flow: the Path our REGISTER carried
    uint64_t time_ns_ = 1'000'000'000;
    uint64_t last_tick_ns_ = 0;
    uint64_t step_ns_ = 0;
    uint64_t core_ns_ = 0;
    uint64_t calls_ = 0;
    uint64_t messages_in_ = 0;
    uint64_t messages_out_ = 0;
    uint64_t commands_ = 0;
    Peer last_from_;  // the sender of the message fed last
    bool last_was_invite_ = false;
};

}  // namespace isthmus::bench::pcscf_core
