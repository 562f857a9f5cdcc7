#include "sdp/description.hpp"

#include <algorithm>

#include "sdp/grammar.hpp"

namespace isthmus::sdp {

namespace {

// RFC 8866 5: v o s i u e p c b t r z k a at the session level (i c b k a in
// a media description, the same relative order). Unknown letters after a=.
int rank(char type) {
    constexpr std::string_view order = "vosiuepcbtrzka";
    const std::size_t at = order.find(type);
    return at == std::string_view::npos ? static_cast<int>(order.size()) : static_cast<int>(at);
}

// Index after the last line whose type comes no later than `type`.
std::size_t insert_position(const std::vector<Line>& lines, char type) {
    const int r = rank(type);
    std::size_t at = 0;
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (rank(lines[i].type) <= r) at = i + 1;
    return at;
}

std::string attribute_text(std::string_view name, std::optional<std::string_view> value) {
    std::string out(name);
    if (value) {
        out += ':';
        out += *value;
    }
    return out;
}

}  // namespace

Attribute Line::attribute() const {
    if (type != 'a') return {value, std::nullopt};
    const auto [name, v] = split_once(value, ':');
    return {name, v};
}

bool Line::is_attribute(std::string_view name) const {
    return type == 'a' && iequals(attribute().name, name);
}

Line Line::make_attribute(std::string_view name, std::optional<std::string_view> value) {
    return Line{'a', attribute_text(name, value)};
}

const Line* Section::find(char type) const {
    for (const Line& l : lines)
        if (l.type == type) return &l;
    return nullptr;
}

Line* Section::find(char type) {
    for (Line& l : lines)
        if (l.type == type) return &l;
    return nullptr;
}

std::vector<std::string_view> Section::values(char type) const {
    std::vector<std::string_view> out;
    for (const Line& l : lines)
        if (l.type == type) out.emplace_back(l.value);
    return out;
}

void Section::add(char type, std::string_view value) {
    const std::size_t at = insert_position(lines, type);
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), Line{type, std::string(value)});
}

void Section::set(char type, std::string_view value) {
    Line* first = find(type);
    if (first == nullptr) return add(type, value);
    first->value = std::string(value);
    const std::ptrdiff_t keep = first - lines.data();
    std::ptrdiff_t i = 0;
    std::erase_if(lines, [&](const Line& l) { return i++ != keep && l.type == type; });
}

std::size_t Section::remove(char type) {
    return static_cast<std::size_t>(
        std::erase_if(lines, [type](const Line& l) { return l.type == type; }));
}

bool Section::has_attribute(std::string_view name) const {
    return attribute(name).has_value();
}

std::optional<Attribute> Section::attribute(std::string_view name) const {
    for (const Line& l : lines)
        if (l.is_attribute(name)) return l.attribute();
    return std::nullopt;
}

std::vector<Attribute> Section::attributes(std::string_view name) const {
    std::vector<Attribute> out;
    for (const Line& l : lines)
        if (l.is_attribute(name)) out.push_back(l.attribute());
    return out;
}

std::vector<Attribute> Section::all_attributes() const {
    std::vector<Attribute> out;
    for (const Line& l : lines)
        if (l.type == 'a') out.push_back(l.attribute());
    return out;
}

Line* Section::find_attribute(std::string_view name) {
    for (Line& l : lines)
        if (l.is_attribute(name)) return &l;
    return nullptr;
}

void Section::add_attribute(std::string_view name, std::optional<std::string_view> value) {
    add('a', attribute_text(name, value));
}

void Section::set_attribute(std::string_view name_view, std::optional<std::string_view> value) {
    const std::string name(name_view);  // the view may point into a line replaced below
    Line* first = find_attribute(name);
    if (first == nullptr) return add_attribute(name, value);
    *first = Line::make_attribute(name, value);
    const std::ptrdiff_t keep = first - lines.data();
    std::ptrdiff_t i = 0;
    std::erase_if(lines, [&](const Line& l) { return i++ != keep && l.is_attribute(name); });
}

std::size_t Section::remove_attributes(std::string_view name_view) {
    const std::string name(name_view);  // the view may point into a line moved below
    return remove_attributes_if([&name](const Attribute& a) { return iequals(a.name, name); });
}

std::optional<Origin> SessionDescription::origin() const {
    const Line* o = session.find('o');
    return o ? parse_origin(o->value) : std::nullopt;
}

void SessionDescription::set_origin(const Origin& o) {
    session.set('o', to_string(o));
}

std::optional<Connection> effective_connection(const Section& session, const Section& media) {
    if (const Line* c = media.find('c')) return parse_connection(c->value);
    if (const Line* c = session.find('c')) return parse_connection(c->value);
    return std::nullopt;
}

void set_connection(Section& section, const Connection& c) {
    section.set('c', to_string(c));
}

}  // namespace isthmus::sdp
