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

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sip_fuzz_check.hpp"

namespace isthmus::sip::fuzz {
namespace {

constexpr int kIterations = 40000;

std::filesystem::path fuzz_dir() {
    const char* env = std::getenv("ISTHMUS_SIP_FUZZ_DIR");
    return env ? std::filesystem::path(env) : std::filesystem::path("tests/fuzz");
}

struct Input {
    std::string name;
    std::string bytes;
};

std::vector<Input> load(const std::filesystem::path& dir) {
    std::vector<Input> out;
    if (!std::filesystem::is_directory(dir)) return out;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (!entry.is_regular_file() || entry.path().filename().string().front() == '.') continue;
        std::string bytes(static_cast<std::size_t>(entry.file_size()), '\0');
        std::ifstream in(entry.path(), std::ios::binary);
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.push_back({entry.path().filename().string(), std::move(bytes)});
    }
    std::sort(out.begin(), out.end(),
              [](const Input& a, const Input& b) { return a.name < b.name; });
    return out;
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

std::vector<std::size_t> line_starts(const std::string& m) {
    std::vector<std::size_t> out = {0};
    for (std::size_t i = 0; i + 1 < m.size(); ++i)
        if (m[i] == '\n') out.push_back(i + 1);
    return out;
}

void mutate(std::string& m, const std::vector<Input>& seeds, std::mt19937& rng) {
    auto pick = [&rng](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
    const int rounds = 1 + static_cast<int>(rng() % 4);
    for (int r = 0; r < rounds; ++r) {
        switch (rng() % 10) {
            case 0:  // flip a bit
                if (!m.empty()) m[pick(m.size())] ^= static_cast<char>(1u << (rng() % 8));
                break;
            case 1: {  // insert a meaningful token
                const auto t = kTokens[pick(kTokens.size())];
                m.insert(pick(m.size() + 1), t);
                break;
            }
            case 2:  // overwrite with a token
                if (!m.empty()) {
                    const auto t = kTokens[pick(kTokens.size())];
                    const std::size_t at = pick(m.size());
                    m.replace(at, std::min(t.size(), m.size() - at), t);
                }
                break;
            case 3:  // truncate
                m.resize(pick(m.size() + 1));
                break;
            case 4: {  // delete a range
                const std::size_t at = pick(m.size() + 1);
                m.erase(at, pick(32));
                break;
            }
            case 5: {  // duplicate a line
                const auto starts = line_starts(m);
                const std::size_t s = starts[pick(starts.size())];
                const std::size_t e = m.find('\n', s);
                const std::string line = m.substr(s, e == std::string::npos ? e : e + 1 - s);
                m.insert(s, line);
                break;
            }
            case 6: {  // remove a line
                const auto starts = line_starts(m);
                const std::size_t s = starts[pick(starts.size())];
                const std::size_t e = m.find('\n', s);
                m.erase(s, e == std::string::npos ? e : e + 1 - s);
                break;
            }
            case 7: {  // splice in a line of another seed
                const std::string& other = seeds[pick(seeds.size())].bytes;
                const auto starts = line_starts(other);
                const std::size_t s = starts[pick(starts.size())];
                const std::size_t e = other.find('\n', s);
                const auto at = line_starts(m);
                m.insert(at[pick(at.size())],
                         other.substr(s, e == std::string::npos ? e : e + 1 - s));
                break;
            }
            case 8:  // change a digit (Content-Length, CSeq, ports, status codes)
                for (int tries = 0; tries < 16 && !m.empty(); ++tries) {
                    const std::size_t at = pick(m.size());
                    if (m[at] >= '0' && m[at] <= '9') {
                        m[at] = static_cast<char>('0' + rng() % 10);
                        break;
                    }
                }
                break;
            default:  // random octets
                for (std::size_t n = 1 + pick(8); n > 0; --n)
                    m.insert(m.begin() + static_cast<long>(pick(m.size() + 1)),
                             static_cast<char>(rng()));
                break;
        }
    }
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
