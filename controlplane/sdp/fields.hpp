// Typed values of the SDP lines other than a= (RFC 8866 5): o= (origin),
// c= (connection), t= (timing), b= (bandwidth) and m= (media line).
//
// A description keeps o=, c=, t= and b= lines as their text (description.hpp);
// these parse one on demand and write one back. m= is the exception: the
// parser checks it and stores it typed (MediaDescription::m), since the
// rewrite edits its port, proto and formats.
//
// Each parse_* takes the text after "x=" and returns nullopt when it does not
// match the grammar named in its comment; each to_string writes the canonical
// form (fields separated by one SP) that parses back to an equal value.
// Fields are kept as written (case, leading zeros of text fields), so an
// untouched value is forwarded as it came.
//
// Pure functions; thread-safety: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isthmus::sdp {

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
// (RFC 8866 5.2): six words of visible characters separated by SP. The
// session id and version are kept as text (RFC 8866 asks for digits; some
// peers do not comply, and refusing their calls helps no one):
// session_version_number() reads the version when it is one.
struct Origin {
    std::string username = "-";
    std::string session_id;
    std::string session_version;
    std::string net_type = "IN";
    std::string addr_type = "IP4";
    std::string address;

    // sess-version as a number (1*DIGIT up to 2**64 - 1), for a rewrite
    // that must increase it (RFC 3264 8).
    std::optional<uint64_t> session_version_number() const;

    bool operator==(const Origin&) const = default;
};
std::optional<Origin> parse_origin(std::string_view value);
std::string to_string(const Origin& o);

// c=<nettype> <addrtype> <connection-address> (RFC 8866 5.7). The address is
// kept raw, multicast suffixes ("/127", "/127/3", IPv6 "/3") included;
// host() is the part before them. Neither the address nor the type is
// checked against the other: an FQDN is allowed (RFC 8866 5.7), and a
// rewrite replaces the address anyway.
struct Connection {
    std::string net_type = "IN";
    std::string addr_type = "IP4";  // IP4 or IP6 (others kept as written)
    std::string address;

    // The address without its "/ttl" or "/count" suffixes.
    std::string_view host() const;
    // Whether the address carries such a suffix (a multicast connection).
    bool has_multicast_suffix() const;

    bool operator==(const Connection&) const = default;
};
std::optional<Connection> parse_connection(std::string_view value);
std::string to_string(const Connection& c);

// t=<start-time> <stop-time> (RFC 8866 5.9): two decimal NTP times; "0 0"
// for a permanent session, as every real-time session writes.
struct Timing {
    uint64_t start = 0;
    uint64_t stop = 0;
    bool operator==(const Timing&) const = default;
};
std::optional<Timing> parse_timing(std::string_view value);
std::string to_string(const Timing& t);

// b=<bwtype>:<bandwidth> (RFC 8866 5.8): AS and CT in kb/s, RS and RR in
// bit/s (RFC 3556), TIAS in bit/s (RFC 3890), other token types kept.
struct Bandwidth {
    std::string type;
    uint64_t value = 0;
    bool operator==(const Bandwidth&) const = default;
};
std::optional<Bandwidth> parse_bandwidth(std::string_view value);
std::string to_string(const Bandwidth& b);

// m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 8866 5.14):
// `m=audio 49170 RTP/AVP 0 8 97`, `m=video 49170/2 RTP/AVP 31`,
// `m=application 9 UDP/DTLS/SCTP webrtc-datachannel`. Port 0 rejects the
// stream (RFC 3264 6). Words may be separated by runs of SP / HTAB and the
// line may end with white space (what some peers send); to_string writes one
// SP between them. A line without formats is accepted (RFC 8866 asks for
// one; rejected streams in the wild sometimes have none) and written back
// without.
struct MediaLine {
    std::string media;  // audio, video, text, application, message, image, or a token
    uint16_t port = 0;
    std::optional<uint16_t> port_count;  // "/2": layered encodings (RFC 8866 5.14)
    std::string proto;                   // RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF, UDP/DTLS/SCTP, ...
    std::vector<std::string> formats;    // RTP payload types, or other formats as written

    bool has_format(std::string_view fmt) const;

    bool operator==(const MediaLine&) const = default;
};
// nullopt when: fewer than three words; media not a token; proto not
// token *("/" token); the port not 1*DIGIT in 0..65535 or the port count not
// 1*DIGIT in 1..65535 (valid_media_port); a format that is not a token.
std::optional<MediaLine> parse_media_line(std::string_view value);
// A media line's port part ("49170", "49170/2") is valid: 1*DIGIT up to
// 65535, and a count of 1*DIGIT in 1..65535 after a '/'.
bool valid_media_port(std::string_view port_part);
std::string to_string(const MediaLine& m);

}  // namespace isthmus::sdp
