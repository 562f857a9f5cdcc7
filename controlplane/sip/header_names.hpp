// Header field names: the compact forms of RFC 3261 7.3.3 and the IANA SIP
// parameters registry, the registered capitalization of known names
// ("Call-ID", "CSeq", "WWW-Authenticate", "P-Asserted-Identity"), and which
// headers are comma-separated lists (RFC 3261 7.3.1).
//
// Pure lookups in a constant table; thread-safety: any thread.
#pragma once

#include <string_view>

namespace isthmus::sip {

// The canonical spelling of a header field name: a compact form expanded
// ("v" -> "Via", "I" -> "Call-ID"), a known name in its registered
// capitalization ("cseq" -> "CSeq"), anything else returned unchanged (the
// view then points into `name`; otherwise into a static table).
std::string_view canonical_header_name(std::string_view name);

// Whether the header (canonical name) is defined as a comma-separated list
// (Via, Route, Record-Route, Contact, Path, Service-Route, Allow, Supported,
// Require, Proxy-Require, Accept..., P-Asserted-Identity, ...), so that one
// field line may carry several values. False for unknown headers and for
// those whose values contain commas of their own (WWW-Authenticate,
// Authorization, Proxy-Authenticate, Proxy-Authorization, Date, ...).
bool is_list_header(std::string_view canonical_name);

}  // namespace isthmus::sip
