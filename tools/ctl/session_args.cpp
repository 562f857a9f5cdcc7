#include "ctl/session_args.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>

#include "isthmus/dpif/fingerprint.hpp"
#include "isthmus/dpif/sdes.hpp"

namespace isthmus::ctl {

namespace {

// A decimal number of [lo, hi], nothing else (no sign, no spaces).
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t lo, uint64_t hi) {
    uint64_t v = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) return std::nullopt;
    return v;
}

bool same_endpoint(const dpif::IpEndpoint& a, const dpif::IpEndpoint& b) {
    return a.family == b.family && a.port == b.port && std::memcmp(a.addr, b.addr, 16) == 0;
}

const char* family_name(uint8_t family) {
    return family == 6 ? "IPv6" : "IPv4";
}

// What the command line said about one leg, before it is checked.
struct LegArgs {
    explicit LegArgs(std::string leg) : name(std::move(leg)) {}

    std::string name;  // "access" or "core": the options are "--<name>-..."
    std::optional<std::string> local, remote, rtcp_local, rtcp_remote, rx_key, tx_key;
    std::optional<std::string> ice_ufrag, ice_pwd, remote_ufrag;  // ICE-lite (access leg)
    std::optional<std::string> dtls, fingerprint;                 // DTLS-SRTP (access leg)
    std::optional<std::string> police_kbps;  // what the leg may send us (issue 11)
    bool rtcp_mux = false;

    std::string opt(const char* what) const { return "--" + name + "-" + what; }
};

// Parses the endpoint of option `option` when given; error names the option.
bool endpoint_arg(const std::optional<std::string>& text, const std::string& option,
                  dpif::IpEndpoint& out, std::string& error) {
    if (!text) return true;
    std::string why;
    if (!parse_endpoint(*text, out, why)) {
        error = option + ": " + why;
        return false;
    }
    return true;
}

// The RTCP default of RFC 3550 11: the RTP port + 1.
bool next_port(const dpif::IpEndpoint& rtp, const std::string& rtp_option,
               const std::string& rtcp_option, const std::string& mux_option, dpif::IpEndpoint& out,
               std::string& error) {
    if (rtp.port == 65535) {
        error = rtp_option + " has port 65535, so RTCP cannot default to port + 1: give " +
                rtcp_option + " or " + mux_option;
        return false;
    }
    out = rtp;
    out.port = static_cast<uint16_t>(rtp.port + 1);
    return true;
}

bool key_arg(const std::optional<std::string>& text, const std::string& option, dpif::SrtpKeys& out,
             std::string& error) {
    if (!text) return true;
    std::string why;
    if (!dpif::parse_sdes_inline(*text, out, why)) {
        error = option + ": " + why;
        return false;
    }
    return true;
}

// Checks one leg's options and fills its LegSpec. `core`: the remote is
// required and the keys optional (plain RTP toward the IMS); otherwise (access)
// the remote is optional and both keys required.
bool build_leg(const LegArgs& a, bool core, dpif::LegSpec& leg, std::string& error) {
    const std::string o_local = a.opt("local"), o_remote = a.opt("remote"),
                      o_rtcp_local = a.opt("rtcp-local"), o_rtcp_remote = a.opt("rtcp-remote"),
                      o_mux = a.opt("rtcp-mux"), o_rx = a.opt("rx-key"), o_tx = a.opt("tx-key");
    if (!a.local) {
        error = "missing " + o_local + " (the gateway's RTP address on the " + a.name + " leg)";
        return false;
    }
    if (core && !a.remote) {
        error = "missing " + o_remote + " (the IMS media address of the core leg)";
        return false;
    }
    if (!endpoint_arg(a.local, o_local, leg.local, error) ||
        !endpoint_arg(a.remote, o_remote, leg.remote, error) ||
        !endpoint_arg(a.rtcp_local, o_rtcp_local, leg.local_rtcp, error) ||
        !endpoint_arg(a.rtcp_remote, o_rtcp_remote, leg.remote_rtcp, error)) {
        return false;
    }
    if (a.rtcp_mux && (a.rtcp_local || a.rtcp_remote)) {
        error = (a.rtcp_local ? o_rtcp_local : o_rtcp_remote) + " contradicts " + o_mux +
                " (RTCP shares the RTP port)";
        return false;
    }
    if (a.rtcp_remote && !a.remote) {
        error = o_rtcp_remote + " needs " + o_remote +
                " (without it both remote addresses are learned)";
        return false;
    }
    // Every endpoint given on the leg is of the local one's family.
    const std::pair<const std::optional<std::string>*, const dpif::IpEndpoint*> given[] = {
        {&a.remote, &leg.remote},
        {&a.rtcp_local, &leg.local_rtcp},
        {&a.rtcp_remote, &leg.remote_rtcp},
    };
    const std::string* given_name[] = {&o_remote, &o_rtcp_local, &o_rtcp_remote};
    for (std::size_t i = 0; i < std::size(given); ++i) {
        if (*given[i].first && given[i].second->family != leg.local.family) {
            error = a.name + " leg mixes IPv4 and IPv6: " + o_local + " is " +
                    family_name(leg.local.family) + ", " + *given_name[i] + " is " +
                    family_name(given[i].second->family);
            return false;
        }
    }
    // ICE-lite credentials: ours (ufrag + pwd) together, the browser's
    // ufrag optional; the dataplane checks their lengths (RFC 8445 5.3).
    if (a.ice_ufrag.has_value() != a.ice_pwd.has_value()) {
        error = a.opt("ice-ufrag") + " and " + a.opt("ice-pwd") + " go together";
        return false;
    }
    if (a.remote_ufrag && !a.ice_ufrag) {
        error = a.opt("remote-ufrag") + " needs " + a.opt("ice-ufrag");
        return false;
    }
    const auto copy_text = [&](const std::optional<std::string>& v, const std::string& name,
                               char* dst, std::size_t cap) {
        if (!v) return true;
        if (v->size() >= cap) {
            error = name + ": at most " + std::to_string(cap - 1) + " characters";
            return false;
        }
        std::memcpy(dst, v->data(), v->size());
        return true;
    };
    if (!copy_text(a.ice_ufrag, a.opt("ice-ufrag"), leg.ice_ufrag, sizeof leg.ice_ufrag) ||
        !copy_text(a.ice_pwd, a.opt("ice-pwd"), leg.ice_pwd, sizeof leg.ice_pwd) ||
        !copy_text(a.remote_ufrag, a.opt("remote-ufrag"), leg.remote_ufrag,
                   sizeof leg.remote_ufrag)) {
        return false;
    }
    leg.rtcp_mux = a.rtcp_mux ? 1 : 0;
    if (!a.rtcp_mux) {
        if (!a.rtcp_local &&
            !next_port(leg.local, o_local, o_rtcp_local, o_mux, leg.local_rtcp, error)) {
            return false;
        }
        if (a.remote && !a.rtcp_remote &&
            !next_port(leg.remote, o_remote, o_rtcp_remote, o_mux, leg.remote_rtcp, error)) {
            return false;
        }
        if (same_endpoint(leg.local_rtcp, leg.local)) {
            error = o_rtcp_local + " is the RTP address itself: use " + o_mux;
            return false;
        }
        if (a.remote && same_endpoint(leg.remote_rtcp, leg.remote)) {
            error = o_rtcp_remote + " is the RTP address itself: use " + o_mux;
            return false;
        }
    }
    // Keys given are checked before keys missing: the operator fixes one typo at a time.
    if (!key_arg(a.rx_key, o_rx, leg.rx, error) || !key_arg(a.tx_key, o_tx, leg.tx, error)) {
        return false;
    }
    if (core && a.rx_key.has_value() != a.tx_key.has_value()) {
        error = (a.rx_key ? o_rx + " without " + o_tx : o_tx + " without " + o_rx) +
                ": give both (SRTP with SDES keys) or neither (plain RTP)";
        return false;
    }
    if (a.dtls || a.fingerprint) {
        // DTLS-SRTP (RFC 5763): keys negotiated in the dataplane, none given.
        const std::string o_dtls = a.opt("dtls"), o_fp = a.opt("fingerprint");
        if (!a.dtls || !a.fingerprint) {
            error = o_dtls + " and " + o_fp + " go together";
            return false;
        }
        if (a.rx_key || a.tx_key) {
            error = (a.rx_key ? o_rx : o_tx) + " contradicts " + o_dtls +
                    " (DTLS-SRTP keys are negotiated, not given)";
            return false;
        }
        if (*a.dtls != "active" && *a.dtls != "passive") {
            error = o_dtls + ": active or passive (the gateway's a=setup role)";
            return false;
        }
        if (!a.ice_ufrag) {
            error = o_dtls + " needs " + a.opt("ice-ufrag") + " and " + a.opt("ice-pwd") +
                    " (DTLS runs on the pair ICE nominates)";
            return false;
        }
        dpif::Sha256Fingerprint fp{};
        if (!dpif::parse_fingerprint(*a.fingerprint, fp)) {
            error = o_fp + ": a SHA-256 fingerprint, 32 hex pairs joined by colons (RFC 8122)";
            return false;
        }
        std::memcpy(leg.remote_fingerprint, fp.data(), fp.size());
        leg.dtls_active = *a.dtls == "active" ? 1 : 0;
        leg.security = dpif::LegSecurity::DtlsSrtp;
        return true;
    }
    if (!core && (!a.rx_key || !a.tx_key)) {
        error = "missing " + (a.rx_key ? o_tx : o_rx) + " (the " + a.name +
                " leg is SRTP with SDES keys, or DTLS-SRTP with " + a.opt("dtls") + ")";
        return false;
    }
    leg.security = a.rx_key ? dpif::LegSecurity::Sdes : dpif::LegSecurity::Rtp;
    return true;
}

}  // namespace

bool parse_endpoint(std::string_view text, dpif::IpEndpoint& out, std::string& error) {
    const std::string quoted = "'" + std::string(text) + "'";
    std::string host;
    std::string_view port_text;
    dpif::IpEndpoint ep{};
    int af = AF_INET;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) {
            error = quoted + ": no ']' after the IPv6 address";
            return false;
        }
        host = std::string(text.substr(1, close - 1));
        const std::string_view after = text.substr(close + 1);
        if (after.empty() || after.front() != ':') {
            error = quoted + ": no :PORT after ']' (expected [ADDR]:PORT)";
            return false;
        }
        port_text = after.substr(1);
        af = AF_INET6;
        ep.family = 6;
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            error = quoted + ": no :PORT (expected ADDR:PORT or [ADDR6]:PORT)";
            return false;
        }
        host = std::string(text.substr(0, colon));
        if (host.find(':') != std::string::npos) {
            error = quoted + ": an IPv6 address goes in brackets, [ADDR]:PORT";
            return false;
        }
        port_text = text.substr(colon + 1);
        ep.family = 4;
    }
    if (::inet_pton(af, host.c_str(), ep.addr) != 1) {
        error = quoted + ": '" + host + "' is not an " + (af == AF_INET6 ? "IPv6" : "IPv4") +
                " address";
        return false;
    }
    const std::optional<uint64_t> port = parse_decimal(port_text, 1, 65535);
    if (!port) {
        error = quoted + ": port '" + std::string(port_text) + "' is not a number 1..65535";
        return false;
    }
    ep.port = static_cast<uint16_t>(*port);
    out = ep;
    return true;
}

std::string format_endpoint(const dpif::IpEndpoint& ep) {
    if (ep.family != 4 && ep.family != 6) return "-";
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(ep.family == 6 ? AF_INET6 : AF_INET, ep.addr, text, sizeof text);
    const std::string port = std::to_string(ep.port);
    return ep.family == 6 ? "[" + std::string(text) + "]:" + port : std::string(text) + ":" + port;
}

bool parse_session_id(std::string_view text, uint64_t& out, std::string& error) {
    const std::optional<uint64_t> id = parse_decimal(text, 1, UINT64_MAX);
    if (!id) {
        error = "'" + std::string(text) + "' is not a session id (a decimal number, not 0)";
        return false;
    }
    out = *id;
    return true;
}

namespace {

// The chat of a data channel's session (issue 9): dpif::MsrpSpec from the
// --msrp-* options. The dataplane checks the paths and the session-id (they
// must make MSRP URIs); here only presence, sizes and numbers.
bool build_msrp(const std::optional<std::string>& setup, const std::optional<std::string>& local,
                const std::optional<std::string>& remote,
                const std::optional<std::string>& session_id,
                const std::optional<std::string>& browser_path,
                const std::optional<std::string>& ue_path,
                const std::optional<std::string>& channel, dpif::MsrpSpec& out,
                std::string& error) {
    if (!setup || (*setup != "passive" && *setup != "active")) {
        error = "--msrp-*: needs --msrp-setup passive|active (who connects: the UE, or we)";
        return false;
    }
    out.setup = *setup == "passive" ? dpif::kMsrpPassive : dpif::kMsrpActive;
    if (!local || !session_id || !browser_path || !ue_path) {
        error =
            "--msrp-setup needs --msrp-local ADDR:PORT, --msrp-session-id SID, "
            "--msrp-browser-path URI and --msrp-ue-path URI";
        return false;
    }
    if (!endpoint_arg(local, "--msrp-local", out.tcp_local, error)) return false;
    if (out.setup == dpif::kMsrpActive) {
        if (!remote) {
            error = "--msrp-setup active needs --msrp-remote ADDR:PORT (the UE's)";
            return false;
        }
        if (!endpoint_arg(remote, "--msrp-remote", out.tcp_remote, error)) return false;
    } else if (remote) {
        error = "--msrp-remote: only with --msrp-setup active (passive: the UE connects to us)";
        return false;
    }
    const auto text = [&](const std::string& v, const char* name, char* field, std::size_t size) {
        if (v.size() > size) {
            error = std::string(name) + ": at most " + std::to_string(size) + " characters";
            return false;
        }
        std::memset(field, 0, size);
        std::memcpy(field, v.data(), v.size());
        return true;
    };
    if (!text(*session_id, "--msrp-session-id", out.session_id, sizeof out.session_id) ||
        !text(*browser_path, "--msrp-browser-path", out.browser_path, sizeof out.browser_path) ||
        !text(*ue_path, "--msrp-ue-path", out.ue_path, sizeof out.ue_path)) {
        return false;
    }
    out.channel_id = dpif::kMsrpAnyChannel;
    if (channel) {
        const std::optional<uint64_t> n = parse_decimal(*channel, 0, 65534);
        if (!n) {
            error = "--msrp-channel: a stream id 0..65534, not '" + *channel + "'";
            return false;
        }
        out.channel_id = static_cast<uint16_t>(*n);
    }
    return true;
}

}  // namespace

bool parse_session_add(const std::vector<std::string>& args, dpif::Command& out,
                       std::string& error) {
    std::optional<std::string> id_text;
    LegArgs access("access");
    LegArgs core("core");
    bool datachannel = false;
    std::optional<std::string> sctp_port, remote_sctp_port, max_message_size, peer_max_message_size;
    std::optional<std::string> msrp_setup, msrp_local, msrp_remote, msrp_session_id,
        msrp_browser_path, msrp_ue_path, msrp_channel;
    std::optional<std::string> bundle_transport, bundle_pts;
    struct Option {
        std::string name;
        std::optional<std::string>* value;  // options with a value
        bool* flag;                         // flags
        bool seen = false;
    };
    Option options[] = {
        {"--id", &id_text, nullptr},
        {access.opt("local"), &access.local, nullptr},
        {access.opt("remote"), &access.remote, nullptr},
        {access.opt("rtcp-local"), &access.rtcp_local, nullptr},
        {access.opt("rtcp-remote"), &access.rtcp_remote, nullptr},
        {access.opt("rtcp-mux"), nullptr, &access.rtcp_mux},
        {access.opt("rx-key"), &access.rx_key, nullptr},
        {access.opt("tx-key"), &access.tx_key, nullptr},
        {access.opt("ice-ufrag"), &access.ice_ufrag, nullptr},
        {access.opt("ice-pwd"), &access.ice_pwd, nullptr},
        {access.opt("remote-ufrag"), &access.remote_ufrag, nullptr},
        {access.opt("dtls"), &access.dtls, nullptr},
        {access.opt("fingerprint"), &access.fingerprint, nullptr},
        {access.opt("police-kbps"), &access.police_kbps, nullptr},
        {core.opt("police-kbps"), &core.police_kbps, nullptr},
        {core.opt("local"), &core.local, nullptr},
        {core.opt("remote"), &core.remote, nullptr},
        {core.opt("rtcp-local"), &core.rtcp_local, nullptr},
        {core.opt("rtcp-remote"), &core.rtcp_remote, nullptr},
        {core.opt("rtcp-mux"), nullptr, &core.rtcp_mux},
        {core.opt("rx-key"), &core.rx_key, nullptr},
        {core.opt("tx-key"), &core.tx_key, nullptr},
        {"--access-datachannel", nullptr, &datachannel},
        {"--sctp-port", &sctp_port, nullptr},
        {"--remote-sctp-port", &remote_sctp_port, nullptr},
        {"--max-message-size", &max_message_size, nullptr},
        {"--peer-max-message-size", &peer_max_message_size, nullptr},
        {"--msrp-setup", &msrp_setup, nullptr},
        {"--msrp-local", &msrp_local, nullptr},
        {"--msrp-remote", &msrp_remote, nullptr},
        {"--msrp-session-id", &msrp_session_id, nullptr},
        {"--msrp-browser-path", &msrp_browser_path, nullptr},
        {"--msrp-ue-path", &msrp_ue_path, nullptr},
        {"--msrp-channel", &msrp_channel, nullptr},
        {"--bundle-transport", &bundle_transport, nullptr},
        {"--bundle-pts", &bundle_pts, nullptr},
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        Option* opt = nullptr;
        for (Option& o : options) {
            if (o.name == a) opt = &o;
        }
        if (opt == nullptr) {
            error = a.starts_with("-")
                        ? "unknown option '" + a + "'"
                        : "unexpected argument '" + a + "' (options are --NAME VALUE)";
            return false;
        }
        if (opt->seen) {
            error = "option " + a + " given twice";
            return false;
        }
        opt->seen = true;
        if (opt->flag != nullptr) {
            *opt->flag = true;
            continue;
        }
        // No value starts with "--": such an argument is the next option.
        if (i + 1 == args.size() || args[i + 1].starts_with("--")) {
            error = "option " + a + " needs a value";
            return false;
        }
        *opt->value = args[++i];
    }
    dpif::Command cmd{};
    cmd.hdr.type = dpif::MsgType::SessionCreate;
    for (const LegArgs* leg : {&access, &core}) {
        if (!leg->police_kbps) continue;
        // The dataplane's limits (docs/dataplane.md "Policing").
        const std::optional<uint64_t> kbps = parse_decimal(*leg->police_kbps, 8, 10000000);
        if (!kbps) {
            error = leg->opt("police-kbps") + ": kb/s 8..10000000, not '" + *leg->police_kbps + "'";
            return false;
        }
        cmd.police_kbps[leg == &access ? 0 : 1] = static_cast<uint32_t>(*kbps);
    }
    if (!id_text) {
        error = "missing --id (the session id, a non-zero number)";
        return false;
    }
    if (!parse_session_id(*id_text, cmd.hdr.session_id, error)) {
        error = "--id: " + error;
        return false;
    }
    // BUNDLE (dpif BundleSpec): --bundle-transport names the transport's
    // session (this one's own id: it is the transport), --bundle-pts the m=
    // line's payload types.
    if (bundle_transport.has_value() != bundle_pts.has_value()) {
        error = "--bundle-transport and --bundle-pts go together";
        return false;
    }
    bool member = false;
    if (bundle_transport) {
        if (datachannel) {
            error = "--bundle-transport: a data channel cannot be bundled (not supported yet)";
            return false;
        }
        if (!parse_session_id(*bundle_transport, cmd.bundle.transport, error)) {
            error = "--bundle-transport: " + error;
            return false;
        }
        // "none": an m= line with no payload type of its own.
        std::string_view rest = *bundle_pts == "none" ? std::string_view() : *bundle_pts;
        while (!rest.empty()) {
            const std::size_t comma = rest.find(',');
            const std::string item(rest.substr(0, comma));
            const std::optional<uint64_t> pt = parse_decimal(item, 0, 127);
            if (!pt || cmd.bundle.pt_count == dpif::kMaxBundlePayloadTypes) {
                error = "--bundle-pts: up to " + std::to_string(dpif::kMaxBundlePayloadTypes) +
                        " payload types 0..127 separated by commas, not '" + *bundle_pts + "'";
                return false;
            }
            cmd.bundle.payload_types[cmd.bundle.pt_count++] = static_cast<uint8_t>(*pt);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
        member = cmd.bundle.transport != cmd.hdr.session_id;
    }
    if (member) {
        // Another m= line on the transport: no access leg of its own.
        if (access.local || access.remote || access.rtcp_local || access.rtcp_remote ||
            access.rtcp_mux || access.rx_key || access.tx_key || access.ice_ufrag ||
            access.ice_pwd || access.remote_ufrag || access.dtls || access.fingerprint) {
            error =
                "--bundle-transport: a bundled m= line sends on its transport's access leg "
                "(no --access-* options but --access-police-kbps)";
            return false;
        }
        if (!build_leg(core, true, cmd.core, error)) return false;
        out = cmd;
        return true;
    }
    const bool sctp_options =
        sctp_port || remote_sctp_port || max_message_size || peer_max_message_size;
    const bool msrp_options = msrp_setup || msrp_local || msrp_remote || msrp_session_id ||
                              msrp_browser_path || msrp_ue_path || msrp_channel;
    if (!datachannel) {
        if (sctp_options || msrp_options) {
            error =
                "--sctp-port, --remote-sctp-port, --max-message-size, "
                "--peer-max-message-size and --msrp-* need --access-datachannel";
            return false;
        }
        if (!build_leg(access, false, cmd.access, error) ||
            !build_leg(core, true, cmd.core, error)) {
            return false;
        }
        out = cmd;
        return true;
    }
    // A data channel's session (issue 9): a DTLS access leg carrying SCTP,
    // one port, no core leg; or, with a core leg, a BUNDLE transport whose
    // DTLS carries SRTP and the data channel (DtlsSrtpSctp).
    const bool with_core = core.local || core.remote || core.rtcp_local || core.rtcp_remote ||
                           core.rtcp_mux || core.rx_key || core.tx_key;
    if (!access.dtls) {
        error =
            "--access-datachannel needs --access-dtls ROLE and --access-fingerprint FP "
            "(and --access-ice-ufrag/--access-ice-pwd)";
        return false;
    }
    access.rtcp_mux = true;
    if (!build_leg(access, false, cmd.access, error)) return false;
    cmd.access.security = dpif::LegSecurity::DtlsSctp;
    if (with_core) {
        if (!build_leg(core, true, cmd.core, error)) return false;
        cmd.access.security = dpif::LegSecurity::DtlsSrtpSctp;
    }
    const auto number = [&](const std::optional<std::string>& v, const char* name, uint64_t lo,
                            uint64_t hi, auto& dst) {
        if (!v) return true;
        const std::optional<uint64_t> n = parse_decimal(*v, lo, hi);
        if (!n) {
            error = std::string(name) + ": a number " + std::to_string(lo) + ".." +
                    std::to_string(hi) + ", not '" + *v + "'";
            return false;
        }
        dst = static_cast<std::remove_reference_t<decltype(dst)>>(*n);
        return true;
    };
    if (!number(sctp_port, "--sctp-port", 1, 65535, cmd.datachannel.local_sctp_port) ||
        !number(remote_sctp_port, "--remote-sctp-port", 1, 65535,
                cmd.datachannel.remote_sctp_port) ||
        !number(max_message_size, "--max-message-size", 1024, 1U << 30,
                cmd.datachannel.max_message_size) ||
        !number(peer_max_message_size, "--peer-max-message-size", 1, 1U << 30,
                cmd.datachannel.peer_max_message_size)) {
        return false;
    }
    if (msrp_options &&
        !build_msrp(msrp_setup, msrp_local, msrp_remote, msrp_session_id, msrp_browser_path,
                    msrp_ue_path, msrp_channel, cmd.msrp, error)) {
        return false;
    }
    out = cmd;
    return true;
}

std::string format_session_info(const dpif::Event& ev) {
    return "id=" + std::to_string(ev.hdr.session_id) + " worker=" + std::to_string(ev.worker) +
           " access_local=" + format_endpoint(ev.access_local) +
           " access_remote=" + format_endpoint(ev.selected_remote) +
           " core_local=" + format_endpoint(ev.core_local) +
           " core_remote=" + format_endpoint(ev.core_remote) +
           " relayed_a2c=" + std::to_string(ev.relayed[0]) +
           " relayed_c2a=" + std::to_string(ev.relayed[1]) +
           " dropped_access=" + std::to_string(ev.dropped[0]) +
           " dropped_core=" + std::to_string(ev.dropped[1]);
}

std::string format_session_created(const dpif::Event& ev) {
    return "id=" + std::to_string(ev.hdr.session_id) +
           " result=ok worker=" + std::to_string(ev.worker) +
           " access_local=" + format_endpoint(ev.access_local) +
           " core_local=" + format_endpoint(ev.core_local);
}

std::string format_result_error(const dpif::Event& ev) {
    std::string out(dpif::result_name(ev.result));
    const std::size_t n = ::strnlen(ev.detail, sizeof ev.detail);
    if (n > 0) out += " " + std::string(ev.detail, n);
    return out;
}

}  // namespace isthmus::ctl
