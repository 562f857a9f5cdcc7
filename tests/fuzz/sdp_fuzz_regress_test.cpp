// The SDP parser fuzz property (sdp_fuzz_check.hpp) in CI, without clang:
// every seed of tests/fuzz/corpus/sdp, every saved crash of
// tests/fuzz/regressions/sdp, every prefix of each seed, and a fixed-seed
// mutation loop over the seeds (byte flips, SDP-meaningful insertions,
// truncation, line duplication, deletion and splicing between seeds). Each
// input is exactly sized so that ASan sees any over-read.
//
// The directories come from $ISTHMUS_SDP_FUZZ_DIR (set by meson test), else
// tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fuzz_regress.hpp"
#include "sdp_fuzz_check.hpp"

namespace isthmus::sdp::fuzz {
namespace {

constexpr int kIterations = 40000;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_SDP_FUZZ_DIR");
}

std::string run(const std::string& bytes) {
    const std::string exact(bytes);  // its own exactly sized allocation
    return check_input(exact);
}

TEST(SdpFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "sdp");
    ASSERT_GE(corpus.size(), 10U) << "corpus not found under " << fuzz_dir();
    std::size_t ok = 0;
    std::size_t exact = 0;
    for (const Input& in : corpus) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        const ParseResult r = parse_sdp(in.bytes);
        ok += r.ok();
        exact += well_formed(in.bytes);
    }
    // The seeds are valid descriptions, all but the LF one well formed.
    EXPECT_EQ(ok, corpus.size());
    EXPECT_EQ(exact, corpus.size() - 1);
}

TEST(SdpFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "sdp"))
        EXPECT_EQ(run(in.bytes), "") << in.name;
}

TEST(SdpFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / "sdp"))
        for (std::size_t n = 0; n < in.bytes.size(); ++n)
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

// Byte sequences that mean something to an SDP parser.
constexpr std::array<std::string_view, 40> kTokens = {"\r\n",
                                                      "\n",
                                                      "\r",
                                                      "\r\n\r\n",
                                                      " ",
                                                      "\t",
                                                      "=",
                                                      ":",
                                                      "/",
                                                      ";",
                                                      "|",
                                                      "^",
                                                      "\0",
                                                      "v=0\r\n",
                                                      "o=- 1 1 IN IP4 x\r\n",
                                                      "s=-\r\n",
                                                      "t=0 0\r\n",
                                                      "c=IN IP6 ::",
                                                      "m=audio 9 RTP/AVP",
                                                      " 0 8",
                                                      "/2",
                                                      "65536",
                                                      "a=",
                                                      "a=rtpmap:",
                                                      "a=fmtp:",
                                                      "a=rtcp:",
                                                      "a=crypto:",
                                                      "a=candidate:",
                                                      " typ host",
                                                      " raddr ",
                                                      " rport ",
                                                      "inline:",
                                                      "|2^31|1:4",
                                                      "a=fingerprint:",
                                                      ":AB",
                                                      "a=group:",
                                                      "a=sendonly",
                                                      "a=setup:",
                                                      "b=AS:",
                                                      "\xff\xfe"};

void mutate(std::string& m, const std::vector<Input>& seeds, std::mt19937& rng) {
    fuzz_regress::mutate(m, seeds, kTokens, rng);
}

TEST(SdpFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "sdp");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x53445021);
    std::array<uint64_t, kParseErrorCount> outcomes{};
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        mutate(m, seeds, rng);
        const std::string err = run(m);
        ASSERT_EQ(err, "") << "iteration " << i;
        ++outcomes[static_cast<std::size_t>(parse_sdp(m).error)];
    }
    // A fair share still parses, a fair share is refused, and the refusals
    // reach most kinds of error.
    EXPECT_GT(outcomes[0], static_cast<uint64_t>(kIterations / 10));
    EXPECT_LT(outcomes[0], static_cast<uint64_t>(kIterations * 9 / 10));
    const auto kinds =
        std::count_if(outcomes.begin() + 1, outcomes.end(), [](uint64_t n) { return n > 0; });
    EXPECT_GE(kinds, 10);
}

}  // namespace
}  // namespace isthmus::sdp::fuzz
