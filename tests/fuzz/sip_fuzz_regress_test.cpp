// The SIP parser fuzz property (sip_fuzz_check.hpp) in CI, without clang:
// every seed of tests/fuzz/corpus/sip, every saved crash of
// tests/fuzz/regressions/sip, every prefix of each seed, and a fixed-seed
// mutation loop over the seeds (byte flips, SIP-meaningful insertions,
// truncation, line duplication, deletion and splicing between seeds). Each
// input is exactly sized so that ASan sees any over-read.
//
// The directories come from $ISTHMUS_SIP_FUZZ_DIR (set by meson test), else
// tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fuzz_regress.hpp"
#include "sip_fuzz_check.hpp"

namespace isthmus::sip::fuzz {
namespace {

constexpr int kIterations = 40000;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_SIP_FUZZ_DIR");
}

std::string run(const std::string& bytes) {
    const std::string exact(bytes);  // its own exactly sized allocation
    return check_input(exact);
}

TEST(SipFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "sip");
    ASSERT_GE(corpus.size(), 12U) << "corpus not found under " << fuzz_dir();
    std::size_t ok = 0;
    for (const Input& in : corpus) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        ok += parse_message(in.bytes, Framing::Stream).status == ParseStatus::Ok;
    }
    // The seeds are valid messages: each parses (on a stream, the first one).
    EXPECT_EQ(ok, corpus.size());
}

TEST(SipFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "sip"))
        EXPECT_EQ(run(in.bytes), "") << in.name;
}

TEST(SipFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / "sip"))
        for (std::size_t n = 0; n < in.bytes.size(); ++n)
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

// Byte sequences that mean something to a SIP parser.
constexpr std::array<std::string_view, 36> kTokens = {"\r\n",
                                                      "\r\n ",
                                                      "\r\n\r\n",
                                                      "\r",
                                                      "\n",
                                                      " ",
                                                      "\t",
                                                      ":",
                                                      ";",
                                                      ",",
                                                      "\"",
                                                      "\\",
                                                      "<",
                                                      ">",
                                                      "[",
                                                      "]",
                                                      "%",
                                                      "%4",
                                                      "%00",
                                                      "@",
                                                      "=",
                                                      "?",
                                                      "&",
                                                      "/",
                                                      "*",
                                                      "sip:",
                                                      "tel:",
                                                      "SIP/2.0",
                                                      ";branch=z9hG4bK",
                                                      ";rport",
                                                      ";tag=",
                                                      "Content-Length: ",
                                                      "l: 99999\r\n",
                                                      "v: ",
                                                      "[::1]",
                                                      "\xff\xfe"};

void mutate(std::string& m, const std::vector<Input>& seeds, std::mt19937& rng) {
    fuzz_regress::mutate(m, seeds, kTokens, rng);
}

TEST(SipFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "sip");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x53495021);
    std::array<uint64_t, 3> outcomes{};  // Ok, Incomplete, Error on a stream
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        mutate(m, seeds, rng);
        const std::string err = run(m);
        ASSERT_EQ(err, "") << "iteration " << i;
        ++outcomes[static_cast<std::size_t>(parse_message(m, Framing::Stream).status)];
    }
    // The mutations reach every outcome, and a fair share still parses.
    EXPECT_GT(outcomes[0], static_cast<uint64_t>(kIterations / 10));
    EXPECT_GT(outcomes[1], 0U);
    EXPECT_GT(outcomes[2], static_cast<uint64_t>(kIterations / 10));
}

}  // namespace
}  // namespace isthmus::sip::fuzz
