// The matching rules and the messages a transaction makes
// (sip/transaction_match.hpp): the magic cookie, branch generation, client
// keys (17.1.3), sent-by equivalence and server keys (17.2.3, ACK and
// CANCEL), the 100 Trying (8.2.6) and the ACK for a 300-699 (17.1.1.3).
#include "sip/transaction_match.hpp"

#include <gtest/gtest.h>

#include <set>

#include "transaction_testing.hpp"

namespace isthmus::sip::test {
namespace {

// `text` must outlive the view (the tests give literals).
ViaView via_of(std::string_view text) {
    const auto v = parse_via_view(text);
    EXPECT_TRUE(v.has_value()) << text;
    return v.value_or(ViaView{});
}

TEST(TransactionMatch, MagicCookie) {
    EXPECT_TRUE(has_magic_cookie("z9hG4bK776asdhds"));
    EXPECT_TRUE(has_magic_cookie("z9hG4bK-1"));
    EXPECT_FALSE(has_magic_cookie("z9hG4bK"));     // nothing after it
    EXPECT_FALSE(has_magic_cookie("Z9HG4BK776"));  // case-sensitive
    EXPECT_FALSE(has_magic_cookie("776asdhds"));
    EXPECT_FALSE(has_magic_cookie(""));
}

TEST(TransactionMatch, MakeBranch) {
    EXPECT_EQ(make_branch(0x0123456789abcdef, 1), "z9hG4bK0123456789abcdef.1");
    EXPECT_EQ(make_branch(0, 0), "z9hG4bK0000000000000000.0");
    EXPECT_EQ(make_branch(~uint64_t{0}, 0x1f2), "z9hG4bKffffffffffffffff.1f2");
    EXPECT_EQ(make_branch(1, ~uint64_t{0}), "z9hG4bK0000000000000001.ffffffffffffffff");
    std::set<std::string> seen;
    for (uint64_t i = 0; i < 1000; ++i)
        seen.insert(make_branch(42, i));
    EXPECT_EQ(seen.size(), 1000u);  // the counter alone makes them unique
    for (const std::string& b : seen) {
        EXPECT_TRUE(has_magic_cookie(b));
        EXPECT_TRUE(parse_via("SIP/2.0/UDP h;branch=" + b).has_value()) << b;  // a token
    }
}

TEST(TransactionMatch, ClientKeyIsBranchAndCSeqMethod) {
    EXPECT_EQ(client_key("z9hG4bKa", "INVITE"), client_key("z9hG4bKa", "INVITE"));
    EXPECT_NE(client_key("z9hG4bKa", "INVITE"), client_key("z9hG4bKa", "CANCEL"));
    EXPECT_NE(client_key("z9hG4bKa", "INVITE"), client_key("z9hG4bKb", "INVITE"));
    EXPECT_NE(client_key("z9hG4bKa", "INVITE"), client_key("z9hG4bKA", "INVITE"));
    EXPECT_NE(client_key("z9hG4bKa", "INVITE"), client_key("z9hG4bKa", "invite"));
}

TEST(TransactionMatch, SentByEquivalence) {
    auto sent_by = [](std::string_view v) { return normalized_sent_by(via_of(v)); };
    EXPECT_EQ(sent_by("SIP/2.0/UDP PCSCF.Example.NET:5060"),
              sent_by("SIP/2.0/UDP pcscf.example.net:5060"));
    EXPECT_EQ(sent_by("SIP/2.0/UDP [2001:DB8::1]:5060"),
              sent_by("SIP/2.0/UDP [2001:db8:0:0::0:1]:5060"));
    EXPECT_EQ(sent_by("SIP/2.0/UDP 198.18.000.002"), sent_by("SIP/2.0/UDP 198.18.0.2"));
    EXPECT_NE(sent_by("SIP/2.0/UDP 198.18.0.2"), sent_by("SIP/2.0/UDP 198.18.0.2:5060"));
    EXPECT_NE(sent_by("SIP/2.0/UDP 198.18.0.2:5060"), sent_by("SIP/2.0/UDP 198.18.0.2:5061"));
    EXPECT_NE(sent_by("SIP/2.0/UDP a.example"), sent_by("SIP/2.0/UDP b.example"));
    EXPECT_NE(sent_by("SIP/2.0/UDP [::1]"), sent_by("SIP/2.0/UDP [::2]"));
}

TEST(TransactionMatch, ServerKeyCountsAckAsInviteAndCancelApart) {
    const ViaView top = via_of("SIP/2.0/WSS ue.invalid;branch=z9hG4bK-1;rport");
    EXPECT_EQ(server_key(top, "ACK"), server_key(top, "INVITE"));
    EXPECT_NE(server_key(top, "CANCEL"), server_key(top, "INVITE"));
    EXPECT_NE(server_key(top, "BYE"), server_key(top, "INVITE"));
    // Other Via parameters do not take part; branch and sent-by do.
    EXPECT_EQ(
        server_key(top, "INVITE"),
        server_key(via_of("SIP/2.0/WSS UE.invalid;received=192.0.2.1;branch=z9hG4bK-1"), "INVITE"));
    EXPECT_NE(server_key(top, "INVITE"),
              server_key(via_of("SIP/2.0/WSS ue.invalid;branch=z9hG4bK-2"), "INVITE"));
    EXPECT_NE(server_key(top, "INVITE"),
              server_key(via_of("SIP/2.0/WSS ue2.invalid;branch=z9hG4bK-1"), "INVITE"));
}

TEST(TransactionMatch, TopVia) {
    Message m = incoming_request("OPTIONS");
    TopVia top = top_via(m);
    EXPECT_EQ(top.reject, Reject::None);
    EXPECT_EQ(top.via.branch(), "z9hG4bK-ue-1");
    m.set("Via", "SIP/2.0/UDP a.example;branch=z9hG4bKtop, SIP/2.0/UDP b.example;branch=z9hG4bKb");
    EXPECT_EQ(top_via(m).via.host, "a.example");
    m.set("Via", "garbage");
    EXPECT_EQ(top_via(m).reject, Reject::MalformedVia);
    m.remove("Via");
    EXPECT_EQ(top_via(m).reject, Reject::MissingVia);
}

TEST(TransactionMatch, ResponseToCopiesTheSection8262Fields) {
    Message req = incoming_request("INVITE");
    req.add("Via", "SIP/2.0/UDP proxy.example;branch=z9hG4bK-p");
    req.add("Contact", "<sip:alice@ue.invalid;transport=ws>");
    req.body = "v=0\r\n";
    const Message r = make_response_to(req, 100, "Trying");
    EXPECT_TRUE(r.is_response());
    EXPECT_EQ(r.status_code, 100);
    EXPECT_EQ(r.reason_phrase, "Trying");
    EXPECT_EQ(r.headers("Via"), req.headers("Via"));  // all, in order
    for (const char* name : {"From", "To", "Call-ID", "CSeq", "Timestamp"}) {
        EXPECT_EQ(r.header(name), req.header(name)) << name;
    }
    EXPECT_EQ(r.header("Contact"), std::nullopt);
    EXPECT_EQ(r.header("Max-Forwards"), std::nullopt);
    EXPECT_TRUE(r.body.empty());
}

TEST(TransactionMatch, AckForNon2xxFollowsSection17113) {
    Message invite = outgoing_request("INVITE", ";branch=z9hG4bKinv");
    invite.set("CSeq", "314159 INVITE");
    invite.body = "v=0\r\n";
    const Message resp = response_to(invite, 486, "Busy Here", "xyz");
    const Message ack = make_ack_for(invite, resp);
    EXPECT_EQ(ack.method, "ACK");
    EXPECT_EQ(ack.request_uri, invite.request_uri);
    EXPECT_EQ(ack.headers("Via"), std::vector<std::string_view>{
                                      "SIP/2.0/UDP pcscf.example.net:5060;branch=z9hG4bKinv"});
    EXPECT_EQ(ack.header("CSeq"), "314159 ACK");
    EXPECT_EQ(ack.header("To"), "<sip:bob@ims.example.net>;tag=xyz");
    EXPECT_EQ(ack.header("From"), invite.header("From"));
    EXPECT_EQ(ack.header("Call-ID"), invite.header("Call-ID"));
    EXPECT_EQ(ack.headers("Route"), invite.headers("Route"));
    EXPECT_EQ(ack.header("Max-Forwards"), "69");
    EXPECT_TRUE(ack.body.empty());
    invite.remove("Max-Forwards");
    EXPECT_EQ(make_ack_for(invite, resp).header("Max-Forwards"), "70");
}

TEST(TransactionMatch, Names) {
    EXPECT_EQ(reject_name(Reject::NoMagicCookie), "rfc2543_branch");
    EXPECT_EQ(transport_name(Transport::Wss), "WSS");
    EXPECT_TRUE(is_reliable(Transport::Ws));
    EXPECT_FALSE(is_reliable(Transport::Udp));
    EXPECT_EQ(transaction_state_name(TransactionState::Accepted), "Accepted");
    EXPECT_EQ(transaction_kind_name(TransactionKind::InviteServer), "invite_server");
    EXPECT_EQ(disposition_name(Disposition::Cancel), "cancel");
    EXPECT_EQ(action_kind_name(ActionKind::Timeout), "timeout");
    EXPECT_EQ(send_status_name(SendStatus::QueueFull), "queue_full");
    EXPECT_EQ(respond_status_name(RespondStatus::WrongState), "wrong_state");
    EXPECT_EQ(timer_name(TimerName::M), "M");
}

TEST(TransactionMatch, TimerDurations) {
    const TimerConfig c;
    using D = Duration;
    for (bool reliable : {false, true}) {
        for (TimerName t : {TimerName::B, TimerName::F, TimerName::H, TimerName::L, TimerName::M}) {
            EXPECT_EQ(timer_duration(t, reliable, c), D(32000)) << timer_name(t);
        }
    }
    EXPECT_EQ(timer_duration(TimerName::D, false, c), D(32000));
    EXPECT_EQ(timer_duration(TimerName::I, false, c), D(5000));
    EXPECT_EQ(timer_duration(TimerName::J, false, c), D(32000));
    EXPECT_EQ(timer_duration(TimerName::K, false, c), D(5000));
    for (TimerName t : {TimerName::D, TimerName::I, TimerName::J, TimerName::K}) {
        EXPECT_EQ(timer_duration(t, true, c), D(0)) << timer_name(t);
    }
    EXPECT_EQ(next_retransmit_interval(TimerName::A, D(16000), c), D(32000));  // unbounded
    EXPECT_EQ(next_retransmit_interval(TimerName::E, D(2000), c), D(4000));
    EXPECT_EQ(next_retransmit_interval(TimerName::E, D(4000), c), D(4000));  // T2
    EXPECT_EQ(next_retransmit_interval(TimerName::G, D(3000), c), D(4000));
}

}  // namespace
}  // namespace isthmus::sip::test
