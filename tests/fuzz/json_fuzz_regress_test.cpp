// The WWSF JSON fuzz property (json_fuzz_check.hpp) in CI, without clang:
// every seed of tests/fuzz/corpus/json (request and response bodies,
// escapes, UTF-8, every kind of scalar), every saved crash of
// tests/fuzz/regressions/json, every prefix of each seed, and a fixed-seed
// mutation loop over the seeds. Each input is exactly sized so that ASan
// sees any over-read.
//
// The directories come from $ISTHMUS_JSON_FUZZ_DIR (set by meson test),
// else tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fuzz_regress.hpp"
#include "json_fuzz_check.hpp"

namespace isthmus::wwsf::fuzz {
namespace {

constexpr int kIterations = 40000;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_JSON_FUZZ_DIR");
}

std::string run(const std::string& bytes) {
    const std::string exact(bytes);  // its own exactly sized allocation
    return check_input(exact);
}

TEST(JsonFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "json");
    ASSERT_GE(corpus.size(), 10U) << "corpus not found under " << fuzz_dir();
    for (const Input& in : corpus) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        std::string error;
        EXPECT_TRUE(parse_json_object(in.bytes, error)) << in.name << ": " << error;
    }
}

TEST(JsonFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "json"))
        EXPECT_EQ(run(in.bytes), "") << in.name;
}

TEST(JsonFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / "json"))
        for (std::size_t n = 0; n < in.bytes.size(); ++n)
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

using namespace std::string_view_literals;

// What means something to a JSON reader.
constexpr std::array<std::string_view, 32> kTokens = {"{"sv,
                                                      "}"sv,
                                                      "["sv,
                                                      "]"sv,
                                                      ":"sv,
                                                      ","sv,
                                                      "\""sv,
                                                      "\\"sv,
                                                      "\\u"sv,
                                                      "\\ud83d"sv,
                                                      "\\ude00"sv,
                                                      "\\u0000"sv,
                                                      "\\x"sv,
                                                      "true"sv,
                                                      "false"sv,
                                                      "null"sv,
                                                      "-"sv,
                                                      "0"sv,
                                                      "."sv,
                                                      "e+"sv,
                                                      "E-"sv,
                                                      " "sv,
                                                      "\t"sv,
                                                      "\n"sv,
                                                      "\x01"sv,
                                                      "\xc3\xa9"sv,
                                                      "\xed\xa0\x80"sv,
                                                      "\xf4\x90\x80\x80"sv,
                                                      "\xc0\x80"sv,
                                                      "\xff"sv,
                                                      "\"a\":1,"sv,
                                                      "\"a\":\"b\","sv};

TEST(JsonFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "json");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x4a534f4e);
    std::map<std::string, uint64_t> errors;
    uint64_t ok = 0;
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        fuzz_regress::mutate(m, seeds, kTokens, rng);
        ASSERT_EQ(run(m), "") << "iteration " << i;
        std::string error;
        if (parse_json_object(m, error))
            ++ok;
        else
            ++errors[error.substr(0, error.find('"'))];
    }
    // A fair share still parses, and the refusals reach most of the reader's
    // errors.
    EXPECT_GT(ok, static_cast<uint64_t>(kIterations / 20));
    EXPECT_GE(errors.size(), 12U);
}

}  // namespace
}  // namespace isthmus::wwsf::fuzz
