#include "sip/params.hpp"

#include "sip/grammar.hpp"

namespace isthmus::sip {

namespace {

// gen-value = token / host: token characters plus what a host adds
// (':' '[' ']' of IPv6, RFC 3261 25.1; received=2001:db8::9 has no brackets).
bool is_gen_value_char(char c) {
    return is_token_char(c) || c == ':' || c == '[' || c == ']';
}

}  // namespace

const Param* find_param(const std::vector<Param>& params, std::string_view name) {
    for (const Param& p : params)
        if (iequals(p.name, name)) return &p;
    return nullptr;
}

bool parse_generic_params(std::string_view s, std::size_t& pos, std::vector<Param>& out) {
    std::size_t i = skip_wsp(s, pos);
    while (i < s.size() && s[i] == ';') {
        i = skip_wsp(s, i + 1);
        const std::size_t name_start = i;
        while (i < s.size() && is_token_char(s[i]))
            ++i;
        if (i == name_start) return false;
        Param p;
        p.name = std::string(s.substr(name_start, i - name_start));
        i = skip_wsp(s, i);
        if (i < s.size() && s[i] == '=') {
            i = skip_wsp(s, i + 1);
            if (i < s.size() && s[i] == '"') {
                const std::size_t end = scan_quoted(s, i);
                if (end == std::string_view::npos) return false;
                p.value = std::string(s.substr(i + 1, end - i - 2));
                p.quoted = true;
                i = end;
            } else {
                const std::size_t value_start = i;
                while (i < s.size() && is_gen_value_char(s[i]))
                    ++i;
                if (i == value_start) return false;
                p.value = std::string(s.substr(value_start, i - value_start));
            }
            i = skip_wsp(s, i);
        }
        out.push_back(std::move(p));
    }
    pos = i;
    return true;
}

void append_params(std::string& out, const std::vector<Param>& params) {
    for (const Param& p : params) {
        out.push_back(';');
        out += p.name;
        if (!p.value) continue;
        out.push_back('=');
        if (p.quoted) out.push_back('"');
        out += *p.value;
        if (p.quoted) out.push_back('"');
    }
}

}  // namespace isthmus::sip
