// The INVITE client transaction (RFC 3261 17.1.1, RFC 6026 figure 5) with a
// fake clock: Calling, Proceeding, Completed, Accepted, Terminated; timers
// A, B, D, M at their exact times; reliable and unreliable transports; the
// ACK the transaction builds for a 300-699 (17.1.1.3).
#include <gtest/gtest.h>

#include "transaction_testing.hpp"

namespace isthmus::sip::test {
namespace {

class InviteClientTransaction : public TransactionFixture {};

TEST_F(InviteClientTransaction, CallingSendsTheRequestWithAFreshBranch) {
    const SendResult r = layer->send_request(outgoing_request("INVITE"), udp_peer(), at(0));
    ASSERT_EQ(r.status, SendStatus::Ok);
    EXPECT_TRUE(r.transaction);
    EXPECT_EQ(r.branch, "z9hG4bK0123456789abcdef.1");
    EXPECT_EQ(layer->state(r.transaction), TransactionState::Calling);
    EXPECT_EQ(layer->kind(r.transaction), TransactionKind::InviteClient);
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, ActionKind::Send);
    EXPECT_EQ(actions[0].transaction, r.transaction);
    EXPECT_EQ(actions[0].peer, udp_peer());
    EXPECT_FALSE(actions[0].retransmission);
    const Message out = parse_bytes(*actions[0].bytes);
    const auto vias = out.headers("Via");
    ASSERT_EQ(vias.size(), 2u);  // ours on top, the browser's kept below
    EXPECT_EQ(parse_via(vias[0])->branch(), r.branch);
    EXPECT_EQ(parse_via(vias[0])->host, "pcscf.example.net");
    EXPECT_EQ(vias[1], "SIP/2.0/WSS ue.invalid;branch=z9hG4bK-ue-0;received=198.51.100.7");
    EXPECT_EQ(out.header("Route"), "<sip:scscf.ims.example.net;lr>");
}

// A top Via without a branch gets one added after its other parameters,
// which stay as they were.
TEST_F(InviteClientTransaction, AGeneratedBranchKeepsTheRestOfTheVia) {
    const SendResult r =
        layer->send_request(outgoing_request("INVITE", ";rport;keep=\"q\""), udp_peer(), at(0));
    ASSERT_EQ(r.status, SendStatus::Ok);
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    const Message out = parse_bytes(*actions[0].bytes);
    const auto vias = out.headers("Via");
    ASSERT_EQ(vias.size(), 2u);
    EXPECT_EQ(vias[0], "SIP/2.0/UDP pcscf.example.net:5060;rport;keep=\"q\";branch=" + r.branch);
    EXPECT_EQ(vias[1], "SIP/2.0/WSS ue.invalid;branch=z9hG4bK-ue-0;received=198.51.100.7");
}

TEST_F(InviteClientTransaction, TimerADoublesWithoutBoundUntilTimerB) {
    const TransactionId id = start_client(outgoing_request("INVITE"), udp_peer());
    const auto events = run_until(100000);
    // 17.1.1.2: A = T1, 2T1, 4T1, ... (never capped by T2); B = 64*T1.
    EXPECT_EQ(send_times(events), (std::vector<int64_t>{500, 1500, 3500, 7500, 15500, 31500}));
    for (const Timed& e : events) {
        if (e.action.kind != ActionKind::Send) continue;
        EXPECT_TRUE(e.action.retransmission);
        EXPECT_EQ(parse_bytes(*e.action.bytes), sent);  // the very request
    }
    ASSERT_EQ(events.size(), 8u);
    EXPECT_EQ(events[6].ms, 32000);
    EXPECT_EQ(events[6].action.kind, ActionKind::Timeout);
    EXPECT_EQ(events[6].action.timer, TimerName::B);
    EXPECT_EQ(events[6].action.transaction, id);
    EXPECT_EQ(events[7].action.kind, ActionKind::Terminated);
    EXPECT_EQ(layer->state(id), std::nullopt);
    EXPECT_EQ(layer->size(), 0u);
    EXPECT_EQ(layer->next_deadline(), std::nullopt);
    EXPECT_EQ(layer->stats().timeouts, 1u);
    EXPECT_EQ(layer->stats().retransmissions_sent, 6u);
}

TEST_F(InviteClientTransaction, ScaledT1ScalesAAndB) {
    config.timers.t1 = Duration(100);
    make_layer();
    start_client(outgoing_request("INVITE"), udp_peer(), 10);
    const auto events = run_until(100000);
    EXPECT_EQ(send_times(events), (std::vector<int64_t>{110, 310, 710, 1510, 3110, 6310}));
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events[events.size() - 2].ms, 10 + 6400);
    EXPECT_EQ(events[events.size() - 2].action.timer, TimerName::B);
}

TEST_F(InviteClientTransaction, ReliableTransportHasNoTimerAButTimerB) {
    start_client(outgoing_request("INVITE", "", "TCP"), tcp_peer());
    EXPECT_EQ(layer->next_deadline(), at(32000));
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].ms, 32000);
    EXPECT_EQ(events[0].action.kind, ActionKind::Timeout);
    EXPECT_EQ(events[1].action.kind, ActionKind::Terminated);
}

TEST_F(InviteClientTransaction, ProvisionalMovesToProceedingAndStopsAAndB) {
    const TransactionId id = start_client(outgoing_request("INVITE"), udp_peer());
    ASSERT_EQ(run_until(500).size(), 1u);  // one retransmission
    const Inbound in = layer->on_message(response_to(sent, 100, "Trying"), udp_peer(), at(700));
    EXPECT_EQ(in.disposition, Disposition::Response);
    EXPECT_EQ(in.transaction, id);
    EXPECT_EQ(layer->state(id), TransactionState::Proceeding);
    EXPECT_EQ(layer->next_deadline(), std::nullopt);  // neither A nor B
    EXPECT_TRUE(drain().empty());
    // More provisionals go up too; the transaction waits for the TU (CANCEL).
    EXPECT_EQ(
        layer->on_message(response_to(sent, 180, "Ringing"), udp_peer(), at(90000)).disposition,
        Disposition::Response);
    EXPECT_EQ(layer->state(id), TransactionState::Proceeding);
}

TEST_F(InviteClientTransaction, TwoHundredInCallingMovesToAcceptedForTimerM) {
    const TransactionId id = start_client(outgoing_request("INVITE"), udp_peer());
    const Message ok = response_to(sent, 200, "OK");
    const Inbound in = layer->on_message(ok, udp_peer(), at(300));
    EXPECT_EQ(in.disposition, Disposition::Response);
    EXPECT_EQ(layer->state(id), TransactionState::Accepted);
    EXPECT_TRUE(drain().empty());  // no ACK: the TU sends the 2xx ACK (13.2.2.4)
    EXPECT_EQ(layer->next_deadline(), at(300 + 32000));
    // RFC 6026 7.2: retransmitted 2xx go to the TU while Accepted.
    const Inbound again = layer->on_message(ok, udp_peer(), at(800));
    EXPECT_EQ(again.disposition, Disposition::Response2xxRetransmission);
    EXPECT_EQ(again.transaction, id);
    // Another final (a forked 2xx from elsewhere has its own To tag) too.
    EXPECT_EQ(
        layer->on_message(response_to(sent, 200, "OK", "fork2"), udp_peer(), at(900)).disposition,
        Disposition::Response2xxRetransmission);
    // Non-2xx in Accepted: absorbed.
    EXPECT_EQ(layer->on_message(response_to(sent, 180), udp_peer(), at(1000)).disposition,
              Disposition::Absorbed);
    EXPECT_EQ(layer->on_message(response_to(sent, 486), udp_peer(), at(1000)).disposition,
              Disposition::Absorbed);
    EXPECT_TRUE(drain().empty());
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].ms, 32300);  // M = 64*T1
    EXPECT_EQ(events[0].action.kind, ActionKind::Terminated);
    // After M, a 2xx is a stray for the core.
    EXPECT_EQ(layer->on_message(ok, udp_peer(), at(40000)).disposition, Disposition::StrayResponse);
}

TEST_F(InviteClientTransaction, TimerMIsSixtyFourT1OverReliableToo) {
    const TransactionId id = start_client(outgoing_request("INVITE", "", "TCP"), tcp_peer());
    layer->on_message(response_to(sent, 180), tcp_peer(), at(100));
    EXPECT_EQ(layer->on_message(response_to(sent, 200), tcp_peer(), at(200)).disposition,
              Disposition::Response);
    EXPECT_EQ(layer->state(id), TransactionState::Accepted);
    EXPECT_EQ(layer->next_deadline(), at(200 + 32000));
}

TEST_F(InviteClientTransaction, FinalNon2xxSendsTheAckOfSection17113) {
    Message invite = outgoing_request("INVITE");
    invite.add("Route", "<sip:icscf.ims.example.net;lr>");
    invite.add("Contact", "<sip:alice@pcscf.example.net>");
    const TransactionId id = start_client(std::move(invite), udp_peer());
    layer->on_message(response_to(sent, 183, "Session Progress"), udp_peer(), at(100));
    const Message busy = response_to(sent, 486, "Busy Here", "uas-tag");
    const Inbound in = layer->on_message(busy, udp_peer(), at(2000));
    EXPECT_EQ(in.disposition, Disposition::Response);
    EXPECT_EQ(in.transaction, id);
    EXPECT_EQ(layer->state(id), TransactionState::Completed);
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, ActionKind::Send);
    EXPECT_EQ(actions[0].peer, udp_peer());  // same address, port, transport
    EXPECT_FALSE(actions[0].retransmission);
    const Message ack = parse_bytes(*actions[0].bytes);
    EXPECT_EQ(ack.method, "ACK");
    EXPECT_EQ(ack.request_uri, sent.request_uri);
    EXPECT_EQ(ack.headers("Via"), std::vector<std::string_view>{sent.headers("Via")[0]});
    EXPECT_EQ(ack.header("To"), "<sip:bob@ims.example.net>;tag=uas-tag");
    EXPECT_EQ(ack.header("From"), sent.header("From"));
    EXPECT_EQ(ack.header("Call-ID"), sent.header("Call-ID"));
    EXPECT_EQ(ack.header("CSeq"), "1 ACK");
    EXPECT_EQ(ack.headers("Route"), sent.headers("Route"));
    EXPECT_EQ(ack.header("Max-Forwards"), "69");
    EXPECT_EQ(ack.header("Contact"), std::nullopt);
    EXPECT_TRUE(ack.body.empty());

    // A retransmitted 486 is absorbed and ACKed again; a late 1xx is absorbed.
    const Inbound again = layer->on_message(busy, udp_peer(), at(2500));
    EXPECT_EQ(again.disposition, Disposition::Absorbed);
    const auto resent = drain();
    ASSERT_EQ(resent.size(), 1u);
    EXPECT_TRUE(resent[0].retransmission);
    EXPECT_EQ(*resent[0].bytes, *actions[0].bytes);
    EXPECT_EQ(layer->on_message(response_to(sent, 180), udp_peer(), at(2600)).disposition,
              Disposition::Absorbed);
    EXPECT_TRUE(drain().empty());

    // Timer D: 32 s after entering Completed, whatever T1 is.
    const auto events = run_until(100000);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].ms, 2000 + 32000);
    EXPECT_EQ(events[0].action.kind, ActionKind::Terminated);
}

TEST_F(InviteClientTransaction, FinalNon2xxInCallingStopsRetransmissions) {
    const TransactionId id = start_client(outgoing_request("INVITE"), udp_peer());
    ASSERT_EQ(send_times(run_until(1500)), (std::vector<int64_t>{500, 1500}));
    layer->on_message(response_to(sent, 603, "Decline"), udp_peer(), at(1600));
    EXPECT_EQ(layer->state(id), TransactionState::Completed);
    EXPECT_EQ(drain().size(), 1u);                        // the ACK
    EXPECT_EQ(layer->next_deadline(), at(1600 + 32000));  // D only
}

TEST_F(InviteClientTransaction, ConfiguredTimerD) {
    config.timers.timer_d = Duration(40000);
    make_layer();
    start_client(outgoing_request("INVITE"), udp_peer());
    layer->on_message(response_to(sent, 500), udp_peer(), at(10));
    EXPECT_EQ(layer->next_deadline(), at(40010));
}

TEST_F(InviteClientTransaction, ReliableTransportEndsAtOnceAfterTheAck) {
    const TransactionId id = start_client(outgoing_request("INVITE", "", "TCP"), tcp_peer());
    const Inbound in = layer->on_message(response_to(sent, 404), tcp_peer(), at(100));
    EXPECT_EQ(in.disposition, Disposition::Response);
    EXPECT_EQ(in.transaction, id);
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 2u);  // D = 0
    EXPECT_EQ(actions[0].kind, ActionKind::Send);
    EXPECT_EQ(parse_bytes(*actions[0].bytes).method, "ACK");
    EXPECT_EQ(actions[1].kind, ActionKind::Terminated);
    EXPECT_EQ(actions[1].transaction, id);
    EXPECT_EQ(layer->state(id), std::nullopt);
    // The retransmitted 404 now matches nothing.
    EXPECT_EQ(layer->on_message(response_to(sent, 404), tcp_peer(), at(200)).disposition,
              Disposition::StrayResponse);
}

TEST_F(InviteClientTransaction, TwoHundredAfterAFinalNon2xxIsStray) {
    const TransactionId id = start_client(outgoing_request("INVITE"), udp_peer());
    layer->on_message(response_to(sent, 486), udp_peer(), at(100));
    drain();
    const Inbound in =
        layer->on_message(response_to(sent, 200, "OK", "other"), udp_peer(), at(200));
    EXPECT_EQ(in.disposition, Disposition::StrayResponse);
    EXPECT_EQ(in.transaction, id);
    EXPECT_EQ(layer->state(id), TransactionState::Completed);  // unchanged
    EXPECT_TRUE(drain().empty());                              // and no ACK
    EXPECT_EQ(layer->stats().stray_responses, 1u);
}

TEST_F(InviteClientTransaction, TransportErrorInEachStateEndsIt) {
    for (const uint16_t before : {uint16_t{0}, uint16_t{180}, uint16_t{486}, uint16_t{200}}) {
        make_layer();
        const TransactionId id = start_client(outgoing_request("INVITE"), udp_peer());
        if (before != 0) layer->on_message(response_to(sent, before), udp_peer(), at(10));
        drain();
        EXPECT_TRUE(layer->on_transport_error(id, at(20))) << before;
        const auto actions = drain();
        ASSERT_EQ(actions.size(), 2u) << before;
        EXPECT_EQ(actions[0].kind, ActionKind::TransportError);
        EXPECT_EQ(actions[0].transaction, id);
        EXPECT_EQ(actions[1].kind, ActionKind::Terminated);
        EXPECT_EQ(layer->state(id), std::nullopt);
        EXPECT_EQ(layer->next_deadline(), std::nullopt);
        EXPECT_FALSE(layer->on_transport_error(id, at(30)));  // gone
    }
}

TEST_F(InviteClientTransaction, CancelIsItsOwnTransactionOnTheInviteBranch) {
    const TransactionId invite = start_client(outgoing_request("INVITE"), udp_peer());
    const Message sent_invite = sent;
    layer->on_message(response_to(sent_invite, 180), udp_peer(), at(100));
    // 9.1: the CANCEL's top Via is the INVITE's (same branch).
    Message cancel = make_request("CANCEL", sent_invite.request_uri);
    cancel.add("Via", sent_invite.headers("Via")[0]);
    cancel.add("Max-Forwards", "70");
    cancel.add("From", *sent_invite.header("From"));
    cancel.add("To", *sent_invite.header("To"));
    cancel.add("Call-ID", *sent_invite.header("Call-ID"));
    cancel.add("CSeq", "1 CANCEL");
    const TransactionId cancel_id = start_client(std::move(cancel), udp_peer(), 200);
    EXPECT_NE(cancel_id, invite);
    EXPECT_EQ(layer->kind(cancel_id), TransactionKind::NonInviteClient);
    // Responses go by CSeq method: 200 for the CANCEL, 487 for the INVITE.
    const Inbound c = layer->on_message(response_to(sent, 200), udp_peer(), at(300));
    EXPECT_EQ(c.disposition, Disposition::Response);
    EXPECT_EQ(c.transaction, cancel_id);
    const Inbound i = layer->on_message(response_to(sent_invite, 487), udp_peer(), at(300));
    EXPECT_EQ(i.disposition, Disposition::Response);
    EXPECT_EQ(i.transaction, invite);
    EXPECT_EQ(layer->state(invite), TransactionState::Completed);
}

}  // namespace
}  // namespace isthmus::sip::test
