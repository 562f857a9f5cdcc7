// The property the dpif command fuzzing checks, shared by the libFuzzer
// target (dpif_fuzz.cpp) and the CI regression test
// (dpif_fuzz_regress_test.cpp). What is checked is what the dataplane does
// with each dpif::Command it pops from the command ring: the main lcore's
// CommandService::handle (version, type, generation, session id, which
// worker owns the local ports), then, for session commands, the owning
// worker's SessionTable::create / update / remove (every field of both
// legs: endpoints, rtcp-mux, security, SDES keys, ICE credentials,
// fingerprints), the worker's Result going back through
// CommandService::on_worker_event, and its debug log line
// (command_result_text).
//
// The input is one or more Commands: consecutive 1088-octet pieces, the last
// one padded with zeros (so every field is the input's: header version and
// type, endpoints, keys, ICE strings with or without NUL, fingerprints). The
// worker's dispatch (dataplane/worker.cpp Worker::handle and
// continue_listing) needs DPDK rings and lcores, so it is mirrored here in a
// few lines over the same calls; the tables are built as the unit tests
// build them (tests/unit/dataplane/session): no EAL, IPsec-MB's manager in
// an srtp::Engine, the memory in ordinary pages. Two workers (two tables
// of 4 slots and 8 SRTP contexts, so that TableFull and PortInUse are
// reached); before the input, generation 1 opens with an SDES session (id
// 7, worker 0) and an ICE + DTLS-SRTP IPv6 session (id 8, worker 1).
//
// Properties, after every command:
//  - nothing crashes, reads or writes out of bounds (ASan, UBSan);
//  - a refused command (by the service or the table) leaves both tables as
//    they were, octet for octet (every session slot, and every SRTP context
//    a session points at), their sizes and their flows;
//  - an accepted create adds one session whose flows are its local
//    endpoints; removed again, the table is as it was before the create
//    (other slots octet for octet, sizes, flows; the slot free, its keys
//    zero, its contexts wiped), and creating it again is accepted (the run
//    goes on with it); an accepted update or delete touches no other
//    session; after ResyncEnd no session of an older generation is left;
//  - the tables stay consistent: each live session is found by its id and
//    by each of its local endpoints (slot, side, RTCP port), the flow count
//    is the sum of the sessions' local endpoints, SDES legs have two ready
//    contexts, DTLS legs two reserved ones, no context is used twice, RTP
//    legs none;
//  - the service and the workers agree: the service knows exactly the
//    sessions the tables hold (sessions() is their total, each in the
//    table of the worker its access port names);
//  - every Result has a code of the list, a NUL-terminated detail, and a
//    log line of printable characters; a worker's Result is forwarded
//    (a query of all sessions: once, with the last worker's);
// and after the last command, with every session removed, the tables are
// empty and take exactly as many SDES and plain sessions as they have
// contexts and slots (nothing leaked).
//
// Bits of a padding octet (BundleSpec::reserved[0], which the dataplane
// ignores) let the input do what the slow path would after a handshake:
// bit 0 installs DTLS-SRTP keys on the DTLS legs of a session the command
// created or updated.
//
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "control/command_log.hpp"
#include "control/command_service.hpp"
#include "isthmus/dpif/messages.hpp"
#include "session/session_table.hpp"
#include "srtp/engine.hpp"
#include "srtp/suite.hpp"

namespace isthmus::dataplane::fuzz {

using dpif::Command;
using dpif::MsgType;
using dpif::ResultCode;
using session::SessionTable;

inline constexpr uint16_t kWorkers = 2;
inline constexpr session::TableLimits kLimits{4, 8};
inline constexpr std::size_t kMaxCommands = 8;
inline constexpr uint8_t kInstallDtlsKeys = 0x01;  // bundle.reserved[0]

// --- Commands, for the setup, the seeds and the leak check ---

inline dpif::IpEndpoint endpoint4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    dpif::IpEndpoint e{};
    e.family = 4;
    e.port = port;
    e.addr[0] = a;
    e.addr[1] = b;
    e.addr[2] = c;
    e.addr[3] = d;
    return e;
}

// 2001:db8::<last> (RFC 3849).
inline dpif::IpEndpoint endpoint6(uint8_t last, uint16_t port) {
    dpif::IpEndpoint e{};
    e.family = 6;
    e.port = port;
    e.addr[0] = 0x20;
    e.addr[1] = 0x01;
    e.addr[2] = 0x0d;
    e.addr[3] = 0xb8;
    e.addr[15] = last;
    return e;
}

// Keys whose octets count up from `first`.
inline dpif::SrtpKeys sdes_keys(srtp::Suite s, uint8_t first) {
    const srtp::SuiteInfo info = srtp::suite_info(s);
    dpif::SrtpKeys k{};
    k.suite = static_cast<uint8_t>(s);
    k.key_len = info.master_key_len;
    k.salt_len = info.master_salt_len;
    for (uint8_t i = 0; i < k.key_len; ++i)
        k.master_key[i] = static_cast<uint8_t>(first + i);
    for (uint8_t i = 0; i < k.salt_len; ++i)
        k.master_salt[i] = static_cast<uint8_t>(first + 0x40 + i);
    return k;
}

inline Command command(MsgType type, uint64_t id, uint64_t generation, uint64_t seq) {
    Command c{};
    c.hdr.version = dpif::kAbiVersion;
    c.hdr.type = type;
    c.hdr.session_id = id;
    c.hdr.generation = generation;
    c.hdr.seq = seq;
    return c;
}

// An SDES access leg (rtcp-mux) toward a browser, a plain RTP core leg
// (separate RTCP) toward an IMS UE; both legs' ports on `port / 2 % 2`'s
// worker when `access_port` and `core_port` are both even and name it.
inline Command sdes_create(uint64_t id, uint64_t generation, uint16_t access_port,
                           uint16_t core_port,
                           srtp::Suite suite = srtp::Suite::AesCm128HmacSha1_80) {
    Command c = command(MsgType::SessionCreate, id, generation, id);
    c.access.local = endpoint4(198, 18, 0, 2, access_port);
    c.access.remote = endpoint4(198, 18, 0, 10, 5000);
    c.access.rtcp_mux = 1;
    c.access.security = dpif::LegSecurity::Sdes;
    c.access.rx = sdes_keys(suite, 0x10);
    c.access.tx = sdes_keys(suite, 0x80);
    c.core.local = endpoint4(198, 18, 1, 2, core_port);
    c.core.local_rtcp = endpoint4(198, 18, 1, 2, static_cast<uint16_t>(core_port + 1));
    c.core.remote = endpoint4(198, 18, 1, 20, 6000);
    c.core.remote_rtcp = endpoint4(198, 18, 1, 20, 6001);
    c.core.security = dpif::LegSecurity::Rtp;
    return c;
}

inline void set_text(char* field, std::size_t size, const char* text) {
    std::memset(field, 0, size);
    std::memcpy(field, text, std::min(size, std::strlen(text)));
}

// An ICE-lite DTLS-SRTP access leg over IPv6 (the remote is ICE's), a plain
// RTP core leg (rtcp-mux).
inline Command dtls_create(uint64_t id, uint64_t generation, uint16_t access_port,
                           uint16_t core_port) {
    Command c = command(MsgType::SessionCreate, id, generation, id);
    c.access.local = endpoint6(2, access_port);
    c.access.rtcp_mux = 1;
    c.access.security = dpif::LegSecurity::DtlsSrtp;
    c.access.dtls_active = 0;
    set_text(c.access.ice_ufrag, sizeof c.access.ice_ufrag, "evtj");
    set_text(c.access.ice_pwd, sizeof c.access.ice_pwd, "VOkJxbRl1RmTxUk/WvJxBt");
    set_text(c.access.remote_ufrag, sizeof c.access.remote_ufrag, "h6vY");
    for (std::size_t i = 0; i < sizeof c.access.remote_fingerprint; ++i)
        c.access.remote_fingerprint[i] = static_cast<uint8_t>(0xa0 + i);
    c.core.local = endpoint6(3, core_port);
    c.core.remote = endpoint6(0x20, 6000);
    c.core.rtcp_mux = 1;
    c.core.security = dpif::LegSecurity::Rtp;
    return c;
}

// Both legs SDES (four contexts), for the leak check.
inline Command sdes_both_create(uint64_t id, uint16_t port) {
    Command c = sdes_create(id, 1, port, static_cast<uint16_t>(port + 2));
    c.core.security = dpif::LegSecurity::Sdes;
    c.core.rx = sdes_keys(srtp::Suite::AeadAes128Gcm, 0x20);
    c.core.tx = sdes_keys(srtp::Suite::AeadAes128Gcm, 0x30);
    return c;
}

inline std::vector<uint8_t> bytes_of(std::span<const Command> cmds) {
    std::vector<uint8_t> out(cmds.size() * sizeof(Command));
    if (!cmds.empty()) std::memcpy(out.data(), cmds.data(), out.size());
    return out;
}

inline srtp::Engine& engine() {
    static srtp::Engine e(srtp::ImbArch::Auto);
    return e;
}

// --- what a table holds ---

inline std::vector<const session::Endpoint*> local_endpoints(const session::Session& s) {
    std::vector<const session::Endpoint*> out;
    for (const session::Leg& leg : s.leg) {
        if (leg.local.set()) out.push_back(&leg.local);
        if (leg.local_rtcp.set()) out.push_back(&leg.local_rtcp);
    }
    return out;
}

inline std::vector<const srtp::Context*> contexts_of(const session::Session& s) {
    std::vector<const srtp::Context*> out;
    for (int i = 0; i < 2; ++i)
        for (const srtp::Context* c :
             {s.leg[i].rx, s.leg[i].tx, s.dtls[i].reserved[0], s.dtls[i].reserved[1]})
            if (c != nullptr && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    return out;
}

// A table octet for octet: every session slot, and every context a live
// session points at (with that session's slot).
struct Image {
    uint32_t size = 0;
    uint32_t flows = 0;
    std::vector<uint8_t> slots;
    struct Ctx {
        uint32_t slot;
        const srtp::Context* ctx;
        std::vector<uint8_t> bytes;
    };
    std::vector<Ctx> contexts;
};

inline Image image(const SessionTable& t) {
    Image im;
    im.size = t.size();
    im.flows = t.flows().size();
    im.slots.resize(std::size_t{t.capacity()} * sizeof(session::Session));
    for (uint32_t s = 0; s < t.capacity(); ++s) {
        const session::Session& ss = t.at(s);
        std::memcpy(&im.slots[s * sizeof(session::Session)], static_cast<const void*>(&ss),
                    sizeof ss);
        if (ss.id == 0) continue;
        for (const srtp::Context* c : contexts_of(ss)) {
            std::vector<uint8_t> b(sizeof(srtp::Context));
            std::memcpy(b.data(), static_cast<const void*>(c), b.size());
            im.contexts.push_back({s, c, std::move(b)});
        }
    }
    return im;
}

// Where two images differ in the sessions other than slot `skip` (and
// their contexts).
inline std::string others_differ(const Image& a, const Image& b, uint32_t skip) {
    const std::size_t n = sizeof(session::Session);
    for (std::size_t s = 0; s * n < a.slots.size(); ++s) {
        if (s == skip) continue;
        if (std::memcmp(&a.slots[s * n], &b.slots[s * n], n) != 0)
            return "session slot " + std::to_string(s) + " changed";
    }
    for (const Image::Ctx& x : a.contexts) {
        if (x.slot == skip) continue;
        for (const Image::Ctx& y : b.contexts)
            if (y.ctx == x.ctx && y.slot == x.slot && y.bytes != x.bytes)
                return "an SRTP context of session slot " + std::to_string(x.slot) + " changed";
    }
    return "";
}

// Where two images differ at all.
inline std::string differs(const Image& a, const Image& b) {
    if (a.size != b.size) return "size " + std::to_string(a.size) + " -> " + std::to_string(b.size);
    if (a.flows != b.flows)
        return "flows " + std::to_string(a.flows) + " -> " + std::to_string(b.flows);
    return others_differ(a, b, SessionTable::kNoSlot);
}

inline std::string check_table(const SessionTable& t, std::set<uint64_t>& ids) {
    uint32_t live = 0;
    std::size_t flows = 0;
    std::set<const srtp::Context*> used;
    uint32_t bundled_sessions = 0;
    for (uint32_t slot = 0; slot < t.capacity(); ++slot) {
        const session::Session& s = t.at(slot);
        if (s.id == 0) continue;
        ++live;
        const std::string who = "session " + std::to_string(s.id) + ": ";
        if (!ids.insert(s.id).second) return who + "in two slots or tables";
        if (t.slot_of(s.id) != slot) return who + "not found by its id";
        for (int i = 0; i < 2; ++i) {
            const session::Leg& leg = s.leg[i];
            const auto side = static_cast<session::Side>(i);
            for (const session::Endpoint* e : {&leg.local, &leg.local_rtcp}) {
                if (!e->set()) continue;
                ++flows;
                const uint32_t v = t.flows().find(session::flow_key(*e));
                const session::FlowRef r = session::FlowRef::decode(v);
                if (v == flow::FlowTable::kNotFound || r.slot != slot || r.side != side ||
                    r.rtcp_port != (e == &leg.local_rtcp))
                    return who + "a local endpoint's flow is missing or wrong";
            }
            if (side == session::Side::Access && !leg.local.set() &&
                leg.bundle != session::kBundleMember)
                return who + "an access leg without a local endpoint";
            if (side == session::Side::Access && leg.bundle == session::kBundleMember &&
                (leg.local.set() || leg.security != dpif::LegSecurity::Rtp || s.dtls[0].on))
                return who + "a bundled m= line with an access leg of its own";
            const bool sdes = leg.security == dpif::LegSecurity::Sdes;
            const bool dtls = s.dtls[i].on;
            if (leg.security == dpif::LegSecurity::DtlsSrtp && !dtls &&
                !(side == session::Side::Access && s.awaiting_answer))
                return who + "a DTLS-SRTP leg without its association";
            if (s.awaiting_answer && side == session::Side::Access &&
                (dtls || leg.rx != nullptr || leg.remote_rtcp.set() || !leg.ice))
                return who + "a leg awaiting the answer with DTLS, keys or no ICE";
            if (s.awaiting_answer && side == session::Side::Core && leg.local.set())
                return who + "a core leg before the browser answered";
            if (dtls && (sdes || leg.security == dpif::LegSecurity::Rtp))
                return who + "a DTLS association on an RTP or SDES leg";
            if (sdes && (leg.rx == nullptr || leg.tx == nullptr || !leg.rx->ready() ||
                         !leg.tx->ready() || leg.rx == leg.tx))
                return who + "an SDES leg without its two keyed contexts";
            if (dtls) {
                const auto& d = s.dtls[i];
                if (d.reserved[0] == nullptr || d.reserved[1] == nullptr ||
                    d.reserved[0] == d.reserved[1] || d.serial == 0)
                    return who + "a DTLS leg without its reserved contexts";
                if ((leg.rx != nullptr || leg.tx != nullptr) &&
                    (leg.rx != d.reserved[0] || leg.tx != d.reserved[1]))
                    return who + "a DTLS leg keyed outside its reserved contexts";
            }
            if (!sdes && !dtls && (leg.rx != nullptr || leg.tx != nullptr))
                return who + "a leg without SRTP with SRTP contexts";
            if (leg.policed != s.police[i].on())
                return who + "a leg's policed flag and its policer disagree";
        }
        for (const srtp::Context* c : contexts_of(s))
            if (!used.insert(c).second) return who + "an SRTP context used twice";
        // BUNDLE: the session and its group agree.
        const bool bundled = s.leg[0].bundle != session::kBundleNone;
        if (bundled != (s.bundle_group != SessionTable::kNoGroup))
            return who + "its bundle flag and its group disagree";
        if (bundled) {
            if (s.bundle_group >= t.groups_capacity() || s.bundle_index >= dpif::kMaxBundleSessions)
                return who + "a bundle group or index out of range";
            const session::BundleGroup& g = t.group(s.bundle_group);
            if (g.refs == 0 || g.member[s.bundle_index] != slot)
                return who + "not in its bundle group";
            if ((s.leg[0].bundle == session::kBundleTransport) != (g.transport == slot))
                return who + "a bundle transport its group does not name";
            ++bundled_sessions;
        }
    }
    uint32_t refs = 0, groups = 0;
    for (uint32_t g = 0; g < t.groups_capacity(); ++g) {
        const session::BundleGroup& bg = t.group(g);
        if (bg.refs == 0) continue;
        ++groups;
        refs += bg.refs;
        for (uint8_t idx : bg.pt_index)
            if (idx != session::BundleGroup::kNoIndex &&
                (idx >= dpif::kMaxBundleSessions ||
                 bg.member[idx] == session::BundleGroup::kNoSlot))
                return "a bundle group maps a payload type to no m= line";
    }
    if (refs != bundled_sessions || groups != t.groups_in_use())
        return "bundle groups: their members are not the bundled sessions";
    if (used.size() > kLimits.srtp_contexts) return "more contexts in use than exist";
    if (live != t.size()) return "size() is not the number of live slots";
    if (flows != t.flows().size())
        return "flows: " + std::to_string(t.flows().size()) +
               ", local endpoints: " + std::to_string(flows);
    return "";
}

inline bool printable_line(const std::string& s) {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return false;
    }
    return true;
}

inline std::string check_result(const dpif::Event& ev) {
    if (ev.hdr.type != MsgType::Result && ev.hdr.type != MsgType::Pong) return "not a Result";
    if (dpif::result_name(ev.result) == "?") return "a result code not in the list";
    if (strnlen(ev.detail, sizeof ev.detail) == sizeof ev.detail) return "detail not terminated";
    if (ev.result != ResultCode::Ok && ev.detail[0] == '\0') return "refused without a detail";
    if (!printable_line(command_result_text(ev))) return "log line not printable";
    return "";
}

// The dataplane: the main lcore's service and one table per worker.
class Dataplane {
  public:
    Dataplane() {
        for (auto& t : tables_)
            t = std::make_unique<SessionTable>(engine(), kLimits);
    }

    // One command through the service and, when routed, the owning
    // worker(s). "" or what broke.
    std::string run(const Command& cmd);
    // Every table and the service agree.
    std::string check_all();
    // Removes everything; the tables then take exactly what they hold.
    std::string drain();

    const SessionTable& table(uint16_t w) const { return *tables_[w]; }
    const CommandService& service() const { return service_; }
    // How often each ResultCode was answered (service replies and workers).
    static constexpr std::size_t kResultCodes = 0
#define ISTHMUS_X(name, label) +1
        ISTHMUS_DPIF_RESULT(ISTHMUS_X)
#undef ISTHMUS_X
        ;
    using Counts = std::array<uint64_t, kResultCodes>;
    const Counts& answered() const {
        return answered_;
    }

  private:
    std::string on_worker(uint16_t w, const Command& cmd);
    std::string worker_result(uint16_t w, const Command& cmd, ResultCode rc,
                              const std::string& detail, bool last_of_all);
    std::string install_dtls_keys(uint16_t w, uint64_t id);

    void note(ResultCode rc) {
        ++answered_[static_cast<std::size_t>(rc) % kResultCodes];
    }

    CommandService service_{kWorkers};
    std::unique_ptr<SessionTable> tables_[kWorkers];
    Counts answered_{};
};

inline std::string Dataplane::worker_result(uint16_t w, const Command& cmd, ResultCode rc,
                                            const std::string& detail, bool last_of_all) {
    // As Worker::answer writes it.
    dpif::Event ev{};
    ev.hdr = cmd.hdr;
    ev.hdr.type = MsgType::Result;
    ev.hdr.reserved = static_cast<uint32_t>(cmd.hdr.type);
    ev.result = rc;
    ev.worker = w;
    std::snprintf(ev.detail, sizeof ev.detail, "%s", detail.c_str());
    std::string err = check_result(ev);
    if (!err.empty()) return "worker Result: " + err;
    note(rc);
    const bool forwarded = service_.on_worker_event(ev);
    if (forwarded != last_of_all) return "worker Result forwarded wrongly";
    return "";
}

inline std::string Dataplane::install_dtls_keys(uint16_t w, uint64_t id) {
    SessionTable& t = *tables_[w];
    const uint32_t slot = t.slot_of(id);
    if (slot == SessionTable::kNoSlot) return "";
    static constexpr uint8_t kKey[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static constexpr uint8_t kSalt[14] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    for (int i = 0; i < 2; ++i) {
        const auto side = static_cast<session::Side>(i);
        const session::Session& s = t.at(slot);
        // DTLS-SRTP legs (a data channel's DTLS leg never hands keys over).
        if (!s.dtls[i].on || s.leg[i].security != dpif::LegSecurity::DtlsSrtp) continue;
        const bool keyed = s.leg[i].rx != nullptr;
        const bool ok = t.install_dtls_keys(
            id, side, s.dtls[i].serial, srtp::Suite::AesCm128HmacSha1_80, kKey, kSalt, kKey, kSalt);
        if (ok == keyed) return "install_dtls_keys: accepted a keyed leg or refused a fresh one";
    }
    return "";
}

inline std::string Dataplane::on_worker(uint16_t w, const Command& cmd) {
    SessionTable& t = *tables_[w];
    const uint64_t id = cmd.hdr.session_id;
    const Image before = image(t);
    const uint32_t live_slot = t.slot_of(id);
    const std::size_t old_endpoints =
        live_slot == SessionTable::kNoSlot ? 0 : local_endpoints(t.at(live_slot)).size();
    std::string detail;
    ResultCode rc = ResultCode::Ok;
    // As Worker::handle dispatches a Command.
    switch (cmd.hdr.type) {
        case MsgType::SessionCreate:
            rc = t.create(cmd, detail);
            break;
        case MsgType::SessionUpdate:
            rc = t.update(cmd, detail);
            break;
        case MsgType::SessionDelete:
            rc = t.remove(id) ? ResultCode::Ok : ResultCode::NotFound;
            if (rc != ResultCode::Ok) detail = "no such session";
            break;
        case MsgType::SessionQuery:
            rc = t.slot_of(id) != SessionTable::kNoSlot ? ResultCode::Ok : ResultCode::NotFound;
            if (rc != ResultCode::Ok) detail = "no such session";
            break;
        default:
            rc = ResultCode::BadType;
            detail = "not a session command";
            break;
    }
    const std::string what = std::string(msg_type_name(cmd.hdr.type)) + " " + std::to_string(id) +
                             " (" + std::string(dpif::result_name(rc)) + ": " + detail + "): ";
    const Image after = image(t);
    const uint32_t slot = t.slot_of(id);
    if (rc != ResultCode::Ok) {
        const std::string d = differs(before, after);
        if (!d.empty()) return what + "refused, but the table changed: " + d;
    } else if (cmd.hdr.type == MsgType::SessionCreate && live_slot == SessionTable::kNoSlot) {
        if (slot == SessionTable::kNoSlot || after.size != before.size + 1)
            return what + "accepted, but no new session";
        const session::Session& s = t.at(slot);
        if (after.flows != before.flows + local_endpoints(s).size())
            return what + "accepted, but the flows are not its local endpoints";
        if (s.generation != cmd.hdr.generation) return what + "not of the command's generation";
        std::string d = others_differ(before, after, slot);
        if (!d.empty()) return what + "another session changed: " + d;
        // Deleted again: as before.
        const std::vector<const srtp::Context*> held = contexts_of(s);
        if (!t.remove(id)) return what + "cannot be removed";
        const Image gone = image(t);
        if (gone.size != before.size || gone.flows != before.flows)
            return what + "created and removed, size or flows not as before";
        d = others_differ(before, gone, slot);
        if (!d.empty()) return what + "created and removed, the table is not as before: " + d;
        const session::Session& freed = t.at(slot);
        static constexpr dpif::SrtpKeys kNoKeys[2][2] = {};
        if (freed.id != 0 || std::memcmp(freed.keys, kNoKeys, sizeof kNoKeys) != 0 ||
            !contexts_of(freed).empty())
            return what + "removed, its slot still holds it";
        for (const srtp::Context* c : held)
            if (c->ready()) return what + "removed, a context of it still keyed";
        std::string again_detail;
        if (t.create(cmd, again_detail) != ResultCode::Ok)
            return what + "created, removed, refused the second time: " + again_detail;
    } else if (cmd.hdr.type == MsgType::SessionCreate || cmd.hdr.type == MsgType::SessionUpdate) {
        // An update (or a create that adopts a live session).
        if (slot != live_slot || after.size != before.size)
            return what + "accepted update moved, added or lost the session";
        if (after.flows != before.flows - old_endpoints + local_endpoints(t.at(slot)).size())
            return what + "accepted update: the flows are not its new local endpoints";
        if (t.at(slot).generation != cmd.hdr.generation)
            return what + "not of the command's generation";
        const std::string d = others_differ(before, after, slot);
        if (!d.empty()) return what + "another session changed: " + d;
    } else if (cmd.hdr.type == MsgType::SessionDelete) {
        if (slot != SessionTable::kNoSlot || after.size + 1 != before.size ||
            after.flows + old_endpoints != before.flows)
            return what + "accepted delete left the session or some of its flows";
        const std::string d = others_differ(before, after, live_slot);
        if (!d.empty()) return what + "another session changed: " + d;
    } else {
        const std::string d = differs(before, after);
        if (!d.empty()) return what + "a query changed the table: " + d;
    }
    // An accepted create or update polices each leg at the command's rate
    // (issue 11), or not at all.
    if (rc == ResultCode::Ok &&
        (cmd.hdr.type == MsgType::SessionCreate || cmd.hdr.type == MsgType::SessionUpdate)) {
        const session::Session& s = t.at(t.slot_of(id));
        for (int i = 0; i < 2; ++i) {
            const uint32_t kbps = cmd.police_kbps[i];
            const uint64_t want = kbps == 0 ? 0 : 1000000000000ULL / (uint64_t{kbps} * 125U);
            if (s.police[i].ps_per_octet != want)
                return what + "accepted, a leg not policed at the command's rate";
        }
    }
    if (rc == ResultCode::Ok && (cmd.bundle.reserved[0] & kInstallDtlsKeys) != 0 &&
        (cmd.hdr.type == MsgType::SessionCreate || cmd.hdr.type == MsgType::SessionUpdate)) {
        const std::string err = install_dtls_keys(w, id);
        if (!err.empty()) return what + err;
    }
    return worker_result(w, cmd, rc, detail, true);
}

inline std::string Dataplane::run(const Command& cmd) {
    Image before[kWorkers];
    for (uint16_t w = 0; w < kWorkers; ++w)
        before[w] = image(*tables_[w]);
    const Routed r = service_.handle(cmd);
    std::string err = check_result(r.reply);
    if (!err.empty()) return "service reply: " + err;
    if (r.reply.result != ResultCode::Ok && r.to != Routed::To::Reply)
        return "service refused, but routed the command";
    if (r.to == Routed::To::Reply) note(r.reply.result);
    if (r.release_older != 0) {
        // ResyncEnd: each worker reports and releases the older sessions
        // (Worker::continue_listing), the service hears of each.
        for (uint16_t w = 0; w < kWorkers; ++w) {
            tables_[w]->remove_older(r.release_older, [&](const session::Session& s) {
                dpif::Event ev{};
                ev.hdr = cmd.hdr;
                ev.hdr.type = MsgType::SessionInfo;
                ev.hdr.session_id = s.id;
                ev.hdr.generation = s.generation;
                ev.result = ResultCode::StaleGeneration;
                ev.worker = w;
                service_.on_worker_event(ev);
            });
            for (uint32_t s = 0; s < tables_[w]->capacity(); ++s)
                if (tables_[w]->at(s).id != 0 && tables_[w]->at(s).generation < r.release_older)
                    return "ResyncEnd left a session of an older generation";
        }
    }
    switch (r.to) {
        case Routed::To::Reply:
            if (r.release_older == 0) {
                for (uint16_t w = 0; w < kWorkers; ++w) {
                    const std::string d = differs(before[w], image(*tables_[w]));
                    if (!d.empty()) return "answered by the service, but a table changed: " + d;
                }
            }
            break;
        case Routed::To::AllWorkers:
            for (uint16_t w = 0; w < kWorkers; ++w) {
                err = worker_result(w, cmd, ResultCode::Ok, "", w + 1 == kWorkers);
                if (!err.empty()) return "query of all sessions: " + err;
            }
            break;
        case Routed::To::Worker:
            if (r.worker >= kWorkers) return "routed to a worker that does not exist";
            err = on_worker(r.worker, cmd);
            if (!err.empty()) return err;
            for (uint16_t w = 0; w < kWorkers; ++w) {
                const std::string d = w == r.worker ? "" : differs(before[w], image(*tables_[w]));
                if (!d.empty())
                    return "routed to worker " + std::to_string(r.worker) +
                           ", but another table changed: " + d;
            }
            break;
    }
    return check_all();
}

inline std::string Dataplane::check_all() {
    std::set<uint64_t> ids;
    for (uint16_t w = 0; w < kWorkers; ++w) {
        const std::string err = check_table(*tables_[w], ids);
        if (!err.empty()) return "worker " + std::to_string(w) + ": " + err;
        for (uint32_t s = 0; s < tables_[w]->capacity(); ++s) {
            const session::Session& ss = tables_[w]->at(s);
            if (ss.id == 0) continue;
            if (!service_.knows(ss.id))
                return "session " + std::to_string(ss.id) + " unknown to the service";
            // (A bundled m= line has no access port: its core port names it.)
            const uint16_t port = ss.leg[0].bundle == session::kBundleMember ? ss.leg[1].local.port
                                                                             : ss.leg[0].local.port;
            if (session::owner_of(port, kWorkers) != w)
                return "session " + std::to_string(ss.id) + " on another worker than its port's";
        }
    }
    if (service_.sessions() != ids.size())
        return "the service knows " + std::to_string(service_.sessions()) +
               " sessions, the workers hold " + std::to_string(ids.size());
    return "";
}

inline std::string Dataplane::drain() {
    for (auto& t : tables_) {
        std::vector<uint64_t> ids;
        t->for_each([&](const session::Session& s) { ids.push_back(s.id); });
        for (const uint64_t id : ids)
            if (!t->remove(id)) return "drain: a live session cannot be removed";
        if (t->size() != 0 || t->flows().size() != 0) return "drain: the table is not empty";
        if (t->groups_in_use() != 0) return "drain: BUNDLE groups leaked";
        // Exactly as many sessions as contexts and slots allow.
        uint32_t made = 0;
        std::string detail;
        const uint32_t sdes = kLimits.srtp_contexts / 4;
        for (uint32_t i = 0; i < sdes; ++i)
            if (t->create(sdes_both_create(1000 + i, static_cast<uint16_t>(10000 + 8 * i)),
                          detail) == ResultCode::Ok)
                ++made;
        if (made != sdes) return "drain: SRTP contexts leaked (" + detail + ")";
        if (t->create(sdes_both_create(1999, 19000), detail) != ResultCode::TableFull)
            return "drain: more SRTP contexts than the table has";
        for (uint32_t i = sdes; i < kLimits.max_sessions; ++i) {
            Command c = sdes_create(2000 + i, 1, static_cast<uint16_t>(20000 + 8 * i),
                                    static_cast<uint16_t>(20002 + 8 * i));
            c.access.security = dpif::LegSecurity::Rtp;
            if (t->create(c, detail) != ResultCode::Ok)
                return "drain: session slots leaked (" + detail + ")";
        }
        Command c = sdes_create(2999, 1, 29000, 29002);
        c.access.security = dpif::LegSecurity::Rtp;
        if (t->create(c, detail) != ResultCode::TableFull)
            return "drain: more session slots than the table has";
    }
    return "";
}

// Generation 1 with session 7 (SDES, worker 0) and 8 (DTLS, worker 1).
inline std::string set_up(Dataplane& dp) {
    const Command setup[] = {
        command(MsgType::ResyncBegin, 0, 1, 1),
        sdes_create(7, 1, 40000, 50000),
        dtls_create(8, 1, 40002, 50002),
        command(MsgType::ResyncEnd, 0, 1, 4),
    };
    for (const Command& c : setup) {
        const std::string err = dp.run(c);
        if (!err.empty()) return "setup: " + err;
    }
    if (dp.table(0).size() != 1 || dp.table(1).size() != 1) return "setup: sessions not created";
    return "";
}

// The input as Commands: 1088-octet pieces, the last padded with zeros.
inline std::vector<Command> commands_of(std::span<const uint8_t> data) {
    std::vector<Command> out;
    for (std::size_t at = 0; out.empty() || (at < data.size() && out.size() < kMaxCommands);
         at += sizeof(Command)) {
        Command c;
        std::memset(&c, 0, sizeof c);
        if (at < data.size())
            std::memcpy(&c, data.data() + at, std::min(sizeof c, data.size() - at));
        out.push_back(c);
    }
    return out;
}

inline std::string check_input(std::span<const uint8_t> data, Dataplane& dp) {
    std::string err = set_up(dp);
    if (!err.empty()) return err;
    const std::vector<Command> cmds = commands_of(data);
    for (std::size_t i = 0; i < cmds.size(); ++i) {
        err = dp.run(cmds[i]);
        if (!err.empty()) return "command " + std::to_string(i) + ": " + err;
    }
    return dp.drain();
}

inline std::string check_input(std::span<const uint8_t> data) {
    Dataplane dp;
    return check_input(data, dp);
}

}  // namespace isthmus::dataplane::fuzz
