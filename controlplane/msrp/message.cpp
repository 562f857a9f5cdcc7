#include "msrp/message.hpp"

#include "msrp/grammar.hpp"

namespace isthmus::msrp {

char continuation_char(Continuation c) {
    switch (c) {
        case Continuation::More:
            return '+';
        case Continuation::Aborted:
            return '#';
        case Continuation::Complete:
            break;
    }
    return '$';
}

std::optional<Continuation> continuation_from_char(char c) {
    switch (c) {
        case '$':
            return Continuation::Complete;
        case '+':
            return Continuation::More;
        case '#':
            return Continuation::Aborted;
        default:
            return std::nullopt;
    }
}

std::string to_string(const ByteRange& r) {
    std::string s = std::to_string(r.start);
    s += '-';
    s += r.end ? std::to_string(*r.end) : std::string("*");
    s += '/';
    s += r.total ? std::to_string(*r.total) : std::string("*");
    return s;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
    for (const HeaderField& f : other_headers)
        if (iequals(f.name, name)) return std::string_view(f.value);
    return std::nullopt;
}

bool is_ident(std::string_view s) {
    if (s.size() < kMinIdentLength || s.size() > kMaxIdentLength || !is_alnum(s.front()))
        return false;
    for (char c : s)
        if (!is_ident_char(c)) return false;
    return true;
}

std::string_view default_comment(uint16_t code) {
    switch (code) {
        case status::kOk:
            return "OK";
        case status::kBadRequest:
            return "Bad Request";
        case status::kForbidden:
            return "Forbidden";
        case status::kRequestTimeout:
            return "Request Timeout";
        case status::kStopSending:
            return "Stop Sending";
        case status::kUnsupportedMedia:
            return "Unsupported Media Type";
        case status::kIntervalOutOfBounds:
            return "Interval Out-of-Bounds";
        case status::kSessionDoesNotExist:
            return "Session Does Not Exist";
        case status::kUnknownMethod:
            return "Unknown Method";
        case status::kSessionAlreadyBound:
            return "Session Already Bound";
        default:
            return "";
    }
}

}  // namespace isthmus::msrp
