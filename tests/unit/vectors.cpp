#include "vectors.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "hex.hpp"

namespace isthmus::test {

namespace {

bool is_hex_token(const std::string& t) {
    if (t.empty()) return false;
    for (char c : t) {
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return false;
    }
    return true;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

}  // namespace

std::vector<uint8_t> VectorSection::hex(const std::string& label) const {
    const auto it = fields.find(label);
    if (it == fields.end())
        throw std::out_of_range("vector field '" + label + "' not in [" + title + "]");
    // Drop parenthesised notes ("(12 octets; SSRC ...)"), which may sit
    // between a value and its continuation line.
    std::string text;
    int depth = 0;
    for (char c : it->second) {
        if (c == '(')
            ++depth;
        else if (c == ')' && depth > 0)
            --depth;
        else if (depth == 0)
            text.push_back(c);
    }
    std::istringstream in(text);
    std::string tok, digits;
    while (in >> tok) {
        if (!is_hex_token(tok)) break;
        digits += tok;
    }
    return from_hex(digits);
}

std::string vectors_dir() {
    if (const char* d = std::getenv("ISTHMUS_VECTORS_DIR"); d != nullptr && *d != '\0') return d;
    return "tests/vectors";
}

std::vector<VectorSection> load_vectors(const std::string& file) {
    const std::string path = vectors_dir() + "/" + file;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read test vectors " + path);
    std::vector<VectorSection> out;
    std::string line, last_label;
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] == '#') continue;
        if (!line.empty() && line[0] == '[') {
            out.push_back({line.substr(1, line.find(']') - 1), {}, {}});
            last_label.clear();
            continue;
        }
        if (out.empty() || trim(line).empty()) continue;
        VectorSection& sec = out.back();
        sec.lines.push_back(line);
        const bool indented = line[0] == ' ' || line[0] == '\t';
        const auto colon = line.find(':');
        if (!indented && colon != std::string::npos) {
            // "SRTCP packet (first 8 octets || ...): hex" is labelled "SRTCP packet"
            last_label = trim(line.substr(0, std::min(colon, line.find('('))));
            sec.fields[last_label] = trim(line.substr(colon + 1));
        } else if (indented && !last_label.empty()) {
            sec.fields[last_label] += " " + trim(line);
        }
    }
    return out;
}

const VectorSection& find_section(const std::vector<VectorSection>& sections,
                                  const std::string& prefix) {
    for (const auto& s : sections) {
        if (s.title.rfind(prefix, 0) == 0) return s;
    }
    throw std::runtime_error("no vector section starting with [" + prefix);
}

}  // namespace isthmus::test
