// What the parsers' fuzz regression tests share (sip_fuzz_regress_test.cpp,
// sdp_fuzz_regress_test.cpp): loading a corpus directory, and the
// fixed-seed mutator that stands in for libFuzzer in CI (byte flips,
// insertions and overwrites of tokens that mean something to the parser,
// truncation, deleted ranges, duplicated, removed and spliced lines, changed
// digits, random octets).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace isthmus::fuzz_regress {

struct Input {
    std::string name;
    std::string bytes;
};

// $ENV (set by meson test), else tests/fuzz relative to the working directory.
inline std::filesystem::path fuzz_dir(const char* env) {
    const char* dir = std::getenv(env);
    return dir ? std::filesystem::path(dir) : std::filesystem::path("tests/fuzz");
}

// Every regular file of `dir` (dot files aside), sorted by name; none when
// the directory does not exist.
inline std::vector<Input> load(const std::filesystem::path& dir) {
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

inline std::vector<std::size_t> line_starts(const std::string& m) {
    std::vector<std::size_t> out = {0};
    for (std::size_t i = 0; i + 1 < m.size(); ++i)
        if (m[i] == '\n') out.push_back(i + 1);
    return out;
}

// The line starting at `s`, its LF included.
inline std::string line_at(const std::string& m, std::size_t s) {
    const std::size_t e = m.find('\n', s);
    return m.substr(s, e == std::string::npos ? e : e + 1 - s);
}

// One to four mutations of `m`; `tokens` are byte sequences that mean
// something to the parser under test, `seeds` the lines to splice in.
inline void mutate(std::string& m, const std::vector<Input>& seeds,
                   std::span<const std::string_view> tokens, std::mt19937& rng) {
    auto pick = [&rng](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
    const int rounds = 1 + static_cast<int>(rng() % 4);
    for (int r = 0; r < rounds; ++r) {
        switch (rng() % 10) {
            case 0:  // flip a bit
                if (!m.empty()) m[pick(m.size())] ^= static_cast<char>(1u << (rng() % 8));
                break;
            case 1: {  // insert a meaningful token
                const auto t = tokens[pick(tokens.size())];
                m.insert(pick(m.size() + 1), t);
                break;
            }
            case 2:  // overwrite with a token
                if (!m.empty()) {
                    const auto t = tokens[pick(tokens.size())];
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
                const std::string line = line_at(other, starts[pick(starts.size())]);
                const auto at = line_starts(m);
                m.insert(at[pick(at.size())], line);
                break;
            }
            case 8:  // change a digit (lengths, sequence numbers, ports, codes)
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

}  // namespace isthmus::fuzz_regress
