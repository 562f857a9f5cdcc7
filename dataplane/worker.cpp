#include "worker.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "pkt/parse.hpp"

namespace isthmus::dataplane {

using dpif::MsgType;
using dpif::ResultCode;
using session::Side;

namespace {

uint64_t tsc_to_ns(uint64_t tsc) {
    static const double ns_per_cycle = 1e9 / static_cast<double>(rte_get_tsc_hz());
    return static_cast<uint64_t>(static_cast<double>(tsc) * ns_per_cycle);
}

constexpr uint16_t kBurst = 32;
// Frames one poll relays: both ports' bursts and what other workers handed over.
constexpr uint16_t kMaxPerPoll = 4 * kBurst;

// Counter names of a worker's stats block, in publish() order.
constexpr const char* kFixedNames[] = {
    "sessions",
    "rx_access",
    "rx_core",
    "relayed_access_to_core",
    "relayed_core_to_access",
    "relayed_bytes_access_to_core",
    "relayed_bytes_core_to_access",
    "to_kernel",
    "srtp_auth_fail",
    "srtp_replay",
    "from_kernel",
    "kernel_tx_full",
    "handed_off",
    "tsc_cycles",
    "busy_cycles",
    "stun_responses",
    "stun_unauthenticated",
    "ice_selected",
    "ice_media_other_pair",
    "dtls_to_slow_path",
    "dtls_keys_installed",
    "dtls_held_for_keys",
    "dtls_slow_msgs_lost",
    "program_lt_100us",
    "program_lt_1ms",
    "program_ge_1ms",
    "program_max_us",
};
constexpr uint32_t kFixed = sizeof kFixedNames / sizeof kFixedNames[0];
static_assert(kFixed + (session::kRelayDropCount - 1) + (pkt::kDropCount - 1) <=
              dpif::kMaxStatCounters);

}  // namespace

Worker::Worker(const WorkerSetup& setup)
    : setup_(setup),
      engine_(srtp::ImbArch::Auto),
      table_(engine_, setup.limits),
      relay_(table_, engine_, setup.ports[0].mac, setup.ports[1].mac) {
    relay_.set_checksums(Side::Access, setup.ports[0].checksums);
    relay_.set_checksums(Side::Core, setup.ports[1].checksums);
    // Transforms already build only valid jobs; IPsec-MB's own checks cost
    // ~12-15 ns/packet (docs/performance.md).
    engine_.set_job_checks(false);
    hold_cycles_ = rte_get_tsc_hz() * kHoldForKeysMs / 1000;
    relay_.set_idle_timeout(setup.media_timeout_ns);
    if (setup.capture != nullptr) tap_.attach(setup.capture, setup.index);
}

Worker::~Worker() {
    for (std::size_t i = 0; i < n_held_; ++i)
        rte_pktmbuf_free(held_[i].m);
}

void Worker::describe(dpif::StatBlock* block) {
    block_ = block;
    if (block == nullptr) return;
    dpif::stat_set_label(block->kind, sizeof block->kind, "worker");
    dpif::stat_set_label(block->name, sizeof block->name, "worker" + std::to_string(setup_.index));
    uint32_t k = 0;
    for (const char* n : kFixedNames)
        dpif::stat_set_label(block->counter[k++].name, sizeof block->counter[0].name, n);
    for (std::size_t r = 1; r < session::kRelayDropCount; ++r) {
        const std::string n =
            "drop_" + std::string(session::relay_drop_name(static_cast<session::RelayDrop>(r)));
        dpif::stat_set_label(block->counter[k++].name, sizeof block->counter[0].name, n);
    }
    for (std::size_t r = 1; r < pkt::kDropCount; ++r) {
        const std::string n = "malformed_" + std::string(pkt::drop_name(static_cast<pkt::Drop>(r)));
        dpif::stat_set_label(block->counter[k++].name, sizeof block->counter[0].name, n);
    }
    block->counters = k;
    publish();
}

void Worker::count_program_latency(uint64_t stamp_ns) {
    // The control plane's steady_clock is CLOCK_MONOTONIC: one clock for
    // both processes on this host. A command path, not a packet path (the
    // vDSO makes this no system call).
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const uint64_t now_ns =
        static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
    const uint64_t us = now_ns > stamp_ns ? (now_ns - stamp_ns) / 1000 : 0;
    if (us < 100) {
        ++program_lt_100us_;
    } else if (us < 1000) {
        ++program_lt_1ms_;
    } else {
        ++program_ge_1ms_;
    }
    program_max_us_ = std::max(program_max_us_, us);
}

void Worker::publish() {
    if (block_ == nullptr) return;
    const session::RelayCounters& c = relay_.counters();
    const srtp::Counters& sc = engine_.counters();
    const uint64_t fixed[kFixed] = {
        table_.size(),
        c.rx_packets[0],
        c.rx_packets[1],
        c.relayed_packets[0],
        c.relayed_packets[1],
        c.relayed_bytes[0],
        c.relayed_bytes[1],
        c.to_kernel,
        sc.get(srtp::Op::UnprotectRtp, srtp::Status::AuthFail) +
            sc.get(srtp::Op::UnprotectRtcp, srtp::Status::AuthFail),
        sc.get(srtp::Op::UnprotectRtp, srtp::Status::Replay) +
            sc.get(srtp::Op::UnprotectRtp, srtp::Status::ReplayOld) +
            sc.get(srtp::Op::UnprotectRtcp, srtp::Status::Replay) +
            sc.get(srtp::Op::UnprotectRtcp, srtp::Status::ReplayOld),
        kernel_sent_,
        kernel_tx_full_,
        handed_off_,
        first_tsc_ == 0 ? 0 : rte_get_tsc_cycles() - first_tsc_,
        busy_cycles_,
        c.stun_responses,
        c.stun[static_cast<std::size_t>(ice::Verdict::BadIntegrity)] +
            c.stun[static_cast<std::size_t>(ice::Verdict::BadUsername)] +
            c.stun[static_cast<std::size_t>(ice::Verdict::NoIntegrity)] +
            c.stun[static_cast<std::size_t>(ice::Verdict::NoUsername)],
        c.ice_selected,
        c.media_other_pair,
        c.to_slow_path,
        dtls_keys_installed_,
        c.held_for_keys,
        slow_msgs_lost_,
        program_lt_100us_,
        program_lt_1ms_,
        program_ge_1ms_,
        program_max_us_,
    };
    uint32_t k = 0;
    for (uint64_t v : fixed)
        dpif::stat_store(block_->counter[k++], v);
    for (std::size_t r = 1; r < session::kRelayDropCount; ++r)
        dpif::stat_store(block_->counter[k++], c.drops[r]);
    for (std::size_t r = 1; r < pkt::kDropCount; ++r)
        dpif::stat_store(block_->counter[k++], c.malformed[r]);
}

// ICE pairs nominated and consent lost or restored (issue 5): the control
// plane learns the browser's address and when media to it stops or resumes.
void Worker::report(std::span<const session::RelayEvent> events) {
    for (const session::RelayEvent& rev : events) {
        dpif::Event ev{};
        ev.hdr.version = dpif::kAbiVersion;
        switch (rev.kind) {
            case session::RelayEvent::Kind::IceSelected:
                ev.hdr.type = MsgType::IceSelected;
                break;
            case session::RelayEvent::Kind::ConsentLost:
                ev.hdr.type = MsgType::ConsentLost;
                break;
            case session::RelayEvent::Kind::ConsentRestored:
                ev.hdr.type = MsgType::ConsentRestored;
                break;
            case session::RelayEvent::Kind::Idle:
                ev.hdr.type = MsgType::SessionIdle;
                break;
            case session::RelayEvent::Kind::Active:
                ev.hdr.type = MsgType::SessionActive;
                break;
        }
        ev.hdr.session_id = rev.session_id;
        ev.worker = static_cast<uint16_t>(setup_.index);
        ev.selected_remote = session::to_ip_endpoint(rev.remote);
        std::snprintf(ev.detail, sizeof ev.detail, "%s",
                      rev.side == Side::Access ? "access" : "core");
        emit(ev);
        if (rev.kind != session::RelayEvent::Kind::IceSelected) continue;
        // A DTLS leg's peer is where ICE nominated: the slow path sends its
        // flights there (and an active leg starts its handshake).
        const uint32_t slot = table_.slot_of(rev.session_id);
        if (slot == session::SessionTable::kNoSlot) continue;
        session::Session& s = table_.at(slot);
        const auto i = static_cast<std::size_t>(rev.side);
        if (!s.dtls[i].on) continue;
        send_path(s, i);
    }
}

void Worker::emit(const dpif::Event& ev) {
    if (!outbox.try_push(ev)) ++events_dropped_;
}

void Worker::answer(const dpif::Command& cmd, ResultCode rc, const std::string& detail) {
    dpif::Event ev{};
    ev.hdr = cmd.hdr;
    ev.hdr.type = MsgType::Result;
    ev.hdr.reserved = static_cast<uint32_t>(cmd.hdr.type);
    ev.result = rc;
    ev.worker = static_cast<uint16_t>(setup_.index);
    std::snprintf(ev.detail, sizeof ev.detail, "%s", detail.c_str());
    const uint32_t slot = table_.slot_of(cmd.hdr.session_id);
    if (slot != session::SessionTable::kNoSlot && rc == ResultCode::Ok) {
        const session::Session& s = table_.at(slot);
        ev.access_local = session::to_ip_endpoint(s.leg[0].local);
        ev.core_local = session::to_ip_endpoint(s.leg[1].local);
    }
    emit(ev);
}

void Worker::info(const session::Session& s, const dpif::MsgHeader& hdr, ResultCode rc) {
    dpif::Event ev{};
    ev.hdr = hdr;
    ev.hdr.type = MsgType::SessionInfo;
    ev.hdr.session_id = s.id;
    ev.result = rc;
    ev.worker = static_cast<uint16_t>(setup_.index);
    ev.access_local = session::to_ip_endpoint(s.leg[0].local);
    ev.core_local = session::to_ip_endpoint(s.leg[1].local);
    ev.selected_remote = session::to_ip_endpoint(s.leg[0].remote);
    ev.core_remote = session::to_ip_endpoint(s.leg[1].remote);
    for (int i = 0; i < 2; ++i) {
        ev.relayed[i] = s.relayed[i];
        ev.dropped[i] = s.dropped[i];
    }
    if (rc == ResultCode::StaleGeneration) {
        std::snprintf(ev.detail, sizeof ev.detail, "released: generation %llu ended",
                      static_cast<unsigned long long>(s.generation));
    }
    emit(ev);
}

void Worker::handle(const WorkerMsg& m) {
    std::string detail;
    DtlsBefore before;
    if (const uint32_t slot = table_.slot_of(m.cmd.hdr.session_id);
        m.kind == WorkerMsg::Kind::Command && slot != session::SessionTable::kNoSlot) {
        const session::Session& s = table_.at(slot);
        for (int i = 0; i < 2; ++i) {
            before.serial[i] = s.dtls[i].serial;
            before.datachannel[i] = s.dtls[i].datachannel;
            before.srtp[i] = s.dtls[i].srtp;
        }
        before.generation = s.generation;
    }
    switch (m.kind) {
        case WorkerMsg::Kind::SetNextHop:
            table_.set_next_hop(m.session_id, static_cast<Side>(m.side & 1U), m.mac, m.family,
                                m.addr);
            return;
        case WorkerMsg::Kind::ReleaseOlder:
            // Reported and released a few at a time (continue_listing).
            listing_ = Listing{true, true, m.generation, {}, 0};
            listing_.hdr.version = dpif::kAbiVersion;
            return;
        case WorkerMsg::Kind::Command:
            break;
    }
    const dpif::Command& cmd = m.cmd;
    switch (cmd.hdr.type) {
        case MsgType::SessionCreate: {
            const ResultCode rc = table_.create(cmd, detail);
            // (A session awaiting the browser's answer is timed when that
            // answer's update completes it.)
            if (rc == ResultCode::Ok && cmd.stamp_ns != 0 &&
                !table_.awaits_answer(cmd.hdr.session_id))
                count_program_latency(cmd.stamp_ns);
            answer(cmd, rc, detail);
            if (rc == ResultCode::Ok) tell_slow_path(cmd.hdr.session_id, before);
            return;
        }
        case MsgType::SessionUpdate: {
            // The browser's answer completing a leg that awaited it: the
            // answer-to-forwarding time, as a create's.
            const bool completes = table_.awaits_answer(cmd.hdr.session_id);
            const ResultCode rc = table_.update(cmd, detail);
            if (rc == ResultCode::Ok && completes && cmd.stamp_ns != 0 &&
                !table_.awaits_answer(cmd.hdr.session_id))
                count_program_latency(cmd.stamp_ns);
            answer(cmd, rc, detail);
            if (rc == ResultCode::Ok) tell_slow_path(cmd.hdr.session_id, before);
            return;
        }
        case MsgType::SessionDelete: {
            // The session's final figures go out before it is gone.
            const uint32_t slot = table_.slot_of(cmd.hdr.session_id);
            if (slot != session::SessionTable::kNoSlot)
                info(table_.at(slot), cmd.hdr, ResultCode::Ok);
            if (slot != session::SessionTable::kNoSlot) close_dtls(table_.at(slot));
            const bool ok = table_.remove(cmd.hdr.session_id);
            answer(cmd, ok ? ResultCode::Ok : ResultCode::NotFound, ok ? "" : "no such session");
            return;
        }
        case MsgType::SessionQuery: {
            if (cmd.hdr.session_id == 0) {
                // Every session, a few per pass, then the Result.
                listing_ = Listing{true, false, 0, cmd.hdr, 0};
                return;
            }
            const uint32_t slot = table_.slot_of(cmd.hdr.session_id);
            if (slot == session::SessionTable::kNoSlot) {
                answer(cmd, ResultCode::NotFound, "no such session");
                return;
            }
            info(table_.at(slot), cmd.hdr, ResultCode::Ok);
            answer(cmd, ResultCode::Ok, "");
            return;
        }
        default:
            answer(cmd, ResultCode::BadType, "not a session command");
            return;
    }
}

void Worker::continue_listing() {
    // Bounded per pass (slots looked at, events emitted) so that listing a
    // million sessions neither stalls media nor overflows the outbox.
    constexpr uint32_t kSlotsPerPass = 4096;
    const std::size_t room = outbox.kCapacity - outbox.size();
    std::size_t emitted = 0;
    const uint32_t end = table_.capacity();
    uint32_t looked = 0;
    // Each release may close two DTLS legs.
    const std::size_t slow_room = to_slow.kCapacity - to_slow.size();
    while (listing_.next_slot < end && looked < kSlotsPerPass && emitted + 2 < room &&
           2 * emitted + 2 < slow_room) {
        const session::Session& s = table_.at(listing_.next_slot++);
        ++looked;
        if (s.id == 0) continue;
        if (listing_.release) {
            if (s.generation >= listing_.generation) continue;
            dpif::MsgHeader hdr = listing_.hdr;
            hdr.generation = s.generation;  // the session's own: see CommandService
            info(s, hdr, ResultCode::StaleGeneration);
            close_dtls(s);
            table_.remove(s.id);
        } else {
            info(s, listing_.hdr, ResultCode::Ok);
        }
        ++emitted;
    }
    if (listing_.next_slot < end || emitted + 2 >= room) return;
    if (!listing_.release) {
        dpif::Command cmd{};
        cmd.hdr = listing_.hdr;
        answer(cmd, ResultCode::Ok, "");
    }
    listing_.active = false;
}

// Packet capture: the session's ports, from the table (capture_tap.hpp).
void Worker::resolve_capture_session() {
    for (std::size_t side = 0; side < 2; ++side)
        tap_.set_ports(side, 0, 0);
    if (tap_.session() == 0) return;
    const uint32_t slot = table_.slot_of(tap_.session());
    if (slot == session::SessionTable::kNoSlot) return;
    const session::Session& s = table_.at(slot);
    for (std::size_t side = 0; side < 2; ++side) {
        tap_.set_ports(side, s.leg[side].local.port,
                       s.leg[side].local_rtcp.set() ? s.leg[side].local_rtcp.port : 0);
    }
}

void Worker::capture_in(rte_mbuf* m, std::size_t side) {
    const uint8_t* d = mbuf_data(m);
    const std::size_t seg = rte_pktmbuf_data_len(m);
    // A session's capture knows whose it is (its local ports); a port's
    // does not look the session up on the way in.
    if (tap_.wants_in(d, seg, side)) {
        tap_.write(d, rte_pktmbuf_pkt_len(m), seg, side, dpif::CaptureDir::In, tap_.session());
    }
}

// Frames held for their DTLS leg's keys (Action::HoldForKeys): given to the
// relay again once the leg has them (given again, a frame is counted again
// in rx_*), dropped as not_keyed when their time is up, when the session
// went or the association ended. Looked at when keys arrived or a held frame
// may have expired, not on every poll.
template <class Take>
void Worker::release_held(uint64_t now_tsc, Take&& take) {
    if (!keys_arrived_ && now_tsc - held_[0].since <= hold_cycles_) return;
    keys_arrived_ = false;
    session::RelayCounters& c = relay_.counters();
    std::size_t keep = 0;
    for (std::size_t i = 0; i < n_held_; ++i) {
        const Held h = held_[i];
        const session::Leg& leg = table_.at(h.slot).leg[static_cast<std::size_t>(h.side)];
        if (leg.rx != nullptr) {
            take(h.m, h.side);
        } else if (now_tsc - h.since > hold_cycles_ || !leg.hold_early) {
            ++c.drops[static_cast<std::size_t>(session::RelayDrop::NotKeyed)];
            rte_pktmbuf_free(h.m);
        } else {
            held_[keep++] = h;
        }
    }
    n_held_ = keep;
}

unsigned Worker::poll() {
    const uint64_t start = rte_get_tsc_cycles();
    if (first_tsc_ == 0) [[unlikely]]
        first_tsc_ = start;
    if (tap_.poll()) [[unlikely]]
        resolve_capture_session();
    // Commands first: a few per pass so a burst of commands cannot stall
    // media; none while a listing is under way (they keep their order).
    std::size_t nm = 0;
    if (listing_.active) [[unlikely]] {
        continue_listing();
    } else {
        // Each command answers with at most two events (SessionInfo +
        // Result): take only what the outbox has room to answer, so that
        // no answer is ever dropped; the rest waits in the inbox.
        WorkerMsg msgs[8];
        // ... and whose DTLS legs' Close + Open + Path the slow path's ring holds.
        const std::size_t slow_room = (to_slow.kCapacity - to_slow.size()) / 6;
        const std::size_t room =
            std::min<std::size_t>({(outbox.kCapacity - outbox.size()) / 2, slow_room, 8});
        nm = inbox.pop_burst(std::span(msgs, room));
        for (std::size_t i = 0; i < nm; ++i)
            handle(msgs[i]);
    }

    if (!from_slow.empty()) [[unlikely]]
        apply_keys();

    // The kernel's frames (and the main lcore's ARP/ND requests), and the
    // slow path's where it has no TX queue of its own.
    unsigned kernel_frames = 0;
    for (std::size_t r = 0; r < 4; ++r) {
        const std::size_t s = r & 1U;
        MbufRing& ring = r < 2 ? from_kernel[s] : slow_tx[s];
        rte_mbuf* out[kBurst];
        const std::size_t k = ring.pop_burst(std::span(out));
        if (k == 0) continue;
        kernel_frames += static_cast<unsigned>(k);
        // The kernel's frames (a port capture's); the slow path captured
        // its own (slow_tx) itself.
        if (r < 2 && tap_.side_on(s) && tap_.session() == 0) [[unlikely]] {
            for (std::size_t i = 0; i < k; ++i)
                tap_.write(mbuf_data(out[i]), rte_pktmbuf_pkt_len(out[i]),
                           rte_pktmbuf_data_len(out[i]), s, dpif::CaptureDir::Out, 0);
        }
        const uint16_t sent = setup_.ports[s].present
                                  ? rte_eth_tx_burst(setup_.ports[s].port, setup_.tx_queue, out,
                                                     static_cast<uint16_t>(k))
                                  : 0;
        kernel_sent_ += sent;
        for (std::size_t i = sent; i < k; ++i) {
            ++kernel_tx_full_;
            rte_pktmbuf_free(out[i]);
        }
    }

    rte_mbuf* mbufs[kMaxPerPoll];
    session::RelayPacket pkts[kMaxPerPoll];
    uint16_t n = 0;
    const auto take = [&](rte_mbuf* m, Side side) {
        session::RelayPacket& p = pkts[n];
        mbufs[n++] = m;
        // Multi-segment frames are seen by their first segment only: a
        // datagram longer than it fails the IP length check (malformed).
        p.data = mbuf_data(m);
        p.len = rte_pktmbuf_data_len(m);
        p.headroom = rte_pktmbuf_headroom(m);
        p.tailroom = rte_pktmbuf_tailroom(m);
        p.arrived = side;
        p.parse.ip_checksum_verified =
            (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
        p.parse.udp_checksum_verified =
            (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    };
    session::RelayCounters& c = relay_.counters();
    unsigned handed = 0;  // frames passed to their owners this poll
    // Frames held for their DTLS leg's keys go first (they are older than
    // anything the ports have now).
    if (n_held_ != 0) [[unlikely]]
        release_held(start, take);
    for (int s = 0; s < 2; ++s) {
        const WorkerPort& port = setup_.ports[s];
        if (!port.present || setup_.index >= port.rx_queues) continue;
        // With several workers a burst is shared out among them: read twice
        // as many so that each still relays bursts near kBurst (smaller
        // bursts cost the SRTP engine more: docs/performance.md, hand-off).
        rte_mbuf* rx[2 * kBurst];
        const uint16_t want = setup_.workers > 1 ? 2 * kBurst : kBurst;
        const uint16_t got =
            rte_eth_rx_burst(port.port, static_cast<uint16_t>(setup_.index), rx, want);
        for (uint16_t i = 0; i < got; ++i) {
            rte_mbuf* m = rx[i];
            // Not every PMD sets it (net_ring does not); the main lcore picks
            // the exception TAP by it, hand-off receivers the side.
            m->port = port.port;
            if (setup_.workers > 1) {
                // Software hand-off (single-queue ports, or RSS that does not
                // know the owners): the UDP destination port names the worker.
                const int dst = pkt::peek_udp_dst_port(mbuf_data(m), rte_pktmbuf_data_len(m));
                const unsigned owner =
                    dst < 0 ? setup_.index
                            : session::owner_of(static_cast<uint16_t>(dst),
                                                static_cast<uint16_t>(setup_.workers));
                if (owner != setup_.index) {
                    ++handed;
                    if (handoff_out[owner]->try_push(m)) {
                        ++handed_off_;
                    } else {
                        ++c.drops[static_cast<std::size_t>(session::RelayDrop::HandoffFull)];
                        rte_pktmbuf_free(m);
                    }
                    continue;
                }
            }
            rte_prefetch0(mbuf_data(m));
            if (tap_.on()) [[unlikely]]
                capture_in(m, static_cast<std::size_t>(s));
            take(m, static_cast<Side>(s));
        }
    }
    // What other workers received for this one.
    for (unsigned j = 0; j < setup_.workers; ++j) {
        if (j == setup_.index || n >= kMaxPerPoll) continue;
        rte_mbuf* in[kBurst];
        const std::size_t left = std::size_t{kMaxPerPoll} - n;
        const std::size_t room = left < kBurst ? left : kBurst;
        const std::size_t k = handoff_in[j].pop_burst(std::span(in, room));
        for (std::size_t i = 0; i < k; ++i) {
            rte_prefetch0(mbuf_data(in[i]));
            const Side side = in[i]->port == setup_.ports[0].port && setup_.ports[0].present
                                  ? Side::Access
                                  : Side::Core;
            if (tap_.on()) [[unlikely]]
                capture_in(in[i], static_cast<std::size_t>(side));
            take(in[i], side);
        }
    }
    const uint64_t now = rte_get_tsc_cycles();
    relay_.set_now(tsc_to_ns(now));
    if (now >= next_publish_) [[unlikely]] {
        publish();
        next_publish_ = now + setup_.publish_cycles;
        if (tap_.on() && tap_.session() != 0) resolve_capture_session();
        // Consent timers (RFC 7675), a slice of the table per heartbeat: a
        // full pass every 50 heartbeats (5 s at 100 ms), so consent is
        // withdrawn 30-35 s after the last check.
        relay_.check_consent(std::max<uint32_t>(1024, table_.capacity() / 50));
        report(relay_.events());
        resend_paths(std::max<uint32_t>(1024, table_.capacity() / 50));
    }
    if (n == 0) {
        // Commands, kernel frames or frames handed to their owners: work too.
        const unsigned work = static_cast<unsigned>(nm) + kernel_frames + handed;
        if (work != 0) busy_cycles_ += rte_get_tsc_cycles() - start;
        return work;
    }

    relay_.process(std::span(pkts, n));
    report(relay_.events());

    rte_mbuf* tx[2][kMaxPerPoll];
    uint16_t ntx[2] = {0, 0};
    for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = mbufs[i];
        const session::RelayPacket& p = pkts[i];
        switch (p.action) {
            case session::Action::ToAccess:
            case session::Action::ToCore: {
                const auto side = p.action == session::Action::ToAccess ? 0U : 1U;
                if (!setup_.ports[side].present) [[unlikely]] {
                    ++c.drops[static_cast<std::size_t>(session::RelayDrop::TxFull)];
                    rte_pktmbuf_free(m);
                    break;
                }
                m->data_off = static_cast<uint16_t>(p.data - static_cast<uint8_t*>(m->buf_addr));
                m->data_len = static_cast<uint16_t>(p.len);
                m->pkt_len = p.len;
                m->ol_flags = 0;
                if (p.tx_offload) {
                    m->l2_len = 14;
                    m->l3_len = p.out_family == 4 ? 20 : 40;
                    m->ol_flags = (p.out_family == 4 ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM
                                                     : RTE_MBUF_F_TX_IPV6) |
                                  RTE_MBUF_F_TX_UDP_CKSUM;
                }
                if (tap_.side_on(side)) [[unlikely]] {
                    // On the way out: after the crypto (and before checksums
                    // the NIC fills in, when offloaded).
                    const uint64_t id = table_.at(p.slot).id;
                    if (tap_.session() == 0 || id == tap_.session())
                        tap_.write(p.data, p.len, p.len, side, dpif::CaptureDir::Out, id);
                }
                tx[side][ntx[side]++] = m;
                break;
            }
            case session::Action::ToKernel:
                // The main lcore hands it to the TAP (and learns neighbours).
                if (!to_kernel.try_push(m)) [[unlikely]] {
                    ++c.drops[static_cast<std::size_t>(session::RelayDrop::TxFull)];
                    rte_pktmbuf_free(m);
                }
                break;
            case session::Action::ToSlowPath: {
                // Datagrams leave room for the legs' Open/Close/Path; a DTLS
                // flood fills the ring and is dropped here, never the media.
                SlowMsg sm{};
                sm.kind = SlowMsg::Kind::Datagram;
                sm.side = static_cast<uint8_t>(p.arrived);
                const session::Session& s = table_.at(p.slot);
                sm.serial = s.dtls[static_cast<std::size_t>(p.arrived)].serial;
                sm.session_id = s.id;
                sm.mbuf = m;
                if (to_slow.size() + kSlowRingControlRoom >= to_slow.kCapacity ||
                    !to_slow.try_push(sm)) [[unlikely]] {
                    ++c.drops[static_cast<std::size_t>(session::RelayDrop::SlowPathFull)];
                    rte_pktmbuf_free(m);
                }
                break;
            }
            case session::Action::HoldForKeys:
                if (may_hold(p.slot)) {
                    held_[n_held_++] = {m, rte_get_tsc_cycles(), p.slot, p.arrived};
                } else {
                    ++c.drops[static_cast<std::size_t>(session::RelayDrop::NotKeyed)];
                    rte_pktmbuf_free(m);
                }
                break;
            case session::Action::Drop:
                rte_pktmbuf_free(m);
                break;
        }
    }
    for (std::size_t s = 0; s < 2; ++s) {
        if (ntx[s] == 0) continue;
        const uint16_t sent =
            rte_eth_tx_burst(setup_.ports[s].port, setup_.tx_queue, tx[s], ntx[s]);
        for (uint16_t i = sent; i < ntx[s]; ++i) {
            // Counted as relayed by the relay; a full queue takes it back.
            ++c.drops[static_cast<std::size_t>(session::RelayDrop::TxFull)];
            rte_pktmbuf_free(tx[s][i]);
        }
    }
    busy_cycles_ += rte_get_tsc_cycles() - start;
    return n + handed;
}

int Worker::run(void* self) {
    auto* w = static_cast<Worker*>(self);
    while (!w->stop.load(std::memory_order_relaxed))
        w->poll();
    w->publish();
    return 0;
}

}  // namespace isthmus::dataplane
