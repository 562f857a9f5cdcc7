// Originating requests from a registered browser (TS 24.229 5.2.6.3): the
// Service-Route as the route set, P-Asserted-Identity from the registered
// set, P-Charging-Vector, P-Visited-Network-ID, the double Record-Route;
// requests inside a dialog; an unregistered flow; the response path back.
#include <gtest/gtest.h>

#include "core_testing.hpp"
#include "pcscf/core.hpp"

namespace isthmus::pcscf::test {
namespace {

class CoreOriginatingTest : public CoreFixture {
  protected:
    CoreOriginatingTest() { register_flow(42); }
};

TEST_F(CoreOriginatingTest, MessageGetsServiceRoutePaiChargingVisitedAndRecordRoute) {
    Message msg = browser_request("MESSAGE", "z9hG4bK-msg-1");
    msg.add("Route", "<sip:pcscf.example.net;transport=ws;lr>");
    msg.add("Route", "<sip:somewhere.example.com;lr>");
    msg.add("P-Asserted-Identity", "<sip:boss@ims.example.net>");
    msg.add("P-Charging-Vector", "icid-value=forged");
    msg.add("P-Visited-Network-ID", "forged.example.com");
    msg.add("Content-Type", "text/plain");
    msg.body = "hello";
    const Sent out = only(feed(msg, browser()));
    // The Service-Route's host is in the static table: the S-CSCF.
    EXPECT_EQ(out.to, scscf());
    const Message& m = out.msg;
    EXPECT_EQ(sip::to_string(m.request_uri), "sip:bob@ims.example.net");
    EXPECT_EQ(values(m, "Route"), std::vector<std::string>{std::string(kServiceRoute)});
    EXPECT_EQ(values(m, "P-Asserted-Identity"),
              std::vector<std::string>{"<sip:alice@ims.example.net>"});
    const auto pcv = values(m, "P-Charging-Vector");
    ASSERT_EQ(pcv.size(), 1u);
    EXPECT_EQ(pcv[0].rfind("icid-value=", 0), 0u);
    EXPECT_EQ(pcv[0].find("forged"), std::string::npos);
    EXPECT_NE(pcv[0].find(";orig-ioi=pcscf.visited.example.net"), std::string::npos);
    EXPECT_EQ(values(m, "P-Visited-Network-ID"), std::vector<std::string>{"visited.example.net"});
    // RFC 5658: the Mw entry on top (the callee's side), the W2 entry with
    // the flow token below it.
    EXPECT_EQ(values(m, "Record-Route"),
              (std::vector<std::string>{"<sip:198.18.0.1:5060;lr>", w2_rr()}));
    const auto vias = values(m, "Via");
    ASSERT_EQ(vias.size(), 2u);
    EXPECT_EQ(vias[0].rfind("SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK", 0), 0u);
    EXPECT_NE(vias[1].find("received=198.51.100.7"), std::string::npos);
    EXPECT_EQ(text(m, "Max-Forwards"), "69");
    EXPECT_EQ(m.body, "hello");
    EXPECT_EQ(text(m, "Content-Type"), "text/plain");
}

TEST_F(CoreOriginatingTest, EachInitialRequestGetsAFreshIcid) {
    const Sent a = only(feed(browser_request("MESSAGE", "z9hG4bK-m1"), browser()));
    const Sent b = only(feed(browser_request("MESSAGE", "z9hG4bK-m2", 2), browser()));
    EXPECT_NE(text(a.msg, "P-Charging-Vector"), text(b.msg, "P-Charging-Vector"));
}

TEST_F(CoreOriginatingTest, PreferredIdentityInTheRegisteredSetIsAsserted) {
    Message msg = browser_request("MESSAGE", "z9hG4bK-m1");
    msg.add("P-Preferred-Identity", "<tel:+15551234567>");
    const Sent out = only(feed(msg, browser()));
    EXPECT_EQ(values(out.msg, "P-Asserted-Identity"),
              std::vector<std::string>{"<tel:+15551234567>"});
    EXPECT_TRUE(values(out.msg, "P-Preferred-Identity").empty());
}

TEST_F(CoreOriginatingTest, AssertedIdentityKeepsTheRegisteredDisplayName) {
    Message msg = browser_request("MESSAGE", "z9hG4bK-m1");
    msg.add("P-Preferred-Identity", "\"Boss\" <sip:alice.work@ims.example.net>");
    const Sent out = only(feed(msg, browser()));
    EXPECT_EQ(values(out.msg, "P-Asserted-Identity"),
              std::vector<std::string>{"\"Alice Work\" <sip:alice.work@ims.example.net>"});
}

TEST_F(CoreOriginatingTest, PreferredIdentityOutsideTheSetGivesTheDefault) {
    Message msg = browser_request("MESSAGE", "z9hG4bK-m1");
    msg.add("P-Preferred-Identity", "<sip:mallory@ims.example.net>");
    msg.add("P-Asserted-Identity", "<sip:mallory@ims.example.net>");
    const Sent out = only(feed(msg, browser()));
    EXPECT_EQ(values(out.msg, "P-Asserted-Identity"),
              std::vector<std::string>{"<sip:alice@ims.example.net>"});
    EXPECT_TRUE(values(out.msg, "P-Preferred-Identity").empty());
}

TEST_F(CoreOriginatingTest, PreferredIdentityRegisteredByAnotherBrowserGivesTheDefault) {
    // bob registers on another WebSocket (flow 50) with identities of his own.
    Message reg = browser_register(1, "z9hG4bK-bob-reg");
    reg.set("To", "<sip:bob@ims.example.net>");
    reg.set("From", "<sip:bob@ims.example.net>;tag=bob-ue");
    reg.set("Call-ID", "reg-bob");
    const Sent fwd = only(feed(reg, browser(50)));
    Message ok = response_to(fwd.msg, 200, "OK");
    ok.add("Contact", "<" + std::string(kContact) + ">;expires=600");
    ok.add("Service-Route", kServiceRoute);
    ok.add("P-Associated-URI", "<sip:bob@ims.example.net>, <tel:+15559876543>");
    for (std::string_view p : fwd.msg.headers("Path"))
        ok.add("Path", p);
    EXPECT_EQ(only(feed(ok, icscf())).msg.status_code, 200);
    // His own flow may assert his tel: URI (the registration took)...
    Message own =
        browser_request("MESSAGE", "z9hG4bK-bob-m", 1, "call-bob", "sip:carol@ims.example.net");
    own.set("From", "<sip:bob@ims.example.net>;tag=bob-ue");
    own.add("P-Preferred-Identity", "<tel:+15559876543>");
    EXPECT_EQ(values(only(feed(own, browser(50))).msg, "P-Asserted-Identity"),
              std::vector<std::string>{"<tel:+15559876543>"});
    // ...alice's may not: each of bob's identities, preferred (and asserted
    // too) on alice's WebSocket, gives alice's default identity.
    int n = 0;
    for (const char* bobs : {"<sip:bob@ims.example.net>", "<tel:+15559876543>"}) {
        Message msg = browser_request("MESSAGE", "z9hG4bK-steal-" + std::to_string(n), 1,
                                      "call-steal-" + std::to_string(n));
        ++n;
        msg.add("P-Preferred-Identity", bobs);
        msg.add("P-Asserted-Identity", bobs);
        const Sent out = only(feed(msg, browser()));
        EXPECT_EQ(values(out.msg, "P-Asserted-Identity"),
                  std::vector<std::string>{"<sip:alice@ims.example.net>"})
            << bobs;
        EXPECT_TRUE(values(out.msg, "P-Preferred-Identity").empty()) << bobs;
    }
}

TEST_F(CoreOriginatingTest, TheResponseComesBackWithoutOurViaOrCharging) {
    const Sent fwd = only(feed(browser_request("MESSAGE", "z9hG4bK-m1"), browser()));
    Message ok = response_to(fwd.msg, 202, "Accepted");
    ok.add("P-Charging-Vector", "icid-value=x;orig-ioi=y;term-ioi=z");
    ok.add("P-Charging-Function-Addresses", "ccf=192.0.2.10");
    const Sent back = only(feed(ok, scscf()));
    EXPECT_EQ(back.to, browser());
    EXPECT_EQ(back.msg.status_code, 202);
    EXPECT_EQ(values(back.msg, "Via"), std::vector<std::string>{values(fwd.msg, "Via")[1]});
    EXPECT_TRUE(values(back.msg, "P-Charging-Vector").empty());
    EXPECT_TRUE(values(back.msg, "P-Charging-Function-Addresses").empty());
    EXPECT_EQ(text(back.msg, "CSeq"), "1 MESSAGE");
}

TEST_F(CoreOriginatingTest, ARetransmittedRequestIsAbsorbed) {
    const Message msg = browser_request("MESSAGE", "z9hG4bK-m1");
    only(feed(msg, browser()));
    EXPECT_TRUE(feed(msg, browser()).empty());
    EXPECT_EQ(stats().requests_forwarded[static_cast<std::size_t>(Side::Mw)], 3u);  // 2 REGISTER
}

TEST_F(CoreOriginatingTest, AnUnregisteredFlowGets403) {
    const Sent out = only(feed(browser_request("MESSAGE", "z9hG4bK-m1"), browser(7)));
    EXPECT_EQ(out.to, browser(7));
    EXPECT_EQ(out.msg.status_code, 403);
    EXPECT_EQ(refused(Refusal::NotRegistered), 1u);
    // An INVITE gets its 100 Trying (the transaction's), then 403.
    const auto invite = feed(browser_request("INVITE", "z9hG4bK-i1"), browser(7));
    ASSERT_EQ(invite.size(), 2u);
    EXPECT_EQ(invite[0].msg.status_code, 100);
    EXPECT_EQ(invite[1].msg.status_code, 403);
    EXPECT_FALSE(sip::parse_name_addr(text(invite[1].msg, "To"))->tag()->empty());
}

TEST_F(CoreOriginatingTest, ARegistrationOnAnotherFlowDoesNotCount) {
    // Flow 42 is registered; the same browser's second WebSocket is not.
    const Sent out = only(feed(browser_request("MESSAGE", "z9hG4bK-m1"), browser(43)));
    EXPECT_EQ(out.msg.status_code, 403);
}

TEST_F(CoreOriginatingTest, AnInDialogRequestFollowsItsRouteSet) {
    Message bye = browser_request("BYE", "z9hG4bK-bye-1", 2);
    bye.set("To", "<sip:bob@ims.example.net>;tag=bob-tag");
    bye.request_uri = *sip::parse_uri("sip:bob@198.18.0.30:5070");
    bye.add("Route", w2_rr());
    bye.add("Route", "<sip:198.18.0.1:5060;lr>");
    bye.add("Route", "<sip:mt@scscf.ims.example.net:6060;lr>");
    bye.add("P-Asserted-Identity", "<sip:boss@ims.example.net>");
    const Sent out = only(feed(bye, browser()));
    EXPECT_EQ(out.to, scscf());
    EXPECT_EQ(values(out.msg, "Route"),
              std::vector<std::string>{"<sip:mt@scscf.ims.example.net:6060;lr>"});
    EXPECT_TRUE(values(out.msg, "Record-Route").empty());
    EXPECT_TRUE(values(out.msg, "P-Asserted-Identity").empty());
    EXPECT_EQ(sip::to_string(out.msg.request_uri), "sip:bob@198.18.0.30:5070");
}

TEST_F(CoreOriginatingTest, AnInDialogRequestWithoutRouteGoesToTheDefaultHop) {
    Message info = browser_request("INFO", "z9hG4bK-info-1", 3);
    info.set("To", "<sip:bob@ims.example.net>;tag=bob-tag");
    const Sent out = only(feed(info, browser()));
    EXPECT_EQ(out.to, icscf());
}

TEST_F(CoreOriginatingTest, ABrowserRequestCarryingOurViaIsALoop) {
    Message msg = browser_request("MESSAGE", "z9hG4bK-m1");
    msg.add("Via", "SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-ours");
    const Sent out = only(feed(msg, browser()));
    EXPECT_EQ(out.msg.status_code, 482);
    EXPECT_EQ(refused(Refusal::Loop), 1u);
}

}  // namespace
}  // namespace isthmus::pcscf::test
