// The transaction layer as a whole: matching of requests and responses
// through on_message (17.1.3, 17.2.3), what it refuses (RFC 2543 branches,
// missing or broken Via and CSeq), stray responses and ACKs, the limit on
// live transactions, the bounded action queue, branch generation, ids, time
// and hostile sequences.
#include "sip/transaction_layer.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "transaction_testing.hpp"

namespace isthmus::sip::test {
namespace {

class TransactionLayerTest : public TransactionFixture {};

TEST_F(TransactionLayerTest, ConfigurationIsChecked) {
    auto with = [](auto change) {
        LayerConfig c;
        change(c);
        return c;
    };
    EXPECT_THROW(TransactionLayer(with([](LayerConfig& c) { c.timers.t1 = Duration(0); })),
                 std::invalid_argument);
    EXPECT_THROW(TransactionLayer(with([](LayerConfig& c) { c.timers.t2 = Duration(-1); })),
                 std::invalid_argument);
    EXPECT_THROW(TransactionLayer(with([](LayerConfig& c) { c.timers.t4 = Duration(0); })),
                 std::invalid_argument);
    EXPECT_THROW(TransactionLayer(with([](LayerConfig& c) { c.timers.timer_d = Duration(0); })),
                 std::invalid_argument);
    EXPECT_THROW(TransactionLayer(with([](LayerConfig& c) { c.timers.t1 = Duration(5000); })),
                 std::invalid_argument);  // t1 > t2
    EXPECT_THROW(TransactionLayer(with([](LayerConfig& c) { c.max_transactions = 0; })),
                 std::invalid_argument);
    EXPECT_THROW(TransactionLayer(with([](LayerConfig& c) { c.max_pending_actions = 1; })),
                 std::invalid_argument);
    EXPECT_NO_THROW(TransactionLayer(LayerConfig{}));  // defaults, real random source
}

TEST_F(TransactionLayerTest, RequestsMatchByBranchSentByAndMethod) {
    const Message req = incoming_request("MESSAGE", "z9hG4bK-m");
    const TransactionId id = layer->on_message(req, udp_peer(), at(0)).transaction;
    ASSERT_TRUE(id);
    // Same branch, same sent-by (case aside), same method: a retransmission.
    Message same = incoming_request("MESSAGE", "z9hG4bK-m", "UE.INVALID");
    EXPECT_EQ(layer->on_message(same, udp_peer(), at(1)).transaction, id);
    // Same branch from another sent-by: another transaction.
    const Inbound other_host = layer->on_message(
        incoming_request("MESSAGE", "z9hG4bK-m", "ue2.invalid"), udp_peer(), at(1));
    EXPECT_EQ(other_host.disposition, Disposition::NewServerTransaction);
    const Inbound other_port = layer->on_message(
        incoming_request("MESSAGE", "z9hG4bK-m", "ue.invalid:5062"), udp_peer(), at(1));
    EXPECT_EQ(other_port.disposition, Disposition::NewServerTransaction);
    // Same branch and sent-by, another method: another transaction.
    const Inbound other_method =
        layer->on_message(incoming_request("OPTIONS", "z9hG4bK-m"), udp_peer(), at(1));
    EXPECT_EQ(other_method.disposition, Disposition::NewServerTransaction);
    // Another branch: another transaction.
    const Inbound other_branch =
        layer->on_message(incoming_request("MESSAGE", "z9hG4bK-n"), udp_peer(), at(1));
    EXPECT_EQ(other_branch.disposition, Disposition::NewServerTransaction);
    const std::set<TransactionId> ids = {id, other_host.transaction, other_port.transaction,
                                         other_method.transaction, other_branch.transaction};
    EXPECT_EQ(ids.size(), 5u);
    EXPECT_EQ(layer->size(), 5u);
    EXPECT_EQ(layer->stats().server_transactions, 5u);
}

TEST_F(TransactionLayerTest, ResponsesMatchByBranchAndCSeqMethod) {
    const TransactionId id = start_client(outgoing_request("OPTIONS"), udp_peer());
    Message wrong_method = response_to(sent, 200);
    wrong_method.set("CSeq", "1 INFO");
    EXPECT_EQ(layer->on_message(wrong_method, udp_peer(), at(1)).disposition,
              Disposition::StrayResponse);
    Message wrong_branch = response_to(sent, 200);
    wrong_branch.remove_first_value("Via");
    wrong_branch.prepend("Via", "SIP/2.0/UDP pcscf.example.net:5060;branch=z9hG4bKnot-ours");
    EXPECT_EQ(layer->on_message(wrong_branch, udp_peer(), at(1)).disposition,
              Disposition::StrayResponse);
    Message no_branch = response_to(sent, 200);
    no_branch.remove_first_value("Via");
    no_branch.prepend("Via", "SIP/2.0/UDP pcscf.example.net:5060");
    EXPECT_EQ(layer->on_message(no_branch, udp_peer(), at(1)).disposition,
              Disposition::StrayResponse);
    // Only the branch and CSeq method count: a response from another
    // address, with other Via parameters, still matches.
    Message ok = response_to(sent, 200);
    ok.remove_first_value("Via");
    ok.prepend("Via", std::string(sent.headers("Via")[0]) + ";received=203.0.113.9");
    const Inbound in = layer->on_message(ok, wss_peer(), at(1));
    EXPECT_EQ(in.disposition, Disposition::Response);
    EXPECT_EQ(in.transaction, id);
    EXPECT_EQ(layer->stats().stray_responses, 3u);
}

TEST_F(TransactionLayerTest, Rfc2543RequestsAreRejected) {
    // No branch, or one without the magic cookie: RFC 2543 matching is not
    // supported; nothing is created and the caller answers 400 or drops.
    for (std::string_view branch : {"", "776asdhds", "z9hG4bK", "Z9HG4BK-upper"}) {
        const Inbound in = layer->on_message(incoming_request("INVITE", branch), udp_peer(), at(0));
        EXPECT_EQ(in.disposition, Disposition::Rejected) << branch;
        EXPECT_EQ(in.reject, Reject::NoMagicCookie) << branch;
        EXPECT_FALSE(in.transaction);
    }
    EXPECT_EQ(layer->size(), 0u);
    EXPECT_TRUE(drain().empty());
    EXPECT_EQ(layer->stats().rejected[static_cast<std::size_t>(Reject::NoMagicCookie)], 4u);
}

TEST_F(TransactionLayerTest, UnusableMessagesAreRejected) {
    Message no_via = incoming_request("OPTIONS");
    no_via.remove("Via");
    EXPECT_EQ(layer->on_message(no_via, udp_peer(), at(0)).reject, Reject::MissingVia);
    Message bad_via = incoming_request("OPTIONS");
    bad_via.set("Via", "SIP/2.0/UDP");
    EXPECT_EQ(layer->on_message(bad_via, udp_peer(), at(0)).reject, Reject::MalformedVia);
    Message resp = response_to(incoming_request("OPTIONS"), 200);
    resp.remove("CSeq");
    EXPECT_EQ(layer->on_message(resp, udp_peer(), at(0)).reject, Reject::MalformedCSeq);
    resp.add("CSeq", "x OPTIONS");
    EXPECT_EQ(layer->on_message(resp, udp_peer(), at(0)).reject, Reject::MalformedCSeq);
    Message resp_no_via = response_to(incoming_request("OPTIONS"), 200);
    resp_no_via.remove("Via");
    EXPECT_EQ(layer->on_message(resp_no_via, udp_peer(), at(0)).reject, Reject::MissingVia);
    const Inbound nothing = layer->on_message(Message{}, udp_peer(), at(0));
    EXPECT_EQ(nothing.disposition, Disposition::Rejected);
    EXPECT_EQ(nothing.reject, Reject::NotAMessage);
    EXPECT_EQ(layer->size(), 0u);
}

TEST_F(TransactionLayerTest, ResponsesForUnknownTransactionsAreStray) {
    const Message stray = response_to(incoming_request("INVITE", "z9hG4bKnobody"), 200);
    const Inbound in = layer->on_message(stray, udp_peer(), at(0));
    EXPECT_EQ(in.disposition, Disposition::StrayResponse);
    EXPECT_FALSE(in.transaction);
    EXPECT_TRUE(drain().empty());
    EXPECT_EQ(layer->size(), 0u);
}

TEST_F(TransactionLayerTest, AnAckMatchingNothingGoesToTheCore) {
    const Inbound in =
        layer->on_message(incoming_request("ACK", "z9hG4bK-2xx-ack"), wss_peer(), at(0));
    EXPECT_EQ(in.disposition, Disposition::Ack);
    EXPECT_FALSE(in.transaction);
    EXPECT_EQ(layer->size(), 0u);  // an ACK never makes a transaction
    // An ACK is never mistaken for a non-INVITE request on its branch.
    layer->on_message(incoming_request("OPTIONS", "z9hG4bK-o"), wss_peer(), at(0));
    EXPECT_EQ(
        layer->on_message(incoming_request("ACK", "z9hG4bK-o"), wss_peer(), at(0)).disposition,
        Disposition::Ack);
}

TEST_F(TransactionLayerTest, LiveTransactionsAreBounded) {
    config.max_transactions = 3;
    make_layer();
    const TransactionId a =
        layer->on_message(incoming_request("INVITE", "z9hG4bK-1"), udp_peer(), at(0)).transaction;
    layer->on_message(incoming_request("MESSAGE", "z9hG4bK-2"), udp_peer(), at(0));
    drain();  // the 100 Trying
    start_client(outgoing_request("OPTIONS"), udp_peer());
    EXPECT_EQ(layer->size(), 3u);
    // A new request: refused, the caller answers 503.
    const Inbound refused =
        layer->on_message(incoming_request("BYE", "z9hG4bK-4"), udp_peer(), at(1));
    EXPECT_EQ(refused.disposition, Disposition::Overloaded);
    EXPECT_FALSE(refused.transaction);
    EXPECT_EQ(layer->send_request(outgoing_request("INFO"), udp_peer(), at(1)).status,
              SendStatus::TooManyTransactions);
    EXPECT_EQ(
        layer->on_message(incoming_request("CANCEL", "z9hG4bK-1"), udp_peer(), at(1)).disposition,
        Disposition::Overloaded);
    EXPECT_EQ(layer->stats().overloaded, 3u);
    // Existing transactions still work; ACKs (never transactions) still pass.
    EXPECT_EQ(
        layer->on_message(incoming_request("INVITE", "z9hG4bK-1"), udp_peer(), at(1)).disposition,
        Disposition::Absorbed);
    EXPECT_EQ(
        layer->on_message(incoming_request("ACK", "z9hG4bK-x"), udp_peer(), at(1)).disposition,
        Disposition::Ack);
    EXPECT_EQ(layer->respond(a, response_to(incoming_request("INVITE", "z9hG4bK-1"), 486), at(1)),
              RespondStatus::Ok);
    // Once one ends, a new one is accepted.
    layer->on_message(incoming_request("ACK", "z9hG4bK-1"), udp_peer(), at(2));
    run_until(10000);  // Timer I
    EXPECT_EQ(layer->size(), 2u);
    EXPECT_EQ(
        layer->on_message(incoming_request("BYE", "z9hG4bK-4"), udp_peer(), at(10000)).disposition,
        Disposition::NewServerTransaction);
}

// A transaction that has sent its final response only lingers to absorb
// retransmissions (Timer J here, 64*T1 over UDP): it does not count as
// active, so a steady rate is not capped at max_transactions / T4; the
// lingering ones have their own bound, kLingerPerActive per active slot.
TEST_F(TransactionLayerTest, LingeringTransactionsAreBoundedApart) {
    config.max_transactions = 1;
    make_layer();
    for (std::size_t i = 0; i < kLingerPerActive; ++i) {
        const Message req = incoming_request("MESSAGE", "z9hG4bK-l" + std::to_string(i));
        const Inbound in = layer->on_message(req, udp_peer(), at(0));
        ASSERT_EQ(in.disposition, Disposition::NewServerTransaction) << i;
        // While it is active, it is the one transaction allowed.
        EXPECT_EQ(layer->on_message(incoming_request("OPTIONS", "z9hG4bK-x"), udp_peer(), at(0))
                      .disposition,
                  Disposition::Overloaded);
        ASSERT_EQ(layer->respond(in.transaction, response_to(req, 200), at(0)), RespondStatus::Ok);
        drain();
    }
    EXPECT_EQ(layer->lingering(), kLingerPerActive);
    EXPECT_EQ(layer->size(), kLingerPerActive);
    // The lingering bound: refused until some end.
    EXPECT_EQ(
        layer->on_message(incoming_request("OPTIONS", "z9hG4bK-y"), udp_peer(), at(1)).disposition,
        Disposition::Overloaded);
    // A lingering one still absorbs its request's retransmission.
    EXPECT_EQ(
        layer->on_message(incoming_request("MESSAGE", "z9hG4bK-l0"), udp_peer(), at(2)).disposition,
        Disposition::Absorbed);
    run_until(64 * 500 + 10);  // Timer J
    EXPECT_EQ(layer->lingering(), 0u);
    EXPECT_EQ(layer->size(), 0u);
    EXPECT_EQ(
        layer->on_message(incoming_request("OPTIONS", "z9hG4bK-z"), udp_peer(), at(64 * 500 + 10))
            .disposition,
        Disposition::NewServerTransaction);
}

TEST_F(TransactionLayerTest, TheActionQueueIsBounded) {
    config.max_pending_actions = 3;
    make_layer();
    // Each call needs room for kMaxActionsPerCall (2) actions.
    const Inbound first =
        layer->on_message(incoming_request("INVITE", "z9hG4bK-1"), udp_peer(), at(0));
    EXPECT_EQ(first.disposition, Disposition::NewServerTransaction);
    EXPECT_EQ(layer->pending_actions(), 1u);  // the 100 Trying
    const Inbound second =
        layer->on_message(incoming_request("INVITE", "z9hG4bK-2"), udp_peer(), at(0));
    EXPECT_EQ(second.disposition, Disposition::NewServerTransaction);
    EXPECT_EQ(layer->pending_actions(), 2u);
    EXPECT_EQ(
        layer->on_message(incoming_request("INVITE", "z9hG4bK-3"), udp_peer(), at(0)).disposition,
        Disposition::QueueFull);
    EXPECT_EQ(layer->send_request(outgoing_request("OPTIONS"), udp_peer(), at(0)).status,
              SendStatus::QueueFull);
    EXPECT_EQ(
        layer->respond(first.transaction, response_to(incoming_request("INVITE"), 180), at(0)),
        RespondStatus::QueueFull);
    EXPECT_FALSE(layer->on_transport_error(first.transaction, at(0)));
    EXPECT_EQ(layer->size(), 2u);  // nothing was made
    EXPECT_EQ(layer->stats().queue_full, 4u);
    EXPECT_EQ(drain().size(), 2u);
    EXPECT_EQ(
        layer->on_message(incoming_request("INVITE", "z9hG4bK-3"), udp_peer(), at(0)).disposition,
        Disposition::NewServerTransaction);
}

TEST_F(TransactionLayerTest, AdvanceStopsAtAFullQueueAndResumes) {
    config.max_pending_actions = 2;
    make_layer();
    // Three client transactions over UDP, each with Timer E due at 500.
    for (int i = 0; i < 3; ++i)
        start_client(outgoing_request("OPTIONS"), udp_peer());
    layer->advance(at(500));
    EXPECT_EQ(layer->pending_actions(), 1u);     // one fired; the next needs room for 2
    EXPECT_EQ(layer->next_deadline(), at(500));  // still due
    EXPECT_EQ(drain().size(), 1u);
    layer->advance(at(600));
    EXPECT_EQ(drain().size(), 1u);
    layer->advance(at(600));
    EXPECT_EQ(drain().size(), 1u);
    EXPECT_GT(*layer->next_deadline(), at(600));
}

TEST_F(TransactionLayerTest, BranchesComeFromTheInjectedRandomSourceAndAreUnique) {
    uint64_t next = 0x10;
    config.random = [&next] { return next++; };
    make_layer();
    std::set<std::string> branches;
    for (int i = 0; i < 5; ++i) {
        const SendResult r = layer->send_request(outgoing_request("OPTIONS"), udp_peer(), at(0));
        ASSERT_EQ(r.status, SendStatus::Ok);
        EXPECT_EQ(r.branch,
                  make_branch(0x10 + static_cast<uint64_t>(i), static_cast<uint64_t>(i + 1)));
        branches.insert(r.branch);
    }
    // A random source that repeats itself still gives distinct branches.
    config.random = [] { return uint64_t{7}; };
    make_layer();
    for (int i = 0; i < 5; ++i) {
        branches.insert(layer->send_request(outgoing_request("OPTIONS"), udp_peer(), at(0)).branch);
        drain();
    }
    EXPECT_EQ(branches.size(), 10u);
}

TEST_F(TransactionLayerTest, AGeneratedBranchNeverTakesOneACallerGave) {
    // The fixture's random source is constant: the first generated branch
    // would be z9hG4bK0123456789abcdef.1, which a caller already uses.
    const SendResult given = layer->send_request(
        outgoing_request("OPTIONS", ";branch=z9hG4bK0123456789abcdef.1"), udp_peer(), at(0));
    ASSERT_EQ(given.status, SendStatus::Ok);
    const SendResult generated =
        layer->send_request(outgoing_request("OPTIONS"), udp_peer(), at(0));
    ASSERT_EQ(generated.status, SendStatus::Ok);
    EXPECT_EQ(generated.branch, "z9hG4bK0123456789abcdef.2");
    EXPECT_EQ(layer->size(), 2u);
}

TEST_F(TransactionLayerTest, EveryTransactionEndsWithExactlyOneTerminated) {
    std::set<TransactionId> made;
    for (int i = 0; i < 4; ++i)
        made.insert(start_client(outgoing_request("OPTIONS"), udp_peer()));
    const Message inv = incoming_request("INVITE", "z9hG4bK-s");
    const TransactionId srv = layer->on_message(inv, udp_peer(), at(0)).transaction;
    made.insert(srv);
    layer->respond(srv, response_to(inv, 500), at(0));
    drain();
    std::multiset<TransactionId> terminated;
    for (const Timed& e : run_until(1000000)) {
        if (e.action.kind == ActionKind::Terminated) terminated.insert(e.action.transaction);
    }
    EXPECT_EQ(std::set<TransactionId>(terminated.begin(), terminated.end()), made);
    EXPECT_EQ(terminated.size(), made.size());
    EXPECT_EQ(layer->size(), 0u);
    EXPECT_EQ(layer->next_deadline(), std::nullopt);
    // Ids are never reused.
    const TransactionId fresh = start_client(outgoing_request("OPTIONS"), udp_peer(), 2000000);
    EXPECT_EQ(made.count(fresh), 0u);
}

TEST_F(TransactionLayerTest, TimersFireInDeadlineOrderAcrossTransactions) {
    const TransactionId a = start_client(outgoing_request("OPTIONS"), udp_peer(), 0);    // E 500
    const TransactionId c = start_client(outgoing_request("INVITE"), udp_peer(), 50);    // A 550
    const TransactionId b = start_client(outgoing_request("OPTIONS"), udp_peer(), 100);  // E 600
    layer->advance(at(700));  // late: each fires once, in order
    const auto actions = drain();
    ASSERT_EQ(actions.size(), 3u);
    EXPECT_EQ(actions[0].transaction, a);
    EXPECT_EQ(actions[1].transaction, c);
    EXPECT_EQ(actions[2].transaction, b);
    // Rescheduled from the time of the advance that fired them.
    EXPECT_EQ(layer->next_deadline(), at(700 + 1000));
}

TEST_F(TransactionLayerTest, TimeNeverGoesBack) {
    start_client(outgoing_request("OPTIONS"), udp_peer(), 1000);
    EXPECT_EQ(layer->next_deadline(), at(1500));
    layer->advance(at(200));  // earlier than before: taken as 1000
    EXPECT_TRUE(drain().empty());
    const SendResult r = layer->send_request(outgoing_request("OPTIONS"), udp_peer(), at(10));
    drain();
    layer->advance(at(1500));
    EXPECT_EQ(drain().size(), 2u);  // both Timer E at 1500
    EXPECT_TRUE(r.transaction);
}

TEST_F(TransactionLayerTest, HostileSequencesChangeNothing) {
    const Message reg = incoming_request("REGISTER");
    const TransactionId id = layer->on_message(reg, udp_peer(), at(0)).transaction;
    // Responses arriving from the network for a server transaction's branch
    // are not ours: stray.
    EXPECT_EQ(layer->on_message(response_to(reg, 200), udp_peer(), at(1)).disposition,
              Disposition::StrayResponse);
    // Transport errors and responses for ids that do not exist.
    EXPECT_FALSE(layer->on_transport_error(TransactionId{777}, at(1)));
    EXPECT_EQ(layer->respond(TransactionId{777}, response_to(reg, 200), at(1)),
              RespondStatus::UnknownTransaction);
    EXPECT_EQ(layer->state(id), TransactionState::Trying);
    EXPECT_TRUE(drain().empty());
    // A response for a client transaction that has ended.
    const TransactionId c = start_client(outgoing_request("OPTIONS", "", "TCP"), tcp_peer());
    layer->on_message(response_to(sent, 200), tcp_peer(), at(2));
    EXPECT_EQ(layer->state(c), std::nullopt);
    drain();
    EXPECT_EQ(layer->on_message(response_to(sent, 200), tcp_peer(), at(3)).disposition,
              Disposition::StrayResponse);
    EXPECT_EQ(layer->on_message(response_to(sent, 100), tcp_peer(), at(3)).disposition,
              Disposition::StrayResponse);
    EXPECT_TRUE(drain().empty());
}

}  // namespace
}  // namespace isthmus::sip::test
