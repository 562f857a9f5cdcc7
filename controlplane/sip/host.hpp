// host = hostname / IPv4address / IPv6reference (RFC 3261 25.1), as it
// appears in SIP URIs and in Via sent-by, and the comparison of two hosts
// that RFC 3261 19.1.4 asks for (names case-insensitively, IPv6 numerically).
//
// Pure functions; no DNS, no I/O. Thread-safety: any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace isthmus::sip {

enum class HostKind : uint8_t {
    Name,  // hostname = *( domainlabel "." ) toplabel [ "." ]
    IPv4,  // dotted quad, each part 0..255
    IPv6,  // "[" IPv6address "]" (the brackets are part of the host text)
};

// The kind of a complete host text, or nullopt if it is none of the three
// (empty, a label starting or ending with '-', a toplabel starting with a
// digit such as "1.2.3.256", an IPv6 reference without brackets, ...).
std::optional<HostKind> classify_host(std::string_view host);

// IPv6address (RFC 4291 2.2: hex groups, one "::", a trailing dotted quad),
// without brackets. False on anything else; `out` is then unspecified.
bool parse_ipv6(std::string_view text, std::array<uint8_t, 16>& out);
// IPv4address with each part 1-3 digits and at most 255.
bool parse_ipv4(std::string_view text, std::array<uint8_t, 4>& out);

// Where a host that starts at s[pos] ends: after the ']' of an IPv6
// reference (npos if there is none), else at the first ':', ';', '?', ',',
// SP, HTAB or the end. Delimits only; classify_host() validates.
std::size_t scan_host(std::string_view s, std::size_t pos);

// scan_host() and classify_host() of what it delimits, in one pass for a
// name or an IPv4 address: the end, with `kind` set, or npos when either
// would fail (`kind` is then unspecified).
std::size_t scan_valid_host(std::string_view s, std::size_t pos, HostKind& kind);

// RFC 3261 19.1.4: names compare case-insensitively (a trailing '.' is not
// ignored), IPv4 and IPv6 addresses by value; a name never equals an address.
// Both arguments must be valid hosts (classify_host).
bool host_equivalent(std::string_view a, std::string_view b);

// One host known in advance (our own, from configuration) compared with many:
// classified and parsed once, so that each match reads only the other side.
// matches(h) == classify_host(h) && host_equivalent(host, h).
class HostMatcher {
  public:
    explicit HostMatcher(std::string_view host);
    bool matches(std::string_view host) const;

  private:
    std::string host_;
    std::optional<HostKind> kind_;
    std::array<uint8_t, 16> address_{};  // IPv4: the first 4
};

}  // namespace isthmus::sip
