#include "sip/serializer.hpp"

#include <string_view>

#include "sip/grammar.hpp"

namespace isthmus::sip {

namespace {

// Appends `s` with CR and LF replaced by SP (no header injection).
void append_line_text(std::string& out, std::string_view s) {
    const std::size_t at = out.size();
    out += s;
    // Values parsed off the wire hold neither: two memchr scans, then done.
    if (s.find('\r') == std::string_view::npos && s.find('\n') == std::string_view::npos) return;
    for (std::size_t i = at; i < out.size(); ++i)
        if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
}

// Appends a header name with any character outside token as '-', so that a
// name set by code always makes one well-formed field line.
void append_name(std::string& out, std::string_view name) {
    if (is_token(name)) {
        out += name;
        return;
    }
    for (char c : name)
        out.push_back(is_token_char(c) ? c : '-');
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    append_name(out, name);
    out += ": ";
    append_line_text(out, value);
    out += "\r\n";
}

// Content-Length in any case, or its compact form "l", as append_name
// would write it (an octet outside token becomes '-': "Content Length" is
// written "Content-Length" and must be ours too).
bool is_content_length(std::string_view name) {
    if (name.size() == 1) return name[0] == 'l' || name[0] == 'L';
    constexpr std::string_view kName = "content-length";
    if (name.size() != kName.size()) return false;
    for (std::size_t i = 0; i < kName.size(); ++i) {
        const char c = is_token_char(name[i]) ? ascii_lower(name[i]) : '-';
        if (c != kName[i]) return false;
    }
    return true;
}

}  // namespace

std::string serialize(const Message& m) {
    std::size_t estimate = 64 + m.body.size();
    for (const HeaderField& f : m.fields)
        estimate += f.name.size() + f.value.size() + 4;
    std::string out;
    out.reserve(estimate);

    if (m.is_request()) {
        append_line_text(out, m.method);
        out.push_back(' ');
        append_line_text(out, to_string(m.request_uri));
        out.push_back(' ');
        append_line_text(out, m.version);
    } else {
        append_line_text(out, m.version);
        out.push_back(' ');
        const unsigned code = m.status_code;
        out.push_back(static_cast<char>('0' + code / 100 % 10));
        out.push_back(static_cast<char>('0' + code / 10 % 10));
        out.push_back(static_cast<char>('0' + code % 10));
        out.push_back(' ');
        append_line_text(out, m.reason_phrase);
    }
    out += "\r\n";

    const std::string length = std::to_string(m.body.size());
    bool length_written = false;
    for (const HeaderField& f : m.fields) {
        // Names are written as stored: canonical when they came through the
        // parser or Message's members. The length is ours whatever spelling
        // a field pushed by hand gave its name.
        if (is_content_length(f.name)) {
            if (!length_written) append_field(out, "Content-Length", length);
            length_written = true;
            continue;
        }
        append_field(out, f.name, f.value);
    }
    if (!length_written) append_field(out, "Content-Length", length);
    out += "\r\n";
    out += m.body;
    return out;
}

}  // namespace isthmus::sip
