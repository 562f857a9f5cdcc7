#include "sip/validate.hpp"

#include <array>
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

bool name_addr_ok(std::string_view v) {
    return valid_name_addr(v);
}
bool via_ok(std::string_view v) {
    return valid_via(v);
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

// The header fields a proxy checks, each with its rule: none is "Missing"
// when required; more than one field or value "Multiple" when single; any
// value the predicate rejects, or a field of a list header with no element
// at all ("Route:", "Via: ,"; the grammar wants 1#, RFC 3261 25.1),
// "Malformed"; Contact "*" only alone (10.2.2).
enum Slot : uint8_t {
    kTo,
    kFrom,
    kCSeq,
    kCallId,
    kMaxForwards,
    kVia,
    kContentLength,
    kContact,
    kRoute,
    kRecordRoute,
    kPath,
    kServiceRoute,
    kSlots,
    kNone = kSlots
};
struct Rule {
    std::string_view name;
    bool list;    // comma-separated elements (is_list_header)
    bool single;  // one field, one value
    bool (*valid)(std::string_view);
};
constexpr std::array<Rule, kSlots> kRules = {{
    {"To", false, true, name_addr_ok},
    {"From", false, true, name_addr_ok},
    {"CSeq", false, true, cseq_ok},
    {"Call-ID", false, true, valid_call_id},
    {"Max-Forwards", false, true, max_forwards_ok},
    {"Via", true, false, via_ok},
    {"Content-Length", false, true, content_length_ok},
    {"Contact", true, false, contact_ok},
    {"Route", true, false, name_addr_ok},
    {"Record-Route", true, false, name_addr_ok},
    {"Path", true, false, name_addr_ok},
    {"Service-Route", true, false, name_addr_ok},
}};

// The slot of a field name (names are stored canonical, compared without
// case all the same): by length first, so most fields cost one compare.
Slot slot_of(std::string_view n) {
    const auto is = [&](Slot s) { return iequals(n, kRules[s].name); };
    switch (n.size()) {
        case 2:
            return is(kTo) ? kTo : kNone;
        case 3:
            return is(kVia) ? kVia : kNone;
        case 4:
            return is(kFrom) ? kFrom : is(kCSeq) ? kCSeq : is(kPath) ? kPath : kNone;
        case 5:
            return is(kRoute) ? kRoute : kNone;
        case 7:
            return is(kCallId) ? kCallId : is(kContact) ? kContact : kNone;
        case 12:
            return is(kMaxForwards) ? kMaxForwards : is(kRecordRoute) ? kRecordRoute : kNone;
        case 13:
            return is(kServiceRoute) ? kServiceRoute : kNone;
        case 14:
            return is(kContentLength) ? kContentLength : kNone;
        default:
            return kNone;
    }
}

struct Tally {
    std::size_t fields = 0;
    std::size_t values = 0;
    bool bad = false;
    bool star = false;  // a Contact "*"
};

// One pass over the fields; then the rules in the order a request (or a
// response) reports them, the first defect winning.
Defect check_common(const Message& m, bool request) {
    std::array<Tally, kSlots> t{};
    for (const HeaderField& f : m.fields) {
        const Slot s = slot_of(f.name);
        if (s == kNone) continue;
        const Rule& rule = kRules[s];
        Tally& tally = t[s];
        ++tally.fields;
        if (!rule.list) {
            ++tally.values;
            tally.bad = tally.bad || !rule.valid(f.value);
            continue;
        }
        std::size_t elements = 0;
        for_each_list_element(f.value, [&](std::string_view v) {
            ++elements;
            tally.bad = tally.bad || !rule.valid(v);
            if (s == kContact && is_star(v)) tally.star = true;
            return true;
        });
        tally.values += elements;
        tally.bad = tally.bad || elements == 0;
    }
    const auto verdict = [&](Slot s, bool required) -> Defect {
        const Rule& rule = kRules[s];
        if (t[s].fields == 0) return required ? missing(rule.name) : std::nullopt;
        if (rule.single && (t[s].fields > 1 || t[s].values > 1)) return multiple(rule.name);
        if (t[s].bad) return malformed(rule.name);
        return std::nullopt;
    };
    static constexpr std::array<Slot, 6> kRequestOrder = {kTo,     kFrom,        kCSeq,
                                                          kCallId, kMaxForwards, kVia};
    static constexpr std::array<Slot, 5> kResponseOrder = {kVia, kFrom, kTo, kCSeq, kCallId};
    if (request) {
        for (Slot s : kRequestOrder)
            if (auto d = verdict(s, true)) return d;
    } else {
        for (Slot s : kResponseOrder)
            if (auto d = verdict(s, true)) return d;
    }
    for (Slot s : {kContentLength, kContact})
        if (auto d = verdict(s, false)) return d;
    if (t[kContact].star && t[kContact].values > 1) return malformed("Contact");
    for (Slot s : {kRoute, kRecordRoute, kPath, kServiceRoute})
        if (auto d = verdict(s, false)) return d;
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
