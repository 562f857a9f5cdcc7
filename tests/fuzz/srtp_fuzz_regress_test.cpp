// The SRTP fuzz property (srtp_fuzz_check.hpp) in CI, without clang: every
// seed of tests/fuzz/corpus/srtp (a received SRTP and SRTCP packet of each
// suite, protected with the check's key, and a plain RTP and RTCP packet of
// each to protect, mutate and unprotect), every saved crash of
// tests/fuzz/regressions/srtp, every prefix of each seed, and a fixed-seed
// mutation loop over the seeds. Each packet is exactly sized so that ASan
// sees any over-read.
//
// The directories come from $ISTHMUS_SRTP_FUZZ_DIR (set by meson test),
// else tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fuzz_regress.hpp"
#include "srtp_fuzz_check.hpp"

namespace isthmus::srtp::fuzz {
namespace {

constexpr int kIterations = 40000;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_SRTP_FUZZ_DIR");
}

std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string run(const std::string& s) {
    return check_input(bytes(s));
}

// What a fresh receiving context says of a raw input's packet.
Status received(const std::string& s) {
    if (s.empty() || (s[0] & kMutate) != 0) return Status::Ok;
    const auto ctl = static_cast<uint8_t>(s[0]);
    Engine& e = engine(false);
    auto rx = fresh_context(e, kAllSuites[(ctl & 7) % kSuiteCount]);
    Buffer b(bytes(s).subspan(1), 0);
    PacketOp op = b.op(rx.get());
    unprotect(e, (ctl & kRtcp) != 0, std::span(&op, 1));
    return op.status;
}

TEST(SrtpFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "srtp");
    ASSERT_GE(corpus.size(), 24U) << "corpus not found under " << fuzz_dir();
    for (const Input& in : corpus) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        // The received packets are protected with the check's key.
        EXPECT_EQ(received(in.bytes), Status::Ok) << in.name;
    }
}

TEST(SrtpFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "srtp"))
        EXPECT_EQ(run(in.bytes), "") << in.name;
}

TEST(SrtpFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / "srtp"))
        for (std::size_t n = 0; n < in.bytes.size(); ++n)
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

using namespace std::string_view_literals;

// Octets that mean something to the RTP / RTCP header readers and SRTCP:
// version, CSRC count and X bit, extension profiles and lengths, RTCP
// packet types, the E bit with an index.
constexpr std::array<std::string_view, 16> kTokens = {"\x80"sv,
                                                      "\x90"sv,
                                                      "\x8f"sv,
                                                      "\x9f"sv,
                                                      "\x40"sv,
                                                      "\xbe\xde"sv,
                                                      "\x10\x00"sv,
                                                      "\xff\xff"sv,
                                                      "\x00\x00"sv,
                                                      "\xc8"sv,
                                                      "\xc9"sv,
                                                      "\xcb"sv,
                                                      "\xcc"sv,
                                                      "\x00"sv,
                                                      "\x80\x00\x00\x01"sv,
                                                      "\x00\x00\x00\x01"sv};

TEST(SrtpFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "srtp");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x53525450);
    std::array<uint64_t, kStatusCount> seen{};
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        const char ctl = m[0];
        fuzz_regress::mutate(m, seeds, kTokens, rng);
        // Mostly keep the mode: the mutations are for the packet.
        if (!m.empty() && rng() % 8 != 0) m[0] = ctl;
        ASSERT_EQ(run(m), "") << "iteration " << i;
        ++seen[static_cast<std::size_t>(received(m))];
    }
    // Raw packets reach every refusal unprotect has for a fresh context.
    for (const Status s :
         {Status::AuthFail, Status::TooShort, Status::BadVersion, Status::BadHeader})
        EXPECT_GT(seen[static_cast<std::size_t>(s)], 0U) << status_name(s);
}

}  // namespace
}  // namespace isthmus::srtp::fuzz
