// RFC 5626 flow tokens: what they look like, that they name the flow they
// were made for, and that nothing else checks as Valid: altered, truncated,
// extended, non-canonical, another key, another epoch.
#include "pcscf/core_flow_token.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <stdexcept>

#include "sip/uri.hpp"

namespace isthmus::pcscf {
namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";

TEST(FlowTokenTest, ATokenNamesItsFlow) {
    const FlowTokenCodec codec(kKey, 77);
    for (uint64_t flow : {uint64_t{0}, uint64_t{1}, uint64_t{42}, uint64_t{0x123456789abcdef0},
                          std::numeric_limits<uint64_t>::max()}) {
        const std::string t = codec.make(flow);
        EXPECT_EQ(t.size(), FlowTokenCodec::kTokenChars);
        const TokenResult r = codec.check(t);
        EXPECT_EQ(r.check, TokenCheck::Valid) << t;
        EXPECT_EQ(r.flow, flow);
    }
    EXPECT_EQ(codec.make(42), codec.make(42));
    EXPECT_NE(codec.make(42), codec.make(43));
}

TEST(FlowTokenTest, ATokenIsAUserPartAsItStands) {
    const FlowTokenCodec codec(kKey, 77);
    const std::string t = codec.make(42);
    for (char c : t)
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
    const auto uri = sip::parse_uri("sip:" + t + "@198.18.0.1:5060;lr;ob");
    ASSERT_TRUE(uri);
    EXPECT_EQ(uri->user, t);
}

TEST(FlowTokenTest, EveryAlteredCharacterIsInvalid) {
    const FlowTokenCodec codec(kKey, 77);
    const std::string t = codec.make(42);
    for (std::size_t i = 0; i < t.size(); ++i) {
        std::string forged = t;
        forged[i] = forged[i] == 'A' ? 'B' : 'A';
        EXPECT_EQ(codec.check(forged).check, TokenCheck::Invalid) << i;
    }
}

TEST(FlowTokenTest, WrongShapesAreInvalid) {
    const FlowTokenCodec codec(kKey, 77);
    const std::string t = codec.make(42);
    EXPECT_EQ(codec.check("").check, TokenCheck::Invalid);
    EXPECT_EQ(codec.check(t.substr(0, t.size() - 1)).check, TokenCheck::Invalid);
    EXPECT_EQ(codec.check(t + "A").check, TokenCheck::Invalid);
    std::string bad_char = t;
    bad_char[5] = '%';
    EXPECT_EQ(codec.check(bad_char).check, TokenCheck::Invalid);
    // The last character carries 2 unused bits: only its canonical form is
    // accepted, so one flow has one token.
    std::string non_canonical = t;
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const auto last = alphabet.find(t.back());
    non_canonical.back() = alphabet[last ^ 1];
    EXPECT_EQ(codec.check(non_canonical).check, TokenCheck::Invalid);
}

TEST(FlowTokenTest, AnotherKeyIsInvalidAnotherEpochStale) {
    const FlowTokenCodec codec(kKey, 77);
    const FlowTokenCodec other_key("fedcba9876543210fedcba9876543210", 77);
    const FlowTokenCodec earlier_run(kKey, 76);
    EXPECT_EQ(codec.check(other_key.make(42)).check, TokenCheck::Invalid);
    EXPECT_EQ(codec.check(earlier_run.make(42)).check, TokenCheck::Stale);
    EXPECT_EQ(earlier_run.check(codec.make(42)).check, TokenCheck::Stale);
}

TEST(FlowTokenTest, RandomStringsAreInvalid) {
    const FlowTokenCodec codec(kKey, 77);
    std::mt19937_64 rng(5626);
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 2000; ++i) {
        std::string s(FlowTokenCodec::kTokenChars, 'A');
        for (char& c : s)
            c = alphabet[rng() % alphabet.size()];
        EXPECT_EQ(codec.check(s).check, TokenCheck::Invalid);
    }
}

TEST(FlowTokenTest, AShortKeyIsRefused) {
    EXPECT_THROW(FlowTokenCodec("short", 1), std::invalid_argument);
    EXPECT_NO_THROW(FlowTokenCodec(std::string(16, 'k'), 1));
}

}  // namespace
}  // namespace isthmus::pcscf
