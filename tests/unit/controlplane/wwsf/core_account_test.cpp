// The WWSF core's login, sessions and tokens (TS 24.371 A.3.2): every
// refusal, the cookie, the token verified with token::TokenVerifier and the
// public key only, and no secret in the logs.
#include "core_fixture.hpp"

namespace isthmus::wwsf::test {
namespace {

using CoreAccount = CoreTest;

TEST_F(CoreAccount, LoginOpensASession) {
    const HttpResponse r = post("/api/login", R"({"user":"alice","password":"wonderland"})");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, R"({"user":"alice","identity":"sip:alice@ims.example.net","expires":)" +
                          std::to_string(kNow + 3600) + "}");
    ASSERT_NE(r.header("Set-Cookie"), nullptr);
    const std::string set = field(r, "Set-Cookie");
    const std::string cookie = cookie_of(r);
    EXPECT_EQ(cookie.size(), 43u);
    EXPECT_EQ(set, std::string(kSessionCookie) + "=" + cookie +
                       "; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Strict");
    EXPECT_EQ(field(r, "Cache-Control"), "no-store");
    EXPECT_EQ(core().sessions().size(), 1u);
    EXPECT_EQ(core().stats().of(Counter::LoginOk), 1u);
    EXPECT_EQ(core().logins_in_flight(), 0u);
}

TEST_F(CoreAccount, WrongPasswordAndUnknownUserLookAlike) {
    const HttpResponse wrong = post("/api/login", R"({"user":"alice","password":"Wonderland"})");
    const HttpResponse unknown = post("/api/login", R"({"user":"mallory","password":"x"})");
    const HttpResponse odd = post("/api/login", R"({"user":"a b\nlevel=error","password":"x"})");
    for (const HttpResponse* r : {&wrong, &unknown, &odd}) {
        EXPECT_EQ(r->status, 401u);
        EXPECT_EQ(r->body, R"({"error":"unknown user or wrong password"})");
        EXPECT_EQ(r->header("Set-Cookie"), nullptr);
    }
    EXPECT_EQ(core().stats().of(Counter::LoginFailed), 3u);
    EXPECT_EQ(core().sessions().size(), 0u);
    // A name that is not one is not written into the log as it came.
    EXPECT_NE(all_logs().find("event=login_failed user=alice peer=198.18.0.10"), std::string::npos);
    EXPECT_NE(all_logs().find("event=login_failed user=- peer="), std::string::npos);
    EXPECT_EQ(all_logs().find("level=error"), std::string::npos);
}

TEST_F(CoreAccount, UnknownUsersAreCheckedAgainstADummyOfTheSameCost) {
    Reply r =
        core().handle(request("POST", "/api/login", R"({"user":"mallory","password":"x"})"), kNow);
    ASSERT_TRUE(std::holds_alternative<PasswordCheck>(r));
    const PasswordCheck& check = std::get<PasswordCheck>(r);
    EXPECT_EQ(check.identity, "");
    EXPECT_EQ(check.hash.params, kFast);  // the users' cost
    EXPECT_FALSE(check.hash.hash.empty());
    EXPECT_FALSE(check_password(check));
    EXPECT_EQ(core().logins_in_flight(), 1u);
}

TEST_F(CoreAccount, MalformedLogins) {
    struct Case {
        std::string body;
        std::string error;
    };
    const std::vector<Case> cases = {
        {"", R"(the body must be {"user":"...","password":"..."})"},
        {"{}", R"(the body must be {"user":"...","password":"..."})"},
        {R"({"user":"alice"})", R"(the body must be {"user":"...","password":"..."})"},
        {R"({"password":"x"})", R"(the body must be {"user":"...","password":"..."})"},
        {R"({"user":"","password":"x"})", "user and password must not be empty"},
        {R"({"user":"alice","password":""})", "user and password must not be empty"},
        {R"({"user":"alice","password":")" + std::string(1025, 'x') + "\"}",
         "password longer than 1024 octets"},
        {R"({"user":"alice","password":"x","remember":"yes"})", R"(unknown member "remember")"},
        {R"({"user":"alice","password":5})", R"("password" must be a string)"},
        {R"({"user":null,"password":"x"})", R"("user" must be a string)"},
        {R"({"user":"alice","password":"x")",
         "the body is not a JSON object: expected ',' or '}' after a member"},
        {R"(["alice","x"])",
         "the body is not a JSON object: expected '{': the body must be a JSON object"},
        {R"({"user":"alice","user":"bob","password":"x"})",
         R"(the body is not a JSON object: duplicate member "user")"},
        {"user=alice&password=x",
         "the body is not a JSON object: expected '{': the body must be a JSON object"},
    };
    for (const Case& c : cases) {
        const HttpResponse r = post("/api/login", c.body);
        EXPECT_EQ(r.status, 400u) << c.body;
        EXPECT_EQ(error_of(r), c.error) << c.body;
    }
    // A body that is not declared as JSON: 415.
    HttpRequest req = request("POST", "/api/login", R"({"user":"alice","password":"wonderland"})");
    req.headers = {{"content-type", "text/plain"}};
    HttpResponse r = call(req);
    EXPECT_EQ(r.status, 415u);
    EXPECT_EQ(error_of(r), "the body must be Content-Type: application/json");
    req.headers.clear();
    EXPECT_EQ(call(req).status, 415u);
    req.headers = {{"content-type", "Application/JSON; charset=utf-8"}};
    EXPECT_EQ(call(req).status, 200u);
    EXPECT_EQ(core().stats().of(Counter::BadRequest), cases.size() + 2);
    EXPECT_EQ(core().logins_in_flight(), 0u);
}

TEST_F(CoreAccount, BoundedPasswordChecksInFlight) {
    config_.max_logins_in_flight = 2;
    const HttpRequest req =
        request("POST", "/api/login", R"({"user":"alice","password":"wonderland"})");
    Reply a = core().handle(req, kNow);
    Reply b = core().handle(req, kNow);
    ASSERT_TRUE(std::holds_alternative<PasswordCheck>(a));
    ASSERT_TRUE(std::holds_alternative<PasswordCheck>(b));
    Reply c = core().handle(req, kNow);
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(c));
    EXPECT_EQ(std::get<HttpResponse>(c).status, 503u);
    EXPECT_EQ(field(std::get<HttpResponse>(c), "Retry-After"), "1");
    EXPECT_EQ(core().stats().of(Counter::LoginBusy), 1u);
    const HttpResponse done =
        core().finish_login(std::get<PasswordCheck>(std::move(a)), true, kNow);
    EXPECT_EQ(done.status, 200u);
    EXPECT_TRUE(std::holds_alternative<PasswordCheck>(core().handle(req, kNow)));
}

TEST_F(CoreAccount, TokenForTheSessionsIdentityVerifiesWithThePublicKey) {
    const std::string cookie = login("alice", "wonderland");
    const HttpResponse r = post("/api/token", {}, cookie, kNow + 10);
    ASSERT_EQ(r.status, 200u) << r.body;
    const JsonObject o = json_of(r);
    EXPECT_EQ(o.at("identity").text, "sip:alice@ims.example.net");
    EXPECT_EQ(o.at("expires").text, std::to_string(kNow + 10 + 120));
    const std::string token = o.at("token").text;
    // The eP-CSCF's side: only the public key.
    const token::TokenVerifier v = token::TokenVerifier::from_public_pem(signer_.public_pem());
    const token::TokenCheck check = v.verify(token, kNow + 10, "pcscf.example.net");
    ASSERT_EQ(check.error, token::TokenError::None);
    EXPECT_EQ(check.claims.subject, "sip:alice@ims.example.net");
    EXPECT_EQ(check.claims.audience, "pcscf.example.net");
    EXPECT_EQ(check.claims.expires, kNow + 130);
    EXPECT_EQ(check.claims.kind, "user");
    EXPECT_EQ(check.claims.id.size(), 22u);  // 16 octets, base64url
    EXPECT_EQ(v.verify(token, kNow + 10, "other.example.net").error,
              token::TokenError::WrongAudience);
    EXPECT_EQ(v.verify(token, kNow + 130, "pcscf.example.net").error, token::TokenError::Expired);
    const token::TokenVerifier stranger =
        token::TokenVerifier::from_public_pem(token::TokenSigner::generate().public_pem());
    EXPECT_EQ(stranger.verify(token, kNow + 10, "pcscf.example.net").error,
              token::TokenError::BadSignature);
    // Each token is another (single use at the eP-CSCF).
    const std::string again = json_of(post("/api/token", "{}", cookie, kNow + 11)).at("token").text;
    EXPECT_NE(again, token);
    EXPECT_NE(v.verify(again, kNow + 11, "pcscf.example.net").claims.id, check.claims.id);
    EXPECT_EQ(core().stats().of(Counter::TokenIssued), 2u);
    // Never the token, cookie or password in the logs.
    const std::string logs = all_logs();
    EXPECT_NE(logs.find("event=token identity=sip:alice@ims.example.net kind=user"),
              std::string::npos);
    EXPECT_EQ(logs.find(token), std::string::npos);
    EXPECT_EQ(logs.find(token.substr(token.find('.') + 1)), std::string::npos);
    EXPECT_EQ(logs.find(cookie), std::string::npos);
    EXPECT_EQ(logs.find("wonderland"), std::string::npos);
}

TEST_F(CoreAccount, TokenNeedsALiveSession) {
    HttpResponse r = post("/api/token");
    EXPECT_EQ(r.status, 401u);
    EXPECT_EQ(error_of(r), "no session: log in (or lease a guest identity) first");
    EXPECT_EQ(post("/api/token", {}, std::string(43, 'A')).status, 401u);
    EXPECT_EQ(post("/api/token", {}, "short").status, 401u);
    const std::string cookie = login("bob", "builder");
    EXPECT_EQ(post("/api/token", {}, cookie, kNow + 3599).status, 200u);
    // Expired.
    r = post("/api/token", {}, cookie, kNow + 3600);
    EXPECT_EQ(r.status, 401u);
    EXPECT_EQ(post("/api/token", {}, cookie, kNow + 10).status, 401u);  // gone for good
    EXPECT_EQ(core().stats().of(Counter::NoSession), 5u);
    // Members in a token request are refused.
    const std::string fresh = login("bob", "builder", kNow + 4000);
    r = post("/api/token", R"({"identity":"sip:alice@ims.example.net"})", fresh, kNow + 4000);
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(error_of(r), R"(unknown member "identity")");
}

TEST_F(CoreAccount, LogoutClosesTheSession) {
    const std::string cookie = login("alice", "wonderland");
    const HttpResponse r = post("/api/logout", {}, cookie);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(cookie_of(r), "-");
    EXPECT_NE(field(r, "Set-Cookie").find("Max-Age=0"), std::string::npos);
    EXPECT_EQ(post("/api/token", {}, cookie).status, 401u);
    EXPECT_EQ(post("/api/logout").status, 200u);  // without a session: nothing to do
    EXPECT_NE(all_logs().find("event=logout user=alice"), std::string::npos);
}

TEST_F(CoreAccount, SessionBounds) {
    config_.max_sessions = 2;
    config_.max_sessions_per_user = 1;
    const std::string first = login("alice", "wonderland");
    const std::string second = login("alice", "wonderland");
    EXPECT_EQ(post("/api/token", {}, first).status, 401u);  // her oldest was closed
    EXPECT_EQ(post("/api/token", {}, second).status, 200u);
    login("bob", "builder");
    // Full: a new session (here a guest's) is refused with 503.
    const HttpResponse r = post("/api/guest");
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(error_of(r), "too many sessions: try again later");
    EXPECT_EQ(core().pool().free(), 2u);  // the lease went back
    EXPECT_EQ(core().stats().of(Counter::SessionsFull), 1u);
}

TEST_F(CoreAccount, ReplacedUsers) {
    const std::string cookie = login("alice", "wonderland");
    core().replace_users(UserDb::parse(
        "carol sip:carol@ims.example.net " + format_password_hash(hash_password("c", kFast)),
        "users"));
    EXPECT_EQ(post("/api/login", R"({"user":"alice","password":"wonderland"})").status, 401u);
    EXPECT_EQ(post("/api/login", R"({"user":"carol","password":"c"})").status, 200u);
    EXPECT_EQ(post("/api/token", {}, cookie).status, 200u);  // live sessions stay
}

}  // namespace
}  // namespace isthmus::wwsf::test
