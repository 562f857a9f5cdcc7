// Admission's parts on a fake clock (admission.hpp): the token bucket in
// GCRA form (burst, then the rate; refill), the To-tag test that tells
// in-dialog requests (against the SIP parser's answer), the classes, the
// per-flow and global buckets, the bound on INVITEs in setup, closing a
// flow that does not wait, and the configuration's refusals.
#include "pcscf/admission.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "sip/headers.hpp"
#include "sip/message.hpp"

namespace isthmus::pcscf::test {
namespace {

TimePoint at_ms(int64_t ms) {
    return TimePoint{} + std::chrono::milliseconds(ms);
}

// How many of `n` requests at `now` the bucket takes.
int take_n(TokenBucket& b, int n, TimePoint now) {
    int taken = 0;
    for (int i = 0; i < n; ++i) {
        if (!b.conforms(now)) continue;
        b.take(now);
        ++taken;
    }
    return taken;
}

TEST(TokenBucketTest, AFullBurstThenTheRate) {
    TokenBucket b(10, 5);  // 10/s, 5 at once
    EXPECT_EQ(take_n(b, 20, at_ms(1000)), 5);
    // One token every 100 ms.
    EXPECT_EQ(take_n(b, 20, at_ms(1099)), 0);
    EXPECT_EQ(take_n(b, 20, at_ms(1100)), 1);
    EXPECT_EQ(take_n(b, 20, at_ms(1350)), 2);
    // Idle long enough, it is full again, never fuller.
    EXPECT_EQ(take_n(b, 20, at_ms(60000)), 5);
}

TEST(TokenBucketTest, AtTheRateNothingIsRefused) {
    TokenBucket b(100, 1);
    for (int64_t t = 0; t < 5000; t += 10)
        ASSERT_EQ(take_n(b, 1, at_ms(t)), 1) << t;
    // Twice the rate: every other one.
    int taken = 0;
    for (int64_t t = 5000; t < 6000; t += 5)
        taken += take_n(b, 1, at_ms(t));
    EXPECT_EQ(taken, 100);
}

TEST(TokenBucketTest, RateZeroIsUnlimited) {
    TokenBucket b(0, 0);
    EXPECT_EQ(take_n(b, 100000, at_ms(0)), 100000);
}

TEST(HeaderTagTest, AgreesWithTheParser) {
    const std::vector<std::string> values = {
        "<sip:bob@ims.example.net>",
        "<sip:bob@ims.example.net>;tag=abc",
        "<sip:bob@ims.example.net;tag=uri-param>",
        "<sip:bob@ims.example.net;tag=uri>;tag=header",
        "sip:bob@ims.example.net;tag=addr-spec",
        "sip:bob@ims.example.net",
        "\"Bob\" <sip:bob@ims.example.net>;TAG=Upper",
        "\"Bob <sip:evil@x>;tag=no\" <sip:bob@ims.example.net>",
        "\"B\\\"ob;tag=x\" <sip:bob@ims.example.net>;x=1",
        "Bob Smith <sip:bob@ims.example.net> ; tag = spaced ",
        "<sip:bob@ims.example.net>;x=\"a;tag=quoted\";y",
        "<sip:bob@ims.example.net>;tag=\"q\"",
        "<sip:bob@ims.example.net>;tag;tag=second",
        "<sip:bob@ims.example.net>;foo;tag=after-a-flag",
        "<tel:+15551234567>;tag=t1",
        "tel:+15551234567;tag=t2",
    };
    for (const std::string& v : values) {
        const auto na = sip::parse_name_addr(v);
        ASSERT_TRUE(na) << v;
        const auto mine = header_tag(v);
        const auto theirs = na->tag();
        EXPECT_EQ(mine.has_value(), theirs.has_value()) << v;
        if (mine && theirs && v.find("tag=\"") == std::string::npos) {
            EXPECT_EQ(*mine, *theirs) << v;
        }
    }
    EXPECT_EQ(header_tag("<sip:b@x>;tag=abc"), "abc");
    EXPECT_EQ(header_tag("<sip:b@x>;tag=\"q\""), "q");
    EXPECT_FALSE(header_tag(""));
}

sip::Message request(std::string_view method, std::string_view to) {
    sip::Message m = sip::make_request(method, *sip::parse_uri("sip:bob@ims.example.net"));
    m.add("To", to);
    return m;
}

TEST(AdmissionClassTest, WhatIsMeteredAndWhatIsNot) {
    const std::string out = "<sip:bob@ims.example.net>";
    const std::string in = "<sip:bob@ims.example.net>;tag=b";
    EXPECT_EQ(classify(request("REGISTER", out)), RequestClass::Register);
    EXPECT_EQ(classify(request("REGISTER", in)), RequestClass::Register);  // no way around
    EXPECT_EQ(classify(request("INVITE", out)), RequestClass::Invite);
    EXPECT_EQ(classify(request("MESSAGE", out)), RequestClass::Other);
    EXPECT_EQ(classify(request("OPTIONS", out)), RequestClass::Other);
    EXPECT_EQ(classify(request("SUBSCRIBE", out)), RequestClass::Other);
    for (const char* m : {"INVITE", "BYE", "UPDATE", "PRACK", "INFO", "NOTIFY", "MESSAGE"})
        EXPECT_EQ(classify(request(m, in)), RequestClass::Exempt) << m;
    EXPECT_EQ(classify(request("ACK", out)), RequestClass::Exempt);
    EXPECT_EQ(classify(request("CANCEL", out)), RequestClass::Exempt);
}

AdmissionConfig quiet() {
    AdmissionConfig c;
    c.flow_rate = 0;
    c.flow_burst = 0;
    c.max_invites_in_setup = 0;
    c.close_after_refusals = 0;
    return c;
}

// The refusals of `n` requests of class `c` from `flow` at `now`.
std::vector<std::optional<Refusal>> send(Admission& a, uint64_t flow, RequestClass c, int n,
                                         TimePoint now, std::size_t in_setup = 0) {
    std::vector<std::optional<Refusal>> out;
    for (int i = 0; i < n; ++i)
        out.push_back(a.admit(flow, c, in_setup, now).refusal);
    return out;
}
int admitted(const std::vector<std::optional<Refusal>>& v) {
    int n = 0;
    for (const auto& r : v)
        n += r ? 0 : 1;
    return n;
}

TEST(AdmissionTest, PerFlowBucketsAreEachFlowsOwn) {
    AdmissionConfig c = quiet();
    c.flow_rate = 2;
    c.flow_burst = 3;
    Admission a(c);
    const auto flood = send(a, 1, RequestClass::Register, 50, at_ms(0));
    EXPECT_EQ(admitted(flood), 3);
    EXPECT_EQ(flood.back(), Refusal::FlowRate);
    EXPECT_EQ(admitted(send(a, 2, RequestClass::Invite, 3, at_ms(0))), 3);
    EXPECT_EQ(admitted(send(a, 1, RequestClass::Other, 1, at_ms(499))), 0);
    EXPECT_EQ(admitted(send(a, 1, RequestClass::Other, 5, at_ms(500))), 1);
    EXPECT_EQ(a.flows(), 2u);
    a.forget(1);
    EXPECT_EQ(a.flows(), 1u);
    // A new flow of the same id (it cannot be: ids are not reused) would
    // start full.
    EXPECT_EQ(admitted(send(a, 1, RequestClass::Other, 5, at_ms(500))), 3);
}

TEST(AdmissionTest, GlobalBucketsByClassAndTheFlowLimitFirst) {
    AdmissionConfig c = quiet();
    c.register_rate = 10;
    c.register_burst = 4;
    c.initial_rate = 10;
    c.initial_burst = 2;
    c.flow_rate = 1;
    c.flow_burst = 1;
    Admission a(c);
    // A flooding flow is refused by its own bucket and spends no global token.
    const auto flood = send(a, 1, RequestClass::Register, 100, at_ms(0));
    EXPECT_EQ(admitted(flood), 1);
    EXPECT_EQ(flood[1], Refusal::FlowRate);
    int ok = 0;
    for (uint64_t flow = 10; flow < 20; ++flow) {
        const auto r = a.admit(flow, RequestClass::Register, 0, at_ms(0)).refusal;
        if (!r) {
            ++ok;
        } else {
            EXPECT_EQ(*r, Refusal::RegisterRate);
        }
    }
    EXPECT_EQ(ok, 3);  // 4 in the burst, one of them the flooder's
    // The bucket of initial requests is another.
    EXPECT_FALSE(a.admit(30, RequestClass::Invite, 0, at_ms(0)).refusal);
    EXPECT_FALSE(a.admit(31, RequestClass::Other, 0, at_ms(0)).refusal);
    EXPECT_EQ(a.admit(32, RequestClass::Invite, 0, at_ms(0)).refusal, Refusal::InitialRate);
    // 100 ms later, one token each.
    EXPECT_FALSE(a.admit(40, RequestClass::Register, 0, at_ms(100)).refusal);
    EXPECT_FALSE(a.admit(41, RequestClass::Invite, 0, at_ms(100)).refusal);
}

TEST(AdmissionTest, InvitesInSetupBoundOnlyInvites) {
    AdmissionConfig c = quiet();
    c.max_invites_in_setup = 2;
    Admission a(c);
    EXPECT_FALSE(a.admit(1, RequestClass::Invite, 1, at_ms(0)).refusal);
    EXPECT_EQ(a.admit(1, RequestClass::Invite, 2, at_ms(0)).refusal, Refusal::InvitesInSetup);
    EXPECT_FALSE(a.admit(1, RequestClass::Other, 2, at_ms(0)).refusal);
    EXPECT_FALSE(a.admit(1, RequestClass::Register, 2, at_ms(0)).refusal);
}

TEST(AdmissionTest, AFlowThatDoesNotWaitIsClosedOnce) {
    AdmissionConfig c = quiet();
    c.flow_rate = 1;
    c.flow_burst = 1;
    c.retry_after_s = 2;
    c.close_after_refusals = 5;
    Admission a(c);
    EXPECT_FALSE(a.admit(1, RequestClass::Register, 0, at_ms(0)).refusal);
    // Four refusals, then, within 2 s, a fifth: close.
    for (int i = 0; i < 4; ++i)
        EXPECT_FALSE(a.admit(1, RequestClass::Register, 0, at_ms(100)).close_flow);
    const AdmissionVerdict v = a.admit(1, RequestClass::Register, 0, at_ms(900));
    EXPECT_EQ(v.refusal, Refusal::FlowRate);
    EXPECT_TRUE(v.close_flow);
    // Said once.
    EXPECT_FALSE(a.admit(1, RequestClass::Register, 0, at_ms(950)).close_flow);
}

TEST(AdmissionTest, RefusalsSpreadOverWindowsDoNotClose) {
    AdmissionConfig c = quiet();
    c.flow_rate = 1;
    c.flow_burst = 1;
    c.retry_after_s = 1;
    c.close_after_refusals = 3;
    Admission a(c);
    // Each second: one admitted, two refused; the window (1 s) starts again.
    for (int64_t s = 0; s < 10; ++s) {
        for (int i = 0; i < 3; ++i)
            EXPECT_FALSE(a.admit(1, RequestClass::Other, 0, at_ms(s * 1000 + i)).close_flow);
    }
}

std::string refusal_of(const AdmissionConfig& c) {
    try {
        check_admission(c);
        const Admission a(c);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

TEST(AdmissionTest, BadConfigurationNamesTheKey) {
    EXPECT_EQ(refusal_of(AdmissionConfig{}), "");
    EXPECT_EQ(refusal_of(quiet()), "");
    auto with = [](auto change) {
        AdmissionConfig c;
        change(c);
        return refusal_of(c);
    };
    EXPECT_NE(with([](AdmissionConfig& c) { c.flow_burst = 0; }).find("admission.flow_burst"),
              std::string::npos);
    EXPECT_NE(with([](AdmissionConfig& c) {
                  c.register_rate = 10;
              }).find("admission.register_burst must be >= 1"),
              std::string::npos);
    EXPECT_NE(with([](AdmissionConfig& c) { c.initial_rate = 10; }).find("admission.initial_burst"),
              std::string::npos);
    EXPECT_NE(with([](AdmissionConfig& c) { c.flow_rate = 2000000; }).find("admission.flow_rate"),
              std::string::npos);
    EXPECT_NE(with([](AdmissionConfig& c) { c.retry_after_s = 0; }).find("admission.retry_after_s"),
              std::string::npos);
    // A burst without a rate is no limit, and no error here (the file
    // loader refuses it as a likely mistake).
    EXPECT_EQ(with([](AdmissionConfig& c) { c.register_burst = 5; }), "");
}

}  // namespace
}  // namespace isthmus::pcscf::test
