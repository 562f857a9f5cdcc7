// a=candidate (RFC 8839 5.1): one ICE candidate.
//
//   candidate-attribute = "candidate" ":" foundation SP component-id SP
//                         transport SP priority SP connection-address SP
//                         port SP cand-type [SP rel-addr] [SP rel-port]
//                         *(SP cand-extension)
//   foundation = 1*32ice-char    component-id = 1*3DIGIT
//   transport = "UDP" / token    priority = 1*10DIGIT (up to 2**32 - 1)
//   cand-type = "typ" SP ("host" / "srflx" / "prflx" / "relay" / token)
//   rel-addr = "raddr" SP connection-address   rel-port = "rport" SP port
//   cand-extension = token SP *VCHAR
//
// `842163049 1 udp 1677729535 198.51.100.7 46154 typ srflx raddr 10.0.0.1
// rport 46154 generation 0 network-cost 999`. The address may be an IPv4 or
// IPv6 literal or a name (an mDNS `<uuid>.local` from a browser); it is kept
// as written and not resolved. Extensions (generation, ufrag, network-id,
// network-cost, tcptype, ...) are kept in order as name/value pairs; an
// extension whose value is empty cannot be told from the next one's name and
// is refused. Words may be separated by runs of SP / HTAB; to_string writes
// one SP.
//
// Pure functions; thread-safety: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isthmus::sdp {

struct CandidateExtension {
    std::string name;
    std::string value;
    bool operator==(const CandidateExtension&) const = default;
};

struct Candidate {
    std::string foundation;
    uint16_t component = 1;  // 1 RTP, 2 RTCP (RFC 8445 5.1.1.1)
    std::string transport;   // "UDP", "udp", "tcp", ... as written: compare with iequals
    uint32_t priority = 0;
    std::string address;
    uint16_t port = 0;
    std::string type;  // host, srflx, prflx, relay or a token, as written
    std::optional<std::string> related_address;
    std::optional<uint16_t> related_port;
    std::vector<CandidateExtension> extensions;

    // The value of extension `name` (case-sensitive, as RFC 8839 registers
    // them), e.g. "tcptype"; nullopt if absent.
    std::optional<std::string_view> extension(std::string_view name) const;

    bool operator==(const Candidate&) const = default;
};

// `value` is the attribute's value (after "candidate:"). nullopt when it does
// not match the grammar above.
std::optional<Candidate> parse_candidate(std::string_view value);
std::string to_string(const Candidate& c);

}  // namespace isthmus::sdp
