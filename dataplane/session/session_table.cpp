#include "session/session_table.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "srtp/suite.hpp"

namespace isthmus::session {

using dpif::carries_sctp;

using dpif::LegSecurity;
using dpif::ResultCode;

Endpoint to_endpoint(const dpif::IpEndpoint& e) {
    Endpoint out;
    out.family = e.family;
    out.port = e.port;
    if (e.family == 4) {
        std::memcpy(out.addr, e.addr, 4);
    } else if (e.family == 6) {
        std::memcpy(out.addr, e.addr, 16);
    }
    return out;
}

dpif::IpEndpoint to_ip_endpoint(const Endpoint& e) {
    dpif::IpEndpoint out{};
    out.family = e.family;
    out.port = e.port;
    std::memcpy(out.addr, e.addr, 16);
    return out;
}

flow::FlowKey flow_key(const Endpoint& e) {
    return e.family == 6 ? flow::FlowKey::ipv6(e.addr, e.port)
                         : flow::FlowKey::ipv4(e.addr, e.port);
}

// Session ids live in a second FlowTable under a family no address uses.
flow::FlowKey SessionTable::id_key(uint64_t id) {
    flow::FlowKey k{};
    std::memcpy(k.addr, &id, sizeof id);
    k.family = 0xff;
    return k;
}

struct SessionTable::LegPlan {
    Leg leg;
    dpif::SrtpKeys rx{};
    dpif::SrtpKeys tx{};
    Session::Ice ice{};
    Session::Dtls dtls{};  // on, active, fingerprint (serial and contexts: install)
    // An access leg awaiting the browser's answer (dpif LegSpec): ICE
    // only; its security's DTLS starts with the update that completes it.
    bool awaiting = false;
};

namespace {

uint32_t checked_sessions(uint32_t n) {
    if (n == 0 || n > (1U << 28)) {
        throw std::invalid_argument("max_sessions must be 1..2^28");
    }
    return n;
}

uint32_t checked_burst(uint32_t ms) {
    if (ms == 0 || ms > 4000) throw std::invalid_argument("police_burst_ms must be 1..4000");
    return ms;
}

// The limits of Command::police_kbps (docs/dataplane.md "Policing").
constexpr uint32_t kPoliceMinKbps = kPoliceMinOctetsPerS / 125;
constexpr uint32_t kPoliceMaxKbps = kPoliceMaxOctetsPerS / 125;

// A leg's policer parameters from its Command::police_kbps and the table's
// burst: octets/s and burst octets (at least one full-size packet); both 0
// for 0 (not policed), octets/s past UINT32_MAX for a rate out of range.
struct PoliceParams {
    uint64_t octets_per_s;
    uint64_t burst_octets;
};
PoliceParams police_params(uint32_t kbps, uint32_t burst_ms) {
    if (kbps == 0) return {0, 0};
    const uint64_t octets = uint64_t{kbps} * 125U;
    return {octets, std::max<uint64_t>(kPoliceMinBurstOctets, octets * burst_ms / 1000U)};
}

bool same_addr(const Endpoint& a, const Endpoint& b) {
    return a.family == b.family && a.port == b.port && std::memcmp(a.addr, b.addr, 16) == 0;
}

bool valid_endpoint(const Endpoint& e) {
    return (e.family == 4 || e.family == 6) && e.port != 0;
}

// A remote media address must be one host's (RFC 1122 3.2.1.3, RFC 4291
// 2.5.2-2.7): not unspecified, loopback, multicast or broadcast.
bool unicast_host(const Endpoint& e) {
    if (e.family == 4) {
        return e.addr[0] != 0 && e.addr[0] != 127 && e.addr[0] < 224;
    }
    static constexpr uint8_t kZero[16] = {};
    static constexpr uint8_t kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return e.addr[0] != 0xff && std::memcmp(e.addr, kZero, 16) != 0 &&
           std::memcmp(e.addr, kLoop, 16) != 0;
}

bool keys_valid(const dpif::SrtpKeys& k) {
    if (k.suite >= srtp::kSuiteCount) return false;
    const srtp::SuiteInfo info = srtp::suite_info(static_cast<srtp::Suite>(k.suite));
    return k.key_len == info.master_key_len && k.salt_len == info.master_salt_len;
}

bool keys_equal(const dpif::SrtpKeys& a, const dpif::SrtpKeys& b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

const char* side_name(Side s) {
    return s == Side::Access ? "access" : "core";
}

}  // namespace

SessionTable::SessionTable(srtp::Engine& engine, TableLimits limits)
    : engine_(engine),
      limits_{checked_sessions(limits.max_sessions),
              limits.srtp_contexts != 0 ? limits.srtp_contexts : 2 * limits.max_sessions,
              checked_burst(limits.police_burst_ms)},
      sessions_(limits_.max_sessions),
      contexts_(limits_.srtp_contexts),
      flows_(4 * limits_.max_sessions),
      ids_(limits_.max_sessions),
      groups_(std::max<uint32_t>(1, limits_.max_sessions / 2)) {
    free_slots_.reserve(limits_.max_sessions);
    for (uint32_t s = limits_.max_sessions; s-- > 0;)
        free_slots_.push_back(s);
    free_contexts_.reserve(limits_.srtp_contexts);
    for (uint32_t c = limits_.srtp_contexts; c-- > 0;)
        free_contexts_.push_back(c);
    free_groups_.reserve(groups_.size());
    for (auto g = static_cast<uint32_t>(groups_.size()); g-- > 0;)
        free_groups_.push_back(g);
}

SessionTable::~SessionTable() = default;

std::size_t SessionTable::memory_bytes() const {
    return sessions_.bytes() + contexts_.bytes() + flows_.memory_bytes() + ids_.memory_bytes() +
           groups_.size() * sizeof(BundleGroup) +
           (free_slots_.capacity() + free_contexts_.capacity() + free_groups_.capacity()) * 4;
}

uint32_t SessionTable::slot_of(uint64_t id) const {
    if (id == 0) return kNoSlot;
    const uint32_t v = ids_.find(id_key(id));
    return v == flow::FlowTable::kNotFound ? kNoSlot : v;
}

bool SessionTable::plan_leg(const dpif::LegSpec& spec, Side side, LegPlan& plan,
                            std::string& detail) const {
    const std::string where = side_name(side);
    Leg& leg = plan.leg;
    leg = Leg{};
    leg.local = to_endpoint(spec.local);
    leg.local_rtcp = to_endpoint(spec.local_rtcp);
    leg.remote = to_endpoint(spec.remote);
    leg.remote_rtcp = to_endpoint(spec.remote_rtcp);
    leg.rtcp_mux = spec.rtcp_mux != 0;
    leg.security = spec.security;
    if (spec.awaiting_answer > 1) {
        detail = where + ".awaiting_answer: 0 or 1";
        return false;
    }
    plan.awaiting = spec.awaiting_answer != 0;
    if (plan.awaiting && (side != Side::Access || spec.security != LegSecurity::DtlsSrtp)) {
        // (A chat is made with the answer: nothing of it before.)
        detail = where + ".awaiting_answer: only a DTLS-SRTP access leg awaits one";
        return false;
    }
    // ICE-lite (RFC 8445 5.3: ufrag 4..256, pwd 22..256 ice-chars; the
    // dpif carries up to 31 and 63).
    const std::string_view ufrag(spec.ice_ufrag, strnlen(spec.ice_ufrag, sizeof spec.ice_ufrag));
    const std::string_view pwd(spec.ice_pwd, strnlen(spec.ice_pwd, sizeof spec.ice_pwd));
    const std::string_view rufrag(spec.remote_ufrag,
                                  strnlen(spec.remote_ufrag, sizeof spec.remote_ufrag));
    if (!ufrag.empty() || !pwd.empty()) {
        if (ufrag.size() < 4 || ufrag.size() >= sizeof spec.ice_ufrag || pwd.size() < 22 ||
            pwd.size() >= sizeof spec.ice_pwd || rufrag.size() >= sizeof spec.remote_ufrag) {
            detail = where + ".ice: ufrag 4..31 and pwd 22..63 characters (RFC 8445 5.3)";
            return false;
        }
        leg.ice = true;
        std::memcpy(plan.ice.local_ufrag, ufrag.data(), ufrag.size());
        std::memcpy(plan.ice.remote_ufrag, rufrag.data(), rufrag.size());
        plan.ice.key = ice::IntegrityKey::short_term(pwd);
    }
    if (!valid_endpoint(leg.local)) {
        detail = where + ".local: needs an IPv4 or IPv6 address and a non-zero port";
        return false;
    }
    if (leg.rtcp_mux) {
        if (leg.local_rtcp.set() || leg.remote_rtcp.set()) {
            detail = where + ": rtcp-mux legs have no separate RTCP endpoints";
            return false;
        }
    } else {
        if (!valid_endpoint(leg.local_rtcp) || leg.local_rtcp.family != leg.local.family) {
            detail = where + ".local_rtcp: needed without rtcp-mux, same family as local";
            return false;
        }
        if (same_addr(leg.local_rtcp, leg.local)) {
            detail = where + ".local_rtcp: must differ from local without rtcp-mux";
            return false;
        }
    }
    if (leg.remote.set()) {
        if (!valid_endpoint(leg.remote) || leg.remote.family != leg.local.family) {
            detail = where + ".remote: needs a non-zero port and the family of local";
            return false;
        }
        if (!unicast_host(leg.remote) ||
            (leg.remote_rtcp.set() && !unicast_host(leg.remote_rtcp))) {
            detail = where + ".remote: must be a unicast host address";
            return false;
        }
        if (!leg.rtcp_mux &&
            (!valid_endpoint(leg.remote_rtcp) || leg.remote_rtcp.family != leg.local.family)) {
            detail = where + ".remote_rtcp: needed without rtcp-mux when remote is given";
            return false;
        }
    } else {
        if (leg.remote_rtcp.set()) {
            detail = where + ".remote_rtcp: given without remote";
            return false;
        }
        if (side == Side::Core) {
            detail = "core.remote: the IMS side's address is required";
            return false;
        }
        if (leg.ice) {
            // The remote is what ICE nominates, never learned from media.
            leg.learn_remote = false;
            return check_security(leg, spec, plan, where, detail);
        }
        if (leg.security != LegSecurity::Sdes) {
            // Latching onto whoever sends first is only safe when the
            // packets authenticate (no RTP bleed/injection).
            detail = where + ".remote: can only be learned on an SDES-SRTP leg (or from ICE)";
            return false;
        }
        leg.learn_remote = true;
    }
    return check_security(leg, spec, plan, where, detail);
}

// A session without a core leg (a data channel's, or one awaiting the
// browser's answer): its core endpoints must be unset.
bool SessionTable::no_core_leg(const dpif::Command& cmd, const char* why, LegPlan (&plans)[2],
                               std::string& detail) {
    if (cmd.core.local.family != 0 || cmd.core.remote.family != 0 ||
        cmd.core.local_rtcp.family != 0 || cmd.core.remote_rtcp.family != 0) {
        detail = why;
        return false;
    }
    plans[1] = LegPlan{};
    return true;
}

bool SessionTable::plan_legs(const dpif::Command& cmd, LegPlan (&plans)[2],
                             std::string& detail) const {
    for (int i = 0; i < 2; ++i) {
        const PoliceParams p = police_params(cmd.police_kbps[i], limits_.police_burst_ms);
        if (p.octets_per_s > kPoliceMaxOctetsPerS ||
            !police_params_valid(static_cast<uint32_t>(p.octets_per_s),
                                 static_cast<uint32_t>(p.burst_octets))) {
            detail = "police_kbps[" + std::to_string(i) + "] (" + side_name(static_cast<Side>(i)) +
                     "): " + std::to_string(kPoliceMinKbps) + ".." +
                     std::to_string(kPoliceMaxKbps) + " kb/s, or 0 (not policed)";
            return false;
        }
    }
    const uint64_t transport = cmd.bundle.transport;
    if (transport != 0 && transport != cmd.hdr.session_id) {
        // Another m= line of a BUNDLE: its access leg is the transport's.
        static constexpr dpif::LegSpec kUnset{};
        if (std::memcmp(&cmd.access, &kUnset, sizeof kUnset) != 0) {
            detail =
                "access: a bundled m= line sends on its transport's access leg (leave it "
                "unset)";
            return false;
        }
        plans[0] = LegPlan{};
        if (carries_sctp(cmd.core.security)) {
            detail = "core.security: a data channel's leg is an access leg";
            return false;
        }
        return plan_leg(cmd.core, Side::Core, plans[1], detail);
    }
    if (!plan_leg(cmd.access, Side::Access, plans[0], detail)) return false;
    if (plans[0].awaiting) {
        // The IMS side is not programmed before the browser answered.
        if (transport != 0) {
            detail = "bundle: a leg awaiting the answer is not bundled yet";
            return false;
        }
        return no_core_leg(cmd, "core: unset while the access leg awaits the answer", plans,
                           detail);
    }
    if (transport != 0 && cmd.access.security == LegSecurity::DtlsSctp) {
        detail =
            "bundle: a data channel alone cannot carry a BUNDLE transport (DtlsSrtpSctp carries "
            "both)";
        return false;
    }
    if (carries_sctp(cmd.access.security)) {
        const dpif::DataChannelSpec& d = cmd.datachannel;
        if (d.max_message_size != 0 && d.max_message_size < 1024) {
            detail = "datachannel.max_message_size: at least 1024 (or 0: the default)";
            return false;
        }
        plans[0].dtls.sctp = d;
        if (plans[0].dtls.sctp.local_sctp_port == 0) plans[0].dtls.sctp.local_sctp_port = 5000;
        if (plans[0].dtls.sctp.remote_sctp_port == 0) plans[0].dtls.sctp.remote_sctp_port = 5000;
    }
    if (cmd.access.security == LegSecurity::DtlsSctp) {
        // A data channel's session: its far side is the slow path's (MSRP
        // over TCP, docs/datachannel.md), not a UDP leg of the worker.
        return no_core_leg(
            cmd, "core: a data channel's session has no core leg (leave its endpoints unset)",
            plans, detail);
    }
    if (carries_sctp(cmd.core.security)) {
        detail = "core.security: a data channel's leg is an access leg";
        return false;
    }
    return plan_leg(cmd.core, Side::Core, plans[1], detail);
}

bool SessionTable::check_security(const Leg& leg, const dpif::LegSpec& spec, LegPlan& plan,
                                  const std::string& where, std::string& detail) {
    switch (leg.security) {
        case LegSecurity::Rtp:
            break;
        case LegSecurity::Sdes:
            if (!keys_valid(spec.rx) || !keys_valid(spec.tx)) {
                detail = where + ": SRTP keys need a known suite and its key and salt lengths";
                return false;
            }
            plan.rx = spec.rx;
            plan.tx = spec.tx;
            break;
        case LegSecurity::DtlsSrtp:
        case LegSecurity::DtlsSctp:
        case LegSecurity::DtlsSrtpSctp: {
            // The browser's address comes from ICE (RFC 8842 5: DTLS runs on
            // the nominated pair), so a DTLS leg is an ICE leg.
            if (!leg.ice) {
                detail = where + ": DTLS legs need ICE credentials (ice_ufrag, ice_pwd)";
                return false;
            }
            if (carries_sctp(leg.security) && !leg.rtcp_mux) {
                detail = where + ": a data channel's leg has one port (set rtcp_mux)";
                return false;
            }
            static constexpr uint8_t kZero[32] = {};
            if (plan.awaiting) {
                // ICE only until the answer: no association yet.
                if (std::memcmp(spec.remote_fingerprint, kZero, sizeof kZero) != 0 ||
                    spec.remote_ufrag[0] != '\0' || leg.remote.set()) {
                    detail = where +
                             ": a leg awaiting the answer has no remote_fingerprint, "
                             "remote_ufrag or remote yet";
                    return false;
                }
                break;
            }
            if (std::memcmp(spec.remote_fingerprint, kZero, sizeof kZero) == 0) {
                detail = where + ".remote_fingerprint: the peer's SHA-256 fingerprint is required";
                return false;
            }
            plan.dtls.on = true;
            plan.dtls.datachannel = carries_sctp(leg.security);
            plan.dtls.srtp = leg.security != LegSecurity::DtlsSctp;
            plan.dtls.active = spec.dtls_active != 0;
            std::memcpy(plan.dtls.fingerprint, spec.remote_fingerprint, 32);
            // Its media is relayed as a DtlsSrtp leg's; the SCTP is the
            // slow path's (dtls.datachannel).
            if (plan.leg.security == LegSecurity::DtlsSrtpSctp)
                plan.leg.security = LegSecurity::DtlsSrtp;
            break;
        }
        default:
            detail = where + ".security: unknown value";
            return false;
    }
    return true;
}

bool SessionTable::endpoints_free(const LegPlan (&plans)[2], uint32_t own_slot,
                                  std::string& detail) const {
    const Endpoint* eps[4] = {&plans[0].leg.local, &plans[0].leg.local_rtcp, &plans[1].leg.local,
                              &plans[1].leg.local_rtcp};
    for (int i = 0; i < 4; ++i) {
        if (!eps[i]->set()) continue;
        for (int j = 0; j < i; ++j) {
            if (eps[j]->set() && same_addr(*eps[i], *eps[j])) {
                detail = "a local endpoint is used twice in the session";
                return false;
            }
        }
        const uint32_t v = flows_.find(flow_key(*eps[i]));
        if (v != flow::FlowTable::kNotFound && FlowRef::decode(v).slot != own_slot) {
            detail = "local port " + std::to_string(eps[i]->port) + " belongs to session " +
                     std::to_string(sessions_[FlowRef::decode(v).slot].id);
            return false;
        }
    }
    return true;
}

srtp::Context* SessionTable::take_context() {
    const uint32_t c = free_contexts_.back();
    free_contexts_.pop_back();
    return &contexts_[c];
}

void SessionTable::give_context(srtp::Context*& c) {
    if (c == nullptr) return;
    c->wipe();
    free_contexts_.push_back(static_cast<uint32_t>(c - contexts_.get()));
    c = nullptr;
}

void SessionTable::uninstall_flows(uint32_t slot) {
    Session& s = sessions_[slot];
    for (const Leg& leg : s.leg) {
        if (leg.local.set()) flows_.erase(flow_key(leg.local));
        if (leg.local_rtcp.set()) flows_.erase(flow_key(leg.local_rtcp));
    }
}

namespace {

bool init_context(srtp::Engine& engine, srtp::Context& c, const dpif::SrtpKeys& k) {
    const auto st = c.init(engine, static_cast<srtp::Suite>(k.suite),
                           std::span<const uint8_t>(k.master_key, k.key_len),
                           std::span<const uint8_t>(k.master_salt, k.salt_len));
    return st == srtp::SetupStatus::Ok;
}

}  // namespace

dpif::ResultCode SessionTable::create(const dpif::Command& cmd, std::string& detail) {
    const uint64_t id = cmd.hdr.session_id;
    if (id == 0) {
        detail = "session id 0 is reserved";
        return ResultCode::BadParams;
    }
    if (const uint32_t live = slot_of(id); live != kNoSlot) {
        // A newer control-plane generation re-creating a session it still
        // has (resync) adopts it: applied as an update, state kept.
        if (cmd.hdr.generation > sessions_[live].generation) return update(cmd, detail);
        detail = "session " + std::to_string(id) + " exists";
        return ResultCode::Exists;
    }
    LegPlan plans[2];
    if (!plan_legs(cmd, plans, detail)) return ResultCode::BadParams;
    if (!endpoints_free(plans, kNoSlot, detail)) return ResultCode::PortInUse;
    BundlePlan bundle;
    if (const ResultCode rc = plan_bundle(cmd, kNoSlot, bundle, detail); rc != ResultCode::Ok)
        return rc;
    std::size_t need = 0;
    for (const LegPlan& p : plans)
        if (p.leg.security != LegSecurity::Rtp) need += 2;
    if (free_slots_.empty() || free_contexts_.size() < need) {
        detail = free_slots_.empty() ? "no free session slot on this worker"
                                     : "no free SRTP context on this worker";
        return ResultCode::TableFull;
    }
    const uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    Session& s = sessions_[slot];
    s = Session{};
    for (int i = 0; i < 2; ++i) {
        Leg& leg = s.leg[i];
        leg = plans[i].leg;
        s.ice[i] = plans[i].ice;
        if (plans[i].dtls.on) {
            s.dtls[i] = plans[i].dtls;
            s.dtls[i].serial = next_serial();
            leg.hold_early = true;
            s.dtls[i].reserved[0] = take_context();
            s.dtls[i].reserved[1] = take_context();
            continue;
        }
        if (leg.security != LegSecurity::Sdes) continue;
        s.keys[i][0] = plans[i].rx;
        s.keys[i][1] = plans[i].tx;
        leg.rx = take_context();
        leg.tx = take_context();
        if (!init_context(engine_, *leg.rx, plans[i].rx) ||
            !init_context(engine_, *leg.tx, plans[i].tx)) {
            for (int j = 0; j < 2; ++j) {
                give_context(s.leg[j].rx);
                give_context(s.leg[j].tx);
                give_context(s.dtls[j].reserved[0]);
                give_context(s.dtls[j].reserved[1]);
            }
            free_slots_.push_back(slot);
            detail = "SRTP key setup failed";
            return ResultCode::BadParams;
        }
    }
    s.id = id;
    s.generation = cmd.hdr.generation;
    s.awaiting_answer = plans[0].awaiting;
    set_policing(s, cmd);
    attach_bundle(slot, bundle, cmd.bundle);
    for (int i = 0; i < 2; ++i) {
        const Leg& leg = s.leg[i];
        const Side side = static_cast<Side>(i);
        // (A data channel's session has no core leg: nothing to find there.)
        if (leg.local.set()) flows_.insert(flow_key(leg.local), FlowRef::encode(slot, side, false));
        if (leg.local_rtcp.set())
            flows_.insert(flow_key(leg.local_rtcp), FlowRef::encode(slot, side, true));
    }
    ids_.insert(id_key(id), slot);
    ++live_;
    return ResultCode::Ok;
}

dpif::ResultCode SessionTable::update(const dpif::Command& cmd, std::string& detail) {
    const uint64_t id = cmd.hdr.session_id;
    const uint32_t slot = slot_of(id);
    if (slot == kNoSlot) {
        detail = "no session " + std::to_string(id);
        return ResultCode::NotFound;
    }
    LegPlan plans[2];
    if (!plan_legs(cmd, plans, detail)) return ResultCode::BadParams;
    if (plans[0].awaiting && !sessions_[slot].awaiting_answer) {
        // Its association and core leg would go, and the valid pairs stay
        // whatever ufrag made them.
        detail = "access.awaiting_answer: a complete leg does not await an answer again";
        return ResultCode::BadParams;
    }
    if (!endpoints_free(plans, slot, detail)) return ResultCode::PortInUse;
    BundlePlan bundle;
    if (const ResultCode rc = plan_bundle(cmd, slot, bundle, detail); rc != ResultCode::Ok)
        return rc;
    Session& s = sessions_[slot];
    // Each direction of a leg keeps its context (and so its SRTP stream
    // state: ROC, replay window, SRTCP index) when its keys did not change
    // (RFC 4568 7.1.4), independently of the other direction: re-keying a
    // sending context under an unchanged key would restart its indexes and
    // reuse keystream (a two-time pad; a nonce reuse with GCM).
    bool keep_rx[2] = {false, false}, keep_tx[2] = {false, false};
    // A DTLS leg keeps its association (and keys) when the offer/answer
    // keeps its role, the peer's fingerprint and the ICE session (no ICE
    // restart); otherwise it gets a new one (a new serial, keys wiped). What
    // it carries (SRTP, SCTP or both: a data channel joining or leaving a
    // BUNDLE) may change on a kept association (the worker tells the slow
    // path, Worker::tell_slow_path).
    bool keep_dtls[2] = {false, false};
    std::size_t need = 0, freed = 0;
    for (int i = 0; i < 2; ++i) {
        const bool old_dtls = s.dtls[i].on, new_dtls = plans[i].dtls.on;
        keep_dtls[i] = old_dtls && new_dtls && s.dtls[i].active == plans[i].dtls.active &&
                       std::memcmp(s.dtls[i].fingerprint, plans[i].dtls.fingerprint, 32) == 0 &&
                       std::strcmp(s.ice[i].local_ufrag, plans[i].ice.local_ufrag) == 0;
        if (!old_dtls && new_dtls) need += 2;
        if (old_dtls && !new_dtls) freed += 2;
    }
    for (int i = 0; i < 2; ++i) {
        const Leg& old = s.leg[i];
        const bool old_sdes = old.security == LegSecurity::Sdes;
        const bool new_sdes = plans[i].leg.security == LegSecurity::Sdes;
        keep_rx[i] = old_sdes && new_sdes && keys_equal(s.keys[i][0], plans[i].rx);
        keep_tx[i] = old_sdes && new_sdes && keys_equal(s.keys[i][1], plans[i].tx);
        const std::size_t changed = (keep_rx[i] ? 0U : 1U) + (keep_tx[i] ? 0U : 1U);
        if (new_sdes) need += changed;
        if (old_sdes) freed += changed;
    }
    if (free_contexts_.size() + freed < need) {
        detail = "no free SRTP context on this worker";
        return ResultCode::TableFull;
    }
    uninstall_flows(slot);
    // DTLS legs: their keys live in the reserved contexts (not given back
    // through leg.rx/tx); what stays is re-made below.
    srtp::Context* dtls_keyed[2][2] = {};
    for (int i = 0; i < 2; ++i) {
        if (!s.dtls[i].on) continue;
        dtls_keyed[i][0] = s.leg[i].rx;
        dtls_keyed[i][1] = s.leg[i].tx;
        s.leg[i].rx = s.leg[i].tx = nullptr;
        if (keep_dtls[i]) continue;
        if (plans[i].dtls.on) {
            s.dtls[i].reserved[0]->wipe();
            s.dtls[i].reserved[1]->wipe();
            dtls_keyed[i][0] = dtls_keyed[i][1] = nullptr;
        } else {
            give_context(s.dtls[i].reserved[0]);
            give_context(s.dtls[i].reserved[1]);
            dtls_keyed[i][0] = dtls_keyed[i][1] = nullptr;
            s.dtls[i] = Session::Dtls{};
        }
    }
    // Every context that goes is given back before any is taken.
    for (int i = 0; i < 2; ++i) {
        if (!keep_rx[i]) give_context(s.leg[i].rx);
        if (!keep_tx[i]) give_context(s.leg[i].tx);
    }
    for (int i = 0; i < 2; ++i) {
        Leg& leg = s.leg[i];
        // What survives of the old leg (not its keys: no copies of secrets).
        struct {
            srtp::Context* rx;
            srtp::Context* tx;
            bool learn_remote;
            Endpoint remote, remote_rtcp;
            bool mac_known;
            bool hold_early;
            bool consent_lost;
            uint8_t next_hop_mac[6];
        } old{leg.rx,        leg.tx,         leg.learn_remote, leg.remote, leg.remote_rtcp,
              leg.mac_known, leg.hold_early, leg.consent_lost, {}};
        std::memcpy(old.next_hop_mac, leg.next_hop_mac, 6);
        leg = plans[i].leg;
        leg.rx = old.rx;
        leg.tx = old.tx;
        // A learned remote stays learned while the update leaves it open.
        if (leg.learn_remote && old.learn_remote && old.remote.set()) {
            leg.remote = old.remote;
            leg.remote_rtcp = old.remote_rtcp;
        }
        // An ICE leg keeps its nominated pair unless the offer restarts ICE
        // (a new local ufrag) or names the remote itself.
        if (leg.ice && !leg.remote.set() && old.remote.set() &&
            std::strcmp(s.ice[i].local_ufrag, plans[i].ice.local_ufrag) == 0) {
            leg.remote = old.remote;
        }
        // The next hop stays while the remote does.
        if (old.mac_known && same_addr(leg.remote, old.remote)) {
            leg.mac_known = true;
            std::memcpy(leg.next_hop_mac, old.next_hop_mac, 6);
        }
        s.keys[i][0] = plans[i].rx;
        s.keys[i][1] = plans[i].tx;
        // Consent (RFC 7675) belongs to the ICE session and its pair: an
        // update that keeps both keeps it (its last check, and whether it
        // was lost), or media toward the browser would stop at the next
        // consent scan, until its next check.
        const bool same_ice =
            leg.ice && std::strcmp(s.ice[i].local_ufrag, plans[i].ice.local_ufrag) == 0;
        // The far end's valid pairs stay valid while neither side restarts
        // ICE (RFC 8445 9: a new ufrag on either side).
        // (A leg awaiting the answer took checks with any remote ufrag:
        // the browser's, which the answer now names.)
        const bool same_pairs =
            same_ice && (std::strcmp(s.ice[i].remote_ufrag, plans[i].ice.remote_ufrag) == 0 ||
                         (i == 0 && s.awaiting_answer));
        const Session::Ice::ValidPairs valid = s.ice[i].valid;
        const uint64_t last_check_ns = s.ice[i].last_check_ns;
        s.ice[i] = plans[i].ice;
        if (same_pairs) s.ice[i].valid = valid;
        if (same_ice && old.remote.set() && same_addr(leg.remote, old.remote)) {
            s.ice[i].last_check_ns = last_check_ns;
            leg.consent_lost = old.consent_lost;
        }
        if (plans[i].dtls.on) {
            Session::Dtls& d = s.dtls[i];
            if (keep_dtls[i]) {
                leg.rx = dtls_keyed[i][0];
                leg.tx = dtls_keyed[i][1];
                leg.hold_early = old.hold_early;
                d.datachannel = plans[i].dtls.datachannel;
                d.srtp = plans[i].dtls.srtp;
                d.sctp = plans[i].dtls.sctp;
                continue;
            }
            srtp::Context* reserved[2] = {d.reserved[0], d.reserved[1]};
            d = plans[i].dtls;
            d.serial = next_serial();
            leg.hold_early = true;
            d.reserved[0] = reserved[0] != nullptr ? reserved[0] : take_context();
            d.reserved[1] = reserved[1] != nullptr ? reserved[1] : take_context();
            continue;
        }
        if (leg.security != LegSecurity::Sdes) continue;
        // Lengths were checked: init cannot fail short of a broken IPsec-MB;
        // then the leg drops its packets (unknown_context).
        if (leg.rx == nullptr) {
            leg.rx = take_context();
            init_context(engine_, *leg.rx, plans[i].rx);
        }
        if (leg.tx == nullptr) {
            leg.tx = take_context();
            init_context(engine_, *leg.tx, plans[i].tx);
        }
    }
    s.generation = cmd.hdr.generation;
    s.awaiting_answer = plans[0].awaiting;
    set_policing(s, cmd);
    attach_bundle(slot, bundle, cmd.bundle);
    for (int i = 0; i < 2; ++i) {
        const Leg& leg = s.leg[i];
        const Side side = static_cast<Side>(i);
        // (A data channel's session has no core leg: nothing to find there.)
        if (leg.local.set()) flows_.insert(flow_key(leg.local), FlowRef::encode(slot, side, false));
        if (leg.local_rtcp.set())
            flows_.insert(flow_key(leg.local_rtcp), FlowRef::encode(slot, side, true));
    }
    return ResultCode::Ok;
}

void SessionTable::set_policing(Session& s, const dpif::Command& cmd) const {
    for (int i = 0; i < 2; ++i) {
        // Validated by plan_legs. An update that keeps the rate keeps the
        // policer's state.
        const PoliceParams p = police_params(cmd.police_kbps[i], limits_.police_burst_ms);
        police_configure(s.police[i], static_cast<uint32_t>(p.octets_per_s),
                         static_cast<uint32_t>(p.burst_octets));
        s.leg[i].policed = s.police[i].on();
    }
}

bool SessionTable::set_next_hop(uint64_t id, Side side, const uint8_t mac[6], uint8_t family,
                                const uint8_t addr[16]) {
    const uint32_t slot = slot_of(id);
    if (slot == kNoSlot) return false;
    Leg& leg = sessions_[slot].leg[static_cast<std::size_t>(side)];
    if (family != 0 && (leg.remote.family != family ||
                        std::memcmp(leg.remote.addr, addr, family == 6 ? 16 : 4) != 0)) {
        return false;
    }
    std::memcpy(leg.next_hop_mac, mac, 6);
    leg.mac_known = true;
    return true;
}

bool SessionTable::install_dtls_keys(uint64_t id, Side side, uint32_t serial, srtp::Suite suite,
                                     std::span<const uint8_t> rx_key,
                                     std::span<const uint8_t> rx_salt,
                                     std::span<const uint8_t> tx_key,
                                     std::span<const uint8_t> tx_salt) {
    const uint32_t slot = slot_of(id);
    if (slot == kNoSlot) return false;
    Session& s = sessions_[slot];
    const auto i = static_cast<std::size_t>(side);
    Session::Dtls& d = s.dtls[i];
    if (!d.on || d.serial != serial || s.leg[i].rx != nullptr) return false;
    if (d.reserved[0]->init(engine_, suite, rx_key, rx_salt) != srtp::SetupStatus::Ok ||
        d.reserved[1]->init(engine_, suite, tx_key, tx_salt) != srtp::SetupStatus::Ok) {
        d.reserved[0]->wipe();
        d.reserved[1]->wipe();
        return false;
    }
    s.leg[i].rx = d.reserved[0];
    s.leg[i].tx = d.reserved[1];
    return true;
}

bool SessionTable::withdraw_dtls_keys(uint64_t id, Side side, uint32_t serial) {
    const uint32_t slot = slot_of(id);
    if (slot == kNoSlot) return false;
    Session& s = sessions_[slot];
    const auto i = static_cast<std::size_t>(side);
    Session::Dtls& d = s.dtls[i];
    if (!d.on || d.serial != serial) return false;
    s.leg[i].rx = s.leg[i].tx = nullptr;
    s.leg[i].hold_early = false;
    d.reserved[0]->wipe();
    d.reserved[1]->wipe();
    return true;
}

bool SessionTable::remove(uint64_t id) {
    const uint32_t slot = slot_of(id);
    if (slot == kNoSlot) return false;
    uninstall_flows(slot);
    detach_bundle(slot);
    Session& s = sessions_[slot];
    for (int i = 0; i < 2; ++i) {
        if (s.dtls[i].on) {  // its keys are in the reserved contexts
            s.leg[i].rx = s.leg[i].tx = nullptr;
            give_context(s.dtls[i].reserved[0]);
            give_context(s.dtls[i].reserved[1]);
        }
        give_context(s.leg[i].rx);
        give_context(s.leg[i].tx);
    }
    ids_.erase(id_key(id));
    s = Session{};
    free_slots_.push_back(slot);
    --live_;
    return true;
}

}  // namespace isthmus::session
