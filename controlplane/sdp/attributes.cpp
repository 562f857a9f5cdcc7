#include "sdp/attributes.hpp"

#include <algorithm>
#include <array>

#include "sdp/grammar.hpp"

namespace isthmus::sdp {

namespace {

uint8_t hex_value(char c) {
    if (is_digit(c)) return static_cast<uint8_t>(c - '0');
    return static_cast<uint8_t>(ascii_lower(c) - 'a' + 10);
}

// 2HEXDIG *(":" 2HEXDIG)
bool valid_fingerprint_hex(std::string_view s) {
    if (s.size() % 3 != 2) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i % 3 == 2 ? s[i] != ':' : !is_hex(s[i])) return false;
    }
    return true;
}

bool ice_chars(std::string_view s, std::size_t min, std::size_t max) {
    return s.size() >= min && s.size() <= max && std::all_of(s.begin(), s.end(), is_ice_char);
}

// The first word of an attribute value ("111" of "111 opus/48000/2").
std::string_view first_word(std::string_view value) {
    const auto w = split_words(value);
    return w.empty() ? std::string_view() : w.front();
}

// RFC 3551 6, tables 4 and 5: the static payload types. Channels only where
// they are not 1 (how peers write "0 PCMU/8000").
struct StaticPayloadType {
    uint8_t pt;
    std::string_view name;
    uint32_t clock_rate;
    std::string_view channels;
};
constexpr std::array<StaticPayloadType, 24> kStaticPayloadTypes = {{
    {0, "PCMU", 8000, ""},   {3, "GSM", 8000, ""},    {4, "G723", 8000, ""},
    {5, "DVI4", 8000, ""},   {6, "DVI4", 16000, ""},  {7, "LPC", 8000, ""},
    {8, "PCMA", 8000, ""},   {9, "G722", 8000, ""},   {10, "L16", 44100, "2"},
    {11, "L16", 44100, ""},  {12, "QCELP", 8000, ""}, {13, "CN", 8000, ""},
    {14, "MPA", 90000, ""},  {15, "G728", 8000, ""},  {16, "DVI4", 11025, ""},
    {17, "DVI4", 22050, ""}, {18, "G729", 8000, ""},  {25, "CelB", 90000, ""},
    {26, "JPEG", 90000, ""}, {28, "nv", 90000, ""},   {31, "H261", 90000, ""},
    {32, "MPV", 90000, ""},  {33, "MP2T", 90000, ""}, {34, "H263", 90000, ""},
}};

constexpr std::array<std::string_view, 4> kDirectionNames = {"sendrecv", "sendonly", "recvonly",
                                                             "inactive"};

}  // namespace

std::optional<RtpMap> parse_rtpmap(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() != 2) return std::nullopt;
    const auto pt = parse_uint(w[0], 127);
    const auto [name, rest] = split_once(w[1], '/');
    if (!pt || !is_token(name) || !rest) return std::nullopt;
    const auto [rate_text, params] = split_once(*rest, '/');
    const auto rate = parse_uint(rate_text, UINT32_MAX);
    if (!rate || *rate == 0 || (params && !is_visible_word(*params))) return std::nullopt;
    RtpMap r;
    r.payload_type = static_cast<uint8_t>(*pt);
    r.encoding_name = std::string(name);
    r.clock_rate = static_cast<uint32_t>(*rate);
    if (params) r.encoding_params = std::string(*params);
    return r;
}

std::string to_string(const RtpMap& r) {
    std::string out =
        std::to_string(r.payload_type) + ' ' + r.encoding_name + '/' + std::to_string(r.clock_rate);
    if (r.encoding_params) out += '/' + *r.encoding_params;
    return out;
}

std::optional<RtpMap> rtpmap_for(const Section& media, std::string_view fmt) {
    for (const Attribute& a : media.attributes("rtpmap")) {
        if (!a.value || first_word(*a.value) != fmt) continue;
        if (auto r = parse_rtpmap(*a.value)) return r;
    }
    const auto pt = parse_uint(fmt, 127);
    if (!pt) return std::nullopt;
    for (const StaticPayloadType& s : kStaticPayloadTypes) {
        if (s.pt != *pt) continue;
        RtpMap r{s.pt, std::string(s.name), s.clock_rate, std::nullopt};
        if (!s.channels.empty()) r.encoding_params = std::string(s.channels);
        return r;
    }
    return std::nullopt;
}

std::optional<Fmtp> fmtp_for(const Section& media, std::string_view fmt) {
    for (const Attribute& a : media.attributes("fmtp")) {
        if (!a.value) continue;
        auto f = parse_fmtp(*a.value);
        if (f && f->format == fmt) return f;
    }
    return std::nullopt;
}

std::optional<Fmtp> parse_fmtp(std::string_view value) {
    std::size_t i = 0;
    while (i < value.size() && is_wsp(value[i]))
        ++i;
    const std::size_t start = i;
    while (i < value.size() && !is_wsp(value[i]))
        ++i;
    const std::string_view format = value.substr(start, i - start);
    if (!is_token(format)) return std::nullopt;
    while (i < value.size() && is_wsp(value[i]))
        ++i;
    return Fmtp{std::string(format), std::string(value.substr(i))};
}

std::string to_string(const Fmtp& f) {
    return f.parameters.empty() ? f.format : f.format + ' ' + f.parameters;
}

std::vector<FmtpParameter> split_fmtp_parameters(std::string_view parameters) {
    std::vector<FmtpParameter> out;
    while (true) {
        const auto [element, rest] = split_once(parameters, ';');
        const std::string_view e = trim_wsp(element);
        if (!e.empty()) {
            const auto [name, value] = split_once(e, '=');
            FmtpParameter p{std::string(trim_wsp(name)), std::nullopt};
            if (value) p.value = std::string(trim_wsp(*value));
            out.push_back(std::move(p));
        }
        if (!rest) return out;
        parameters = *rest;
    }
}

std::string join_fmtp_parameters(const std::vector<FmtpParameter>& params) {
    std::string out;
    for (const FmtpParameter& p : params) {
        if (!out.empty()) out += ';';
        out += p.name;
        if (p.value) out += '=' + *p.value;
    }
    return out;
}

std::optional<Rtcp> parse_rtcp(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() != 1 && w.size() != 4) return std::nullopt;
    const auto port = parse_uint(w[0], 65535);
    if (!port) return std::nullopt;
    Rtcp r;
    r.port = static_cast<uint16_t>(*port);
    if (w.size() == 4) {
        if (!is_token(w[1]) || !is_token(w[2]) || !is_visible_word(w[3])) return std::nullopt;
        r.address = Connection{std::string(w[1]), std::string(w[2]), std::string(w[3])};
    }
    return r;
}

std::string to_string(const Rtcp& r) {
    std::string out = std::to_string(r.port);
    if (r.address) out += ' ' + to_string(*r.address);
    return out;
}

std::vector<uint8_t> Fingerprint::bytes() const {
    std::vector<uint8_t> out;
    if (!valid_fingerprint_hex(value)) return out;
    out.reserve((value.size() + 1) / 3);
    for (std::size_t i = 0; i + 1 < value.size(); i += 3)
        out.push_back(static_cast<uint8_t>(hex_value(value[i]) << 4 | hex_value(value[i + 1])));
    return out;
}

std::optional<Fingerprint> parse_fingerprint(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() != 2 || !is_token(w[0]) || !valid_fingerprint_hex(w[1])) return std::nullopt;
    return Fingerprint{std::string(w[0]), std::string(w[1])};
}

std::string to_string(const Fingerprint& f) {
    return f.hash_function + ' ' + f.value;
}

std::string fingerprint_hex(const std::vector<uint8_t>& digest) {
    constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(digest.size() * 3);
    for (uint8_t b : digest) {
        if (!out.empty()) out += ':';
        out += hex[b >> 4];
        out += hex[b & 0xF];
    }
    return out;
}

std::optional<SetupRole> parse_setup(std::string_view value) {
    const std::string_view v = trim_wsp(value);
    if (iequals(v, "active")) return SetupRole::Active;
    if (iequals(v, "passive")) return SetupRole::Passive;
    if (iequals(v, "actpass")) return SetupRole::ActPass;
    if (iequals(v, "holdconn")) return SetupRole::HoldConn;
    return std::nullopt;
}

std::string_view to_string(SetupRole s) {
    switch (s) {
        case SetupRole::Active:
            return "active";
        case SetupRole::Passive:
            return "passive";
        case SetupRole::ActPass:
            return "actpass";
        case SetupRole::HoldConn:
            return "holdconn";
    }
    return "actpass";
}

bool valid_ice_ufrag(std::string_view value) {
    return ice_chars(value, 4, 256);
}

bool valid_ice_pwd(std::string_view value) {
    return ice_chars(value, 22, 256);
}

std::optional<std::vector<std::string>> parse_ice_options(std::string_view value) {
    const auto w = split_words(value);
    if (w.empty()) return std::nullopt;
    std::vector<std::string> out;
    for (std::string_view t : w) {
        if (!is_token(t)) return std::nullopt;
        out.emplace_back(t);
    }
    return out;
}

std::optional<IceCredentials> ice_credentials(const Section& session, const Section& media) {
    auto pick = [&](std::string_view name) -> std::optional<std::string_view> {
        auto a = media.attribute(name);
        if (!a) a = session.attribute(name);
        if (!a || !a->value) return std::nullopt;
        return a->value;
    };
    const auto ufrag = pick("ice-ufrag");
    const auto pwd = pick("ice-pwd");
    if (!ufrag || !pwd || !valid_ice_ufrag(*ufrag) || !valid_ice_pwd(*pwd)) return std::nullopt;
    return IceCredentials{std::string(*ufrag), std::string(*pwd)};
}

bool is_ice_lite(const Section& session) {
    return session.has_attribute("ice-lite");
}

std::optional<Group> parse_group(std::string_view value) {
    const auto w = split_words(value);
    if (w.empty()) return std::nullopt;
    Group g;
    for (std::string_view t : w)
        if (!is_token(t)) return std::nullopt;
    g.semantics = std::string(w[0]);
    g.mids.assign(w.begin() + 1, w.end());
    return g;
}

std::string to_string(const Group& g) {
    std::string out = g.semantics;
    for (const std::string& m : g.mids)
        out += ' ' + m;
    return out;
}

std::vector<Group> bundle_groups(const Section& session) {
    std::vector<Group> out;
    for (const Attribute& a : session.attributes("group")) {
        if (!a.value) continue;
        auto g = parse_group(*a.value);
        if (g && iequals(g->semantics, "BUNDLE")) out.push_back(std::move(*g));
    }
    return out;
}

std::optional<std::string_view> mid(const Section& media) {
    const auto a = media.attribute("mid");
    if (!a || !a->value || !is_token(*a->value)) return std::nullopt;
    return a->value;
}

std::optional<Direction> parse_direction(std::string_view attribute_name) {
    for (std::size_t i = 0; i < kDirectionNames.size(); ++i)
        if (iequals(attribute_name, kDirectionNames[i])) return static_cast<Direction>(i);
    return std::nullopt;
}

std::string_view to_string(Direction d) {
    return kDirectionNames[static_cast<std::size_t>(d)];
}

std::optional<Direction> direction_of(const Section& section) {
    for (const Line& l : section.lines)
        if (l.type == 'a')
            if (const auto d = parse_direction(l.attribute().name)) return d;
    return std::nullopt;
}

Direction effective_direction(const Section& session, const Section& media) {
    if (const auto d = direction_of(media)) return *d;
    return direction_of(session).value_or(Direction::SendRecv);
}

void set_direction(Section& section, Direction d) {
    auto is_direction = [](const Line& l) {
        return l.type == 'a' && parse_direction(l.attribute().name).has_value();
    };
    const auto first = std::find_if(section.lines.begin(), section.lines.end(), is_direction);
    if (first == section.lines.end()) return section.add_attribute(to_string(d));
    *first = Line::make_attribute(to_string(d), std::nullopt);
    const Line* keep = &*first;
    std::erase_if(section.lines, [&](const Line& l) { return &l != keep && is_direction(l); });
}

std::optional<uint16_t> parse_sctp_port(std::string_view value) {
    const auto p = parse_uint(trim_wsp(value), 65535);
    if (!p) return std::nullopt;
    return static_cast<uint16_t>(*p);
}

std::optional<uint64_t> parse_max_message_size(std::string_view value) {
    return parse_uint(trim_wsp(value), UINT64_MAX);
}

namespace {

// stream-id = 1*5DIGIT, 0..65534 (65535 is reserved, RFC 8831 6.6).
std::optional<uint16_t> parse_stream_id(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    const auto v = parse_uint(s, 65534);
    if (!v) return std::nullopt;
    return static_cast<uint16_t>(*v);
}

// A quoted-string option value: `"..."` with no bare quote inside.
std::optional<std::string> unquote(std::string_view v) {
    if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::nullopt;
    const std::string_view inner = v.substr(1, v.size() - 2);
    if (inner.find('"') != std::string_view::npos) return std::nullopt;
    return std::string(inner);
}

}  // namespace

std::optional<DcMap> parse_dcmap(std::string_view value) {
    const std::string_view v = trim_wsp(value);
    const std::size_t sp = v.find_first_of(" \t");
    DcMap d;
    const auto id = parse_stream_id(v.substr(0, sp));
    if (!id) return std::nullopt;
    d.stream_id = *id;
    if (sp == std::string_view::npos) return d;
    std::string_view rest = trim_wsp(v.substr(sp));
    // Options are split at ';' outside quotes.
    while (!rest.empty()) {
        std::size_t end = 0;
        bool quoted = false;
        while (end < rest.size() && (quoted || rest[end] != ';')) {
            if (rest[end] == '"') quoted = !quoted;
            ++end;
        }
        if (quoted) return std::nullopt;  // an unclosed quote
        const std::string_view opt = trim_wsp(rest.substr(0, end));
        rest = end < rest.size() ? rest.substr(end + 1) : std::string_view{};
        if (opt.empty()) return std::nullopt;
        const std::size_t eq = opt.find('=');
        if (eq == std::string_view::npos || eq == 0) return std::nullopt;
        const std::string_view name = opt.substr(0, eq);
        const std::string_view val = opt.substr(eq + 1);
        if (name == "ordered") {
            if (val != "0" && val != "1") return std::nullopt;
            d.ordered = val == "1";
        } else if (name == "max-retr" || name == "max-time") {
            const auto n = parse_uint(val, UINT32_MAX);
            if (!n) return std::nullopt;
            (name == "max-retr" ? d.max_retr : d.max_time) = static_cast<uint32_t>(*n);
        } else if (name == "priority") {
            const auto n = parse_uint(val, 65535);
            if (!n) return std::nullopt;
            d.priority = static_cast<uint16_t>(*n);
        } else if (name == "label" || name == "subprotocol") {
            auto q = unquote(val);
            if (!q) return std::nullopt;
            (name == "label" ? d.label : d.subprotocol) = std::move(*q);
        }
        // Other options: extensions, skipped.
    }
    if (d.max_retr && d.max_time) return std::nullopt;  // RFC 8864 5.1.4: not both
    return d;
}

std::string to_string(const DcMap& d) {
    std::string out = std::to_string(d.stream_id);
    std::vector<std::string> opts;
    if (d.label) opts.push_back("label=\"" + *d.label + "\"");
    if (d.subprotocol) opts.push_back("subprotocol=\"" + *d.subprotocol + "\"");
    if (d.ordered) opts.push_back(std::string("ordered=") + (*d.ordered ? "1" : "0"));
    if (d.max_retr) opts.push_back("max-retr=" + std::to_string(*d.max_retr));
    if (d.max_time) opts.push_back("max-time=" + std::to_string(*d.max_time));
    if (d.priority) opts.push_back("priority=" + std::to_string(*d.priority));
    for (std::size_t i = 0; i < opts.size(); ++i)
        out += (i == 0 ? " " : ";") + opts[i];
    return out;
}

std::optional<DcSa> parse_dcsa(std::string_view value) {
    const std::string_view v = trim_wsp(value);
    const std::size_t sp = v.find_first_of(" \t");
    if (sp == std::string_view::npos) return std::nullopt;
    const auto id = parse_stream_id(v.substr(0, sp));
    if (!id) return std::nullopt;
    const std::string_view attribute = trim_wsp(v.substr(sp));
    if (attribute.empty()) return std::nullopt;
    return DcSa{*id, std::string(attribute)};
}

std::string to_string(const DcSa& d) {
    return std::to_string(d.stream_id) + " " + d.attribute;
}

bool remove_format(MediaDescription& media, std::string_view fmt_view) {
    const std::string fmt(fmt_view);  // the view may point into a line removed below
    const auto n = std::erase(media.m.formats, fmt);
    media.remove_attributes_if([&fmt](const Attribute& a) {
        return a.value &&
               (iequals(a.name, "rtpmap") || iequals(a.name, "fmtp") ||
                iequals(a.name, "rtcp-fb")) &&
               first_word(*a.value) == fmt;
    });
    return n > 0;
}

}  // namespace isthmus::sdp
