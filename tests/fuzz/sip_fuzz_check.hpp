// The property the SIP parser fuzzing checks, shared by the libFuzzer target
// (sip_parser_fuzz.cpp) and the CI regression test (sip_fuzz_regress_test.cpp):
//
//  - parse_message on both framings returns one documented outcome (Ok with
//    consumed <= size; Incomplete only on a stream; Error with a reason);
//  - a stream of several messages is walked to its end;
//  - every accepted message survives parse -> serialize -> parse (equal up
//    to Content-Length, and the second serialization identical);
//  - every typed value the validators read (Via, name-addr headers, CSeq,
//    Max-Forwards, Content-Length, the Request-URI) that parses survives
//    to_string -> parse unchanged;
//  - uri_equivalent is reflexive on every URI that parses;
//  - the allocation-free checks agree with the parsers: valid_via,
//    valid_name_addr and valid_uri say yes exactly when parse_* does (one
//    grammar with and without output: this keeps them from drifting apart),
//    and the view's parameter lookup finds what Via's does;
//  - the proxy operations keep order: remove_first_value() drops exactly
//    the first value of Via / Route, prepend() adds one on top;
//  - validate_request / validate_response run without trouble.
//
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "sip/headers.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"

namespace isthmus::sip::fuzz {

inline Message without_content_length(Message m) {
    m.remove("Content-Length");
    return m;
}

template <typename T, typename Parse>
std::string check_typed(std::string_view what, std::string_view value, Parse parse) {
    const std::optional<T> once = parse(value);
    if (!once) return "";
    const std::string text = to_string(*once);
    const std::optional<T> twice = parse(text);
    if (!twice)
        return std::string(what) + " does not re-parse: [" + std::string(value) + "] -> [" + text +
               "]";
    if (!(*twice == *once))
        return std::string(what) + " changes on re-parse: [" + std::string(value) + "] -> [" +
               text + "]";
    return "";
}

inline std::string check_typed_values(const Message& m) {
    std::string err;
    auto note = [&err](std::string e) {
        if (err.empty()) err = std::move(e);
    };
    if (m.is_request()) {
        const std::string uri = to_string(m.request_uri);
        const auto again = parse_uri(uri);
        if (!again || !(*again == m.request_uri))
            note("Request-URI changes on re-parse: [" + uri + "]");
        if (!uri_equivalent(m.request_uri, m.request_uri))
            note("Request-URI not equivalent to itself: [" + uri + "]");
    }
    // The check alone must accept exactly what the parser accepts.
    auto agree = [&note](std::string_view what, std::string_view v, bool check, bool parsed) {
        if (check != parsed)
            note(std::string(what) + ": the check says " + (check ? "valid" : "invalid") +
                 ", the parser " + (parsed ? "parses it" : "refuses it") + ": [" + std::string(v) +
                 "]");
    };
    for (std::string_view v : m.headers("Via")) {
        note(check_typed<Via>("Via", v, parse_via));
        const auto via = parse_via(v);
        const auto view = parse_via_view(v);
        agree("Via", v, valid_via(v), via.has_value());
        // parse_via is the view made owning: what can differ is the view's
        // own parameter lookup.
        if (via && view && (view->branch() != via->branch() || view->rport() != via->rport()))
            note("Via view reads other parameters than parse_via: [" + std::string(v) + "]");
        // A Via value read as a URI and a name-addr: text of another shape.
        agree("Via as URI", v, valid_uri(v), parse_uri(v).has_value());
        agree("Via as name-addr", v, valid_name_addr(v), parse_name_addr(v).has_value());
    }
    for (const HeaderField& f : m.fields) {
        agree("field as name-addr", f.value, valid_name_addr(f.value),
              parse_name_addr(f.value).has_value());
        agree("field as Via", f.value, valid_via(f.value), parse_via(f.value).has_value());
    }
    for (const char* name : {"To", "From", "Contact", "Route", "Record-Route", "Path",
                             "Service-Route", "P-Asserted-Identity", "P-Associated-URI"}) {
        for (std::string_view v : m.headers(name)) {
            note(check_typed<NameAddr>(name, v, parse_name_addr));
            agree(name, v, valid_name_addr(v), parse_name_addr(v).has_value());
            const auto na = parse_name_addr(v);
            if (na && !uri_equivalent(na->uri, na->uri))
                note(std::string(name) + " URI not equivalent to itself: [" + std::string(v) + "]");
        }
    }
    for (std::string_view v : m.headers("CSeq"))
        note(check_typed<CSeq>("CSeq", v, parse_cseq));
    for (std::string_view v : m.headers("Max-Forwards"))
        note(check_typed<MaxForwards>("Max-Forwards", v, parse_max_forwards));
    for (std::string_view v : m.headers("Content-Length"))
        note(check_typed<ContentLength>("Content-Length", v, parse_content_length));
    if (m.is_request()) (void)validate_request(m);
    if (m.is_response()) (void)validate_response(m);
    return err;
}

// remove_first_value and prepend on a copy: the values that remain are the
// old ones minus the first, or plus the new one on top.
inline std::string check_list_ops(const Message& m) {
    for (const char* name : {"Via", "Route", "Contact"}) {
        const auto before = m.headers(name);
        const std::vector<std::string> old(before.begin(), before.end());
        Message popped = m;
        const bool removed = popped.remove_first_value(name);
        if (removed == old.empty()) return std::string("remove_first_value result on ") + name;
        const auto after = popped.headers(name);
        if (removed && !std::equal(after.begin(), after.end(), old.begin() + 1, old.end()))
            return std::string("remove_first_value changed the other ") + name + " values";
        Message pushed = m;
        pushed.prepend(name, "x");
        const auto grown = pushed.headers(name);
        if (grown.size() != old.size() + 1 || grown[0] != "x" ||
            !std::equal(grown.begin() + 1, grown.end(), old.begin(), old.end()))
            return std::string("prepend changed the other ") + name + " values";
    }
    return "";
}

inline std::string check_round_trip(const Message& m) {
    const std::string once = serialize(m);
    // Serializing can lengthen a message (compact names expanded,
    // Content-Length added): re-parse with room for that.
    ParseLimits relaxed;
    relaxed.max_message_bytes = 2 * once.size() + 65536;
    relaxed.max_headers = 4096;
    relaxed.max_header_line = relaxed.max_message_bytes;
    relaxed.max_start_line = relaxed.max_message_bytes;
    const ParseResult again = parse_message(once, Framing::Stream, relaxed);
    if (again.status != ParseStatus::Ok)
        return "serialized message does not parse (" + again.reason + "):\n" + once;
    if (again.consumed != once.size()) return "serialized message not consumed whole:\n" + once;
    if (!(without_content_length(again.message) == without_content_length(m)))
        return "message changes on re-parse:\n" + once + "\n---\n" + serialize(again.message);
    if (serialize(again.message) != once) return "second serialization differs:\n" + once;
    std::string err = check_list_ops(m);
    if (!err.empty()) return err;
    return check_typed_values(m);
}

inline std::string check_outcome(std::string_view data, Framing framing, const ParseResult& r) {
    switch (r.status) {
        case ParseStatus::Ok:
            if (r.consumed > data.size() || r.consumed == 0) return "Ok with a bad consumed";
            if (r.error != ParseError::None || !r.reason.empty()) return "Ok with an error";
            if (!r.message.is_request() && !r.message.is_response()) return "Ok, no start line";
            return check_round_trip(r.message);
        case ParseStatus::Incomplete:
            if (framing == Framing::Datagram) return "Incomplete on a datagram";
            if (r.consumed > data.size()) return "Incomplete with a bad consumed";
            return "";
        case ParseStatus::Error:
            if (r.error == ParseError::None || r.reason.empty() || r.consumed != 0)
                return "Error without a cause";
            if (static_cast<std::size_t>(r.error) >= kParseErrorCount) return "unknown error";
            return "";
    }
    return "unknown status";
}

inline std::string check_input(std::string_view data) {
    // A datagram, then a stream walked message by message.
    std::string err =
        check_outcome(data, Framing::Datagram, parse_message(data, Framing::Datagram));
    if (!err.empty()) return "datagram: " + err;
    std::string_view rest = data;
    for (int n = 0; n < 64 && !rest.empty(); ++n) {
        const ParseResult r = parse_message(rest, Framing::Stream);
        err = check_outcome(rest, Framing::Stream, r);
        if (!err.empty()) return "stream message " + std::to_string(n) + ": " + err;
        if (r.status != ParseStatus::Ok) break;
        rest.remove_prefix(r.consumed);
    }
    return "";
}

}  // namespace isthmus::sip::fuzz
