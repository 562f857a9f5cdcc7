// The MSRP chat of a data channel in the IMS-ALG rewrite (issue 9, RFC
// 8873 gateway configuration): a browser's m=application line whose a=dcmap
// names subprotocol MSRP, and the IMS side's m=message TCP/MSRP line.
#include <string>
#include <vector>

#include "sdp/grammar.hpp"
#include "sdp/rewrite.hpp"
#include "sdp/rewrite_internal.hpp"

namespace isthmus::sdp::rewrite_detail {

namespace {

// The MSRP attributes (RFC 4975 8.6, RFC 8873 5.1) that describe what an
// endpoint takes, carried from one side to the other; path and setup are
// each side's own, file transfer (RFC 5547) is not relayed.
bool carried(std::string_view name) {
    return iequals(name, "accept-types") || iequals(name, "accept-wrapped-types") ||
           iequals(name, "max-size");
}

std::string_view name_of(std::string_view attribute) {
    return attribute.substr(0, attribute.find(':'));
}

}  // namespace

bool is_msrp_chat_line(const MediaDescription& m) {
    if (!is_data_channel_proto(m.m.proto)) return false;
    for (const Attribute& a : m.attributes("dcmap")) {
        const auto d = a.value ? parse_dcmap(*a.value) : std::nullopt;
        if (d && d->subprotocol && iequals(*d->subprotocol, "MSRP")) return true;
    }
    return false;
}

std::optional<BrowserChat> read_browser_chat(const MediaDescription& m, std::size_t index,
                                             Failure& f) {
    BrowserChat c;
    int found = 0;
    for (const Attribute& a : m.attributes("dcmap")) {
        const auto d = a.value ? parse_dcmap(*a.value) : std::nullopt;
        if (d && d->subprotocol && iequals(*d->subprotocol, "MSRP")) {
            c.map = *d;
            ++found;
        }
    }
    if (found != 1) {
        f = {RewriteError::BadDescription,
             where(index, m) + (found == 0 ? ": no a=dcmap with subprotocol \"MSRP\""
                                           : ": more than one MSRP a=dcmap (one chat per m-line)")};
        return std::nullopt;
    }
    for (const Attribute& a : m.attributes("dcsa")) {
        const auto s = a.value ? parse_dcsa(*a.value) : std::nullopt;
        if (!s || s->stream_id != c.map.stream_id) continue;
        const std::string_view name = name_of(s->attribute);
        if (iequals(name, "path"))
            c.path = std::string(trim_wsp(std::string_view(s->attribute).substr(5)));
        else if (carried(name))
            c.attributes.push_back(s->attribute);
    }
    if (c.path.empty()) {
        f = {RewriteError::BadDescription, where(index, m) +
                                               ": no a=dcsa:" + std::to_string(c.map.stream_id) +
                                               " path (RFC 8873 5.1: the browser's MSRP URI)"};
        return std::nullopt;
    }
    if (const auto p = m.attribute("sctp-port"); p && p->value) {
        const auto port = parse_sctp_port(*p->value);
        if (!port || *port == 0) {
            f = {RewriteError::BadDescription, where(index, m) + ": a=sctp-port unreadable"};
            return std::nullopt;
        }
        c.sctp_port = *port;
    }
    if (const auto s = m.attribute("max-message-size"); s && s->value) {
        const auto size = parse_max_message_size(*s->value);
        if (!size) {
            f = {RewriteError::BadDescription, where(index, m) + ": a=max-message-size unreadable"};
            return std::nullopt;
        }
        c.max_message_size = *size > 0xFFFFFFFFULL ? 0 : static_cast<uint32_t>(*size);
    }
    return c;
}

std::string msrp_uri(const Connection& c, uint16_t port, std::string_view session_id,
                     std::string_view transport) {
    std::string u = "msrp://";
    const bool v6 = iequals(c.addr_type, "IP6");
    if (v6) u += '[';
    u += c.host();
    if (v6) u += ']';
    u += ':' + std::to_string(port) + '/';
    u += session_id;
    u += ';';
    u += transport;
    return u;
}

MediaDescription ims_chat_media(const BrowserChat& chat, uint16_t port, std::string_view path) {
    MediaDescription m;
    m.m.media = "message";
    m.m.port = port;
    m.m.proto = "TCP/MSRP";
    m.m.formats = {"*"};
    for (const std::string& a : chat.attributes) {
        const std::size_t colon = a.find(':');
        m.add_attribute(std::string_view(a).substr(0, colon),
                        colon == std::string::npos ? std::optional<std::string_view>()
                                                   : std::string_view(a).substr(colon + 1));
    }
    if (!m.has_attribute("accept-types")) m.add_attribute("accept-types", "text/plain");
    m.add_attribute("path", path);
    m.add_attribute("setup", "actpass");  // RFC 6135: the IMS side picks
    return m;
}

std::optional<UeChat> read_ue_chat(const SessionDescription& d, std::size_t index, Failure& f) {
    const MediaDescription& m = d.media[index];
    UeChat u;
    if (!iequals(m.m.proto, "TCP/MSRP")) {
        f = {RewriteError::AnswerMismatch,
             where(index, m) + ": proto " + m.m.proto + " where TCP/MSRP was offered"};
        return std::nullopt;
    }
    const auto path = m.attribute("path");
    if (!path || !path->value || trim_wsp(*path->value).empty()) {
        f = {RewriteError::BadDescription, where(index, m) + ": no a=path (RFC 4975 8.2)"};
        return std::nullopt;
    }
    u.path = std::string(trim_wsp(*path->value));
    if (const auto s = m.attribute("setup")) {
        u.setup = s->value ? parse_setup(*s->value) : std::nullopt;
        if (!u.setup) {
            f = {RewriteError::BadSetup, where(index, m) + ": a=setup unreadable"};
            return std::nullopt;
        }
    }
    for (const Attribute& a : m.all_attributes())
        if (carried(a.name))
            u.attributes.push_back(a.value ? std::string(a.name) + ":" + std::string(*a.value)
                                           : std::string(a.name));
    const auto c = effective_connection(d.session, m);
    if (!c) {
        f = {RewriteError::BadDescription, where(index, m) + ": no c= line applies"};
        return std::nullopt;
    }
    u.address = TransportAddress{*c, m.m.port};
    return u;
}

bool is_ims_chat_line(const MediaDescription& m) {
    return m.m.port != 0 && iequals(m.m.media, "message") && iequals(m.m.proto, "TCP/MSRP");
}

void add_chat_lines(MediaDescription& m, const DcMap& map, const std::string& our_dc_path,
                    const std::vector<std::string>& attributes, uint32_t max_message_size) {
    m.add_attribute("sctp-port", "5000");
    m.add_attribute("max-message-size", std::to_string(max_message_size));
    const std::string stream = std::to_string(map.stream_id);
    m.add_attribute("dcmap", to_string(map));
    m.add_attribute("dcsa", stream + " path:" + our_dc_path);
    for (const std::string& a : attributes)
        m.add_attribute("dcsa", stream + " " + a);
}

}  // namespace isthmus::sdp::rewrite_detail
