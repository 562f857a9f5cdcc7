// Parameters: the `;name[=value]` lists of header field values
// (generic-param, RFC 3261 25.1) and of SIP URIs (uri-parameter, 19.1.1),
// kept in order and as written so that a message forwarded by a proxy says
// what it said when it came in.
//
// Names compare case-insensitively (RFC 3261 7.3.1); values are returned as
// written and their comparison is left to the header that defines them.
// Pure functions; thread-safety: any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/grammar.hpp"

namespace isthmus::sip {

struct Param {
    std::string name;                  // as written (URI parameters: escapes kept)
    std::optional<std::string> value;  // nullopt: a name without "="
    bool quoted = false;               // value was a quoted-string: `value` is the text between the
                                       // quotes with its quoted-pairs kept (unquote() decodes it)

    bool operator==(const Param&) const = default;
};

// The first parameter called `name` (case-insensitive), or nullptr.
const Param* find_param(const std::vector<Param>& params, std::string_view name);

// Header parameters at s[pos...]: *( SEMI generic-param ) where
//   SEMI = SWS ";" SWS, generic-param = token [ EQUAL gen-value ],
//   EQUAL = SWS "=" SWS, gen-value = token / host / quoted-string.
// Appends each parameter to `out` and leaves `pos` at the first byte that
// does not continue the list (after any LWS). False on a malformed parameter:
// a ';' without a name (";;"), '=' without a value, an unterminated
// quoted-string, a value with characters outside token and host.
bool parse_generic_params(std::string_view s, std::size_t& pos, std::vector<Param>& out);

// One parameter as scan_generic_params sees it: views into the scanned text.
struct ParamView {
    std::string_view name;
    std::optional<std::string_view> value;  // quoted: between the quotes, quoted-pairs kept
    bool quoted = false;
};

// gen-value = token / host: token characters plus what a host adds
// (':' '[' ']' of IPv6, RFC 3261 25.1; received=2001:db8::9 has no brackets).
constexpr bool is_gen_value_char(char c) {
    return is_token_char(c) || c == ':' || c == '[' || c == ']';
}

// The grammar of parse_generic_params without storing anything: each
// parameter goes to `each(const ParamView&)`, whose false makes the list
// malformed. What validation uses, so that checking a header allocates
// nothing; parse_generic_params is this with a push_back.
template <typename Each>
bool scan_generic_params(std::string_view s, std::size_t& pos, Each&& each) {
    std::size_t i = skip_wsp(s, pos);
    while (i < s.size() && s[i] == ';') {
        i = skip_wsp(s, i + 1);
        const std::size_t name_start = i;
        while (i < s.size() && is_token_char(s[i]))
            ++i;
        if (i == name_start) return false;
        ParamView p;
        p.name = s.substr(name_start, i - name_start);
        i = skip_wsp(s, i);
        if (i < s.size() && s[i] == '=') {
            i = skip_wsp(s, i + 1);
            if (i < s.size() && s[i] == '"') {
                const std::size_t end = scan_quoted(s, i);
                if (end == std::string_view::npos) return false;
                p.value = s.substr(i + 1, end - i - 2);
                p.quoted = true;
                i = end;
            } else {
                const std::size_t value_start = i;
                while (i < s.size() && is_gen_value_char(s[i]))
                    ++i;
                if (i == value_start) return false;
                p.value = s.substr(value_start, i - value_start);
            }
            i = skip_wsp(s, i);
        }
        if (!each(static_cast<const ParamView&>(p))) return false;
    }
    pos = i;
    return true;
}

// Appends ";name", ";name=value" or ";name=\"value\"" for each parameter.
void append_params(std::string& out, const std::vector<Param>& params);

}  // namespace isthmus::sip
