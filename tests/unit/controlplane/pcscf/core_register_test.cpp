// Registration through the core (TS 24.371 A.3.1, TS 24.229 5.2.2): the
// REGISTER as it reaches the IMS, the challenge relayed back, the retried
// REGISTER, the 200 OK stored per flow, re-registration, de-registration,
// expiry, and what a closed flow releases.
#include <gtest/gtest.h>

#include "core_testing.hpp"
#include "pcscf/core.hpp"

namespace isthmus::pcscf::test {
namespace {

class CoreRegisterTest : public CoreFixture {};

TEST_F(CoreRegisterTest, RegisterGoesToTheIcscfWithViaPathSupportedAndPHeaders) {
    Message reg = browser_register(1, "z9hG4bK-reg-1");
    reg.add("Route", "<sip:pcscf.example.net;transport=ws;lr>");  // JsSIP's outbound proxy
    reg.add("Path", "<sip:evil@attacker.example.com;lr>");
    reg.add("P-Asserted-Identity", "<sip:boss@ims.example.net>");
    const Sent out = only(feed(reg, browser()));
    EXPECT_EQ(out.to, icscf());
    const Message& m = out.msg;
    EXPECT_EQ(m.method, "REGISTER");
    EXPECT_EQ(sip::to_string(m.request_uri), "sip:ims.example.net");

    // Our Via on top (Mw, UDP, a fresh z9hG4bK branch); the browser's below
    // with received and rport (RFC 3261 18.2.1, RFC 3581).
    const auto vias = values(m, "Via");
    ASSERT_EQ(vias.size(), 2u);
    const auto ours = sip::parse_via(vias[0]);
    ASSERT_TRUE(ours);
    EXPECT_EQ(ours->transport, "UDP");
    EXPECT_EQ(ours->host, "198.18.0.1");
    EXPECT_EQ(ours->port, 5060);
    EXPECT_TRUE(sip::has_magic_cookie(std::string(*ours->branch())));
    EXPECT_EQ(vias[1],
              "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK-reg-1;rport=50042;"
              "received=198.51.100.7");

    // Path with the flow token (RFC 3327, RFC 5626), Supported: path.
    EXPECT_EQ(values(m, "Path"), std::vector<std::string>{path_uri()});
    EXPECT_EQ(values(m, "Supported"), (std::vector<std::string>{"outbound", "gruu", "path"}));
    EXPECT_TRUE(values(m, "Route").empty());
    EXPECT_TRUE(values(m, "P-Asserted-Identity").empty());
    EXPECT_EQ(text(m, "Max-Forwards"), "69");
    EXPECT_EQ(text(m, "P-Visited-Network-ID"), "visited.example.net");
    const std::string pcv = text(m, "P-Charging-Vector");
    EXPECT_EQ(pcv.rfind("icid-value=", 0), 0u) << pcv;
    EXPECT_NE(pcv.find(";orig-ioi=pcscf.visited.example.net"), std::string::npos) << pcv;
    // What the browser said of itself goes on as it was.
    EXPECT_EQ(text(m, "Contact"), text(reg, "Contact"));
    EXPECT_EQ(text(m, "Expires"), "600");
    EXPECT_EQ(text(m, "Call-ID"), "reg-call-1");
    EXPECT_EQ(stats().requests_forwarded[static_cast<std::size_t>(Side::Mw)], 1u);
}

TEST_F(CoreRegisterTest, SupportedPathIsNotRepeated) {
    Message reg = browser_register(1, "z9hG4bK-reg-1");
    reg.set("Supported", "path, outbound");
    const Sent out = only(feed(reg, browser()));
    EXPECT_EQ(values(out.msg, "Supported"), (std::vector<std::string>{"path", "outbound"}));
}

TEST_F(CoreRegisterTest, ChallengeIsRelayedUnchangedButForOurVia) {
    const Sent fwd = only(feed(browser_register(1, "z9hG4bK-reg-1"), browser()));
    Message challenge = response_to(fwd.msg, 401, "Unauthorized");
    challenge.add(
        "WWW-Authenticate",
        "Digest realm=\"ims.example.net\", nonce=\"bm9uY2U=\", algorithm=MD5, qop=\"auth\"");
    challenge.add("Server", "Kamailio S-CSCF");
    const Sent back = only(feed(challenge, icscf()));
    EXPECT_EQ(back.to, browser());
    Message expected = challenge;
    expected.remove_first_value("Via");
    EXPECT_EQ(back.msg.status_code, 401);
    EXPECT_EQ(back.msg.reason_phrase, "Unauthorized");
    EXPECT_EQ(back.msg.fields, parse(sip::serialize(expected)).fields);
    EXPECT_EQ(core->registrar().registrations(), 0u);
    EXPECT_EQ(stats().responses_sent[static_cast<std::size_t>(Side::W2)][3], 1u);
}

TEST_F(CoreRegisterTest, RetriedRegisterAndItsOkStoreTheRegistration) {
    const Message ok = register_flow(42);
    EXPECT_EQ(ok.status_code, 200);
    // The browser sees what the IMS said, our Via aside.
    EXPECT_EQ(values(ok, "Via").size(), 1u);
    EXPECT_EQ(values(ok, "Service-Route"), std::vector<std::string>{std::string(kServiceRoute)});
    EXPECT_EQ(values(ok, "P-Associated-URI").size(), 3u);
    EXPECT_EQ(values(ok, "Path"), std::vector<std::string>{path_uri()});

    const Registrar& reg = core->registrar();
    EXPECT_EQ(reg.registrations(), 1u);
    const Registration* r = reg.find(42, kAor);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->service_route, std::vector<std::string>{std::string(kServiceRoute)});
    ASSERT_EQ(r->identities.size(), 3u);
    EXPECT_EQ(sip::to_string(r->identities[0].uri), "sip:alice@ims.example.net");
    EXPECT_EQ(sip::to_string(r->identities[1].uri), "tel:+15551234567");
    ASSERT_EQ(r->bindings.size(), 1u);
    EXPECT_EQ(sip::to_string(r->bindings[0].contact), kContact);
    EXPECT_EQ(ms_of(r->expires), 600000);
    EXPECT_TRUE(reg.registered(42, at(599999)));
    EXPECT_FALSE(reg.registered(42, at(600000)));
}

TEST_F(CoreRegisterTest, RetriedRegisterCarriesItsAuthorizationUnchanged) {
    const Sent fwd1 = only(feed(browser_register(1, "z9hG4bK-r1"), browser()));
    only(feed(response_to(fwd1.msg, 401, "Unauthorized"), icscf()));
    Message retry = browser_register(2, "z9hG4bK-r2");
    const std::string auth =
        "Digest username=\"alice@ims.example.net\", realm=\"ims.example.net\", nonce=\"abc\", "
        "uri=\"sip:ims.example.net\", response=\"6629fae49393a05397450978507c4ef1\"";
    retry.add("Authorization", auth);
    const Sent fwd2 = only(feed(retry, browser()));
    EXPECT_EQ(text(fwd2.msg, "Authorization"), auth);
    EXPECT_EQ(text(fwd2.msg, "CSeq"), "2 REGISTER");
    EXPECT_EQ(values(fwd2.msg, "Path"), std::vector<std::string>{path_uri()});
    EXPECT_NE(text(fwd2.msg, "P-Charging-Vector"), text(fwd1.msg, "P-Charging-Vector"));
}

TEST_F(CoreRegisterTest, ReRegistrationRefreshesTheExpiry) {
    register_flow(42, "600");
    now_ms = 300000;
    register_flow(42, "1200");
    const Registration* r = core->registrar().find(42, kAor);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(ms_of(r->expires), 300000 + 1200000);
    EXPECT_EQ(core->registrar().registrations(), 1u);
    EXPECT_EQ(core->registrar().stats().refreshed, 1u);
}

TEST_F(CoreRegisterTest, DeRegistrationWithExpiresZeroRemovesIt) {
    register_flow(42);
    const Sent fwd = only(feed(browser_register(3, "z9hG4bK-dereg", "0"), browser()));
    Message ok = response_to(fwd.msg, 200, "OK");  // no Contact left
    only(feed(ok, icscf()));
    EXPECT_EQ(core->registrar().registrations(), 0u);
    EXPECT_EQ(core->registrar().stats().removed, 1u);
    // Its identities are no longer usable.
    const Sent refused_msg = only(feed(browser_request("MESSAGE", "z9hG4bK-m1"), browser()));
    EXPECT_EQ(refused_msg.msg.status_code, 403);
}

TEST_F(CoreRegisterTest, ContactExpiresZeroInTheOkRemovesIt) {
    register_flow(42);
    Message dereg = browser_register(3, "z9hG4bK-dereg");
    dereg.set("Contact", "<" + std::string(kContact) + ">;expires=0");
    dereg.remove("Expires");
    const Sent fwd = only(feed(dereg, browser()));
    Message ok = response_to(fwd.msg, 200, "OK");
    ok.add("Contact", "<" + std::string(kContact) + ">;expires=0");
    only(feed(ok, icscf()));
    EXPECT_EQ(core->registrar().registrations(), 0u);
}

TEST_F(CoreRegisterTest, ContactStarRemovesIt) {
    register_flow(42);
    Message dereg = browser_register(3, "z9hG4bK-dereg", "0");
    dereg.set("Contact", "*");
    const Sent fwd = only(feed(dereg, browser()));
    EXPECT_EQ(text(fwd.msg, "Contact"), "*");
    only(feed(response_to(fwd.msg, 200, "OK"), icscf()));
    EXPECT_EQ(core->registrar().registrations(), 0u);
}

TEST_F(CoreRegisterTest, AQueryChangesNothing) {
    register_flow(42);
    Message query = browser_register(3, "z9hG4bK-query");
    query.remove("Contact");
    query.remove("Expires");
    const Sent fwd = only(feed(query, browser()));
    only(feed(response_to(fwd.msg, 200, "OK"), icscf()));  // lists no Contact
    EXPECT_EQ(core->registrar().registrations(), 1u);
}

TEST_F(CoreRegisterTest, ExpiryRemovesTheRegistration) {
    register_flow(42, "600");
    const auto deadline = core->next_deadline();
    ASSERT_TRUE(deadline);
    EXPECT_LE(ms_of(*deadline), 600000);
    run_until(599999);
    EXPECT_EQ(core->registrar().registrations(), 1u);
    run_until(600000);
    EXPECT_EQ(core->registrar().registrations(), 0u);
    EXPECT_EQ(core->registrar().stats().expired, 1u);
    EXPECT_FALSE(core->next_deadline());
    const Sent refused_msg = only(feed(browser_request("MESSAGE", "z9hG4bK-m1"), browser()));
    EXPECT_EQ(refused_msg.msg.status_code, 403);
}

TEST_F(CoreRegisterTest, AnOkWithoutPAssociatedUriMakesTheAorTheIdentity) {
    const Sent fwd = only(feed(browser_register(1, "z9hG4bK-r1"), browser()));
    Message ok = response_to(fwd.msg, 200, "OK");
    ok.add("Contact", "<" + std::string(kContact) + ">;expires=600");
    only(feed(ok, icscf()));
    const Registration* r = core->registrar().find(42, kAor);
    ASSERT_NE(r, nullptr);
    ASSERT_EQ(r->identities.size(), 1u);
    EXPECT_EQ(sip::to_string(r->identities[0].uri), kAor);
    EXPECT_TRUE(r->service_route.empty());
}

TEST_F(CoreRegisterTest, TheOkExpiresHeaderAppliesWhenTheContactHasNone) {
    const Sent fwd = only(feed(browser_register(1, "z9hG4bK-r1"), browser()));
    Message ok = response_to(fwd.msg, 200, "OK");
    ok.add("Contact", "<" + std::string(kContact) + ">");
    ok.add("Expires", "300");
    only(feed(ok, icscf()));
    const Registration* r = core->registrar().find(42, kAor);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(ms_of(r->expires), 300000);
}

TEST_F(CoreRegisterTest, AnotherDevicesContactInTheOkIsNotOurs) {
    const Sent fwd = only(feed(browser_register(1, "z9hG4bK-r1"), browser()));
    Message ok = response_to(fwd.msg, 200, "OK");
    ok.add("Contact", "<sip:other@phone.example.net>;expires=600");
    only(feed(ok, icscf()));
    EXPECT_EQ(core->registrar().registrations(), 0u);
}

TEST_F(CoreRegisterTest, ClosingTheFlowReleasesItsRegistration) {
    register_flow(42);
    register_flow(43);
    EXPECT_EQ(core->registrar().registrations(), 2u);
    EXPECT_TRUE(close_flow(42).empty());
    EXPECT_EQ(core->registrar().registrations(), 1u);
    EXPECT_EQ(core->registrar().find(42, kAor), nullptr);
    EXPECT_NE(core->registrar().find(43, kAor), nullptr);
    EXPECT_EQ(core->registrar().stats().released, 1u);
    EXPECT_FALSE(core->registrar().alive(42));
}

TEST_F(CoreRegisterTest, AnErrorToRegisterStoresNothing) {
    const Sent fwd = only(feed(browser_register(1, "z9hG4bK-r1"), browser()));
    const Sent back = only(feed(response_to(fwd.msg, 403, "Forbidden"), icscf()));
    EXPECT_EQ(back.msg.status_code, 403);
    EXPECT_EQ(core->registrar().registrations(), 0u);
}

}  // namespace
}  // namespace isthmus::pcscf::test
