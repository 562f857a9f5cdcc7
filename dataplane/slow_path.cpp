#include "slow_path.hpp"

#include <openssl/rand.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "pkt/parse.hpp"

namespace isthmus::dataplane {

namespace {

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

constexpr uint64_t kTimerPeriodNs = 1'000'000;      // retransmissions and deadlines
constexpr uint64_t kPublishPeriodNs = 100'000'000;  // stats block

// The bridges' counters published (summed over chats).
constexpr const char* kMsrpBridgeCounters[] = {"msrp_relayed_to_tcp", "msrp_relayed_to_channel"};
constexpr const char* kGaugeNames[] = {"dtls_legs", "dtls_handshaking", "msrp_chats"};

// A fresh MSRP transaction id (RFC 4975 7.1: random, so that no one who
// supplies a body can guess the end line that closes it): 16 characters
// of a 64-letter alphabet, 96 bits.
std::string random_transaction_id() {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1) throw std::runtime_error("RAND_bytes failed");
    std::string id(sizeof r, 'x');
    for (std::size_t i = 0; i < sizeof r; ++i)
        id[i] = kAlphabet[r[i] & 63U];
    // An ident starts with a letter or digit (RFC 4975 9): not '-' or '.'.
    id[0] = kAlphabet[(r[0] & 63U) % 62U];
    return id;
}

bool is_msrp_protocol(std::string_view p) {
    return p.size() == 4 && (p[0] | 0x20) == 'm' && (p[1] | 0x20) == 's' && (p[2] | 0x20) == 'r' &&
           (p[3] | 0x20) == 'p';
}

}  // namespace

SlowPath::SlowPath(const SlowPathSetup& setup, const dtls::Identity& identity)
    : setup_(setup), ctx_(identity, setup.dtls), service_(ctx_, setup.limits) {
    if (setup.capture != nullptr) tap_.attach(setup.capture, dpif::kCaptureSlowPathRing);
    sctp_ = setup.sctp;
    chats_ = std::make_unique<datachannel::MsrpChats>(setup.chats, random_transaction_id);
}

SlowPath::~SlowPath() {
    // The chats (their sockets), then the endpoints before the stack they
    // live on (an association must be gone before its stack).
    chats_.reset();
    dc_.clear();
    own_sctp_.reset();
    // Datagrams still queued go back to the pool.
    for (Worker* w : setup_.workers) {
        SlowMsg m{};
        while (w->to_slow.try_pop(m))
            if (m.kind == SlowMsg::Kind::Datagram && m.mbuf != nullptr) rte_pktmbuf_free(m.mbuf);
    }
}

namespace {
#define ISTHMUS_X(c) +1
constexpr std::size_t kPublished = 0 ISTHMUS_DTLS_COUNTERS(ISTHMUS_X)
                                       ISTHMUS_SLOW_PATH_COUNTERS(ISTHMUS_X)
                                           ISTHMUS_MSRP_CHAT_COUNTERS(ISTHMUS_X) +
                                   std::size(kMsrpBridgeCounters) + std::size(kGaugeNames);
#undef ISTHMUS_X
static_assert(kPublished <= dpif::kMaxStatCounters, "the slow path's stat block is full");
}  // namespace

void SlowPath::describe(dpif::StatBlock* block) {
    block_ = block;
    if (block == nullptr) return;
    dpif::stat_set_label(block->kind, sizeof block->kind, "slow_path");
    dpif::stat_set_label(block->name, sizeof block->name, "slow_path");
    uint32_t k = 0;
#define ISTHMUS_X(c) \
    dpif::stat_set_label(block->counter[k++].name, sizeof block->counter[0].name, "dtls_" #c);
    ISTHMUS_DTLS_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
#define ISTHMUS_X(c) \
    dpif::stat_set_label(block->counter[k++].name, sizeof block->counter[0].name, "dtls_" #c);
    ISTHMUS_SLOW_PATH_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
#define ISTHMUS_X(c) \
    dpif::stat_set_label(block->counter[k++].name, sizeof block->counter[0].name, "msrp_" #c);
    ISTHMUS_MSRP_CHAT_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
    for (const char* n : kMsrpBridgeCounters)
        dpif::stat_set_label(block->counter[k++].name, sizeof block->counter[0].name, n);
    for (const char* n : kGaugeNames)
        dpif::stat_set_label(block->counter[k++].name, sizeof block->counter[0].name, n);
    block->counters = k;
    publish();
}

void SlowPath::publish() {
    if (block_ == nullptr) return;
    const dtls::ServiceCounters& c = service_.counters();
    uint32_t k = 0;
#define ISTHMUS_X(field) dpif::stat_store(block_->counter[k++], c.field);
    ISTHMUS_DTLS_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
#define ISTHMUS_X(field) dpif::stat_store(block_->counter[k++], counters_.field);
    ISTHMUS_SLOW_PATH_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
    const datachannel::ChatCounters& cc = chats_->counters();
#define ISTHMUS_X(field) dpif::stat_store(block_->counter[k++], cc.field);
    ISTHMUS_MSRP_CHAT_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
    const msrp::BridgeStats b = chats_->bridge_stats();
    dpif::stat_store(block_->counter[k++], b[msrp::BridgeCounter::RelayedToTcp]);
    dpif::stat_store(block_->counter[k++], b[msrp::BridgeCounter::RelayedToChannel]);
    dpif::stat_store(block_->counter[k++], service_.legs());
    dpif::stat_store(block_->counter[k++], service_.handshaking());
    dpif::stat_store(block_->counter[k++], chats_->chats());
}

void SlowPath::handle(unsigned worker, SlowMsg& m, uint64_t now_ns) {
    dtls::LegRef leg{m.session_id, m.side, static_cast<uint16_t>(worker), m.serial};
    switch (m.kind) {
        case SlowMsg::Kind::Open: {
            dtls::OpenParams p;
            p.leg = leg;
            p.generation = m.generation;
            p.role = m.active != 0 ? dtls::Role::Active : dtls::Role::Passive;
            std::memcpy(p.remote.data(), m.fingerprint, 32);
            p.app_data = m.datachannel != 0;
            p.srtp = m.srtp != 0;
            service_.open(p);
            // A re-made leg starts over: its old endpoint goes (an abort).
            if (const auto old = dc_.find(dc_key(m.session_id, m.side)); old != dc_.end()) {
                drop_endpoint(old->second);
                dc_.erase(old);
            }
            if (p.app_data) {
                DcLeg& d = dc_[dc_key(m.session_id, m.side)];
                d.ref = leg;
                d.spec = m.sctp;
                d.dtls_client = p.role == dtls::Role::Active;
            }
            return;
        }
        case SlowMsg::Kind::Close: {
            service_.close(leg);
            const auto it = dc_.find(dc_key(m.session_id, m.side));
            if (it != dc_.end() && it->second.ref == leg) {
                drop_endpoint(it->second);
                dc_.erase(it);
            }
            return;
        }
        case SlowMsg::Kind::Path:
            service_.set_path(leg, m.path, now_ns);
            return;
        case SlowMsg::Kind::Generation:
            service_.set_generation(leg, m.generation);
            return;
        case SlowMsg::Kind::Modes: {
            // The association stays; a data channel joined or left it.
            if (!service_.set_modes(leg, m.srtp != 0, m.datachannel != 0)) return;  // (counted)
            const uint64_t key = dc_key(m.session_id, m.side);
            const auto it = dc_.find(key);
            if (m.datachannel == 0) {
                if (it != dc_.end() && it->second.ref == leg) {
                    drop_endpoint(it->second);
                    dc_.erase(it);
                }
                return;
            }
            if (it != dc_.end() && it->second.ref == leg) return;  // it has one
            if (it != dc_.end()) {
                drop_endpoint(it->second);
                dc_.erase(it);
            }
            DcLeg& d = dc_[key];
            d.ref = leg;
            d.spec = m.sctp;
            d.dtls_client = m.active != 0;
            // Up already: the browser's SCTP comes now, on this association.
            if (service_.is_up(leg)) make_endpoint(key, d);
            return;
        }
        case SlowMsg::Kind::Datagram: {
            rte_mbuf* mb = m.mbuf;
            pkt::Frame f{};
            const uint8_t* data = mbuf_data(mb);
            if (pkt::parse_frame(data, rte_pktmbuf_data_len(mb), f) != pkt::Verdict::Udp) {
                ++counters_.not_parsed;
                rte_pktmbuf_free(mb);
                return;
            }
            // The reply path: back to the sender, from the address it wrote to.
            const pkt::UdpEgress path = pkt::reply_egress(data, f, setup_.ports[m.side & 1U].mac);
            service_.on_datagram(leg, path,
                                 std::span<const uint8_t>(data + f.payload_offset, f.payload_len),
                                 now_ns);
            rte_pktmbuf_free(mb);
            return;
        }
    }
}

bool SlowPath::send(const dtls::Outgoing& o) {
    const std::size_t side = o.leg.side & 1U;
    const WorkerPort& port = setup_.ports[side];
    if (!port.present) return false;
    rte_mbuf* m = rte_pktmbuf_alloc(setup_.pool);
    if (m == nullptr) return false;
    const std::size_t room = pkt::udp_header_room(o.path.family);
    if (o.datagram.size() + room > rte_pktmbuf_tailroom(m) + rte_pktmbuf_headroom(m) ||
        rte_pktmbuf_append(m, static_cast<uint16_t>(room + o.datagram.size())) == nullptr) {
        rte_pktmbuf_free(m);
        return false;
    }
    uint8_t* frame = mbuf_data(m);
    uint8_t* payload = frame + room;
    std::memcpy(payload, o.datagram.data(), o.datagram.size());
    const pkt::Checksums how = port.checksums == pkt::Checksums::Offload
                                   ? pkt::Checksums::Software  // no offload flags here: simple
                                   : port.checksums;
    if (pkt::write_udp_headers(payload, room, o.datagram.size(), o.path, how) != frame) {
        rte_pktmbuf_free(m);
        return false;
    }
    // Captured here whichever queue sends it (worker 0's leaves it alone).
    if (tap_.side_on(side) && (tap_.session() == 0 || tap_.session() == o.leg.session_id))
        [[unlikely]] {
        tap_.write(frame, rte_pktmbuf_pkt_len(m), rte_pktmbuf_data_len(m), side,
                   dpif::CaptureDir::Out, o.leg.session_id);
    }
    if (setup_.tx_queue[side] >= 0) {
        if (rte_eth_tx_burst(port.port, static_cast<uint16_t>(setup_.tx_queue[side]), &m, 1) == 1)
            return true;
    } else if (!setup_.workers.empty() && setup_.workers[0]->slow_tx[side].try_push(m)) {
        return true;
    }
    rte_pktmbuf_free(m);
    return false;
}

void SlowPath::deliver_keys() {
    std::size_t done = 0;
    for (; done < pending_keys_.size(); ++done) {
        KeyMsg& k = pending_keys_[done];
        Worker* w = k.worker < setup_.workers.size() ? setup_.workers[k.worker] : nullptr;
        if (w != nullptr && !w->from_slow.try_push(k)) break;  // full: the rest wait, in order
        explicit_bzero(&k, sizeof k);
    }
    pending_keys_.erase(pending_keys_.begin(),
                        pending_keys_.begin() + static_cast<std::ptrdiff_t>(done));
    counters_.keys_waiting = pending_keys_.size();
}

datachannel::DataChannelEndpoint* SlowPath::data_channel(uint64_t session_id, uint8_t side) {
    const auto it = dc_.find(dc_key(session_id, side));
    return it == dc_.end() ? nullptr : it->second.ep.get();
}

// DTLS up on a data channel's leg: its SCTP endpoint (our DTLS role picks
// the stream-id parity, RFC 8832 6); DTLS failed or closed: the endpoint
// goes; application data: to the endpoint, whose packets go back out
// through the leg's DTLS (into the service's outgoing datagrams).
void SlowPath::datachannel_events(uint64_t now_ns) {
    for (const dtls::ServiceEvent& e : service_.events()) {
        const auto it = dc_.find(dc_key(e.leg.session_id, e.leg.side));
        if (it == dc_.end() || !(it->second.ref == e.leg)) continue;
        DcLeg& d = it->second;
        if (e.kind != dtls::ServiceEvent::Kind::Up) {
            // Counted once: here only if its SCTP had not ended by itself
            // (on_state counted that).
            if (d.ep && d.ep->state() != datachannel::SctpState::Failed &&
                d.ep->state() != datachannel::SctpState::Closed) {
                ++counters_.dc_failed;
            }
            drop_endpoint(d);
            continue;
        }
        make_endpoint(it->first, d);
    }
    for (dtls::AppData& a : service_.app_data()) {
        const auto it = dc_.find(dc_key(a.leg.session_id, a.leg.side));
        if (it == dc_.end() || !(it->second.ref == a.leg) || !it->second.ep) {
            ++counters_.dc_no_leg;
            continue;
        }
        it->second.ep->receive_packet(a.data);
    }
    service_.app_data().clear();
    if (sctp_ != nullptr && !dc_.empty()) sctp_->tick(now_ns / 1000000);
}

// The SCTP endpoint of a data channel's leg whose DTLS is up: our DTLS role
// picks the stream-id parity (RFC 8832 6).
void SlowPath::make_endpoint(uint64_t key, DcLeg& d) {
    // Made once per association: a Modes message that found it up and the
    // Up event of the same poll both get here.
    if (d.ep) return;
    if (sctp_ == nullptr) {
        own_sctp_ = std::make_unique<datachannel::SctpStack>();
        sctp_ = own_sctp_.get();
    }
    datachannel::EndpointOptions o;
    o.dtls_client = d.dtls_client;
    o.sctp.local_port = d.spec.local_sctp_port != 0 ? d.spec.local_sctp_port : 5000;
    o.sctp.remote_port = d.spec.remote_sctp_port != 0 ? d.spec.remote_sctp_port : 5000;
    if (d.spec.max_message_size != 0) o.sctp.max_message_size = d.spec.max_message_size;
    o.sctp.peer_max_message_size =
        d.spec.peer_max_message_size != 0 ? d.spec.peer_max_message_size : 65536;
    const dtls::LegRef ref = d.ref;
    datachannel::EndpointCallbacks cb;
    cb.send_packet = [this, ref](std::span<const uint8_t> packet) {
        service_.send_app_data(ref, packet);
    };
    // The browser's MSRP channel (RFC 8873: protocol "MSRP", opened with
    // DCEP, or the stream the spec's a=dcmap names) carries the session's
    // chat; other channels' messages are counted.
    cb.on_open = [this, key](const datachannel::DataChannel& ch) {
        ++counters_.dc_channels;
        const auto leg = dc_.find(key);
        if (leg == dc_.end() || leg->second.msrp_channel >= 0 ||
            !is_msrp_protocol(ch.params.protocol))
            return;
        const auto spec = msrp_specs_.find(key >> 1);
        if (spec == msrp_specs_.end()) {
            ++counters_.msrp_no_spec;
            return;
        }
        if (spec->second.spec.channel_id != dpif::kMsrpAnyChannel &&
            spec->second.spec.channel_id != ch.id)
            return;  // the spec names another stream (a=dcmap)
        leg->second.msrp_channel = ch.id;
        chats_->channel_writable(key);  // what the UE sent so far
    };
    cb.on_message = [this, key](uint16_t id, datachannel::MessageKind kind,
                                std::span<const uint8_t> data) {
        ++counters_.dc_messages_in;
        const auto leg = dc_.find(key);
        if (leg == dc_.end() || leg->second.msrp_channel != id || !chats_->has(key)) {
            ++counters_.dc_unrouted;
            return;
        }
        leg->second.kind = kind;
        chats_->from_channel(key, data);
    };
    cb.on_close = [this, key](uint16_t id) {
        const auto leg = dc_.find(key);
        if (leg == dc_.end() || leg->second.msrp_channel != id) return;
        leg->second.msrp_channel = -1;
        chats_->channel_closed(key);
    };
    cb.on_writable = [this, key] { chats_->channel_writable(key); };
    cb.on_state = [this, key](datachannel::SctpState st) {
        if (st == datachannel::SctpState::Up) {
            chats_->channel_writable(key);  // a negotiated channel can send now
        } else if (st == datachannel::SctpState::Failed || st == datachannel::SctpState::Closed) {
            ++counters_.dc_failed;
        }
    };
    d.ep = std::make_unique<datachannel::DataChannelEndpoint>(*sctp_, o, std::move(cb));
    add_negotiated_chat(d);
    d.ep->connect();
    ++counters_.dc_legs_up;
}

void SlowPath::drop_endpoint(DcLeg& d) {
    // The browser's transport is gone: so is its chat.
    chats_->channel_closed(dc_key(d.ref.session_id, d.ref.side));
    d.msrp_channel = -1;
    d.ep.reset();
}

void SlowPath::add_negotiated_chat(DcLeg& d) {
    if (!d.ep || d.msrp_channel >= 0) return;
    const auto spec = msrp_specs_.find(d.ref.session_id);
    if (spec == msrp_specs_.end() || spec->second.spec.channel_id == dpif::kMsrpAnyChannel) return;
    datachannel::OpenMessage m;
    m.label = "msrp";
    m.protocol = "MSRP";
    const uint16_t id = spec->second.spec.channel_id;
    if (d.ep->add_negotiated(id, m) == datachannel::SendResult::Ok) d.msrp_channel = id;
}

bool SlowPath::start_chat(uint64_t session_id, const MsrpEntry& e, uint64_t now_ns) {
    const uint64_t key = dc_key(session_id, 0);
    // The channel is looked up at each use: the chat may start (and the UE
    // connect) before the browser's DTLS, SCTP and MSRP channel are up; what
    // the UE sends waits in the bridge (bounded) until then.
    datachannel::ChatChannel ch;
    ch.send = [this, key](std::span<const uint8_t> message) {
        const auto leg = dc_.find(key);
        if (leg == dc_.end() || !leg->second.ep || leg->second.msrp_channel < 0 ||
            leg->second.ep->state() != datachannel::SctpState::Up)
            return false;  // not yet: offered again when it is
        const datachannel::SendResult r = leg->second.ep->send(
            static_cast<uint16_t>(leg->second.msrp_channel), leg->second.kind, message);
        if (r == datachannel::SendResult::WouldBlock) return false;
        if (r != datachannel::SendResult::Ok) ++counters_.dc_send_errors;
        return true;
    };
    ch.close = [this, key] {
        const auto leg = dc_.find(key);
        if (leg == dc_.end() || leg->second.msrp_channel < 0) return;
        const auto id = static_cast<uint16_t>(leg->second.msrp_channel);
        leg->second.msrp_channel = -1;  // closing: no chat on it again
        if (leg->second.ep) leg->second.ep->close(id);
    };
    std::string why;
    if (!chats_->start(key, e.legs, e.spec, std::move(ch), now_ns, &why)) {
        ++counters_.msrp_bad_spec;
        return false;
    }
    if (const auto d = dc_.find(key); d != dc_.end()) add_negotiated_chat(d->second);
    return true;
}

// The command service's chat specs, in order: kept per session; a new spec
// starts its chat at once (its TCP side listens or connects before the
// browser's channel is up); a chat whose spec changed or went ends (its
// channel closes).
void SlowPath::msrp_ops(uint64_t now_ns) {
    MsrpOp op;
    while (msrp_inbox.try_pop(op)) {
        const uint64_t key = dc_key(op.session_id, 0);
        switch (op.kind) {
            case MsrpOp::Kind::Set: {
                auto legs = msrp::chat_legs(op.spec, op.access_local);
                if (!legs) {  // the service checked it: not expected
                    ++counters_.msrp_bad_spec;
                    break;
                }
                const auto old = msrp_specs_.find(op.session_id);
                const bool same = old != msrp_specs_.end() &&
                                  std::memcmp(&old->second.spec, &op.spec, sizeof op.spec) == 0;
                MsrpEntry& e = msrp_specs_[op.session_id];
                e = MsrpEntry{op.generation, op.spec, std::move(*legs)};
                if (same) break;
                // A new or changed chat: the old one (its TCP connection, its
                // channel) ends, the new one listens or connects at once.
                chats_->stop(key);
                start_chat(op.session_id, e, now_ns);
                break;
            }
            case MsrpOp::Kind::Clear:
                msrp_specs_.erase(op.session_id);
                chats_->stop(key);
                break;
            case MsrpOp::Kind::ReleaseOlder:
                for (auto it = msrp_specs_.begin(); it != msrp_specs_.end();) {
                    if (it->second.generation < op.generation) {
                        chats_->stop(dc_key(it->first, 0));
                        it = msrp_specs_.erase(it);
                    } else {
                        ++it;
                    }
                }
                break;
        }
        explicit_bzero(&op, sizeof op);
    }
}

void SlowPath::flush() {
    // Data channels first: their SCTP packets join the datagrams below.
    datachannel_events(last_now_ns_);
    // Keys first: the worker has them before the datagram that completes
    // the handshake (our Finished) can reach the peer and its media come back.
    for (dtls::KeyDelivery& kd : service_.keys()) {
        KeyMsg k{};
        k.session_id = kd.leg.session_id;
        k.serial = kd.leg.serial;
        k.side = kd.leg.side;
        k.worker = kd.leg.worker;
        k.install = kd.install ? 1 : 0;
        if (kd.install) {
            k.suite = static_cast<uint8_t>(kd.keys.profile.suite);
            k.key_len = kd.keys.key_len;
            k.salt_len = kd.keys.salt_len;
            std::memcpy(k.rx_key, kd.keys.remote_key, sizeof k.rx_key);
            std::memcpy(k.rx_salt, kd.keys.remote_salt, sizeof k.rx_salt);
            std::memcpy(k.tx_key, kd.keys.local_key, sizeof k.tx_key);
            std::memcpy(k.tx_salt, kd.keys.local_salt, sizeof k.tx_salt);
        }
        pending_keys_.push_back(k);
        explicit_bzero(&k, sizeof k);
        kd.keys.wipe();
    }
    service_.keys().clear();
    deliver_keys();
    for (const dtls::Outgoing& o : service_.outgoing()) {
        if (send(o))
            ++counters_.sent;
        else
            ++counters_.tx_full;
    }
    service_.outgoing().clear();
    for (const dtls::ServiceEvent& e : service_.events()) {
        dpif::Event ev{};
        ev.hdr.version = dpif::kAbiVersion;
        ev.hdr.type = e.kind == dtls::ServiceEvent::Kind::Up ? dpif::MsgType::DtlsUp
                                                             : dpif::MsgType::DtlsFailed;
        ev.hdr.session_id = e.leg.session_id;
        ev.hdr.generation = e.generation;
        ev.worker = e.leg.worker;
        std::snprintf(ev.detail, sizeof ev.detail, "%s %s", e.leg.side == 0 ? "access" : "core",
                      e.detail.c_str());
        if (!outbox.try_push(ev)) ++counters_.events_lost;
    }
    service_.events().clear();
}

unsigned SlowPath::poll(uint64_t now_ns) {
    unsigned work = 0;
    last_now_ns_ = now_ns;
    tap_.poll();
    if (!msrp_inbox.empty()) {
        try {
            msrp_ops(now_ns);
        } catch (const std::exception&) {
            ++counters_.internal_errors;
        }
    }
    if (!pending_keys_.empty()) deliver_keys();
    for (unsigned w = 0; w < setup_.workers.size(); ++w) {
        SlowMsg msgs[16];
        unsigned taken = 0;
        while (taken < setup_.msgs_per_worker) {
            const std::size_t want =
                std::min<std::size_t>(std::size(msgs), setup_.msgs_per_worker - taken);
            const std::size_t n = setup_.workers[w]->to_slow.pop_burst(std::span(msgs, want));
            if (n == 0) break;
            for (std::size_t i = 0; i < n; ++i) {
                // The lcore's loop never fails: a message whose handling
                // throws (memory) is dropped and counted.
                try {
                    handle(w, msgs[i], now_ns);
                } catch (const std::exception&) {
                    ++counters_.internal_errors;
                    if (msgs[i].kind == SlowMsg::Kind::Datagram) rte_pktmbuf_free(msgs[i].mbuf);
                }
            }
            taken += static_cast<unsigned>(n);
            try {
                flush();
            } catch (const std::exception&) {
                ++counters_.internal_errors;
            }
        }
        work += taken;
    }
    try {
        // The chats' sockets: their SCTP packets join the datagrams of flush().
        if (chats_->poll(now_ns) != 0) {
            ++work;
            flush();
        }
    } catch (const std::exception&) {
        ++counters_.internal_errors;
    }
    if (now_ns >= next_timer_ns_) {
        try {
            service_.poll_timers(now_ns);
            flush();
        } catch (const std::exception&) {
            ++counters_.internal_errors;
        }
        next_timer_ns_ = now_ns + kTimerPeriodNs;
    }
    if (now_ns >= next_publish_ns_) {
        publish();
        next_publish_ns_ = now_ns + kPublishPeriodNs;
    }
    return work;
}

int SlowPath::run(void* self) {
    auto* sp = static_cast<SlowPath*>(self);
    while (!sp->stop.load(std::memory_order_relaxed)) {
        if (sp->poll(monotonic_ns()) == 0) rte_delay_us_sleep(20);
    }
    sp->publish();
    return 0;
}

}  // namespace isthmus::dataplane
