#include "session/relay.hpp"

#include <cstring>

#include "pkt/build.hpp"
#include "pkt/demux.hpp"
#include "srtp/transform.hpp"

namespace isthmus::session {

namespace {

// What the relay knows about one packet between the stages of a chunk.
struct Pending {
    uint32_t slot;
    Side side;       // the leg it arrived on
    bool rtcp;       // RTCP (separate port, or muxed and told apart by PT)
    bool rtcp_port;  // arrived on the leg's separate RTCP port
    bool live;       // still on its way (not dropped / to kernel)
    uint32_t payload_len;
};

bool source_is(const pkt::Frame& f, const Endpoint& e) {
    const std::size_t n = f.ip_version == 6 ? 16 : 4;
    return e.family == f.ip_version && e.port == f.src_port && std::memcmp(e.addr, f.src, n) == 0;
}

uint32_t load_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// BUNDLE (RFC 8843 9.2): the m= line of what the browser sent on a
// transport, as the slot of its session. RTP by payload type (the
// m= lines' payload types are disjoint: the control plane and the table
// see to it), remembering its SSRC; RTCP (decrypted) by the sender's SSRC
// when the browser's RTP of an m= line had it, else by the SSRC the first
// report block or the feedback is about when the IMS side's RTP of an m=
// line had it, else the transport's own m= line. kNoSlot: RTP whose
// payload type no m= line has.
uint32_t bundle_target(BundleGroup& g, const uint8_t* p, uint32_t len, bool rtcp) {
    // (Unprotected SRTP is at least a header long; a plain RTP transport's
    // packets need not be.)
    if (!rtcp && len < 12) return BundleGroup::kNoSlot;
    if (rtcp && len < 8) return g.transport;
    if (!rtcp) {
        const uint8_t idx = g.pt_index[p[1] & 0x7F];
        if (idx == BundleGroup::kNoIndex) return BundleGroup::kNoSlot;
        const uint32_t ssrc = load_be32(p + 8);
        if ((g.has_in & (1U << idx)) == 0 || g.ssrc_in[idx] != ssrc) {
            g.ssrc_in[idx] = ssrc;
            g.has_in = static_cast<uint8_t>(g.has_in | (1U << idx));
        }
        return g.member[idx];
    }
    const uint32_t sender = load_be32(p + 4);
    for (std::size_t k = 0; k < dpif::kMaxBundleSessions; ++k)
        if ((g.has_in & (1U << k)) != 0 && g.ssrc_in[k] == sender) return g.member[k];
    // SR: report blocks after 28 octets; RR after 8; RTPFB/PSFB: the media
    // source's SSRC at 8 (RFC 3550 6.4, RFC 4585 6.1).
    const uint8_t pt = p[1];
    const uint8_t count = p[0] & 0x1F;
    uint32_t about = 0;
    bool has = false;
    if (pt == 200 && count != 0 && len >= 32) {
        about = load_be32(p + 28);
        has = true;
    } else if ((pt == 201 && count != 0 && len >= 12) || ((pt == 205 || pt == 206) && len >= 12)) {
        about = load_be32(p + 8);
        has = true;
    }
    if (has) {
        for (std::size_t k = 0; k < dpif::kMaxBundleSessions; ++k)
            if ((g.has_out & (1U << k)) != 0 && g.ssrc_out[k] == about) return g.member[k];
    }
    return g.transport;
}

void learn_endpoint(Endpoint& e, const pkt::Frame& f) {
    e = Endpoint{};
    e.family = f.ip_version;
    e.port = f.src_port;
    std::memcpy(e.addr, f.src, f.ip_version == 6 ? 16 : 4);
}

// The entry of Session::Ice::valid that is f's source, or kValidSources.
std::size_t valid_pair_of(const Session::Ice::ValidPairs& v, const pkt::Frame& f) {
    for (std::size_t k = 0; k < Session::Ice::kValidSources; ++k)
        if (v.addr[k].set() && source_is(f, v.addr[k])) return k;
    return Session::Ice::kValidSources;
}

// Whether f comes from one of the leg's valid pairs whose last check is
// fresh (RFC 7675's 30 s).
bool from_valid_pair(const Session::Ice::ValidPairs& v, const pkt::Frame& f, uint64_t now_ns) {
    const std::size_t k = valid_pair_of(v, f);
    return k < Session::Ice::kValidSources && now_ns - v.last_check_ns[k] <= kConsentTimeoutNs;
}

// Remembers f's source as a valid pair's (a check from it passed now),
// replacing the oldest entry when all are taken.
void remember_valid_pair(Session::Ice::ValidPairs& v, const pkt::Frame& f, uint64_t now_ns) {
    std::size_t k = valid_pair_of(v, f);
    if (k == Session::Ice::kValidSources) {
        k = v.next;
        learn_endpoint(v.addr[k], f);
        v.next = static_cast<uint8_t>((k + 1) % Session::Ice::kValidSources);
    }
    v.last_check_ns[k] = now_ns;
}

}  // namespace

Relay::Relay(SessionTable& table, srtp::Engine& engine, const uint8_t access_mac[6],
             const uint8_t core_mac[6])
    : table_(table), engine_(engine) {
    std::memcpy(mac_[0], access_mac, 6);
    std::memcpy(mac_[1], core_mac, 6);
}

// RFC 8445 (lite) / RFC 8489: answers a connectivity check on an ICE leg in
// the request's own buffer and sends it back where it came from; an
// authenticated check with USE-CANDIDATE nominates its source as the leg's
// remote (the only way an ICE leg gets one) and is reported.
void Relay::answer_stun(RelayPacket& p, const pkt::Frame& f, const FlowRef& ref) {
    Session& s = table_.at(ref.slot);
    const auto side = static_cast<std::size_t>(ref.side);
    Leg& leg = s.leg[side];
    const Session::Ice& ic = s.ice[side];
    const ice::BindingCredentials cred{ic.local_ufrag, ic.remote_ufrag, ic.key};
    ice::TransportAddress src;
    src.family = f.ip_version;
    src.port = f.src_port;
    std::memcpy(src.addr, f.src, 16);
    uint8_t* payload = p.data + f.payload_offset;
    uint8_t* const buf = p.data - p.headroom;
    uint8_t* const buf_end = p.data + p.len + p.tailroom;
    const ice::BindingResult r = ice::answer_binding(payload, f.payload_len, src, cred, payload,
                                                     static_cast<std::size_t>(buf_end - payload));
    ++counters_.stun[static_cast<std::size_t>(r.verdict)];
    Session::Ice& consent = s.ice[side];
    if (r.verdict == ice::Verdict::Ok && !ref.rtcp_port)
        remember_valid_pair(consent.valid, f, now_ns_);
    if (r.authenticated && leg.remote.set() && source_is(f, leg.remote)) {
        // RFC 7675: a valid check from the remote renews consent.
        consent.last_check_ns = now_ns_;
        if (leg.consent_lost) {
            leg.consent_lost = false;
            push_event(RelayEvent::Kind::ConsentRestored, s, ref.side);
        }
    }
    if (r.authenticated && r.use_candidate) {
        Endpoint chosen;
        learn_endpoint(chosen, f);
        const bool changed =
            !(chosen.family == leg.remote.family && chosen.port == leg.remote.port &&
              std::memcmp(chosen.addr, leg.remote.addr, 16) == 0);
        if (changed || !leg.mac_known) {
            leg.remote = chosen;
            std::memcpy(leg.next_hop_mac, p.data + 6, 6);  // the check's Ethernet source
            leg.mac_known = true;
            leg.consent_lost = false;
            consent.last_check_ns = now_ns_;
            ++counters_.ice_selected;
            push_event(RelayEvent::Kind::IceSelected, s, ref.side);
        }
    }
    if (!r.respond()) {
        p.action = Action::Drop;
        p.drop = RelayDrop::StunRefused;
        ++counters_.drops[static_cast<std::size_t>(RelayDrop::StunRefused)];
        return;
    }
    // Back to the source, from the address and port the check was sent to.
    const pkt::UdpEgress e = pkt::reply_egress(p.data, f, mac_[side]);
    const pkt::Checksums how = checksums_[side];
    uint8_t* frame = pkt::write_udp_headers(payload, static_cast<std::size_t>(payload - buf),
                                            r.response_len, e, how);
    if (frame == nullptr) {
        p.action = Action::Drop;
        p.drop = RelayDrop::NoRoom;
        ++counters_.drops[static_cast<std::size_t>(RelayDrop::NoRoom)];
        return;
    }
    p.data = frame;
    p.len = r.response_len + static_cast<uint32_t>(pkt::udp_header_room(e.family));
    p.headroom = static_cast<uint32_t>(frame - buf);
    p.tailroom = static_cast<uint32_t>(buf_end - (frame + p.len));
    p.action = ref.side == Side::Access ? Action::ToAccess : Action::ToCore;
    p.slot = ref.slot;
    p.tx_offload = how == pkt::Checksums::Offload;
    p.out_family = e.family;
    ++counters_.stun_responses;
}

bool Relay::push_event(RelayEvent::Kind kind, const Session& s, Side side) {
    if (n_events_ < events_.size()) {
        events_[n_events_++] = {kind, s.id, side, s.leg[static_cast<std::size_t>(side)].remote};
        return true;
    }
    ++counters_.events_dropped;
    return false;
}

void Relay::check_consent(uint32_t max_slots) {
    n_events_ = 0;
    const uint32_t cap = table_.capacity();
    for (uint32_t k = 0; k < max_slots && k < cap; ++k) {
        if (consent_cursor_ >= cap) consent_cursor_ = 0;
        Session& s = table_.at(consent_cursor_++);
        if (s.id == 0) continue;
        for (int i = 0; i < 2; ++i) {
            Leg& leg = s.leg[i];
            if (!leg.ice || !leg.remote.set() || leg.consent_lost) continue;
            if (now_ns_ - s.ice[i].last_check_ns <= kConsentTimeoutNs) continue;
            leg.consent_lost = true;
            push_event(RelayEvent::Kind::ConsentLost, s, static_cast<Side>(i));
        }
        // A data channel relays nothing here (its messages go through the
        // slow path): it is never idle by the media's measure.
        // Nor is a session awaiting the browser's answer (a call ringing):
        // its idle clock starts with the answer.
        if (idle_timeout_ns_ == 0 || s.dtls[0].datachannel || s.awaiting_answer) continue;
        // Media inactivity: the per-packet counters, compared once a pass
        // (nothing on the packet path). An event that finds the buffer
        // full is tried again on the next pass.
        const uint64_t total = s.relayed[0] + s.relayed[1];
        if (s.idle_since_ns == 0 || total != s.idle_mark) {
            if (s.idle_reported && !push_event(RelayEvent::Kind::Active, s, Side::Access)) {
                continue;
            }
            s.idle_mark = total;
            s.idle_since_ns = now_ns_;
            s.idle_reported = false;
        } else if (!s.idle_reported && now_ns_ - s.idle_since_ns > idle_timeout_ns_) {
            s.idle_reported = push_event(RelayEvent::Kind::Idle, s, Side::Access);
        }
    }
}

void Relay::process(std::span<RelayPacket> pkts) {
    n_events_ = 0;
    while (!pkts.empty()) {
        const std::size_t n = pkts.size() < srtp::kMaxBurst ? pkts.size() : srtp::kMaxBurst;
        process_chunk(pkts.first(n));
        pkts = pkts.subspan(n);
    }
}

void Relay::process_chunk(std::span<RelayPacket> pkts) {
    constexpr std::size_t kMax = srtp::kMaxBurst;
    const std::size_t n = pkts.size();
    pkt::Frame frames[kMax];
    Pending pend[kMax];
    flow::FlowKey keys[kMax];
    uint32_t values[kMax];
    uint8_t key_of[kMax];  // keys[j] belongs to pkts[key_of[j]]
    std::size_t nkeys = 0;

    const auto drop = [this, &pkts, &pend](std::size_t i, RelayDrop why) {
        pkts[i].action = Action::Drop;
        pkts[i].drop = why;
        ++counters_.drops[static_cast<std::size_t>(why)];
        if (pend[i].live) {
            ++table_.at(pend[i].slot).dropped[static_cast<std::size_t>(pend[i].side)];
            pend[i].live = false;
        }
    };

    // 1. Parse every frame; media candidates get a flow key.
    for (std::size_t i = 0; i < n; ++i) {
        RelayPacket& p = pkts[i];
        pend[i].live = false;
        p.drop = RelayDrop::None;
        p.tx_offload = false;
        const auto side = static_cast<std::size_t>(p.arrived);
        ++counters_.rx_packets[side];
        counters_.rx_bytes[side] += p.len;
        switch (pkt::parse_frame(p.data, p.len, frames[i], p.parse)) {
            case pkt::Verdict::Drop:
                ++counters_.malformed[static_cast<std::size_t>(frames[i].drop)];
                drop(i, RelayDrop::Malformed);
                break;
            case pkt::Verdict::Exception:
                p.action = Action::ToKernel;
                ++counters_.to_kernel;
                break;
            case pkt::Verdict::Udp: {
                const pkt::Frame& f = frames[i];
                keys[nkeys] = f.ip_version == 6 ? flow::FlowKey::ipv6(f.dst, f.dst_port)
                                                : flow::FlowKey::ipv4(f.dst, f.dst_port);
                key_of[nkeys++] = static_cast<uint8_t>(i);
                break;
            }
        }
    }

    // 2. Bulk lookup; then source check and demux, and the unprotect jobs.
    if (nkeys != 0) table_.flows().find_bulk(keys, nkeys, values);
    // The sessions' lines, all at once before any is used (with many
    // sessions each is a cache and TLB miss: bench/relay_bench).
    for (std::size_t j = 0; j < nkeys; ++j) {
        if (values[j] == flow::FlowTable::kNotFound) continue;
        const FlowRef ref = FlowRef::decode(values[j]);
        const Session& s = table_.at(ref.slot);
        const auto* base = reinterpret_cast<const char*>(&s);
        for (std::size_t off = 0; off < kSessionHotBytes; off += 64)
            __builtin_prefetch(base + off);
    }
    srtp::PacketOp in_rtp[kMax], in_rtcp[kMax];
    uint8_t in_rtp_of[kMax], in_rtcp_of[kMax];
    std::size_t n_in_rtp = 0, n_in_rtcp = 0;
    for (std::size_t j = 0; j < nkeys; ++j) {
        const std::size_t i = key_of[j];
        RelayPacket& p = pkts[i];
        if (values[j] == flow::FlowTable::kNotFound) {
            p.action = Action::ToKernel;
            ++counters_.to_kernel;
            continue;
        }
        const FlowRef ref = FlowRef::decode(values[j]);
        const pkt::Frame& f = frames[i];
        Leg& leg = table_.at(ref.slot).leg[static_cast<std::size_t>(ref.side)];
        pend[i] = {ref.slot, ref.side, false, ref.rtcp_port, true, f.payload_len};
        // A leg's packets come in on its own side's port (no injection of
        // "IMS" media from the browsers' network) from its remote.
        if (ref.side != p.arrived) {
            drop(i, RelayDrop::WrongSource);
            continue;
        }
        uint8_t* payload = p.data + f.payload_offset;
        const pkt::Demux kind = pkt::classify(payload, f.payload_len);
        // ICE connectivity checks come from any address: answered inline.
        if (kind == pkt::Demux::Stun && leg.ice) {
            answer_stun(p, f, ref);
            pend[i].live = false;
            continue;
        }
        const Endpoint& expect = ref.rtcp_port ? leg.remote_rtcp : leg.remote;
        if (expect.set() ? !source_is(f, expect) : !leg.learn_remote) {
            // An ICE leg's SRTP may come from any of the far end's valid
            // pairs (RFC 8445 12.1): it still has to authenticate. DTLS only
            // from the nominated one; nothing of a plain RTP leg.
            if (!leg.ice || ref.rtcp_port || kind == pkt::Demux::Dtls ||
                leg.security == dpif::LegSecurity::Rtp ||
                !from_valid_pair(table_.at(ref.slot).ice[static_cast<std::size_t>(ref.side)].valid,
                                 f, now_ns_)) {
                drop(i, RelayDrop::WrongSource);
                continue;
            }
            ++counters_.media_other_pair;
        }
        const bool dtls_leg = leg.security == dpif::LegSecurity::DtlsSrtp ||
                              leg.security == dpif::LegSecurity::DtlsSctp;
        if (kind == pkt::Demux::Dtls && dtls_leg) {
            // A leg awaiting the browser's answer has no association yet
            // (the browser sends its flight again).
            if (!table_.at(ref.slot).dtls[static_cast<std::size_t>(ref.side)].on) {
                drop(i, RelayDrop::NotKeyed);
                continue;
            }
            // RFC 7983 / RFC 5764 5.1.2: from the leg's verified remote only.
            p.action = Action::ToSlowPath;
            p.slot = ref.slot;
            ++counters_.to_slow_path;
            pend[i].live = false;
            continue;
        }
        // A data channel's leg carries DTLS (and STUN) only: nothing of it
        // is relayed by the worker.
        if (leg.security == dpif::LegSecurity::DtlsSctp) {
            drop(i, RelayDrop::NotMedia);
            continue;
        }
        if (kind == pkt::Demux::Rtp || kind == pkt::Demux::Rtcp) {
            // RFC 5761 4: the payload type tells RTCP from RTP only where
            // they share a port; a separate RTCP port carries RTCP, a
            // non-muxed RTP port RTP (whatever its marker bit and PT).
            pend[i].rtcp = ref.rtcp_port || (leg.rtcp_mux && kind == pkt::Demux::Rtcp);
        } else {
            drop(i, RelayDrop::NotMedia);
            continue;
        }
        // The policer's line (the fifth), ahead of step 3.
        if (leg.policed) __builtin_prefetch(&table_.at(ref.slot).police[0]);
        // The contexts both transforms will need, ahead of them.
        const Leg& out_leg = table_.at(ref.slot).leg[static_cast<std::size_t>(other(ref.side))];
        if (out_leg.tx != nullptr) out_leg.tx->prefetch();
        if (leg.rx == nullptr) {
            // No keys yet (or any more) on a DTLS leg: nothing authenticates
            // now; from the nominated remote it may be the first media after
            // the handshake, whose keys are on their way.
            if (leg.hold_early) {
                p.action = Action::HoldForKeys;
                p.slot = ref.slot;
                ++counters_.held_for_keys;
                pend[i].live = false;
            } else if (leg.security == dpif::LegSecurity::DtlsSrtp) {
                drop(i, RelayDrop::NotKeyed);  // its association ended or failed
            }
            continue;
        }
        leg.rx->prefetch();
        const srtp::PacketOp op{leg.rx, payload, f.payload_len, f.payload_len, srtp::Status::Ok};
        if (pend[i].rtcp) {
            in_rtcp_of[n_in_rtcp] = static_cast<uint8_t>(i);
            in_rtcp[n_in_rtcp++] = op;
        } else {
            in_rtp_of[n_in_rtp] = static_cast<uint8_t>(i);
            in_rtp[n_in_rtp++] = op;
        }
    }
    if (n_in_rtp != 0) srtp::unprotect_rtp(engine_, std::span(in_rtp, n_in_rtp));
    if (n_in_rtcp != 0) srtp::unprotect_rtcp(engine_, std::span(in_rtcp, n_in_rtcp));
    const auto unprotected = [&](srtp::PacketOp* ops, const uint8_t* of, std::size_t count) {
        for (std::size_t k = 0; k < count; ++k) {
            if (ops[k].status != srtp::Status::Ok) {
                drop(of[k], RelayDrop::SrtpIn);
            } else {
                pend[of[k]].payload_len = ops[k].len;
            }
        }
    };
    unprotected(in_rtp, in_rtp_of, n_in_rtp);
    unprotected(in_rtcp, in_rtcp_of, n_in_rtcp);

    // 3. Accepted: learn what the leg did not know; check the way out; the
    // protect jobs.
    srtp::PacketOp out_rtp[kMax], out_rtcp[kMax];
    uint8_t out_rtp_of[kMax], out_rtcp_of[kMax];
    std::size_t n_out_rtp = 0, n_out_rtcp = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!pend[i].live) continue;
        const pkt::Frame& f = frames[i];
        RelayPacket& p = pkts[i];
        const auto in_side = static_cast<std::size_t>(pend[i].side);
        Leg& in = table_.at(pend[i].slot).leg[in_side];
        if (in.learn_remote) {
            Endpoint& e = pend[i].rtcp_port ? in.remote_rtcp : in.remote;
            if (!e.set()) learn_endpoint(e, f);
        }
        if (!in.mac_known) {
            std::memcpy(in.next_hop_mac, p.data + 6, 6);  // Ethernet source
            in.mac_known = true;
        }
        uint8_t* const media = p.data + f.payload_offset;
        if (in.bundle == kBundleTransport && pend[i].side == Side::Access) {
            // Several m= lines on this transport: which one is it?
            BundleGroup& g = table_.group(table_.at(pend[i].slot).bundle_group);
            const uint32_t m = bundle_target(g, media, pend[i].payload_len, pend[i].rtcp);
            if (m == BundleGroup::kNoSlot) {
                drop(i, RelayDrop::BundleDemux);
                continue;
            }
            pend[i].slot = m;
        }
        Session& s = table_.at(pend[i].slot);
        if (s.leg[0].bundle != kBundleNone && pend[i].side == Side::Core && !pend[i].rtcp &&
            pend[i].payload_len >= 12) {
            // The IMS side's SSRC of this m= line, for the browser's RTCP.
            BundleGroup& g = table_.group(s.bundle_group);
            const uint32_t ssrc = load_be32(media + 8);
            const uint8_t idx = s.bundle_index;
            if ((g.has_out & (1U << idx)) == 0 || g.ssrc_out[idx] != ssrc) {
                g.ssrc_out[idx] = ssrc;
                g.has_out = static_cast<uint8_t>(g.has_out | (1U << idx));
            }
        }
        const Leg* out_leg = table_.sending_leg(s, other(pend[i].side));
        if (out_leg == nullptr) {  // a bundled m= line whose transport is gone
            drop(i, RelayDrop::NoRemote);
            continue;
        }
        const Leg& out = *out_leg;
        const bool own_rtcp = pend[i].rtcp && !out.rtcp_mux;
        if (!(own_rtcp ? out.remote_rtcp : out.remote).set()) {
            drop(i, RelayDrop::NoRemote);
            continue;
        }
        if (!out.mac_known) {
            drop(i, RelayDrop::NoNeighbour);
            continue;
        }
        if (out.consent_lost) {  // RFC 7675 5.1: stop sending toward it
            drop(i, RelayDrop::NoConsent);
            continue;
        }
        // What the arrival leg may send us (issue 11): only authenticated
        // media spends its allowance, before any work is spent on it.
        if (s.leg[in_side].policed &&
            !police_admit(s.police[in_side], now_ns_,
                          static_cast<uint32_t>(f.payload_offset - f.l3_offset) + f.payload_len)) {
            drop(i, RelayDrop::Policed);
            continue;
        }
        if (out.tx == nullptr) {
            if (out.security == dpif::LegSecurity::DtlsSrtp) drop(i, RelayDrop::NotKeyed);
            continue;
        }
        const uint8_t* end = p.data + p.len + p.tailroom;
        const srtp::PacketOp op{out.tx, media, pend[i].payload_len,
                                static_cast<uint32_t>(end - media), srtp::Status::Ok};
        if (pend[i].rtcp) {
            out_rtcp_of[n_out_rtcp] = static_cast<uint8_t>(i);
            out_rtcp[n_out_rtcp++] = op;
        } else {
            out_rtp_of[n_out_rtp] = static_cast<uint8_t>(i);
            out_rtp[n_out_rtp++] = op;
        }
    }
    if (n_out_rtp != 0) srtp::protect_rtp(engine_, std::span(out_rtp, n_out_rtp));
    if (n_out_rtcp != 0) srtp::protect_rtcp(engine_, std::span(out_rtcp, n_out_rtcp));
    const auto protected_ = [&](srtp::PacketOp* ops, const uint8_t* of, std::size_t count) {
        for (std::size_t k = 0; k < count; ++k) {
            if (ops[k].status != srtp::Status::Ok) {
                drop(of[k], RelayDrop::SrtpOut);
            } else {
                pend[of[k]].payload_len = ops[k].len;
            }
        }
    };
    protected_(out_rtp, out_rtp_of, n_out_rtp);
    protected_(out_rtcp, out_rtcp_of, n_out_rtcp);

    // 4. The other leg's headers in front of the payload.
    for (std::size_t i = 0; i < n; ++i) {
        if (!pend[i].live) continue;
        RelayPacket& p = pkts[i];
        Session& s = table_.at(pend[i].slot);
        const Side out_side = other(pend[i].side);
        const Leg& out = *table_.sending_leg(s, out_side);  // step 3 saw it there
        const bool own_rtcp = pend[i].rtcp && !out.rtcp_mux;
        const Endpoint& src = own_rtcp ? out.local_rtcp : out.local;
        const Endpoint& dst = own_rtcp ? out.remote_rtcp : out.remote;
        pkt::UdpEgress e;
        std::memcpy(e.src_mac, mac_[static_cast<std::size_t>(out_side)], 6);
        std::memcpy(e.dst_mac, out.next_hop_mac, 6);
        e.family = dst.family;
        std::memcpy(e.src, src.addr, 16);
        std::memcpy(e.dst, dst.addr, 16);
        e.src_port = src.port;
        e.dst_port = dst.port;
        e.ttl = 64;
        uint8_t* const buf = p.data - p.headroom;
        uint8_t* const buf_end = p.data + p.len + p.tailroom;
        uint8_t* payload = p.data + frames[i].payload_offset;
        const pkt::Checksums how = checksums_[static_cast<std::size_t>(out_side)];
        uint8_t* frame = pkt::write_udp_headers(payload, static_cast<std::size_t>(payload - buf),
                                                pend[i].payload_len, e, how);
        if (frame == nullptr) {
            drop(i, RelayDrop::NoRoom);
            continue;
        }
        p.data = frame;
        p.len = pend[i].payload_len + static_cast<uint32_t>(pkt::udp_header_room(e.family));
        p.headroom = static_cast<uint32_t>(frame - buf);
        p.tailroom = static_cast<uint32_t>(buf_end - (frame + p.len));
        p.action = out_side == Side::Access ? Action::ToAccess : Action::ToCore;
        p.slot = pend[i].slot;
        p.tx_offload = how == pkt::Checksums::Offload;
        p.out_family = e.family;
        const auto in_side = static_cast<std::size_t>(pend[i].side);
        ++s.relayed[in_side];
        ++counters_.relayed_packets[in_side];
        counters_.relayed_bytes[in_side] += p.len;
    }
}

}  // namespace isthmus::session
