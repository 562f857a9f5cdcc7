// The stateful proxy around INVITE (RFC 3261 16.7-16.10, RFC 6026): 100
// Trying, provisional and final responses, the stateless ACK for a 2xx,
// CANCEL (before and after a provisional, and for no INVITE), Timer B,
// Timer C, and the RFC 4320 rule for non-INVITE timeouts.
#include <gtest/gtest.h>

#include "core_testing.hpp"
#include "pcscf/core.hpp"

namespace isthmus::pcscf::test {
namespace {

class CoreProxyTest : public CoreFixture {
  protected:
    CoreProxyTest() {
        config.timer_c = sip::Duration(100000);
        make_core();
        register_flow(42);
        now_ms = 1000;
    }

    // The browser's INVITE; returns it as forwarded to the S-CSCF (the 100
    // Trying to the browser checked on the way).
    Message invite() {
        Message inv = browser_request("INVITE", "z9hG4bK-inv-1");
        inv.add("Contact", "<" + std::string(kContact) + ">");
        const auto out = feed(inv, browser());
        EXPECT_EQ(out.size(), 2u);
        if (out.size() != 2u) return {};
        EXPECT_EQ(out[0].to, browser());
        EXPECT_EQ(out[0].msg.status_code, 100);
        EXPECT_EQ(out[1].to, scscf());
        return out[1].msg;
    }
};

TEST_F(CoreProxyTest, InviteProvisionalsAndTheFinalAnswerAreRelayed) {
    const Message fwd = invite();
    EXPECT_EQ(fwd.method, "INVITE");
    EXPECT_TRUE(feed(response_to(fwd, 100, "Trying"), scscf()).empty());  // 16.7 step 5
    const Sent ringing = only(feed(response_to(fwd, 180, "Ringing"), scscf()));
    EXPECT_EQ(ringing.to, browser());
    EXPECT_EQ(ringing.msg.status_code, 180);
    Message ok = response_to(fwd, 200, "OK");
    ok.add("Record-Route", "<sip:mt@scscf.ims.example.net:6060;lr>");
    for (std::string_view rr : fwd.headers("Record-Route"))
        ok.add("Record-Route", rr);
    const Sent answered = only(feed(ok, scscf()));
    EXPECT_EQ(answered.msg.status_code, 200);
    EXPECT_EQ(values(answered.msg, "Record-Route").size(), 3u);
    // A retransmitted 2xx goes up too (RFC 6026 7.2).
    EXPECT_EQ(only(feed(ok, scscf())).msg.status_code, 200);
}

TEST_F(CoreProxyTest, TheAckForA2xxGoesStatelesslyAlongTheRouteSet) {
    const Message fwd = invite();
    only(feed(response_to(fwd, 200, "OK"), scscf()));
    Message ack = browser_request("ACK", "z9hG4bK-ack-1");
    ack.set("To", "<sip:bob@ims.example.net>;tag=ims-tag");
    ack.add("Route", w2_rr());
    ack.add("Route", "<sip:198.18.0.1:5060;lr>");
    ack.add("Route", "<sip:mt@scscf.ims.example.net:6060;lr>");
    const Sent out = only(feed(ack, browser()));
    EXPECT_EQ(out.to, scscf());
    EXPECT_EQ(out.msg.method, "ACK");
    EXPECT_EQ(values(out.msg, "Route"),
              std::vector<std::string>{"<sip:mt@scscf.ims.example.net:6060;lr>"});
    EXPECT_EQ(values(out.msg, "Via")[0].rfind("SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK", 0), 0u);
    EXPECT_EQ(text(out.msg, "Max-Forwards"), "69");
}

TEST_F(CoreProxyTest, CancelAfterAProvisionalGoesDownstream) {
    const Message fwd = invite();
    only(feed(response_to(fwd, 180, "Ringing"), scscf()));
    Message cancel = browser_request("CANCEL", "z9hG4bK-inv-1");
    const auto out = feed(cancel, browser());
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].to, browser());
    EXPECT_EQ(out[0].msg.status_code, 200);
    EXPECT_EQ(text(out[0].msg, "CSeq"), "1 CANCEL");
    const Message& down = out[1].msg;
    EXPECT_EQ(out[1].to, scscf());
    EXPECT_EQ(down.method, "CANCEL");
    EXPECT_EQ(down.request_uri, fwd.request_uri);
    EXPECT_EQ(values(down, "Via"), std::vector<std::string>{values(fwd, "Via")[0]});
    EXPECT_EQ(values(down, "Route"), values(fwd, "Route"));
    EXPECT_EQ(text(down, "CSeq"), "1 CANCEL");
    EXPECT_EQ(stats().cancels_sent, 1u);
    // The 200 to our CANCEL stays here; the 487 to the INVITE goes up.
    EXPECT_TRUE(feed(response_to(down, 200, "OK"), scscf()).empty());
    // The 487 goes up; the ACK for it is the client transaction's own
    // (17.1.1.3), toward the S-CSCF.
    const auto terminated = feed(response_to(fwd, 487, "Request Terminated"), scscf());
    ASSERT_EQ(terminated.size(), 2u);
    EXPECT_EQ(terminated[0].to, scscf());
    EXPECT_EQ(terminated[0].msg.method, "ACK");
    EXPECT_EQ(values(terminated[0].msg, "Via"), std::vector<std::string>{values(fwd, "Via")[0]});
    EXPECT_EQ(terminated[1].to, browser());
    EXPECT_EQ(terminated[1].msg.status_code, 487);
}

TEST_F(CoreProxyTest, CancelBeforeAnyProvisionalWaitsForOne) {
    const Message fwd = invite();
    const Sent ok = only(feed(browser_request("CANCEL", "z9hG4bK-inv-1"), browser()));
    EXPECT_EQ(ok.msg.status_code, 200);
    const auto out = feed(response_to(fwd, 183, "Session Progress"), scscf());
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].msg.method, "CANCEL");  // 9.1: now it may go
    EXPECT_EQ(out[0].to, scscf());
    EXPECT_EQ(out[1].msg.status_code, 183);
    EXPECT_EQ(out[1].to, browser());
}

TEST_F(CoreProxyTest, CancelForNoInviteGets481) {
    const Sent out = only(feed(browser_request("CANCEL", "z9hG4bK-nothing"), browser()));
    EXPECT_EQ(out.msg.status_code, 481);
}

TEST_F(CoreProxyTest, AnUnansweredInviteGets408AfterTimerB) {
    invite();
    std::vector<Sent> out = run_until(1000 + 32000);
    // Timer A retransmissions toward the S-CSCF (UDP), then 408 upstream.
    ASSERT_FALSE(out.empty());
    const Sent last = out.back();
    EXPECT_EQ(last.to, browser());
    EXPECT_EQ(last.msg.status_code, 408);
    out.pop_back();
    EXPECT_EQ(out.size(), 6u);  // 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s
    for (const Sent& s : out)
        EXPECT_EQ(s.msg.method, "INVITE");
    EXPECT_EQ(refused(Refusal::Timeout), 1u);
}

TEST_F(CoreProxyTest, TimerCCancelsAProceedingInviteThenGivesUp) {
    const Message fwd = invite();
    only(feed(response_to(fwd, 180, "Ringing"), scscf()));
    // Timer C (100 s here) runs from the 180.
    EXPECT_TRUE(run_until(1000 + 99999).empty());
    const Sent cancel = only(run_until(1000 + 100000));
    EXPECT_EQ(cancel.msg.method, "CANCEL");
    EXPECT_EQ(stats().timer_c_fired, 1u);
    // The CANCEL is answered but the INVITE never is: 64*T1 later, 408.
    EXPECT_TRUE(feed(response_to(cancel.msg, 200, "OK"), scscf()).empty());
    std::vector<Sent> out = run_until(1000 + 100000 + 32000);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back().to, browser());
    EXPECT_EQ(out.back().msg.status_code, 408);
    EXPECT_EQ(stats().timer_c_fired, 2u);
}

TEST_F(CoreProxyTest, ANonInviteTimeoutSendsNothingUpstream) {
    only(feed(browser_request("MESSAGE", "z9hG4bK-m1"), browser()));
    const std::vector<Sent> out = run_until(1000 + 40000);
    EXPECT_FALSE(out.empty());
    for (const Sent& s : out) {
        EXPECT_EQ(s.to, scscf());  // Timer E retransmissions only
        EXPECT_EQ(s.msg.method, "MESSAGE");
    }
    EXPECT_EQ(refused(Refusal::Timeout), 0u);
    EXPECT_EQ(core->transactions(), 0u);
}

// A next hop that cannot be reached (a TCP connection that failed, a send
// refused at once): the requests waiting on it are answered 503 now (RFC
// 3261 8.1.3.1), not after Timer B/F; requests toward other peers, and ones
// already answered, are left alone.
TEST_F(CoreProxyTest, AnUnreachableNextHopFailsTheRequestsWaitingOnItAt503) {
    const Message fwd = invite();
    EXPECT_EQ(only(feed(browser_request("MESSAGE", "z9hG4bK-m1"), browser())).to, scscf());
    Peer elsewhere = scscf();
    elsewhere.port = static_cast<uint16_t>(elsewhere.port + 1);
    core->on_unreachable(elsewhere, at(now_ms));
    EXPECT_TRUE(drain().empty());
    Peer same = scscf();
    same.flow = 7;  // the flow is not compared: the endpoint is
    core->on_unreachable(same, at(now_ms));
    const std::vector<Sent> out = drain();
    ASSERT_EQ(out.size(), 2u);
    for (const Sent& s : out) {
        EXPECT_EQ(s.to, browser());
        EXPECT_EQ(s.msg.status_code, 503);
    }
    EXPECT_EQ(refused(Refusal::NextHopFailed), 2u);
    EXPECT_EQ(stats().unreachable, 2u);
    // Nothing is left waiting: no 408 later, no retransmission.
    for (const Sent& s : run_until(now_ms + 40000))
        EXPECT_NE(s.to, browser()) << s.msg.status_code;
    EXPECT_EQ(fwd.method, "INVITE");
}

TEST_F(CoreProxyTest, AnInviteFromTheImsReachesTheBrowserWithoutA100FromIt) {
    const auto out = feed(ims_request("INVITE", "z9hG4bK-mt-inv"), scscf());
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].to, scscf());
    EXPECT_EQ(out[0].msg.status_code, 100);
    EXPECT_EQ(out[1].to, browser());
    const Sent ringing =
        only(feed(response_to(out[1].msg, 180, "Ringing", "alice-tag"), browser()));
    EXPECT_EQ(ringing.to, scscf());
    EXPECT_EQ(ringing.msg.status_code, 180);
    EXPECT_EQ(text(ringing.msg, "P-Asserted-Identity"), "<sip:alice@ims.example.net>");
}

TEST_F(CoreProxyTest, ClosingTheFlowCancelsItsRingingInvite) {
    const Message fwd = invite();
    only(feed(response_to(fwd, 180, "Ringing"), scscf()));
    const Sent cancel = only(close_flow(42));
    EXPECT_EQ(cancel.to, scscf());
    EXPECT_EQ(cancel.msg.method, "CANCEL");
    EXPECT_EQ(values(cancel.msg, "Via"), std::vector<std::string>{values(fwd, "Via")[0]});
    // The 487 has no one to go to; the ACK for it goes downstream.
    const Sent ack = only(feed(response_to(fwd, 487, "Request Terminated"), scscf()));
    EXPECT_EQ(ack.msg.method, "ACK");
    EXPECT_EQ(dropped(Drop::ClosedFlow), 1u);
}

TEST_F(CoreProxyTest, ClosingTheFlowCancelsItsInviteOnceItRings) {
    const Message fwd = invite();
    EXPECT_TRUE(close_flow(42).empty());  // 9.1: no CANCEL before a provisional
    const Sent cancel = only(feed(response_to(fwd, 180, "Ringing"), scscf()));
    EXPECT_EQ(cancel.msg.method, "CANCEL");
}

TEST_F(CoreProxyTest, ClosingTheFlowAnswersAnInviteTowardIt430) {
    const auto out = feed(ims_request("INVITE", "z9hG4bK-mt-inv"), scscf());
    ASSERT_EQ(out.size(), 2u);
    const Sent failed = only(close_flow(42));
    EXPECT_EQ(failed.to, scscf());
    EXPECT_EQ(failed.msg.status_code, 430);
}

}  // namespace
}  // namespace isthmus::pcscf::test
