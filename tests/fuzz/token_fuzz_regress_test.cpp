// The registration token fuzz property (token_fuzz_check.hpp) in CI,
// without clang: every seed of tests/fuzz/corpus/token (tokens signed with
// the test key: valid, expired, too long, for another audience, forged;
// payloads), every saved crash of tests/fuzz/regressions/token, every
// prefix of each seed, and a fixed-seed mutation loop over the seeds.
//
// The directories come from $ISTHMUS_TOKEN_FUZZ_DIR (set by meson test),
// else tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fuzz_regress.hpp"
#include "token_fuzz_check.hpp"

namespace isthmus::token::fuzz {
namespace {

constexpr int kIterations = 3000;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_TOKEN_FUZZ_DIR");
}

std::string run(const std::string& bytes) {
    const std::string exact(bytes);  // its own exactly sized allocation
    return check_input(exact);
}

TokenError verdict(const std::string& token) {
    return verifier().verify(token, kNow, kAudience, kMaxLifetime).error;
}

TEST(TokenFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "token");
    ASSERT_GE(corpus.size(), 10U) << "corpus not found under " << fuzz_dir();
    std::array<uint64_t, kTokenErrorCount> seen{};
    for (const Input& in : corpus) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        ++seen[static_cast<std::size_t>(verdict(in.bytes))];
    }
    // The tokens are signed with the test key: each verdict but Replayed.
    for (const TokenError e : {TokenError::None, TokenError::Malformed, TokenError::BadSignature,
                               TokenError::Expired, TokenError::TooLong, TokenError::WrongAudience})
        EXPECT_GT(seen[static_cast<std::size_t>(e)], 0U) << token_error_name(e);
}

TEST(TokenFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "token"))
        EXPECT_EQ(run(in.bytes), "") << in.name;
}

TEST(TokenFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / "token"))
        for (std::size_t n = 0; n < in.bytes.size(); n += 1 + n / 16)
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

using namespace std::string_view_literals;

// What means something to the token and payload codecs.
constexpr std::array<std::string_view, 20> kTokens = {
    "."sv,   "&"sv,   "="sv,     "%"sv,     "%2"sv,          "%00"sv,
    "%zz"sv, "-"sv,   "_"sv,     "A"sv,     "+"sv,           "/"sv,
    "="sv,   "v=1"sv, "&exp="sv, "&jti="sv, "&kind=guest"sv, "9223372036854775807"sv,
    "-1"sv,  "\xff"sv};

TEST(TokenFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "token");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x544f4b4e);
    std::array<uint64_t, kTokenErrorCount> seen{};
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        fuzz_regress::mutate(m, seeds, kTokens, rng);
        ASSERT_EQ(run(m), "") << "iteration " << i;
        ++seen[static_cast<std::size_t>(verdict(m))];
        ++seen[static_cast<std::size_t>(verdict(signed_token(m)))];
    }
    // Mutated tokens are refused; mutated payloads, signed, reach every
    // verdict the claims decide.
    for (const TokenError e : {TokenError::None, TokenError::Malformed, TokenError::BadSignature,
                               TokenError::Expired, TokenError::TooLong, TokenError::WrongAudience})
        EXPECT_GT(seen[static_cast<std::size_t>(e)], 0U) << token_error_name(e);
}

}  // namespace
}  // namespace isthmus::token::fuzz
