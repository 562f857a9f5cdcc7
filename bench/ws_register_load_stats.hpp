// ws-register-load's measurements: per-thread counters and a latency
// histogram (merged once the threads are done), and the CPU time of this
// process and of the processes under test, read from /proc.
//
// Thread-safety: a LoadCounters belongs to one load thread until the run
// ends; ProcessCpu is used by the main thread only.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace isthmus::bench {

// Latencies in microseconds, log-linear: exact below 32 us, then 32 buckets
// per power of two (within 3.2%), up to 2^23 us (8.4 s; above goes into the
// last bucket).
class LatencyHistogram {
  public:
    static constexpr std::size_t kSubBits = 5;
    static constexpr std::size_t kSub = std::size_t{1} << kSubBits;
    static constexpr std::size_t kMaxExponent = 23;
    static constexpr std::size_t kBuckets = kSub + (kMaxExponent - kSubBits) * kSub;

    void record(std::chrono::nanoseconds latency) {
        const auto us = static_cast<uint64_t>(latency.count() < 0 ? 0 : latency.count() / 1000);
        ++buckets_[bucket(us)];
        ++count_;
    }
    void merge(const LatencyHistogram& other);
    uint64_t count() const { return count_; }
    // The latency below which a fraction q (0..1) of the samples lie, in
    // microseconds (the middle of its bucket); 0 when empty.
    double quantile(double q) const;

  private:
    static std::size_t bucket(uint64_t us);
    static double middle(std::size_t bucket);
    std::array<uint64_t, kBuckets> buckets_{};
    uint64_t count_ = 0;
};

// X(member, "json_key", "meaning")
#define ISTHMUS_LOAD_COUNTER(X)                                                                   \
    X(sent, "sent", "REGISTERs written in the window")                                            \
    X(provisional, "provisional", "1xx responses in the window (not transactions)")               \
    X(timeouts, "timeouts", "transactions not answered within 5 s, ended in the window")          \
    X(unmatched, "unmatched", "responses matching no REGISTER in flight (late, after a timeout)") \
    X(bad_responses, "bad_responses", "WebSocket messages that are not a response with CSeq")     \
    X(unanswerable, "unanswerable_challenges", "401/407 without a usable MD5 challenge")          \
    X(ws_closes, "ws_closes", "WebSocket connections that ended in the window")

// --mode call only (X as above).
#define ISTHMUS_CALL_COUNTER(X)                                                                \
    X(invites, "invites", "INVITEs sent in the window")                                        \
    X(calls, "calls", "calls whose BYE got a 2xx in the window")                               \
    X(bad_sdp, "bad_sdp",                                                                      \
      "2xx to INVITE whose SDP is not a WebRTC answer (ice-lite, SAVPF, candidate)")           \
    X(invite_timeouts, "invite_timeouts", "INVITEs without a final response within 5 s")       \
    X(bye_timeouts, "bye_timeouts", "BYEs without a final response within 5 s")                \
    X(acks_repeated, "acks_repeated", "2xx to INVITE seen again (retransmitted), ACKed again") \
    X(reregistered, "reregistered", "registrations refreshed (2xx) while calling")             \
    X(reregister_failed, "reregister_failed", "refreshes answered neither 2xx nor 401/407")    \
    X(retry_waits, "retry_waits",                                                              \
      "failed INVITEs whose Retry-After was waited out (--retry-after)")                       \
    X(byes_received, "byes_received", "calls ended by a BYE from the network (answered 200)")  \
    X(requests_refused, "requests_refused",                                                    \
      "requests from the network for no call here, or not a BYE (481, 405)")

// One load thread's counts. Counting happens only while the phase is
// Measure, except the setup counts, which cover the whole run.
struct alignas(64) LoadCounters {
#define ISTHMUS_X(member, key, doc) uint64_t member = 0;
    ISTHMUS_LOAD_COUNTER(ISTHMUS_X)
    ISTHMUS_CALL_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    // REGISTER: final responses by code. --mode call: responses to INVITE
    // by code, provisional ones included.
    std::array<uint64_t, 700> by_status{};
    LatencyHistogram latency;  // REGISTER: final responses; call: INVITE to its 2xx
    // --mode call: responses to BYE by code, and BYE to its final response.
    std::array<uint64_t, 700> bye_by_status{};
    LatencyHistogram teardown;
    // Setup, whole run.
    uint64_t connected = 0;       // WebSocket upgrades accepted with `sip`
    uint64_t connect_failed = 0;  // TCP, TLS or upgrade failed (or no `sip`)
    uint64_t registered = 0;      // connections that got their first 200
    uint64_t closed_total = 0;    // WebSocket connections that ended before stop()

    void merge(const LoadCounters& other);
    // Final responses in the window (every code).
    uint64_t transactions() const;
};

// CPU time (user + system) of a set of processes, from /proc/PID/stat
// (which counts all the process's threads, live and ended), and the sum of
// /proc/PID/task/*/stat over the live threads as a cross-check.
struct CpuTimes {
    double process_s = 0;       // utime + stime of the processes
    double threads_s = 0;       // summed over the live threads
    std::size_t processes = 0;  // how many were readable
};

// One --measure-pid target: NAME=PID[,PID...] or NAME=tree:PID (the process
// and all its descendants, as Kamailio's main process and its children).
class ProcessCpu {
  public:
    // Throws std::invalid_argument on a malformed spec.
    explicit ProcessCpu(const std::string& spec);
    const std::string& name() const { return name_; }
    // Resolves the tree (if any) once, at the first sample; the same pids
    // are read at the end, so a process that exits loses its time.
    CpuTimes sample();
    const std::vector<pid_t>& pids() const { return pids_; }

  private:
    std::string name_;
    std::vector<pid_t> pids_;
    pid_t tree_root_ = 0;  // tree:PID
    bool resolved_ = false;
};

// This process's user + system CPU seconds (getrusage RUSAGE_SELF).
double self_cpu_seconds();

// The whole machine's CPU time from /proc/stat's first line: busy (user,
// nice, system, irq, softirq, steal) and all (busy + idle + iowait), in
// seconds summed over the CPUs. Whether the processes under test had the
// machine to themselves: busy minus theirs is everyone else's, the
// kernel's softirq work included.
struct MachineCpu {
    double busy_s = 0;
    double total_s = 0;
    double softirq_s = 0;  // part of busy: loopback TCP/UDP receive work, mostly
};
MachineCpu machine_cpu();

}  // namespace isthmus::bench
