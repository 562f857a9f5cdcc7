// A SIP message (RFC 3261 7): a request (method, Request-URI, version) or a
// response (version, status code, reason phrase), its header fields in wire
// order, and its body.
//
// Header fields are kept as {canonical name, value} pairs, one per field line
// as received (folding undone, LWS around the value trimmed), so that a
// proxy forwards them in their order and form. Typed access is separate
// (headers.hpp): Message::headers("Via") gives the values, parse_via() reads
// one.
//
// Every name argument below is matched case-insensitively and may be a
// compact form ("v", "m"); names are stored canonical (header_names.hpp).
//
// A Message is a plain value: no locks. Const members may be called from any
// number of threads at once; a mutating member needs the only reference.
// The views returned by header()/headers() point into the message and are
// invalidated by any mutation or by its destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/uri.hpp"

namespace isthmus::sip {

struct HeaderField {
    // Canonical (see canonical_header_name): the parser and Message's
    // members store it so, and code that pushes a field itself must too
    // (the serializer writes the name as stored).
    std::string name;
    std::string value;  // trimmed; never contains CR or LF when parsed
    bool operator==(const HeaderField&) const = default;
};

struct Message {
    // Start line. A request has a method (and status_code 0); a response has
    // status_code 100..699 and an empty method.
    std::string method;
    Uri request_uri;
    uint16_t status_code = 0;
    std::string reason_phrase;
    std::string version = "SIP/2.0";  // as written ("SIP/2.0"; see has_supported_version)

    std::vector<HeaderField> fields;  // wire order
    std::string body;                 // octets; may hold NULs

    bool is_request() const { return !method.empty(); }
    bool is_response() const { return method.empty() && status_code != 0; }

    // The first value of header `name`: for a list header (is_list_header)
    // the first element of the first field that has one, otherwise the first
    // field's whole value (possibly ""). nullopt when there is none.
    std::optional<std::string_view> header(std::string_view name) const;
    // All values of header `name` in order: each field of a list header split
    // at its commas outside quotes and <> (empty elements, and so an empty
    // field, contribute none: split_list), each field of another header as
    // one value.
    std::vector<std::string_view> headers(std::string_view name) const;
    // How many field lines carry header `name` (not values).
    std::size_t field_count(std::string_view name) const;

    // Appends a field after all others.
    void add(std::string_view name, std::string_view value);
    // Inserts a field before the first field of the same header (the top Via,
    // the first Record-Route), or before all fields if there is none.
    void prepend(std::string_view name, std::string_view value);
    // Replaces every field of the header by one, at the place of the first
    // (appended if there was none).
    void set(std::string_view name, std::string_view value);
    // Removes every field of the header; returns how many there were.
    std::size_t remove(std::string_view name);
    // Removes the first value of a header (the top Via, the first Route): the
    // first field that has a value goes if it holds only that one, else loses
    // that value and its comma. Afterwards headers(name) is the old list
    // without its first element. False if the header has no value.
    bool remove_first_value(std::string_view name);

    bool operator==(const Message&) const = default;
};

// A request with the given method and Request-URI, version SIP/2.0, no fields.
Message make_request(std::string_view method, Uri request_uri);
// A response with the given status code (100..699) and reason phrase.
Message make_response(uint16_t status_code, std::string_view reason_phrase);

}  // namespace isthmus::sip
