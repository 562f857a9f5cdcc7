// Terminating requests from the IMS (TS 24.229 5.2.6.4, RFC 5626 5.3):
// delivered on the flow the token names, 430 once the flow is gone, 403 for
// forged tokens, 404 with no token; in-dialog routing by our W2
// Record-Route; the browser's response back to the IMS.
#include <gtest/gtest.h>

#include "core_testing.hpp"
#include "pcscf/core.hpp"

namespace isthmus::pcscf::test {
namespace {

class CoreTerminatingTest : public CoreFixture {
  protected:
    CoreTerminatingTest() {
        register_flow(42);
        register_flow(43);
    }
};

TEST_F(CoreTerminatingTest, MessageToAFlowTokenIsDeliveredOnThatFlow) {
    Message msg = ims_request("MESSAGE", "z9hG4bK-t1", 43);
    msg.body = "hi";
    msg.add("Content-Type", "text/plain");
    const Sent out = only(feed(msg, scscf()));
    EXPECT_EQ(out.to, browser(43));
    const Message& m = out.msg;
    EXPECT_EQ(sip::to_string(m.request_uri), kContact);
    EXPECT_TRUE(values(m, "Route").empty());  // our Path entry, popped
    const auto vias = values(m, "Via");
    ASSERT_EQ(vias.size(), 3u);
    EXPECT_EQ(vias[0].rfind("SIP/2.0/WSS pcscf.example.net:443;branch=z9hG4bK", 0), 0u);
    EXPECT_EQ(vias[1], "SIP/2.0/UDP 198.18.0.11:5060;branch=z9hG4bK-t1");
    // The callee's side (W2, naming the flow) on top, then Mw.
    EXPECT_EQ(values(m, "Record-Route"),
              (std::vector<std::string>{w2_rr(43), "<sip:198.18.0.1:5060;lr>"}));
    EXPECT_EQ(text(m, "Max-Forwards"), "64");
    EXPECT_TRUE(values(m, "P-Charging-Vector").empty());
    EXPECT_EQ(text(m, "P-Asserted-Identity"), "<sip:bob@ims.example.net>");
    EXPECT_EQ(m.body, "hi");
}

TEST_F(CoreTerminatingTest, TheBrowsersAnswerGoesBackWithItsAssertedIdentity) {
    const Sent fwd = only(feed(ims_request("MESSAGE", "z9hG4bK-t1"), scscf()));
    Message ok = response_to(fwd.msg, 200, "OK", "alice-tag");
    ok.add("P-Asserted-Identity", "<sip:boss@ims.example.net>");
    ok.add("P-Preferred-Identity", "<tel:+15551234567>");
    const Sent back = only(feed(ok, browser(42)));
    EXPECT_EQ(back.to, scscf());
    EXPECT_EQ(back.msg.status_code, 200);
    EXPECT_EQ(values(back.msg, "Via"),
              (std::vector<std::string>{"SIP/2.0/UDP 198.18.0.11:5060;branch=z9hG4bK-t1",
                                        "SIP/2.0/UDP 198.18.0.20:5060;branch=z9hG4bK-far-end"}));
    EXPECT_EQ(values(back.msg, "P-Asserted-Identity"),
              std::vector<std::string>{"<tel:+15551234567>"});
    EXPECT_TRUE(values(back.msg, "P-Preferred-Identity").empty());
}

TEST_F(CoreTerminatingTest, AClosedFlowGets430) {
    close_flow(42);
    const Sent out = only(feed(ims_request("MESSAGE", "z9hG4bK-t1", 42), scscf()));
    EXPECT_EQ(out.to, scscf());
    EXPECT_EQ(out.msg.status_code, 430);
    EXPECT_EQ(out.msg.reason_phrase, "Flow Failed");
    EXPECT_EQ(refused(Refusal::FlowFailed), 1u);
    // The other flow is unaffected.
    EXPECT_EQ(only(feed(ims_request("MESSAGE", "z9hG4bK-t2", 43), scscf())).to, browser(43));
}

TEST_F(CoreTerminatingTest, AForgedTokenGets403) {
    std::string forged = token(42);
    forged[10] = forged[10] == 'A' ? 'B' : 'A';
    Message msg = ims_request("MESSAGE", "z9hG4bK-t1");
    msg.set("Route", "<sip:" + forged + "@198.18.0.1:5060;lr;ob>");
    const Sent out = only(feed(msg, scscf()));
    EXPECT_EQ(out.msg.status_code, 403);
    EXPECT_EQ(refused(Refusal::InvalidToken), 1u);
}

TEST_F(CoreTerminatingTest, ATokenMadeWithAnotherKeyGets403) {
    PcscfConfig other = default_config();
    other.flow_token_key = "another key, 16 octets or more";
    const PcscfCore other_core(other);
    Message msg = ims_request("MESSAGE", "z9hG4bK-t1");
    msg.set("Route", "<sip:" + other_core.flow_token(42) + "@198.18.0.1:5060;lr;ob>");
    EXPECT_EQ(only(feed(msg, scscf())).msg.status_code, 403);
}

TEST_F(CoreTerminatingTest, ATokenFromAnEarlierRunGets430) {
    PcscfConfig earlier = default_config();
    earlier.random = [] { return uint64_t{0xdead}; };  // another epoch, same key
    const PcscfCore earlier_core(earlier);
    Message msg = ims_request("MESSAGE", "z9hG4bK-t1");
    msg.set("Route", "<sip:" + earlier_core.flow_token(42) + "@198.18.0.1:5060;lr;ob>");
    EXPECT_EQ(only(feed(msg, scscf())).msg.status_code, 430);
}

TEST_F(CoreTerminatingTest, NoTokenGets404) {
    Message msg = ims_request("MESSAGE", "z9hG4bK-t1");
    msg.remove("Route");
    const Sent out = only(feed(msg, scscf()));
    EXPECT_EQ(out.msg.status_code, 404);
    EXPECT_EQ(refused(Refusal::NoToken), 1u);
}

TEST_F(CoreTerminatingTest, ATokenInTheRequestUriTargetsTheRegisteredContact) {
    Message msg = ims_request("MESSAGE", "z9hG4bK-t1");
    msg.remove("Route");
    msg.request_uri = *sip::parse_uri("sip:" + token(42) + "@198.18.0.1:5060;ob");
    const Sent out = only(feed(msg, scscf()));
    EXPECT_EQ(out.to, browser(42));
    EXPECT_EQ(sip::to_string(out.msg.request_uri), kContact);
}

TEST_F(CoreTerminatingTest, AnInDialogRequestFindsTheFlowInOurW2RecordRoute) {
    Message bye = ims_request("BYE", "z9hG4bK-bye");
    bye.set("To", "<" + std::string(kAor) + ">;tag=alice-tag");
    bye.set("Route", "<sip:198.18.0.1:5060;lr>");
    bye.add("Route", w2_rr(43));
    const Sent out = only(feed(bye, scscf()));
    EXPECT_EQ(out.to, browser(43));
    EXPECT_TRUE(values(out.msg, "Route").empty());
    EXPECT_TRUE(values(out.msg, "Record-Route").empty());
}

TEST_F(CoreTerminatingTest, AnOptionsToUsIsAnsweredHere) {
    Message options = ims_request("OPTIONS", "z9hG4bK-o1");
    options.remove("Route");
    options.request_uri = *sip::parse_uri("sip:198.18.0.1:5060");
    const Sent out = only(feed(options, scscf()));
    EXPECT_EQ(out.msg.status_code, 200);
}

TEST_F(CoreTerminatingTest, ARequestInFlightTowardAFlowThatClosesGets430) {
    only(feed(ims_request("MESSAGE", "z9hG4bK-t1"), scscf()));
    const Sent out = only(close_flow(42));
    EXPECT_EQ(out.to, scscf());
    EXPECT_EQ(out.msg.status_code, 430);
    EXPECT_EQ(text(out.msg, "CSeq"), "7 MESSAGE");
    // A late answer from the browser (it cannot come: the flow is closed).
    EXPECT_TRUE(run_until(60000).empty());
    EXPECT_EQ(core->transactions(), 0u);
}

TEST_F(CoreTerminatingTest, ANonInviteTheBrowserNeverAnswersEndsSilently) {
    only(feed(ims_request("MESSAGE", "z9hG4bK-t1"), scscf()));
    // Timer F (64*T1) toward the browser; RFC 4320: no 408 upstream. The
    // server transaction over UDP is ended with it.
    EXPECT_TRUE(run_until(40000).empty());
    EXPECT_EQ(core->transactions(), 0u);
    EXPECT_EQ(core->transaction_stats().timeouts, 1u);
}

TEST_F(CoreTerminatingTest, TheAckForA2xxIsForwardedStatelessly) {
    Message ack = ims_request("ACK", "z9hG4bK-ack");
    ack.set("To", "<" + std::string(kAor) + ">;tag=alice-tag");
    ack.set("Route", "<sip:198.18.0.1:5060;lr>");
    ack.add("Route", w2_rr(42));
    const Sent out = only(feed(ack, scscf()));
    EXPECT_EQ(out.to, browser(42));
    EXPECT_EQ(out.msg.method, "ACK");
    EXPECT_EQ(
        values(out.msg, "Via")[0].rfind("SIP/2.0/WSS pcscf.example.net:443;branch=z9hG4bK", 0), 0u);
    // The same ACK again gets the same branch (16.11).
    const Sent again = only(feed(ack, scscf()));
    EXPECT_EQ(values(again.msg, "Via")[0], values(out.msg, "Via")[0]);
    close_flow(42);
    EXPECT_TRUE(feed(ack, scscf()).empty());
    EXPECT_EQ(dropped(Drop::AckUnroutable), 1u);
}

}  // namespace
}  // namespace isthmus::pcscf::test
