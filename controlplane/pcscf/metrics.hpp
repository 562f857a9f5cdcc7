// The eP-CSCF's Prometheus exporter (issue 10; docs/metrics.md lists every
// metric). isthmus-pcscf serves /metrics for itself and for the dataplane
// it programs (DESIGN.md: the dataplane's counters come through the dpif
// stats region; the dataplane links no HTTP server).
//
// Threads: the core and the dpif client live on the core's strand; the
// Exposer's threads call Collect(). The daemon copies what the core and the
// dataplane counted into a MetricsSnapshot on the strand once a second
// (set()); Collect() reads the latest copy under a mutex and the
// transports' counters (relaxed atomics) directly. Nothing here runs per
// message.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pcscf/core_stats.hpp"
#include "pcscf/lease_release.hpp"
#include "pcscf/media_alg.hpp"
#include "pcscf/registrar.hpp"
#include "pcscf/transport_common.hpp"
#include "sip/transaction_layer.hpp"

namespace isthmus::pcscf {

// One counter of the dataplane's stats region: block kind ("worker",
// "slow_path", "port"), block name ("worker0"), counter name, value.
struct DataplaneCounter {
    std::string kind;
    std::string block;
    std::string name;
    uint64_t value = 0;
};

struct MetricsSnapshot {
    // The core.
    CoreStats core;
    RegistrarStats registrar;
    sip::TransactionStats transactions;
    uint64_t flows = 0;
    uint64_t registrations = 0;
    uint64_t transactions_active = 0;
    uint64_t transactions_lingering = 0;
    uint64_t max_registrations = 0;
    // Admission (admission.hpp): originating INVITEs in setup, and their
    // bound (0: none).
    uint64_t invites_in_setup = 0;
    uint64_t max_invites_in_setup = 0;
    // The IMS-ALG (media enabled).
    bool media = false;
    MediaStats media_stats;
    uint64_t calls = 0;
    uint64_t max_calls = 0;
    uint64_t sessions = 0;  // the ALG's dataplane sessions (one per m= line)
    bool dataplane_attached = false;
    uint64_t command_backlog = 0;
    uint64_t commands_dropped = 0;
    // The dataplane's capacity: workers x sessions_per_worker ([dataplane]).
    uint64_t dataplane_workers = 0;
    uint64_t dataplane_sessions_capacity = 0;
    // What the dataplane publishes (empty when none is attached), and each
    // worker's busy share of its cycles over the last interval.
    std::vector<DataplaneCounter> dataplane;
    std::vector<std::pair<std::string, double>> busy_ratio;
    // Sessions the workers would carry at their present packets per
    // session before a core is saturated (sustainable_sessions()); none
    // while no worker is busy enough to extrapolate from.
    std::optional<double> sessions_sustainable;
    // The dpif region's rings (messages waiting now, and slots), commands
    // the dataplane could not parse, and packet capture (isthmus-ctl capture).
    uint64_t command_ring_depth = 0;
    uint64_t command_ring_slots = 0;
    uint64_t event_ring_depth = 0;
    uint64_t event_ring_slots = 0;
    uint64_t commands_unparsed = 0;
    bool capture_active = false;
    uint64_t capture_records_dropped = 0;
    // Guest leases given back to the WWSF (lease_release_url set).
    std::optional<LeaseReleaseStats> leases;
    uint64_t leases_pending = 0;
};

class PcscfCollector : public prometheus::Collectable {
  public:
    // `transports`: name ("ws", "wss", "udp", "tcp") -> its counters, which
    // must outlive the collector.
    explicit PcscfCollector(
        std::vector<std::pair<std::string, const TransportCounters*>> transports);

    // The latest snapshot (on the core's strand).
    void set(MetricsSnapshot s);
    std::vector<prometheus::MetricFamily> Collect() const override;

  private:
    std::vector<std::pair<std::string, const TransportCounters*>> transports_;
    mutable std::mutex mutex_;
    MetricsSnapshot snapshot_;
};

// Busy ratios from two readings of the dataplane's counters: for each
// worker block, (busy_cycles delta) / (tsc_cycles delta); a worker whose
// tsc_cycles did not move is left out.
std::vector<std::pair<std::string, double>> busy_ratios(const std::vector<DataplaneCounter>& before,
                                                        const std::vector<DataplaneCounter>& now);

// The workers' capacity at their present load (issue 12): a worker that
// holds S sessions and is busy a share B >= kMinBusyForCapacity of its
// cycles would carry S / B sessions of the same traffic before it is
// saturated, as its cycles grow with the packets it relays; workers below
// that share (idle, or too little load to tell) count as the mean of the
// others. nullopt when no worker qualifies. An estimate: at low load the
// worker relays in small bursts, which cost more per packet than the full
// bursts of a loaded one, so it errs low (bench/capacity measures the
// real limit; docs/performance.md, "Capacity").
inline constexpr double kMinBusyForCapacity = 0.02;
std::optional<double> sustainable_sessions(const std::vector<DataplaneCounter>& now,
                                           const std::vector<std::pair<std::string, double>>& busy);

}  // namespace isthmus::pcscf
