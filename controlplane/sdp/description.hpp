// A session description (RFC 8866 5), kept as the lines it was made of so
// that the IMS-ALG forwards everything it does not touch exactly as it came.
//
// The model:
//  - SessionDescription: the session-level section (`session`: v=, o=, s=,
//    i=, u=, e=, p=, c=, b=, t=, r=, z=, k=, a= in wire order) and the media
//    descriptions in order.
//  - MediaDescription: its m= line, typed (MediaLine: the rewrite sets the
//    port, proto and formats), and its own lines (i=, c=, b=, k=, a=) in wire
//    order. It is a Section, so the editing API below works on both levels.
//  - Line: a type letter and the text after '=', verbatim. Attributes are
//    the 'a' lines; their text splits at the first ':' into a name and an
//    optional value (Attribute). Every line is kept (preconditions
//    a=curr/a=des/a=conf, a=rtcp-mux, a=ssrc, a=extmap, attributes nobody
//    here knows, lines of an unknown type letter) until the caller edits or
//    removes it, and written back byte for byte.
//  - Typed views parse a line on demand and write one back with to_string
//    (fields.hpp: o= c= t= b= m=; attributes.hpp: rtpmap, fmtp, rtcp, ICE,
//    DTLS, BUNDLE, mid, direction, SCTP; candidate.hpp; crypto.hpp). Nothing
//    is stored twice, so a typed edit cannot disagree with the text.
//
// Attribute names are compared ASCII case-insensitively (an ABNF literal,
// RFC 5234 2.3) and written as given. A line added through this API goes
// where RFC 8866 5 orders its type: after the last line of the same or an
// earlier type (v o s i u e p c b t r z k a, then other letters), so a
// description built or edited here serializes in the RFC order.
//
// parser.hpp makes one from bytes, serializer.hpp writes one.
//
// Thread-safety: plain values, no locks. Const members may be called from
// any number of threads at once; a mutating member needs the only
// reference. Views returned (Attribute, string_view, Line*) point into the
// lines and are invalidated by any mutation or by destruction.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/fields.hpp"

namespace isthmus::sdp {

// An a= line's text split at its first ':' (RFC 8866 5.13, 6): `rtcp-mux`
// is {"rtcp-mux", nullopt} (a property attribute), `rtpmap:0 PCMU/8000` is
// {"rtpmap", "0 PCMU/8000"}, `foo:` is {"foo", ""}. Views into the line.
struct Attribute {
    std::string_view name;
    std::optional<std::string_view> value;
    bool operator==(const Attribute&) const = default;
};

// One line other than m=: `<type>=<value>`.
struct Line {
    char type = 'a';    // an ASCII letter; 'm' never (MediaDescription::m)
    std::string value;  // everything after '='; never CR, LF or NUL when parsed

    // For an 'a' line: its name and value. Other types: {value, nullopt}.
    Attribute attribute() const;
    // An 'a' line whose name is `name` (ASCII case-insensitive).
    bool is_attribute(std::string_view name) const;
    // The 'a' line `name[:value]`.
    static Line make_attribute(std::string_view name, std::optional<std::string_view> value);

    bool operator==(const Line&) const = default;
};

// The lines of one level: the session part before the first m=, or one media
// description after its m= line.
struct Section {
    std::vector<Line> lines;  // wire order

    // --- lines of a type other than 'a' (or 'a' as a whole) ---
    // The first line of `type`, or nullptr.
    const Line* find(char type) const;
    Line* find(char type);
    // The text of every line of `type`, in order.
    std::vector<std::string_view> values(char type) const;
    // Inserts a line at the place of its type (see the file comment).
    void add(char type, std::string_view value);
    // Replaces the text of the first line of `type` and removes any other
    // line of that type; inserts one (as add) when there is none. (For
    // attributes use set_attribute: set('a', ...) would leave only one.)
    void set(char type, std::string_view value);
    // Removes every line of `type`; returns how many there were.
    std::size_t remove(char type);

    // --- attributes, by name ---
    bool has_attribute(std::string_view name) const;
    // The first attribute called `name`, or nullopt.
    std::optional<Attribute> attribute(std::string_view name) const;
    // Every attribute called `name`, in order.
    std::vector<Attribute> attributes(std::string_view name) const;
    // Every attribute, in order.
    std::vector<Attribute> all_attributes() const;
    // The first line of attribute `name`, for an edit in place
    // (line->value = ... or *line = Line::make_attribute(...)); nullptr if none.
    Line* find_attribute(std::string_view name);
    // Appends `a=name[:value]` after the last attribute (before lines of an
    // unknown type that follow them).
    void add_attribute(std::string_view name, std::optional<std::string_view> value = std::nullopt);
    // Replaces the first `name` attribute in place and removes the others;
    // appends (as add_attribute) when there is none.
    void set_attribute(std::string_view name, std::optional<std::string_view> value = std::nullopt);
    // Removes every `name` attribute; returns how many there were.
    std::size_t remove_attributes(std::string_view name);
    // Removes every attribute for which pred(Attribute) is true; returns how
    // many. pred sees views that are valid only during its call.
    template <typename Pred>
    std::size_t remove_attributes_if(Pred pred) {
        return static_cast<std::size_t>(std::erase_if(
            lines, [&pred](const Line& l) { return l.type == 'a' && pred(l.attribute()); }));
    }

    bool operator==(const Section&) const = default;
};

struct MediaDescription : Section {
    MediaLine m;

    bool operator==(const MediaDescription&) const = default;
};

struct SessionDescription {
    Section session;  // v= o= s= ... up to the first m=
    std::vector<MediaDescription> media;

    // The o= line, parsed; nullopt if it is missing or does not parse (never
    // for a description parse_sdp returned).
    std::optional<Origin> origin() const;
    void set_origin(const Origin& o);

    bool operator==(const SessionDescription&) const = default;
};

// RFC 8866 5.7: a media description's c= if it has one, else the session's.
// nullopt when neither has one that parses.
std::optional<Connection> effective_connection(const Section& session, const Section& media);
// Sets the c= line of a level (replacing every c= of it, multicast layers
// included) to `c`.
void set_connection(Section& section, const Connection& c);

}  // namespace isthmus::sdp
