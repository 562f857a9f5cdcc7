// SIP and SIPS URIs (RFC 3261 19.1, grammar in 25.1), tel URIs (RFC 3966)
// and any other absoluteURI a Request-URI or a To/From/Contact may carry
// (RFC 3261 allows them; RFC 4475 3.3 unkscm, novelsc, unksm2).
//
// SIP/SIPS URIs are split into their parts and each part is kept exactly as
// written, escapes included, so that to_string(parse) gives the same text
// (only the scheme is written in lower case). tel and other URIs are kept as
// the scheme plus the opaque rest; the application decides what to do with
// them (a proxy that cannot route one answers 416).
//
// Comparison follows RFC 3261 19.1.4 (uri_equivalent); operator== is plain
// structural equality, for tests and round trips.
//
// Pure functions; no allocation beyond the result (none for a check alone:
// valid_uri); thread-safety: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/host.hpp"
#include "sip/params.hpp"

namespace isthmus::sip {

enum class UriScheme : uint8_t { Sip, Sips, Tel, Other };

// One `hname=hvalue` of a URI's `?headers` part, escapes kept.
struct UriHeader {
    std::string name;
    std::string value;
    bool operator==(const UriHeader&) const = default;
};

struct Uri {
    UriScheme scheme = UriScheme::Sip;
    std::string other_scheme;  // UriScheme::Other only: the scheme, lower case

    // SIP / SIPS only ------------------------------------------------------
    // userinfo, escapes kept: "alice", "sips%3Auser%40example.com",
    // "+1-212-555-1212;npdi" (a telephone-subscriber's ;params stay in the user).
    // Empty: no userinfo (and then no password).
    std::string user;
    std::optional<std::string> password;
    std::string host;  // as written; an IPv6 reference with its brackets
    HostKind host_kind = HostKind::Name;
    std::optional<uint16_t> port;
    std::vector<Param> params;       // uri-parameters in order; never quoted
    std::vector<UriHeader> headers;  // the ?a=b&c=d part

    // tel / Other only: everything after "scheme:" as written.
    std::string opaque;

    // The first uri-parameter called `name` (case-insensitive; a name written
    // with escapes such as %6C%72 matches "lr"), or nullptr.
    const Param* param(std::string_view name) const;
    bool has_param(std::string_view name) const { return param(name) != nullptr; }
    bool is_sip() const { return scheme == UriScheme::Sip || scheme == UriScheme::Sips; }

    bool operator==(const Uri&) const = default;
};

// Parses one URI with nothing around it (no LWS, no angle brackets).
//   sip:/sips: (scheme case-insensitive): userinfo (user 1*, escapes %HH,
//     user-unreserved & = + $ , ; ? /; password), host (hostname, IPv4,
//     [IPv6]), port 0..65535, ;uri-parameters (pname 1*paramchar, optional
//     =pvalue 1*paramchar), ?headers (hname=hvalue joined by &).
//   tel: a non-empty opaque part of URI characters.
//   any other scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )): a
//     non-empty opaque part of URI characters (reserved, unreserved,
//     escaped, '[' ']').
// nullopt when the text is not such a URI: LWS or '<' anywhere, a bad
// escape, an empty user before '@', a bad host or port, an empty parameter
// name, a header without '=', an unknown character.
std::optional<Uri> parse_uri(std::string_view text);

// parse_uri's grammar with the parts written into *out, or, when `out` is
// null, a check alone that allocates nothing (what validation uses). On
// false *out is left partly written.
bool scan_uri(std::string_view text, Uri* out);
// parse_uri(text).has_value(), without allocating.
bool valid_uri(std::string_view text);

// The URI as text; parse_uri(to_string(u)) == u for every parsed u.
std::string to_string(const Uri& uri);

// RFC 3261 19.1.4 for SIP/SIPS: same scheme; user and password equal
// (case-sensitive) once escapes of unreserved characters are decoded; hosts
// equivalent (host_equivalent); ports equal, an absent port differing from
// any explicit one; the parameters user, ttl, method, maddr and transport
// present in both or neither and equal; any other parameter present in both
// equal (values case-insensitive); the same set of headers with equal values.
// A parameter name given twice counts by its first occurrence (as param()).
// tel and other URIs: same scheme and opaque parts equal case-insensitively
// after decoding escapes of unreserved characters (a simplification of RFC
// 3966 4, which also ignores visual separators).
bool uri_equivalent(const Uri& a, const Uri& b);

}  // namespace isthmus::sip
