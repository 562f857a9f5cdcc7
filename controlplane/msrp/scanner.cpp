#include "msrp/scanner.hpp"

#include <algorithm>
#include <utility>

#include "msrp/fields.hpp"
#include "msrp/grammar.hpp"

namespace isthmus::msrp::detail {

namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr std::string_view kMsrp = "MSRP ";
constexpr std::string_view kDashes = "-------";

// The typed fields, for the duplicate check.
enum FieldBit : uint32_t {
    kToPath = 1U << 0,
    kFromPath = 1U << 1,
    kMessageId = 1U << 2,
    kByteRange = 1U << 3,
    kSuccessReport = 1U << 4,
    kFailureReport = 1U << 5,
    kStatus = 1U << 6,
    kContentType = 1U << 7,
};

struct TypedField {
    std::string_view name;
    FieldBit bit;
};
constexpr TypedField kTypedFields[] = {
    {"To-Path", kToPath},
    {"From-Path", kFromPath},
    {"Message-ID", kMessageId},
    {"Byte-Range", kByteRange},
    {"Success-Report", kSuccessReport},
    {"Failure-Report", kFailureReport},
    {"Status", kStatus},
    {"Content-Type", kContentType},
};

// Text from the wire for an error: at most 40 characters, control
// characters as '?', in quotes.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s.substr(0, 40)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7F) ? '?' : c;
    }
    if (s.size() > 40) out += "...";
    out += '"';
    return out;
}

bool all_upalpha(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_upalpha(c)) return false;
    return true;
}

}  // namespace

void Scanner::reset() {
    phase_ = Phase::StartLine;
    pos_ = 0;
    scan_ = 0;
    line_no_ = 0;
    body_start_ = 0;
    search_ = 0;
    after_headers_ = 0;
    marker_.clear();
    seen_ = 0;
    size_ = 0;
    msg_ = Message{};
    error_ = ParseError::None;
    reason_.clear();
}

Step Scanner::fail(ParseError e, std::string reason) {
    error_ = e;
    reason_ = std::move(reason);
    phase_ = Phase::Finished;
    return Step::Failed;
}

std::string Scanner::at_line(std::string_view name) const {
    std::string s = "line " + std::to_string(line_no_);
    if (!name.empty()) {
        s += " (";
        s += name;
        s += ')';
    }
    return s;
}

std::string Scanner::missing() const {
    switch (phase_) {
        case Phase::StartLine:
            return "start line without its CRLF";
        case Phase::Headers:
            return "headers without a blank line or an end line after them";
        case Phase::EndLineAfterHeaders:
            return "end line \"" + marker_.substr(2) + "\" incomplete";
        case Phase::Body:
            return "end line \"" + marker_.substr(2) + "\" missing in the " +
                   std::to_string(after_headers_) + " bytes after the headers";
        case Phase::Finished:
            break;
    }
    return {};
}

Step Scanner::read_line(std::string_view buf, std::string_view& line) {
    std::size_t i = std::max(scan_, pos_);
    // Line ends are looked for within the header limit only: past it the
    // answer is header_too_large whatever follows, and however TCP split
    // the bytes (a bare LF beyond the limit must not say bad_line_ending
    // when the bytes come whole and header_too_large when they come in
    // pieces: found by the msrp fuzz target).
    const std::string_view window = buf.substr(0, std::min(buf.size(), limits_.max_header_bytes));
    while (true) {
        i = window.find_first_of("\r\n", i);
        if (i == npos) break;
        if (buf[i] == '\n')
            return fail(ParseError::BadLineEnding, "line " + std::to_string(line_no_ + 1) +
                                                       ": a bare LF (lines end with CRLF)");
        if (i + 1 >= buf.size()) break;  // a CR, its LF not here yet
        if (buf[i + 1] != '\n')
            return fail(ParseError::BadLineEnding, "line " + std::to_string(line_no_ + 1) +
                                                       ": a bare CR (lines end with CRLF)");
        line = buf.substr(pos_, i - pos_);
        pos_ = i + 2;
        scan_ = pos_;
        ++line_no_;
        if (pos_ > limits_.max_header_bytes)
            return fail(ParseError::HeaderTooLarge, "start line and headers over " +
                                                        std::to_string(limits_.max_header_bytes) +
                                                        " bytes");
        return Step::Done;
    }
    scan_ = i == npos ? window.size() : i;
    if (buf.size() > limits_.max_header_bytes)
        return fail(
            ParseError::HeaderTooLarge,
            "start line and headers over " + std::to_string(limits_.max_header_bytes) + " bytes");
    return Step::NeedMore;
}

// req-start  = pMSRP SP transact-id SP method CRLF
// resp-start = pMSRP SP transact-id SP status-code [SP comment] CRLF
Step Scanner::on_start_line(std::string_view line) {
    std::string_view rest = line.substr(kMsrp.size());
    const std::size_t sp = rest.find(' ');
    if (sp == npos)
        return fail(ParseError::BadStartLine,
                    "start line: no method or status code after the transaction id");
    const std::string_view tid = rest.substr(0, sp);
    if (tid.size() < kMinIdentLength || tid.size() > kMaxIdentLength)
        return fail(ParseError::BadTransactionId,
                    "transaction id " + quoted(tid) + " not " + std::to_string(kMinIdentLength) +
                        ".." + std::to_string(kMaxIdentLength) + " characters");
    if (!is_ident(tid))
        return fail(ParseError::BadTransactionId,
                    "transaction id " + quoted(tid) +
                        ": not a letter or digit followed by letters, digits, . - + % =");
    msg_.transaction_id = std::string(tid);
    marker_ = "\r\n";
    marker_ += kDashes;
    marker_ += tid;

    rest.remove_prefix(sp + 1);
    std::size_t digits = 0;
    while (digits < rest.size() && is_digit(rest[digits]))
        ++digits;
    if (digits > 0) {
        if (digits != 3 || (rest.size() > 3 && rest[3] != ' '))
            return fail(ParseError::BadStatusCode,
                        "status code " + quoted(rest.substr(0, rest.find(' '))) + " not 3 digits");
        msg_.kind = MessageKind::Response;
        msg_.status_code = static_cast<uint16_t>(*parse_decimal(rest.substr(0, 3), 999));
        const std::string_view comment = rest.size() > 4 ? rest.substr(4) : std::string_view();
        if (!is_utf8text(comment))
            return fail(ParseError::BadStartLine, "start line: control character in the comment");
        msg_.comment = std::string(comment);
        return Step::Done;
    }
    if (!all_upalpha(rest))
        return fail(ParseError::BadStartLine,
                    "method " + quoted(rest) + " not upper-case letters (RFC 4975 9)");
    msg_.kind = MessageKind::Request;
    msg_.method = std::string(rest);
    return Step::Done;
}

Step Scanner::on_header_line(std::string_view line) {
    const std::size_t colon = line.find(':');
    if (colon == npos) return fail(ParseError::BadHeaderLine, at_line() + ": no ':'");
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name) || !is_alpha(name.front()))
        return fail(ParseError::BadHeaderLine,
                    at_line() + ": header name " + quoted(name) + " not a token");
    const std::string_view value = trim_wsp(line.substr(colon + 1));
    if (!is_utf8text(value))
        return fail(ParseError::BadHeaderLine, at_line(name) + ": control character in the value");

    const TypedField* typed = nullptr;
    for (const TypedField& f : kTypedFields)
        if (iequals(name, f.name)) typed = &f;
    if (typed == nullptr) {
        msg_.other_headers.push_back({std::string(name), std::string(value)});
        return Step::Done;
    }
    if ((seen_ & typed->bit) != 0)
        return fail(ParseError::DuplicateHeader,
                    at_line(typed->name) + ": " + std::string(typed->name) + " given twice");
    seen_ |= typed->bit;

    std::string why;
    switch (typed->bit) {
        case kToPath:
        case kFromPath: {
            auto path = parse_path(value, &why);
            if (!path) return fail(ParseError::BadPath, at_line(typed->name) + ": " + why);
            (typed->bit == kToPath ? msg_.to_path : msg_.from_path) = std::move(*path);
            break;
        }
        case kMessageId:
            if (!is_ident(value))
                return fail(ParseError::BadMessageId,
                            at_line(typed->name) + ": " + quoted(value) +
                                " not an ident of 4..32 letters, digits, . - + % =");
            msg_.message_id = std::string(value);
            break;
        case kByteRange:
            msg_.byte_range = parse_byte_range(value, &why);
            if (!msg_.byte_range)
                return fail(ParseError::BadByteRange, at_line(typed->name) + ": " + why);
            break;
        case kSuccessReport:
            msg_.success_report = parse_success_report(value);
            if (!msg_.success_report)
                return fail(ParseError::BadReportHeader,
                            at_line(typed->name) + ": " + quoted(value) + " not yes or no");
            break;
        case kFailureReport:
            msg_.failure_report = parse_failure_report(value);
            if (!msg_.failure_report)
                return fail(
                    ParseError::BadReportHeader,
                    at_line(typed->name) + ": " + quoted(value) + " not yes, no or partial");
            break;
        case kStatus:
            msg_.status = parse_status_header(value, &why);
            if (!msg_.status)
                return fail(ParseError::BadStatusHeader, at_line(typed->name) + ": " + why);
            break;
        case kContentType:
            if (!is_media_type(value))
                return fail(
                    ParseError::BadContentType,
                    at_line(typed->name) + ": " + quoted(value) + " not type/subtype[;params]");
            msg_.content_type = std::string(value);
            break;
    }
    return Step::Done;
}

Step Scanner::on_headers_end(bool content_stuff) {
    if ((seen_ & kToPath) == 0) return fail(ParseError::MissingHeader, "To-Path missing");
    if ((seen_ & kFromPath) == 0) return fail(ParseError::MissingHeader, "From-Path missing");
    if (msg_.is_request() && (msg_.method == "SEND" || msg_.method == "REPORT") && !msg_.message_id)
        return fail(ParseError::MissingHeader, "Message-ID missing in " + msg_.method);
    if (msg_.is_report() && !msg_.status)
        return fail(ParseError::MissingHeader, "Status missing in REPORT");
    if (content_stuff) {
        if (msg_.is_response())
            return fail(ParseError::ResponseWithBody,
                        "a response with a body (a blank line after its headers)");
        if (!msg_.content_type)
            return fail(ParseError::BodyWithoutContentType,
                        "a body (a blank line after the headers) without Content-Type");
    }
    return Step::Done;
}

// The end line right after the headers: a message without content-stuff.
Step Scanner::read_end_line_after_headers(std::string_view buf) {
    const std::string_view want = std::string_view(marker_).substr(2);  // "-------" tid
    const std::string_view have = buf.substr(pos_);
    const std::string_view head = have.substr(0, want.size());
    if (head != want.substr(0, head.size()))
        return fail(ParseError::BadEndLine, "line " + std::to_string(line_no_ + 1) + ": " +
                                                quoted(have.substr(0, have.find('\r'))) +
                                                " after the headers is not the end line \"" +
                                                std::string(want) + "\"");
    if (have.size() <= want.size()) return Step::NeedMore;
    const auto flag = continuation_from_char(have[want.size()]);
    if (!flag)
        return fail(ParseError::BadEndLine,
                    "end line flag " + quoted(have.substr(want.size(), 1)) + " not $, + or #");
    if (have.size() < want.size() + 3) {
        if (have.size() == want.size() + 2 && have[want.size() + 1] != '\r')
            return fail(ParseError::BadEndLine, "end line not followed by CRLF");
        return Step::NeedMore;
    }
    if (have[want.size() + 1] != '\r' || have[want.size() + 2] != '\n')
        return fail(ParseError::BadEndLine, "end line not followed by CRLF");
    if (on_headers_end(false) == Step::Failed) return Step::Failed;
    msg_.continuation = *flag;
    size_ = pos_ + want.size() + 3;
    phase_ = Phase::Finished;
    return Step::Done;
}

// data = *OCTET up to CRLF "-------" transact-id continuation-flag CRLF.
Step Scanner::read_body(std::string_view buf) {
    after_headers_ = buf.size() - body_start_;
    while (true) {
        const std::size_t found = buf.find(marker_, search_);
        if (found == npos) {
            // A marker not found whole may still start in the last
            // marker_.size() - 1 octets.
            if (buf.size() + 1 > marker_.size())
                search_ = std::max(search_, buf.size() + 1 - marker_.size());
            break;
        }
        const std::size_t after = found + marker_.size();
        if (buf.size() < after + 3) {  // flag and CRLF not here yet
            search_ = found;
            break;
        }
        const auto flag = continuation_from_char(buf[after]);
        if (!flag || buf[after + 1] != '\r' || buf[after + 2] != '\n') {
            search_ = found + 1;  // data that only looks like the end line
            continue;
        }
        const std::size_t length = found - body_start_;
        if (length > limits_.max_body_bytes)
            return fail(ParseError::BodyTooLarge, "data of " + std::to_string(length) +
                                                      " bytes over the limit of " +
                                                      std::to_string(limits_.max_body_bytes));
        if (msg_.byte_range && msg_.byte_range->end &&
            length > *msg_.byte_range->end - msg_.byte_range->start + 1)
            return fail(ParseError::BodyExceedsByteRange,
                        "Byte-Range " + to_string(*msg_.byte_range) + " is " +
                            std::to_string(*msg_.byte_range->end - msg_.byte_range->start + 1) +
                            " bytes, the data " + std::to_string(length));
        msg_.body.assign(buf.substr(body_start_, length));
        msg_.continuation = *flag;
        size_ = after + 3;
        phase_ = Phase::Finished;
        return Step::Done;
    }
    if (search_ - body_start_ > limits_.max_body_bytes)
        return fail(ParseError::BodyTooLarge,
                    "end line \"" + marker_.substr(2) + "\" missing within " +
                        std::to_string(limits_.max_body_bytes) + " bytes of data");
    return Step::NeedMore;
}

Step Scanner::advance(std::string_view buf) {
    while (true) {
        switch (phase_) {
            case Phase::StartLine: {
                // Refuse a stream that is not MSRP at its first octets,
                // without waiting for a line end.
                const std::size_t n = std::min(buf.size(), kMsrp.size());
                if (buf.substr(0, n) != kMsrp.substr(0, n))
                    return fail(ParseError::BadStartLine,
                                "start line does not begin with \"MSRP \": " +
                                    quoted(buf.substr(0, buf.find('\r'))));
                std::string_view line;
                const Step s = read_line(buf, line);
                if (s != Step::Done) return s;
                if (on_start_line(line) == Step::Failed) return Step::Failed;
                phase_ = Phase::Headers;
                break;
            }
            case Phase::Headers: {
                if (pos_ < buf.size() && buf[pos_] == '-') {
                    phase_ = Phase::EndLineAfterHeaders;
                    break;
                }
                std::string_view line;
                const Step s = read_line(buf, line);
                if (s != Step::Done) return s;
                if (line.empty()) {
                    if (on_headers_end(true) == Step::Failed) return Step::Failed;
                    body_start_ = pos_;
                    search_ = pos_;
                    phase_ = Phase::Body;
                } else if (on_header_line(line) == Step::Failed) {
                    return Step::Failed;
                }
                break;
            }
            case Phase::EndLineAfterHeaders:
                return read_end_line_after_headers(buf);
            case Phase::Body:
                return read_body(buf);
            case Phase::Finished:
                return error_ == ParseError::None ? Step::Done : Step::Failed;
        }
    }
}

}  // namespace isthmus::msrp::detail
