#include "sdp/grammar.hpp"

namespace isthmus::sdp {

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_token_char(c)) return false;
    return true;
}

bool is_visible_word(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_visible(c)) return false;
    return true;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

std::string_view trim_wsp(std::string_view s) {
    while (!s.empty() && is_wsp(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back()))
        s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split_words(std::string_view s) {
    // Room for the words of most lines at once, not one allocation per
    // doubling (counting them first costs more than it saves).
    std::vector<std::string_view> out;
    out.reserve(8);
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_wsp(s[i]))
            ++i;
        const std::size_t start = i;
        while (i < s.size() && !is_wsp(s[i]))
            ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

std::pair<std::string_view, std::optional<std::string_view>> split_once(std::string_view s,
                                                                        char sep) {
    const std::size_t at = s.find(sep);
    if (at == std::string_view::npos) return {s, std::nullopt};
    return {s.substr(0, at), s.substr(at + 1)};
}

}  // namespace isthmus::sdp
