#include "sdp/serializer.hpp"

#include "sdp/grammar.hpp"

namespace isthmus::sdp {

namespace {

void write_line(std::string& out, char type, std::string_view value) {
    out += type;
    out += '=';
    for (char c : value)
        out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
    out += "\r\n";
}

void write_lines(std::string& out, const Section& s) {
    for (const Line& l : s.lines)
        if (is_alpha(l.type) && l.type != 'm') write_line(out, l.type, l.value);
}

// One word of an m= line: never empty, nothing that would split it.
std::string word(std::string_view w) {
    if (w.empty()) return "-";
    std::string out(w);
    for (char& c : out)
        if (!is_visible(c)) c = '-';
    return out;
}

std::string media_line(const MediaLine& m) {
    MediaLine safe = m;
    safe.media = word(m.media);
    safe.proto = word(m.proto);
    for (std::string& f : safe.formats)
        f = word(f);
    return to_string(safe);
}

std::size_t size_hint(const Section& s) {
    std::size_t n = 0;
    for (const Line& l : s.lines)
        n += l.value.size() + 4;
    return n;
}

}  // namespace

std::string serialize(const SessionDescription& d) {
    std::size_t hint = size_hint(d.session);
    for (const MediaDescription& m : d.media)
        hint += size_hint(m) + 64;
    std::string out;
    out.reserve(hint);
    write_lines(out, d.session);
    for (const MediaDescription& m : d.media) {
        write_line(out, 'm', media_line(m.m));
        write_lines(out, m);
    }
    return out;
}

}  // namespace isthmus::sdp
