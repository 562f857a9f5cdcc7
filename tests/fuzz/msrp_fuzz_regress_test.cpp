// The MSRP fuzz property (msrp_fuzz_check.hpp) in CI, without clang: every
// seed of tests/fuzz/corpus/msrp (the RFC 4975 / 4976 messages of the unit
// tests, octet for octet, and a few more: a pipelined stream, chunks,
// relays, IPv6, bodies that hold CRLF, NUL and look-alike end lines),
// every saved crash of tests/fuzz/regressions/msrp, every prefix of each
// seed, and a fixed-seed mutation loop over the seeds (bit flips, start
// lines, header names, end lines and URI pieces inserted or overwritten,
// truncation, deleted ranges, duplicated, removed and spliced lines,
// changed digits, random octets). Each input is exactly sized so that ASan
// sees any over-read.
//
// The directories come from $ISTHMUS_MSRP_FUZZ_DIR (set by meson test),
// else tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fuzz_regress.hpp"
#include "msrp_fuzz_check.hpp"

namespace isthmus::msrp::fuzz {
namespace {

constexpr int kIterations = 6000;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_MSRP_FUZZ_DIR");
}

std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string run(const std::string& s) {
    return check_input(bytes(s));
}

TEST(MsrpFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "msrp");
    ASSERT_GE(corpus.size(), 12U) << "corpus not found under " << fuzz_dir();
    std::size_t framed = 0;
    for (const Input& in : corpus) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        // The seeds are whole MSRP messages (one, or a stream of several).
        StreamFramer f;
        std::vector<Message> out;
        EXPECT_EQ(f.feed(in.bytes, out), ParseError::None) << in.name << ": " << f.reason();
        EXPECT_EQ(f.buffered(), 0U) << in.name;
        EXPECT_FALSE(out.empty()) << in.name;
        framed += out.size();
    }
    EXPECT_GT(framed, corpus.size());  // the stream seed holds several
}

TEST(MsrpFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "msrp"))
        EXPECT_EQ(run(in.bytes), "") << in.name;
}

TEST(MsrpFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / "msrp"))
        for (std::size_t n = 0; n < in.bytes.size(); ++n)
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

using namespace std::string_view_literals;

// Octets that mean something to an MSRP parser: start lines, the typed
// header names and values, line ends (bare CR and LF too), end lines and
// their flags, URI pieces.
constexpr std::array<std::string_view, 40> kTokens = {
    "MSRP "sv,
    "MSRP a786hjs2 "sv,
    " SEND\r\n"sv,
    " REPORT\r\n"sv,
    " AUTH\r\n"sv,
    " 200 OK\r\n"sv,
    " 481\r\n"sv,
    "To-Path: "sv,
    "From-Path: "sv,
    "Message-ID: "sv,
    "Byte-Range: 1-*/*\r\n"sv,
    "Byte-Range: 1-0/0\r\n"sv,
    "Byte-Range: 18446744073709551615-*/*\r\n"sv,
    "Success-Report: yes\r\n"sv,
    "Failure-Report: partial\r\n"sv,
    "Status: 000 200 OK\r\n"sv,
    "Content-Type: text/plain\r\n"sv,
    "Content-Type: message/cpim; charset=\"utf-8\"\r\n"sv,
    "\r\n"sv,
    "\r\n\r\n"sv,
    "\r"sv,
    "\n"sv,
    "-------"sv,
    "-------a786hjs2$\r\n"sv,
    "$\r\n"sv,
    "+\r\n"sv,
    "#\r\n"sv,
    "msrp://"sv,
    "msrps://"sv,
    "alice@"sv,
    "[2001:db8::1]"sv,
    "192.0.2.1"sv,
    ":2855"sv,
    ":65536"sv,
    "/s3ss10n"sv,
    ";tcp"sv,
    ";ws"sv,
    " "sv,
    "\t"sv,
    "\x00"sv};

TEST(MsrpFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "msrp");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x4d535250);
    std::array<uint64_t, kParseErrorCount> seen{};
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        fuzz_regress::mutate(m, seeds, kTokens, rng);
        ASSERT_EQ(run(m), "") << "iteration " << i;
        ++seen[static_cast<std::size_t>(parse_message(m, limit_sets()[1].limits).error)];
        StreamFramer tight(limit_sets()[2].limits);
        std::vector<Message> out;
        ++seen[static_cast<std::size_t>(tight.feed(m, out))];
    }
    // Every error is reached, and a fair share of mutations still parses.
    for (std::size_t k = 0; k < seen.size(); ++k)
        EXPECT_GT(seen[k], 0U) << parse_error_name(static_cast<ParseError>(k));
    EXPECT_GT(seen[0], static_cast<uint64_t>(kIterations / 20));
}

}  // namespace
}  // namespace isthmus::msrp::fuzz
