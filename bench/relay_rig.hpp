// relay_bench's two ring ports and the mbufs its feeder fills, plus the
// bounds measured beside the relay (relay_bounds.cpp): io forwarding on the
// same ports and the SRTP engine alone. Bench code, one lcore; setup exits
// with a message on any failure.
#pragma once

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dpdk.hpp"
#include "relay_report.hpp"
#include "relay_traffic.hpp"
#include "session/session_table.hpp"

// After dpdk.hpp, whose pragmas cover the rte_ring.h it includes.
#include <rte_eth_ring.h>

namespace isthmus::bench {

using session::Side;

[[noreturn]] inline void die(const std::string& what) {
    std::fprintf(stderr, "relay_bench: %s\n", what.c_str());
    std::exit(1);
}

inline uint64_t ns_cycles(uint64_t cycles) {
    return cycles * 1000000000ULL / rte_get_tsc_hz();
}
inline double ns_per(uint64_t cycles, uint64_t packets) {
    return packets == 0 ? 0.0
                        : static_cast<double>(cycles) * 1e9 /
                              static_cast<double>(rte_get_tsc_hz()) / static_cast<double>(packets);
}

inline uint64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}
// The two ring ports and the mbufs the feeder writes frames into. Each
// port has `rx_queues` RX rings and `tx_queues` TX rings (queue q is ring
// q); `tag` keeps the names of several rigs in one process apart.
class Rig {
  public:
    static constexpr uint16_t kMaxQueues = 2;

    explicit Rig(uint32_t batch, uint16_t rx_queues = 1, uint16_t tx_queues = 1,
                 const std::string& tag = "", uint32_t extra_mbufs = 0)
        : batch_(batch), rxq_(rx_queues), txq_(tx_queues) {
        if (rx_queues == 0 || rx_queues > kMaxQueues || tx_queues == 0 || tx_queues > kMaxQueues) {
            die("at most " + std::to_string(kMaxQueues) + " queues per port");
        }
        const unsigned ring_size = rte_align32pow2(2 * batch);
        const auto mbufs = static_cast<unsigned>(4 * batch + 1023 + extra_mbufs);
        pool_ =
            rte_pktmbuf_pool_create(("relaybench" + tag).c_str(), mbufs, 256, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
        if (pool_ == nullptr) die(std::string("mbuf pool: ") + rte_strerror(rte_errno));
        const char* names[2] = {"access", "core"};
        for (std::size_t s = 0; s < 2; ++s) {
            const std::string n = names[s] + tag;
            for (uint16_t q = 0; q < rxq_; ++q)
                rx_[s][q] = make_ring(("rb_rx_" + n + std::to_string(q)).c_str(), ring_size);
            for (uint16_t q = 0; q < txq_; ++q)
                tx_[s][q] = make_ring(("rb_tx_" + n + std::to_string(q)).c_str(), ring_size);
            const int id = rte_eth_from_rings(("net_ring_" + n).c_str(), rx_[s], rxq_, tx_[s], txq_,
                                              rte_socket_id());
            if (id < 0) die("rte_eth_from_rings " + n + ": " + rte_strerror(rte_errno));
            port_[s] = static_cast<uint16_t>(id);
            start(port_[s], n);
            rte_ether_addr a{};
            rte_eth_macaddr_get(port_[s], &a);
            std::memcpy(mac_[s], a.addr_bytes, 6);
        }
    }
    ~Rig() {
        for (uint16_t p : port_) {
            rte_eth_dev_stop(p);
            rte_eth_dev_close(p);
        }
        for (auto& side : rx_)
            for (rte_ring* r : side)
                drain_free(r);
        for (auto& side : tx_)
            for (rte_ring* r : side)
                drain_free(r);
        rte_pktmbuf_free_bulk(stash_.data(), static_cast<unsigned>(stash_.size()));
        for (auto& side : rx_)
            for (rte_ring* r : side)
                rte_ring_free(r);
        for (auto& side : tx_)
            for (rte_ring* r : side)
                rte_ring_free(r);
        rte_mempool_free(pool_);
    }
    Rig(const Rig&) = delete;
    Rig& operator=(const Rig&) = delete;

    uint16_t port(Side s) const { return port_[static_cast<std::size_t>(s)]; }
    const uint8_t* mac(Side s) const { return mac_[static_cast<std::size_t>(s)]; }
    uint32_t batch() const { return batch_; }
    uint16_t rx_queues() const { return rxq_; }
    uint16_t tx_queues() const { return txq_; }

    // n mbufs for the feeder (reused ones first), reset to an empty frame.
    void take(uint32_t n, rte_mbuf** out) {
        if (stash_.size() < n) {
            const std::size_t old = stash_.size();
            stash_.resize(n);
            if (rte_pktmbuf_alloc_bulk(pool_, stash_.data() + old,
                                       static_cast<unsigned>(n - old)) != 0) {
                die("out of mbufs");
            }
        }
        for (uint32_t k = 0; k < n; ++k) {
            rte_mbuf* m = stash_[stash_.size() - n + k];
            m->data_off = RTE_PKTMBUF_HEADROOM;
            m->data_len = 0;
            m->pkt_len = 0;
            m->ol_flags = 0;
            out[k] = m;
        }
        stash_.resize(stash_.size() - n);
    }
    // Queues frames on a port's RX ring `queue` (room was made for a batch).
    void receive(Side s, rte_mbuf** m, uint32_t n, uint16_t queue = 0) {
        if (rte_ring_enqueue_bulk(ring(rx_, s, queue), reinterpret_cast<void* const*>(m), n,
                                  nullptr) != n) {
            die("RX ring full");
        }
    }
    // As receive(), but as a NIC whose RX ring is full: queues what fits
    // and returns how many; the caller frees or keeps the rest.
    uint32_t try_receive(Side s, rte_mbuf** m, uint32_t n, uint16_t queue = 0) {
        return rte_ring_enqueue_burst(ring(rx_, s, queue), reinterpret_cast<void* const*>(m), n,
                                      nullptr);
    }
    // Frames waiting on a port's RX ring `queue`.
    unsigned waiting(Side s, uint16_t queue = 0) const {
        return rte_ring_count(ring(rx_, s, queue));
    }
    // Takes what a port sent off its TX ring `queue`: calls f(mbuf) on each,
    // then keeps them for take(). Returns how many.
    template <class F>
    uint32_t sent(Side s, F&& f, uint16_t queue = 0) {
        rte_mbuf* m[256];
        uint32_t total = 0;
        rte_ring* r = ring(tx_, s, queue);
        for (;;) {
            const unsigned n = rte_ring_dequeue_burst(r, reinterpret_cast<void**>(m), 256, nullptr);
            if (n == 0) return total;
            for (unsigned k = 0; k < n; ++k) {
                f(m[k]);
                stash_.push_back(m[k]);
            }
            total += n;
        }
    }
    // Gives back mbufs the bench holds elsewhere (e.g. the worker's rings).
    void keep(rte_mbuf* m) { stash_.push_back(m); }

  private:
    using Rings = rte_ring* [2][kMaxQueues];
    static rte_ring* ring(const Rings& r, Side s, uint16_t queue) {
        rte_ring* p = queue < kMaxQueues ? r[static_cast<std::size_t>(s)][queue] : nullptr;
        if (p == nullptr) die("no queue " + std::to_string(queue));
        return p;
    }
    static rte_ring* make_ring(const char* name, unsigned size) {
        rte_ring* r = rte_ring_create(name, size, static_cast<int>(rte_socket_id()),
                                      RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (r == nullptr) die(std::string("ring ") + name + ": " + rte_strerror(rte_errno));
        return r;
    }
    void start(uint16_t id, const std::string& name) {
        rte_eth_conf conf{};
        const auto check = [&](int rc, const char* what) {
            if (rc != 0) die("port " + name + ": " + what + ": " + rte_strerror(-rc));
        };
        check(rte_eth_dev_configure(id, rxq_, txq_, &conf), "configure");
        const auto sock = static_cast<unsigned>(std::max(0, rte_eth_dev_socket_id(id)));
        for (uint16_t q = 0; q < rxq_; ++q)
            check(rte_eth_rx_queue_setup(id, q, 1024, sock, nullptr, pool_), "rx queue");
        for (uint16_t q = 0; q < txq_; ++q)
            check(rte_eth_tx_queue_setup(id, q, 1024, sock, nullptr), "tx queue");
        check(rte_eth_dev_start(id), "start");
    }
    static void drain_free(rte_ring* r) {
        if (r == nullptr) return;
        void* m = nullptr;
        while (rte_ring_dequeue(r, &m) == 0)
            rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }

    uint32_t batch_;
    uint16_t rxq_, txq_;
    rte_mempool* pool_ = nullptr;
    Rings rx_ = {};
    Rings tx_ = {};
    uint16_t port_[2] = {};
    uint8_t mac_[2][6] = {};
    std::vector<rte_mbuf*> stash_;
};

// ns/packet of io forwarding on the rig's ports: each pass rx_burst on both
// ports and tx_burst of what came to the other, as testpmd's io mode. Frames
// made by `fw`; `packets` timed after one warm-up batch.
double measure_io(Rig& rig, FrameWriter& fw, uint64_t packets);

// ns/packet of srtp::unprotect_rtp and protect_rtp, 172-octet packets in
// bursts of 32 on one context, the worker's engine settings (checks off).
// Only the transform call is timed (the copy of fresh packets is not).
EngineCost measure_engine(uint64_t packets);

}  // namespace isthmus::bench
