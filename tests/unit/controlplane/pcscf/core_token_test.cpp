// A.3.2 / A.3.3 in the P-CSCF core (issue 8): a REGISTER carrying a WWSF
// token (Authorization: Bearer, RFC 8898) is verified and goes to the IMS
// marked integrity-protected="auth-done"; refreshes on the same flow need no
// new token; forged, expired, replayed, wrong-audience and wrong-identity
// tokens get 403 and a counter.
#include <unistd.h>

#include <cstdio>

#include "core_testing.hpp"
#include "token/replay_journal.hpp"
#include "token/token.hpp"

namespace isthmus::pcscf::test {
namespace {

constexpr int64_t kUnixNow = 1764000000;

class CoreTokenTest : public CoreFixture {
  protected:
    CoreTokenTest() {
        config.token_verifier = std::make_shared<token::TokenVerifier>(
            token::TokenVerifier::from_public_pem(signer.public_pem()));
        config.token_audience = "pcscf.example.net";
        config.unix_time = [this] { return unix_now; };
        make_core();
    }

    std::string token(std::string_view id = "tok1", int64_t lifetime = 120,
                      std::string_view subject = kAor,
                      std::string_view audience = "pcscf.example.net",
                      std::string_view kind = "user") const {
        token::Claims c;
        c.subject = std::string(subject);
        c.audience = std::string(audience);
        c.expires = kUnixNow + lifetime;
        c.id = std::string(id);
        c.kind = std::string(kind);
        return signer.sign(c);
    }
    std::string guest_token(std::string_view id = "guest1") const {
        return token(id, 120, kAor, "pcscf.example.net", "guest");
    }
    // A registration made with token `t` on `flow` (200 OK with expires).
    void token_registered(const std::string& t, uint64_t flow = 42,
                          std::string_view expires = "600") {
        Message m = browser_register(1, "z9hG4bK-g" + std::to_string(flow), expires);
        m.add("Authorization", "Bearer " + t);
        const Sent fwd = only(feed(m, browser(flow)));
        const Message ok = only(feed(ok_to_register(fwd.msg, expires), icscf())).msg;
        ASSERT_EQ(ok.status_code, 200);
    }
    std::vector<GuestLeaseRef> ended_leases() {
        std::vector<GuestLeaseRef> out;
        while (auto l = core->poll_lease_end())
            out.push_back(std::move(*l));
        return out;
    }
    Message token_register(const std::string& t, uint32_t cseq = 1,
                           std::string_view branch = "z9hG4bK-treg") {
        Message m = browser_register(cseq, branch);
        m.add("Authorization", "Bearer " + t);
        return m;
    }

    token::TokenSigner signer = token::TokenSigner::generate();
    int64_t unix_now = kUnixNow;
};

TEST_F(CoreTokenTest, AValidTokenRegistersWithoutAChallenge) {
    const Sent fwd = only(feed(token_register(token()), browser()));
    EXPECT_EQ(fwd.to, icscf());
    const auto auth = values(fwd.msg, "Authorization");
    ASSERT_EQ(auth.size(), 1u);
    EXPECT_EQ(auth[0],
              "Digest username=\"alice@ims.example.net\", realm=\"ims.example.net\", "
              "uri=\"sip:ims.example.net\", nonce=\"\", response=\"\", "
              "integrity-protected=\"auth-done\"");
    EXPECT_EQ(values(fwd.msg, "Path").size(), 1u);
    const Message ok = only(feed(ok_to_register(fwd.msg), icscf())).msg;
    EXPECT_EQ(ok.status_code, 200);
    EXPECT_TRUE(core->registrar().registered(42, at(now_ms)));
    const Registration* r = core->registrar().find(42, kAor);
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(r->web_authenticated);
    EXPECT_EQ(stats().token_registrations, 1u);
}

TEST_F(CoreTokenTest, RefreshOnTheSameFlowNeedsNoNewToken) {
    const std::string t = token();
    const Sent fwd = only(feed(token_register(t), browser()));
    only(feed(ok_to_register(fwd.msg), icscf()));
    // Minutes later the token has expired; JsSIP sends the same header again.
    unix_now += 600;
    const Sent again = only(feed(token_register(t, 2, "z9hG4bK-treg2"), browser()));
    EXPECT_EQ(again.msg.method, "REGISTER");
    EXPECT_NE(text(again.msg, "Authorization").find("auth-done"), std::string::npos);
    // Without any Authorization, too (a de-registration).
    const Sent bye = only(feed(browser_register(3, "z9hG4bK-treg3", "0"), browser()));
    EXPECT_EQ(bye.msg.method, "REGISTER");
    EXPECT_NE(text(bye.msg, "Authorization").find("auth-done"), std::string::npos);
    EXPECT_EQ(stats().token_registrations, 1u);
}

TEST_F(CoreTokenTest, EachRefusalIs403WithItsReasonAndCounter) {
    struct Case {
        std::string token;
        std::string reason;
    };
    const token::TokenSigner stranger = token::TokenSigner::generate();
    token::Claims c;
    c.subject = std::string(kAor);
    c.audience = "pcscf.example.net";
    c.expires = kUnixNow + 60;
    c.id = "strange";
    const std::vector<Case> cases = {
        {token("t1", 0), "Forbidden (token expired)"},
        {token("t2", 7200), "Forbidden (token too_long)"},
        {token("t3", 120, kAor, "other.example.net"), "Forbidden (token wrong_audience)"},
        {stranger.sign(c), "Forbidden (token bad_signature)"},
        {"not-a-token", "Forbidden (token malformed)"},
        {token("t4", 120, "sip:bob@ims.example.net"), "Forbidden (token names another identity)"},
    };
    int n = 0;
    for (const Case& k : cases) {
        const Sent r =
            only(feed(token_register(k.token, 1, "z9hG4bK-bad" + std::to_string(++n)), browser()));
        EXPECT_EQ(r.msg.status_code, 403) << k.reason;
        EXPECT_EQ(r.msg.reason_phrase, k.reason);
    }
    EXPECT_EQ(refused(Refusal::TokenRefused), cases.size());
    EXPECT_EQ(stats().token_refused[static_cast<std::size_t>(token::TokenError::Expired)], 1u);
    EXPECT_EQ(stats().token_refused[static_cast<std::size_t>(token::TokenError::BadSignature)], 1u);
    EXPECT_EQ(stats().token_wrong_identity, 1u);
    EXPECT_FALSE(core->registrar().registered(42, at(now_ms)));
}

TEST_F(CoreTokenTest, ATokenIsSingleUse) {
    const std::string t = token();
    const Sent fwd = only(feed(token_register(t), browser()));
    only(feed(ok_to_register(fwd.msg), icscf()));
    // The same token from another WebSocket.
    const Sent r = only(feed(token_register(t, 1, "z9hG4bK-other"), browser(43)));
    EXPECT_EQ(r.msg.status_code, 403);
    EXPECT_EQ(r.msg.reason_phrase, "Forbidden (token replayed)");
    EXPECT_EQ(stats().token_refused[static_cast<std::size_t>(token::TokenError::Replayed)], 1u);
}

// [pcscf.tokens] replay_file: a token used before a restart is refused
// after it. The first core records the token's id; a new core (the
// restarted daemon) given the journal reopened refuses the same token from
// a new WebSocket, and takes a new one (which the journal records too).
TEST_F(CoreTokenTest, ATokenUsedBeforeARestartIsRefusedAfterIt) {
    const std::string path =
        ::testing::TempDir() + "core-token-replay-" + std::to_string(::getpid());
    std::remove(path.c_str());
    config.token_journal = token::ReplayJournal::open(path, unix_now);
    make_core();
    const std::string t = token("before-restart");
    const Sent fwd = only(feed(token_register(t), browser()));
    EXPECT_EQ(only(feed(ok_to_register(fwd.msg), icscf())).msg.status_code, 200);
    EXPECT_EQ(stats().token_journal_errors, 0u);

    // The restart: a new journal read from the file, a new core.
    config.token_journal.reset();
    core.reset();
    unix_now += 30;
    config.token_journal = token::ReplayJournal::open(path, unix_now);
    EXPECT_EQ(config.token_journal->loaded().live, 1u);
    make_core();
    const Sent r = only(feed(token_register(t, 1, "z9hG4bK-after"), browser(43)));
    EXPECT_EQ(r.msg.status_code, 403);
    EXPECT_EQ(r.msg.reason_phrase, "Forbidden (token replayed)");
    const Sent fresh =
        only(feed(token_register(token("after-restart"), 1, "z9hG4bK-new"), browser(44)));
    EXPECT_EQ(fresh.to, icscf());
    EXPECT_EQ(config.token_journal->lines(), 2u);
    std::remove(path.c_str());
}

// Without a journal (the default) single use holds per process: the same
// token after a restart is taken again (what replay_file is for).
TEST_F(CoreTokenTest, WithoutAJournalARestartForgetsTheUsedTokens) {
    const std::string t = token("forgotten");
    only(feed(token_register(t), browser()));
    make_core();
    EXPECT_EQ(only(feed(token_register(t, 1, "z9hG4bK-again"), browser(43))).to, icscf());
}

// A browser cannot claim auth-done itself (TS 24.229 5.2.2.1): its
// integrity-protected parameter is removed, so the S-CSCF challenges.
TEST_F(CoreTokenTest, ABrowsersOwnAuthDoneIsRemoved) {
    Message m = browser_register(1, "z9hG4bK-claim");
    m.set("To", "<sip:bob@ims.example.net>");
    m.add("Authorization",
          "Digest username=\"bob@ims.example.net\", realm=\"ims.example.net\", "
          "uri=\"sip:ims.example.net\", nonce=\"\", response=\"\", "
          "integrity-protected=\"auth-done\"");
    const Sent fwd = only(feed(m, browser()));
    EXPECT_EQ(fwd.msg.method, "REGISTER");
    EXPECT_EQ(text(fwd.msg, "Authorization"),
              "Digest username=\"bob@ims.example.net\", realm=\"ims.example.net\", "
              "uri=\"sip:ims.example.net\", nonce=\"\", response=\"\"");
    // Any case, anywhere in the list, quoted commas kept.
    Message m2 = browser_register(1, "z9hG4bK-claim2");
    m2.add("Authorization",
           "Digest Integrity-Protected=yes, username=\"a,b\", realm=\"ims.example.net\"");
    const Sent fwd2 = only(feed(m2, browser(43)));
    EXPECT_EQ(text(fwd2.msg, "Authorization"),
              "Digest username=\"a,b\", realm=\"ims.example.net\"");
}

// A.3.3: a guest's identity is leased by the WWSF; when the registration
// made with the guest's token ends, the core reports the lease with that
// token (the daemon gives it back to the WWSF).
TEST_F(CoreTokenTest, AGuestLeaseEndsWhenItsWebSocketCloses) {
    const std::string t = guest_token();
    token_registered(t);
    EXPECT_EQ(stats().token_guest_registrations, 1u);
    EXPECT_TRUE(ended_leases().empty());
    // A refresh on the same flow keeps the lease.
    const Sent again = only(feed(browser_register(2, "z9hG4bK-gref"), browser()));
    only(feed(ok_to_register(again.msg), icscf()));
    EXPECT_TRUE(ended_leases().empty());
    close_flow(42);
    const auto ended = ended_leases();
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].identity, kAor);
    EXPECT_EQ(ended[0].token, t);
    EXPECT_TRUE(ended_leases().empty());  // reported once
}

TEST_F(CoreTokenTest, AGuestLeaseEndsWithADeRegistrationOrAnExpiry) {
    const std::string t1 = guest_token("g-dereg");
    token_registered(t1, 42);
    const Sent bye = only(feed(browser_register(3, "z9hG4bK-gbye", "0"), browser(42)));
    only(feed(ok_to_register(bye.msg, "0"), icscf()));
    auto ended = ended_leases();
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].token, t1);

    const std::string t2 = guest_token("g-expiry");
    token_registered(t2, 43, "60");
    EXPECT_TRUE(ended_leases().empty());
    run_until(now_ms + 61'000);
    EXPECT_FALSE(core->registrar().registered(43, at(now_ms)));
    ended = ended_leases();
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].token, t2);
}

TEST_F(CoreTokenTest, AUsersTokenLeasesNothing) {
    token_registered(token("user-1"));
    close_flow(42);
    EXPECT_TRUE(ended_leases().empty());
    EXPECT_EQ(stats().token_guest_registrations, 0u);
    // Nor does a guest REGISTER the IMS refused: nothing was registered.
    Message m = browser_register(1, "z9hG4bK-gref403");
    m.add("Authorization", "Bearer " + guest_token("g-403"));
    const Sent fwd = only(feed(m, browser(44)));
    only(feed(response_to(fwd.msg, 403, "Forbidden"), icscf()));
    close_flow(44);
    EXPECT_TRUE(ended_leases().empty());
}

TEST(CoreTokenConfig, TokensRefusedWhenNoKeyIsConfigured) {
    PcscfConfig c = default_config();
    PcscfCore core(c);
    Message m = browser_register(1, "z9hG4bK-nokey");
    m.add("Authorization", "Bearer abc.def");
    core.on_message(sip::serialize(m), browser(), TimePoint{});
    auto out = core.poll();
    ASSERT_TRUE(out);
    const Message r = parse(out->bytes);
    EXPECT_EQ(r.status_code, 403);
    EXPECT_EQ(r.reason_phrase, "Forbidden (tokens not accepted here)");
    EXPECT_EQ(core.stats().token_not_configured, 1u);
    // A verifier needs an audience and a clock.
    PcscfConfig bad = default_config();
    bad.token_verifier = std::make_shared<token::TokenVerifier>(
        token::TokenVerifier::from_public_pem(token::TokenSigner::generate().public_pem()));
    EXPECT_THROW(PcscfCore{bad}, std::invalid_argument);
}

}  // namespace
}  // namespace isthmus::pcscf::test
