// The non-INVITE server transaction (RFC 3261 17.2.2, figure 8) with a fake
// clock: Trying, Proceeding, Completed, Terminated; Timer J on unreliable and
// reliable transports; retransmitted requests absorbed with the last
// response resent; and CANCEL (9.2), a non-INVITE server transaction that
// names the INVITE server transaction it cancels.
#include <gtest/gtest.h>

#include "transaction_testing.hpp"

namespace isthmus::sip::test {
namespace {

class NonInviteServerTransaction : public TransactionFixture {
  protected:
    TransactionId receive(const Message& request, const Peer& from, int64_t ms = 0) {
        const Inbound in = layer->on_message(request, from, at(ms));
        EXPECT_EQ(in.disposition, Disposition::NewServerTransaction);
        return in.transaction;
    }
};

TEST_F(NonInviteServerTransaction, TryingAbsorbsRetransmissionsSilently) {
    const Message reg = incoming_request("REGISTER");
    const TransactionId id = receive(reg, wss_peer());
    EXPECT_EQ(layer->kind(id), TransactionKind::NonInviteServer);
    EXPECT_EQ(layer->state(id), TransactionState::Trying);
    EXPECT_TRUE(drain().empty());  // no automatic 100 for non-INVITE (16.2 / 17.2.2)
    EXPECT_EQ(layer->next_deadline(), std::nullopt);
    const Inbound in = layer->on_message(reg, wss_peer(), at(500));
    EXPECT_EQ(in.disposition, Disposition::Absorbed);
    EXPECT_EQ(in.transaction, id);
    EXPECT_TRUE(drain().empty());
}

TEST_F(NonInviteServerTransaction, ProceedingResendsTheLastProvisional) {
    const Message msg = incoming_request("MESSAGE");
    const TransactionId id = receive(msg, udp_peer());
    ASSERT_EQ(layer->respond(id, response_to(msg, 100, "Trying"), at(10)), RespondStatus::Ok);
    EXPECT_EQ(layer->state(id), TransactionState::Proceeding);
    const auto first = drain();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].peer, udp_peer());
    layer->on_message(msg, udp_peer(), at(500));
    const auto again = drain();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_TRUE(again[0].retransmission);
    EXPECT_EQ(*again[0].bytes, *first[0].bytes);
    EXPECT_EQ(layer->next_deadline(), std::nullopt);
}

TEST_F(NonInviteServerTransaction, FinalMovesToCompletedUntilTimerJ) {
    const Message reg = incoming_request("REGISTER");
    const TransactionId id = receive(reg, udp_peer(), 100);
    ASSERT_EQ(layer->respond(id, response_to(reg, 401, "Unauthorized"), at(300)),
              RespondStatus::Ok);
    const std::string final_bytes = *drain()[0].bytes;
    EXPECT_EQ(layer->state(id), TransactionState::Completed);
    EXPECT_EQ(layer->next_deadline(), at(300 + 32000));  // J = 64*T1 over UDP
    // Retransmissions get the final response again, as often as they come.
    for (int64_t t : {800, 1800, 3800}) {
        EXPECT_EQ(layer->on_message(reg, udp_peer(), at(t)).disposition, Disposition::Absorbed);
        const auto actions = drain();
        ASSERT_EQ(actions.size(), 1u);
        EXPECT_EQ(*actions[0].bytes, final_bytes);
        EXPECT_TRUE(actions[0].retransmission);
    }
    EXPECT_EQ(layer->respond(id, response_to(reg, 200), at(4000)), RespondStatus::WrongState);
    EXPECT_EQ(layer->respond(id, response_to(reg, 100), at(4000)), RespondStatus::WrongState);
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].ms, 32300);
    EXPECT_EQ(events[0].action.kind, ActionKind::Terminated);
    // Hostile: the request retransmitted after J makes a new transaction.
    const Inbound late = layer->on_message(reg, udp_peer(), at(40000));
    EXPECT_EQ(late.disposition, Disposition::NewServerTransaction);
    EXPECT_NE(late.transaction, id);
}

TEST_F(NonInviteServerTransaction, ResponsesGoToTheFirstSourceWhateverSendsTheRetransmission) {
    const Message opt = incoming_request("OPTIONS");
    const TransactionId id = receive(opt, udp_peer());
    layer->respond(id, response_to(opt, 200), at(1));
    drain();
    Peer elsewhere = udp_peer();
    elsewhere.port = 40000;
    EXPECT_EQ(layer->on_message(opt, elsewhere, at(2)).transaction, id);
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].peer, udp_peer());  // 18.2.2 is the transport's, from this Peer
}

TEST_F(NonInviteServerTransaction, ReliableTransportEndsAtTheFinalResponse) {
    const Message reg = incoming_request("REGISTER");
    const TransactionId id = receive(reg, wss_peer());
    ASSERT_EQ(layer->respond(id, response_to(reg, 200), at(5)), RespondStatus::Ok);
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 2u);  // J = 0
    EXPECT_EQ(actions[0].kind, ActionKind::Send);
    EXPECT_EQ(actions[0].peer, wss_peer());
    EXPECT_EQ(actions[1].kind, ActionKind::Terminated);
    EXPECT_EQ(actions[1].transaction, id);
    EXPECT_EQ(layer->size(), 0u);
}

TEST_F(NonInviteServerTransaction, TransportErrorEndsIt) {
    const Message reg = incoming_request("REGISTER");
    const TransactionId id = receive(reg, udp_peer());
    layer->respond(id, response_to(reg, 100), at(5));
    drain();
    EXPECT_TRUE(layer->on_transport_error(id, at(6)));
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 2u);
    EXPECT_EQ(actions[0].kind, ActionKind::TransportError);
    EXPECT_EQ(actions[1].kind, ActionKind::Terminated);
    EXPECT_EQ(layer->state(id), std::nullopt);
}

TEST_F(NonInviteServerTransaction, CancelNamesTheInviteItCancels) {
    const Message invite = incoming_request("INVITE", "z9hG4bK-call");
    const TransactionId invite_id = receive(invite, wss_peer());
    drain();
    const Message cancel = incoming_request("CANCEL", "z9hG4bK-call");
    const Inbound in = layer->on_message(cancel, wss_peer(), at(100));
    EXPECT_EQ(in.disposition, Disposition::Cancel);
    EXPECT_TRUE(in.transaction);
    EXPECT_NE(in.transaction, invite_id);
    EXPECT_EQ(in.invite, invite_id);
    EXPECT_EQ(layer->kind(in.transaction), TransactionKind::NonInviteServer);
    EXPECT_EQ(layer->state(invite_id), TransactionState::Proceeding);  // the TU's call
    EXPECT_TRUE(drain().empty());
    // The TU answers both: 200 to the CANCEL, 487 to the INVITE.
    EXPECT_EQ(layer->respond(in.transaction, response_to(cancel, 200), at(110)), RespondStatus::Ok);
    EXPECT_EQ(layer->respond(invite_id, response_to(invite, 487), at(110)), RespondStatus::Ok);
    EXPECT_EQ(layer->state(invite_id), TransactionState::Completed);
    drain();
    // A retransmitted CANCEL is absorbed by its transaction (already gone
    // here: WSS is reliable, J = 0, so it makes a new one).
    const Inbound again = layer->on_message(cancel, wss_peer(), at(120));
    EXPECT_EQ(again.disposition, Disposition::Cancel);
    EXPECT_EQ(again.invite, invite_id);
}

TEST_F(NonInviteServerTransaction, RetransmittedCancelIsAbsorbedOverUdp) {
    const Message invite = incoming_request("INVITE", "z9hG4bK-call");
    const TransactionId invite_id = receive(invite, udp_peer());
    const Message cancel = incoming_request("CANCEL", "z9hG4bK-call");
    const Inbound in = layer->on_message(cancel, udp_peer(), at(100));
    ASSERT_EQ(in.disposition, Disposition::Cancel);
    EXPECT_EQ(in.invite, invite_id);
    layer->respond(in.transaction, response_to(cancel, 200), at(110));
    drain();
    const Inbound again = layer->on_message(cancel, udp_peer(), at(600));
    EXPECT_EQ(again.disposition, Disposition::Absorbed);
    EXPECT_EQ(again.transaction, in.transaction);
    EXPECT_EQ(parse_bytes(*drain().at(0).bytes).status_code, 200);
}

TEST_F(NonInviteServerTransaction, CancelMatchingNoInvite) {
    // Another branch, or another sent-by: no INVITE to cancel (a UAS answers
    // 481, a proxy forwards the CANCEL statelessly).
    receive(incoming_request("INVITE", "z9hG4bK-call"), udp_peer());
    Inbound in = layer->on_message(incoming_request("CANCEL", "z9hG4bK-other"), udp_peer(), at(1));
    EXPECT_EQ(in.disposition, Disposition::Cancel);
    EXPECT_TRUE(in.transaction);
    EXPECT_FALSE(in.invite);
    in = layer->on_message(incoming_request("CANCEL", "z9hG4bK-call", "other.invalid"), udp_peer(),
                           at(1));
    EXPECT_EQ(in.disposition, Disposition::Cancel);
    EXPECT_FALSE(in.invite);
}

}  // namespace
}  // namespace isthmus::sip::test
