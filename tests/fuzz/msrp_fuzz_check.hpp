// The property the MSRP fuzzing checks, shared by the libFuzzer target
// (msrp_fuzz.cpp) and the CI regression test (msrp_fuzz_regress_test.cpp).
// What is checked is what the chat relay runs on every octet an MSRP peer
// sends (msrp/parser.hpp, serializer.hpp, uri.hpp, fields.hpp, reply.hpp,
// relay.hpp), under three sets of limits: the defaults, small ones that keep
// to parser.hpp's rule (max_buffered_bytes = max_header_bytes +
// max_body_bytes + 44), and a buffer below that rule:
//
//  - parse_message gives a documented outcome: an error of the list with a
//    one-line reason (no control characters: it goes to the log) exactly
//    when not None, consumed = the input exactly when None;
//  - StreamFramer fed the input whole, in pieces whose sizes the input's own
//    octets give, and (small limits) one octet at a time, gives the same messages, the
//    same error and the same octets held; after an error every further feed
//    returns it and adds nothing; it never holds more than
//    max_buffered_bytes, and under limits that keep the rule never reports
//    BufferFull (the header and body limits trip first);
//  - the framer fed the input whole agrees with parse_message: an accepted
//    message is the framer's only one, nothing held; Truncated holds it
//    all; TrailingBytes has it as the first message; any other error is
//    the framer's with no message;
//  - every accepted message (of parse_message or the framer) survives
//    serialize -> parse_message (equal, and the second serialization
//    identical) and the framer; its URIs survive to_string -> parse_uri,
//    are uri_equal to themselves, and its paths survive parse_path; the
//    response to a request (make_response), the success REPORT on a SEND
//    (make_report, whole_message_range) and the request relayed to another
//    leg (relay_request, refused only for the documented reasons) serialize
//    to messages that parse back equal;
//  - every header value and every SP-separated word of the input that
//    parse_path / parse_uri accept round-trips the same way.
//
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "msrp/fields.hpp"
#include "msrp/message.hpp"
#include "msrp/parser.hpp"
#include "msrp/relay.hpp"
#include "msrp/reply.hpp"
#include "msrp/serializer.hpp"
#include "msrp/uri.hpp"

namespace isthmus::msrp::fuzz {

struct LimitSet {
    const char* name;
    ParseLimits limits;
    bool keeps_rule;      // max_buffered_bytes >= max_header_bytes + max_body_bytes + 44
    bool octet_by_octet;  // also fed one octet at a time
    bool check_messages;  // each message accepted checked further (check_message)
};

// The messages accepted under the small limits are accepted under the
// default ones too: checked once there.
inline const std::vector<LimitSet>& limit_sets() {
    static const std::vector<LimitSet> sets = {
        {"default limits", ParseLimits{}, true, false, true},
        {"small limits", ParseLimits{256, 512, 256 + 512 + 44}, true, true, false},
        {"small buffer", ParseLimits{256, 512, 200}, false, true, false},
    };
    return sets;
}

inline std::string name(ParseError e) {
    return std::string(parse_error_name(e));
}

inline std::string one_line(std::string_view what, const std::string& reason, ParseError e) {
    if ((e == ParseError::None) != reason.empty())
        return std::string(what) + ": reason " + (reason.empty() ? "missing" : "without an error");
    for (const char c : reason) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return std::string(what) + ": control character in the reason";
    }
    return "";
}

// --- typed values ---

inline std::string check_uri(const Uri& u) {
    const std::string text = to_string(u);
    const std::optional<Uri> again = parse_uri(text);
    if (!again) return "URI does not re-parse: " + text;
    if (!(*again == u)) return "URI changes on re-parse: " + text;
    if (to_string(*again) != text) return "URI written twice differs: " + text;
    if (!uri_equal(u, u) || !uri_equal(u, *again)) return "URI not uri_equal to itself: " + text;
    return "";
}

inline std::string check_path(const std::vector<Uri>& path) {
    for (const Uri& u : path) {
        std::string err = check_uri(u);
        if (!err.empty()) return err;
    }
    if (path.empty()) return "";
    const std::string text = to_string(path);
    const auto again = parse_path(text);
    if (!again || *again != path) return "path does not survive to_string -> parse_path: " + text;
    return "";
}

// Every header value (after the first ':', trimmed) and every SP-separated
// word of the input through parse_path / parse_uri.
inline std::string check_words(std::string_view in) {
    std::size_t lines = 0;
    std::size_t words = 0;
    for (std::size_t at = 0; at < in.size() && lines < 64; ++lines) {
        std::size_t end = in.find('\n', at);
        if (end == std::string_view::npos) end = in.size();
        std::string_view line = in.substr(at, end - at);
        at = end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.remove_suffix(1);
            std::string why;
            const auto path = parse_path(value, &why);
            if (path) {
                std::string err = check_path(*path);
                if (!err.empty()) return "header value: " + err;
            } else if (why.empty()) {
                return "parse_path refused without saying why";
            }
        }
        for (std::size_t w = 0; w < line.size() && words < 256; ++words) {
            std::size_t e = line.find(' ', w);
            if (e == std::string_view::npos) e = line.size();
            std::string_view why;
            const auto u = parse_uri(line.substr(w, e - w), &why);
            if (u) {
                std::string err = check_uri(*u);
                if (!err.empty()) return "word: " + err;
            } else if (why.empty()) {
                return "parse_uri refused without saying why";
            }
            w = e + 1;
        }
    }
    return "";
}

// --- messages ---

// parse_message(serialize(m)) == m, serialize idempotent, a framer agrees.
inline std::string check_written(std::string_view what, const Message& m) {
    const std::string once = serialize(m);
    const ParseResult r = parse_message(once);
    if (!r.ok())
        return std::string(what) + " serialized does not parse (" + name(r.error) + ": " +
               r.reason + ")";
    if (!(r.message == m)) return std::string(what) + " changes on serialize -> parse";
    if (serialize(r.message) != once) return std::string(what) + " serialized twice differs";
    StreamFramer framer;
    std::vector<Message> out;
    if (framer.feed(once, out) != ParseError::None || out.size() != 1 || !(out[0] == m) ||
        framer.buffered() != 0)
        return std::string(what) + " serialized is not one message to a framer";
    return "";
}

inline const Leg& relay_leg() {
    static const Leg leg = [] {
        Leg l;
        l.self = *parse_uri("msrp://198.51.100.7:2855/gw3ims0side;tcp");
        l.peer_path = *parse_path(
            "msrp://relay.ims.example.net:2855/r3l4y;tcp "
            "msrps://[2001:db8::20]:2856/ue0s3ss10n;tcp");
        return l;
    }();
    return leg;
}

inline constexpr std::string_view kRelayTid = "r3layTid0";
inline constexpr std::string_view kReportTid = "r3portTid0";

// What holds for every message the parser accepts.
inline std::string check_message(const Message& m) {
    if (!is_ident(m.transaction_id)) return "transaction id not an ident";
    if (m.to_path.empty() || m.from_path.empty()) return "accepted without To-Path / From-Path";
    if (m.is_response() && !m.body.empty()) return "a response with a body";
    if (!m.body.empty() && !m.content_type) return "a body without Content-Type";
    std::string err = check_written("message", m);
    if (!err.empty()) return err;
    err = check_path(m.to_path);
    if (err.empty()) err = check_path(m.from_path);
    if (!err.empty()) return err;
    if (!m.is_request()) return "";

    err = check_written("response", make_response(m, status::kOk));
    if (err.empty()) err = check_written("481 response", make_response(m, 481, "No Session"));
    if (!err.empty()) return err;
    if (m.is_send()) {
        err = check_written("success REPORT", make_report(m, kReportTid, whole_message_range(m)));
        if (!err.empty()) return err;
    }
    std::string why;
    const std::optional<Message> relayed = relay_request(m, relay_leg(), kRelayTid, &why);
    if (!relayed) {
        if (!end_line_in_body(m.body, kRelayTid)) return "relay_request refused: " + why;
        return "";
    }
    if (relayed->to_path != relay_leg().peer_path || relayed->from_path.size() != 1 ||
        !(relayed->from_path[0] == relay_leg().self) || relayed->body != m.body ||
        relayed->message_id != m.message_id)
        return "relay_request: not the message with the leg's paths";
    return check_written("relayed request", *relayed);
}

// --- the framer ---

struct Framed {
    std::vector<Message> messages;
    ParseError error = ParseError::None;
    std::size_t buffered = 0;
    std::string broken;  // a property the feeds broke on the way
};

// Feeds `in` in pieces of next_size(offset) octets (the last takes the rest).
template <typename NextSize>
Framed frame(std::string_view in, const ParseLimits& limits, NextSize next_size) {
    Framed f;
    StreamFramer framer(limits);
    std::size_t at = 0;
    while (at < in.size()) {
        const std::size_t n = std::min(next_size(at), in.size() - at);
        const std::size_t before = f.messages.size();
        const ParseError e = framer.feed(in.substr(at, n), f.messages);
        at += n;
        if (f.broken.empty()) {
            if (framer.buffered() > limits.max_buffered_bytes)
                f.broken = "holds " + std::to_string(framer.buffered()) + " octets, over " +
                           std::to_string(limits.max_buffered_bytes);
            else if (e != framer.error())
                f.broken = "feed's result is not error()";
            else if (f.error != ParseError::None && (e != f.error || f.messages.size() != before))
                f.broken = "a feed after " + name(f.error) + " did something";
            else if (!one_line("framer", framer.reason(), e).empty())
                f.broken = one_line("framer", framer.reason(), e);
        }
        f.error = e;
    }
    f.buffered = framer.buffered();
    return f;
}

inline std::string same(std::string_view a, const Framed& x, std::string_view b, const Framed& y) {
    const std::string both = std::string(a) + " / " + std::string(b);
    if (x.error != y.error) return both + ": " + name(x.error) + " / " + name(y.error);
    if (x.messages.size() != y.messages.size())
        return both + ": " + std::to_string(x.messages.size()) + " / " +
               std::to_string(y.messages.size()) + " messages";
    for (std::size_t i = 0; i < x.messages.size(); ++i)
        if (!(x.messages[i] == y.messages[i])) return both + ": message " + std::to_string(i);
    if (x.buffered != y.buffered) return both + ": octets held differ";
    return "";
}

inline std::string check_limits(std::string_view in, const LimitSet& set) {
    const ParseLimits& limits = set.limits;
    const Framed whole = frame(in, limits, [&](std::size_t) { return in.size(); });
    // Piece sizes from the input itself: the octet where a piece starts
    // says how long it is (1..64 octets), so mutations move the splits.
    const Framed pieces = frame(in, limits, [&](std::size_t at) {
        return std::size_t{1} + static_cast<uint8_t>(in[at]) % 64;
    });
    for (const Framed* f : {&whole, &pieces})
        if (!f->broken.empty()) return "framer: " + f->broken;
    std::string err = same("whole", whole, "pieces", pieces);
    if (err.empty() && set.octet_by_octet) {
        const Framed octets = frame(in, limits, [](std::size_t) { return std::size_t{1}; });
        err = octets.broken.empty() ? same("whole", whole, "octet by octet", octets)
                                    : "framer: " + octets.broken;
    }
    if (!err.empty()) return "framer fed " + err;
    for (std::size_t i = 0; set.check_messages && i < whole.messages.size(); ++i) {
        err = check_message(whole.messages[i]);
        if (!err.empty()) return "framed: " + err;
    }
    if (!set.keeps_rule) return "";
    if (whole.error == ParseError::BufferFull)
        return "framer: BufferFull with limits that let the header and body limits trip first";

    const ParseResult r = parse_message(in, limits);
    if (static_cast<std::size_t>(r.error) >= kParseErrorCount) return "an error not in the list";
    err = one_line("parse_message", r.reason, r.error);
    if (!err.empty()) return err;
    if (r.consumed != (r.ok() ? in.size() : 0)) return "parse_message: consumed is wrong";
    switch (r.error) {
        case ParseError::None:
            err = set.check_messages ? check_message(r.message) : "";
            if (!err.empty()) return err;
            if (whole.error != ParseError::None || whole.messages.size() != 1 ||
                !(whole.messages[0] == r.message) || whole.buffered != 0)
                return "accepted, but the framer does not give that one message";
            break;
        case ParseError::Truncated:
            if (whole.error != ParseError::None || !whole.messages.empty() ||
                whole.buffered != in.size())
                return "Truncated, but the framer does not hold it all (" + name(whole.error) + ")";
            break;
        case ParseError::TrailingBytes:
            if (whole.messages.empty() || !(whole.messages[0] == r.message))
                return "TrailingBytes, but the framer's first message is another";
            break;
        default:
            if (whole.error != r.error || !whole.messages.empty())
                return "parse_message: " + name(r.error) + ", the framer: " + name(whole.error);
            break;
    }
    return "";
}

inline std::string check_input(std::span<const uint8_t> data) {
    // Exactly sized (a std::string's capacity would hide an over-read).
    const std::vector<char> exact(data.begin(), data.end());
    const std::string_view in(exact.data(), exact.size());
    for (const LimitSet& set : limit_sets()) {
        const std::string err = check_limits(in, set);
        if (!err.empty()) return std::string(set.name) + ": " + err;
    }
    return check_words(in);
}

}  // namespace isthmus::msrp::fuzz
