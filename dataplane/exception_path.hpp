// A DPDK port and its kernel exception TAP. Frames no flow owns reach the
// kernel through the TAP, so the gateway's addresses answer ARP, ping and ND
// like a host's; what the kernel sends back comes out of the TAP and goes
// out of the port. The worker owns the port's queues; the main lcore owns
// the TAP (net_tap makes a system call per burst, kept off the worker):
// frames cross between them through the worker's mbuf rings.
//
// Threads: everything here runs on the main lcore.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "dpdk.hpp"
#include "isthmus/dpif/spsc_ring.hpp"
#include "isthmus/dpif/stats.hpp"

namespace isthmus::dataplane {

struct PortPairCounters {
    uint64_t to_kernel = 0;    // frames handed to the TAP
    uint64_t from_kernel = 0;  // frames of the kernel handed to the worker to send
    uint64_t kernel_full = 0;  // dropped: the TAP's queue or the worker's ring was full
};

using MbufRing = dpif::SpscRing<rte_mbuf*, 1024>;

// How a port's received frames are spread over its RX queues (one per
// worker where the device has them).
enum class RxSpread : uint8_t {
    OneQueue,  // a single RX queue: worker 0 polls it and hands off
    Rss,       // RSS on IP addresses and UDP ports
    Device,    // several queues, spread by the device itself (no RSS:
               // net_af_packet's PACKET_FANOUT)
    Flow,      // rte_flow rules send each worker's UDP ports to its queue
               // (RSS for the rest): no hand-off
};
constexpr const char* rx_spread_name(RxSpread s) {
    switch (s) {
        case RxSpread::Rss:
            return "rss";
        case RxSpread::Device:
            return "device";
        case RxSpread::Flow:
            return "flow";
        case RxSpread::OneQueue:
            break;
    }
    return "one_queue";
}

class PortPair {
  public:
    // Sets up both devices (mbufs from `pool`) and starts them. Throws
    // std::runtime_error naming the device and the cause (setup path).
    // `workers`: TX queues to set up (one per worker) and the most RX queues
    // to use (fewer when the device has fewer).
    // `tx_checksum_offload`: ask for IPv4 + UDP TX checksum offload where
    // the device has both (see tx_checksum_offload()).
    PortPair(std::string name, const std::string& device, const std::string& exception,
             rte_mempool* pool, uint16_t workers, bool tx_checksum_offload = false);
    ~PortPair();
    PortPair(const PortPair&) = delete;
    PortPair& operator=(const PortPair&) = delete;

    // Kernel -> port: one burst from the TAP onto the worker's ring for this
    // port. Returns the frames moved.
    unsigned poll_kernel(MbufRing& to_port);
    // Port -> kernel: frames the worker handed over, sent to the TAP (the
    // mbufs are consumed either way).
    void to_kernel(rte_mbuf** m, uint16_t n);
    // Queues one frame built by the main lcore (an ARP request, a Neighbour
    // Solicitation) for the worker to send. False when no mbuf or no room.
    bool send_frame(const uint8_t* frame, std::size_t len, rte_mempool* pool, MbufRing& to_port);

    const std::string& name() const { return name_; }
    uint16_t port_id() const { return port_; }
    uint16_t exception_id() const { return exception_; }
    uint16_t rx_queues() const { return rx_queues_; }
    RxSpread rx_spread() const { return rx_spread_; }
    // Why rte_flow steering is not in place (several queues, not Flow): the
    // device's or rte_flow's reason, one word; "" otherwise.
    const std::string& steering_note() const { return steering_note_; }
    // The slow path's own TX queue (index `workers`), or -1 where the device
    // had no queue to spare.
    int slow_tx_queue() const { return slow_tx_queue_; }
    // Whether the port was set up with IPv4 + UDP TX checksum offload.
    bool tx_checksum_offload() const { return tx_csum_offload_; }
    void mac(uint8_t out[6]) const;
    const PortPairCounters& counters() const { return counters_; }

    // The dpif stats block of this pair: names once at start (describe),
    // values every heartbeat (publish), from the main lcore: the kernel
    // direction's counters and the device's own (rte_eth_stats).
    void describe(dpif::StatBlock& block) const;
    void publish(dpif::StatBlock& block) const;

  private:
    std::string name_;
    uint16_t port_ = 0;
    uint16_t exception_ = 0;
    uint16_t rx_queues_ = 1;
    RxSpread rx_spread_ = RxSpread::OneQueue;
    std::string steering_note_;
    int slow_tx_queue_ = -1;
    bool tx_csum_offload_ = false;
    PortPairCounters counters_;
};

}  // namespace isthmus::dataplane
