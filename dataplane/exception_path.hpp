// The first forwarding the dataplane does: between a DPDK port and its
// kernel TAP (exception port). Frames no flow owns (until sessions exist:
// every valid frame) go to the kernel, so the gateway's addresses answer
// ARP, ping and ND like a host's; what the kernel sends goes out the port.
// Malformed frames are dropped and counted by reason (pkt::Drop).
//
// Runs on the polling lcore that owns the port pair: no locks, no
// allocation, no system calls; a full TX queue drops and counts.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "dpdk.hpp"
#include "isthmus/dpif/stats.hpp"
#include "pkt/drop.hpp"

namespace isthmus::dataplane {

struct PortPairCounters {
    uint64_t rx = 0;                                // frames received on the port
    uint64_t to_kernel = 0;                         // handed to the exception port
    uint64_t from_kernel = 0;                       // sent on the port for the kernel
    uint64_t tx_full = 0;                           // dropped: a TX queue was full
    std::array<uint64_t, pkt::kDropCount> drops{};  // by pkt::Drop
};

class PortPair {
  public:
    // Sets up both devices (one RX and one TX queue each, mbufs from `pool`)
    // and starts them. Throws std::runtime_error naming the device and the
    // cause (setup path).
    PortPair(std::string name, const std::string& device, const std::string& exception,
             rte_mempool* pool);
    ~PortPair();
    PortPair(const PortPair&) = delete;
    PortPair& operator=(const PortPair&) = delete;

    // One polling pass over both directions; returns the frames moved.
    unsigned poll();

    const std::string& name() const { return name_; }
    uint16_t port_id() const { return port_; }
    const PortPairCounters& counters() const { return counters_; }

    // The dpif stats block of this pair: names once at start (describe),
    // values every heartbeat (publish), from the lcore that polls the pair.
    void describe(dpif::StatBlock& block) const;
    void publish(dpif::StatBlock& block) const;

  private:
    std::string name_;
    uint16_t port_ = 0;
    uint16_t exception_ = 0;
    PortPairCounters counters_;
};

}  // namespace isthmus::dataplane
