#include "msrp/fields.hpp"

#include <limits>
#include <utility>

#include "msrp/grammar.hpp"

namespace isthmus::msrp {

namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr uint64_t kMaxNumber = std::numeric_limits<uint64_t>::max();

template <typename T>
std::optional<T> fail(std::string* why, std::string reason) {
    if (why != nullptr) *why = std::move(reason);
    return std::nullopt;
}

// A value excerpt for an error text: at most 48 characters, control
// characters as '?'.
std::string excerpt(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 48)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7F) ? '?' : c;
    }
    if (s.size() > 48) out += "...";
    return out;
}

// range-start / range-end / total / namespace / status-code digits.
std::optional<uint64_t> number(std::string_view s) {
    return parse_decimal(s, kMaxNumber);
}

std::optional<uint16_t> three_digits(std::string_view s) {
    if (s.size() != 3) return std::nullopt;
    const auto v = parse_decimal(s, 999);
    if (!v) return std::nullopt;
    return static_cast<uint16_t>(*v);
}

// quoted-string = DQUOTE *(qdtext / qd-esc) DQUOTE, from s[0]; returns the
// length consumed or npos.
std::size_t quoted_string_length(std::string_view s) {
    if (s.empty() || s[0] != '"') return npos;
    for (std::size_t i = 1; i < s.size(); ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (s[i] == '"') return i + 1;
        if (s[i] == '\\') {
            if (i + 1 >= s.size() || (s[i + 1] != '\\' && s[i + 1] != '"')) return npos;
            ++i;
        } else if ((u < 0x20 && s[i] != '\t') || u == 0x7F) {
            return npos;
        }
    }
    return npos;
}

}  // namespace

std::optional<std::vector<Uri>> parse_path(std::string_view value, std::string* why) {
    std::vector<Uri> path;
    std::size_t i = 0;
    while (i < value.size()) {
        while (i < value.size() && is_wsp(value[i]))
            ++i;
        if (i == value.size()) break;
        std::size_t end = i;
        while (end < value.size() && !is_wsp(value[end]))
            ++end;
        const std::string_view text = value.substr(i, end - i);
        std::string_view uri_why;
        auto uri = parse_uri(text, &uri_why);
        if (!uri)
            return fail<std::vector<Uri>>(why, "URI " + std::to_string(path.size() + 1) + " \"" +
                                                   excerpt(text) + "\": " + std::string(uri_why));
        path.push_back(std::move(*uri));
        i = end;
    }
    if (path.empty()) return fail<std::vector<Uri>>(why, "no URI");
    return path;
}

std::string to_string(const std::vector<Uri>& path) {
    std::string s;
    for (const Uri& u : path) {
        if (!s.empty()) s += ' ';
        s += to_string(u);
    }
    return s;
}

std::optional<ByteRange> parse_byte_range(std::string_view value, std::string* why) {
    const std::size_t dash = value.find('-');
    const std::size_t slash = value.find('/', dash == npos ? 0 : dash);
    if (dash == npos || slash == npos)
        return fail<ByteRange>(why, "\"" + excerpt(value) + "\" not start-end/total");
    const std::string_view s_start = value.substr(0, dash);
    const std::string_view s_end = value.substr(dash + 1, slash - dash - 1);
    const std::string_view s_total = value.substr(slash + 1);
    ByteRange r;
    const auto start = number(s_start);
    if (!start) return fail<ByteRange>(why, "start \"" + excerpt(s_start) + "\" not a number");
    if (*start == 0) return fail<ByteRange>(why, "start 0 (octets are numbered from 1)");
    r.start = *start;
    if (s_end != "*") {
        r.end = number(s_end);
        if (!r.end) return fail<ByteRange>(why, "end \"" + excerpt(s_end) + "\" not a number or *");
        if (*r.end < r.start - 1)
            return fail<ByteRange>(
                why, "end " + std::to_string(*r.end) + " before start " + std::to_string(r.start));
    }
    if (s_total != "*") {
        r.total = number(s_total);
        if (!r.total)
            return fail<ByteRange>(why, "total \"" + excerpt(s_total) + "\" not a number or *");
        if (r.end && *r.end > *r.total)
            return fail<ByteRange>(
                why, "end " + std::to_string(*r.end) + " past total " + std::to_string(*r.total));
        if (r.start - 1 > *r.total)
            return fail<ByteRange>(why, "start " + std::to_string(r.start) + " past total " +
                                            std::to_string(*r.total));
    }
    return r;
}

std::optional<SuccessReport> parse_success_report(std::string_view value) {
    if (iequals(value, "yes")) return SuccessReport::Yes;
    if (iequals(value, "no")) return SuccessReport::No;
    return std::nullopt;
}

std::optional<FailureReport> parse_failure_report(std::string_view value) {
    if (iequals(value, "yes")) return FailureReport::Yes;
    if (iequals(value, "no")) return FailureReport::No;
    if (iequals(value, "partial")) return FailureReport::Partial;
    return std::nullopt;
}

std::string_view to_string(SuccessReport v) {
    return v == SuccessReport::Yes ? "yes" : "no";
}

std::string_view to_string(FailureReport v) {
    switch (v) {
        case FailureReport::No:
            return "no";
        case FailureReport::Partial:
            return "partial";
        case FailureReport::Yes:
            break;
    }
    return "yes";
}

std::optional<StatusHeader> parse_status_header(std::string_view value, std::string* why) {
    StatusHeader s;
    const auto ns = three_digits(value.substr(0, 3));
    if (!ns || (value.size() > 3 && value[3] != ' '))
        return fail<StatusHeader>(why, "namespace in \"" + excerpt(value) + "\" not 3 digits");
    if (value.size() < 7) return fail<StatusHeader>(why, "no status code after the namespace");
    const auto code = three_digits(value.substr(4, 3));
    if (!code || (value.size() > 7 && value[7] != ' '))
        return fail<StatusHeader>(why, "status code in \"" + excerpt(value) + "\" not 3 digits");
    s.ns = *ns;
    s.code = *code;
    if (value.size() > 8) s.reason = std::string(value.substr(8));
    return s;
}

std::string to_string(const StatusHeader& s) {
    auto three = [](uint16_t v) {
        std::string t = std::to_string(v > 999 ? 999 : v);
        return std::string(3 - t.size(), '0') + t;
    };
    std::string out = three(s.ns) + ' ' + three(s.code);
    if (!s.reason.empty()) {
        out += ' ';
        out += s.reason;
    }
    return out;
}

bool is_media_type(std::string_view value) {
    const std::size_t slash = value.find('/');
    if (slash == npos || !is_token(value.substr(0, slash))) return false;
    std::size_t i = slash + 1;
    std::size_t end = i;
    while (end < value.size() && is_token_char(value[end]))
        ++end;
    if (end == i) return false;
    i = end;
    auto skip_wsp = [&] {
        while (i < value.size() && is_wsp(value[i]))
            ++i;
    };
    skip_wsp();
    while (i < value.size()) {
        if (value[i] != ';') return false;
        ++i;
        skip_wsp();
        end = i;
        while (end < value.size() && is_token_char(value[end]))
            ++end;
        if (end == i) return false;  // pname = token
        i = end;
        skip_wsp();
        if (i < value.size() && value[i] == '=') {
            ++i;
            skip_wsp();
            if (i < value.size() && value[i] == '"') {
                const std::size_t q = quoted_string_length(value.substr(i));
                if (q == npos) return false;
                i += q;
            } else {
                end = i;
                while (end < value.size() && is_token_char(value[end]))
                    ++end;
                if (end == i) return false;
                i = end;
            }
            skip_wsp();
        }
    }
    return true;
}

}  // namespace isthmus::msrp
