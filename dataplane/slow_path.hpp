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
#include <unordered_map>
#include <vector>

#include "control/command_service.hpp"
#include "datachannel/data_channel.hpp"
#include "datachannel/msrp_chats.hpp"
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
    // Messages taken from each worker's ring per poll(): a handshake step
    // costs ~0.1-0.4 ms, so a slow path sharing the main lcore takes few
    // (the command ring and heartbeat wait for it), one of its own more.
    unsigned msgs_per_worker = 64;
    // The dpif region's capture area: the frames sent on the slow path's own
    // TX queues are captured into its ring (dpif::kCaptureSlowPathRing).
    dpif::CaptureArea* capture = nullptr;
    // The SCTP stack of the data channels (issue 9), when the caller owns one
    // (tests); nullptr: the slow path makes its own on its lcore when the
    // first data channel's DTLS comes up (usrsctp's state belongs to the
    // thread that made it).
    datachannel::SctpStack* sctp = nullptr;
    // The chats' TCP sides and their bridges (docs/datachannel.md).
    datachannel::ChatOptions chats;
};

// X(name) of the slow path's own counters (beside the service's), published
// as "dtls_<name>".
#define ISTHMUS_SLOW_PATH_COUNTERS(X)                                               \
    X(sent)            /* datagrams sent */                                         \
    X(tx_full)         /* datagrams not sent: no mbuf, TX queue or ring full */     \
    X(keys_waiting)    /* key messages waiting for room in a worker's ring */       \
    X(events_lost)     /* events not reported: the outbox was full */               \
    X(not_parsed)      /* datagram frames that did not parse (not expected) */      \
    X(internal_errors) /* a message whose handling threw (memory): dropped */       \
    X(dc_legs_up)      /* data channels' DTLS up: an SCTP endpoint made */          \
    X(dc_failed)       /* data channels ended by their SCTP or DTLS (once each) */  \
    X(dc_channels)     /* data channels opened (DCEP, either side) */               \
    X(dc_messages_in)  /* data channel messages received */                         \
    X(dc_unrouted)     /* of which no chat took (not its MSRP channel, no spec) */  \
    X(dc_no_leg)       /* SCTP packets for a leg without an endpoint */             \
    X(dc_send_errors)  /* chat messages the channel refused (closed, too large) */  \
    X(msrp_no_spec)    /* MSRP channels opened for a session without a chat spec */ \
    X(msrp_bad_spec)   /* chat specs that could not start a chat (listen, bind) */

struct SlowPathCounters {
#define ISTHMUS_X(name) uint64_t name = 0;
    ISTHMUS_SLOW_PATH_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
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
    // The chats' specs from the command service (written by the main lcore,
    // in the order CommandService::take_msrp_ops gave them).
    dpif::SpscRing<MsrpOp, 256> msrp_inbox;

    const dtls::ServiceCounters& counters() const { return service_.counters(); }
    const SlowPathCounters& own_counters() const { return counters_; }

    // A data channel's endpoint, for tests (nullptr: none, or not up yet).
    datachannel::DataChannelEndpoint* data_channel(uint64_t session_id, uint8_t side);
    const datachannel::MsrpChats& chats() const { return *chats_; }
    // Chat specs held (sessions with MSRP).
    std::size_t msrp_specs() const { return msrp_specs_.size(); }

  private:
    // A data channel's leg: what its endpoint is made from once its DTLS
    // is up, and then the endpoint.
    struct DcLeg {
        dtls::LegRef ref;
        dpif::DataChannelSpec spec{};
        bool dtls_client = false;
        std::unique_ptr<datachannel::DataChannelEndpoint> ep;
        // The browser's MSRP channel (protocol "MSRP", or the spec's
        // negotiated stream): its stream id, -1 none; the kind of its last
        // message (the chat answers in the same).
        int msrp_channel = -1;
        datachannel::MessageKind kind = datachannel::MessageKind::Text;
    };
    struct MsrpEntry {
        uint64_t generation = 0;
        dpif::MsrpSpec spec{};
        msrp::ChatLegs legs;
    };
    static uint64_t dc_key(uint64_t session_id, uint8_t side) {
        return session_id << 1 | (side & 1U);
    }
    void datachannel_events(uint64_t now_ns);
    void msrp_ops(uint64_t now_ns);
    // Starts the session's chat (its TCP side at once; the channel joins
    // when the browser opens it). False: counted msrp_bad_spec.
    bool start_chat(uint64_t session_id, const MsrpEntry& e, uint64_t now_ns);
    // The spec names a stream (a=dcmap): the channel is made on the endpoint
    // without DCEP.
    void add_negotiated_chat(DcLeg& d);
    // The leg's endpoint goes (closed, failed, re-made): its chat ends first.
    void drop_endpoint(DcLeg& d);
    // Its endpoint, once its DTLS is up (`key`: dc_key of the leg).
    void make_endpoint(uint64_t key, DcLeg& d);
    void handle(unsigned worker, SlowMsg& m, uint64_t now_ns);
    void flush();
    bool send(const dtls::Outgoing& o);

    SlowPathSetup setup_;
    dtls::Context ctx_;
    dtls::Service service_;
    dpif::StatBlock* block_ = nullptr;
    uint64_t next_timer_ns_ = 0;
    uint64_t next_publish_ns_ = 0;
    SlowPathCounters counters_;
    CaptureTap tap_;
    std::unique_ptr<datachannel::SctpStack> own_sctp_;
    datachannel::SctpStack* sctp_ = nullptr;
    std::unordered_map<uint64_t, DcLeg> dc_;
    std::unordered_map<uint64_t, MsrpEntry> msrp_specs_;  // session id -> its chat
    std::unique_ptr<datachannel::MsrpChats> chats_;
    uint64_t last_now_ns_ = 0;  // poll()'s clock, for the SCTP stack's timers
    // Keys (or withdrawals) a worker's full ring did not take yet: delivered
    // first on the next poll, in order (never dropped: a lost install would
    // leave an up leg unkeyed, a lost withdrawal a closed one keyed).
    std::vector<KeyMsg> pending_keys_;
    void deliver_keys();
};

}  // namespace isthmus::dataplane
