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

// Appends ";name", ";name=value" or ";name=\"value\"" for each parameter.
void append_params(std::string& out, const std::vector<Param>& params);

}  // namespace isthmus::sip
