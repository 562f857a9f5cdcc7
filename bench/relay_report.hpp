// relay_bench's results, the dpdk-testpmd runs beside them, and their
// report: a markdown table on stdout and a JSON file (docs/relay_bench.json).
// Bench code: allocates freely, never on a timed path.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "relay_traffic.hpp"

namespace isthmus::bench {

struct Options {
    std::vector<uint32_t> sessions = {1, 1000, 10000, 1000000};
    std::vector<Direction> directions = {Direction::SrtpToRtp, Direction::RtpToSrtp};
    uint64_t packets = 2000000;
    uint32_t batch = 4096;
    bool rx_csum_offload = false;
    unsigned cpu = 1;
    std::string testpmd = "/usr/bin/dpdk-testpmd";
    unsigned testpmd_seconds = 10;
    std::string json;
    bool handoff = false;          // --handoff: two workers, hand-off vs steering
    bool command_latency = false;  // --command-latency: create to first packet
    // --no-capture-area: the worker without a capture area (as before issue
    // 10's capture); by default it has one with no capture running, as the
    // dataplane's workers do (the hook's idle cost is in the figures).
    bool capture_area = true;
    // --police KBPS: every session's legs policed at that rate (issue 11;
    // high enough that nothing is dropped: the check's cost, not its
    // effect); 0: not policed, as before.
    uint32_t police_kbps = 0;
};

// ns/packet of the SRTP engine alone (bursts of 32, one context).
struct EngineCost {
    double unprotect_ns = 0;
    double protect_ns = 0;
};

// One dpdk-testpmd run in io forward mode on two vdevs.
struct TestpmdRun {
    std::string vdev;     // net_ring (two loopback ports, --tx-first) or net_null
    std::string command;  // what was run
    double mpps = 0;      // both ports' Rx-pps summed: packets forwarded per second, one core
    unsigned samples = 0;
    std::string error;  // empty when it ran and reported
};

struct SessionSetup {
    uint32_t sessions = 0;
    double worker_setup_s = 0;  // constructing the Worker (table memory)
    double table_mib = 0;       // SessionTable::memory_bytes()
    double create_ns = 0;       // per session: SessionCreate + 2 SetNextHop through the inbox
};

// One session count and direction.
struct RelayCase {
    uint32_t sessions = 0;
    Direction direction = Direction::SrtpToRtp;
    bool rx_csum_offload = false;
    uint64_t packets = 0;  // timed packets offered
    uint64_t worker_cycles = 0;
    uint64_t feeder_cycles = 0;
    uint64_t worker_cpu_ns = 0;    // thread CPU time in the timed loops (< TSC time: preempted)
    std::vector<double> batch_ns;  // worker ns/packet of each timed batch
    uint64_t rx = 0;               // worker's rx counter, arrival side
    uint64_t relayed = 0;          // worker's relayed counter, arrival side
    uint64_t sent = 0;             // frames found on the other port's TX ring
    uint64_t dropped = 0;          // any drop reason
    uint64_t to_kernel = 0;        // handed to the exception path
    uint64_t wrong_port = 0;
    std::string drops;  // "reason=n,..." when dropped
    std::string check;  // "ok" or what was wrong with the first frame sent

    bool ok() const {
        return rx == packets && relayed == packets && sent == packets && dropped == 0 &&
               to_kernel == 0 && wrong_port == 0 && check == "ok";
    }
};

// --handoff: one case, its repetitions summed (relay_handoff.cpp).
struct HandoffCase {
    std::string name;  // "1 worker", "a" .. "d"
    std::string what;  // what it is
    unsigned workers = 1;
    uint16_t rx_queues = 1;  // per port; TX queues: one per worker
    uint32_t sessions = 0;
    uint32_t on_worker1 = 0;          // sessions worker 1 owns
    uint64_t packets = 0;             // timed, all repetitions
    uint32_t chunk = 0;               // frames fed (arrival order) before each pass; 0: the batch
    std::vector<double> rep_ns;       // ns/pkt in both workers' poll(), each repetition
    std::vector<double> rep_busy_ns;  // the same, polls that handled nothing left out
    uint64_t cycles = 0;              // the timed poll loops (both workers, one thread)
    uint64_t worker_cycles[2] = {};   // in each worker's poll()
    uint64_t idle_cycles[2] = {};     // in polls that handled and handed off nothing
    uint64_t polls[2] = {}, busy_polls[2] = {};
    uint64_t zero_return_handoffs = 0;  // worker 0's polls that handed off yet returned 0
    uint64_t cpu_ns = 0;                // thread CPU time in the timed loops
    uint64_t relayed[2] = {};           // by worker (relayed_packets, access side)
    uint64_t expected[2] = {};          // packets fed for that worker's sessions
    uint64_t handed_off[2] = {};        // by worker ("handed_off" counter)
    uint64_t expected_handed_off = 0;   // by worker 0: packets of worker 1's sessions
    uint64_t sent[2] = {};              // frames on the core port's TX queue k
    uint64_t dropped = 0, to_kernel = 0, wrong_port = 0;
    std::string drops;
    std::string check;  // "ok", or what was wrong with the first bad frame

    bool ok() const {
        return relayed[0] == expected[0] && relayed[1] == expected[1] && sent[0] == expected[0] &&
               sent[1] == expected[1] && handed_off[0] == expected_handed_off &&
               handed_off[1] == 0 && dropped == 0 && to_kernel == 0 && wrong_port == 0 &&
               check == "ok";
    }
};

// --command-latency: one way of creating sessions (relay_latency.cpp).
struct LatencyCase {
    std::string mode;  // "idle", "busy", "busy, late"
    std::string what;
    uint32_t background = 0;       // sessions whose frames fill every poll
    std::vector<double> us;        // each create's time to its first packet out
    std::vector<double> burst_us;  // a poll of 32 background frames alone
    uint64_t polls = 0;            // polls taken, all sessions (from the create on)
    uint32_t max_polls = 0;
    uint64_t failed = 0;  // creates answered other than ok, packets not seen
    std::string check;    // "ok" or the first thing wrong
    bool ok() const { return failed == 0 && check == "ok"; }
};

struct Results {
    Options options;
    std::string command;  // the bench's own command line
    std::string commit;
    std::string load_before, load_after;  // /proc/loadavg
    uint64_t tsc_hz = 0;
    double io_ns = 0;
    EngineCost engine;
    std::vector<TestpmdRun> testpmd;
    std::string testpmd_note;  // why it did not run
    std::vector<SessionSetup> setups;
    std::vector<RelayCase> cases;
    std::vector<HandoffCase> handoff;
    std::vector<LatencyCase> latency;
};

// Runs dpdk-testpmd (o.testpmd) in io mode on two `vdev` ports ("net_ring"
// or "net_null") for o.testpmd_seconds, main lcore on the other CPU and the
// forwarding lcore on o.cpu; the median of its per-second figures after the
// first.
TestpmdRun run_testpmd(const Options& o, const std::string& vdev);

// `git describe --always --dirty` of the source tree, or "unknown".
std::string source_commit();
// The first line of /proc/loadavg.
std::string load_average();

void print_report(std::FILE* out, const Results& r);
// Throws std::runtime_error when the file cannot be written.
void write_json(const std::string& path, const Results& r);

}  // namespace isthmus::bench
