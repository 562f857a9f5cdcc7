#include "sdp/parser.hpp"

#include <utility>

#include "sdp/grammar.hpp"

namespace isthmus::sdp {

namespace {

constexpr std::size_t npos = std::string_view::npos;

ParseResult fail(ParseError e, std::size_t line, const std::string& what) {
    ParseResult r;
    r.error = e;
    r.line = line;
    r.reason = line == 0 ? what : "line " + std::to_string(line) + ": " + what;
    return r;
}

std::string type_name(char type) {
    return std::string(1, type) + '=';
}

// Only CR and LF from `pos` to the end.
bool only_line_ends(std::string_view bytes, std::size_t pos) {
    return bytes.find_first_not_of("\r\n", pos) == npos;
}

// The checks of a line that is neither one of the first three nor m=: the
// error and why, or None.
std::pair<ParseError, std::string> check_body_line(char type, std::string_view value, bool in_media,
                                                   bool seen_t) {
    constexpr std::string_view session_only = "vosueptrz";
    if (session_only.find(type) != npos) {
        if (in_media)
            return {ParseError::MisplacedLine,
                    type_name(type) + " is not allowed in a media description"};
        if (type == 'v' || type == 'o' || type == 's')
            return {ParseError::MisplacedLine, "a second " + type_name(type)};
        if (type == 'r' && !seen_t) return {ParseError::MisplacedLine, "r= before any t="};
        if (type == 't' && !parse_timing(value))
            return {ParseError::BadTiming, "t= is not two decimal times"};
    }
    if (type == 'c' && !parse_connection(value))
        return {ParseError::BadConnection, "c= is not <nettype> <addrtype> <address>"};
    if (type == 'a' && split_once(value, ':').first.empty())
        return {ParseError::BadAttribute, "a= without a name"};
    return {ParseError::None, {}};
}

std::pair<ParseError, std::string> media_line_error(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() >= 2 && !valid_media_port(w[1]))
        return {ParseError::BadPort,
                "m= port is not a number in 0..65535 (or its count not in 1..65535)"};
    return {ParseError::BadMediaLine, "m= is not <media> <port> <proto> <fmt>..."};
}

}  // namespace

ParseResult parse_sdp(std::string_view bytes, const ParseLimits& limits) {
    if (bytes.size() > limits.max_bytes)
        return fail(
            ParseError::TooLarge, 0,
            std::to_string(bytes.size()) + " bytes, more than " + std::to_string(limits.max_bytes));
    if (only_line_ends(bytes, 0)) return fail(ParseError::Empty, 0, "no lines");

    ParseResult r;
    SessionDescription& d = r.description;
    bool seen_t = false;
    std::size_t attributes = 0;  // in the current section
    std::size_t n = 0;           // lines so far
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        const std::size_t nl = bytes.find('\n', pos);
        const std::size_t end = nl == npos ? bytes.size() : nl;
        std::string_view line = bytes.substr(pos, end - pos);
        pos = nl == npos ? bytes.size() : nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::size_t number = n + 1;
        if (line.empty()) {
            if (only_line_ends(bytes, pos)) break;  // trailing empty lines: dropped
            return fail(ParseError::BadLine, number, "empty line");
        }
        n = number;
        if (n > limits.max_lines)
            return fail(ParseError::TooManyLines, n,
                        "more than " + std::to_string(limits.max_lines) + " lines");
        if (line.size() < 2 || line[1] != '=' || !is_alpha(line[0]))
            return fail(ParseError::BadLine, n, "not <letter>=<value>");
        const char type = line[0];
        const std::string_view value = line.substr(2);
        if (value.find('\0') != npos) return fail(ParseError::BadLine, n, "NUL in the line");
        if (value.find('\r') != npos) return fail(ParseError::BadLine, n, "CR inside the line");

        if (n == 1) {
            if (type != 'v' || value != "0")
                return fail(ParseError::BadVersion, n, "the first line is not v=0");
        } else if (n == 2) {
            if (type != 'o')
                return fail(ParseError::MissingOrigin, n, "expected o=, got " + type_name(type));
            if (!parse_origin(value))
                return fail(ParseError::BadOrigin, n,
                            "o= is not <username> <sess-id> <sess-version> <nettype> "
                            "<addrtype> <address>");
        } else if (n == 3) {
            if (type != 's')
                return fail(ParseError::MissingSessionName, n,
                            "expected s=, got " + type_name(type));
        } else if (type == 'm') {
            if (!seen_t) return fail(ParseError::MissingTiming, n, "m= before any t=");
            if (d.media.size() >= limits.max_media)
                return fail(ParseError::TooManyMedia, n,
                            "more than " + std::to_string(limits.max_media) + " m= lines");
            auto m = parse_media_line(value);
            if (!m) {
                const auto [e, why] = media_line_error(value);
                return fail(e, n, why);
            }
            d.media.emplace_back();
            d.media.back().m = std::move(*m);
            attributes = 0;
            continue;
        } else {
            const auto [e, why] = check_body_line(type, value, !d.media.empty(), seen_t);
            if (e != ParseError::None) return fail(e, n, why);
            seen_t = seen_t || type == 't';
            if (type == 'a' && ++attributes > limits.max_attributes_per_section)
                return fail(ParseError::TooManyAttributes, n,
                            "more than " + std::to_string(limits.max_attributes_per_section) +
                                " attributes in one section");
        }
        Section& section = d.media.empty() ? d.session : d.media.back();
        section.lines.push_back(Line{type, std::string(value)});
    }
    if (n < 2) return fail(ParseError::MissingOrigin, n + 1, "no o= line");
    if (n < 3) return fail(ParseError::MissingSessionName, n + 1, "no s= line");
    if (!seen_t) return fail(ParseError::MissingTiming, n + 1, "no t= line");
    return r;
}

}  // namespace isthmus::sdp
