// Typed values of the attributes the IMS-ALG reads and writes, and the
// level rules that go with them (a media-level value overrides the
// session-level one).
//
// Each parse_* takes an attribute's VALUE (the text after "name:", as
// Attribute::value gives it) and returns nullopt when it does not match the
// grammar in its comment; each to_string writes the canonical form, which
// parses back to an equal value. Words may be separated by runs of SP / HTAB
// where the grammar has SP (peers differ); to_string writes one SP. Text
// fields are kept as written.
//
// ICE (RFC 8839) candidates are in candidate.hpp, SDES (RFC 4568) crypto in
// crypto.hpp.
//
// Pure functions; thread-safety: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/description.hpp"

namespace isthmus::sdp {

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
// (RFC 8866 6.6): `111 opus/48000/2`, `116 AMR-WB/16000/1`, `0 PCMU/8000`.
// The payload type is 0..127 (RFC 3550 5.1); the clock rate 1..2**32-1.
struct RtpMap {
    uint8_t payload_type = 0;
    std::string encoding_name;  // as written; compare with iequals (RFC 4855 3)
    uint32_t clock_rate = 0;
    std::optional<std::string> encoding_params;  // audio: channels ("2")
    bool operator==(const RtpMap&) const = default;
};
std::optional<RtpMap> parse_rtpmap(std::string_view value);
std::string to_string(const RtpMap& r);
// The mapping of format `fmt` in a media description: its a=rtpmap if one
// parses, else for a static payload type of RFC 3551 6 (0 PCMU, 8 PCMA,
// 9 G722, 18 G729, ... 34 H263; IMS peers often send `m=audio ... 0 8`
// without rtpmap) the table's; nullopt otherwise (a dynamic type without
// rtpmap, or a format that is not a payload type).
std::optional<RtpMap> rtpmap_for(const Section& media, std::string_view fmt);

// a=fmtp:<format> <format specific parameters> (RFC 8866 6.15):
// `116 mode-change-capability=2;max-red=0`, `101 0-15`. The parameters are
// kept as one text (everything after the first run of white space, trailing
// white space included), since their syntax belongs to each format;
// split_fmtp_parameters reads the common `name=value;...` form. An fmtp
// without parameters (`a=fmtp:97`) has an empty text.
struct Fmtp {
    std::string format;
    std::string parameters;
    bool operator==(const Fmtp&) const = default;
};
std::optional<Fmtp> parse_fmtp(std::string_view value);
std::string to_string(const Fmtp& f);
// The first a=fmtp of format `fmt` in a media description that parses.
std::optional<Fmtp> fmtp_for(const Section& media, std::string_view fmt);

// One `name[=value]` of a `;`-separated fmtp parameter list, trimmed of
// white space: "mode-change-capability=2" -> {"mode-change-capability", "2"},
// "0-15" -> {"0-15", nullopt}. Empty elements are skipped.
struct FmtpParameter {
    std::string name;
    std::optional<std::string> value;
    bool operator==(const FmtpParameter&) const = default;
};
std::vector<FmtpParameter> split_fmtp_parameters(std::string_view parameters);
// The inverse: `name=value;name` (no spaces).
std::string join_fmtp_parameters(const std::vector<FmtpParameter>& params);

// a=rtcp:<port> [<nettype> <addrtype> <connection-address>] (RFC 3605 2.1):
// `53020`, `53020 IN IP4 126.16.64.4`, `9 IN IP4 0.0.0.0`.
struct Rtcp {
    uint16_t port = 0;
    std::optional<Connection> address;
    bool operator==(const Rtcp&) const = default;
};
std::optional<Rtcp> parse_rtcp(std::string_view value);
std::string to_string(const Rtcp& r);

// a=fingerprint:<hash-func> <fingerprint> (RFC 8122 5): `sha-256 4A:AD:...`.
// hash-func is a token (sha-1, sha-256, ...; kept as written, compare with
// iequals); the fingerprint is 2HEXDIG *(":" 2HEXDIG), kept as written.
struct Fingerprint {
    std::string hash_function;
    std::string value;
    // The fingerprint's octets (always decodes for a parsed value).
    std::vector<uint8_t> bytes() const;
    bool operator==(const Fingerprint&) const = default;
};
std::optional<Fingerprint> parse_fingerprint(std::string_view value);
std::string to_string(const Fingerprint& f);
// "AB:CD:..." in upper case, for building a Fingerprint from a digest.
std::string fingerprint_hex(const std::vector<uint8_t>& digest);

// a=setup:<role> (RFC 4145 4, RFC 8842 5.1), case-insensitive.
enum class SetupRole : uint8_t { Active, Passive, ActPass, HoldConn };
std::optional<SetupRole> parse_setup(std::string_view value);
std::string_view to_string(SetupRole s);

// a=ice-ufrag / a=ice-pwd (RFC 8839 5.4): 4..256 and 22..256 ice-chars.
bool valid_ice_ufrag(std::string_view value);
bool valid_ice_pwd(std::string_view value);
// a=ice-options:<token> *(SP <token>) (RFC 8839 5.6): `trickle`, `trickle renomination`.
std::optional<std::vector<std::string>> parse_ice_options(std::string_view value);

struct IceCredentials {
    std::string ufrag;
    std::string pwd;
    bool operator==(const IceCredentials&) const = default;
};
// RFC 8839 5.4: each of a=ice-ufrag / a=ice-pwd from the media description,
// else from the session level. nullopt when either is missing or invalid.
std::optional<IceCredentials> ice_credentials(const Section& session, const Section& media);
// a=ice-lite at the session level (RFC 8839 5.3).
bool is_ice_lite(const Section& session);

// a=group:<semantics> *(SP <identification-tag>) (RFC 5888 5, RFC 9143 7):
// `BUNDLE 0 1 2`, `LS 1 2`. Tags are tokens; a group may list none.
struct Group {
    std::string semantics;
    std::vector<std::string> mids;
    bool operator==(const Group&) const = default;
};
std::optional<Group> parse_group(std::string_view value);
std::string to_string(const Group& g);
// The session's BUNDLE groups, in order (RFC 9143: an offer may hold more
// than one).
std::vector<Group> bundle_groups(const Section& session);

// a=mid:<identification-tag> (RFC 5888 4): a token. The media description's
// mid, or nullopt if it has none that is valid.
std::optional<std::string_view> mid(const Section& media);

// Direction attributes (RFC 8866 6.7; RFC 3264 5.1).
enum class Direction : uint8_t { SendRecv, SendOnly, RecvOnly, Inactive };
std::optional<Direction> parse_direction(std::string_view attribute_name);
std::string_view to_string(Direction d);
// The first direction attribute of this level, or nullopt.
std::optional<Direction> direction_of(const Section& section);
// The media description's direction, else the session's, else sendrecv.
Direction effective_direction(const Section& session, const Section& media);
// Makes `d` the only direction attribute of the level: at the place of the
// first one there was, or appended.
void set_direction(Section& section, Direction d);

// a=sctp-port:<port> (RFC 8841 5.1), 0..65535.
std::optional<uint16_t> parse_sctp_port(std::string_view value);
// a=max-message-size:<size> (RFC 8841 6.1): 1*DIGIT bytes, 0 = no limit.
std::optional<uint64_t> parse_max_message_size(std::string_view value);

// a=dcmap:<stream-id> [<opt>*(";"<opt>)] (RFC 8864 5.1): a data channel
// negotiated in SDP rather than with DCEP, e.g. the MSRP channel of RFC
// 8873: `2 label="chat";subprotocol="MSRP";ordered=1`. stream-id 0..65534;
// options ordered=0/1, max-retr=N, max-time=N (not both), priority=N,
// label="..." and subprotocol="..." (quoted; %XX escapes are kept as
// written); unknown options are skipped (RFC 8864 5.1.x: extensible).
struct DcMap {
    uint16_t stream_id = 0;
    std::optional<bool> ordered;  // absent: ordered
    std::optional<uint32_t> max_retr;
    std::optional<uint32_t> max_time;
    std::optional<uint16_t> priority;
    std::optional<std::string> label;
    std::optional<std::string> subprotocol;
    bool operator==(const DcMap&) const = default;
};
std::optional<DcMap> parse_dcmap(std::string_view value);
std::string to_string(const DcMap& d);
// a=dcsa:<stream-id> <attribute> (RFC 8864 5.2): an attribute of the
// channel's subprotocol, e.g. `2 accept-types:message/cpim text/plain`
// (the MSRP attributes of RFC 8873 5.1). The attribute is kept as written.
struct DcSa {
    uint16_t stream_id = 0;
    std::string attribute;  // "accept-types:message/cpim text/plain"
    bool operator==(const DcSa&) const = default;
};
std::optional<DcSa> parse_dcsa(std::string_view value);
std::string to_string(const DcSa& d);

// Drops format `fmt` from the media line and its a=rtpmap, a=fmtp and
// a=rtcp-fb lines (RFC 4585 4.2; `a=rtcp-fb:*` stays). Returns whether the
// m= line had it.
bool remove_format(MediaDescription& media, std::string_view fmt);

}  // namespace isthmus::sdp
