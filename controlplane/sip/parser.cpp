#include "sip/parser.hpp"

#include <algorithm>
#include <utility>

#include "sip/grammar.hpp"
#include "sip/header_names.hpp"
#include "sip/headers.hpp"

namespace isthmus::sip {

namespace {

constexpr std::size_t npos = std::string_view::npos;

ParseResult fail(ParseResult&& r, ParseError e, std::string reason) {
    r.status = ParseStatus::Error;
    r.error = e;
    r.reason = std::move(reason);
    r.consumed = 0;
    return std::move(r);
}

ParseResult incomplete(std::size_t lead) {
    ParseResult r;
    r.status = ParseStatus::Incomplete;
    r.consumed = lead;
    return r;
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" case-insensitive, as
// every ABNF literal).
bool valid_version(std::string_view v) {
    if (v.size() < 7 || !iequals(v.substr(0, 4), "SIP/")) return false;
    v.remove_prefix(4);
    const std::size_t dot = v.find('.');
    if (dot == npos || dot == 0 || dot + 1 == v.size()) return false;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (i != dot && !is_digit(v[i])) return false;
    return true;
}

// Reason-Phrase: any text but control characters (HTAB allowed). RFC 3261's
// grammar is narrower (no '"', '<' ...) but what peers send is not; the
// phrase is for humans and forwarded as it came.
bool valid_reason(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) return false;
    }
    return true;
}

// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
std::optional<std::pair<ParseError, std::string>> parse_status_line(std::string_view line,
                                                                    Message& m) {
    const std::size_t sp = line.find(' ');
    if (sp == npos || !valid_version(line.substr(0, sp)))
        return std::pair{ParseError::BadStartLine, std::string("Status-Line: bad SIP-Version")};
    const std::string_view rest = line.substr(sp + 1);
    std::size_t digits = 0;
    while (digits < rest.size() && is_digit(rest[digits]))
        ++digits;
    const auto code = parse_uint(rest.substr(0, digits), 999);
    if (digits != 3 || !code || *code < 100 || *code > 699 || (rest.size() > 3 && rest[3] != ' '))
        return std::pair{ParseError::BadStatusCode,
                         std::string("Status-Line: status code not 3 digits in 100..699")};
    // "SIP/2.0 100" without the SP before an empty phrase: accepted (RFC 4475 noreason
    // calls a receiver that does so liberal).
    const std::string_view reason = rest.size() > 4 ? rest.substr(4) : std::string_view();
    if (!valid_reason(reason))
        return std::pair{ParseError::BadStartLine,
                         std::string("Status-Line: control character in the reason phrase")};
    m.version = std::string(line.substr(0, sp));
    m.status_code = static_cast<uint16_t>(*code);
    m.reason_phrase = std::string(reason);
    return std::nullopt;
}

// Request-Line = Method SP Request-URI SP SIP-Version
std::optional<std::pair<ParseError, std::string>> parse_request_line(std::string_view line,
                                                                     Message& m) {
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == npos ? npos : line.find(' ', sp1 + 1);
    if (sp2 == npos || line.find(' ', sp2 + 1) != npos || sp2 == sp1 + 1)
        return std::pair{ParseError::BadStartLine,
                         std::string("Request-Line: not three parts separated by one SP")};
    const std::string_view method = line.substr(0, sp1);
    const std::string_view uri_text = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method))
        return std::pair{ParseError::BadStartLine, std::string("Request-Line: bad method")};
    if (!valid_version(version))
        return std::pair{ParseError::BadStartLine, std::string("Request-Line: bad SIP-Version")};
    auto uri = parse_uri(uri_text);
    if (!uri) return std::pair{ParseError::BadRequestUri, std::string("malformed Request-URI")};
    // RFC 3261 19.1.1 (table): no headers in a Request-URI (RFC 4475 escruri).
    if (uri->is_sip() && !uri->headers.empty())
        return std::pair{ParseError::BadRequestUri, std::string("Request-URI with ?headers")};
    m.method = std::string(method);
    m.request_uri = std::move(*uri);
    m.version = std::string(version);
    return std::nullopt;
}

std::optional<std::pair<ParseError, std::string>> parse_start_line(std::string_view line,
                                                                   Message& m) {
    if (line.size() >= 4 && iequals(line.substr(0, 4), "SIP/")) return parse_status_line(line, m);
    return parse_request_line(line, m);
}

std::string line_label(std::size_t line_no) {
    return line_no == 0 ? std::string("start line") : "header line " + std::to_string(line_no);
}

}  // namespace

ParseResult parse_message(std::string_view bytes, Framing framing, const ParseLimits& limits) {
    ParseResult r;
    const bool stream = framing == Framing::Stream;
    std::size_t pos = 0;
    // RFC 3261 7.5: CRLFs before the start line are ignored.
    while (pos + 1 < bytes.size() && bytes[pos] == '\r' && bytes[pos + 1] == '\n')
        pos += 2;
    const std::size_t lead = pos;
    if (!stream && bytes.size() > limits.max_message_bytes)
        return fail(std::move(r), ParseError::MessageTooLarge,
                    "datagram of " + std::to_string(bytes.size()) + " octets");
    if (pos == bytes.size() || (pos + 1 == bytes.size() && bytes[pos] == '\r')) {
        if (stream) return incomplete(lead);
        return fail(std::move(r), ParseError::Empty, "no start line");
    }

    Message& m = r.message;
    // Room for the fields of a usual request or response and what a proxy
    // adds to it, without growing the vector field by field.
    m.fields.reserve(std::min<std::size_t>(limits.max_headers, 32));
    std::size_t line_start = pos;
    std::size_t line_no = 0;
    std::size_t field_lines = 0;
    std::size_t field_octets = 0;  // of the field being read, folded lines included
    bool in_field = false;
    std::size_t body_start = npos;
    while (body_start == npos) {
        const std::size_t nl = bytes.find('\n', line_start);
        if (nl == npos) {
            // The last line has not ended yet: check what can be checked.
            const std::string_view partial = bytes.substr(line_start);
            const std::size_t cr = partial.find('\r');
            if (cr != npos && cr + 1 < partial.size())
                return fail(std::move(r), ParseError::BadLineEnding,
                            line_label(line_no) + ": bare CR");
            if (line_no == 0 && partial.size() > limits.max_start_line)
                return fail(std::move(r), ParseError::StartLineTooLong, "start line too long");
            const bool folded = in_field && !partial.empty() && is_wsp(partial[0]);
            if (line_no > 0 &&
                (folded ? field_octets + partial.size() : partial.size()) > limits.max_header_line)
                return fail(std::move(r), ParseError::HeaderLineTooLong,
                            line_label(line_no) + ": too long");
            if (!stream)
                return fail(std::move(r), ParseError::HeadersUnterminated,
                            "no empty line after the header fields");
            if (bytes.size() - lead >= limits.max_message_bytes)
                return fail(
                    std::move(r), ParseError::MessageTooLarge,
                    "header section over " + std::to_string(limits.max_message_bytes) + " octets");
            return incomplete(lead);
        }
        if (nl + 1 - lead > limits.max_message_bytes)
            return fail(
                std::move(r), ParseError::MessageTooLarge,
                "header section over " + std::to_string(limits.max_message_bytes) + " octets");
        if (nl == line_start || bytes[nl - 1] != '\r')
            return fail(std::move(r), ParseError::BadLineEnding,
                        line_label(line_no) + ": LF without CR");
        const std::string_view line = bytes.substr(line_start, nl - 1 - line_start);
        if (line.find('\r') != npos)
            return fail(std::move(r), ParseError::BadLineEnding, line_label(line_no) + ": bare CR");

        if (line_no == 0) {
            if (line.size() > limits.max_start_line)
                return fail(std::move(r), ParseError::StartLineTooLong, "start line too long");
            if (auto err = parse_start_line(line, m))
                return fail(std::move(r), err->first, std::move(err->second));
        } else if (line.empty()) {
            body_start = nl + 1;
        } else if (is_wsp(line[0])) {
            // RFC 3261 7.3.1: a continuation of the previous field; the fold
            // and the white space around it become one SP.
            if (!in_field)
                return fail(std::move(r), ParseError::BadFolding,
                            line_label(line_no) + ": continuation without a field");
            field_octets += line.size() + 2;
            if (field_octets > limits.max_header_line)
                return fail(
                    std::move(r), ParseError::HeaderLineTooLong,
                    line_label(line_no) + ": " + m.fields.back().name.substr(0, 64) + " too long");
            const std::string_view more = trim_lws(line);
            std::string& value = m.fields.back().value;
            if (!more.empty()) {
                if (!value.empty()) value.push_back(' ');
                value.append(more);
            }
        } else {
            if (++field_lines > limits.max_headers)
                return fail(std::move(r), ParseError::TooManyHeaders,
                            "more than " + std::to_string(limits.max_headers) + " header fields");
            field_octets = line.size() + 2;
            if (field_octets > limits.max_header_line)
                return fail(std::move(r), ParseError::HeaderLineTooLong,
                            line_label(line_no) + ": too long");
            // field-name = token, then HCOLON = *( SP / HTAB ) ":" SWS
            std::size_t i = 0;
            while (i < line.size() && is_token_char(line[i]))
                ++i;
            const std::size_t colon = skip_wsp(line, i);
            if (i == 0 || colon >= line.size() || line[colon] != ':')
                return fail(std::move(r), ParseError::BadHeaderLine,
                            line_label(line_no) + ": not a token name and ':'");
            m.fields.push_back({std::string(canonical_header_name(line.substr(0, i))),
                                std::string(trim_lws(line.substr(colon + 1)))});
            in_field = true;
        }
        line_start = nl + 1;
        ++line_no;
    }

    // Content-Length framing (RFC 3261 18.3, 20.14).
    HeaderField* cl_field = nullptr;
    for (HeaderField& f : m.fields) {
        if (f.name != "Content-Length") continue;
        if (cl_field)
            return fail(std::move(r), ParseError::BadContentLength, "more than one Content-Length");
        cl_field = &f;
    }
    const std::size_t head = body_start - lead;
    std::size_t length = bytes.size() - body_start;
    if (cl_field) {
        const auto cl = parse_content_length(cl_field->value);
        if (!cl)
            return fail(std::move(r), ParseError::BadContentLength, "Content-Length: not a number");
        cl_field->value = to_string(*cl);
        if (cl->length > limits.max_message_bytes || head + cl->length > limits.max_message_bytes)
            return fail(std::move(r), ParseError::MessageTooLarge,
                        "Content-Length " + cl_field->value + " over the message limit");
        if (cl->length > length) {
            if (stream) return incomplete(lead);
            return fail(std::move(r), ParseError::BodyTruncated,
                        "Content-Length " + cl_field->value + " but " + std::to_string(length) +
                            " octets of body");
        }
        length = cl->length;
    } else if (stream) {
        return fail(std::move(r), ParseError::MissingContentLength, "no Content-Length");
    }
    m.body = std::string(bytes.substr(body_start, length));
    r.status = ParseStatus::Ok;
    r.consumed = stream ? body_start + length : bytes.size();
    return r;
}

}  // namespace isthmus::sip
