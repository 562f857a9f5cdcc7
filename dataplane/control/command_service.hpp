// The dataplane's answers to dpif commands, as a sans-I/O state machine: a
// Command in, a decision out — answer now, or hand the command to the worker
// that owns the session. The main lcore feeds it from the command ring,
// carries out the decision, and passes the workers' events back through
// on_worker_event() on their way to the event ring.
//
// Generations (docs/dpif.md): ResyncBegin opens a control-plane generation
// that must be newer than the current one; afterwards commands of an older
// generation are refused (StaleGeneration) so a restarted control plane's
// predecessor cannot interfere. ResyncEnd closes the resync of the current
// generation and makes every worker release the sessions of older ones.
//
// Ownership (issue 4): a session belongs to the worker its access leg's
// local RTP port names, worker = (port / 2) mod workers (an RTP/RTCP pair of
// ports shares a worker); the core leg's local ports must name the same
// worker (the control plane allocates them so; an update may not move a
// session to another worker). This service keeps the map session id ->
// worker so that update, delete and query find the owner.
//
// Resync: a SessionCreate for a live id, sent between ResyncBegin and
// ResyncEnd of a newer generation than the one that made it, is an adoption (the restarted control
// plane re-sends the calls it still has): it goes to the owner, which applies it as an update and
// moves the session into the new generation, so ResyncEnd keeps it.
//
// Thread-safety: one thread (the main lcore). It allocates (the id map), so
// it never runs on a worker.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "isthmus/dpif/messages.hpp"
#include "session/session_table.hpp"

namespace isthmus::dataplane {

// What the slow path's chats must learn of a command (issue 9): a data
// channel session's MSRP spec set (a create or update the worker took),
// cleared (a delete, an update without one), or every spec of a generation
// older than `generation` dropped (ResyncEnd). The main lcore moves them to
// the slow path in order (SlowPath::msrp_inbox).
struct MsrpOp {
    enum class Kind : uint8_t { Set, Clear, ReleaseOlder };
    Kind kind = Kind::Set;
    uint64_t session_id = 0;
    uint64_t generation = 0;
    dpif::IpEndpoint access_local{};  // Set: the access leg's local address (our channel URI)
    dpif::MsrpSpec spec{};            // Set
};

struct Routed {
    enum class To : uint8_t {
        Reply,       // push `reply` onto the event ring
        Worker,      // hand the command to `worker`
        AllWorkers,  // hand the command to every worker (query of all sessions)
    };
    To to = To::Reply;
    uint16_t worker = 0;
    dpif::Event reply{};
    // Non-zero: also tell every worker to release sessions of generations
    // older than this (ResyncEnd).
    uint64_t release_older = 0;
};

class CommandService {
  public:
    explicit CommandService(uint16_t workers = 1);

    Routed handle(const dpif::Command& cmd);

    // A worker's event on its way out. Keeps the id map right (a failed
    // create, a released session) and merges the per-worker Results of a
    // query of all sessions into one. Returns whether to forward `ev`.
    bool on_worker_event(const dpif::Event& ev);

    static uint16_t owner_of(uint16_t local_port, uint16_t workers) {
        return session::owner_of(local_port, workers);
    }

    // The control-plane generation of the last ResyncBegin (0: none yet).
    uint64_t generation() const { return generation_; }
    bool resyncing() const { return resyncing_; }
    // Whether a session id is live (created or being created) as far as
    // the service knows.
    bool knows(uint64_t session_id) const { return owner_.count(session_id) != 0; }
    std::size_t sessions() const { return owner_.size(); }
    uint16_t workers() const { return workers_; }

    // The MSRP ops made since the last call (moved out, in order).
    std::vector<MsrpOp> take_msrp_ops() { return std::exchange(msrp_ops_, {}); }
    bool has_msrp_ops() const { return !msrp_ops_.empty(); }

  private:
    uint16_t workers_;
    uint64_t generation_ = 0;
    bool resyncing_ = false;
    struct Owned {
        uint16_t worker;
        uint64_t generation;       // of the last create (or adoption) sent
        uint64_t create_seq;       // the create in flight, to tell its Result
        bool confirmed;            // the worker answered that create
        bool adopting;             // that create adopts a live session (resync)
        uint64_t prev_generation;  // adopting: the generation if it fails
    };
    std::unordered_map<uint64_t, Owned> owner_;  // session id -> its worker
    // Queries of all sessions still waiting for some workers:
    // (generation, seq) -> workers yet to answer.
    std::map<std::pair<uint64_t, uint64_t>, uint16_t> open_queries_;
    // Creates and updates at a worker whose MSRP op waits for their Result:
    // (generation, seq) -> the op, made only if the worker took the command.
    std::map<std::pair<uint64_t, uint64_t>, MsrpOp> awaiting_msrp_;
    std::vector<MsrpOp> msrp_ops_;
    std::unordered_set<uint64_t> with_msrp_;  // sessions whose spec the slow path holds
    // The MSRP op of a create or update (refusing a bad spec: false, `why`).
    bool msrp_op_of(const dpif::Command& cmd, std::string& why);

    // The worker all of `cmd`'s local ports name, or an error in `why`.
    bool one_owner(const dpif::Command& cmd, uint16_t& worker, std::string& why) const;
};

}  // namespace isthmus::dataplane
