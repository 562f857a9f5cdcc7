// ws-register-load's calls (bench/ws_register_load_call.hpp): a BYE from the
// network ends a held call (the dataplane-restart test counts on it), a BYE
// (or CANCEL) for no call here gets 481, other methods 405, an ACK nothing; the
// response copies the request's Via, From, To, Call-ID and CSeq.
#include "ws_register_load_call.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace isthmus::bench {
namespace {

struct FakeTransport final : CallTransport {
    std::string buffer() override { return {}; }
    void write(std::string message) override { written.push_back(std::move(message)); }
    void hold(uint32_t slot, uint64_t token, std::chrono::milliseconds) override {
        held.push_back(slot);
        tokens.push_back(token);
    }
    bool may_start() const override { return true; }
    std::vector<std::string> written;
    std::vector<uint32_t> held;
    std::vector<uint64_t> tokens;  // of each hold, in order
};

CallIdentity alice() {
    return {"user0001", "ims.example.net", "WS", "abc.invalid", "sip:bob@ims.example.net",
            "cid-",     "z9hG4bKt-"};
}

std::string ok_to(const std::string& call_id) {
    return "SIP/2.0 200 OK\r\n"
           "Via: SIP/2.0/WS abc.invalid;branch=z9hG4bKt-1i\r\n"
           "From: <sip:user0001@ims.example.net>;tag=" +
           call_id +
           "\r\n"
           "To: <sip:bob@ims.example.net>;tag=bob1\r\n"
           "Call-ID: " +
           call_id +
           "\r\n"
           "CSeq: 1 INVITE\r\n"
           "Contact: <sip:bob@198.18.2.1:5080>\r\n"
           "Record-Route: <sip:pcscf.invalid;lr>\r\n"
           "Content-Length: 0\r\n\r\n";
}

std::string bye_for(const std::string& call_id) {
    return "BYE sip:user0001@abc.invalid;transport=ws SIP/2.0\r\n"
           "Via: SIP/2.0/WS 127.0.0.1:5062;branch=z9hG4bKp1\r\n"
           "v: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKc1\r\n"
           "Max-Forwards: 69\r\n"
           "To: <sip:user0001@ims.example.net>;tag=" +
           call_id +
           "\r\n"
           "f: <sip:bob@ims.example.net>;tag=bob1\r\n"
           "i: " +
           call_id +
           "\r\n"
           "CSeq: 7 BYE\r\n"
           "Reason: SIP;cause=503\r\n"
           "Content-Length: 0\r\n\r\n";
}

class CallSlotsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        slots.start(t, now, true, counters);
        ASSERT_EQ(t.written.size(), 1u);
        call_id = slots_call_id();
        CallResponse r;
        const std::string ok = ok_to(call_id);
        ASSERT_TRUE(parse_call_response(ok, r));
        slots.on_response(r, ok, now, true, counters, first_unexpected, t);
        ASSERT_EQ(t.written.size(), 2u);  // the ACK
        ASSERT_TRUE(t.written[1].starts_with("ACK sip:bob@198.18.2.1:5080 SIP/2.0\r\n"));
        t.written.clear();
    }
    std::string slots_call_id(std::size_t written = 0) const {  // of the INVITE written there
        const std::string& invite = t.written.at(written);
        EXPECT_TRUE(invite.starts_with("INVITE ")) << invite;
        const std::size_t at = invite.find("\r\nCall-ID: ") + 11;
        return invite.substr(at, invite.find("\r\n", at) - at);
    }
    void deliver(const std::string& request) {
        CallRequest rq;
        ASSERT_TRUE(parse_call_request(request, rq));
        slots.on_request(rq, request, now, true, counters, t);
    }

    FakeTransport t;
    LoadCounters counters;
    std::string first_unexpected;
    CallSlots::Clock::time_point now = CallSlots::Clock::now();
    CallSlots slots{{alice()}, {std::chrono::milliseconds(5000)}, nullptr};
    std::string call_id;
};

TEST(CallRequestParse, RequestsOnlyWithCSeqAndCallId) {
    CallRequest r;
    const std::string bye = bye_for("x1");  // r's views point into it
    EXPECT_TRUE(parse_call_request(bye, r));
    EXPECT_EQ(r.method, "BYE");
    EXPECT_EQ(r.call_id, "x1");
    EXPECT_EQ(r.cseq, 7u);
    EXPECT_FALSE(parse_call_request(ok_to("x1"), r));                                 // a response
    EXPECT_FALSE(parse_call_request("BYE sip:a SIP/2.0\r\nCSeq: 1 BYE\r\n\r\n", r));  // no Call-ID
    EXPECT_FALSE(parse_call_request("BYE sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n", r));   // no CSeq
    EXPECT_FALSE(parse_call_request("BYE sip:a\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n", r));
    EXPECT_FALSE(parse_call_request("", r));
}

TEST_F(CallSlotsTest, ByeFromTheNetworkEndsTheCallAndTheSlotCallsAgain) {
    deliver(bye_for(call_id));
    ASSERT_EQ(t.written.size(), 2u);
    EXPECT_EQ(t.written[0],
              "SIP/2.0 200 OK\r\n"
              "Via: SIP/2.0/WS 127.0.0.1:5062;branch=z9hG4bKp1\r\n"
              "v: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKc1\r\n"
              "To: <sip:user0001@ims.example.net>;tag=" +
                  call_id +
                  "\r\n"
                  "f: <sip:bob@ims.example.net>;tag=bob1\r\n"
                  "i: " +
                  call_id +
                  "\r\n"
                  "CSeq: 7 BYE\r\n"
                  "Content-Length: 0\r\n\r\n");
    EXPECT_TRUE(t.written[1].starts_with("INVITE sip:bob@ims.example.net SIP/2.0\r\n"));
    EXPECT_EQ(counters.byes_received, 1u);
    EXPECT_EQ(counters.requests_refused, 0u);
    EXPECT_EQ(counters.calls, 0u);  // a call counts when its own BYE is answered
    const std::string next = slots_call_id(1);
    EXPECT_NE(next, call_id);
    // The old call's hold timer going off finds the slot inviting: no BYE.
    const uint64_t old_token = t.tokens.back();
    t.written.clear();
    slots.hold_expired(0, old_token, now, t, true, counters);
    EXPECT_TRUE(t.written.empty());
    // Nor once the new call is held too (its wait ended in the same pass
    // as the new call's 200: a timer cannot take it back).
    const std::string ok = ok_to(next);
    CallResponse r;
    ASSERT_TRUE(parse_call_response(ok, r));
    slots.on_response(r, ok, now, true, counters, first_unexpected, t);
    ASSERT_EQ(t.written.size(), 1u);  // its ACK
    ASSERT_NE(t.tokens.back(), old_token);
    slots.hold_expired(0, old_token, now, t, true, counters);
    EXPECT_EQ(t.written.size(), 1u);
    slots.hold_expired(0, t.tokens.back(), now, t, true, counters);
    ASSERT_EQ(t.written.size(), 2u);
    EXPECT_TRUE(t.written[1].starts_with("BYE "));
    // The first BYE again (a retransmission): no call of that id any more.
    t.written.clear();
    deliver(bye_for(call_id));
    ASSERT_EQ(t.written.size(), 1u);
    EXPECT_TRUE(t.written[0].starts_with("SIP/2.0 481 Call/Transaction Does Not Exist\r\n"));
    EXPECT_EQ(counters.requests_refused, 1u);
}

TEST_F(CallSlotsTest, ByeCrossingOursIsAnsweredAndOursEndsTheCall) {
    slots.hold_expired(0, t.tokens.back(), now, t, true, counters);
    ASSERT_EQ(t.written.size(), 1u);
    ASSERT_TRUE(t.written[0].starts_with("BYE "));
    t.written.clear();
    deliver(bye_for(call_id));
    ASSERT_EQ(t.written.size(), 1u);  // 200, no new INVITE yet
    EXPECT_TRUE(t.written[0].starts_with("SIP/2.0 200 OK\r\n"));
    EXPECT_EQ(counters.byes_received, 0u);
    const std::string ok = "SIP/2.0 200 OK\r\nCall-ID: " + call_id + "\r\nCSeq: 2 BYE\r\n\r\n";
    CallResponse r;
    ASSERT_TRUE(parse_call_response(ok, r));
    slots.on_response(r, ok, now, true, counters, first_unexpected, t);
    EXPECT_EQ(counters.calls, 1u);
    ASSERT_EQ(t.written.size(), 2u);
    EXPECT_TRUE(t.written[1].starts_with("INVITE "));
}

TEST_F(CallSlotsTest, OtherRequestsGet405Or481AndAnAckNothing) {
    deliver(
        "OPTIONS sip:user0001@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bKo\r\n"
        "To: <sip:user0001@ims.example.net>\r\nCall-ID: " +
        call_id + "\r\nCSeq: 1 OPTIONS\r\n\r\n");
    ASSERT_EQ(t.written.size(), 1u);
    EXPECT_EQ(t.written[0],
              "SIP/2.0 405 Method Not Allowed\r\nVia: SIP/2.0/WS h;branch=z9hG4bKo\r\n"
              "To: <sip:user0001@ims.example.net>;tag=wsload\r\nCall-ID: " +
                  call_id +
                  "\r\nCSeq: 1 OPTIONS\r\nAllow: INVITE,ACK,CANCEL,BYE\r\n"
                  "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(counters.requests_refused, 1u);
    deliver("CANCEL sip:user0001@abc.invalid SIP/2.0\r\nCall-ID: " + call_id +
            "\r\nCSeq: 1 CANCEL\r\n\r\n");
    ASSERT_EQ(t.written.size(), 2u);
    EXPECT_TRUE(t.written[1].starts_with("SIP/2.0 481 "));
    EXPECT_EQ(counters.requests_refused, 2u);
    deliver("ACK sip:user0001@abc.invalid SIP/2.0\r\nCall-ID: " + call_id +
            "\r\nCSeq: 1 ACK\r\n\r\n");
    EXPECT_EQ(t.written.size(), 2u);
    EXPECT_EQ(counters.requests_refused, 2u);
    // The call is still held: its hold ends in our BYE.
    slots.hold_expired(0, t.tokens.back(), now, t, true, counters);
    ASSERT_EQ(t.written.size(), 3u);
    EXPECT_TRUE(t.written[2].starts_with("BYE "));
}

TEST(CallSlotsRetryAfter, A503sRetryAfterIsWaitedOutWhenAsked) {
    for (const bool honour : {false, true}) {
        SCOPED_TRACE(honour);
        FakeTransport t;
        LoadCounters c;
        std::string first;
        const auto now = CallSlots::Clock::now();
        std::atomic<std::size_t> active{0};
        CallSlots::Policy policy;
        policy.retry_after = honour;
        CallSlots slots({alice()}, policy, &active);
        slots.start(t, now, true, c);
        ASSERT_EQ(t.written.size(), 1u);
        const std::size_t at = t.written[0].find("\r\nCall-ID: ") + 11;
        const std::string id = t.written[0].substr(at, t.written[0].find("\r\n", at) - at);
        const std::string busy =
            "SIP/2.0 503 Service Unavailable\r\nTo: <sip:bob@ims.example.net>;tag=p\r\n"
            "Call-ID: " +
            id + "\r\nCSeq: 1 INVITE\r\nRetry-After: 7\r\n\r\n";
        CallResponse r;
        ASSERT_TRUE(parse_call_response(busy, r));
        EXPECT_EQ(r.retry_after_s, 7u);
        slots.on_response(r, busy, now, true, c, first, t);
        ASSERT_GE(t.written.size(), 2u);
        EXPECT_TRUE(t.written[1].starts_with("ACK sip:bob@ims.example.net SIP/2.0\r\n"));
        EXPECT_EQ(c.by_status[503], 1u);
        if (!honour) {
            ASSERT_EQ(t.written.size(), 3u);  // the next INVITE at once
            EXPECT_TRUE(t.written[2].starts_with("INVITE "));
            EXPECT_EQ(c.retry_waits, 0u);
            EXPECT_EQ(active.load(), 1u);
            continue;
        }
        EXPECT_EQ(t.written.size(), 2u);  // waiting
        EXPECT_EQ(t.held, std::vector<uint32_t>{0});
        EXPECT_EQ(c.retry_waits, 1u);
        EXPECT_EQ(active.load(), 0u);  // no call under way while waiting
        // A late response for the refused call matches nothing.
        slots.on_response(r, busy, now, true, c, first, t);
        EXPECT_EQ(t.written.size(), 2u);
        slots.hold_expired(0, t.tokens.back(), now, t, true, c);
        ASSERT_EQ(t.written.size(), 3u);
        EXPECT_TRUE(t.written[2].starts_with("INVITE "));
        EXPECT_EQ(c.invites, 2u);
        EXPECT_EQ(active.load(), 1u);
        slots.abandon();
        EXPECT_EQ(active.load(), 0u);
    }
}

TEST(CallSlotsStagger, FirstCallsWaitARandomPartOfTheHold) {
    struct Recording final : CallTransport {
        std::string buffer() override { return {}; }
        void write(std::string m) override { written.push_back(std::move(m)); }
        void hold(uint32_t slot, uint64_t token, std::chrono::milliseconds d) override {
            delays.emplace_back(slot, d);
            tokens.push_back(token);
        }
        bool may_start() const override { return true; }
        std::vector<std::string> written;
        std::vector<std::pair<uint32_t, std::chrono::milliseconds>> delays;
        std::vector<uint64_t> tokens;
    } t;
    std::vector<CallIdentity> ids(50, alice());
    for (std::size_t i = 0; i < ids.size(); ++i)
        ids[i].call_id_prefix = "cid" + std::to_string(i) + "-";
    LoadCounters c;
    const auto now = CallSlots::Clock::now();
    CallSlots::Policy policy{std::chrono::milliseconds(6000)};
    policy.stagger = true;
    std::atomic<std::size_t> active{0};
    CallSlots slots(ids, policy, &active);
    slots.start(t, now, true, c);
    EXPECT_TRUE(t.written.empty());
    EXPECT_EQ(active.load(), 0u);
    ASSERT_EQ(t.delays.size(), ids.size());
    std::set<long long> distinct;
    for (std::size_t i = 0; i < t.delays.size(); ++i) {
        EXPECT_EQ(t.delays[i].first, i);
        EXPECT_LT(t.delays[i].second.count(), 6000);
        distinct.insert(t.delays[i].second.count());
    }
    EXPECT_GT(distinct.size(), 40u);  // spread, not in step (50 draws of 6,000)
    slots.hold_expired(7, t.tokens.at(7), now, t, true, c);
    ASSERT_EQ(t.written.size(), 1u);
    EXPECT_NE(t.written[0].find("Call-ID: cid7-1\r\n"), std::string::npos);
    EXPECT_EQ(c.invites, 1u);
    EXPECT_EQ(active.load(), 1u);
}

}  // namespace
}  // namespace isthmus::bench
