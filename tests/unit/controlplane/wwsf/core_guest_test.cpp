// The WWSF core's guest identities (TS 24.371 A.3.3): leases from the pool
// until it is empty (503), guest tokens, expiry, early release by token or
// session, the per-address bound.
#include "core_fixture.hpp"

namespace isthmus::wwsf::test {
namespace {

using CoreGuest = CoreTest;

TEST_F(CoreGuest, LeasesUntilThePoolIsEmpty) {
    const token::TokenVerifier v = token::TokenVerifier::from_public_pem(signer_.public_pem());
    std::vector<std::string> leased;
    for (int i = 0; i < 2; ++i) {
        const HttpResponse r = post("/api/guest");
        ASSERT_EQ(r.status, 200u) << r.body;
        const JsonObject o = json_of(r);
        leased.push_back(o.at("identity").text);
        EXPECT_EQ(o.at("expires").text, std::to_string(kNow + 120));
        EXPECT_EQ(o.at("lease_expires").text, std::to_string(kNow + 600));
        const token::TokenCheck c = v.verify(o.at("token").text, kNow, "pcscf.example.net");
        ASSERT_EQ(c.error, token::TokenError::None);
        EXPECT_EQ(c.claims.kind, "guest");
        EXPECT_EQ(c.claims.subject, o.at("identity").text);
        EXPECT_EQ(cookie_of(r).size(), 43u);
        EXPECT_NE(field(r, "Set-Cookie").find("Max-Age=600;"), std::string::npos);
    }
    EXPECT_EQ(leased, pool_);
    const HttpResponse empty = post("/api/guest");
    EXPECT_EQ(empty.status, 503u);
    EXPECT_EQ(empty.body, R"({"error":"no guest identity free"})");
    EXPECT_NE(empty.header("Retry-After"), nullptr);
    EXPECT_EQ(core().stats().of(Counter::GuestLeased), 2u);
    EXPECT_EQ(core().stats().of(Counter::GuestPoolEmpty), 1u);
    EXPECT_NE(all_logs().find("event=guest_pool_empty"), std::string::npos);
}

TEST_F(CoreGuest, NoPoolAtAll) {
    pool_.clear();
    const HttpResponse r = post("/api/guest");
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(error_of(r), "no guest identity free");
}

TEST_F(CoreGuest, TheGuestSessionGetsMoreTokensUntilTheLeaseEnds) {
    config_.guest_lease_s = 200;
    const HttpResponse r = post("/api/guest");
    const std::string cookie = cookie_of(r);
    const std::string identity = json_of(r).at("identity").text;
    const token::TokenVerifier v = token::TokenVerifier::from_public_pem(signer_.public_pem());
    HttpResponse t = post("/api/token", {}, cookie, kNow + 50);
    ASSERT_EQ(t.status, 200u);
    EXPECT_EQ(json_of(t).at("identity").text, identity);
    EXPECT_EQ(json_of(t).at("expires").text, std::to_string(kNow + 170));
    // Near the lease's end the token ends with it.
    t = post("/api/token", {}, cookie, kNow + 150);
    EXPECT_EQ(json_of(t).at("expires").text, std::to_string(kNow + 200));
    const auto c = v.verify(json_of(t).at("token").text, kNow + 150, "pcscf.example.net");
    EXPECT_EQ(c.error, token::TokenError::None);
    EXPECT_EQ(c.claims.kind, "guest");
    // The lease ends: the identity is free again and the session gone.
    core().advance(kNow + 200);
    EXPECT_EQ(core().pool().free(), 2u);
    EXPECT_EQ(core().stats().of(Counter::GuestExpired), 1u);
    EXPECT_NE(all_logs().find("event=guest_expired identity=" + identity), std::string::npos);
    EXPECT_EQ(post("/api/token", {}, cookie, kNow + 200).status, 401u);
}

TEST_F(CoreGuest, ExpiredLeasesGoBackBeforeTheNextRequest) {
    const HttpResponse a = post("/api/guest");
    const HttpResponse b = post("/api/guest");
    EXPECT_EQ(post("/api/guest", {}, {}, kNow + 599).status, 503u);
    // No advance() in between: the request itself ends what expired.
    const HttpResponse c = post("/api/guest", {}, {}, kNow + 600);
    EXPECT_EQ(c.status, 200u);
    EXPECT_EQ(json_of(c).at("identity").text, json_of(a).at("identity").text);
}

TEST_F(CoreGuest, ReleaseWithTheLeasesToken) {
    const JsonObject a = json_of(post("/api/guest"));
    const JsonObject b = json_of(post("/api/guest"));
    const std::string& id_a = a.at("identity").text;
    const auto release = [&](const std::string& identity, const std::string& token,
                             int64_t now = kNow + 1) {
        return post("/api/guest/release",
                    JsonWriter().add("identity", identity).add("token", token).str(), {}, now);
    };
    // Someone else's token, a user's token, a forged one, none: 403.
    HttpResponse r = release(id_a, b.at("token").text);
    EXPECT_EQ(r.status, 403u);
    EXPECT_EQ(error_of(r), "no lease of this identity for this token or session");
    const std::string alice = login("alice", "wonderland");
    const std::string user_token = json_of(post("/api/token", {}, alice)).at("token").text;
    EXPECT_EQ(release(id_a, user_token).status, 403u);
    const token::TokenSigner other = token::TokenSigner::generate();
    const std::string forged = other.sign({.subject = id_a,
                                           .audience = "pcscf.example.net",
                                           .expires = kNow + 100,
                                           .id = "x",
                                           .kind = "guest"});
    EXPECT_EQ(release(id_a, forged).status, 403u);
    EXPECT_EQ(release(id_a, "garbage").status, 403u);
    EXPECT_EQ(post("/api/guest/release", JsonWriter().add("identity", id_a).str()).status, 403u);
    EXPECT_EQ(core().stats().of(Counter::ReleaseRefused), 5u);
    EXPECT_EQ(core().pool().free(), 0u);
    // The lease's own token, even once it has expired.
    r = release(id_a, a.at("token").text, kNow + 300);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, R"({"released":")" + id_a + "\"}");
    EXPECT_EQ(core().pool().free(), 1u);
    EXPECT_EQ(core().stats().of(Counter::GuestReleased), 1u);
    // Given back: the token cannot release it (nor its next holder's lease).
    EXPECT_EQ(release(id_a, a.at("token").text, kNow + 301).status, 403u);
    const JsonObject c = json_of(post("/api/guest", {}, {}, kNow + 302));
    EXPECT_EQ(c.at("identity").text, id_a);
    EXPECT_EQ(release(id_a, a.at("token").text, kNow + 303).status, 403u);
    EXPECT_EQ(release(id_a, c.at("token").text, kNow + 303).status, 200u);
    // Malformed.
    r = post("/api/guest/release", R"({"token":"x"})");
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(error_of(r), R"(the body must be {"identity":"...","token":"..."})");
    EXPECT_EQ(post("/api/guest/release", R"({"identity":"x","lease":"y"})").status, 400u);
}

// The eP-CSCF gives a lease back with the token the guest registered with
// (A.3.3: the WebSocket closed), which may be a later one of the lease's
// tokens (/api/token in the guest session) rather than the first.
TEST_F(CoreGuest, AnyOfTheLeasesTokensReleasesIt) {
    const HttpResponse a = post("/api/guest");
    const std::string id = json_of(a).at("identity").text;
    const std::string later = json_of(post("/api/token", {}, cookie_of(a))).at("token").text;
    const token::TokenVerifier v = token::TokenVerifier::from_public_pem(signer_.public_pem());
    const token::TokenCheck first =
        v.verify(json_of(a).at("token").text, kNow, "pcscf.example.net");
    const token::TokenCheck second = v.verify(later, kNow, "pcscf.example.net");
    ASSERT_EQ(second.error, token::TokenError::None);
    EXPECT_NE(first.claims.id, second.claims.id);  // single-use ids, one lease
    EXPECT_EQ(first.claims.id.substr(0, 22), second.claims.id.substr(0, 22));
    const auto release = [&](const std::string& token, int64_t now) {
        return post("/api/guest/release",
                    JsonWriter().add("identity", id).add("token", token).str(), {}, now);
    };
    EXPECT_EQ(release(later, kNow + 250).status, 200u);
    EXPECT_EQ(core().pool().free(), 2u);
    // The identity leased again (after the one free longer): the previous
    // lease's tokens are strangers.
    post("/api/guest", {}, {}, kNow + 251);
    const HttpResponse b = post("/api/guest", {}, {}, kNow + 251);
    ASSERT_EQ(json_of(b).at("identity").text, id);
    EXPECT_EQ(release(later, kNow + 252).status, 403u);
    EXPECT_EQ(release(json_of(a).at("token").text, kNow + 252).status, 403u);
    EXPECT_EQ(release(json_of(b).at("token").text, kNow + 252).status, 200u);
}

TEST_F(CoreGuest, ReleaseOrLogoutWithTheGuestSession) {
    const HttpResponse a = post("/api/guest");
    const std::string cookie = cookie_of(a);
    const std::string id = json_of(a).at("identity").text;
    // Not another identity with this session.
    const std::string other = json_of(post("/api/guest")).at("identity").text;
    EXPECT_EQ(post("/api/guest/release", JsonWriter().add("identity", other).str(), cookie).status,
              403u);
    HttpResponse r = post("/api/guest/release", JsonWriter().add("identity", id).str(), cookie);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(cookie_of(r), "-");
    EXPECT_EQ(post("/api/token", {}, cookie).status, 401u);
    // Logout of a guest session gives the lease back too.
    const HttpResponse b = post("/api/guest");
    EXPECT_EQ(core().pool().free(), 0u);
    r = post("/api/logout", {}, cookie_of(b));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(core().pool().free(), 1u);
    EXPECT_EQ(core().stats().of(Counter::GuestReleased), 2u);
}

TEST_F(CoreGuest, AskingAgainGivesBackTheLeaseHeld) {
    const HttpResponse a = post("/api/guest");
    const HttpResponse b = post("/api/guest", {}, cookie_of(a));
    EXPECT_EQ(b.status, 200u);
    EXPECT_EQ(core().pool().leased(), 1u);
    EXPECT_EQ(post("/api/token", {}, cookie_of(a)).status, 401u);
    EXPECT_EQ(post("/api/token", {}, cookie_of(b)).status, 200u);
}

TEST_F(CoreGuest, BoundPerAddress) {
    pool_ = {"sip:g1@ims.example.net", "sip:g2@ims.example.net", "sip:g3@ims.example.net"};
    config_.max_guest_leases_per_address = 2;
    EXPECT_EQ(post("/api/guest").status, 200u);
    EXPECT_EQ(post("/api/guest").status, 200u);
    HttpResponse r = post("/api/guest");
    EXPECT_EQ(r.status, 429u);
    EXPECT_EQ(error_of(r), "too many guest identities leased from this address");
    r = call(request("POST", "/api/guest", {}, {}, "198.18.0.99"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(core().stats().of(Counter::GuestPerAddress), 1u);
}

TEST_F(CoreGuest, RefusesABody) {
    HttpResponse r = post("/api/guest", R"({"identity":"sip:guest02@ims.example.net"})");
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(error_of(r), R"(unknown member "identity")");
    EXPECT_EQ(post("/api/guest", "{}").status, 200u);
}

}  // namespace
}  // namespace isthmus::wwsf::test
