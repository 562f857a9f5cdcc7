// capacity-sockets' isthmus target: calls set up as sessions of a running
// isthmus-dataplane through its dpif region (SessionCreate / SessionDelete,
// as the IMS-ALG sends them), so that the same socket load as rtpengine's
// runs through our gateway (bench/capacity/isthmus.sh: the dataplane on
// af_packet over two veths, the tool in a namespace of its own).
//
// Call i: access leg on access_addr:port_base+2i (rtcp-mux, SDES both ways:
// what side A sends is SRTP under A's key, what the gateway sends A under
// a key of its own), remote = side A's socket, given (no ICE); core leg on
// core_addr:port_base+2i / +1 (plain RTP/RTCP), remote = side B's socket.
//
// The dataplane busy-polls, so its process CPU is always a core: what a
// packet costs is its workers' busy cycles (busy_cycles()).
//
// Bench code, main thread. setup/teardown throw or report as CallTarget says.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "socket_load.hpp"

namespace isthmus::dpif {
class Client;
}

namespace isthmus::bench::capacity {

class IsthmusTarget final : public CallTarget {
  public:
    // Attaches to the dataplane's dpif region; throws std::runtime_error
    // when none runs or another client holds it.
    IsthmusTarget(const std::string& region, in_addr access_addr, in_addr core_addr,
                  uint16_t port_base, SrtpSuite suite);
    ~IsthmusTarget() override;
    std::string name() const override { return "isthmus"; }
    void setup(std::span<CallPlan> calls) override;
    void teardown(std::span<const CallPlan> calls) override;

    // The workers' busy and total TSC cycles, summed over workers, from the
    // region's stats (nullopt when none publishes them).
    struct Cycles {
        uint64_t busy = 0, tsc = 0;
    };
    std::optional<Cycles> cycles() const;

  private:
    std::unique_ptr<dpif::Client> client_;
    in_addr access_, core_;
    uint16_t port_base_;
    SrtpSuite suite_;
    uint32_t set_up_ = 0;  // calls 0..set_up_-1 have a session
};

}  // namespace isthmus::bench::capacity
