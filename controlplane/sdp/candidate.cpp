#include "sdp/candidate.hpp"

#include <algorithm>

#include "sdp/grammar.hpp"

namespace isthmus::sdp {

std::optional<std::string_view> Candidate::extension(std::string_view name) const {
    for (const CandidateExtension& e : extensions)
        if (e.name == name) return std::string_view(e.value);
    return std::nullopt;
}

std::optional<Candidate> parse_candidate(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() < 8) return std::nullopt;
    const auto component = parse_uint(w[1], 999);
    const auto priority = parse_uint(w[3], UINT32_MAX);
    const auto port = parse_uint(w[5], 65535);
    if (w[0].size() > 32 || w[0].empty() || !std::all_of(w[0].begin(), w[0].end(), is_ice_char) ||
        !component || w[1].size() > 3 || !is_token(w[2]) || !priority || w[3].size() > 10 ||
        !is_visible_word(w[4]) || !port || !iequals(w[6], "typ") || !is_token(w[7]))
        return std::nullopt;
    Candidate c;
    c.foundation = std::string(w[0]);
    c.component = static_cast<uint16_t>(*component);
    c.transport = std::string(w[2]);
    c.priority = static_cast<uint32_t>(*priority);
    c.address = std::string(w[4]);
    c.port = static_cast<uint16_t>(*port);
    c.type = std::string(w[7]);
    std::size_t i = 8;
    if (i + 1 < w.size() && iequals(w[i], "raddr")) {
        if (!is_visible_word(w[i + 1])) return std::nullopt;
        c.related_address = std::string(w[i + 1]);
        i += 2;
    }
    if (i + 1 < w.size() && iequals(w[i], "rport")) {
        const auto rport = parse_uint(w[i + 1], 65535);
        if (!rport) return std::nullopt;
        c.related_port = static_cast<uint16_t>(*rport);
        i += 2;
    }
    if ((w.size() - i) % 2 != 0) return std::nullopt;
    c.extensions.reserve((w.size() - i) / 2);
    for (; i < w.size(); i += 2) {
        // The value is *VCHAR: any visible word (split_words leaves no space).
        if (!is_token(w[i])) return std::nullopt;
        c.extensions.push_back({std::string(w[i]), std::string(w[i + 1])});
    }
    return c;
}

std::string to_string(const Candidate& c) {
    std::string out = c.foundation + ' ' + std::to_string(c.component) + ' ' + c.transport + ' ' +
                      std::to_string(c.priority) + ' ' + c.address + ' ' + std::to_string(c.port) +
                      " typ " + c.type;
    if (c.related_address) out += " raddr " + *c.related_address;
    if (c.related_port) out += " rport " + std::to_string(*c.related_port);
    for (const CandidateExtension& e : c.extensions)
        out += ' ' + e.name + ' ' + e.value;
    return out;
}

}  // namespace isthmus::sdp
