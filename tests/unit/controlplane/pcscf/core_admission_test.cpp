// Admission in the core (issue 11) on the fake clock: a flood of REGISTERs
// or INVITEs beyond a flow's rate is answered 503 with Retry-After and
// nothing of it is forwarded; tokens come back with time; one flow's flood
// does not spend another's allowance; the global rates; the bound on
// INVITEs in setup; in-dialog requests, ACK and CANCEL go through a flood;
// the ACK for a refused INVITE stops here; a flow that does not wait is
// closed; requests from the IMS are not metered; the defaults let a load
// test's rates through.
#include <gtest/gtest.h>

#include "core_testing.hpp"
#include "pcscf/core.hpp"

namespace isthmus::pcscf::test {
namespace {

class CoreAdmissionTest : public CoreFixture {
  protected:
    CoreAdmissionTest() {
        config.admission.flow_rate = 10;  // one every 100 ms
        config.admission.flow_burst = 5;
        config.admission.retry_after_s = 7;
        config.admission.close_after_refusals = 0;
        config.timer_c = sip::Duration(100000);
        make_core();
    }

    // Sends `n` REGISTERs from `flow` at now_ms; returns what came out.
    std::vector<Sent> registers(uint64_t flow, int n) {
        std::vector<Sent> out;
        for (int i = 0; i < n; ++i) {
            for (Sent& s : feed(browser_register(static_cast<uint32_t>(100 + i),
                                                 "z9hG4bK-fl-" + std::to_string(flow) + "-" +
                                                     std::to_string(++seq)),
                                browser(flow)))
                out.push_back(std::move(s));
        }
        return out;
    }

    // The browser's initial INVITE (Call-ID `call_id`, branch `branch`).
    static Message invite(std::string_view branch, std::string_view call_id) {
        Message inv = browser_request("INVITE", branch, 1, call_id);
        inv.add("Contact", "<" + std::string(kContact) + ">");
        return inv;
    }

    static int count_to(const std::vector<Sent>& out, const Peer& to) {
        int n = 0;
        for (const Sent& s : out)
            n += s.kind == Output::Kind::Send && s.to == to ? 1 : 0;
        return n;
    }
    static int count_status(const std::vector<Sent>& out, uint16_t code) {
        int n = 0;
        for (const Sent& s : out)
            n += s.msg.status_code == code ? 1 : 0;
        return n;
    }
    uint64_t forwarded_mw() const { return stats().requests_forwarded[1]; }
};

TEST_F(CoreAdmissionTest, ABurstBeyondTheFlowRateGets503WithRetryAfterAndGoesNowhere) {
    const auto out = registers(42, 8);
    // The burst (5) goes to the I-CSCF; the 3 beyond are answered here.
    EXPECT_EQ(count_to(out, icscf()), 5);
    ASSERT_EQ(count_to(out, browser(42)), 3);
    EXPECT_EQ(forwarded_mw(), 5u);
    for (const Sent& s : out) {
        if (s.to != browser(42)) continue;
        EXPECT_EQ(s.msg.status_code, 503);
        EXPECT_EQ(s.msg.reason_phrase, "Service Unavailable (connection rate limit)");
        EXPECT_EQ(text(s.msg, "Retry-After"), "7");
        EXPECT_EQ(text(s.msg, "CSeq").substr(4), "REGISTER");
        // Our Via is not on it: it never left.
        EXPECT_EQ(values(s.msg, "Via").size(), 1u);
        EXPECT_NE(text(s.msg, "To").find(";tag=isthmus-sl-"), std::string::npos);
    }
    EXPECT_EQ(refused(Refusal::FlowRate), 3u);
    EXPECT_EQ(stats().responses_sent[0][4], 3u);  // 5xx toward W2
    // Nothing was kept for them.
    EXPECT_EQ(core->transactions(), 10u);  // the 5 forwarded: server + client each
}

TEST_F(CoreAdmissionTest, TokensComeBackWithTime) {
    EXPECT_EQ(count_to(registers(42, 6), icscf()), 5);
    now_ms = 99;
    EXPECT_EQ(count_to(registers(42, 3), icscf()), 0);
    now_ms = 100;  // one token
    EXPECT_EQ(count_to(registers(42, 3), icscf()), 1);
    now_ms = 350;  // two more
    EXPECT_EQ(count_to(registers(42, 3), icscf()), 2);
    now_ms = 10000;  // full again, not fuller
    EXPECT_EQ(count_to(registers(42, 10), icscf()), 5);
    EXPECT_EQ(refused(Refusal::FlowRate), 1u + 3u + 2u + 1u + 5u);
}

TEST_F(CoreAdmissionTest, OneFloodingFlowDoesNotSpendAnothersAllowance) {
    const auto flood = registers(42, 200);
    EXPECT_EQ(count_to(flood, icscf()), 5);
    EXPECT_EQ(count_to(flood, browser(42)), 195);
    const auto other = registers(43, 5);
    EXPECT_EQ(count_to(other, icscf()), 5);
    EXPECT_EQ(count_to(other, browser(43)), 0);
}

TEST_F(CoreAdmissionTest, TheGlobalRegisterRateAcrossFlows) {
    config.admission.register_rate = 10;
    config.admission.register_burst = 3;
    make_core();
    // One REGISTER from each of 6 flows at once: 3 pass.
    std::vector<Sent> out;
    for (uint64_t flow = 100; flow < 106; ++flow)
        for (Sent& s : registers(flow, 1))
            out.push_back(std::move(s));
    EXPECT_EQ(count_to(out, icscf()), 3);
    EXPECT_EQ(refused(Refusal::RegisterRate), 3u);
    for (const Sent& s : out) {
        if (s.to == icscf()) continue;
        EXPECT_EQ(s.msg.status_code, 503);
        EXPECT_EQ(s.msg.reason_phrase, "Service Unavailable (REGISTER rate limit)");
        EXPECT_EQ(text(s.msg, "Retry-After"), "7");
    }
    // Initial requests are another bucket (here unlimited but per flow).
    const auto inv = feed(invite("z9hG4bK-g-inv", "g-call"), browser(100));
    EXPECT_EQ(count_status(inv, 503), 0);
    // 100 ms later, one more REGISTER in all.
    now_ms = 100;
    out.clear();
    for (uint64_t flow = 110; flow < 113; ++flow)
        for (Sent& s : registers(flow, 1))
            out.push_back(std::move(s));
    EXPECT_EQ(count_to(out, icscf()), 1);
}

TEST_F(CoreAdmissionTest, TheGlobalRateOfInitialRequests) {
    config.admission.flow_burst = 100;
    config.admission.initial_rate = 5;
    config.admission.initial_burst = 2;
    make_core();
    for (uint64_t flow = 42; flow < 45; ++flow)
        register_flow(flow);
    now_ms = 10000;  // every bucket full
    const auto a = feed(browser_request("MESSAGE", "z9hG4bK-m1"), browser(42));
    const auto b = feed(invite("z9hG4bK-i1", "call-b"), browser(43));
    const auto c = feed(browser_request("OPTIONS", "z9hG4bK-o1"), browser(44));
    EXPECT_EQ(count_to(a, scscf()), 1);
    EXPECT_EQ(count_to(b, scscf()), 1);
    const Sent refused_one = only(c);
    EXPECT_EQ(refused_one.msg.status_code, 503);
    EXPECT_EQ(refused_one.msg.reason_phrase, "Service Unavailable (request rate limit)");
    EXPECT_EQ(refused(Refusal::InitialRate), 1u);
    // REGISTERs are not in that bucket.
    EXPECT_EQ(count_to(registers(44, 1), icscf()), 1);
}

TEST_F(CoreAdmissionTest, InDialogRequestsAckAndCancelPassDuringAFlood) {
    register_flow(42);
    now_ms = 10000;
    // A call set up: INVITE, 200, and a second INVITE ringing.
    const auto setup = feed(invite("z9hG4bK-call-1", "call-1"), browser());
    ASSERT_EQ(count_to(setup, scscf()), 1);
    const Message fwd = setup.back().msg;
    only(feed(response_to(fwd, 200, "OK"), scscf()));
    const auto ringing = feed(invite("z9hG4bK-call-2", "call-2"), browser());
    ASSERT_EQ(count_to(ringing, scscf()), 1);
    only(feed(response_to(ringing.back().msg, 180, "Ringing"), scscf()));
    // The flow floods: its bucket is empty, more INVITEs and REGISTERs get 503.
    int refusals = 0;
    for (int i = 0; i < 50; ++i) {
        const std::string n = std::to_string(i);
        refusals += count_status(feed(invite("z9hG4bK-fl-inv-" + n, "fl-" + n), browser()), 503);
        refusals += count_status(registers(42, 1), 503);
    }
    EXPECT_GE(refusals, 95);
    const uint64_t before = forwarded_mw();
    // The ACK for the 2xx, a re-INVITE, an UPDATE and the BYE go on.
    const auto in_dialog = [&](std::string_view method, std::string_view branch, uint32_t cseq) {
        Message m = browser_request(method, branch, cseq, "call-1");
        m.set("To", "<sip:bob@ims.example.net>;tag=ims-tag");
        m.add("Route", w2_rr());
        m.add("Route", "<sip:198.18.0.1:5060;lr>");
        m.add("Route", "<sip:mt@scscf.ims.example.net:6060;lr>");
        return m;
    };
    EXPECT_EQ(count_to(feed(in_dialog("ACK", "z9hG4bK-ack-1", 1), browser()), scscf()), 1);
    EXPECT_EQ(count_to(feed(in_dialog("INVITE", "z9hG4bK-reinv", 2), browser()), scscf()), 1);
    EXPECT_EQ(count_to(feed(in_dialog("UPDATE", "z9hG4bK-upd", 3), browser()), scscf()), 1);
    EXPECT_EQ(count_to(feed(in_dialog("BYE", "z9hG4bK-bye", 4), browser()), scscf()), 1);
    // The CANCEL of the ringing call: 200 here, CANCEL downstream.
    const auto cancel = feed(browser_request("CANCEL", "z9hG4bK-call-2", 1, "call-2"), browser());
    EXPECT_EQ(count_status(cancel, 200), 1);
    EXPECT_EQ(count_to(cancel, scscf()), 1);
    EXPECT_EQ(stats().cancels_sent, 1u);
    EXPECT_EQ(forwarded_mw(), before + 4);  // our CANCEL is not counted there
    // And a response from the browser (to an INVITE from the IMS) too:
    // responses are never metered (core_terminating_test has the path).
}

TEST_F(CoreAdmissionTest, TheAckForARefusedInviteStopsHere) {
    register_flow(42);
    now_ms = 10000;
    std::vector<Message> refused_invites;
    for (int i = 0; i < 8; ++i) {
        const std::string n = std::to_string(i);
        const Message inv = invite("z9hG4bK-ri-" + n, "ri-" + n);
        for (const Sent& s : feed(inv, browser())) {
            if (s.msg.status_code == 503) refused_invites.push_back(s.msg);
        }
    }
    ASSERT_EQ(refused_invites.size(), 3u);
    const uint64_t before = forwarded_mw();
    // 17.1.1.3: the ACK for a non-2xx has the INVITE's branch and the
    // response's To (our tag).
    for (std::size_t i = 0; i < refused_invites.size(); ++i) {
        const std::string n = std::to_string(5 + i);
        Message ack = browser_request("ACK", "z9hG4bK-ri-" + n, 1, "ri-" + n);
        ack.set("To", text(refused_invites[i], "To"));
        EXPECT_TRUE(feed(ack, browser()).empty());
    }
    EXPECT_EQ(forwarded_mw(), before);
    EXPECT_EQ(dropped(Drop::AckToRefusal), 3u);
}

TEST_F(CoreAdmissionTest, InvitesInSetupAreBounded) {
    config.admission.flow_burst = 100;
    config.admission.max_invites_in_setup = 2;
    make_core();
    register_flow(42);
    now_ms = 10000;
    const auto a = feed(invite("z9hG4bK-s1", "s1"), browser());
    const auto b = feed(invite("z9hG4bK-s2", "s2"), browser());
    ASSERT_EQ(count_to(a, scscf()), 1);
    ASSERT_EQ(count_to(b, scscf()), 1);
    EXPECT_EQ(core->invites_in_setup(), 2u);
    const Sent third = only(feed(invite("z9hG4bK-s3", "s3"), browser()));
    EXPECT_EQ(third.msg.status_code, 503);
    EXPECT_EQ(third.msg.reason_phrase, "Service Unavailable (too many calls in setup)");
    EXPECT_EQ(text(third.msg, "Retry-After"), "7");
    EXPECT_EQ(refused(Refusal::InvitesInSetup), 1u);
    // Other requests are not bounded by it.
    EXPECT_EQ(count_to(feed(browser_request("MESSAGE", "z9hG4bK-sm"), browser()), scscf()), 1);
    // A final response ends a setup (a 2xx or not): room again.
    only(feed(response_to(a.back().msg, 200, "OK"), scscf()));
    EXPECT_EQ(core->invites_in_setup(), 1u);
    const auto d = feed(invite("z9hG4bK-s4", "s4"), browser());
    EXPECT_EQ(count_to(d, scscf()), 1);
    feed(response_to(b.back().msg, 486, "Busy Here"), scscf());
    EXPECT_EQ(core->invites_in_setup(), 1u);
    // Timer C / a closed flow end the last one.
    close_flow(42);
    run_until(now_ms + 200000);
    EXPECT_EQ(core->invites_in_setup(), 0u);
}

TEST_F(CoreAdmissionTest, AFlowThatDoesNotWaitIsClosed) {
    config.admission.close_after_refusals = 10;
    make_core();
    const auto out = registers(42, 5 + 12);
    // 5 forwarded, 10 refusals, then CloseFlow right after the tenth 503;
    // the ones after are refused too (the transport closes the flow after
    // what is queued), never a second CloseFlow.
    int closes = 0;
    int refusals_before_close = 0;
    for (const Sent& s : out) {
        if (s.kind == Output::Kind::CloseFlow) {
            ++closes;
            EXPECT_EQ(s.to, browser(42));
            continue;
        }
        if (closes == 0 && s.msg.status_code == 503) ++refusals_before_close;
    }
    EXPECT_EQ(closes, 1);
    EXPECT_EQ(refusals_before_close, 10);
    EXPECT_EQ(stats().admission_flows_closed, 1u);
    EXPECT_EQ(refused(Refusal::FlowRate), 12u);
    // The transport reports it closed: its state goes.
    EXPECT_EQ(core->admission().flows(), 1u);
    close_flow(42);
    EXPECT_EQ(core->admission().flows(), 0u);
}

TEST_F(CoreAdmissionTest, AFlowThatWaitsAsToldIsNotClosed) {
    config.admission.close_after_refusals = 3;
    make_core();
    // Over 60 s: each Retry-After interval (7 s) a burst of 5 and two
    // refusals: never 3 in one window.
    for (int64_t t = 0; t < 60000; t += 7000) {
        now_ms = t;
        for (const Sent& s : registers(42, 7))
            EXPECT_NE(s.kind, Output::Kind::CloseFlow) << t;
    }
    EXPECT_EQ(stats().admission_flows_closed, 0u);
}

TEST_F(CoreAdmissionTest, RequestsFromTheImsAreNotMetered) {
    config.admission.flow_rate = 1;
    config.admission.flow_burst = 2;
    config.admission.initial_rate = 1;
    config.admission.initial_burst = 1;
    make_core();
    register_flow(42);
    now_ms = 10000;
    for (int i = 0; i < 50; ++i) {
        Message m = ims_request("MESSAGE", "z9hG4bK-mt-" + std::to_string(i));
        m.set("CSeq", std::to_string(10 + i) + " MESSAGE");
        EXPECT_EQ(count_to(feed(m, scscf()), browser()), 1) << i;
    }
    for (std::size_t r = 0; r < kRefusalCount; ++r)
        EXPECT_EQ(stats().refused[r], 0u) << refusal_label(static_cast<Refusal>(r));
}

TEST_F(CoreAdmissionTest, TheDefaultsLetALoadTestsRatesThrough) {
    // bench/register_bench.sh: ~10 REGISTERs/s on each of 1000 WebSockets;
    // call_bench.sh with 50 connections x 4 calls: ~40 INVITEs/s on each.
    // Here one flow at 90/s for 3 s (above both), then bursts of 150.
    config.admission = AdmissionConfig{};
    make_core();
    for (int i = 0; i < 270; ++i) {
        now_ms = i * 1000 / 90;
        const auto out = registers(42, 1);
        ASSERT_EQ(count_to(out, icscf()), 1) << i;
        // Answer it: the transactions go, as in the bench.
        feed(response_to(out.back().msg, 401, "Unauthorized"), icscf());
    }
    now_ms += 5000;
    EXPECT_EQ(count_to(registers(42, 150), icscf()), 150);
    EXPECT_EQ(core->admission().config().max_invites_in_setup, 5000u);
    for (std::size_t r = 0; r < kRefusalCount; ++r)
        EXPECT_EQ(stats().refused[r], 0u) << refusal_label(static_cast<Refusal>(r));
}

TEST_F(CoreAdmissionTest, BadAdmissionConfigurationIsRefusedByTheCore) {
    config.admission.register_rate = 100;  // no burst
    EXPECT_THROW(make_core(), std::invalid_argument);
    config.admission.register_burst = 100;
    config.admission.retry_after_s = 0;
    try {
        make_core();
        ADD_FAILURE() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("admission.retry_after_s"), std::string::npos);
    }
}

}  // namespace
}  // namespace isthmus::pcscf::test
