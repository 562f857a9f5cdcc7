#include "msrp/spec.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "msrp/fields.hpp"
#include "msrp/uri.hpp"

namespace isthmus::msrp {

std::string_view spec_text(const char* field, std::size_t size) {
    return {field, strnlen(field, size)};
}

bool set_spec_text(char* field, std::size_t size, std::string_view text) {
    if (text.size() > size) return false;
    std::memset(field, 0, size);
    std::memcpy(field, text.data(), text.size());
    return true;
}

std::string local_uri(const dpif::IpEndpoint& ep, std::string_view session_id,
                      std::string_view transport) {
    char addr[INET6_ADDRSTRLEN] = {};
    if (ep.family == 4) {
        inet_ntop(AF_INET, ep.addr, addr, sizeof addr);
    } else if (ep.family == 6) {
        inet_ntop(AF_INET6, ep.addr, addr, sizeof addr);
    } else {
        return {};
    }
    std::string u = "msrp://";
    if (ep.family == 6) {
        u += '[';
        u += addr;
        u += ']';
    } else {
        u += addr;
    }
    u += ':';
    u += std::to_string(ep.port);
    u += '/';
    u += session_id;
    u += ';';
    u += transport;
    return u;
}

namespace {

std::optional<std::vector<Uri>> peer_path(std::string_view text, const char* field,
                                          std::string* why) {
    std::string reason;
    auto path = parse_path(text, &reason);
    if (!path || path->empty()) {
        if (why) *why = std::string(field) + ": not an MSRP path (" + reason + ")";
        return std::nullopt;
    }
    if (path->back().session_id.empty()) {
        if (why) *why = std::string(field) + ": its last URI has no session-id";
        return std::nullopt;
    }
    return path;
}

std::optional<Uri> own_uri(const dpif::IpEndpoint& ep, std::string_view sid,
                           std::string_view transport, const char* field, std::string* why) {
    const std::string text = local_uri(ep, sid, transport);
    std::string_view reason = "unset";
    auto u = text.empty() ? std::nullopt : parse_uri(text, &reason);
    if (!u) {
        if (why)
            *why = std::string(field) + ": no URI can be made of it (" + std::string(reason) + ")";
        return std::nullopt;
    }
    return u;
}

}  // namespace

std::optional<ChatLegs> chat_legs(const dpif::MsrpSpec& spec, const dpif::IpEndpoint& access_local,
                                  std::string* why) {
    const auto fail = [why](std::string w) -> std::optional<ChatLegs> {
        if (why) *why = std::move(w);
        return std::nullopt;
    };
    if (spec.setup != dpif::kMsrpPassive && spec.setup != dpif::kMsrpActive)
        return fail("msrp.setup: neither passive nor active");
    const std::string_view sid = spec_text(spec.session_id, sizeof spec.session_id);
    if (sid.empty()) return fail("msrp.session_id: empty");
    if (spec.tcp_local.family != 4 && spec.tcp_local.family != 6)
        return fail("msrp.tcp_local: unset");
    if (spec.setup == dpif::kMsrpPassive && spec.tcp_local.port == 0)
        return fail("msrp.tcp_local: passive needs a port to listen on");
    if (spec.setup == dpif::kMsrpActive) {
        if ((spec.tcp_remote.family != 4 && spec.tcp_remote.family != 6) ||
            spec.tcp_remote.port == 0)
            return fail("msrp.tcp_remote: active needs the UE's address and port");
        if (spec.tcp_remote.family != spec.tcp_local.family)
            return fail("msrp.tcp_remote: not the family of tcp_local");
    }
    ChatLegs legs;
    auto ch = own_uri(access_local, sid, "dc", "msrp.session_id (channel URI)", why);
    if (!ch) return std::nullopt;
    auto tcp = own_uri(spec.tcp_local, sid, "tcp", "msrp.session_id (TCP URI)", why);
    if (!tcp) return std::nullopt;
    auto bp =
        peer_path(spec_text(spec.browser_path, sizeof spec.browser_path), "msrp.browser_path", why);
    if (!bp) return std::nullopt;
    auto up = peer_path(spec_text(spec.ue_path, sizeof spec.ue_path), "msrp.ue_path", why);
    if (!up) return std::nullopt;
    legs.channel = Leg{std::move(*ch), std::move(*bp)};
    legs.tcp = Leg{std::move(*tcp), std::move(*up)};
    return legs;
}

}  // namespace isthmus::msrp
