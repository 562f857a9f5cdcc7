// A worker lcore: polls the access and core ports' RX queue, relays what
// its sessions own (session/relay.hpp), hands the rest to the kernel's
// exception TAP, and applies the commands the main lcore hands it.
//
// Threads: everything in a Worker is touched only by its own lcore, except
// the rings (inbox, from_kernel: main -> worker; outbox, to_kernel: worker ->
// main; each single-producer/single-consumer) and the stats block the
// worker writes and any process reads. The loop never blocks, allocates or
// makes system calls; full rings and queues drop and count.
//
// Queues: worker k polls RX queue k of each port that has more than k RX
// queues (a single-queue port is polled by worker 0 alone) and sends on TX
// queue k. Every session belongs to one worker, named by its local UDP
// ports (session::owner_of); a frame received by another worker is handed
// to its owner through an SPSC mbuf ring (handoff_out -> the owner's
// handoff_in), so single-queue ports and RSS that knows nothing of owners
// both work. Where the port took rte_flow rules per owner (PortPair,
// rx_spread=flow) the hand-off stays idle (docs/dataplane.md).
//
// The exception TAPs are the main lcore's (net_tap makes a system call per
// burst): frames for the kernel go to it through `to_kernel`, and what the
// kernel (or the main lcore's neighbour resolution) sends comes back
// through `from_kernel[side]` to be sent on the worker's TX queue.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "capture_tap.hpp"
#include "dpdk.hpp"
#include "isthmus/dpif/capture.hpp"
#include "isthmus/dpif/messages.hpp"
#include "isthmus/dpif/spsc_ring.hpp"
#include "isthmus/dpif/stats.hpp"
#include "pkt/build.hpp"
#include "session/relay.hpp"
#include "session/session_table.hpp"
#include "slow_path_msgs.hpp"
#include "srtp/engine.hpp"

namespace isthmus::dataplane {

// Main lcore -> worker.
struct WorkerMsg {
    enum class Kind : uint32_t {
        Command,       // a dpif session command (create, update, delete, query)
        SetNextHop,    // session_id's leg `side` reaches its remote through `mac`
        ReleaseOlder,  // ResyncEnd: release sessions of generations < generation
    };
    Kind kind;
    uint8_t side;
    uint8_t mac[6];
    uint8_t family;    // SetNextHop: the remote the MAC is for
    uint8_t addr[16];  //   (applied only while the leg still sends there)
    uint64_t session_id;
    uint64_t generation;
    dpif::Command cmd;
};

// One side's port as the worker sees it.
struct WorkerPort {
    bool present = false;
    uint16_t port = 0;       // DPDK port id
    uint16_t rx_queues = 1;  // RX queues the port was set up with
    uint8_t mac[6] = {};
    // How headers sent on this port get their checksums (Offload: the port
    // was configured with IPv4 + UDP TX checksum offload).
    pkt::Checksums checksums = pkt::Checksums::Software;
};

inline constexpr unsigned kMaxWorkers = 16;
// Frames a worker holds for DTLS legs whose keys are on their way, and for
// how long: long enough for the slow path to get a lost last flight again
// (our first retransmission is 250 ms after it, docs/dataplane.md).
inline constexpr std::size_t kMaxHeldFrames = 256;
inline constexpr uint64_t kHoldForKeysMs = 1000;
inline constexpr std::size_t kMaxHeldPerSession = 64;
using MbufRing = dpif::SpscRing<rte_mbuf*, 1024>;

struct WorkerSetup {
    unsigned index = 0;     // this worker: RX and TX queue `index` of each port
    unsigned workers = 1;   // how many there are (1..kMaxWorkers)
    uint16_t tx_queue = 0;  // normally == index
    WorkerPort ports[2];    // by session::Side
    session::TableLimits limits;
    uint64_t publish_cycles = 0;    // TSC cycles between stats publications
    uint64_t media_timeout_ns = 0;  // Relay::set_idle_timeout (0: never)
    // The dpif region's capture area (isthmus-ctl capture); this worker
    // writes ring `index` of it. nullptr: no capture (unit rigs).
    dpif::CaptureArea* capture = nullptr;
};

class alignas(64) Worker {
  public:
    // Setup path: builds the engine and the session table (all memory).
    // Throws std::runtime_error / std::bad_alloc naming the cause.
    explicit Worker(const WorkerSetup& setup);

    // One pass: commands, one RX burst per port, relay, TX. Returns the
    // frames handled (0: idle).
    unsigned poll();
    // Runs poll() until stop is set (rte_eal_remote_launch entry point).
    static int run(void* self);
    std::atomic<bool> stop{false};

    // The stats block this worker writes: names once (describe, before the
    // loop starts), values every publish period from the loop.
    void describe(dpif::StatBlock* block);

    dpif::SpscRing<WorkerMsg, 1024> inbox;
    dpif::SpscRing<dpif::Event, 4096> outbox;
    MbufRing to_kernel;       // mbuf->port says which port it came in on
    MbufRing from_kernel[2];  // to send on the side's port
    // Hand-off: handoff_in[j] carries frames worker j received for this one;
    // handoff_out[k] points at worker k's handoff_in[index] (set up by the
    // main lcore before the loops start).
    MbufRing handoff_in[kMaxWorkers];
    MbufRing* handoff_out[kMaxWorkers] = {};
    // The slow path (DTLS, issue 5): legs, paths and datagrams to it; keys
    // from it; and, for a port without a TX queue of the slow path's own,
    // the frames it wants sent on this worker's queue (worker 0 only).
    SlowRing to_slow;
    KeyRing from_slow;
    MbufRing slow_tx[2];

    const session::SessionTable& table() const { return table_; }
    const session::RelayCounters& counters() const { return relay_.counters(); }
    // DTLS-SRTP keys the slow path delivered and a leg took.
    uint64_t dtls_keys_installed() const { return dtls_keys_installed_; }
    uint64_t events_dropped() const { return events_dropped_; }
    // The kernel's frames sent on the ports / dropped on a full TX queue
    // (read by the main lcore at exit only).
    uint64_t kernel_sent() const { return kernel_sent_; }
    uint64_t kernel_tx_full() const { return kernel_tx_full_; }
    // Frames still held for their DTLS leg's keys go back to the pool.
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

  private:
    void handle(const WorkerMsg& m);
    void answer(const dpif::Command& cmd, dpif::ResultCode rc, const std::string& detail);
    void info(const session::Session& s, const dpif::MsgHeader& hdr, dpif::ResultCode rc);
    void emit(const dpif::Event& ev);
    void report(std::span<const session::RelayEvent> events);
    void publish();
    void count_program_latency(uint64_t stamp_ns);
    void continue_listing();
    // A session's DTLS legs before a command (serial 0: none).
    struct DtlsBefore {
        uint32_t serial[2] = {0, 0};
        bool datachannel[2] = {false, false};
        bool srtp[2] = {false, false};
        uint64_t generation = 0;
    };
    // DTLS legs a command changed: Close for the serials that went, Open
    // for the new ones; Generation and Modes for an association kept.
    void tell_slow_path(uint64_t id, const DtlsBefore& before);
    void close_dtls(const session::Session& s);
    // Tells the slow path where the leg's peer is (and so whether it got it:
    // Session::Dtls::path_sent is const-cast; only this worker writes it).
    void send_path(session::Session& s, std::size_t side);
    void resend_paths(uint32_t max_slots);
    bool may_hold(uint32_t slot) const;
    template <class Take>
    void release_held(uint64_t now_tsc, Take&& take);
    void apply_keys();
    // Packet capture (capture_tap.hpp): the filtered session's local ports
    // (again each heartbeat while it is missing: it may come later).
    void resolve_capture_session();
    void capture_in(rte_mbuf* m, std::size_t side);

    WorkerSetup setup_;
    srtp::Engine engine_;
    session::SessionTable table_;
    session::Relay relay_;
    dpif::StatBlock* block_ = nullptr;
    uint64_t next_publish_ = 0;
    uint64_t events_dropped_ = 0;
    uint64_t kernel_sent_ = 0;
    uint64_t kernel_tx_full_ = 0;
    uint64_t handed_off_ = 0;
    uint64_t dtls_keys_installed_ = 0;
    // SRTP held until its DTLS leg's keys arrive (Action::HoldForKeys): a
    // few frames for a short while, given to the relay again once the leg
    // is keyed, dropped as not_keyed when the wait is over or no room is.
    static constexpr std::size_t kMaxHeld = kMaxHeldFrames;
    struct Held {
        rte_mbuf* m;
        uint64_t since;  // TSC
        uint32_t slot;
        session::Side side;
    };
    std::array<Held, kMaxHeld> held_{};
    std::size_t n_held_ = 0;
    bool keys_arrived_ = false;    // apply_keys installed some since the last look
    uint32_t path_cursor_ = 0;     // resend_paths' place in the table
    uint64_t hold_cycles_ = 0;     // how long a frame may wait (kHoldForKeysMs)
    uint64_t slow_msgs_lost_ = 0;  // Path messages that found the ring full
    // Created sessions whose command carried the control plane's stamp
    // (dpif Command::stamp_ns), by the time from it to installed here:
    // under 100 us, under 1 ms, 1 ms or more; and the largest (us).
    uint64_t program_lt_100us_ = 0;
    uint64_t program_lt_1ms_ = 0;
    uint64_t program_ge_1ms_ = 0;
    uint64_t program_max_us_ = 0;
    // Busy ratio (issue 10/12): TSC cycles spent in polls that did work,
    // against all cycles since the first poll (both published, so a reader
    // takes the ratio over its own interval).
    uint64_t first_tsc_ = 0;
    uint64_t busy_cycles_ = 0;
    // A query of every session or a release of older generations, walked a
    // bounded number of slots per poll.
    struct Listing {
        bool active = false;
        bool release = false;     // ReleaseOlder (else: SessionQuery of all)
        uint64_t generation = 0;  // release: sessions older than this go
        dpif::MsgHeader hdr{};    // query: the command's header, echoed
        uint32_t next_slot = 0;
    };
    Listing listing_;
    CaptureTap tap_;
};

}  // namespace isthmus::dataplane
