// Registration tokens (controlplane/token/token.hpp): the payload codec,
// base64url, Ed25519 sign/verify and every refusal, the replay cache.
#include "token/token.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace isthmus::token {
namespace {

constexpr int64_t kNow = 1764000000;

Claims alice() {
    Claims c;
    c.subject = "sip:alice@ims.example.net";
    c.audience = "pcscf.example.net";
    c.expires = kNow + 120;
    c.id = "Zx9-_abc123";
    return c;
}

TEST(TokenPayload, RoundTripsAndIsInAFixedForm) {
    Claims c = alice();
    c.subject = "sip:al ice&x=y@ims.example.net";
    const std::string p = encode_payload(c);
    EXPECT_EQ(p, "v=1&sub=sip%3Aal%20ice%26x%3Dy%40ims.example.net&aud=pcscf.example.net&exp=" +
                     std::to_string(kNow + 120) + "&jti=Zx9-_abc123&kind=user");
    Claims back;
    ASSERT_TRUE(decode_payload(p, back));
    EXPECT_EQ(back, c);
}

TEST(TokenPayload, RefusesWhatItCannotWriteOrRead) {
    Claims c = alice();
    c.id = "no spaces";
    EXPECT_EQ(encode_payload(c), "");
    c = alice();
    c.kind = "admin";
    EXPECT_EQ(encode_payload(c), "");
    c = alice();
    c.subject.clear();
    EXPECT_EQ(encode_payload(c), "");
    Claims out;
    const std::string good = encode_payload(alice());
    EXPECT_TRUE(decode_payload(good, out));
    for (const std::string& bad : std::vector<std::string>{
             std::string("v=2") + good.substr(3),        // version
             good + "&x=1",                              // extra field
             good.substr(0, good.find("&kind")),         // missing field
             "sub=a&v=1&aud=b&exp=5&jti=x&kind=user",    // order
             "v=1&sub=a&aud=b&exp=-5&jti=x&kind=user",   // negative exp
             "v=1&sub=a&aud=b&exp=5x&jti=x&kind=user",   // exp not a number
             "v=1&sub=%zz&aud=b&exp=5&jti=x&kind=user",  // bad escape
             "v=1&sub=a b&aud=b&exp=5&jti=x&kind=user",  // raw space
             "v=1&sub=&aud=b&exp=5&jti=x&kind=user",     // empty subject
             "v=1&sub=a&aud=b&exp=5&jti=&kind=user",     // empty id
             "v=1&sub=a%&aud=b&exp=5&jti=x&kind=user",   // short escape
         }) {
        EXPECT_FALSE(decode_payload(bad, out)) << bad;
    }
}

TEST(TokenBase64url, RoundTripsAndIsStrict) {
    for (const std::string& s : {std::string(""), std::string("f"), std::string("fo"),
                                 std::string("foo"), std::string("\xff\xfe\x00\x01", 4)}) {
        std::string back;
        ASSERT_TRUE(base64url_decode(base64url_encode(s), back));
        EXPECT_EQ(back, s);
    }
    std::string out;
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
    EXPECT_FALSE(base64url_decode("Zm9v=", out));  // padding
    EXPECT_FALSE(base64url_decode("Zm+v", out));   // base64, not base64url
    EXPECT_FALSE(base64url_decode("Zh", out));     // trailing bits set
    EXPECT_FALSE(base64url_decode("Z", out));      // impossible length
}

class TokenSignTest : public ::testing::Test {
  protected:
    TokenSigner signer = TokenSigner::generate();
    TokenVerifier verifier = TokenVerifier::from_public_pem(signer.public_pem());
    TokenCheck check(const std::string& t, int64_t now = kNow,
                     std::string_view aud = "pcscf.example.net") const {
        return verifier.verify(t, now, aud);
    }
};

TEST_F(TokenSignTest, ASignedTokenVerifies) {
    const std::string t = signer.sign(alice());
    const TokenCheck c = check(t);
    EXPECT_EQ(c.error, TokenError::None);
    EXPECT_EQ(c.claims, alice());
    // The keys survive PEM both ways.
    const TokenSigner again = TokenSigner::from_private_pem(signer.private_pem());
    EXPECT_EQ(check(again.sign(alice())).error, TokenError::None);
}

TEST_F(TokenSignTest, EveryRefusal) {
    const std::string t = signer.sign(alice());
    EXPECT_EQ(check(t, kNow + 120).error, TokenError::Expired);
    EXPECT_EQ(check(t, kNow + 500).error, TokenError::Expired);
    EXPECT_EQ(check(t, kNow, "other.example.net").error, TokenError::WrongAudience);
    Claims long_lived = alice();
    long_lived.expires = kNow + 7200;
    EXPECT_EQ(check(signer.sign(long_lived)).error, TokenError::TooLong);
    // Another WWSF's key.
    const TokenSigner stranger = TokenSigner::generate();
    EXPECT_EQ(check(stranger.sign(alice())).error, TokenError::BadSignature);
    // The payload changed under the signature (another identity).
    Claims bob = alice();
    bob.subject = "sip:bob@ims.example.net";
    const std::string forged = base64url_encode(encode_payload(bob)) + t.substr(t.find('.'));
    const TokenCheck f = check(forged);
    EXPECT_EQ(f.error, TokenError::BadSignature);
    EXPECT_EQ(f.claims.subject, "sip:bob@ims.example.net");  // read, not trusted
    // Not a token at all.
    for (const std::string& bad :
         {std::string(""), std::string("abc"), std::string("a.b.c"), t + "x", "." + t,
          std::string(5000, 'A') + "." + t.substr(t.find('.') + 1)}) {
        EXPECT_EQ(check(bad).error, TokenError::Malformed) << bad.substr(0, 40);
    }
    std::string flipped = t;
    flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
    EXPECT_NE(check(flipped).error, TokenError::None);
}

TEST(TokenKeys, RefusesKeysThatAreNotEd25519) {
    EXPECT_THROW(TokenVerifier::from_public_pem("not a key"), std::invalid_argument);
    EXPECT_THROW(TokenSigner::from_private_pem(""), std::invalid_argument);
    // A P-256 key is a key, but not ours.
    const char* p256 =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\n"
        "q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n"
        "-----END PUBLIC KEY-----\n";
    try {
        TokenVerifier::from_public_pem(p256);
        ADD_FAILURE() << "a P-256 key was taken";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("not an Ed25519 key"), std::string::npos) << e.what();
    }
}

TEST(TokenReplay, EachIdOnceUntilItExpires) {
    ReplayCache cache(3);
    EXPECT_TRUE(cache.first_use("a", kNow + 10, kNow));
    EXPECT_FALSE(cache.first_use("a", kNow + 10, kNow + 5));
    EXPECT_TRUE(cache.first_use("b", kNow + 20, kNow));
    // After its expiry the id is forgotten (the token itself is expired by then).
    EXPECT_TRUE(cache.first_use("a", kNow + 30, kNow + 10));
    // Bounded: full of live ids, a new one is refused (nothing live is
    // forgotten: "b" stays used) until some expire.
    EXPECT_TRUE(cache.first_use("c", kNow + 40, kNow + 10));
    EXPECT_FALSE(cache.first_use("d", kNow + 50, kNow + 10));
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_FALSE(cache.first_use("b", kNow + 20, kNow + 15));
    EXPECT_TRUE(cache.first_use("d", kNow + 50, kNow + 20));  // "b" expired at now+20
}

}  // namespace
}  // namespace isthmus::token
