// msrp_bench: MSRP messages per second through the slow path's chats
// (datachannel::MsrpChats, issue 9) on one thread, with real TCP sockets on
// the loopback (127.0.0.1 only).
//
//   build/bench/msrp_bench [--seconds 3] [--warmup 0.5] [--sizes 100,1024,16384]
//       [--chats 1,100] [--directions ue-to-channel,channel-to-ue] [--paths msrp,tcp]
//       [--pin CHAT_CPU,UE_CPU] [--json FILE]
//
// Two threads. The chat thread (main) is the slow-path lcore: one MsrpChats
// with the slow path's default ChatOptions and its kind of transaction ids
// (RAND_bytes, see random_transaction_id below), and the browser's
// end of every chat's data channel (a fake ChatChannel). It busy-polls, as
// the lcore does. The UE thread plays the IMS UEs: one TCP connection per
// chat, passive on our side (all chats on one listener, told apart by
// session-id; each UE binds its connection with a bodiless SEND first).
// On a 2-vCPU machine each thread has a core if nothing else runs.
//
//   ue-to-channel  the UEs write SENDs (body of --sizes octets, text) as
//                  fast as TCP takes them and read (count, discard) what the
//                  chat writes back (its 200s). The fake channel takes every
//                  message at once, checks it is a SEND and answers it with a
//                  200 through from_channel() after the poll, as the browser
//                  would (so the bridge's outstanding table is exercised);
//                  a SEND over the channel's 16384 octets is re-chunked by
//                  the bridge, and each piece is answered.
//   channel-to-ue  the chat thread calls from_channel() with the browser's
//                  SENDs, at most kBurst per loop in all (round robin over
//                  the chats, as messages come off the slow path's rings), to
//                  a chat only while it has fewer than kWindow relayed SENDs
//                  unanswered and fewer than kQueued octets waiting for TCP
//                  (the browser's own flow control, which the bench stands in
//                  for: MsrpChats never slows the channel down when TCP backs
//                  up, the bridge fails at max_queued_bytes); the UEs frame
//                  every SEND (msrp::StreamFramer), check its body and answer
//                  200 on TCP. The fake channel counts the bridge's 200s.
//
// The reference ("tcp" path), in the same run right after each MSRP case:
// the same octets over the same number of loopback connections without
// MSRP. ue-to-channel: the UEs write the same SENDs; the chat thread only
// reads them, with MsrpChats' pattern (epoll_wait with no timeout, recv
// into 16 KiB, at most 64 KiB per socket per poll) and discards them.
// channel-to-ue: the chat thread writes the browser's SENDs, one send() per
// message, kBurst per loop, and waits for EPOLLOUT when a socket is full;
// the UEs only read.
// No responses either way: the difference is what MSRP (parse, path
// rewrite, serialize, the 200s both ways and their syscalls) adds to the
// kernel's cost of moving the octets.
//
// Measured over --seconds after --warmup, for each row:
//   msgs/s           SENDs relayed per wall second (bridge counters
//                    RelayedToChannel / RelayedToTcp; for the reference,
//                    octets moved / the SEND's length)
//   MB/s             the originator's SEND octets per second (1 MB = 10^6)
//   chat CPU µs/msg  the chat thread's CPU time (CLOCK_THREAD_CPUTIME_ID:
//                    user + system; on the loopback the kernel runs the
//                    receiver's TCP processing in the sender's send()) per
//                    message
//   busy             the share of wall time in loop iterations that did
//                    work; "busy CPU µs/msg" is the CPU per message scaled
//                    by it: without the idle polls of a chat waiting for its
//                    peer (an estimate when the thread was preempted)
//   chat CPU, UE CPU each thread's CPU time per wall second (below 100%:
//                    preempted; the UE thread near 100%: the UEs may be the
//                    bound, not the chat)
//   longest loop     the longest loop iteration (one poll() and the work
//                    around it), wall clock: a preemption shows in it too
// The fake browser's own work (finding the tid, building its 200s) runs on
// the chat thread and is in its CPU time; the real slow path adds SCTP and
// DTLS per message, which are not here.
//
// Every row is checked: no chat ended, no bridge failure, no parse error,
// no unknown response, no eviction from the outstanding tables, no error
// response, every channel message a SEND or a 200 as expected, every body
// the UEs framed the one sent. A failure is printed and makes the exit
// status 1. Results and how to read them: docs/performance.md, "MSRP chats
// through the slow path".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "datachannel/msrp_chats.hpp"
#include "msrp/fields.hpp"
#include "msrp/parser.hpp"
#include "msrp/reply.hpp"
#include "msrp/serializer.hpp"
#include "msrp/spec.hpp"
#include "msrp/uri.hpp"

namespace {

namespace dc = isthmus::datachannel;
namespace dpif = isthmus::dpif;
namespace msrp = isthmus::msrp;
using msrp::BridgeCounter;

constexpr std::size_t kWindow = 128;         // channel-to-ue: relayed SENDs unanswered per chat
constexpr std::size_t kQueued = 256 * 1024;  // channel-to-ue: octets in a bridge for TCP
constexpr unsigned kBurst = 32;              // channel-to-ue: SENDs from the browser(s) per loop
constexpr std::size_t kReadChunk = 16384;    // the reference reads as MsrpChats does
constexpr std::size_t kReadBudget = 64 * 1024;
constexpr std::size_t kUeVisit = 256 * 1024;  // UE octets read or written per socket per visit

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "msrp_bench: %s\n", what.c_str());
    std::exit(1);
}

uint64_t clock_ns(clockid_t id) {
    timespec ts{};
    clock_gettime(id, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t now_ns() {
    return clock_ns(CLOCK_MONOTONIC);
}

// Transaction ids as dataplane/slow_path.cpp makes them (RAND_bytes, 16
// characters of a 64-letter alphabet), except that the first character is
// one of the 62 alphanumerics: RFC 4975 9, an ident starts with ALPHANUM.
std::string random_transaction_id() {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1) die("RAND_bytes failed");
    std::string id(sizeof r, 'x');
    for (std::size_t i = 0; i < sizeof r; ++i)
        id[i] = kAlphabet[r[i] & 63U];
    id[0] = kAlphabet[r[0] % 62U];
    return id;
}

dpif::IpEndpoint loopback(uint16_t port) {
    dpif::IpEndpoint e{};
    e.family = 4;
    e.port = port;
    const uint8_t a[4] = {127, 0, 0, 1};
    std::memcpy(e.addr, a, 4);
    return e;
}

sockaddr_in loopback_sa(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// A listening socket on 127.0.0.1 (port 0: any); its port in `port`.
int listen_loopback(uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback_sa(port);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd, 1024) != 0)
        die(std::string("listen on 127.0.0.1: ") + std::strerror(errno));
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}

int connect_loopback(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in a = loopback_sa(port);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
        die(std::string("connect to 127.0.0.1: ") + std::strerror(errno));
    return fd;
}

void write_all(int fd, const std::string& s) {
    if (::send(fd, s.data(), s.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(s.size()))
        die("a UE's first write");
}

// Text of `n` octets, no '-' (so never an end line).
std::string body_text(std::size_t n) {
    static constexpr char kWords[] = "the quick brown fox jumps over the lazy dog 0123456789 ";
    std::string b(n, ' ');
    for (std::size_t i = 0; i < n; ++i)
        b[i] = kWords[i % (sizeof kWords - 1)];
    return b;
}

std::string send_text(const std::string& tid, const std::string& to, const std::string& from,
                      const std::string& body) {
    std::string s = "MSRP " + tid + " SEND\r\nTo-Path: " + to + "\r\nFrom-Path: " + from +
                    "\r\nMessage-ID: m" + tid;
    if (body.empty()) return s + "\r\nByte-Range: 1-0/0\r\n-------" + tid + "$\r\n";
    return s + "\r\nByte-Range: 1-" + std::to_string(body.size()) + "/" +
           std::to_string(body.size()) + "\r\nContent-Type: text/plain\r\n\r\n" + body +
           "\r\n-------" + tid + "$\r\n";
}

// Fixed-width names: every chat's messages have the same length.
std::string numbered(const char* prefix, std::size_t i, std::size_t k = 0) {
    char b[64];
    std::snprintf(b, sizeof b, "%s%05zu%07zu", prefix, i, k);
    return b;
}

// ---------------------------------------------------------------- the UEs

enum class UeMode : uint8_t {
    WriteSends,      // ue-to-channel (both paths): write `stream` over and over, drain
    FrameAndAnswer,  // channel-to-ue, msrp: frame, check, answer 200
    Drain,           // channel-to-ue, tcp: read and discard
};

struct UeConn {
    int fd = -1;
    std::string stream;  // WriteSends: SENDs, written cyclically
    std::size_t at = 0;
    std::string body;  // FrameAndAnswer: what every SEND's body must be
    std::unique_ptr<msrp::StreamFramer> framer;
    std::string out;  // FrameAndAnswer: 200s not written yet
    std::size_t out_at = 0;
};

struct UeShared {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> errors{0};
    uint64_t framed = 0, responses = 0;  // FrameAndAnswer; read after join()
};

void ue_error(UeShared& sh, const std::string& what) {
    if (sh.errors.fetch_add(1) < 3) std::fprintf(stderr, "msrp_bench: UE: %s\n", what.c_str());
}

void ue_write(UeMode mode, UeConn& c, UeShared& sh) {
    std::size_t budget = kUeVisit;
    while (budget > 0) {
        const std::string& s = mode == UeMode::WriteSends ? c.stream : c.out;
        std::size_t& at = mode == UeMode::WriteSends ? c.at : c.out_at;
        if (at == s.size()) break;  // (WriteSends never: `at` wraps)
        const std::size_t len = std::min(budget, s.size() - at);
        const ssize_t n = ::send(c.fd, s.data() + at, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            if (!sh.stop) ue_error(sh, std::string("send: ") + std::strerror(errno));
            ::close(c.fd);
            c.fd = -1;
            return;
        }
        at += static_cast<std::size_t>(n);
        budget -= static_cast<std::size_t>(n);
        if (mode == UeMode::WriteSends && at == s.size()) at = 0;
    }
    if (mode == UeMode::FrameAndAnswer && c.out_at == c.out.size()) {
        c.out.clear();
        c.out_at = 0;
    }
}

void ue_read(UeMode mode, UeConn& c, UeShared& sh, std::vector<char>& buf,
             std::vector<msrp::Message>& framed) {
    std::size_t budget = kUeVisit;
    while (budget > 0) {
        const ssize_t n = ::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            if (!sh.stop) ue_error(sh, "the chat closed the connection");
            ::close(c.fd);
            c.fd = -1;
            return;
        }
        budget -= std::min(budget, static_cast<std::size_t>(n));
        if (mode != UeMode::FrameAndAnswer) continue;
        framed.clear();
        if (c.framer->feed({buf.data(), static_cast<std::size_t>(n)}, framed) !=
            msrp::ParseError::None)
            ue_error(sh, "framing: " + c.framer->reason());
        for (const msrp::Message& m : framed) {
            if (m.is_response() && m.status_code == 200) {
                ++sh.responses;  // the bind's
            } else if (m.is_send() && m.body == c.body) {
                ++sh.framed;
                c.out += msrp::serialize(msrp::make_response(m, msrp::status::kOk));
            } else {
                ue_error(sh, "unexpected message " + m.transaction_id);
            }
        }
    }
    if (mode == UeMode::FrameAndAnswer && !c.out.empty()) ue_write(mode, c, sh);
}

void run_ue(UeMode mode, std::vector<UeConn>& conns, UeShared& sh) {
    std::vector<pollfd> pfds(conns.size());
    std::vector<char> buf(65536);
    std::vector<msrp::Message> framed;
    while (!sh.stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < conns.size(); ++i) {
            const bool out = mode == UeMode::WriteSends || conns[i].out_at < conns[i].out.size();
            pfds[i] = pollfd{conns[i].fd, static_cast<short>(POLLIN | (out ? POLLOUT : 0)), 0};
        }
        if (::poll(pfds.data(), pfds.size(), 5) <= 0) continue;
        for (std::size_t i = 0; i < conns.size(); ++i) {
            UeConn& c = conns[i];
            if (c.fd < 0) continue;
            if ((pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
                ue_read(mode, c, sh, buf, framed);
            if (c.fd >= 0 && (pfds[i].revents & POLLOUT) != 0) ue_write(mode, c, sh);
        }
    }
}

// ------------------------------------------------------------ one case

enum class Dir : uint8_t { UeToChannel, ChannelToUe };

struct Case {
    Dir dir;
    std::size_t size;   // body octets
    std::size_t chats;  // concurrent chats
    bool msrp;          // false: the tcp reference
};

const char* dir_name(Dir d) {
    return d == Dir::UeToChannel ? "ue-to-channel" : "channel-to-ue";
}

struct Row {
    Case c{};
    std::size_t send_len = 0;  // octets of one SEND as its originator writes it
    double wall_s = 0, cpu_s = 0, busy_s = 0, ue_cpu_s = 0;
    double longest_ms = 0;      // the longest loop iteration (poll and its work), wall clock
    uint64_t messages = 0;      // SENDs relayed (reference: octets / send_len)
    uint64_t octets = 0;        // the originator's SEND octets moved
    uint64_t channel_msgs = 0;  // ue-to-channel, msrp: data channel messages (pieces)
    uint64_t errors = 0;
    double per_s() const { return static_cast<double>(messages) / wall_s; }
    double mb_s() const { return static_cast<double>(octets) / wall_s / 1e6; }
    double cpu_us() const { return cpu_s * 1e6 / static_cast<double>(messages); }
    // The part of it not spent polling idle sockets: CPU scaled by the busy
    // share of wall time (an estimate when the thread was preempted).
    double busy_cpu_us() const { return cpu_us() * busy_s / wall_s; }
};

struct Options {
    double seconds = 3, warmup = 0.5;
    std::vector<std::size_t> sizes{100, 1024, 16384}, chats{1, 100};
    std::vector<Dir> dirs{Dir::UeToChannel, Dir::ChannelToUe};
    bool msrp = true, tcp = true;
    int pin_chat = -1, pin_ue = -1;
    std::string json;
};

void pin(pthread_t t, int cpu) {
    if (cpu < 0) return;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(static_cast<std::size_t>(cpu), &s);
    if (pthread_setaffinity_np(t, sizeof s, &s) != 0)
        die("cannot pin to CPU " + std::to_string(cpu));
}

// Starts the UE thread; stops and joins it, with its CPU time, on finish().
class UeThread {
  public:
    UeThread(UeMode mode, std::vector<UeConn>& conns, UeShared& sh, int cpu)
        : sh_(sh), t_([mode, &conns, &sh] { run_ue(mode, conns, sh); }) {
        pthread_setname_np(t_.native_handle(), "msrp_bench_ue");  // for perf --sort comm
        pin(t_.native_handle(), cpu);
        if (pthread_getcpuclockid(t_.native_handle(), &clock_) != 0) die("pthread_getcpuclockid");
    }
    ~UeThread() { finish(); }
    uint64_t cpu_ns() const { return clock_ns(clock_); }
    void finish() {
        sh_.stop = true;
        if (t_.joinable()) t_.join();
    }

  private:
    UeShared& sh_;
    std::thread t_;
    clockid_t clock_{};
};

// The measured window of the chat thread's loop: warm-up, then snapshots.
struct Window {
    Window(const Options& o, const UeThread& ue)
        : ue_(ue),
          start_(now_ns() + static_cast<uint64_t>(o.warmup * 1e9)),
          end_(start_ + static_cast<uint64_t>(o.seconds * 1e9)) {}
    // After each loop iteration that started at `t` and did `work`; false
    // when the window is over. `at_start` runs once when it opens.
    template <class F>
    bool step(uint64_t t, uint64_t next, unsigned work, F at_start) {
        if (!open_ && next >= start_) {
            open_ = true;
            at_start();
            cpu0_ = clock_ns(CLOCK_THREAD_CPUTIME_ID);
            ue0_ = ue_.cpu_ns();
            wall0_ = now_ns();
            return true;
        }
        if (open_ && work != 0) busy_ += next - t;
        if (open_) longest_ = std::max(longest_, next - t);
        if (next < end_) return true;
        cpu_ = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0_;
        ue_cpu_ = ue_.cpu_ns() - ue0_;
        wall_ = now_ns() - wall0_;
        return false;
    }
    void into(Row& r) const {
        r.wall_s = static_cast<double>(wall_) * 1e-9;
        r.cpu_s = static_cast<double>(cpu_) * 1e-9;
        r.busy_s = static_cast<double>(busy_) * 1e-9;
        r.ue_cpu_s = static_cast<double>(ue_cpu_) * 1e-9;
        r.longest_ms = static_cast<double>(longest_) * 1e-6;
    }

  private:
    const UeThread& ue_;
    uint64_t start_, end_;
    bool open_ = false;
    uint64_t cpu0_ = 0, ue0_ = 0, wall0_ = 0, busy_ = 0, cpu_ = 0, ue_cpu_ = 0, wall_ = 0;
    uint64_t longest_ = 0;
};

// The browser's end of every chat's data channel.
struct FakeBrowser {
    bool answer = false;  // ue-to-channel: answer each SEND with a 200
    uint64_t sends = 0, oks = 0, other = 0;
    std::vector<std::pair<std::size_t, std::string>> answers;  // (chat, tid)
    std::string first_send;                                    // kept for a check

    dc::ChatChannel channel(std::size_t chat) {
        dc::ChatChannel ch;
        ch.send = [this, chat](std::span<const uint8_t> m) {
            const std::string_view s(reinterpret_cast<const char*>(m.data()), m.size());
            const std::size_t sp = s.find(' ', 5);
            if (!s.starts_with("MSRP ") || sp == std::string_view::npos) {
                ++other;
            } else if (s.substr(sp + 1).starts_with("SEND\r\n")) {
                ++sends;
                if (first_send.empty()) first_send = s;
                if (answer) answers.emplace_back(chat, s.substr(5, sp - 5));
            } else if (s.substr(sp + 1).starts_with("200 ")) {
                ++oks;
            } else {
                ++other;
            }
            return true;
        };
        ch.close = [this] { ++other; };
        return ch;
    }
};

struct ChatEnd {
    uint64_t key = 0;
    dpif::MsrpSpec spec{};
    msrp::ChatLegs legs;
    std::string tcp_self, channel_self, ue, browser;
};

ChatEnd make_chat(std::size_t i, uint16_t port) {
    ChatEnd c;
    c.key = i + 1;
    c.spec.setup = dpif::kMsrpPassive;
    c.spec.tcp_local = loopback(port);
    c.spec.channel_id = dpif::kMsrpAnyChannel;
    c.ue = "msrp://127.0.0.1:2855/" + numbered("ue", i) + ";tcp";
    c.browser = "msrp://" + numbered("br", i) + ".invalid:9/" + numbered("b", i) + ";dc";
    if (!msrp::set_spec_text(c.spec.session_id, sizeof c.spec.session_id, numbered("gw", i)) ||
        !msrp::set_spec_text(c.spec.browser_path, sizeof c.spec.browser_path, c.browser) ||
        !msrp::set_spec_text(c.spec.ue_path, sizeof c.spec.ue_path, c.ue))
        die("spec text");
    std::string why;
    auto legs = msrp::chat_legs(c.spec, loopback(40000), &why);
    if (!legs) die("chat_legs: " + why);
    c.legs = std::move(*legs);
    c.tcp_self = msrp::to_string(c.legs.tcp.self);
    c.channel_self = msrp::to_string(c.legs.channel.self);
    return c;
}

// `count` SENDs of UE i, concatenated.
std::string ue_sends(const ChatEnd& c, std::size_t i, const std::string& body, std::size_t count) {
    std::string s;
    for (std::size_t k = 0; k < count; ++k)
        s += send_text(numbered("u", i, k), c.tcp_self, c.ue, body);
    return s;
}

// SENDs per chat: distinct transaction ids, at least 64 KiB of them.
std::size_t sends_per_chat(std::size_t send_len) {
    return std::max<std::size_t>(8, (64 * 1024 + send_len - 1) / send_len);
}

void check(Row& r, bool ok, const std::string& what) {
    if (ok) return;
    ++r.errors;
    std::fprintf(stderr, "msrp_bench: %s %zu octets %zu chats %s: %s\n", dir_name(r.c.dir),
                 r.c.size, r.c.chats, r.c.msrp ? "msrp" : "tcp", what.c_str());
}

Row run_msrp(const Case& cs, const Options& o) {
    Row r;
    r.c = cs;
    const std::string body = body_text(cs.size);
    FakeBrowser browser;  // outlives the chats, whose channels call it
    dc::MsrpChats chats(dc::ChatOptions{}, random_transaction_id);
    browser.answer = cs.dir == Dir::UeToChannel;
    // A free port for the chats' listener (closed again: MsrpChats binds it).
    uint16_t port = 0;
    ::close(listen_loopback(port));
    std::vector<ChatEnd> ends;
    std::vector<UeConn> ues(cs.chats);
    std::vector<std::vector<std::string>> from_browser(cs.chats);
    for (std::size_t i = 0; i < cs.chats; ++i) {
        ends.push_back(make_chat(i, port));
        std::string why;
        if (!chats.start(ends[i].key, ends[i].legs, ends[i].spec, browser.channel(i), now_ns(),
                         &why))
            die("start: " + why);
    }
    r.send_len = send_text(numbered("x", 0),
                           cs.dir == Dir::UeToChannel ? ends[0].tcp_self : ends[0].channel_self,
                           cs.dir == Dir::UeToChannel ? ends[0].ue : ends[0].browser, body)
                     .size();
    const std::size_t per_chat = sends_per_chat(r.send_len);
    for (std::size_t i = 0; i < cs.chats; ++i) {
        UeConn& u = ues[i];
        u.fd = connect_loopback(port);
        write_all(u.fd, send_text(numbered("bind", i), ends[i].tcp_self, ends[i].ue, ""));
        u.framer = std::make_unique<msrp::StreamFramer>();
        u.body = body;
        if (cs.dir == Dir::UeToChannel) {
            u.stream = ue_sends(ends[i], i, body, per_chat);
        } else {
            for (std::size_t k = 0; k < per_chat; ++k)
                from_browser[i].push_back(
                    send_text(numbered("w", i, k), ends[i].channel_self, ends[i].browser, body));
        }
    }
    const uint64_t deadline = now_ns() + 5'000'000'000ULL;
    for (bool up = false; !up;) {
        chats.poll(now_ns());
        up = true;
        for (const ChatEnd& e : ends)
            up = up && chats.tcp_up(e.key);
        if (now_ns() > deadline) die("the UEs' connections were not matched in 5 s");
    }

    UeShared sh;
    const UeMode mode = cs.dir == Dir::UeToChannel ? UeMode::WriteSends : UeMode::FrameAndAnswer;
    UeThread ue(mode, ues, sh, o.pin_ue);
    Window w(o, ue);
    msrp::BridgeStats s0;
    uint64_t sends0 = 0;
    std::vector<std::size_t> next(cs.chats, 0);
    std::size_t rr = 0;
    std::vector<std::pair<std::size_t, std::string>> answers;
    std::string ok;
    for (uint64_t t = now_ns();;) {
        unsigned work = 0;
        if (cs.dir == Dir::ChannelToUe) {
            // Up to kBurst SENDs per loop, round robin over the chats with room.
            for (std::size_t tried = 0; tried < cs.chats && work < kBurst; ++tried) {
                const std::size_t i = rr++ % cs.chats;
                const msrp::Bridge* b = nullptr;
                while (work < kBurst && (b = chats.bridge(ends[i].key)) != nullptr &&
                       b->outstanding_to_tcp() < kWindow && b->tcp_queued_bytes() < kQueued) {
                    const std::string& m = from_browser[i][next[i]++ % per_chat];
                    chats.from_channel(ends[i].key,
                                       {reinterpret_cast<const uint8_t*>(m.data()), m.size()});
                    ++work;
                }
            }
        }
        work += chats.poll(t);
        if (!browser.answers.empty()) {
            answers.swap(browser.answers);
            for (const auto& [i, tid] : answers) {
                ok.assign("MSRP ").append(tid).append(" 200 OK\r\nTo-Path: ");
                ok.append(ends[i].channel_self).append("\r\nFrom-Path: ").append(ends[i].browser);
                ok.append("\r\n-------").append(tid).append("$\r\n");
                chats.from_channel(ends[i].key,
                                   {reinterpret_cast<const uint8_t*>(ok.data()), ok.size()});
            }
            work += static_cast<unsigned>(answers.size());
            answers.clear();
        }
        const uint64_t t2 = now_ns();
        if (!w.step(t, t2, work, [&] {
                s0 = chats.bridge_stats();
                sends0 = browser.sends;
            }))
            break;
        t = t2;
    }
    const msrp::BridgeStats s1 = chats.bridge_stats();
    ue.finish();
    w.into(r);
    const auto delta = [&](BridgeCounter c) { return s1[c] - s0[c]; };
    if (cs.dir == Dir::UeToChannel) {
        r.messages = delta(BridgeCounter::RelayedToChannel);
        r.channel_msgs = browser.sends - sends0;
    } else {
        r.messages = delta(BridgeCounter::RelayedToTcp);
    }
    r.octets = r.messages * r.send_len;

    check(r, chats.chats() == cs.chats && chats.counters().ended == 0,
          std::to_string(chats.counters().ended) + " chats ended");
    for (std::size_t f = 1; f < msrp::kBridgeFailureCount; ++f)
        check(r, s1.failures[f] == 0,
              std::to_string(s1.failures[f]) + " bridges failed: " +
                  std::string(msrp::bridge_failure_name(static_cast<msrp::BridgeFailure>(f))));
    for (BridgeCounter c : {BridgeCounter::TcpParseErrors, BridgeCounter::ChannelParseErrors,
                            BridgeCounter::UnknownResponsesDropped,
                            BridgeCounter::OutstandingEvicted, BridgeCounter::ErrorResponses,
                            BridgeCounter::SessionDoesNotExist, BridgeCounter::TooLarge})
        check(r, s1[c] == 0,
              std::string(msrp::bridge_counter_name(c)) + " = " + std::to_string(s1[c]));
    check(r, browser.other == 0, "the channel got something else than a SEND or a 200");
    check(r, sh.errors == 0, "the UEs saw errors");
    check(r, r.messages > 0, "nothing relayed");
    if (cs.dir == Dir::UeToChannel) {
        // The first relayed SEND, parsed: its body (or first piece's) is ours.
        const msrp::ParseResult p = msrp::parse_message(browser.first_send);
        check(r,
              p.ok() && p.message.is_send() && !p.message.body.empty() &&
                  body.starts_with(p.message.body),
              "the channel's first SEND is not the UE's");
        check(r, browser.oks == 0, "200s on the channel");
    } else {
        check(r, browser.oks == s1[BridgeCounter::ChannelInMessages],
              "not one 200 on the channel per SEND");
        check(r, sh.framed > 0 && sh.framed <= s1[BridgeCounter::RelayedToTcp],
              "the UEs framed " + std::to_string(sh.framed) + " SENDs");
        check(r, sh.responses == cs.chats, "not one 200 per UE's bind");
    }
    for (UeConn& u : ues)
        if (u.fd >= 0) ::close(u.fd);
    return r;
}

// The same octets over the same loopback path, without MSRP.
Row run_tcp(const Case& cs, const Options& o) {
    Row r;
    r.c = cs;
    const std::string body = body_text(cs.size);
    uint16_t port = 0;
    const int lfd = listen_loopback(port);
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    std::vector<UeConn> ues(cs.chats);
    std::vector<int> ours(cs.chats);
    std::vector<std::string> msgs(cs.chats);  // channel-to-ue: one SEND per chat
    for (std::size_t i = 0; i < cs.chats; ++i) {
        const ChatEnd e = make_chat(i, 40000);  // five digits, as the chats' ephemeral port
        ues[i].fd = connect_loopback(port);
        ours[i] = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (ours[i] < 0) die("accept");
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, ours[i], &ev);
        if (cs.dir == Dir::UeToChannel) {
            r.send_len = send_text(numbered("u", i), e.tcp_self, e.ue, body).size();
            ues[i].stream = ue_sends(e, i, body, sends_per_chat(r.send_len));
        } else {
            msgs[i] = send_text(numbered("w", i), e.channel_self, e.browser, body);
            r.send_len = msgs[i].size();
        }
    }
    ::close(lfd);

    UeShared sh;
    UeThread ue(cs.dir == Dir::UeToChannel ? UeMode::WriteSends : UeMode::Drain, ues, sh, o.pin_ue);
    Window w(o, ue);
    std::vector<std::size_t> at(cs.chats, 0);
    std::vector<bool> blocked(cs.chats, false);
    std::size_t rr = 0;
    std::vector<uint8_t> buf(kReadChunk);
    uint64_t octets = 0, octets0 = 0;
    epoll_event evs[64];
    for (uint64_t t = now_ns();;) {
        unsigned work = 0;
        if (cs.dir == Dir::ChannelToUe) {
            // One send() per SEND, up to kBurst per loop, round robin.
            for (std::size_t tried = 0; tried < cs.chats && work < kBurst; ++tried) {
                const std::size_t i = rr++ % cs.chats;
                while (work < kBurst && !blocked[i]) {
                    const std::string& m = msgs[i];
                    const ssize_t k = ::send(ours[i], m.data() + at[i], m.size() - at[i],
                                             MSG_DONTWAIT | MSG_NOSIGNAL);
                    if (k > 0) {
                        octets += static_cast<uint64_t>(k);
                        at[i] = (at[i] + static_cast<std::size_t>(k)) % m.size();
                        ++work;
                    } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        blocked[i] = true;
                        epoll_event ev{};
                        ev.events = EPOLLIN | EPOLLOUT;
                        ev.data.u64 = i;
                        epoll_ctl(ep, EPOLL_CTL_MOD, ours[i], &ev);
                    } else if (k < 0 && errno != EINTR) {
                        check(r, false, std::string("send: ") + std::strerror(errno));
                        blocked[i] = true;
                    }
                }
            }
        }
        const int n = epoll_wait(ep, evs, 64, 0);
        for (int e = 0; e < n; ++e) {
            const std::size_t i = evs[e].data.u64;
            ++work;
            if ((evs[e].events & EPOLLOUT) != 0 && blocked[i]) {
                blocked[i] = false;
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.u64 = i;
                epoll_ctl(ep, EPOLL_CTL_MOD, ours[i], &ev);
            }
            if ((evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) continue;
            for (std::size_t budget = kReadBudget; budget > 0;) {
                const ssize_t k =
                    ::recv(ours[i], buf.data(), std::min(buf.size(), budget), MSG_DONTWAIT);
                if (k < 0 && errno == EINTR) continue;
                if (k <= 0) {
                    if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                        check(r, false, "the UE closed its connection");
                    break;
                }
                octets += static_cast<uint64_t>(k);
                budget -= static_cast<std::size_t>(k);
            }
        }
        const uint64_t t2 = now_ns();
        if (!w.step(t, t2, work, [&] { octets0 = octets; })) break;
        t = t2;
    }
    const uint64_t moved = octets - octets0;
    ue.finish();
    w.into(r);
    r.octets = moved;
    r.messages = moved / r.send_len;
    check(r, sh.errors == 0, "the UEs saw errors");
    check(r, r.messages > 0, "nothing moved");
    for (std::size_t i = 0; i < cs.chats; ++i) {
        ::close(ours[i]);
        if (ues[i].fd >= 0) ::close(ues[i].fd);
    }
    ::close(ep);
    return r;
}

// ------------------------------------------------------------- report

// One result as `key=value ...` and as a JSON object (as dtls_bench).
struct Line {
    std::string text = "msrp_bench", json;
    Line& add(const char* key, const std::string& v) {
        text += std::string(" ") + key + "=" + v;
        json += (json.empty() ? "{\"" : ", \"") + std::string(key) + "\": \"" + v + "\"";
        return *this;
    }
    Line& add(const char* key, double v, int decimals = 0) {
        char b[32];
        std::snprintf(b, sizeof b, "%.*f", decimals, v);
        text += std::string(" ") + key + "=" + b;
        json += (json.empty() ? "{\"" : ", \"") + std::string(key) + "\": " + b;
        return *this;
    }
};

std::string loadavg() {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return a + " " + b + " " + c;
}

template <class T, class F>
std::vector<T> list_of(const std::string& s, F parse) {
    std::vector<T> v;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        v.push_back(parse(item));
    return v;
}

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: msrp_bench [--seconds S] [--warmup S] [--sizes N,N,..] [--chats N,N,..]\n"
                 "       [--directions ue-to-channel,channel-to-ue] [--paths msrp,tcp]\n"
                 "       [--pin CHAT_CPU,UE_CPU] [--json FILE]\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage();
        const std::string v = argv[++i];
        const auto size = [](const std::string& s) { return std::stoul(s); };
        if (a == "--seconds") {
            o.seconds = std::stod(v);
        } else if (a == "--warmup") {
            o.warmup = std::stod(v);
        } else if (a == "--sizes") {
            o.sizes = list_of<std::size_t>(v, size);
        } else if (a == "--chats") {
            o.chats = list_of<std::size_t>(v, size);
        } else if (a == "--directions") {
            o.dirs = list_of<Dir>(v, [](const std::string& s) {
                if (s != "ue-to-channel" && s != "channel-to-ue") usage();
                return s == "ue-to-channel" ? Dir::UeToChannel : Dir::ChannelToUe;
            });
        } else if (a == "--paths") {
            o.msrp = v.find("msrp") != std::string::npos;
            o.tcp = v.find("tcp") != std::string::npos;
        } else if (a == "--pin") {
            const auto cpus = list_of<int>(v, [](const std::string& s) { return std::stoi(s); });
            if (cpus.size() != 2) usage();
            o.pin_chat = cpus[0];
            o.pin_ue = cpus[1];
        } else if (a == "--json") {
            o.json = v;
        } else {
            usage();
        }
    }
    if (o.seconds <= 0 || o.warmup < 0 || (!o.msrp && !o.tcp)) usage();
    for (std::size_t n : o.sizes)
        if (n == 0 || n > 60000)
            die("--sizes: 1..60000 octets (the parser's body limit is 64 KiB)");
    for (std::size_t n : o.chats)
        if (n == 0 || n > 10000) die("--chats: 1..10000");
    pin(pthread_self(), o.pin_chat);

    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    std::printf(
        "msrp_bench: %ld CPUs online; the chat thread (measured) and the UE thread (the TCP "
        "peers)%s; %.1f s per row after %.1f s warm-up; load average at start %s\n\n",
        cpus,
        o.pin_chat >= 0
            ? (" pinned to CPUs " + std::to_string(o.pin_chat) + " and " + std::to_string(o.pin_ue))
                  .c_str()
            : " not pinned",
        o.seconds, o.warmup, loadavg().c_str());
    std::fflush(stdout);

    std::vector<Row> rows;
    for (Dir d : o.dirs)
        for (std::size_t n : o.chats)
            for (std::size_t size : o.sizes) {
                if (o.msrp) rows.push_back(run_msrp(Case{d, size, n, true}, o));
                if (o.tcp) rows.push_back(run_tcp(Case{d, size, n, false}, o));
            }

    std::printf(
        "| direction | body octets | SEND octets | chats | path | msgs/s | MB/s | chat CPU "
        "µs/msg | busy CPU µs/msg | chat CPU | busy | UE CPU | longest loop ms | channel "
        "msgs/SEND |\n|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::vector<Line> lines{Line()
                                .add("mode", "run")
                                .add("cpus", static_cast<double>(cpus))
                                .add("seconds", o.seconds, 2)
                                .add("warmup", o.warmup, 2)
                                .add("pinned", o.pin_chat >= 0 ? "yes" : "no")};
    uint64_t errors = 0;
    for (const Row& r : rows) {
        errors += r.errors;
        char per[16] = "";
        if (r.c.msrp && r.c.dir == Dir::UeToChannel)
            std::snprintf(per, sizeof per, "%.2f",
                          static_cast<double>(r.channel_msgs) / static_cast<double>(r.messages));
        std::printf(
            "| %s | %zu | %zu | %zu | %s | %.0f | %.1f | %.2f | %.2f | %.0f%% | %.0f%% | %.0f%% | "
            "%.1f | %s |\n",
            dir_name(r.c.dir), r.c.size, r.send_len, r.c.chats, r.c.msrp ? "msrp" : "tcp",
            r.per_s(), r.mb_s(), r.cpu_us(), r.busy_cpu_us(), 100 * r.cpu_s / r.wall_s,
            100 * r.busy_s / r.wall_s, 100 * r.ue_cpu_s / r.wall_s, r.longest_ms, per);
        lines.push_back(Line()
                            .add("mode", "row")
                            .add("direction", dir_name(r.c.dir))
                            .add("path", r.c.msrp ? "msrp" : "tcp")
                            .add("body", static_cast<double>(r.c.size))
                            .add("send_octets", static_cast<double>(r.send_len))
                            .add("chats", static_cast<double>(r.c.chats))
                            .add("msgs_per_s", r.per_s())
                            .add("mb_per_s", r.mb_s(), 1)
                            .add("chat_cpu_us_per_msg", r.cpu_us(), 3)
                            .add("busy_cpu_us_per_msg", r.busy_cpu_us(), 3)
                            .add("chat_cpu_share", r.cpu_s / r.wall_s, 3)
                            .add("busy_share", r.busy_s / r.wall_s, 3)
                            .add("ue_cpu_share", r.ue_cpu_s / r.wall_s, 3)
                            .add("longest_loop_ms", r.longest_ms, 2)
                            .add("messages", static_cast<double>(r.messages))
                            .add("errors", static_cast<double>(r.errors)));
    }
    // What MSRP costs the chat thread on top of the kernel's moving the octets.
    if (o.msrp && o.tcp) {
        std::printf(
            "\n| direction | body octets | chats | msrp busy CPU µs/msg | tcp busy CPU µs/msg | "
            "difference µs/msg | msrp / tcp | msrp msgs/s per core (10^6 / busy CPU) |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (std::size_t i = 0; i + 1 < rows.size(); i += 2) {
            const Row &m = rows[i], &t = rows[i + 1];
            std::printf("| %s | %zu | %zu | %.2f | %.2f | %.2f | %.1fx | %.0f |\n",
                        dir_name(m.c.dir), m.c.size, m.c.chats, m.busy_cpu_us(), t.busy_cpu_us(),
                        m.busy_cpu_us() - t.busy_cpu_us(), m.busy_cpu_us() / t.busy_cpu_us(),
                        1e6 / m.busy_cpu_us());
        }
    }
    std::printf("\nload average at end %s\n", loadavg().c_str());
    for (const Line& l : lines)
        std::printf("%s\n", l.text.c_str());
    if (!o.json.empty()) {
        std::ofstream f(o.json);
        for (std::size_t i = 0; i < lines.size(); ++i)
            f << (i == 0 ? "[\n  " : ",\n  ") << lines[i].json << "}";
        f << "\n]\n";
        if (!f) die("cannot write " + o.json);
    }
    if (errors != 0) {
        std::fprintf(stderr, "msrp_bench: %llu checks failed\n",
                     static_cast<unsigned long long>(errors));
        return 1;
    }
    return 0;
}
