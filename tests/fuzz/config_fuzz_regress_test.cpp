// The configuration fuzz property (config_fuzz_check.hpp) for both loaders
// in CI, without clang: every seed of tests/fuzz/corpus/wwsf_config and
// tests/fuzz/corpus/pcscf_config (the shipped configs/isthmus.toml, and
// configurations using every key and the test files of tests/fuzz/files),
// every saved crash of tests/fuzz/regressions/{wwsf,pcscf}_config, every
// prefix of each seed, and a fixed-seed mutation loop over the seeds.
//
// The directories come from $ISTHMUS_CONFIG_FUZZ_DIR (set by meson test),
// else tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "config_fuzz_check.hpp"
#include "fuzz_regress.hpp"
#include "pcscf/daemon_config.hpp"
#include "wwsf/config.hpp"

namespace isthmus::config_fuzz {
namespace {

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_CONFIG_FUZZ_DIR");
}

std::string files() {
    return files_dir(std::filesystem::absolute(fuzz_dir()).string());
}

struct Wwsf {
    static constexpr const char* kName = "wwsf_config";
    static constexpr int kIterations = 2000;
    static std::string run(std::string_view text) {
        return check_input<wwsf::WwsfConfigError>(
            text, files(), [](const std::string& t, const std::string& origin) {
                return wwsf::load_wwsf_text(t, origin);
            });
    }
    static std::string outcome_of(std::string_view text) {
        return outcome<wwsf::WwsfConfigError>(expand(text, files()),
                                              [](const std::string& t, const std::string& origin) {
                                                  return wwsf::load_wwsf_text(t, origin);
                                              });
    }
};

struct Pcscf {
    static constexpr const char* kName = "pcscf_config";
    static constexpr int kIterations = 2000;
    static std::string run(std::string_view text) {
        return check_input<pcscf::PcscfConfigError>(
            text, files(), [](const std::string& t, const std::string& origin) {
                return pcscf::load_pcscf_text(t, origin);
            });
    }
    static std::string outcome_of(std::string_view text) {
        return outcome<pcscf::PcscfConfigError>(
            expand(text, files()), [](const std::string& t, const std::string& origin) {
                return pcscf::load_pcscf_text(t, origin);
            });
    }
};

template <class T>
class ConfigFuzzRegress : public ::testing::Test {};
using Loaders = ::testing::Types<Wwsf, Pcscf>;
TYPED_TEST_SUITE(ConfigFuzzRegress, Loaders);

TYPED_TEST(ConfigFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / TypeParam::kName);
    ASSERT_GE(corpus.size(), 5U) << "corpus not found under " << fuzz_dir();
    for (const Input& in : corpus) {
        EXPECT_EQ(TypeParam::run(in.bytes), "") << in.name;
        // The seeds load, but those named refused_*.
        const std::string got = TypeParam::outcome_of(in.bytes);
        if (in.name.starts_with("refused_"))
            EXPECT_TRUE(got.starts_with("E:")) << in.name << ": " << got;
        else
            EXPECT_EQ(got, "") << in.name;
    }
}

TYPED_TEST(ConfigFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / TypeParam::kName))
        EXPECT_EQ(TypeParam::run(in.bytes), "") << in.name;
}

TYPED_TEST(ConfigFuzzRegress, EveryPrefixOfEverySeed) {
    for (const Input& in : load(fuzz_dir() / "corpus" / TypeParam::kName))
        for (std::size_t n = 0; n < in.bytes.size(); n += 1 + n / 64)
            ASSERT_EQ(TypeParam::run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

using namespace std::string_view_literals;

// What means something to TOML and to the loaders.
constexpr std::array<std::string_view, 36> kTokens = {"\n"sv,
                                                      "["sv,
                                                      "]"sv,
                                                      "[["sv,
                                                      "]]"sv,
                                                      "="sv,
                                                      "\""sv,
                                                      "'"sv,
                                                      "\"\"\""sv,
                                                      "\\u0000"sv,
                                                      "\\"sv,
                                                      "#"sv,
                                                      ","sv,
                                                      "{"sv,
                                                      "}"sv,
                                                      "."sv,
                                                      "true"sv,
                                                      "0"sv,
                                                      "-1"sv,
                                                      "65536"sv,
                                                      "1.5"sv,
                                                      "9223372036854775807"sv,
                                                      "1979-05-27"sv,
                                                      "[pcscf]\n"sv,
                                                      "[wwsf]\n"sv,
                                                      "[dataplane]\n"sv,
                                                      "\"::\""sv,
                                                      "\"[::1]:0\""sv,
                                                      "\"0.0.0.0:99999\""sv,
                                                      "\"udp:[::1]:5060\""sv,
                                                      "@FILES@/"sv,
                                                      "\"\""sv,
                                                      "{0001..9999}"sv,
                                                      "sip:"sv,
                                                      "wss://"sv,
                                                      "https://x/"sv};

TYPED_TEST(ConfigFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / TypeParam::kName);
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x544f4d4c);
    uint64_t loaded = 0;
    std::map<std::string, uint64_t> keys;  // the keys refused
    for (int i = 0; i < TypeParam::kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        fuzz_regress::mutate(m, seeds, kTokens, rng);
        ASSERT_EQ(TypeParam::run(m), "") << "iteration " << i;
        const std::string got = TypeParam::outcome_of(m);
        if (got.empty()) {
            ++loaded;
        } else {
            // "E:fuzz.toml: pcscf.w2.ws: ..." -> "pcscf.w2.ws"
            const std::size_t from = got.find(": ");
            const std::size_t to = got.find(": ", from + 2);
            if (from != std::string::npos) ++keys[got.substr(from + 2, to - from - 2)];
        }
    }
    // A share still loads, and the refusals name many keys.
    EXPECT_GT(loaded, static_cast<uint64_t>(TypeParam::kIterations / 20));
    EXPECT_GE(keys.size(), 15U);
}

}  // namespace
}  // namespace isthmus::config_fuzz
