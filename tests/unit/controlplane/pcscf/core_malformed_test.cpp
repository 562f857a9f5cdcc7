// What the core does with what it cannot use (RFC 3261 16.3 steps 1-3,
// 18.1.2, RFC 4475): 400 naming the defect, 505, 513, 483; malformed
// responses and garbage dropped and counted; keepalives; and a fixed-seed
// mutation loop of hostile input on both sides.
#include <gtest/gtest.h>

#include <random>

#include "core_testing.hpp"
#include "pcscf/core.hpp"

namespace isthmus::pcscf::test {
namespace {

class CoreMalformedTest : public CoreFixture {};

TEST_F(CoreMalformedTest, GarbageIsDroppedAndCounted) {
    EXPECT_TRUE(feed_bytes(std::string("\x16\x03\x01\x00\x05hello", 10), browser()).empty());
    EXPECT_TRUE(feed_bytes("not sip at all\r\n\r\n", icscf()).empty());
    EXPECT_EQ(dropped(Drop::Unparsable), 2u);
    uint64_t parse_errors = 0;
    for (uint64_t n : stats().parse_errors)
        parse_errors += n;
    EXPECT_EQ(parse_errors, 2u);
    EXPECT_FALSE(core->registrar().alive(42));  // nothing admitted
}

TEST_F(CoreMalformedTest, AMissingHeaderGets400NamingIt) {
    Message m = browser_register(1, "z9hG4bK-r1");
    m.remove("Call-ID");
    const Sent out = only(feed(m, browser()));
    EXPECT_EQ(out.to, browser());
    EXPECT_EQ(out.msg.status_code, 400);
    EXPECT_EQ(out.msg.reason_phrase, "Missing Call-ID header");
    EXPECT_EQ(refused(Refusal::Malformed), 1u);
    EXPECT_FALSE(sip::parse_name_addr(text(out.msg, "To"))->tag()->empty());
}

TEST_F(CoreMalformedTest, AParseErrorGets400WithTheParsersReason) {
    const std::string bytes = wire(
        "MESSAGE sip:bob@ims.example.net SIP/2.0\n"
        "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK-x;rport\n"
        "Max-Forwards: 70\n"
        "To: <sip:bob@ims.example.net>\n"
        "From: <sip:alice@ims.example.net>;tag=1\n"
        "Call-ID: c1\n"
        "CSeq: 1 MESSAGE\n"
        "this line has no colon\n"
        "\n");
    const Sent out = only(feed_bytes(bytes, browser()));
    EXPECT_EQ(out.msg.status_code, 400);
    EXPECT_NE(out.msg.reason_phrase.find("header line"), std::string::npos)
        << out.msg.reason_phrase;
    EXPECT_EQ(stats().parse_errors[static_cast<std::size_t>(sip::ParseError::BadHeaderLine)], 1u);
}

TEST_F(CoreMalformedTest, ACSeqMismatchGets400) {
    Message m = browser_request("MESSAGE", "z9hG4bK-x");
    m.set("CSeq", "1 INVITE");
    EXPECT_EQ(only(feed(m, browser())).msg.reason_phrase,
              "CSeq method does not match the request method");
}

TEST_F(CoreMalformedTest, AnotherVersionGets505) {
    std::string bytes = sip::serialize(browser_request("OPTIONS", "z9hG4bK-x"));
    bytes.replace(bytes.find("SIP/2.0\r\n"), 7, "SIP/7.0");
    const Sent out = only(feed_bytes(bytes, browser()));
    EXPECT_EQ(out.msg.status_code, 505);
    EXPECT_EQ(refused(Refusal::BadVersion), 1u);
}

TEST_F(CoreMalformedTest, AnRfc2543BranchGets400) {
    const Sent out = only(feed(browser_request("OPTIONS", "old-style-branch"), browser()));
    EXPECT_EQ(out.msg.status_code, 400);
    EXPECT_NE(out.msg.reason_phrase.find("z9hG4bK"), std::string::npos);
}

TEST_F(CoreMalformedTest, AnOversizedRequestGets513) {
    config.parse_limits.max_message_bytes = 1024;
    make_core();
    Message m = browser_request("MESSAGE", "z9hG4bK-big");
    m.body = std::string(2000, 'x');
    const Sent out = only(feed(m, browser()));
    EXPECT_EQ(out.msg.status_code, 513);
    EXPECT_EQ(refused(Refusal::TooLarge), 1u);
}

TEST_F(CoreMalformedTest, MaxForwardsZeroGets483) {
    register_flow(42);
    Message m = browser_request("MESSAGE", "z9hG4bK-x");
    m.set("Max-Forwards", "0");
    EXPECT_EQ(only(feed(m, browser())).msg.status_code, 483);
    Message t = ims_request("MESSAGE", "z9hG4bK-t");
    t.set("Max-Forwards", "0");
    const Sent out = only(feed(t, scscf()));
    EXPECT_EQ(out.msg.status_code, 483);
    EXPECT_EQ(refused(Refusal::TooManyHops), 2u);
}

TEST_F(CoreMalformedTest, AMalformedResponseIsDroppedAndCounted) {
    const Sent fwd = only(feed(browser_register(1, "z9hG4bK-r1"), browser()));
    Message bad = response_to(fwd.msg, 200, "OK");
    bad.remove("CSeq");
    EXPECT_TRUE(feed(bad, icscf()).empty());
    EXPECT_EQ(dropped(Drop::MalformedResponse), 1u);
    // The good one still passes.
    EXPECT_EQ(only(feed(response_to(fwd.msg, 401, "Unauthorized"), icscf())).msg.status_code, 401);
}

TEST_F(CoreMalformedTest, AStrayResponseIsDroppedAndCounted) {
    Message stray = response_to(browser_request("MESSAGE", "z9hG4bK-x"), 200, "OK");
    stray.prepend("Via", "SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-never-sent");
    EXPECT_TRUE(feed(stray, icscf()).empty());
    EXPECT_EQ(dropped(Drop::StrayResponse), 1u);
}

TEST_F(CoreMalformedTest, AMalformedAckIsNotAnswered) {
    Message ack = browser_request("ACK", "z9hG4bK-x");
    ack.remove("From");
    EXPECT_TRUE(feed(ack, browser()).empty());
}

TEST_F(CoreMalformedTest, KeepalivesAreCountedNotAnswered) {
    EXPECT_TRUE(feed_bytes("\r\n\r\n", browser()).empty());
    EXPECT_EQ(stats().keepalives, 1u);
}

// Fixed-seed mutations of valid messages (flipped, inserted and deleted
// octets, truncation) on both sides, interleaved with time and flow
// closure: nothing crashes (ASan/UBSan in CI), every output parses, and the
// state returns to nothing once the timers have run.
TEST_F(CoreMalformedTest, HostileInputNeverBreaksTheCore) {
    register_flow(42);
    std::vector<std::string> seeds = {
        sip::serialize(browser_register(1, "z9hG4bK-h1")),
        sip::serialize(browser_request("MESSAGE", "z9hG4bK-h2")),
        sip::serialize(browser_request("INVITE", "z9hG4bK-h3")),
        sip::serialize(ims_request("MESSAGE", "z9hG4bK-h4")),
        sip::serialize(response_to(browser_request("MESSAGE", "z9hG4bK-h5"), 200, "OK")),
    };
    std::mt19937_64 rng(20240606);
    std::size_t outputs = 0;
    for (int i = 0; i < 4000; ++i) {
        std::string bytes = seeds[rng() % seeds.size()];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !bytes.empty(); ++e) {
            const std::size_t pos = rng() % bytes.size();
            switch (rng() % 4) {
                case 0:
                    bytes[pos] = static_cast<char>(rng());
                    break;
                case 1:
                    bytes.insert(pos, 1, static_cast<char>(rng()));
                    break;
                case 2:
                    bytes.erase(pos, 1);
                    break;
                default:
                    bytes.resize(pos);
                    break;
            }
        }
        const Peer from = (i % 3 == 0) ? scscf() : browser(40 + static_cast<uint64_t>(i % 5));
        core->on_message(bytes, from, at(now_ms));
        while (auto o = core->poll()) {
            ++outputs;
            const sip::ParseResult r = sip::parse_message(o->bytes, sip::Framing::Datagram);
            EXPECT_EQ(r.status, sip::ParseStatus::Ok) << o->bytes;
        }
        if (i % 97 == 0) core->on_flow_closed(40 + static_cast<uint64_t>(i % 5), at(now_ms));
        if (i % 50 == 0) {
            now_ms += 250;
            core->advance(at(now_ms));
            while (core->poll()) {
            }
        }
        EXPECT_LE(core->transactions(), config.max_transactions);
    }
    EXPECT_GT(outputs, 0u);
    for (uint64_t f = 40; f < 45; ++f)
        core->on_flow_closed(f, at(now_ms));
    run_until(now_ms + 3600 * 1000);
    EXPECT_EQ(core->transactions(), 0u);
    EXPECT_EQ(core->registrar().registrations(), 0u);
    EXPECT_EQ(core->pending_outputs(), 0u);
}

}  // namespace
}  // namespace isthmus::pcscf::test
