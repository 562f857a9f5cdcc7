#include "msrp/serializer.hpp"

#include "msrp/fields.hpp"
#include "msrp/grammar.hpp"

namespace isthmus::msrp {

namespace {

void append_text(std::string& out, std::string_view s) {
    for (char c : s)
        out += (c == '\r' || c == '\n') ? ' ' : c;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    for (char c : name)
        out += is_token_char(c) ? c : '-';
    out += ": ";
    append_text(out, value);
    out += "\r\n";
}

std::string three_digits(uint16_t v) {
    std::string t = std::to_string(v > 999 ? 999 : v);
    return std::string(3 - t.size(), '0') + t;
}

}  // namespace

std::string serialize(const Message& m) {
    std::string out;
    out.reserve(256 + m.body.size());
    out += "MSRP ";
    out += m.transaction_id;
    out += ' ';
    if (m.is_response()) {
        out += three_digits(m.status_code);
        if (!m.comment.empty()) {
            out += ' ';
            append_text(out, m.comment);
        }
    } else {
        append_text(out, m.method);
    }
    out += "\r\n";
    append_field(out, "To-Path", to_string(m.to_path));
    append_field(out, "From-Path", to_string(m.from_path));
    if (m.message_id) append_field(out, "Message-ID", *m.message_id);
    if (m.byte_range) append_field(out, "Byte-Range", to_string(*m.byte_range));
    if (m.success_report) append_field(out, "Success-Report", to_string(*m.success_report));
    if (m.failure_report) append_field(out, "Failure-Report", to_string(*m.failure_report));
    if (m.status) append_field(out, "Status", to_string(*m.status));
    for (const HeaderField& f : m.other_headers)
        append_field(out, f.name, f.value);
    // A response has no data (RFC 4975 7.2); a Content-Type the parser let
    // through on one is written as a plain header field, so that what we
    // write parses again (found by the msrp fuzz target).
    if (m.is_response()) {
        if (m.content_type) append_field(out, "Content-Type", *m.content_type);
    } else if (m.content_type || !m.body.empty()) {
        if (m.content_type) append_field(out, "Content-Type", *m.content_type);
        out += "\r\n";
        out += m.body;
        out += "\r\n";
    }
    out += "-------";
    out += m.transaction_id;
    out += continuation_char(m.continuation);
    out += "\r\n";
    return out;
}

bool end_line_in_body(std::string_view body, std::string_view transaction_id) {
    // The framing before and after the body ("\r\n" and "\r\n-------" id)
    // cannot complete a marker begun in the body: the marker's only CR is
    // its first octet, so a marker straddling the body's end would need one
    // inside the framing's dashes. So only a marker wholly inside matters.
    std::string marker = "\r\n-------";
    marker += transaction_id;
    return body.find(marker) != std::string_view::npos;
}

}  // namespace isthmus::msrp
