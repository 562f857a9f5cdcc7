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

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sdp_fuzz_check.hpp"

namespace isthmus::sdp::fuzz {
namespace {

constexpr int kIterations = 40000;

std::filesystem::path fuzz_dir() {
    const char* env = std::getenv("ISTHMUS_SDP_FUZZ_DIR");
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

std::vector<std::size_t> line_starts(const std::string& m) {
    std::vector<std::size_t> out = {0};
    for (std::size_t i = 0; i + 1 < m.size(); ++i)
        if (m[i] == '\n') out.push_back(i + 1);
    return out;
}

std::string line_at(const std::string& m, std::size_t s) {
    const std::size_t e = m.find('\n', s);
    return m.substr(s, e == std::string::npos ? e : e + 1 - s);
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
                m.insert(s, line_at(m, s));
                break;
            }
            case 6: {  // remove a line
                const auto starts = line_starts(m);
                const std::size_t s = starts[pick(starts.size())];
                m.erase(s, line_at(m, s).size());
                break;
            }
            case 7: {  // splice in a line of another seed
                const std::string& other = seeds[pick(seeds.size())].bytes;
                const auto starts = line_starts(other);
                const auto at = line_starts(m);
                m.insert(at[pick(at.size())], line_at(other, starts[pick(starts.size())]));
                break;
            }
            case 8:  // change a digit (ports, payload types, priorities, tags)
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
