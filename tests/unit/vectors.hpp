// Reads the RFC test-vector files in tests/vectors/ (copied from the
// project's shared vectors): sections "[title]", "label: value" lines whose
// hex value may continue on indented lines, '#' comments.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace isthmus::test {

struct VectorSection {
    std::string title;
    std::vector<std::string> lines;             // raw lines, comments dropped
    std::map<std::string, std::string> fields;  // label -> value text (continuations joined)

    // The hex octets of a field: the value's leading hex groups, stopping at
    // the first token that is not hex (such as "(12 octets ...)").
    // Throws std::out_of_range naming the label if it is missing.
    std::vector<uint8_t> hex(const std::string& label) const;
};

// Directory of the vector files: $ISTHMUS_VECTORS_DIR (set by meson test),
// else tests/vectors relative to the working directory.
std::string vectors_dir();

// All sections of a file such as "rfc7714-vectors.txt". Throws
// std::runtime_error naming the file when it cannot be read.
std::vector<VectorSection> load_vectors(const std::string& file);

// The section whose title starts with `prefix`; throws if none.
const VectorSection& find_section(const std::vector<VectorSection>& sections,
                                  const std::string& prefix);

}  // namespace isthmus::test
