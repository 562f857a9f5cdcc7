#include "msrp/uri.hpp"

#include "msrp/grammar.hpp"

namespace isthmus::msrp {

namespace {

constexpr std::size_t npos = std::string_view::npos;

std::optional<Uri> fail(std::string_view* why, std::string_view reason) {
    if (why != nullptr) *why = reason;
    return std::nullopt;
}

// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"   (RFC 3986 2.3)
constexpr bool is_unreserved(char c) {
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
// sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
constexpr bool is_sub_delim(char c) {
    return std::string_view("!$&'()*+,;=").find(c) != npos;
}

// userinfo = *( unreserved / pct-encoded / sub-delims / ":" )   (RFC 3986 3.2.1)
bool valid_userinfo(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
            i += 2;
        } else if (!is_unreserved(c) && !is_sub_delim(c) && c != ':') {
            return false;
        }
    }
    return true;
}

// IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet
std::optional<std::array<uint8_t, 4>> parse_ipv4(std::string_view s) {
    std::array<uint8_t, 4> out{};
    for (std::size_t part = 0; part < 4; ++part) {
        const std::size_t dot = part < 3 ? s.find('.') : s.size();
        if (dot == npos || dot == 0 || dot > 3) return std::nullopt;
        const auto v = parse_decimal(s.substr(0, dot), 255);
        if (!v) return std::nullopt;
        out[part] = static_cast<uint8_t>(*v);
        s.remove_prefix(part < 3 ? dot + 1 : dot);
    }
    if (!s.empty()) return std::nullopt;
    return out;
}

// A host name: labels of letters, digits, '-' and '_' separated by single
// dots, an optional final dot.
bool valid_hostname(std::string_view s) {
    if (s.empty() || s.front() == '.') return false;
    char prev = '\0';
    for (char c : s) {
        if (c == '.' && prev == '.') return false;
        if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return false;
        prev = c;
    }
    return true;
}

bool all_digits_and_dots(std::string_view s) {
    for (char c : s)
        if (!is_digit(c) && c != '.') return false;
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

bool same_host(const Uri& a, const Uri& b) {
    if (a.host_kind != b.host_kind) return false;
    switch (a.host_kind) {
        case HostKind::IPv6: {
            auto strip = [](std::string_view h) { return h.substr(1, h.size() - 2); };
            const auto x = parse_ipv6(strip(a.host));
            const auto y = parse_ipv6(strip(b.host));
            return x && y && *x == *y;
        }
        case HostKind::IPv4: {
            const auto x = parse_ipv4(a.host);
            const auto y = parse_ipv4(b.host);
            return x && y && *x == *y;
        }
        case HostKind::Name:
            break;
    }
    // A trailing dot names the same host (RFC 1034 3.1).
    std::string_view x = a.host;
    std::string_view y = b.host;
    if (!x.empty() && x.back() == '.') x.remove_suffix(1);
    if (!y.empty() && y.back() == '.') y.remove_suffix(1);
    return iequals(x, y);
}

}  // namespace

std::optional<std::array<uint8_t, 16>> parse_ipv6(std::string_view text) {
    std::array<uint16_t, 8> head{};
    std::array<uint16_t, 8> tail{};
    std::size_t nh = 0;
    std::size_t nt = 0;
    bool compressed = false;
    auto push = [&](uint16_t g) {
        if (nh + nt >= 8) return false;
        if (compressed)
            tail[nt++] = g;
        else
            head[nh++] = g;
        return true;
    };
    std::size_t i = 0;
    const std::size_t n = text.size();
    if (n >= 2 && text[0] == ':' && text[1] == ':') {
        compressed = true;
        i = 2;
    } else if (n == 0 || text[0] == ':') {
        return std::nullopt;
    }
    while (i < n) {
        std::size_t j = i;
        while (j < n && text[j] != ':')
            ++j;
        const std::string_view piece = text.substr(i, j - i);
        if (piece.find('.') != npos) {
            // An IPv4 address in the last 32 bits (RFC 4291 2.2 form 3).
            const auto v4 = parse_ipv4(piece);
            if (!v4 || j != n) return std::nullopt;
            if (!push(static_cast<uint16_t>(((*v4)[0] << 8) | (*v4)[1])) ||
                !push(static_cast<uint16_t>(((*v4)[2] << 8) | (*v4)[3])))
                return std::nullopt;
            i = j;
            break;
        }
        if (piece.empty() || piece.size() > 4) return std::nullopt;
        unsigned g = 0;
        for (char c : piece) {
            if (!is_hex(c)) return std::nullopt;
            g = g * 16 + static_cast<unsigned>(hex_value(c));
        }
        if (!push(static_cast<uint16_t>(g))) return std::nullopt;
        if (j == n) break;
        if (j + 1 < n && text[j + 1] == ':') {
            if (compressed) return std::nullopt;
            compressed = true;
            i = j + 2;
        } else {
            i = j + 1;
            if (i == n) return std::nullopt;  // a trailing single ':'
        }
    }
    if (compressed ? nh + nt > 7 : nh + nt != 8) return std::nullopt;
    std::array<uint16_t, 8> groups{};
    for (std::size_t k = 0; k < nh; ++k)
        groups[k] = head[k];
    for (std::size_t k = 0; k < nt; ++k)
        groups[8 - nt + k] = tail[k];
    std::array<uint8_t, 16> out{};
    for (std::size_t k = 0; k < 8; ++k) {
        out[2 * k] = static_cast<uint8_t>(groups[k] >> 8);
        out[2 * k + 1] = static_cast<uint8_t>(groups[k] & 0xFF);
    }
    return out;
}

std::optional<Uri> parse_uri(std::string_view text, std::string_view* why) {
    Uri u;
    const std::size_t sep = text.find("://");
    if (sep == npos) return fail(why, "no \"://\" after the scheme");
    const std::string_view scheme = text.substr(0, sep);
    if (iequals(scheme, "msrps"))
        u.secure = true;
    else if (!iequals(scheme, "msrp"))
        return fail(why, "scheme not msrp or msrps");
    std::string_view rest = text.substr(sep + 3);

    // [ userinfo "@" ]: no '@' can follow in a valid URI, so the last '@'
    // before the first '/' ends the userinfo.
    const std::size_t slash = rest.find('/');
    const std::size_t at = rest.substr(0, slash).rfind('@');
    if (at != npos) {
        const std::string_view userinfo = rest.substr(0, at);
        if (userinfo.empty() || !valid_userinfo(userinfo)) return fail(why, "bad userinfo");
        u.userinfo = std::string(userinfo);
        rest.remove_prefix(at + 1);
    }

    // host
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == npos || !parse_ipv6(rest.substr(1, close - 1)))
            return fail(why, "bad IPv6 literal");
        u.host = std::string(rest.substr(0, close + 1));
        u.host_kind = HostKind::IPv6;
        rest.remove_prefix(close + 1);
    } else {
        std::size_t end = 0;
        while (end < rest.size() && rest[end] != ':' && rest[end] != '/' && rest[end] != ';')
            ++end;
        const std::string_view host = rest.substr(0, end);
        if (host.empty()) return fail(why, "no host");
        if (all_digits_and_dots(host)) {
            if (!parse_ipv4(host)) return fail(why, "bad IPv4 address");
            u.host_kind = HostKind::IPv4;
        } else if (!valid_hostname(host)) {
            return fail(why, "bad host name");
        }
        u.host = std::string(host);
        rest.remove_prefix(end);
    }

    // [ ":" port ]
    if (!rest.empty() && rest.front() == ':') {
        std::size_t end = 1;
        while (end < rest.size() && rest[end] != '/' && rest[end] != ';')
            ++end;
        const auto port = parse_decimal(rest.substr(1, end - 1), 65535);
        if (!port) return fail(why, "bad port");
        u.port = static_cast<uint16_t>(*port);
        rest.remove_prefix(end);
    }

    // [ "/" session-id ]
    if (!rest.empty() && rest.front() == '/') {
        std::size_t end = 1;
        while (end < rest.size() && rest[end] != ';')
            ++end;
        const std::string_view sid = rest.substr(1, end - 1);
        if (sid.empty()) return fail(why, "empty session-id");
        for (char c : sid)
            if (!is_unreserved(c) && c != '+' && c != '=' && c != '/')
                return fail(why, "session-id: bad character");
        u.session_id = std::string(sid);
        rest.remove_prefix(end);
    }

    // ";" transport *( ";" URI-parameter )
    if (rest.empty() || rest.front() != ';') return fail(why, "no ;transport");
    rest.remove_prefix(1);
    std::size_t end = rest.find(';');
    const std::string_view transport = rest.substr(0, end);
    if (transport.empty()) return fail(why, "empty transport");
    for (char c : transport)
        if (!is_alnum(c)) return fail(why, "transport: bad character");
    u.transport = std::string(transport);
    rest.remove_prefix(end == npos ? rest.size() : end);
    while (!rest.empty()) {
        rest.remove_prefix(1);  // ';'
        end = rest.find(';');
        const std::string_view param = rest.substr(0, end);
        rest.remove_prefix(end == npos ? rest.size() : end);
        UriParam p;
        const std::size_t eq = param.find('=');
        p.name = std::string(param.substr(0, eq));
        if (!is_token(p.name)) return fail(why, "URI parameter: bad name");
        if (eq != npos) {
            p.value = std::string(param.substr(eq + 1));
            p.has_value = true;
            if (!is_token(p.value)) return fail(why, "URI parameter: bad value");
        }
        u.params.push_back(std::move(p));
    }
    return u;
}

std::string to_string(const Uri& uri) {
    std::string s = uri.secure ? "msrps://" : "msrp://";
    if (!uri.userinfo.empty()) {
        s += uri.userinfo;
        s += '@';
    }
    s += uri.host;
    if (uri.port) {
        s += ':';
        s += std::to_string(*uri.port);
    }
    if (!uri.session_id.empty()) {
        s += '/';
        s += uri.session_id;
    }
    s += ';';
    s += uri.transport;
    for (const UriParam& p : uri.params) {
        s += ';';
        s += p.name;
        if (p.has_value) {
            s += '=';
            s += p.value;
        }
    }
    return s;
}

bool uri_equal(const Uri& a, const Uri& b) {
    return a.secure == b.secure && same_host(a, b) && a.port == b.port &&
           a.session_id == b.session_id && iequals(a.transport, b.transport);
}

}  // namespace isthmus::msrp
