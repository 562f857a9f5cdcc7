#include "sip/uri.hpp"

#include <algorithm>

#include "sip/grammar.hpp"

namespace isthmus::sip {

namespace {

// user = 1*( unreserved / escaped / user-unreserved ),
// user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
constexpr CharSet kUser = charset::kUnreserved | CharSet("%&=+$,;?/");
// password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
constexpr CharSet kPassword = charset::kUnreserved | CharSet("%&=+$,");
// paramchar = param-unreserved / unreserved / escaped,
// param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$"
constexpr CharSet kParamchar = charset::kUnreserved | CharSet("%[]/:&+$");
// hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$"
constexpr CharSet kHnv = charset::kUnreserved | CharSet("%[]/?:+$");
// uric = reserved / unreserved / escaped (RFC 2396), plus '[' ']' (RFC 2732).
constexpr CharSet kUric = charset::kReserved | charset::kUnreserved | CharSet("%[]");

bool all_of(std::string_view s, const CharSet& set) {
    return std::all_of(s.begin(), s.end(), [&set](char c) { return set(c); }) && valid_escapes(s);
}

bool valid_scheme(std::string_view s) {
    if (s.empty() || !is_alpha(s[0])) return false;
    for (char c : s)
        if (!is_alnum(c) && c != '+' && c != '-' && c != '.') return false;
    return true;
}

// uri-parameters at s[pos] == ';' up to '?' or the end; stored in `out`
// unless it is null (a check only).
bool parse_uri_params(std::string_view s, std::size_t& pos, std::vector<Param>* out) {
    while (pos < s.size() && s[pos] == ';') {
        std::size_t end = pos + 1;
        while (end < s.size() && s[end] != ';' && s[end] != '?')
            ++end;
        const std::string_view item = s.substr(pos + 1, end - pos - 1);
        const std::size_t eq = item.find('=');
        const std::string_view name = item.substr(0, eq);
        if (name.empty() || !all_of(name, kParamchar)) return false;
        std::optional<std::string_view> value;
        if (eq != std::string_view::npos) {
            value = item.substr(eq + 1);
            if (value->empty() || !all_of(*value, kParamchar)) return false;
        }
        if (out) {
            Param p;
            p.name = std::string(name);
            if (value) p.value = std::string(*value);
            out->push_back(std::move(p));
        }
        pos = end;
    }
    return true;
}

// headers = "?" header *( "&" header ), header = hname "=" hvalue
bool parse_uri_headers(std::string_view s, std::vector<UriHeader>* out) {
    for (;;) {
        const std::size_t amp = s.find('&');
        const std::string_view item = s.substr(0, amp);
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos) return false;
        const std::string_view name = item.substr(0, eq);
        const std::string_view value = item.substr(eq + 1);
        if (name.empty() || !all_of(name, kHnv) || !all_of(value, kHnv)) return false;
        if (out) out->push_back({std::string(name), std::string(value)});
        if (amp == std::string_view::npos) return true;
        s.remove_prefix(amp + 1);
    }
}

// The rest of a sip: or sips: URI; its parts stored in `u` unless it is null.
bool scan_sip_uri(UriScheme scheme, std::string_view s, Uri* u) {
    if (u) u->scheme = scheme;
    // '@' appears nowhere after the userinfo (not in host, paramchar or hvalue).
    const std::size_t at = s.find('@');
    if (at != std::string_view::npos) {
        const std::string_view userinfo = s.substr(0, at);
        const std::size_t colon = userinfo.find(':');
        const std::string_view user = userinfo.substr(0, colon);
        if (user.empty() || !all_of(user, kUser)) return false;
        if (u) u->user = std::string(user);
        if (colon != std::string_view::npos) {
            const std::string_view password = userinfo.substr(colon + 1);
            if (!all_of(password, kPassword)) return false;
            if (u) u->password = std::string(password);
        }
        s.remove_prefix(at + 1);
    }
    HostKind kind{};
    const std::size_t host_end = scan_valid_host(s, 0, kind);
    if (host_end == std::string_view::npos) return false;
    if (u) {
        u->host = std::string(s.substr(0, host_end));
        u->host_kind = kind;
    }
    std::size_t pos = host_end;
    if (pos < s.size() && s[pos] == ':') {
        std::size_t end = pos + 1;
        while (end < s.size() && is_digit(s[end]))
            ++end;
        const auto port = parse_uint(s.substr(pos + 1, end - pos - 1), 65535);
        if (!port) return false;
        if (u) u->port = static_cast<uint16_t>(*port);
        pos = end;
    }
    if (!parse_uri_params(s, pos, u ? &u->params : nullptr)) return false;
    if (pos < s.size() && s[pos] == '?') {
        if (!parse_uri_headers(s.substr(pos + 1), u ? &u->headers : nullptr)) return false;
        pos = s.size();
    }
    return pos == s.size();
}

// Parameter values of RFC 3261 19.1.4: case-insensitive, escapes decoded.
bool same_value(const Param& a, const Param& b) {
    return iequals(normalize_escapes(a.value.value_or("")),
                   normalize_escapes(b.value.value_or("")));
}

bool same_opaque(std::string_view a, std::string_view b) {
    return iequals(normalize_escapes(a), normalize_escapes(b));
}

}  // namespace

const Param* Uri::param(std::string_view name) const {
    for (const Param& p : params) {
        if (iequals(p.name, name)) return &p;
        if (p.name.find('%') != std::string::npos && iequals(normalize_escapes(p.name), name))
            return &p;
    }
    return nullptr;
}

bool scan_uri(std::string_view text, Uri* u) {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view scheme = text.substr(0, colon);
    if (!valid_scheme(scheme)) return false;
    const std::string_view rest = text.substr(colon + 1);
    if (iequals(scheme, "sip")) return scan_sip_uri(UriScheme::Sip, rest, u);
    if (iequals(scheme, "sips")) return scan_sip_uri(UriScheme::Sips, rest, u);
    if (rest.empty() || !all_of(rest, kUric)) return false;
    if (!u) return true;
    if (iequals(scheme, "tel")) {
        u->scheme = UriScheme::Tel;
    } else {
        u->scheme = UriScheme::Other;
        u->other_scheme = to_lower(scheme);
    }
    u->opaque = std::string(rest);
    return true;
}

std::optional<Uri> parse_uri(std::string_view text) {
    std::optional<Uri> u(std::in_place);
    if (!scan_uri(text, &*u)) return std::nullopt;
    return u;
}

bool valid_uri(std::string_view text) {
    return scan_uri(text, nullptr);
}

std::string to_string(const Uri& u) {
    std::string out;
    switch (u.scheme) {
        case UriScheme::Tel:
            return "tel:" + u.opaque;
        case UriScheme::Other:
            return u.other_scheme + ":" + u.opaque;
        case UriScheme::Sips:
        case UriScheme::Sip:
            break;
    }
    // One allocation: an upper bound of the length (the port at its longest).
    std::size_t size = 5 + u.user.size() + 1 + u.host.size() + 6;
    if (u.password) size += 1 + u.password->size();
    for (const Param& p : u.params)
        size += 1 + p.name.size() + (p.value ? 1 + p.value->size() : 0);
    for (const auto& h : u.headers)
        size += 2 + h.name.size() + h.value.size();
    out.reserve(size);
    out = u.scheme == UriScheme::Sips ? "sips:" : "sip:";
    if (!u.user.empty()) {
        out += u.user;
        if (u.password) {
            out.push_back(':');
            out += *u.password;
        }
        out.push_back('@');
    }
    out += u.host;
    if (u.port) {
        out.push_back(':');
        out += std::to_string(*u.port);
    }
    for (const Param& p : u.params) {
        out.push_back(';');
        out += p.name;
        if (p.value) {
            out.push_back('=');
            out += *p.value;
        }
    }
    for (std::size_t i = 0; i < u.headers.size(); ++i) {
        out.push_back(i == 0 ? '?' : '&');
        out += u.headers[i].name;
        out.push_back('=');
        out += u.headers[i].value;
    }
    return out;
}

bool uri_equivalent(const Uri& a, const Uri& b) {
    if (a.scheme != b.scheme) return false;
    if (a.scheme == UriScheme::Tel) return same_opaque(a.opaque, b.opaque);
    if (a.scheme == UriScheme::Other)
        return a.other_scheme == b.other_scheme && same_opaque(a.opaque, b.opaque);

    if (normalize_escapes(a.user) != normalize_escapes(b.user)) return false;
    if (a.password.has_value() != b.password.has_value()) return false;
    if (a.password && normalize_escapes(*a.password) != normalize_escapes(*b.password))
        return false;
    if (!host_equivalent(a.host, b.host) || a.port != b.port) return false;

    // Parameters that must be in both or neither.
    for (std::string_view name : {"user", "ttl", "method", "maddr", "transport"}) {
        const Param* pa = a.param(name);
        const Param* pb = b.param(name);
        if ((pa == nullptr) != (pb == nullptr)) return false;
        if (pa && !same_value(*pa, *pb)) return false;
    }
    // Any other parameter: compared only when both have it. A name given
    // twice counts by its first occurrence, on both sides, as param() reads.
    for (const Param& pa : a.params) {
        const std::string name = normalize_escapes(pa.name);
        if (a.param(name) != &pa) continue;
        const Param* pb = b.param(name);
        if (pb && !same_value(pa, *pb)) return false;
    }
    // Headers are never ignored: the same set on both sides.
    if (a.headers.size() != b.headers.size()) return false;
    for (const UriHeader& ha : a.headers) {
        const bool found =
            std::any_of(b.headers.begin(), b.headers.end(), [&](const UriHeader& hb) {
                return iequals(normalize_escapes(ha.name), normalize_escapes(hb.name)) &&
                       iequals(normalize_escapes(ha.value), normalize_escapes(hb.value));
            });
        if (!found) return false;
    }
    return true;
}

}  // namespace isthmus::sip
