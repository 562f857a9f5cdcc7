#include "slow_path.hpp"

#include <time.h>

#include <cstdio>
#include <cstring>

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
constexpr unsigned kMsgsPerWorker = 64;             // per poll: a bounded share each

constexpr const char* kExtraNames[] = {"dtls_legs",    "dtls_handshaking", "dtls_sent",
                                       "dtls_tx_full", "dtls_keys_lost",   "dtls_events_lost"};

}  // namespace

SlowPath::SlowPath(const SlowPathSetup& setup, const dtls::Identity& identity)
    : setup_(setup), ctx_(identity, setup.dtls), service_(ctx_, setup.limits) {}

SlowPath::~SlowPath() {
    // Datagrams still queued go back to the pool.
    for (Worker* w : setup_.workers) {
        SlowMsg m{};
        while (w->to_slow.try_pop(m))
            if (m.kind == SlowMsg::Kind::Datagram && m.mbuf != nullptr) rte_pktmbuf_free(m.mbuf);
    }
}

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
    for (const char* n : kExtraNames)
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
    const uint64_t extra[] = {service_.legs(), service_.handshaking(), sent_, tx_full_, keys_lost_,
                              events_lost_};
    for (uint64_t v : extra)
        dpif::stat_store(block_->counter[k++], v);
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
            service_.open(p);
            return;
        }
        case SlowMsg::Kind::Close:
            service_.close(leg);
            return;
        case SlowMsg::Kind::Path:
            service_.set_path(leg, m.path, now_ns);
            return;
        case SlowMsg::Kind::Datagram: {
            rte_mbuf* mb = m.mbuf;
            pkt::Frame f{};
            const uint8_t* data = mbuf_data(mb);
            if (pkt::parse_frame(data, rte_pktmbuf_data_len(mb), f) != pkt::Verdict::Udp) {
                ++not_parsed_;
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
    if (setup_.tx_queue[side] >= 0) {
        if (rte_eth_tx_burst(port.port, static_cast<uint16_t>(setup_.tx_queue[side]), &m, 1) == 1)
            return true;
    } else if (!setup_.workers.empty() && setup_.workers[0]->slow_tx[side].try_push(m)) {
        return true;
    }
    rte_pktmbuf_free(m);
    return false;
}

void SlowPath::flush() {
    // Keys first: the worker has them before the datagram that completes
    // the handshake (our Finished) can reach the peer and its media come back.
    for (dtls::KeyDelivery& kd : service_.keys()) {
        KeyMsg k{};
        k.session_id = kd.leg.session_id;
        k.serial = kd.leg.serial;
        k.side = kd.leg.side;
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
        Worker* w = kd.leg.worker < setup_.workers.size() ? setup_.workers[kd.leg.worker] : nullptr;
        if (w == nullptr || !w->from_slow.try_push(k)) ++keys_lost_;
        explicit_bzero(&k, sizeof k);
        kd.keys.wipe();
    }
    service_.keys().clear();
    for (const dtls::Outgoing& o : service_.outgoing()) {
        if (send(o))
            ++sent_;
        else
            ++tx_full_;
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
        if (!outbox.try_push(ev)) ++events_lost_;
    }
    service_.events().clear();
}

unsigned SlowPath::poll(uint64_t now_ns) {
    unsigned work = 0;
    for (unsigned w = 0; w < setup_.workers.size(); ++w) {
        SlowMsg msgs[16];
        unsigned taken = 0;
        while (taken < kMsgsPerWorker) {
            const std::size_t n = setup_.workers[w]->to_slow.pop_burst(std::span(msgs));
            if (n == 0) break;
            for (std::size_t i = 0; i < n; ++i)
                handle(w, msgs[i], now_ns);
            taken += static_cast<unsigned>(n);
            flush();
        }
        work += taken;
    }
    if (now_ns >= next_timer_ns_) {
        service_.poll_timers(now_ns);
        flush();
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
