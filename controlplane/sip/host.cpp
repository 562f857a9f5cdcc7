#include "sip/host.hpp"

#include <algorithm>

#include "sip/grammar.hpp"

namespace isthmus::sip {

namespace {

// domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum
// toplabel    = ALPHA / ALPHA *( alphanum / "-" ) alphanum
bool valid_label(std::string_view label, bool top) {
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
    if (top && !is_alpha(label.front())) return false;
    for (char c : label)
        if (!is_alnum(c) && c != '-') return false;
    return true;
}

bool valid_hostname(std::string_view h) {
    if (!h.empty() && h.back() == '.') h.remove_suffix(1);  // [ "." ]
    if (h.empty()) return false;
    for (;;) {
        const std::size_t dot = h.find('.');
        if (dot == std::string_view::npos) return valid_label(h, true);
        if (!valid_label(h.substr(0, dot), false)) return false;
        h.remove_prefix(dot + 1);
    }
}

bool parse_hex_group(std::string_view g, uint16_t& out) {
    if (g.empty() || g.size() > 4) return false;
    unsigned v = 0;
    for (char c : g) {
        if (!is_hex(c)) return false;
        const unsigned d = is_digit(c) ? static_cast<unsigned>(c - '0')
                                       : static_cast<unsigned>(ascii_lower(c) - 'a' + 10);
        v = v * 16 + d;
    }
    out = static_cast<uint16_t>(v);
    return true;
}

}  // namespace

bool parse_ipv4(std::string_view text, std::array<uint8_t, 4>& out) {
    for (std::size_t part = 0; part < 4; ++part) {
        const std::size_t dot = part < 3 ? text.find('.') : text.size();
        if (dot == std::string_view::npos) return false;
        const std::string_view digits = text.substr(0, dot);
        if (digits.size() > 3) return false;
        const auto v = parse_uint(digits, 255);
        if (!v) return false;
        out[part] = static_cast<uint8_t>(*v);
        text.remove_prefix(part < 3 ? dot + 1 : dot);
    }
    return text.empty();
}

bool parse_ipv6(std::string_view s, std::array<uint8_t, 16>& out) {
    if (s.size() < 2 || s.size() > 45) return false;
    std::array<uint16_t, 8> groups{};
    std::size_t n = 0;
    int gap = -1;  // index in groups where "::" stands
    std::size_t i = 0;
    if (s[0] == ':') {
        if (s[1] != ':') return false;
        gap = 0;
        i = 2;
    }
    while (i < s.size()) {
        const std::size_t colon = s.find(':', i);
        const std::string_view piece =
            s.substr(i, colon == std::string_view::npos ? std::string_view::npos : colon - i);
        if (piece.find('.') != std::string_view::npos) {  // trailing IPv4 dotted quad
            std::array<uint8_t, 4> v4{};
            if (colon != std::string_view::npos || n > 6 || !parse_ipv4(piece, v4)) return false;
            groups[n++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
            groups[n++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
            break;
        }
        if (n >= 8 || !parse_hex_group(piece, groups[n])) return false;
        ++n;
        if (colon == std::string_view::npos) break;
        i = colon + 1;
        if (i == s.size()) return false;  // one trailing ':'
        if (s[i] == ':') {
            if (gap != -1) return false;  // a second "::"
            gap = static_cast<int>(n);
            ++i;
        }
    }
    if (gap == -1 ? n != 8 : n > 7) return false;
    std::array<uint16_t, 8> full{};
    if (gap == -1) {
        full = groups;
    } else {
        const auto g = static_cast<std::size_t>(gap);
        for (std::size_t k = 0; k < g; ++k)
            full[k] = groups[k];
        const std::size_t tail = n - g;
        for (std::size_t k = 0; k < tail; ++k)
            full[8 - tail + k] = groups[g + k];
    }
    for (std::size_t k = 0; k < 8; ++k) {
        out[2 * k] = static_cast<uint8_t>(full[k] >> 8);
        out[2 * k + 1] = static_cast<uint8_t>(full[k]);
    }
    return true;
}

std::optional<HostKind> classify_host(std::string_view host) {
    if (host.empty()) return std::nullopt;
    if (host.front() == '[') {
        std::array<uint8_t, 16> v6{};
        if (host.size() < 2 || host.back() != ']') return std::nullopt;
        if (!parse_ipv6(host.substr(1, host.size() - 2), v6)) return std::nullopt;
        return HostKind::IPv6;
    }
    // An IPv4address starts with a digit; most hosts are names and skip it.
    std::array<uint8_t, 4> v4{};
    if (is_digit(host.front()) && parse_ipv4(host, v4)) return HostKind::IPv4;
    if (valid_hostname(host)) return HostKind::Name;
    return std::nullopt;
}

std::size_t scan_valid_host(std::string_view s, std::size_t pos, HostKind& kind) {
    constexpr std::size_t npos = std::string_view::npos;
    if (pos < s.size() && s[pos] == '[') {
        const std::size_t end = scan_host(s, pos);
        if (end == npos) return npos;
        const std::optional<HostKind> k = classify_host(s.substr(pos, end - pos));
        if (!k) return npos;
        kind = *k;
        return end;
    }
    // The labels as they go (valid_hostname's rules): each starts and ends
    // alphanumeric and holds only alphanumerics and '-'; the top label (the
    // last, or the one before a single trailing '.') starts with a letter.
    const std::size_t start = pos;
    bool digits_and_dots = true;
    std::size_t label_length = 0;
    char label_first = 0;
    char closed_first = 0;  // the first octet of the last label a '.' closed
    char prev = 0;
    for (; pos < s.size(); ++pos) {
        const char c = s[pos];
        if (c == ':' || c == ';' || c == '?' || c == ',' || is_wsp(c)) break;
        if (c == '.') {
            if (label_length == 0 || !is_alnum(prev)) return npos;
            closed_first = label_first;
            label_length = 0;
        } else if (is_alnum(c) || c == '-') {
            if (label_length == 0) {
                if (c == '-') return npos;
                label_first = c;
            }
            ++label_length;
            digits_and_dots = digits_and_dots && is_digit(c);
        } else {
            return npos;  // in no host but an IPv6 reference
        }
        prev = c;
    }
    if (pos == start) return npos;
    const std::string_view host = s.substr(start, pos - start);
    if (digits_and_dots) {
        // No name: its top label would start with a digit.
        std::array<uint8_t, 4> v4{};
        if (!parse_ipv4(host, v4)) return npos;
        kind = HostKind::IPv4;
        return pos;
    }
    const char top_first = label_length != 0 ? label_first : closed_first;
    if (label_length != 0 && !is_alnum(prev)) return npos;
    if (!is_alpha(top_first)) return npos;
    kind = HostKind::Name;
    return pos;
}

std::size_t scan_host(std::string_view s, std::size_t pos) {
    if (pos < s.size() && s[pos] == '[') {
        const std::size_t close = s.find(']', pos);
        return close == std::string_view::npos ? close : close + 1;
    }
    while (pos < s.size()) {
        const char c = s[pos];
        if (c == ':' || c == ';' || c == '?' || c == ',' || is_wsp(c)) break;
        ++pos;
    }
    return pos;
}

bool host_equivalent(std::string_view a, std::string_view b) {
    const auto ka = classify_host(a);
    const auto kb = classify_host(b);
    if (!ka || !kb || *ka != *kb) return false;
    if (*ka == HostKind::IPv6) {
        std::array<uint8_t, 16> va{};
        std::array<uint8_t, 16> vb{};
        return parse_ipv6(a.substr(1, a.size() - 2), va) &&
               parse_ipv6(b.substr(1, b.size() - 2), vb) && va == vb;
    }
    if (*ka == HostKind::IPv4) {
        std::array<uint8_t, 4> va{};
        std::array<uint8_t, 4> vb{};
        return parse_ipv4(a, va) && parse_ipv4(b, vb) && va == vb;
    }
    return iequals(a, b);
}

HostMatcher::HostMatcher(std::string_view host) : host_(host), kind_(classify_host(host)) {
    std::array<uint8_t, 4> v4{};
    if (kind_ == HostKind::IPv4 && parse_ipv4(host_, v4)) {
        std::copy(v4.begin(), v4.end(), address_.begin());
    } else if (kind_ == HostKind::IPv6) {
        parse_ipv6(std::string_view(host_).substr(1, host_.size() - 2), address_);
    }
}

bool HostMatcher::matches(std::string_view host) const {
    if (!kind_ || host.empty()) return false;
    switch (*kind_) {
        case HostKind::Name:
            // Equal but for case to a valid name is a valid name.
            return iequals(host_, host);
        case HostKind::IPv4: {
            std::array<uint8_t, 4> v4{};
            return parse_ipv4(host, v4) && std::equal(v4.begin(), v4.end(), address_.begin());
        }
        case HostKind::IPv6: {
            std::array<uint8_t, 16> v6{};
            return host.size() > 2 && host.front() == '[' && host.back() == ']' &&
                   parse_ipv6(host.substr(1, host.size() - 2), v6) && v6 == address_;
        }
    }
    return false;
}

}  // namespace isthmus::sip
