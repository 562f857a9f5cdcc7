// The slow-path lcore (issue 5): the DTLS-SRTP handshakes of every DTLS leg
// (dtls/service.hpp) around the workers' rings. It takes legs, paths and
// DTLS datagrams from each worker's `to_slow` ring, gives keys back on the
// owning worker's `from_slow`, sends its datagrams on a TX queue of its own
// (or, on a port with no spare queue, through worker 0's `slow_tx` ring),
// and hands DtlsUp / DtlsFailed events to the main lcore (`outbox`).
//
// A DTLS flood costs the workers one ring push per datagram at most: the
// rings are bounded (full: dropped and counted by the worker), and the
// handshakes run here, on the slow path's own lcore (or the main lcore's
// when the EAL has no lcore to spare for it).
//
// Threads: poll()/run() on one lcore only; the rings are SPSC with each
// worker; the stats block is written here and read by anyone.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "dpdk.hpp"
#include "dtls/association.hpp"
#include "dtls/service.hpp"
#include "isthmus/dpif/messages.hpp"
#include "isthmus/dpif/spsc_ring.hpp"
#include "isthmus/dpif/stats.hpp"
#include "worker.hpp"

namespace isthmus::dataplane {

struct SlowPathSetup {
    std::vector<Worker*> workers;  // index = worker index
    WorkerPort ports[2];           // by session::Side
    // The TX queue the slow path sends on, per side; -1: the port has none
    // to spare, frames go through worker 0's slow_tx ring.
    int tx_queue[2] = {-1, -1};
    rte_mempool* pool = nullptr;
    dtls::ContextOptions dtls;
    dtls::ServiceLimits limits;
};

class SlowPath {
  public:
    // Throws std::runtime_error (OpenSSL context setup) naming the cause.
    SlowPath(const SlowPathSetup& setup, const dtls::Identity& identity);
    ~SlowPath();

    // One pass: worker rings (bounded), timers, output. Returns the work done.
    unsigned poll(uint64_t now_ns);
    static int run(void* self);
    std::atomic<bool> stop{false};

    void describe(dpif::StatBlock* block);
    void publish();

    // Events for the control plane (read by the main lcore).
    dpif::SpscRing<dpif::Event, 1024> outbox;

    const dtls::ServiceCounters& counters() const { return service_.counters(); }

  private:
    void handle(unsigned worker, SlowMsg& m, uint64_t now_ns);
    void flush();
    bool send(const dtls::Outgoing& o);

    SlowPathSetup setup_;
    dtls::Context ctx_;
    dtls::Service service_;
    dpif::StatBlock* block_ = nullptr;
    uint64_t next_timer_ns_ = 0;
    uint64_t next_publish_ns_ = 0;
    uint64_t sent_ = 0;
    uint64_t tx_full_ = 0;
    uint64_t keys_lost_ = 0;    // a worker's key ring full (the leg stays unkeyed)
    uint64_t events_lost_ = 0;  // outbox full
    uint64_t not_parsed_ = 0;   // a datagram frame that did not parse (not expected)
};

}  // namespace isthmus::dataplane
