// bench/capacity over kernel UDP sockets: N calls, each a side A (the
// browser: SRTP, keys from SDES) and a side B (the IMS: plain RTP), each
// side a local UDP address:port that the tool binds and the gateway's
// address:port it sends to. Every call sends 20 ms G.711 (172-octet RTP)
// both ways at 50 packets/s per direction, call i at phase i * 20 ms / N of
// each period; the far side checks every packet it receives (SSRC, sequence,
// payload pattern, SRTP tag) and hands it to LoadStats (load_stats.hpp).
// SRTP is the tool's OpenSSL code (srtp_stream.hpp), checked against
// libsrtp2 before every run, or libsrtp2 itself (LoadOptions::libsrtp2).
//
// One socket per distinct local address:port. Usually that is one per side
// per call: the socket is connected to the gateway's port and sends with
// send(). Calls may also share a local port (all A sides on one, all B
// sides on another): the socket then stays unconnected, sends go out in
// batches with sendmmsg() (each datagram to its call's gateway port) and
// arrivals are told apart by SSRC (the send time of a batch is read once,
// before it: later datagrams of a batch carry the kernel's time for the
// ones before them as latency). Either way, arrivals are read with
// epoll + recvmmsg().
//
// Who the gateway is stays behind CallTarget: it gets the calls with the
// tool's local addresses and fills in where each side sends and the SRTP
// keys (rtpengine through its ng protocol, rtpengine_ng.hpp; DirectTarget
// below, the baseline without a gateway; an isthmus target later).
//
// Streams: stream = call * 2 + direction, direction 0 = A to B, 1 = B to A.
// SSRC = kSsrcBase + stream; sequence numbers start at 0 and are extended
// to 64 bits by the receiver for LoadStats. One-way latency runs from just
// before send()/sendmmsg() (CLOCK_MONOTONIC) to the kernel's receive
// timestamp of the datagram (SO_TIMESTAMPNS, taken as it was queued to the
// tool's socket), so the tool's own delay in reading its sockets is not
// counted against the gateway; how late the tool sends is its schedule lag.
//
// Bench code: one thread. SocketLoad allocates and opens sockets in its
// constructor; run() does not allocate on the packet path.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "load_stats.hpp"

namespace isthmus::bench::capacity {

// The two SDES suites of issue 12 (RFC 4568 / RFC 7714 names).
enum class SrtpSuite : uint8_t { aes_cm_128_hmac_sha1_80, aead_aes_128_gcm };

struct SrtpSuiteInfo {
    const char* option;        // "aes_cm_80", "aead_aes_128_gcm" (command lines, JSON)
    const char* sdes_name;     // "AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM" (a=crypto)
    std::size_t key_salt_len;  // master key + salt octets: 30 and 28
    std::size_t tag_len;       // RTP authentication tag octets: 10 and 16
};
const SrtpSuiteInfo& suite_info(SrtpSuite suite);
// The suite named by an option or an SDES name; nullopt when unknown.
std::optional<SrtpSuite> parse_suite(std::string_view name);

// One SDES master key and salt (key first, as in the inline: parameter).
struct SrtpKey {
    SrtpSuite suite = SrtpSuite::aes_cm_128_hmac_sha1_80;
    std::array<uint8_t, 30> key_salt{};  // the first suite_info(suite).key_salt_len octets
};
// A fresh random key (getrandom); throws std::runtime_error if the kernel
// gives no randomness.
SrtpKey random_key(SrtpSuite suite);

// One side of one call.
struct CallSide {
    sockaddr_in local{};   // the tool binds this (set by the caller)
    sockaddr_in remote{};  // the gateway's address:port for this side (set by the target)
    std::optional<SrtpKey> send_key;  // what this side sends is SRTP under this key
    std::optional<SrtpKey> recv_key;  // what arrives here is SRTP under this key
};
struct CallPlan {
    CallSide a;  // browser side
    CallSide b;  // IMS side
};

// Sets calls up on a gateway and tears them down. Bench code, main thread.
class CallTarget {
  public:
    virtual ~CallTarget() = default;
    // "rtpengine", "none (direct)", ...: for reports.
    virtual std::string name() const = 0;
    // Fills remote (and the keys) of both sides of every call; the locals
    // are set. Throws std::runtime_error naming the call and the cause;
    // calls set up before the failure are torn down by teardown() all the
    // same (it must cope with calls that were never set up).
    virtual void setup(std::span<CallPlan> calls) = 0;
    // Ends every call; does not throw (failures go to stderr).
    virtual void teardown(std::span<const CallPlan> calls) = 0;
};

// The baseline: A and B send to each other, no gateway. To keep the tool's
// work per packet what it is against a gateway, B sends SRTP under one key
// per call that A unprotects and checks; A sends plain RTP that B checks
// in the clear (one protect and one unprotect per call and period, as with
// a gateway).
class DirectTarget final : public CallTarget {
  public:
    explicit DirectTarget(SrtpSuite suite) : suite_(suite) {}
    std::string name() const override { return "none (A and B direct)"; }
    void setup(std::span<CallPlan> calls) override;
    void teardown(std::span<const CallPlan>) override {}

  private:
    SrtpSuite suite_;
};

// CPU seconds (utime + stime, all threads) of a process, from
// /proc/PID/stat; nullopt when it cannot be read (gone, no such pid).
std::optional<double> process_cpu_seconds(pid_t pid);

struct LoadOptions {
    double seconds = 10;               // measured sending time
    double warmup = 1;                 // sending before it: not in the figures
    double drain = 0.2;                // receiving after the last send
    uint32_t packets_per_second = 50;  // per direction per call (20 ms G.711)
    pid_t gateway_pid = 0;             // 0: no gateway CPU figures
    // SRTP on the packet path: libsrtp2 itself, else the tool's OpenSSL
    // code checked against libsrtp2 (srtp_stream.hpp says why).
    bool libsrtp2 = false;
};

struct LoadResult {
    uint32_t calls = 0;
    StreamTotals totals;
    LatencyHistogram latency;                  // one-way, ns, measured packets
    LatencyHistogram lag;                      // how late each send was against the schedule, ns
    double window_s = 0;                       // measured sending time, as it ran
    double tool_cpu_s = 0;                     // this process (getrusage), over the window + drain
    double tool_send_cpu_s = 0;                // over the sending window only (for utilisation)
    std::optional<double> gateway_cpu_s;       // over the window + drain
    std::optional<double> gateway_send_cpu_s;  // over the sending window only
    uint64_t send_errors = 0;                  // send() that did not take the packet (not offered)
    uint64_t srtp_errors = 0;                  // protect failures at the sender
    uint64_t bad_srtp = 0;                     // of totals.bad: srtp_unprotect failed
    uint64_t bad_rtp = 0;             // of totals.bad: length, header, SSRC or payload wrong
    uint64_t warmup_sent = 0;         // warmup packets sent (not in the figures)
    uint64_t warmup_received = 0;     // warmup packets that arrived (not in the figures)
    double machine_busy_s = 0;        // all CPUs' non-idle time (/proc/stat) over window + drain
    uint32_t sockets = 0;             // the tool's UDP sockets
    uint64_t kernel_timestamps = 0;   // arrivals timed by the kernel (SO_TIMESTAMPNS)
    uint64_t tool_socket_drops = 0;   // the tool's sockets' receive-queue drops (/proc/net/udp)
    uint64_t other_socket_drops = 0;  // every other UDP socket of the namespace (the gateway's)
};

// One load run over a set of calls already set up on the target.
class SocketLoad {
  public:
    // Opens and binds one socket per distinct local address:port (connected
    // when only one call side uses it) and makes the libsrtp2 sessions.
    // Throws std::runtime_error naming the call and side on failure.
    // srtp_init() must have been called.
    SocketLoad(std::span<const CallPlan> calls, const LoadOptions& options);
    ~SocketLoad();
    SocketLoad(const SocketLoad&) = delete;
    SocketLoad& operator=(const SocketLoad&) = delete;

    // Runs warmup + seconds of sending and the drain; once.
    LoadResult run();

  private:
    struct Socket;
    struct Side;
    struct RxStream;
    struct Scratch;
    void open(std::span<const CallPlan> calls);  // sockets and SRTP sessions
    void release();                              // closes and frees what open() made
    void send_pair(uint32_t call, uint64_t n, bool measured, uint64_t scheduled_ns);
    void send_one(uint32_t call, uint32_t direction, uint64_t n, bool measured);
    void flush(Socket& sock);
    void flush_all();
    void receive(uint32_t socket);
    void check(uint32_t socket, uint8_t* p, int len, uint64_t t);
    void read_socket_drops(LoadResult& r) const;

    LoadOptions options_;
    uint32_t calls_ = 0;
    uint64_t warmup_packets_ = 0;  // per stream: packets 0..warmup_packets_-1 are warmup
    std::vector<Socket> sockets_;
    std::vector<Side> sides_;        // call * 2 + side (0 = A, 1 = B)
    std::vector<RxStream> streams_;  // call * 2 + direction: the receiver's state
    std::vector<uint32_t> shared_;   // sockets with a send batch (unconnected)
    int epoll_fd_ = -1;
    int64_t realtime_offset_ns_ = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC at the start
    LoadStats stats_;
    LoadResult result_;
    std::unique_ptr<Scratch> scratch_;  // recvmmsg headers and buffers
};

inline constexpr uint32_t kSsrcBase = 0x1c0d0000;
inline constexpr std::size_t kRtpHeader = 12;
inline constexpr std::size_t kPayload = 160;  // 20 ms of G.711
inline constexpr std::size_t kRtpPacket = kRtpHeader + kPayload;

// The payload of packet `seq` of a call's direction (what the receiver
// expects): 160 octets derived from (call, direction, seq).
void fill_payload(uint8_t* payload, uint32_t call, uint32_t direction, uint16_t seq);

}  // namespace isthmus::bench::capacity
