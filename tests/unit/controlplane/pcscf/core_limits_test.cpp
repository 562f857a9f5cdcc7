// The core's bounds: live flows, registrations (in all, per flow, and those
// promised to REGISTERs in flight), transactions; each refused with 503 and
// Retry-After, and given back when the state goes.
#include <gtest/gtest.h>

#include "core_testing.hpp"
#include "pcscf/core.hpp"

namespace isthmus::pcscf::test {
namespace {

class CoreLimitsTest : public CoreFixture {
  protected:
    static void expect_503(const Sent& s) {
        EXPECT_EQ(s.msg.status_code, 503);
        EXPECT_EQ(text(s.msg, "Retry-After"), "10");
    }
};

TEST_F(CoreLimitsTest, MaxRegistrationsRefusesANewOneWith503) {
    config.max_registrations = 1;
    make_core();
    register_flow(42);
    const Sent out = only(feed(browser_register(1, "z9hG4bK-r43"), browser(43)));
    EXPECT_EQ(out.to, browser(43));
    expect_503(out);
    EXPECT_EQ(refused(Refusal::RegistrationsFull), 1u);
    // A refresh of the registration there is, and a de-registration, pass.
    EXPECT_EQ(only(feed(browser_register(5, "z9hG4bK-refresh"), browser(42))).to, icscf());
    EXPECT_EQ(only(feed(browser_register(6, "z9hG4bK-dereg", "0"), browser(42))).to, icscf());
}

TEST_F(CoreLimitsTest, ARegisterInFlightHoldsItsPlace) {
    config.max_registrations = 1;
    make_core();
    const Sent fwd = only(feed(browser_register(1, "z9hG4bK-r42"), browser(42)));
    expect_503(only(feed(browser_register(1, "z9hG4bK-r43"), browser(43))));
    // The challenge ends that REGISTER: its place is free again.
    only(feed(response_to(fwd.msg, 401, "Unauthorized"), icscf()));
    EXPECT_EQ(only(feed(browser_register(2, "z9hG4bK-r43b"), browser(43))).to, icscf());
}

TEST_F(CoreLimitsTest, ClosingAFlowGivesItsRegistrationsBack) {
    config.max_registrations = 1;
    make_core();
    register_flow(42);
    close_flow(42);
    register_flow(43);
    EXPECT_NE(core->registrar().find(43, kAor), nullptr);
}

TEST_F(CoreLimitsTest, MaxRegistrationsPerFlow) {
    config.max_registrations_per_flow = 1;
    make_core();
    register_flow(42);
    Message other = browser_register(3, "z9hG4bK-bob");
    other.set("To", "<sip:bob@ims.example.net>");
    expect_503(only(feed(other, browser(42))));
}

TEST_F(CoreLimitsTest, MaxFlowsRefusesANewFlowUntilOneCloses) {
    config.max_flows = 1;
    make_core();
    EXPECT_EQ(only(feed(browser_register(1, "z9hG4bK-a"), browser(42))).to, icscf());
    const Sent out = only(feed(browser_register(1, "z9hG4bK-b"), browser(43)));
    EXPECT_EQ(out.to, browser(43));
    expect_503(out);
    EXPECT_EQ(refused(Refusal::FlowsFull), 1u);
    EXPECT_FALSE(core->registrar().alive(43));
    close_flow(42);
    EXPECT_EQ(only(feed(browser_register(1, "z9hG4bK-c"), browser(43))).to, icscf());
}

TEST_F(CoreLimitsTest, MaxTransactionsRefusesNewRequestsWith503) {
    config.max_transactions = 6;
    make_core();
    register_flow(42);  // its client transactions toward the I-CSCF linger (Timer K)
    now_ms = 10000;     // ... until they are gone
    run_until(now_ms);
    ASSERT_EQ(core->transactions(), 0u);
    // Each proxied request holds two transactions (server + client).
    for (int i = 0; i < 3; ++i) {
        const Sent fwd = only(feed(browser_request("MESSAGE", "z9hG4bK-m" + std::to_string(i),
                                                   static_cast<uint32_t>(i + 1)),
                                   browser()));
        EXPECT_EQ(fwd.to, scscf());
    }
    EXPECT_EQ(core->transactions(), 6u);
    // The layer refuses the server transaction: 503 statelessly.
    const Sent out = only(feed(browser_request("MESSAGE", "z9hG4bK-m9", 9), browser()));
    expect_503(out);
    EXPECT_EQ(refused(Refusal::TransactionsFull), 1u);
    // From the IMS too.
    expect_503(only(feed(ims_request("MESSAGE", "z9hG4bK-t1"), scscf())));
    // Once the transactions end, there is room again.
    run_until(now_ms + 60000);
    EXPECT_EQ(core->transactions(), 0u);
    EXPECT_EQ(only(feed(browser_request("MESSAGE", "z9hG4bK-m10", 10), browser())).to, scscf());
}

TEST_F(CoreLimitsTest, NoRoomForTheClientTransactionAnswers503OnTheServerOne) {
    config.max_transactions = 3;
    make_core();
    register_flow(42);
    now_ms = 10000;
    run_until(now_ms);
    only(feed(browser_request("MESSAGE", "z9hG4bK-m0"), browser()));  // 2 transactions
    // The third fits as a server transaction; its client transaction does not.
    expect_503(only(feed(browser_request("MESSAGE", "z9hG4bK-m1", 2), browser())));
}

TEST_F(CoreLimitsTest, ManyUnansweredRequestsLeaveNothingBehind) {
    register_flow(42);
    for (uint64_t flow = 100; flow < 300; ++flow) {
        feed(browser_register(1, "z9hG4bK-r" + std::to_string(flow)), browser(flow));
        if (flow % 2 == 0) close_flow(flow);
    }
    for (int i = 0; i < 100; ++i)
        feed(ims_request("MESSAGE", "z9hG4bK-t" + std::to_string(i)), scscf());
    EXPECT_EQ(core->registrar().flows(), 101u);
    for (uint64_t flow = 100; flow < 300; ++flow)
        close_flow(flow);
    close_flow(42);
    run_until(3600 * 1000);
    EXPECT_EQ(core->transactions(), 0u);
    EXPECT_EQ(core->registrar().flows(), 0u);
    EXPECT_EQ(core->registrar().registrations(), 0u);
    EXPECT_FALSE(core->next_deadline());
}

}  // namespace
}  // namespace isthmus::pcscf::test
