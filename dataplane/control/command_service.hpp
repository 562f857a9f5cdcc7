// The dataplane's answers to dpif commands, as a sans-I/O state machine: a
// Command in, an Event out. The main lcore feeds it from the command ring and
// pushes what it returns onto the event ring.
//
// Generations (docs/dpif.md): ResyncBegin opens a control-plane generation
// that must be newer than the current one; afterwards commands of an older
// generation are refused (StaleGeneration) so a restarted control plane's
// predecessor cannot interfere. ResyncEnd closes the resync of the current
// generation. Sessions are not implemented yet: session commands get
// NotSupported.
//
// Thread-safety: one thread (the main lcore).
#pragma once

#include <cstdint>

#include "isthmus/dpif/messages.hpp"

namespace isthmus::dataplane {

class CommandService {
  public:
    dpif::Event handle(const dpif::Command& cmd);

    // The control-plane generation of the last ResyncBegin (0: none yet).
    uint64_t generation() const { return generation_; }
    bool resyncing() const { return resyncing_; }

  private:
    uint64_t generation_ = 0;
    bool resyncing_ = false;
};

}  // namespace isthmus::dataplane
