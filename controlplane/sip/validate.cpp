#include "sip/validate.hpp"

#include <string_view>

#include "sip/grammar.hpp"
#include "sip/header_names.hpp"
#include "sip/headers.hpp"

namespace isthmus::sip {

namespace {

using Defect = std::optional<std::string>;

Defect missing(std::string_view name) {
    return "Missing " + std::string(name) + " header";
}
Defect multiple(std::string_view name) {
    return "Multiple " + std::string(name) + " headers";
}
Defect malformed(std::string_view name) {
    return "Malformed " + std::string(name) + " header";
}

// A header's fields: none is "Missing" when `required`; more than one field
// or value "Multiple" when `single`; any value `valid` rejects, or a field
// of a list header with no element at all ("Route:", "Via: ,"; the grammar
// wants 1#, RFC 3261 25.1), "Malformed". One pass over the fields.
template <typename Pred>
Defect check(const Message& m, std::string_view name, bool required, bool single, Pred valid) {
    const std::string_view canonical = canonical_header_name(name);
    const bool list = is_list_header(canonical);
    std::size_t fields = 0;
    std::size_t values = 0;
    bool bad = false;
    for (const HeaderField& f : m.fields) {
        if (!iequals(f.name, canonical)) continue;
        ++fields;
        if (!list) {
            ++values;
            bad = bad || !valid(f.value);
            continue;
        }
        const auto elements = split_list(f.value);
        values += elements.size();
        bad = bad || elements.empty();
        for (std::string_view v : elements)
            bad = bad || !valid(v);
    }
    if (fields == 0) return required ? missing(name) : std::nullopt;
    if (single && (fields > 1 || values > 1)) return multiple(name);
    if (bad) return malformed(name);
    return std::nullopt;
}

bool name_addr_ok(std::string_view v) {
    return parse_name_addr(v).has_value();
}
bool via_ok(std::string_view v) {
    return parse_via(v).has_value();
}
bool cseq_ok(std::string_view v) {
    return parse_cseq(v).has_value();
}
bool max_forwards_ok(std::string_view v) {
    return parse_max_forwards(v).has_value();
}
bool content_length_ok(std::string_view v) {
    return parse_content_length(v).has_value();
}
bool contact_ok(std::string_view v) {
    return is_star(v) || name_addr_ok(v);
}

// The checks requests and responses share, To/From/CSeq/Call-ID/Via.
Defect check_common(const Message& m, bool request) {
    constexpr bool kRequired = true;
    constexpr bool kOptional = false;
    constexpr bool kSingle = true;
    constexpr bool kList = false;
    if (request) {
        if (auto d = check(m, "To", kRequired, kSingle, name_addr_ok)) return d;
        if (auto d = check(m, "From", kRequired, kSingle, name_addr_ok)) return d;
        if (auto d = check(m, "CSeq", kRequired, kSingle, cseq_ok)) return d;
        if (auto d = check(m, "Call-ID", kRequired, kSingle, valid_call_id)) return d;
        if (auto d = check(m, "Max-Forwards", kRequired, kSingle, max_forwards_ok)) return d;
        if (auto d = check(m, "Via", kRequired, kList, via_ok)) return d;
    } else {
        if (auto d = check(m, "Via", kRequired, kList, via_ok)) return d;
        if (auto d = check(m, "From", kRequired, kSingle, name_addr_ok)) return d;
        if (auto d = check(m, "To", kRequired, kSingle, name_addr_ok)) return d;
        if (auto d = check(m, "CSeq", kRequired, kSingle, cseq_ok)) return d;
        if (auto d = check(m, "Call-ID", kRequired, kSingle, valid_call_id)) return d;
    }
    if (auto d = check(m, "Content-Length", kOptional, kSingle, content_length_ok)) return d;
    if (auto d = check(m, "Contact", kOptional, kList, contact_ok)) return d;
    // Contact: "*" only alone (RFC 3261 10.2.2).
    const auto contacts = m.headers("Contact");
    for (std::string_view v : contacts)
        if (is_star(v) && contacts.size() > 1) return malformed("Contact");
    for (std::string_view name : {"Route", "Record-Route", "Path", "Service-Route"})
        if (auto d = check(m, name, kOptional, kList, name_addr_ok)) return d;
    return std::nullopt;
}

}  // namespace

std::optional<std::string> validate_request(const Message& m) {
    if (!m.is_request()) return "Not a request";
    if (auto d = check_common(m, true)) return d;
    // RFC 3261 8.2 (and 16.3): the CSeq method matches the request method
    // (RFC 4475 mismatch01, mismatch02).
    const auto cseq = parse_cseq(*m.header("CSeq"));
    if (cseq->method != m.method) return "CSeq method does not match the request method";
    return std::nullopt;
}

std::optional<std::string> validate_response(const Message& m) {
    if (!m.is_response()) return "Not a response";
    return check_common(m, false);
}

bool has_supported_version(const Message& m) {
    return iequals(m.version, "SIP/2.0");
}

}  // namespace isthmus::sip
