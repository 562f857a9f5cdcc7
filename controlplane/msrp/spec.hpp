// The gateway's side of a chat as the dpif carries it (dpif::MsrpSpec,
// issue 9): the two URIs the gateway owns, made the same way by the IMS-ALG
// (for the a=path it writes toward each side) and by the dataplane (for the
// bridge), and the check of a spec before a session takes it.
//
//   toward the browser: msrp://<access local address>:<port>/<session_id>;dc
//   toward the UE:      msrp://<tcp_local address>:<port>/<session_id>;tcp
//
// ";dc" is the transport RFC 8873 gives an MSRP URI on a data channel. The
// session-id is the spec's (RFC 4975 9: unreserved, "+", "=", "/"; made
// random by whoever fills the spec, at least 80 bits, RFC 4975 14.1).
//
// Pure functions; the standard library and the dpif header only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "isthmus/dpif/messages.hpp"
#include "msrp/relay.hpp"

namespace isthmus::msrp {

// A NUL-padded field as text (up to its size when full).
std::string_view spec_text(const char* field, std::size_t size);

// "msrp://198.18.0.2:40010/<sid>;dc" / ";tcp"; an IPv6 address in brackets.
// Empty when `ep` is unset or its family is neither 4 nor 6.
std::string local_uri(const dpif::IpEndpoint& ep, std::string_view session_id,
                      std::string_view transport);

// Both legs of the bridge for `spec` on a session whose access leg is
// `access_local`: our channel-side URI and the browser's path, our TCP URI
// and the UE's path. nullopt with `why` (one line naming the field) when the
// spec cannot make a chat: setup not passive/active, no session-id or one
// with characters a URI cannot hold, an unset or port-less tcp_local
// (passive), an unset tcp_remote (active), a path that is not an MSRP path
// (fields.hpp parse_path) or whose last URI has no session-id.
struct ChatLegs {
    Leg channel;  // toward the browser
    Leg tcp;      // toward the UE
};
std::optional<ChatLegs> chat_legs(const dpif::MsrpSpec& spec, const dpif::IpEndpoint& access_local,
                                  std::string* why = nullptr);

// Writes `text` into a NUL-padded field of `size` octets; false (field
// untouched) when it does not fit.
bool set_spec_text(char* field, std::size_t size, std::string_view text);

}  // namespace isthmus::msrp
