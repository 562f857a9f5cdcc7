// Typed values of the header fields the SIP core reads: name-addr (To, From,
// Contact, Route, Record-Route, Path, Service-Route, P-Asserted-Identity...),
// Via, CSeq, Max-Forwards, Content-Length (grammar in RFC 3261 25.1).
//
// Each parse_* takes ONE value: a whole field value for To/From/CSeq/...,
// one element of Message::headers() for the list headers (Via, Contact,
// Route...). LWS around the value and around separators is allowed, line
// folding must already be undone (the message parser does it). Each
// to_string() writes the value back in a canonical layout that parses to an
// equal struct. Parts are kept as written, so a proxy forwards what it got.
//
// Pure functions; thread-safety: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/host.hpp"
#include "sip/params.hpp"
#include "sip/uri.hpp"

namespace isthmus::sip {

// name-addr / addr-spec followed by header parameters (RFC 3261 20.10, 20.20,
// 20.39): `"Alice" <sip:alice@example.com>;tag=1928`, `sip:bob@example.com`,
// `<sip:ue@[2001:db8::1]:5060;ob>;+sip.instance="<urn:uuid:...>";reg-id=1`.
struct NameAddr {
    // Quoted: the text between the quotes, quoted-pairs kept (unquote()
    // decodes it). Unquoted: its tokens joined by one SP. Empty: none.
    std::string display_name;
    bool display_name_quoted = false;
    // The URI was in <...>. False: the addr-spec form, where any ;params are
    // header parameters (RFC 3261 20.10) and the URI has none.
    bool angle_brackets = true;
    Uri uri;
    std::vector<Param> params;  // tag, expires, q, +sip.instance, reg-id, ...

    const Param* param(std::string_view name) const { return find_param(params, name); }
    // The tag parameter's value (RFC 3261 19.3), if there is one.
    std::optional<std::string_view> tag() const;

    bool operator==(const NameAddr&) const = default;
};

// nullopt when: an unterminated quoted-string or anything after it but '<';
// an unquoted display name with a non-token character (RFC 4475 baddn:
// `Bell, Alexander <...>`); no '>' or LWS inside <...> (RFC 4475 badaspec);
// a URI that parse_uri rejects; an addr-spec containing ',' or '?' (which
// need <...>, RFC 3261 20; RFC 4475 regbadct); a malformed parameter;
// anything left over. `*` (Contact: *) is not a name-addr: see is_star().
std::optional<NameAddr> parse_name_addr(std::string_view value);
// parse_name_addr(value).has_value(), allocating nothing (validation).
bool valid_name_addr(std::string_view value);
std::string to_string(const NameAddr& na);
// The value of `Contact: *` (RFC 3261 10.2.2), LWS around it allowed.
bool is_star(std::string_view value);

// via-parm (RFC 3261 20.42, RFC 3581 rport, RFC 7118 WS/WSS transports):
// `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport`.
struct Via {
    std::string protocol_name = "SIP";
    std::string protocol_version = "2.0";
    std::string transport;  // as written: UDP, TCP, TLS, SCTP, WS, WSS or an extension token
    std::string host;       // sent-by host as written; IPv6 with brackets
    HostKind host_kind = HostKind::Name;
    std::optional<uint16_t> port;
    std::vector<Param> params;  // branch, received, rport, maddr, ttl, ...

    const Param* param(std::string_view name) const { return find_param(params, name); }
    std::optional<std::string_view> branch() const;
    // rport present: nullopt if absent; 0 if present without a value.
    std::optional<uint16_t> rport() const;

    bool operator==(const Via&) const = default;
};

// nullopt when: sent-protocol is not three tokens separated by '/' (LWS
// allowed around each '/'); no LWS before sent-by; a bad host or port
// (COLON may have LWS around it); a malformed parameter; a branch that is not
// a non-empty token; ttl not 0..255; received not an IPv4 or IPv6 address;
// maddr not a host; rport with a value that is not a port; anything left.
std::optional<Via> parse_via(std::string_view value);

// A Via value read in place: views into the text given to parse_via_view,
// valid while it lives; what the transaction layer reads from every
// message's top Via, without allocating.
struct ViaView {
    std::string_view protocol_name;
    std::string_view protocol_version;
    std::string_view transport;
    std::string_view host;  // as written; IPv6 with brackets
    HostKind host_kind = HostKind::Name;
    std::optional<uint16_t> port;
    std::string_view params;  // ";branch=...;rport" as written, checked; empty: none

    // The first parameter called `name` (case-insensitive).
    std::optional<ParamView> param(std::string_view name) const;
    std::optional<std::string_view> branch() const;
    // As Via::rport: nullopt if absent; 0 if present without a value.
    std::optional<uint16_t> rport() const;
};
// The same grammar as parse_via (one accepts what the other does).
std::optional<ViaView> parse_via_view(std::string_view value);
// The owning Via of a view made by parse_via_view (whose params are
// checked: a hand-made view with malformed params loses them).
Via to_via(const ViaView& view);
// parse_via(value).has_value(), allocating nothing (validation).
bool valid_via(std::string_view value);
std::string to_string(const Via& via);

// CSeq = 1*DIGIT LWS Method (RFC 3261 20.16), the number at most 2**32 - 1
// (RFC 4475 scalar02 and scalarlg exceed it).
struct CSeq {
    uint32_t number = 0;
    std::string method;
    bool operator==(const CSeq&) const = default;
};
std::optional<CSeq> parse_cseq(std::string_view value);
std::string to_string(const CSeq& cseq);

// Max-Forwards = 1*DIGIT, 0..255 (RFC 3261 20.22); leading zeros allowed.
struct MaxForwards {
    uint8_t hops = 70;
    bool operator==(const MaxForwards&) const = default;
};
std::optional<MaxForwards> parse_max_forwards(std::string_view value);
std::string to_string(MaxForwards mf);

// Content-Length = 1*DIGIT (RFC 3261 20.14), at most 2**32 - 1; a sign,
// a space inside or text (RFC 4475 ncl: -999, "five") is rejected.
struct ContentLength {
    uint32_t length = 0;
    bool operator==(const ContentLength&) const = default;
};
std::optional<ContentLength> parse_content_length(std::string_view value);
std::string to_string(ContentLength cl);

// callid = word [ "@" word ] (RFC 3261 20.8).
bool valid_call_id(std::string_view value);

}  // namespace isthmus::sip
