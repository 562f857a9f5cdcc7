#include "pcscf/p_headers.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "sip/grammar.hpp"
#include "sip/header_names.hpp"
#include "sip/host.hpp"

namespace isthmus::pcscf {

namespace {

bool is_v4_mapped(const std::array<uint8_t, 16>& a) {
    static constexpr std::array<uint8_t, 12> prefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::equal(prefix.begin(), prefix.end(), a.begin());
}

// The sent-by host of `via` is the address `source` (so no `received`).
bool sent_by_is(const sip::Via& via, const std::array<uint8_t, 16>& source) {
    if (via.host_kind == sip::HostKind::IPv4) {
        std::array<uint8_t, 4> v4{};
        return is_v4_mapped(source) && sip::parse_ipv4(via.host, v4) &&
               std::equal(v4.begin(), v4.end(), source.begin() + 12);
    }
    if (via.host_kind == sip::HostKind::IPv6 && via.host.size() >= 2) {
        std::array<uint8_t, 16> v6{};
        return sip::parse_ipv6(std::string_view(via.host).substr(1, via.host.size() - 2), v6) &&
               v6 == source;
    }
    return false;
}

void set_param(std::vector<sip::Param>& params, std::string_view name, std::string value) {
    for (sip::Param& p : params) {
        if (sip::iequals(p.name, name)) {
            p.value = std::move(value);
            p.quoted = false;
            return;
        }
    }
    params.push_back(sip::Param{std::string(name), std::move(value), false});
}

}  // namespace

bool is_unspecified(const std::array<uint8_t, 16>& address) {
    return std::all_of(address.begin(), address.end(), [](uint8_t b) { return b == 0; }) ||
           (is_v4_mapped(address) && address[12] == 0 && address[13] == 0 && address[14] == 0 &&
            address[15] == 0);
}

std::string address_text(const std::array<uint8_t, 16>& address) {
    std::array<char, INET6_ADDRSTRLEN> buf{};
    if (is_v4_mapped(address)) {
        inet_ntop(AF_INET, address.data() + 12, buf.data(), buf.size());
    } else {
        inet_ntop(AF_INET6, address.data(), buf.data(), buf.size());
    }
    return std::string(buf.data());
}

bool stamp_via_source(sip::Message& request, const Peer& source) {
    const auto top = request.header("Via");
    if (!top) return false;
    auto via = sip::parse_via(*top);
    if (!via) return false;
    if (is_unspecified(source.address)) return true;
    bool changed = false;
    if (!sent_by_is(*via, source.address)) {
        set_param(via->params, "received", address_text(source.address));
        changed = true;
    }
    if (const auto rport = via->rport(); rport && *rport == 0 && source.port != 0) {
        set_param(via->params, "rport", std::to_string(source.port));
        changed = true;
    }
    if (changed) {
        request.remove_first_value("Via");
        request.prepend("Via", sip::to_string(*via));
    }
    return true;
}

void put_field(sip::Message& m, std::string_view name, std::string_view value) {
    const std::string_view canonical = sip::canonical_header_name(name);
    auto last_of = [&](std::string_view n) {
        auto found = m.fields.end();
        for (auto it = m.fields.begin(); it != m.fields.end(); ++it)
            if (sip::iequals(it->name, n)) found = it;
        return found;
    };
    auto at = last_of(canonical);
    if (at == m.fields.end()) at = last_of("Via");
    const auto pos = at == m.fields.end() ? m.fields.end() : at + 1;
    m.fields.insert(pos, sip::HeaderField{std::string(canonical), std::string(value)});
}

void put_first(sip::Message& m, std::string_view name, std::string_view value) {
    if (m.field_count(name) > 0) {
        m.prepend(name, value);
    } else {
        put_field(m, name, value);
    }
}

bool has_option_tag(const sip::Message& m, std::string_view name, std::string_view tag) {
    const auto values = m.headers(name);
    return std::any_of(values.begin(), values.end(),
                       [&](std::string_view v) { return sip::iequals(v, tag); });
}

void remove_untrusted_from_ue(sip::Message& m) {
    for (std::string_view name :
         {"P-Asserted-Identity", "P-Preferred-Identity", "P-Charging-Vector",
          "P-Charging-Function-Addresses", "P-Visited-Network-ID", "P-Served-User", "P-Profile-Key",
          "P-Asserted-Service"}) {
        m.remove(name);
    }
}

void remove_charging_toward_ue(sip::Message& m) {
    m.remove("P-Charging-Vector");
    m.remove("P-Charging-Function-Addresses");
}

std::vector<sip::Uri> preferred_identities(const sip::Message& m) {
    std::vector<sip::Uri> out;
    for (std::string_view v : m.headers("P-Preferred-Identity")) {
        if (auto na = sip::parse_name_addr(v)) out.push_back(std::move(na->uri));
    }
    return out;
}

std::string asserted_identity_value(const sip::NameAddr& identity) {
    sip::NameAddr na;
    na.display_name = identity.display_name;
    na.display_name_quoted = identity.display_name_quoted;
    na.angle_brackets = true;
    na.uri = identity.uri;
    return sip::to_string(na);
}

std::string make_icid(uint64_t random, uint64_t counter) {
    std::array<char, 48> buf{};
    std::snprintf(buf.data(), buf.size(), "%016llx.%llx", static_cast<unsigned long long>(random),
                  static_cast<unsigned long long>(counter));
    return std::string(buf.data());
}

std::string charging_vector(std::string_view icid, std::string_view orig_ioi) {
    std::string out = "icid-value=" + std::string(icid);
    if (!orig_ioi.empty()) out += ";orig-ioi=" + std::string(orig_ioi);
    return out;
}

std::string visited_network_value(std::string_view network) {
    if (sip::is_token(network)) return std::string(network);
    return "\"" + sip::quote(network) + "\"";
}

}  // namespace isthmus::pcscf
