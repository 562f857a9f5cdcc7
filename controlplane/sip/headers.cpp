#include "sip/headers.hpp"

#include <array>

#include "sip/grammar.hpp"

namespace isthmus::sip {

namespace {

// The display name and '<' of a name-addr: `pos` is at the first byte of the
// value; on success it is just past the '<'. Stored in `na` unless it is null.
bool parse_display_name(std::string_view s, std::size_t& pos, NameAddr* na) {
    if (s[pos] == '"') {
        const std::size_t end = scan_quoted(s, pos);
        if (end == std::string_view::npos) return false;
        if (na) {
            na->display_name = std::string(s.substr(pos + 1, end - pos - 2));
            na->display_name_quoted = true;
        }
        pos = skip_wsp(s, end);
        if (pos >= s.size() || s[pos] != '<') return false;
        ++pos;
        return true;
    }
    // *(token LWS) "<": LWS between the last token and '<' is optional (RFC
    // 4475 lwsdisp: "caller<sip:...>" is accepted).
    std::size_t i = pos;
    for (;;) {
        const std::size_t start = i;
        while (i < s.size() && is_token_char(s[i]))
            ++i;
        if (i > start && na) {
            if (!na->display_name.empty()) na->display_name.push_back(' ');
            na->display_name.append(s.substr(start, i - start));
        }
        i = skip_wsp(s, i);
        if (i >= s.size() || s[i] == '<') break;
        if (!is_token_char(s[i])) return false;
    }
    if (i >= s.size()) return false;
    pos = i + 1;
    return true;
}

// name-addr / addr-spec and its header parameters, stored in `na` unless it
// is null (a check alone, allocating nothing).
bool scan_name_addr(std::string_view value, NameAddr* na) {
    const std::string_view s = trim_lws(value);
    if (s.empty()) return false;
    std::size_t pos = 0;
    Uri* uri = na ? &na->uri : nullptr;
    // name-addr when a quoted display name or a '<' comes first (before the
    // ':' of an addr-spec's scheme); else addr-spec.
    const std::size_t lt = s.find('<');
    const std::size_t colon = s.find(':');
    if (s[0] == '"' || (lt != std::string_view::npos && lt < colon)) {
        if (!parse_display_name(s, pos, na)) return false;
        const std::size_t gt = s.find('>', pos);
        if (gt == std::string_view::npos) return false;
        if (!scan_uri(s.substr(pos, gt - pos), uri)) return false;
        pos = gt + 1;
    } else {
        // addr-spec: the URI runs to the first ';' (then header parameters).
        if (na) na->angle_brackets = false;
        std::size_t end = s.find(';');
        if (end == std::string_view::npos) end = s.size();
        const std::string_view text = trim_lws(s.substr(0, end));
        if (text.find_first_of(",?") != std::string_view::npos) return false;
        if (!scan_uri(text, uri)) return false;
        pos = end;
    }
    const bool params = na ? parse_generic_params(s, pos, na->params)
                           : scan_generic_params(s, pos, [](const ParamView&) { return true; });
    return params && pos == s.size();
}

// The parameters RFC 3261 20.42 and RFC 3581 give a grammar.
bool via_param_ok(const ParamView& p) {
    const std::string_view v = p.value.value_or(std::string_view());
    if (iequals(p.name, "branch")) return p.value && !p.quoted && is_token(v);
    if (iequals(p.name, "ttl")) return p.value && !p.quoted && v.size() <= 3 && parse_uint(v, 255);
    if (iequals(p.name, "received")) {
        std::array<uint8_t, 4> v4{};
        std::array<uint8_t, 16> v6{};
        const std::string_view bare =
            v.size() >= 2 && v.front() == '[' && v.back() == ']' ? v.substr(1, v.size() - 2) : v;
        return p.value && !p.quoted && (parse_ipv4(v, v4) || parse_ipv6(bare, v6));
    }
    if (iequals(p.name, "maddr")) return p.value && !p.quoted && classify_host(v);
    if (iequals(p.name, "rport")) return !p.value || (!p.quoted && parse_uint(v, 65535));
    return true;
}

// The port an rport parameter that is present says: 0 without a value.
std::optional<uint16_t> rport_value(std::optional<std::string_view> value) {
    if (!value) return uint16_t{0};
    const auto v = parse_uint(*value, 65535);
    return v ? std::optional<uint16_t>(static_cast<uint16_t>(*v)) : std::nullopt;
}

// A Via value, its parts put in `via` unless it is null (a check alone).
bool scan_via(std::string_view value, ViaView* via) {
    const std::string_view s = trim_lws(value);
    std::size_t pos = 0;
    // sent-protocol = protocol-name SLASH protocol-version SLASH transport
    std::array<std::string_view, 3> parts;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        if (k > 0) {
            pos = skip_wsp(s, pos);
            if (pos >= s.size() || s[pos] != '/') return false;
            pos = skip_wsp(s, pos + 1);
        }
        const std::size_t start = pos;
        while (pos < s.size() && is_token_char(s[pos]))
            ++pos;
        if (pos == start) return false;
        parts[k] = s.substr(start, pos - start);
    }
    // LWS sent-by
    const std::size_t host_start = skip_wsp(s, pos);
    if (host_start == pos) return false;
    HostKind kind{};
    const std::size_t host_end = scan_valid_host(s, host_start, kind);
    if (host_end == std::string_view::npos) return false;
    const std::string_view host = s.substr(host_start, host_end - host_start);
    std::optional<uint16_t> port;
    pos = skip_wsp(s, host_end);
    if (pos < s.size() && s[pos] == ':') {  // COLON = SWS ":" SWS
        const std::size_t start = skip_wsp(s, pos + 1);
        std::size_t end = start;
        while (end < s.size() && is_digit(s[end]))
            ++end;
        const auto number = parse_uint(s.substr(start, end - start), 65535);
        if (!number) return false;
        port = static_cast<uint16_t>(*number);
        pos = end;
    }
    const std::size_t params_start = pos;
    if (!scan_generic_params(s, pos, via_param_ok) || pos != s.size()) return false;
    if (via) {
        via->protocol_name = parts[0];
        via->protocol_version = parts[1];
        via->transport = parts[2];
        via->host = host;
        via->host_kind = kind;
        via->port = port;
        via->params = trim_lws(s.substr(params_start));
    }
    return true;
}

}  // namespace

std::optional<std::string_view> NameAddr::tag() const {
    const Param* p = param("tag");
    if (!p || !p->value) return std::nullopt;
    return std::string_view(*p->value);
}

bool is_star(std::string_view value) {
    return trim_lws(value) == "*";
}

std::optional<NameAddr> parse_name_addr(std::string_view value) {
    std::optional<NameAddr> na(std::in_place);
    if (!scan_name_addr(value, &*na)) return std::nullopt;
    return na;
}

bool valid_name_addr(std::string_view value) {
    return scan_name_addr(value, nullptr);
}

std::string to_string(const NameAddr& na) {
    std::string out;
    const std::string uri = to_string(na.uri);
    const bool has_name = !na.display_name.empty() || na.display_name_quoted;
    if (has_name) {
        if (na.display_name_quoted) out.push_back('"');
        out += na.display_name;
        if (na.display_name_quoted) out.push_back('"');
        out.push_back(' ');
    }
    const bool angle =
        na.angle_brackets || has_name || uri.find_first_of(",;?") != std::string::npos;
    if (angle) out.push_back('<');
    out += uri;
    if (angle) out.push_back('>');
    append_params(out, na.params);
    return out;
}

std::optional<std::string_view> Via::branch() const {
    const Param* p = param("branch");
    if (!p || !p->value) return std::nullopt;
    return std::string_view(*p->value);
}

std::optional<uint16_t> Via::rport() const {
    const Param* p = param("rport");
    if (!p) return std::nullopt;
    return rport_value(p->value ? std::optional<std::string_view>(*p->value) : std::nullopt);
}

std::optional<ViaView> parse_via_view(std::string_view value) {
    std::optional<ViaView> view(std::in_place);
    if (!scan_via(value, &*view)) return std::nullopt;
    return view;
}

Via to_via(const ViaView& view) {
    Via via;
    via.protocol_name = std::string(view.protocol_name);
    via.protocol_version = std::string(view.protocol_version);
    via.transport = std::string(view.transport);
    via.host = std::string(view.host);
    via.host_kind = view.host_kind;
    via.port = view.port;
    std::size_t pos = 0;
    parse_generic_params(view.params, pos, via.params);  // checked by scan_via
    return via;
}

std::optional<Via> parse_via(std::string_view value) {
    const auto view = parse_via_view(value);
    if (!view) return std::nullopt;
    return to_via(*view);
}

bool valid_via(std::string_view value) {
    return scan_via(value, nullptr);
}

std::optional<ParamView> ViaView::param(std::string_view name) const {
    std::optional<ParamView> found;
    std::size_t pos = 0;
    scan_generic_params(params, pos, [&](const ParamView& p) {
        if (iequals(p.name, name)) found = p;
        return !found;  // stop at the first
    });
    return found;
}

std::optional<std::string_view> ViaView::branch() const {
    const auto p = param("branch");
    if (!p || !p->value) return std::nullopt;
    return *p->value;
}

std::optional<uint16_t> ViaView::rport() const {
    const auto p = param("rport");
    if (!p) return std::nullopt;
    return rport_value(p->value);
}

std::string to_string(const Via& via) {
    std::string out =
        via.protocol_name + "/" + via.protocol_version + "/" + via.transport + " " + via.host;
    if (via.port) {
        out.push_back(':');
        out += std::to_string(*via.port);
    }
    append_params(out, via.params);
    return out;
}

std::optional<CSeq> parse_cseq(std::string_view value) {
    const std::string_view s = trim_lws(value);
    std::size_t i = 0;
    while (i < s.size() && is_digit(s[i]))
        ++i;
    const auto number = parse_uint(s.substr(0, i), 0xFFFFFFFFu);
    const std::size_t method_start = skip_wsp(s, i);
    if (!number || method_start == i) return std::nullopt;
    const std::string_view method = s.substr(method_start);
    if (!is_token(method)) return std::nullopt;
    return CSeq{static_cast<uint32_t>(*number), std::string(method)};
}

std::string to_string(const CSeq& cseq) {
    return std::to_string(cseq.number) + " " + cseq.method;
}

std::optional<MaxForwards> parse_max_forwards(std::string_view value) {
    const auto v = parse_uint(trim_lws(value), 255);
    if (!v) return std::nullopt;
    return MaxForwards{static_cast<uint8_t>(*v)};
}

std::string to_string(MaxForwards mf) {
    return std::to_string(mf.hops);
}

std::optional<ContentLength> parse_content_length(std::string_view value) {
    const auto v = parse_uint(trim_lws(value), 0xFFFFFFFFu);
    if (!v) return std::nullopt;
    return ContentLength{static_cast<uint32_t>(*v)};
}

std::string to_string(ContentLength cl) {
    return std::to_string(cl.length);
}

bool valid_call_id(std::string_view value) {
    const std::string_view s = trim_lws(value);
    const std::size_t at = s.find('@');
    const std::string_view first = s.substr(0, at);
    auto is_word = [](std::string_view w) {
        if (w.empty()) return false;
        for (char c : w)
            if (!is_word_char(c)) return false;
        return true;
    };
    if (!is_word(first)) return false;
    return at == std::string_view::npos || is_word(s.substr(at + 1));
}

}  // namespace isthmus::sip
