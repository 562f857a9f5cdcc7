#include "sdp/fields.hpp"

#include <algorithm>

#include "sdp/grammar.hpp"

namespace isthmus::sdp {

namespace {

// proto = token *("/" token) (RFC 8866 9)
bool valid_proto(std::string_view s) {
    while (true) {
        const auto [head, tail] = split_once(s, '/');
        if (!is_token(head)) return false;
        if (!tail) return true;
        s = *tail;
    }
}

}  // namespace

std::optional<uint64_t> Origin::session_version_number() const {
    return parse_uint(session_version, UINT64_MAX);
}

std::optional<Origin> parse_origin(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() != 6) return std::nullopt;
    for (std::string_view word : w)
        if (!is_visible_word(word)) return std::nullopt;
    return Origin{std::string(w[0]), std::string(w[1]), std::string(w[2]),
                  std::string(w[3]), std::string(w[4]), std::string(w[5])};
}

std::string to_string(const Origin& o) {
    return o.username + ' ' + o.session_id + ' ' + o.session_version + ' ' + o.net_type + ' ' +
           o.addr_type + ' ' + o.address;
}

std::string_view Connection::host() const {
    return split_once(address, '/').first;
}

bool Connection::has_multicast_suffix() const {
    return address.find('/') != std::string::npos;
}

std::optional<Connection> parse_connection(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() != 3 || !is_token(w[0]) || !is_token(w[1]) || !is_visible_word(w[2]))
        return std::nullopt;
    return Connection{std::string(w[0]), std::string(w[1]), std::string(w[2])};
}

std::string to_string(const Connection& c) {
    return c.net_type + ' ' + c.addr_type + ' ' + c.address;
}

std::optional<Timing> parse_timing(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() != 2) return std::nullopt;
    const auto start = parse_uint(w[0], UINT64_MAX);
    const auto stop = parse_uint(w[1], UINT64_MAX);
    if (!start || !stop) return std::nullopt;
    return Timing{*start, *stop};
}

std::string to_string(const Timing& t) {
    return std::to_string(t.start) + ' ' + std::to_string(t.stop);
}

std::optional<Bandwidth> parse_bandwidth(std::string_view value) {
    const auto [type, number] = split_once(value, ':');
    if (!is_token(type) || !number) return std::nullopt;
    const auto v = parse_uint(*number, UINT64_MAX);
    if (!v) return std::nullopt;
    return Bandwidth{std::string(type), *v};
}

std::string to_string(const Bandwidth& b) {
    return b.type + ':' + std::to_string(b.value);
}

bool MediaLine::has_format(std::string_view fmt) const {
    return std::find(formats.begin(), formats.end(), fmt) != formats.end();
}

bool valid_media_port(std::string_view port_part) {
    const auto [port, count] = split_once(port_part, '/');
    if (!parse_uint(port, 65535)) return false;
    if (!count) return true;
    const auto n = parse_uint(*count, 65535);
    return n && *n > 0;
}

std::optional<MediaLine> parse_media_line(std::string_view value) {
    const auto w = split_words(value);
    if (w.size() < 3 || !is_token(w[0]) || !valid_media_port(w[1]) || !valid_proto(w[2]))
        return std::nullopt;
    MediaLine m;
    m.media = std::string(w[0]);
    const auto [port, count] = split_once(w[1], '/');
    m.port = static_cast<uint16_t>(*parse_uint(port, 65535));
    if (count) m.port_count = static_cast<uint16_t>(*parse_uint(*count, 65535));
    m.proto = std::string(w[2]);
    m.formats.reserve(w.size() - 3);
    for (std::size_t i = 3; i < w.size(); ++i) {
        if (!is_token(w[i])) return std::nullopt;
        m.formats.emplace_back(w[i]);
    }
    return m;
}

std::string to_string(const MediaLine& m) {
    std::string out = m.media + ' ' + std::to_string(m.port);
    if (m.port_count) out += '/' + std::to_string(*m.port_count);
    out += ' ';
    out += m.proto;
    for (const std::string& f : m.formats) {
        out += ' ';
        out += f;
    }
    return out;
}

}  // namespace isthmus::sdp
