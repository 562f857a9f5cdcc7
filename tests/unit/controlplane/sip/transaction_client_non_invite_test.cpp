// The non-INVITE client transaction (RFC 3261 17.1.2, figure 6) with a fake
// clock: Trying, Proceeding, Completed, Terminated; timers E (doubling to
// T2, T2 in Proceeding), F and K at their exact times; reliable transports;
// and what send_request refuses.
#include <gtest/gtest.h>

#include "transaction_testing.hpp"

namespace isthmus::sip::test {
namespace {

class NonInviteClientTransaction : public TransactionFixture {};

TEST_F(NonInviteClientTransaction, TimerEDoublesUpToT2UntilTimerF) {
    const TransactionId id = start_client(outgoing_request("REGISTER"), udp_peer());
    EXPECT_EQ(layer->state(id), TransactionState::Trying);
    EXPECT_EQ(layer->kind(id), TransactionKind::NonInviteClient);
    const auto events = run_until(100000);
    // E: T1, 2T1, 4T1, then T2 (4 s) each time; F = 64*T1.
    EXPECT_EQ(send_times(events), (std::vector<int64_t>{500, 1500, 3500, 7500, 11500, 15500, 19500,
                                                        23500, 27500, 31500}));
    ASSERT_EQ(events.size(), 12u);
    EXPECT_EQ(events[10].ms, 32000);
    EXPECT_EQ(events[10].action.kind, ActionKind::Timeout);
    EXPECT_EQ(events[10].action.timer, TimerName::F);
    EXPECT_EQ(events[11].action.kind, ActionKind::Terminated);
    EXPECT_EQ(layer->size(), 0u);
}

TEST_F(NonInviteClientTransaction, ScaledTimersKeepTheirShape) {
    config.timers.t1 = Duration(100);
    config.timers.t2 = Duration(400);
    make_layer();
    start_client(outgoing_request("OPTIONS"), udp_peer());
    const auto events = run_until(100000);
    std::vector<int64_t> expected = {100, 300, 700};
    for (int64_t t = 1100; t < 6400; t += 400)
        expected.push_back(t);
    EXPECT_EQ(send_times(events), expected);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events[events.size() - 2].ms, 6400);
    EXPECT_EQ(events[events.size() - 2].action.timer, TimerName::F);
}

TEST_F(NonInviteClientTransaction, ProceedingRetransmitsEveryT2UntilTimerF) {
    const TransactionId id = start_client(outgoing_request("MESSAGE"), udp_peer());
    EXPECT_EQ(send_times(run_until(500)), std::vector<int64_t>{500});
    const Inbound in = layer->on_message(response_to(sent, 100, "Trying"), udp_peer(), at(700));
    EXPECT_EQ(in.disposition, Disposition::Response);
    EXPECT_EQ(layer->state(id), TransactionState::Proceeding);
    // E still fires when it was due (1500), then every T2 (17.1.2.2).
    const auto events = run_until(100000);
    EXPECT_EQ(send_times(events),
              (std::vector<int64_t>{1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500}));
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events[events.size() - 2].ms, 32000);  // F fires in Proceeding too
    EXPECT_EQ(events[events.size() - 2].action.kind, ActionKind::Timeout);
    EXPECT_EQ(events[events.size() - 2].action.timer, TimerName::F);
}

TEST_F(NonInviteClientTransaction, FinalMovesToCompletedForTimerK) {
    const TransactionId id = start_client(outgoing_request("REGISTER"), udp_peer());
    const Message challenge = response_to(sent, 401, "Unauthorized");
    layer->on_message(response_to(sent, 100), udp_peer(), at(100));
    const Inbound in = layer->on_message(challenge, udp_peer(), at(600));
    EXPECT_EQ(in.disposition, Disposition::Response);
    EXPECT_EQ(in.transaction, id);
    EXPECT_EQ(layer->state(id), TransactionState::Completed);
    EXPECT_EQ(layer->next_deadline(), at(600 + 5000));  // K = T4; no E, no F
    // Retransmitted finals and late provisionals are absorbed, silently.
    EXPECT_EQ(layer->on_message(challenge, udp_peer(), at(1000)).disposition,
              Disposition::Absorbed);
    EXPECT_EQ(layer->on_message(response_to(sent, 200), udp_peer(), at(1000)).disposition,
              Disposition::Absorbed);
    EXPECT_EQ(layer->on_message(response_to(sent, 180), udp_peer(), at(1000)).disposition,
              Disposition::Absorbed);
    EXPECT_TRUE(drain().empty());
    EXPECT_EQ(layer->stats().responses_absorbed, 3u);
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].ms, 5600);
    EXPECT_EQ(events[0].action.kind, ActionKind::Terminated);
    EXPECT_EQ(layer->on_message(challenge, udp_peer(), at(6000)).disposition,
              Disposition::StrayResponse);
}

TEST_F(NonInviteClientTransaction, FinalInTryingStopsTimerE) {
    const TransactionId id = start_client(outgoing_request("OPTIONS"), udp_peer());
    layer->on_message(response_to(sent, 200), udp_peer(), at(200));
    EXPECT_EQ(layer->state(id), TransactionState::Completed);
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].ms, 5200);
    EXPECT_EQ(events[0].action.kind, ActionKind::Terminated);
}

TEST_F(NonInviteClientTransaction, ReliableTransportHasNoTimerEAndNoTimerK) {
    const TransactionId id = start_client(outgoing_request("REGISTER", "", "TCP"), tcp_peer());
    EXPECT_EQ(layer->next_deadline(), at(32000));  // F only
    layer->on_message(response_to(sent, 100), tcp_peer(), at(100));
    EXPECT_EQ(layer->next_deadline(), at(32000));
    const Inbound in = layer->on_message(response_to(sent, 200), tcp_peer(), at(300));
    EXPECT_EQ(in.disposition, Disposition::Response);
    EXPECT_EQ(in.transaction, id);
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);  // K = 0: Terminated at once
    EXPECT_EQ(actions[0].kind, ActionKind::Terminated);
    EXPECT_EQ(layer->state(id), std::nullopt);
    EXPECT_EQ(layer->next_deadline(), std::nullopt);
}

TEST_F(NonInviteClientTransaction, ReliableTimeoutIsTimerF) {
    start_client(outgoing_request("MESSAGE", "", "TLS"), tcp_peer());
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].ms, 32000);
    EXPECT_EQ(events[0].action.timer, TimerName::F);
}

TEST_F(NonInviteClientTransaction, TransportErrorEndsIt) {
    const TransactionId id = start_client(outgoing_request("REGISTER"), udp_peer());
    EXPECT_TRUE(layer->on_transport_error(id, at(1)));
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 2u);
    EXPECT_EQ(actions[0].kind, ActionKind::TransportError);
    EXPECT_EQ(actions[1].kind, ActionKind::Terminated);
    EXPECT_EQ(layer->stats().transport_errors, 1u);
    EXPECT_FALSE(layer->on_transport_error(TransactionId{999}, at(1)));
}

TEST_F(NonInviteClientTransaction, KeepsAGivenMagicCookieBranch) {
    const SendResult r = layer->send_request(
        outgoing_request("OPTIONS", ";branch=z9hG4bKmine;rport"), udp_peer(), at(0));
    ASSERT_EQ(r.status, SendStatus::Ok);
    EXPECT_EQ(r.branch, "z9hG4bKmine");
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(parse_bytes(*actions[0].bytes).headers("Via")[0],
              "SIP/2.0/UDP pcscf.example.net:5060;branch=z9hG4bKmine;rport");
    // The same branch and method again is refused; another method is not.
    EXPECT_EQ(
        layer->send_request(outgoing_request("OPTIONS", ";branch=z9hG4bKmine"), udp_peer(), at(0))
            .status,
        SendStatus::DuplicateTransaction);
    EXPECT_EQ(
        layer->send_request(outgoing_request("INFO", ";branch=z9hG4bKmine"), udp_peer(), at(0))
            .status,
        SendStatus::Ok);
}

TEST_F(NonInviteClientTransaction, SendRequestRefusals) {
    auto status = [&](Message m) {
        return layer->send_request(std::move(m), udp_peer(), at(0)).status;
    };
    EXPECT_EQ(status(make_response(200, "OK")), SendStatus::NotARequest);
    EXPECT_EQ(status(Message{}), SendStatus::NotARequest);
    EXPECT_EQ(status(outgoing_request("ACK")), SendStatus::AckNotATransaction);
    Message no_via = outgoing_request("OPTIONS");
    no_via.remove("Via");
    EXPECT_EQ(status(no_via), SendStatus::MissingVia);
    Message bad_via = outgoing_request("OPTIONS");
    bad_via.set("Via", "SIP/2.0 pcscf.example.net");
    EXPECT_EQ(status(bad_via), SendStatus::MalformedVia);
    EXPECT_EQ(status(outgoing_request("OPTIONS", ";branch=1234")), SendStatus::BadBranch);
    EXPECT_EQ(status(outgoing_request("OPTIONS", ";branch=z9hG4bK")), SendStatus::BadBranch);
    Message no_cseq = outgoing_request("OPTIONS");
    no_cseq.remove("CSeq");
    EXPECT_EQ(status(no_cseq), SendStatus::MalformedCSeq);
    Message bad_cseq = outgoing_request("OPTIONS");
    bad_cseq.set("CSeq", "one OPTIONS");
    EXPECT_EQ(status(bad_cseq), SendStatus::MalformedCSeq);
    Message other = outgoing_request("OPTIONS");
    other.set("CSeq", "1 INFO");
    EXPECT_EQ(status(other), SendStatus::CSeqMethodMismatch);
    EXPECT_EQ(layer->size(), 0u);
    EXPECT_EQ(layer->pending_actions(), 0u);
}

}  // namespace
}  // namespace isthmus::sip::test
