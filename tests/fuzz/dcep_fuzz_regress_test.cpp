// The DCEP fuzz property (dcep_fuzz_check.hpp) in CI, without clang: every
// seed of tests/fuzz/corpus/dcep (OPENs of each channel type, with and
// without label and protocol, and an ACK), every saved crash of
// tests/fuzz/regressions/dcep, every prefix of each seed, and a fixed-seed
// mutation loop over the seeds (bit flips, message types, channel types
// and lengths inserted or overwritten, truncation, deleted ranges, random
// octets). Each input is exactly sized so that ASan sees any over-read.
//
// The directories come from $ISTHMUS_DCEP_FUZZ_DIR (set by meson test),
// else tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "dcep_fuzz_check.hpp"
#include "fuzz_regress.hpp"

namespace isthmus::datachannel::fuzz {
namespace {

constexpr int kIterations = 100000;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_DCEP_FUZZ_DIR");
}

std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string run(const std::string& s) {
    return check_input(bytes(s));
}

DcepError error_of(const std::string& s) {
    const std::vector<uint8_t> exact(s.begin(), s.end());
    return parse_dcep(exact).error;
}

TEST(DcepFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "dcep");
    ASSERT_GE(corpus.size(), 8U) << "corpus not found under " << fuzz_dir();
    for (const Input& in : corpus) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        // The seeds are valid DCEP messages, as a browser sends them.
        EXPECT_EQ(error_of(in.bytes), DcepError::None) << in.name;
    }
}

TEST(DcepFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "dcep"))
        EXPECT_EQ(run(in.bytes), "") << in.name;
}

TEST(DcepFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / "dcep"))
        for (std::size_t n = 0; n < in.bytes.size(); ++n)
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

// A label and a protocol over 65535 octets are cut to 65535 (dcep.hpp),
// which the fuzz inputs are too short to reach.
TEST(DcepFuzzRegress, OverlongLabelAndProtocolAreCut) {
    OpenMessage o;
    o.channel_type = ChannelType::PartialReliableTimed;
    o.reliability = 3000;
    o.label.assign(70000, 'l');
    o.protocol.assign(65536, 'p');
    const std::vector<uint8_t> w = write_open(o);
    ASSERT_EQ(w.size(), kOpenFixed + 2 * 65535U);
    const DcepMessage m = parse_dcep(w);
    ASSERT_TRUE(m.ok()) << dcep_error_name(m.error);
    EXPECT_EQ(m.open.label, o.label.substr(0, 65535));
    EXPECT_EQ(m.open.protocol, o.protocol.substr(0, 65535));
    EXPECT_EQ(run(std::string(w.begin(), w.end())), "");
}

using namespace std::string_view_literals;

// Octets that mean something to DCEP: the message types, every channel
// type (and undefined ones), priorities, lengths of every size.
constexpr std::array<std::string_view, 22> kTokens = {"\x03"sv,
                                                      "\x02"sv,
                                                      "\x01"sv,
                                                      "\x00"sv,
                                                      "\x80"sv,
                                                      "\x81"sv,
                                                      "\x82"sv,
                                                      "\x83"sv,
                                                      "\x7f"sv,
                                                      "\xff"sv,
                                                      "\x00\x00"sv,
                                                      "\x00\x01"sv,
                                                      "\x00\x04"sv,
                                                      "\x01\x00"sv,
                                                      "\xff\xff"sv,
                                                      "\x80\x00"sv,
                                                      "\x03\x00"sv,
                                                      "\x03\x82"sv,
                                                      "\x00\x00\x0b\xb8"sv,
                                                      "msrp"sv,
                                                      "chat"sv,
                                                      "\x00\x04\x00\x04"sv};

TEST(DcepFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "dcep");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x44434550);
    std::array<uint64_t, kDcepErrorCount> seen{};
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        fuzz_regress::mutate(m, seeds, kTokens, rng);
        ASSERT_EQ(run(m), "") << "iteration " << i;
        ++seen[static_cast<std::size_t>(error_of(m))];
    }
    // Every reason is reached, and a fair share of mutations still parses.
    for (std::size_t k = 0; k < seen.size(); ++k)
        EXPECT_GT(seen[k], 0U) << dcep_error_name(static_cast<DcepError>(k));
    EXPECT_GT(seen[0], static_cast<uint64_t>(kIterations / 100));
}

}  // namespace
}  // namespace isthmus::datachannel::fuzz
