// The WWSF's Prometheus metrics (docs/wwsf.md, "Metrics"): the collector
// that the exporter (a prometheus::Exposer serving /metrics, main.cpp) asks
// for its metric families at each scrape. Every family, its type, labels
// and meaning are listed in docs/wwsf.md; the core's counters (core.hpp,
// ISTHMUS_WWSF_COUNTER) map onto families in metrics.cpp, checked at
// compile time to cover each of them.
//
// Threads: the values live on the daemon's io_context thread (WwsfCore,
// HttpServer's counters); the Exposer's threads call Collect(). The daemon
// copies the values into a MetricsSnapshot on the io_context thread (at
// start and on its one-second timer, so a scrape sees values at most a
// second old) and hands it to update(). update() and Collect() take one
// mutex, held only to copy the snapshot (a flat struct of integers):
// update() neither allocates nor waits on anything but a scrape's copy.
//
//   auto metrics = std::make_shared<MetricsCollector>("0.1.0", unix_start);
//   exposer.RegisterCollectable(metrics);           // Collect() on its threads
//   metrics->update(snapshot);                      // io_context thread, every second
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "wwsf/core.hpp"

namespace isthmus::wwsf {

// The values a scrape reports, copied from the server and the core.
struct MetricsSnapshot {
    // HttpServer's ServerCounters (server.hpp).
    uint64_t connections_open = 0;
    uint64_t connections_total = 0;    // accepted
    uint64_t connections_refused = 0;  // over max_connections
    uint64_t tls_failed = 0;
    uint64_t tls_aborted = 0;
    uint64_t requests = 0;
    uint64_t refused_parse = 0;  // 400/413/431 written by the server
    uint64_t timeouts = 0;
    // WwsfCore.
    CoreStats core;
    uint64_t sessions = 0;          // live sessions (users' and guests')
    uint64_t logins_in_flight = 0;  // password checks outstanding
    uint64_t guests_leased = 0;
    uint64_t guests_free = 0;
    uint64_t guest_pool = 0;  // identities in the pool (leased + free)
    uint64_t users = 0;       // web users of the users file last loaded
};

// The metric families of `snapshot`, in a fixed order: isthmus_wwsf_build_info
// {version} (only when `version` is not empty), process_start_time_seconds
// (`start_time`, unix seconds), then the server's, the core's counters and
// the gauges. Pure; any thread.
std::vector<prometheus::MetricFamily> metric_families(const MetricsSnapshot& snapshot,
                                                      const std::string& version,
                                                      double start_time);

class MetricsCollector final : public prometheus::Collectable {
  public:
    // `version`: build_info's label ("" : no build_info); `start_time`: the
    // daemon's start, unix seconds.
    MetricsCollector(std::string version, double start_time);

    // Replaces the snapshot. Any thread (the daemon: its io_context).
    void update(const MetricsSnapshot& snapshot);
    // The last snapshot (a copy). Any thread.
    MetricsSnapshot snapshot() const;
    // metric_families() of the last snapshot. Any thread (the Exposer's).
    std::vector<prometheus::MetricFamily> Collect() const override;

  private:
    const std::string version_;
    const double start_time_;
    mutable std::mutex mutex_;
    MetricsSnapshot snapshot_;  // guarded by mutex_
};

}  // namespace isthmus::wwsf
