// The property the SDP parser fuzzing checks, shared by the libFuzzer target
// (sdp_fuzz.cpp) and the CI regression test (sdp_fuzz_regress_test.cpp):
//
//  - parse_sdp returns one documented outcome: ok with no reason, or an
//    error with a reason, a line number no further than one past the last
//    line, and an empty description;
//  - every accepted description survives parse -> serialize -> parse
//    (equal, and the second serialization identical), and a well-formed
//    input (CRLF line ends, no empty line, m= lines in canonical form) comes
//    back byte for byte;
//  - every typed value that parses (o= c= t= b= m=, rtpmap, fmtp, rtcp,
//    fingerprint, setup, group, ice-options, candidate, crypto) survives
//    to_string -> parse unchanged;
//  - the edits the IMS-ALG makes (remove candidates, set the connection and
//    the direction, change the port and proto, drop a format) do what they
//    say and leave a description that is still stable.
//
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include "sdp/attributes.hpp"
#include "sdp/candidate.hpp"
#include "sdp/crypto.hpp"
#include "sdp/grammar.hpp"
#include "sdp/parser.hpp"
#include "sdp/serializer.hpp"

namespace isthmus::sdp::fuzz {

template <typename Parse>
std::string check_typed(std::string_view what, std::string_view value, Parse parse) {
    const auto once = parse(value);
    if (!once) return "";
    const std::string text(to_string(*once));
    const auto twice = parse(text);
    if (!twice)
        return std::string(what) + " does not re-parse: [" + std::string(value) + "] -> [" + text +
               "]";
    if (!(*twice == *once))
        return std::string(what) + " changes on re-parse: [" + std::string(value) + "] -> [" +
               text + "]";
    return "";
}

inline std::string check_section(const Section& s) {
    std::string err;
    auto note = [&err](std::string e) {
        if (err.empty()) err = std::move(e);
    };
    for (const Line& l : s.lines) {
        switch (l.type) {
            case 'o':
                note(check_typed("o=", l.value, parse_origin));
                break;
            case 'c':
                note(check_typed("c=", l.value, parse_connection));
                break;
            case 't':
                note(check_typed("t=", l.value, parse_timing));
                break;
            case 'b':
                note(check_typed("b=", l.value, parse_bandwidth));
                break;
            default:
                break;
        }
        if (l.type != 'a') continue;
        const Attribute a = l.attribute();
        if (!a.value) continue;
        const std::string_view v = *a.value;
        if (a.name == "rtpmap") note(check_typed("rtpmap", v, parse_rtpmap));
        if (a.name == "fmtp") {
            note(check_typed("fmtp", v, parse_fmtp));
            if (const auto f = parse_fmtp(v)) (void)split_fmtp_parameters(f->parameters);
        }
        if (a.name == "rtcp") note(check_typed("rtcp", v, parse_rtcp));
        if (a.name == "fingerprint") {
            note(check_typed("fingerprint", v, parse_fingerprint));
            const auto f = parse_fingerprint(v);
            if (f && f->bytes().size() * 3 != f->value.size() + 1) note("fingerprint octets");
        }
        if (a.name == "setup") note(check_typed("setup", v, parse_setup));
        if (a.name == "group") note(check_typed("group", v, parse_group));
        if (a.name == "candidate") note(check_typed("candidate", v, parse_candidate));
        if (a.name == "crypto") {
            note(check_typed("crypto", v, parse_crypto));
            if (const auto c = parse_crypto(v))
                for (const CryptoKey& k : c->keys)
                    if (k.method == "inline" && !decode_base64(k.key_salt)) note("crypto key");
        }
        if (a.name == "ice-options") {
            const auto o = parse_ice_options(v);
            if (o && o->empty()) note("empty ice-options");
        }
        (void)parse_sctp_port(v);
        (void)parse_max_message_size(v);
    }
    return err;
}

// CRLF line ends only, no empty line, the last line ended, and each m= line
// as to_string writes it: serialize must give these bytes back.
inline bool well_formed(std::string_view data) {
    if (!data.ends_with("\r\n")) return false;
    std::size_t pos = 0;
    while (pos < data.size()) {
        const std::size_t end = data.find("\r\n", pos);
        const std::string_view line = data.substr(pos, end - pos);
        if (line.empty() || line.find('\n') != std::string_view::npos) return false;
        if (line.starts_with("m=")) {
            const auto m = parse_media_line(line.substr(2));
            if (!m || to_string(*m) != line.substr(2)) return false;
        }
        pos = end + 2;
    }
    return true;
}

inline std::string check_stable(const SessionDescription& d, std::string_view what) {
    const std::string once = serialize(d);
    ParseLimits relaxed;
    relaxed.max_bytes = 2 * once.size() + 1024;
    relaxed.max_lines = once.size() + 1;
    relaxed.max_media = once.size() + 1;
    relaxed.max_attributes_per_section = once.size() + 1;
    const ParseResult again = parse_sdp(once, relaxed);
    if (!again.ok())
        return std::string(what) + ": serialized description does not parse (" + again.reason +
               "):\n" + once;
    if (!(again.description == d))
        return std::string(what) + ": description changes on re-parse:\n" + once + "\n---\n" +
               serialize(again.description);
    if (serialize(again.description) != once)
        return std::string(what) + ": second serialization differs:\n" + once;
    return "";
}

// The IMS-ALG's kind of edit on a copy.
inline std::string check_edits(const SessionDescription& d) {
    SessionDescription e = d;
    set_connection(e.session, Connection{"IN", "IP4", "198.18.0.1"});
    for (MediaDescription& m : e.media) {
        (void)ice_credentials(e.session, m);
        (void)mid(m);
        for (const std::string& f : m.m.formats) {
            (void)rtpmap_for(m, f);
            (void)fmtp_for(m, f);
        }
        m.remove_attributes("candidate");
        if (m.has_attribute("candidate")) return "candidates left after remove_attributes";
        set_connection(m, Connection{"IN", "IP6", "2001:db8::1"});
        const auto c = effective_connection(e.session, m);
        if (!c || c->address != "2001:db8::1") return "set_connection not effective";
        set_direction(m, Direction::SendOnly);
        if (effective_direction(e.session, m) != Direction::SendOnly)
            return "set_direction not effective";
        m.set_attribute("rtcp", "40001");
        if (m.attributes("rtcp").size() != 1) return "set_attribute left several";
        m.m.port = 40000;
        m.m.proto = "RTP/AVP";
        if (!m.m.formats.empty()) {
            const std::string fmt = m.m.formats.front();
            remove_format(m, fmt);
            if (m.m.has_format(fmt)) return "remove_format left the format";
            for (const Attribute& a : m.all_attributes()) {
                const bool per_format = a.name == "rtpmap" || a.name == "fmtp";
                const auto words =
                    a.value ? split_words(*a.value) : std::vector<std::string_view>{};
                if (per_format && !words.empty() && words[0] == fmt)
                    return "remove_format left an a=" + std::string(a.name);
            }
        }
    }
    (void)bundle_groups(e.session);
    (void)is_ice_lite(e.session);
    return check_stable(e, "edited");
}

inline std::string check_input(std::string_view data) {
    const ParseResult r = parse_sdp(data);
    if (!r.ok()) {
        if (r.reason.empty()) return "error without a reason";
        if (static_cast<std::size_t>(r.error) >= kParseErrorCount) return "unknown error";
        const auto lines = static_cast<std::size_t>(std::count(data.begin(), data.end(), '\n'));
        if (r.line > lines + 2) return "error line past the end: " + r.reason;
        if (!(r.description == SessionDescription{})) return "error with a description";
        return "";
    }
    if (!r.reason.empty()) return "ok with a reason";
    const SessionDescription& d = r.description;
    if (d.session.lines.size() < 4 || d.session.lines[0].type != 'v')
        return "ok without v= o= s= t=";
    if (!d.origin()) return "ok with an o= that does not parse";
    if (well_formed(data) && serialize(d) != data)
        return "well-formed input not written back byte for byte:\n" + serialize(d);
    std::string err = check_stable(d, "parsed");
    if (!err.empty()) return err;
    err = check_section(d.session);
    for (const MediaDescription& m : d.media) {
        if (!err.empty()) return err;
        err = check_section(m);
        if (err.empty()) err = check_typed("m=", to_string(m.m), parse_media_line);
    }
    if (!err.empty()) return err;
    return check_edits(d);
}

}  // namespace isthmus::sdp::fuzz
