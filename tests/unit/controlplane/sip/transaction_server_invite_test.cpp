// The INVITE server transaction (RFC 3261 17.2.1, RFC 6026 figure 7) with a
// fake clock: Proceeding, Completed, Confirmed, Accepted, Terminated; timers
// G (doubling to T2), H, I, L at their exact times; the 100 Trying;
// retransmitted INVITEs absorbed with the last response resent; the ACK.
#include <gtest/gtest.h>

#include "transaction_testing.hpp"

namespace isthmus::sip::test {
namespace {

class InviteServerTransaction : public TransactionFixture {
  protected:
    // An INVITE arrives from the browser; its 100 Trying is drained.
    TransactionId receive_invite(const Peer& from = wss_peer(), int64_t ms = 0) {
        invite = incoming_request("INVITE");
        const Inbound in = layer->on_message(invite, from, at(ms));
        EXPECT_EQ(in.disposition, Disposition::NewServerTransaction);
        drain();
        return in.transaction;
    }
    Message invite;
};

TEST_F(InviteServerTransaction, NewInviteGets100TryingAtItsSource) {
    const Message request = incoming_request("INVITE");
    const Inbound in = layer->on_message(request, wss_peer(), at(0));
    ASSERT_EQ(in.disposition, Disposition::NewServerTransaction);
    EXPECT_TRUE(in.transaction);
    EXPECT_EQ(layer->kind(in.transaction), TransactionKind::InviteServer);
    EXPECT_EQ(layer->state(in.transaction), TransactionState::Proceeding);
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, ActionKind::Send);
    EXPECT_EQ(actions[0].peer, wss_peer());
    const Message trying = parse_bytes(*actions[0].bytes);
    EXPECT_EQ(trying.status_code, 100);
    EXPECT_EQ(trying.reason_phrase, "Trying");
    EXPECT_EQ(trying.headers("Via"), request.headers("Via"));
    EXPECT_EQ(trying.header("To"), request.header("To"));  // no tag on a 100
    EXPECT_EQ(trying.header("From"), request.header("From"));
    EXPECT_EQ(trying.header("Call-ID"), request.header("Call-ID"));
    EXPECT_EQ(trying.header("CSeq"), "1 INVITE");
    EXPECT_EQ(trying.header("Timestamp"), "54");  // 8.2.6.1
    EXPECT_EQ(trying.header("Max-Forwards"), std::nullopt);
    EXPECT_EQ(layer->next_deadline(), std::nullopt);  // Proceeding runs no timer
}

TEST_F(InviteServerTransaction, RetransmittedInviteInProceedingGetsTheLastProvisional) {
    const TransactionId id = receive_invite();
    Inbound in = layer->on_message(invite, wss_peer(), at(500));
    EXPECT_EQ(in.disposition, Disposition::Absorbed);
    EXPECT_EQ(in.transaction, id);
    auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_TRUE(actions[0].retransmission);
    EXPECT_EQ(parse_bytes(*actions[0].bytes).status_code, 100);

    ASSERT_EQ(layer->respond(id, response_to(invite, 180, "Ringing"), at(600)), RespondStatus::Ok);
    actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    const std::string ringing = *actions[0].bytes;
    in = layer->on_message(invite, wss_peer(), at(1500));
    EXPECT_EQ(in.disposition, Disposition::Absorbed);
    actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(*actions[0].bytes, ringing);
    EXPECT_EQ(layer->state(id), TransactionState::Proceeding);
    EXPECT_EQ(layer->stats().requests_absorbed, 2u);
}

TEST_F(InviteServerTransaction, WithoutAuto100NothingIsResentBeforeTheTuAnswers) {
    config.send_100_trying = false;
    make_layer();
    const TransactionId id = receive_invite();
    EXPECT_EQ(layer->on_message(invite, wss_peer(), at(500)).disposition, Disposition::Absorbed);
    EXPECT_TRUE(drain().empty());
    layer->respond(id, response_to(invite, 183), at(600));
    drain();
    layer->on_message(invite, wss_peer(), at(700));
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(parse_bytes(*actions[0].bytes).status_code, 183);
}

TEST_F(InviteServerTransaction, Non2xxFinalIsRetransmittedByTimerGUntilTimerH) {
    const TransactionId id = receive_invite(udp_peer());
    ASSERT_EQ(layer->respond(id, response_to(invite, 486, "Busy Here"), at(1000)),
              RespondStatus::Ok);
    const auto first = drain();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_FALSE(first[0].retransmission);
    EXPECT_EQ(layer->state(id), TransactionState::Completed);
    const auto events = run_until(100000);
    // G: T1, 2T1, 4T1, then T2; H = 64*T1 after entering Completed.
    EXPECT_EQ(send_times(events), (std::vector<int64_t>{1500, 2500, 4500, 8500, 12500, 16500, 20500,
                                                        24500, 28500, 32500}));
    for (const Timed& e : events) {
        if (e.action.kind != ActionKind::Send) continue;
        EXPECT_EQ(*e.action.bytes, *first[0].bytes);
        EXPECT_TRUE(e.action.retransmission);
        EXPECT_EQ(e.action.peer, udp_peer());
    }
    ASSERT_EQ(events.size(), 12u);
    EXPECT_EQ(events[10].ms, 33000);
    EXPECT_EQ(events[10].action.kind, ActionKind::Timeout);
    EXPECT_EQ(events[10].action.timer, TimerName::H);
    EXPECT_EQ(events[11].action.kind, ActionKind::Terminated);
    EXPECT_EQ(layer->stats().timeouts, 1u);
}

TEST_F(InviteServerTransaction, AckInCompletedConfirmsAndTimerIEndsIt) {
    const TransactionId id = receive_invite(udp_peer());
    layer->respond(id, response_to(invite, 404, "Not Found"), at(0));
    const std::string final_bytes = *drain()[0].bytes;
    EXPECT_EQ(send_times(run_until(500)), std::vector<int64_t>{500});
    // A retransmitted INVITE in Completed gets the final response again.
    EXPECT_EQ(layer->on_message(invite, udp_peer(), at(600)).disposition, Disposition::Absorbed);
    auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(*actions[0].bytes, final_bytes);
    // The ACK (same branch and sent-by, 17.1.1.3) moves it to Confirmed.
    const Message ack = incoming_request("ACK");
    const Inbound in = layer->on_message(ack, udp_peer(), at(700));
    EXPECT_EQ(in.disposition, Disposition::Absorbed);
    EXPECT_EQ(in.transaction, id);
    EXPECT_EQ(layer->state(id), TransactionState::Confirmed);
    EXPECT_EQ(layer->next_deadline(), at(700 + 5000));  // I = T4; G and H stopped
    // Confirmed absorbs ACKs and INVITEs without a word.
    EXPECT_EQ(layer->on_message(ack, udp_peer(), at(800)).disposition, Disposition::Absorbed);
    EXPECT_EQ(layer->on_message(invite, udp_peer(), at(900)).disposition, Disposition::Absorbed);
    EXPECT_TRUE(drain().empty());
    EXPECT_EQ(layer->respond(id, response_to(invite, 500), at(900)), RespondStatus::WrongState);
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].ms, 5700);
    EXPECT_EQ(events[0].action.kind, ActionKind::Terminated);
}

TEST_F(InviteServerTransaction, ReliableTransportHasNoTimerGAndNoTimerI) {
    const TransactionId id = receive_invite(wss_peer());
    layer->respond(id, response_to(invite, 403), at(100));
    EXPECT_EQ(drain().size(), 1u);
    EXPECT_EQ(layer->next_deadline(), at(100 + 32000));  // H only, on every transport
    layer->on_message(incoming_request("ACK"), wss_peer(), at(200));
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);  // I = 0
    EXPECT_EQ(actions[0].kind, ActionKind::Terminated);
    EXPECT_EQ(layer->state(id), std::nullopt);
}

TEST_F(InviteServerTransaction, ReliableTimerHWithoutAck) {
    const TransactionId id = receive_invite(wss_peer());
    layer->respond(id, response_to(invite, 480), at(0));
    drain();
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].ms, 32000);
    EXPECT_EQ(events[0].action.kind, ActionKind::Timeout);
    EXPECT_EQ(events[0].action.timer, TimerName::H);
    EXPECT_EQ(events[1].action.kind, ActionKind::Terminated);
}

TEST_F(InviteServerTransaction, TwoHundredMovesToAcceptedUntilTimerL) {
    const TransactionId id = receive_invite(udp_peer());
    const Message ok = response_to(invite, 200, "OK");
    ASSERT_EQ(layer->respond(id, ok, at(1000)), RespondStatus::Ok);
    EXPECT_EQ(drain().size(), 1u);
    EXPECT_EQ(layer->state(id), TransactionState::Accepted);
    EXPECT_EQ(layer->next_deadline(), at(1000 + 32000));  // L; no G for a 2xx
    // RFC 6026: INVITE retransmissions absorbed, not answered (the TU
    // retransmits its 2xx itself, and may).
    EXPECT_EQ(layer->on_message(invite, udp_peer(), at(1500)).disposition, Disposition::Absorbed);
    EXPECT_TRUE(drain().empty());
    EXPECT_EQ(layer->respond(id, ok, at(1500)), RespondStatus::Ok);
    EXPECT_EQ(drain().size(), 1u);
    EXPECT_EQ(layer->respond(id, response_to(invite, 486), at(1600)), RespondStatus::WrongState);
    EXPECT_EQ(layer->respond(id, response_to(invite, 180), at(1600)), RespondStatus::WrongState);
    // An ACK on the INVITE's branch goes to the TU with the transaction...
    Inbound in = layer->on_message(incoming_request("ACK"), udp_peer(), at(1700));
    EXPECT_EQ(in.disposition, Disposition::Ack);
    EXPECT_EQ(in.transaction, id);
    // ...and one on a new branch (the usual 2xx ACK) without.
    in = layer->on_message(incoming_request("ACK", "z9hG4bK-ack-2"), udp_peer(), at(1700));
    EXPECT_EQ(in.disposition, Disposition::Ack);
    EXPECT_FALSE(in.transaction);
    EXPECT_EQ(layer->stats().acks_to_core, 2u);
    EXPECT_EQ(layer->state(id), TransactionState::Accepted);
    EXPECT_TRUE(drain().empty());
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].ms, 33000);
    EXPECT_EQ(events[0].action.kind, ActionKind::Terminated);
    // Hostile: the INVITE retransmitted after L is a new transaction (64*T1
    // after the 2xx, nothing can tell it from a new request).
    in = layer->on_message(invite, udp_peer(), at(40000));
    EXPECT_EQ(in.disposition, Disposition::NewServerTransaction);
    EXPECT_NE(in.transaction, id);
}

TEST_F(InviteServerTransaction, TimerLIsSixtyFourT1OverReliableToo) {
    const TransactionId id = receive_invite(wss_peer());
    layer->respond(id, response_to(invite, 200), at(10));
    EXPECT_EQ(layer->next_deadline(), at(10 + 32000));
}

TEST_F(InviteServerTransaction, AckBeforeAnyFinalIsDropped) {
    const TransactionId id = receive_invite();
    const Inbound in = layer->on_message(incoming_request("ACK"), wss_peer(), at(10));
    EXPECT_EQ(in.disposition, Disposition::Absorbed);
    EXPECT_EQ(layer->state(id), TransactionState::Proceeding);
    EXPECT_TRUE(drain().empty());
}

TEST_F(InviteServerTransaction, TransportErrorInformsTheTuAndKeepsTheTransaction) {
    // RFC 6026 figure 7: Proceeding, Completed and Accepted stay put.
    for (const uint16_t answer : {uint16_t{0}, uint16_t{486}, uint16_t{200}}) {
        make_layer();
        const TransactionId id = receive_invite(udp_peer());
        if (answer != 0) layer->respond(id, response_to(invite, answer), at(10));
        drain();
        const auto state = layer->state(id);
        EXPECT_TRUE(layer->on_transport_error(id, at(20)));
        const auto actions = drain();
        ASSERT_EQ(actions.size(), 1u) << answer;
        EXPECT_EQ(actions[0].kind, ActionKind::TransportError);
        EXPECT_EQ(layer->state(id), state);
    }
}

TEST_F(InviteServerTransaction, RespondRefusals) {
    const TransactionId id = receive_invite();
    EXPECT_EQ(layer->respond(TransactionId{12345}, response_to(invite, 200), at(0)),
              RespondStatus::UnknownTransaction);
    EXPECT_EQ(layer->respond(TransactionId{}, response_to(invite, 200), at(0)),
              RespondStatus::UnknownTransaction);
    EXPECT_EQ(layer->respond(id, incoming_request("INVITE"), at(0)), RespondStatus::NotAResponse);
    Message odd = response_to(invite, 200);
    odd.status_code = 700;
    EXPECT_EQ(layer->respond(id, odd, at(0)), RespondStatus::NotAResponse);
    const TransactionId client = start_client(outgoing_request("OPTIONS"), udp_peer());
    EXPECT_EQ(layer->respond(client, response_to(sent, 200), at(0)),
              RespondStatus::NotAServerTransaction);
    EXPECT_EQ(layer->state(id), TransactionState::Proceeding);
    layer->respond(id, response_to(invite, 486), at(0));
    EXPECT_EQ(layer->respond(id, response_to(invite, 486), at(0)), RespondStatus::WrongState);
    EXPECT_EQ(layer->respond(id, response_to(invite, 200), at(0)), RespondStatus::WrongState);
}

}  // namespace
}  // namespace isthmus::sip::test
