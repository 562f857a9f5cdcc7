// The STUN fuzz property (stun_fuzz_check.hpp) in CI, without clang: every
// seed of tests/fuzz/corpus/stun, every saved crash of
// tests/fuzz/regressions/stun, every prefix of each seed, and a fixed-seed
// mutation loop over the seeds (bit flips, attribute headers inserted or
// overwritten, truncation, deleted ranges, random octets). Each input is
// exactly sized so that ASan sees any over-read; the check re-signs each
// mutation, so the loop reaches every responder decision.
//
// The directories come from $ISTHMUS_STUN_FUZZ_DIR (set by meson test),
// else tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fuzz_regress.hpp"
#include "stun_fuzz_check.hpp"

namespace isthmus::ice::fuzz {
namespace {

constexpr int kIterations = 100000;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_STUN_FUZZ_DIR");
}

std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string run(const std::string& s) {
    return check_input(bytes(s));
}

// The responder's verdict on the message as it is (or re-signed).
Verdict verdict_of(const std::string& s, bool resigned) {
    const std::vector<uint8_t> m =
        resigned ? resign(bytes(s)) : std::vector<uint8_t>(s.begin(), s.end());
    std::vector<uint8_t> out(kMaxResponseLen);
    return answer_binding(m.data(), m.size(), source(false), credentials(), out.data(), out.size())
        .verdict;
}

TEST(StunFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "stun");
    ASSERT_GE(corpus.size(), 12U) << "corpus not found under " << fuzz_dir();
    for (const Input& in : corpus) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        // The seeds are whole STUN messages, as sent.
        Message m;
        EXPECT_EQ(parse_message(bytes(in.bytes).data(), in.bytes.size(), m), Verdict::Ok)
            << in.name;
    }
}

TEST(StunFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "stun"))
        EXPECT_EQ(run(in.bytes), "") << in.name;
}

TEST(StunFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / "stun"))
        for (std::size_t n = 0; n < in.bytes.size(); ++n)
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

using namespace std::string_view_literals;

// Octet sequences that mean something to a STUN parser: attribute headers
// of every kind the responder reads (right and wrong lengths), the magic
// cookie, the message types.
constexpr std::array<std::string_view, 26> kTokens = {
    "\x00\x06\x00\x09"sv, "\x00\x06\x00\x00"sv, "\x00\x08\x00\x14"sv, "\x00\x08\x00\x10"sv,
    "\x00\x1c\x00\x20"sv, "\x00\x1c\x00\x10"sv, "\x00\x1c\x00\x12"sv, "\x80\x28\x00\x04"sv,
    "\x80\x28\x00\x08"sv, "\x00\x24\x00\x04"sv, "\x00\x24\x00\x08"sv, "\x00\x25\x00\x00"sv,
    "\x00\x25\x00\x04"sv, "\x80\x29\x00\x08"sv, "\x80\x2a\x00\x08"sv, "\x80\x2a\x00\x04"sv,
    "\x00\x20\x00\x08"sv, "\x00\x09\x00\x04"sv, "\x00\x0a\x00\x02"sv, "\x00\x03\x00\x04"sv,
    "\x80\x01\x00\x04"sv, "\x00\x00\x00\x00"sv, "\xff\xff\xff\xff"sv, "\x21\x12\xa4\x42"sv,
    "evtj:h6vY"sv,        "\x00\x11"sv};

TEST(StunFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "stun");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x5354554e);
    std::array<uint64_t, kVerdictCount> seen{};
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        fuzz_regress::mutate(m, seeds, kTokens, rng);
        ASSERT_EQ(run(m), "") << "iteration " << i;
        ++seen[static_cast<std::size_t>(verdict_of(m, false))];
        ++seen[static_cast<std::size_t>(verdict_of(m, true))];
    }
    // The mutations reach the responder's decisions, each at least once
    // (BadSource and NoRoom cannot happen with these calls).
    for (const Verdict v : {Verdict::Ok, Verdict::Indication, Verdict::NotStun, Verdict::BadLength,
                            Verdict::BadAttribute, Verdict::FingerprintNotLast,
                            Verdict::BadFingerprint, Verdict::NoFingerprint, Verdict::NotRequest,
                            Verdict::UnknownMethod, Verdict::MalformedAttribute,
                            Verdict::NoIntegrity, Verdict::NoPriority, Verdict::BadUsername,
                            Verdict::BadIntegrity, Verdict::UnknownRequired, Verdict::RoleConflict})
        EXPECT_GT(seen[static_cast<std::size_t>(v)], 0U) << verdict_name(v);
    EXPECT_GT(seen[static_cast<std::size_t>(Verdict::Ok)],
              static_cast<uint64_t>(kIterations / 100));
}

}  // namespace
}  // namespace isthmus::ice::fuzz
