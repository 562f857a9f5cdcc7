// The worker's side of DTLS-SRTP (issue 5): what it tells the slow path of
// its DTLS legs (open, close, path, generation), the keys it takes back, and
// the SRTP it holds until those keys arrive. Split from worker.cpp; the same
// class, the same thread rules (worker.hpp).
#include <algorithm>
#include <cstring>

#include "worker.hpp"

namespace isthmus::dataplane {

using session::Side;

void Worker::send_path(session::Session& s, std::size_t side) {
    const session::Leg& leg = s.leg[side];
    SlowMsg m{};
    m.kind = SlowMsg::Kind::Path;
    m.side = static_cast<uint8_t>(side);
    m.serial = s.dtls[side].serial;
    m.session_id = s.id;
    std::memcpy(m.path.src_mac, setup_.ports[side].mac, 6);
    std::memcpy(m.path.dst_mac, leg.next_hop_mac, 6);
    m.path.family = leg.local.family;
    std::memcpy(m.path.src, leg.local.addr, 16);
    std::memcpy(m.path.dst, leg.remote.addr, 16);
    m.path.src_port = leg.local.port;
    m.path.dst_port = leg.remote.port;
    m.path.ttl = 64;
    s.dtls[side].path_sent = to_slow.try_push(m);  // else: resend_paths tries again
    if (!s.dtls[side].path_sent) ++slow_msgs_lost_;
}

void Worker::close_dtls(const session::Session& s) {
    for (std::size_t i = 0; i < 2; ++i) {
        if (!s.dtls[i].on) continue;
        SlowMsg m{};
        m.kind = SlowMsg::Kind::Close;
        m.side = static_cast<uint8_t>(i);
        m.serial = s.dtls[i].serial;
        m.session_id = s.id;
        if (!to_slow.try_push(m)) ++slow_msgs_lost_;  // room was checked: not expected
    }
}

void Worker::tell_slow_path(uint64_t id, const DtlsBefore& before) {
    const uint32_t slot = table_.slot_of(id);
    for (std::size_t i = 0; i < 2; ++i) {
        session::Session* s = slot != session::SessionTable::kNoSlot ? &table_.at(slot) : nullptr;
        const uint32_t now = s != nullptr ? s->dtls[i].serial : 0;
        if (now != 0 && now == before.serial[i] && s->generation != before.generation) {
            // The association stays; its events now belong to this generation.
            SlowMsg g{};
            g.kind = SlowMsg::Kind::Generation;
            g.side = static_cast<uint8_t>(i);
            g.serial = now;
            g.session_id = id;
            g.generation = s->generation;
            if (!to_slow.try_push(g)) ++slow_msgs_lost_;
        }
        if (now != 0 && now == before.serial[i] &&
            (s->dtls[i].datachannel != before.datachannel[i] ||
             s->dtls[i].srtp != before.srtp[i])) {
            // The association stays and now carries SRTP, SCTP or both (a
            // data channel joined or left its BUNDLE).
            SlowMsg c{};
            c.kind = SlowMsg::Kind::Modes;
            c.side = static_cast<uint8_t>(i);
            c.serial = now;
            c.session_id = id;
            c.active = s->dtls[i].active ? 1 : 0;
            c.datachannel = s->dtls[i].datachannel ? 1 : 0;
            c.srtp = s->dtls[i].srtp ? 1 : 0;
            c.sctp = s->dtls[i].sctp;
            if (!to_slow.try_push(c)) ++slow_msgs_lost_;
        }
        if (now == before.serial[i]) continue;
        SlowMsg m{};
        m.side = static_cast<uint8_t>(i);
        m.session_id = id;
        if (before.serial[i] != 0) {
            m.kind = SlowMsg::Kind::Close;
            m.serial = before.serial[i];
            if (!to_slow.try_push(m)) ++slow_msgs_lost_;
        }
        if (now != 0) {
            m.kind = SlowMsg::Kind::Open;
            m.serial = now;
            m.generation = s->generation;
            m.active = s->dtls[i].active ? 1 : 0;
            m.datachannel = s->dtls[i].datachannel ? 1 : 0;
            m.srtp = s->dtls[i].srtp ? 1 : 0;
            m.sctp = s->dtls[i].sctp;
            std::memcpy(m.fingerprint, s->dtls[i].fingerprint, 32);
            if (!to_slow.try_push(m)) ++slow_msgs_lost_;
            // Re-made on a leg whose pair is already nominated: the path too.
            if (s->leg[i].remote.set() && s->leg[i].mac_known) send_path(*s, i);
        }
    }
}

// Keys the slow path negotiated (or withdrew) for this worker's legs.
void Worker::apply_keys() {
    KeyMsg k[8];
    const std::size_t n = from_slow.pop_burst_wipe(std::span(k));
    for (std::size_t j = 0; j < n; ++j) {
        const Side side = static_cast<Side>(k[j].side & 1U);
        if (k[j].install != 0) {
            const bool ok = table_.install_dtls_keys(
                k[j].session_id, side, k[j].serial, static_cast<srtp::Suite>(k[j].suite),
                std::span<const uint8_t>(k[j].rx_key, k[j].key_len),
                std::span<const uint8_t>(k[j].rx_salt, k[j].salt_len),
                std::span<const uint8_t>(k[j].tx_key, k[j].key_len),
                std::span<const uint8_t>(k[j].tx_salt, k[j].salt_len));
            if (ok) ++dtls_keys_installed_;
        } else {
            table_.withdraw_dtls_keys(k[j].session_id, side, k[j].serial);
        }
    }
    keys_arrived_ = n != 0;  // held frames: keyed now, or to be dropped
    // Our copies go now; the ring's slots were wiped as they were read.
    explicit_bzero(k, sizeof k);
}

bool Worker::may_hold(uint32_t slot) const {
    if (n_held_ >= kMaxHeld) return false;
    // One leg may not take the whole hold from the others' first media.
    std::size_t mine = 0;
    for (std::size_t i = 0; i < n_held_; ++i)
        mine += held_[i].slot == slot ? 1U : 0U;
    return mine < kMaxHeldPerSession;
}

// Paths the slow path did not get (a full ring, a nomination event the
// relay could not report, a leg whose MAC came later): sent again, a slice
// of the table per heartbeat.
void Worker::resend_paths(uint32_t max_slots) {
    const uint32_t cap = table_.capacity();
    for (uint32_t k = 0; k < max_slots && k < cap; ++k) {
        if (path_cursor_ >= cap) path_cursor_ = 0;
        session::Session& s = table_.at(path_cursor_++);
        if (s.id == 0) continue;
        for (std::size_t i = 0; i < 2; ++i) {
            const session::Session::Dtls& d = s.dtls[i];
            if (d.on && !d.path_sent && s.leg[i].remote.set() && s.leg[i].mac_known &&
                to_slow.size() + kSlowRingControlRoom / 2 < to_slow.kCapacity)
                send_path(s, i);
        }
    }
}

}  // namespace isthmus::dataplane
