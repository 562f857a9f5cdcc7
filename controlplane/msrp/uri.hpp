// MSRP URIs (RFC 4975 6 and 9):
//
//   MSRP-URI    = msrp-scheme "://" authority ["/" session-id] ";" transport
//                 *( ";" URI-parameter )
//   msrp-scheme = "msrp" / "msrps"
//   session-id  = 1*( unreserved / "+" / "=" / "/" )   ; unreserved of RFC 3986
//   transport   = "tcp" / 1*ALPHANUM
//   URI-parameter = token ["=" token]
//
// and authority = [ userinfo "@" ] host [ ":" port ] from RFC 3986 3.2, with
// host narrowed to what names an MSRP peer: a host name (letters, digits,
// '-', '.', '_'), a dotted IPv4 address, or an IPv6 literal in brackets
// (RFC 3986 IP-literal without IPvFuture). A relay URI (RFC 4976) may have
// a userinfo, and no port or session-id ("msrps://alice@intra.example.com;tcp").
//
// Each part is kept as written (host and transport in their case, the
// userinfo with its escapes), so that to_string(parse) gives the same text;
// only the scheme is written in lower case.
//
// Comparison follows RFC 4975 6.1 (uri_equal); operator== is structural
// equality, for tests and round trips.
//
// Pure functions; no allocation beyond the result; thread-safety: any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isthmus::msrp {

enum class HostKind : uint8_t { Name, IPv4, IPv6 };

// One `;name[=value]` after the transport.
struct UriParam {
    std::string name;
    std::string value;  // empty when written without '='
    bool has_value = false;
    bool operator==(const UriParam&) const = default;
};

struct Uri {
    bool secure = false;   // msrps (TLS) rather than msrp
    std::string userinfo;  // without the '@'; empty: none
    std::string host;      // as written; an IPv6 literal with its brackets
    HostKind host_kind = HostKind::Name;
    std::optional<uint16_t> port;
    std::string session_id;  // empty: none (a relay's URI)
    std::string transport = "tcp";
    std::vector<UriParam> params;

    bool operator==(const Uri&) const = default;
};

// Parses one MSRP URI with nothing around it. nullopt when `text` is not
// one; `why`, when given, then says what is wrong in a few words (a static
// string: "scheme not msrp or msrps", "bad port", "no ;transport",
// "session-id: bad character", ...).
std::optional<Uri> parse_uri(std::string_view text, std::string_view* why = nullptr);

// The URI as text; parse_uri(to_string(u)) == u for every parsed u.
std::string to_string(const Uri& uri);

// RFC 4975 6.1: the same scheme; hosts equal (an IPv4 or IPv6 address by
// value, a name case-insensitively; a name never equals an address); ports
// equal, an absent port equal only to an absent one; session-ids equal
// case-sensitively, an absent one equal only to an absent one; transports
// equal case-insensitively. The userinfo and the URI parameters are not
// compared (6.1 leaves userinfo out; it says nothing of other parameters).
bool uri_equal(const Uri& a, const Uri& b);

// The 16 octets of an IPv6 address written as RFC 4291 2.2 text (the part
// inside the brackets: "2001:db8::1", "::ffff:192.0.2.1"); nullopt if it is
// not one. Exposed for tests.
std::optional<std::array<uint8_t, 16>> parse_ipv6(std::string_view text);

}  // namespace isthmus::msrp
