// The packet fuzz property (pkt_fuzz_check.hpp) in CI, without clang: every
// seed of tests/fuzz/corpus/pkt (Ethernet frames: IPv4 and IPv6 UDP with
// STUN, RTP, RTCP and DTLS payloads, and frames for the kernel), every saved
// crash of tests/fuzz/regressions/pkt, every prefix of each seed, and a
// fixed-seed mutation loop over the seeds. Each input is exactly sized so
// that ASan sees any over-read.
//
// The directories come from $ISTHMUS_PKT_FUZZ_DIR (set by meson test), else
// tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fuzz_regress.hpp"
#include "pkt_fuzz_check.hpp"

namespace isthmus::pkt::fuzz {
namespace {

constexpr int kIterations = 40000;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_PKT_FUZZ_DIR");
}

std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string run(const std::string& s) {
    return check_input(bytes(s));
}

// The parser's outcome: Udp, Exception, or the drop reason.
std::size_t outcome(const std::string& s) {
    Frame f;
    const Verdict v = parse_frame(bytes(s).data(), s.size(), f);
    if (v == Verdict::Udp) return 0;
    if (v == Verdict::Exception) return 1;
    return 1 + static_cast<std::size_t>(f.drop);
}

// Recomputes the IPv4 header and UDP checksums of a mutated frame (where
// the lengths allow), so that mutations get past them.
void fix_checksums(std::string& s) {
    std::vector<uint8_t> d(s.begin(), s.end());
    if (d.size() < 14 + 20 || be16(&d[12]) != 0x0800) return;
    const std::size_t ihl = 4u * (d[14] & 0x0fu);
    if (ihl < 20 || 14 + ihl + 8 > d.size()) return;
    d[24] = d[25] = 0;
    const uint16_t ip = fold_checksum(ones_complement_add(&d[14], ihl, 0));
    d[24] = static_cast<uint8_t>(ip >> 8);
    d[25] = static_cast<uint8_t>(ip);
    const std::size_t l4 = 14 + ihl;
    const std::size_t udp_len = be16(&d[l4 + 4]);
    if (d[23] != 17 || udp_len < 8 || l4 + udp_len > d.size()) return;
    d[l4 + 6] = d[l4 + 7] = 0;
    uint32_t sum = ones_complement_add(&d[26], 8, 17 + static_cast<uint32_t>(udp_len));
    uint16_t c = fold_checksum(ones_complement_add(&d[l4], udp_len, sum));
    if (c == 0) c = 0xffff;
    d[l4 + 6] = static_cast<uint8_t>(c >> 8);
    d[l4 + 7] = static_cast<uint8_t>(c);
    s.assign(d.begin(), d.end());
}

TEST(PktFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "pkt");
    ASSERT_GE(corpus.size(), 12U) << "corpus not found under " << fuzz_dir();
    std::size_t udp = 0;
    for (const Input& in : corpus) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        udp += outcome(in.bytes) == 0;
    }
    EXPECT_GE(udp, 8U);  // the media frames; the rest are the kernel's or dropped
}

TEST(PktFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "pkt"))
        EXPECT_EQ(run(in.bytes), "") << in.name;
}

TEST(PktFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / "pkt"))
        for (std::size_t n = 0; n < in.bytes.size(); ++n)
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

using namespace std::string_view_literals;

// Octets that mean something to the parsers: ethertypes, IP version and
// header length, protocols, fragment bits, first octets of each demux class.
constexpr std::array<std::string_view, 20> kTokens = {
    "\x08\x00"sv, "\x86\xdd"sv, "\x81\x00"sv, "\x08\x06"sv, "\x45"sv,
    "\x4f"sv,     "\x46"sv,     "\x60"sv,     "\x11"sv,     "\x2c"sv,
    "\x3a"sv,     "\x20\x00"sv, "\x00\x00"sv, "\xff\xff"sv, "\xe0"sv,
    "\x80\xc8"sv, "\x90"sv,     "\x9f"sv,     "\x16\xfe"sv, "\x00\x01"sv};

TEST(PktFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "pkt");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x504b5421);
    std::array<uint64_t, 1 + kDropCount> seen{};
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        fuzz_regress::mutate(m, seeds, kTokens, rng);
        if (rng() % 2 == 0) fix_checksums(m);
        ASSERT_EQ(run(m), "") << "iteration " << i;
        ++seen[outcome(m)];
    }
    // Every outcome is reached (index 1: Exception; then each drop reason
    // after None), and a fair share of frames still parses.
    EXPECT_GT(seen[0], static_cast<uint64_t>(kIterations / 10));
    for (std::size_t k = 1; k < seen.size(); ++k)
        EXPECT_GT(seen[k], 0U) << "outcome " << k;
}

}  // namespace
}  // namespace isthmus::pkt::fuzz
