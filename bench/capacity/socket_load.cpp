// The load engine over kernel UDP sockets (see the header).
#include "socket_load.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <srtp2/srtp.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "srtp_stream.hpp"

namespace isthmus::bench::capacity {

namespace {

constexpr std::array<SrtpSuiteInfo, 2> kSuites = {{
    {"aes_cm_80", "AES_CM_128_HMAC_SHA1_80", 30, 10},
    {"aead_aes_128_gcm", "AEAD_AES_128_GCM", 28, 16},
}};

constexpr unsigned kRxBurst = 32;       // recvmmsg per ready socket
constexpr unsigned kRxSlot = 2048;      // octets per received datagram (a larger one is bad)
constexpr unsigned kTxBatch = 64;       // sendmmsg per shared socket
constexpr unsigned kTxSlot = 256;       // an RTP packet, its SRTP tag and slack
constexpr unsigned kEvents = 512;       // epoll events per wait
constexpr unsigned kMaxSendBurst = 64;  // call periods sent before the receive side is polled
constexpr int kSharedSocketBuffer = 16 << 20;  // SO_RCVBUF of a socket many calls share

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Non-idle seconds of all CPUs (user, nice, system, irq, softirq, steal).
double machine_busy_seconds() {
    std::ifstream f("/proc/stat");
    std::string cpu;
    uint64_t v[8] = {};
    f >> cpu;
    for (uint64_t& x : v)
        f >> x;
    const uint64_t busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double rusage_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string endpoint_text(const sockaddr_in& a) {
    char ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port));
}

// splitmix64's finaliser.
uint64_t mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}
uint16_t get16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
uint32_t get32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

const SrtpSuiteInfo& suite_info(SrtpSuite suite) {
    return kSuites[static_cast<std::size_t>(suite)];
}

std::optional<SrtpSuite> parse_suite(std::string_view name) {
    for (std::size_t i = 0; i < kSuites.size(); ++i)
        if (name == kSuites[i].option || name == kSuites[i].sdes_name)
            return static_cast<SrtpSuite>(i);
    return std::nullopt;
}

SrtpKey random_key(SrtpSuite suite) {
    SrtpKey key;
    key.suite = suite;
    const std::size_t len = suite_info(suite).key_salt_len;
    if (getrandom(key.key_salt.data(), len, 0) != static_cast<ssize_t>(len))
        throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    return key;
}

void DirectTarget::setup(std::span<CallPlan> calls) {
    for (CallPlan& c : calls) {
        c.a.remote = c.b.local;
        c.b.remote = c.a.local;
        const SrtpKey key = random_key(suite_);
        c.a.send_key.reset();
        c.a.recv_key = key;
        c.b.send_key = key;
        c.b.recv_key.reset();
    }
}

std::optional<double> process_cpu_seconds(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!f || !std::getline(f, text)) return std::nullopt;
    const std::size_t paren = text.rfind(')');  // the command name may hold spaces
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream rest(text.substr(paren + 1));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {  // field 3 is the state
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    if (!rest) return std::nullopt;
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void fill_payload(uint8_t* payload, uint32_t call, uint32_t direction, uint16_t seq) {
    const uint64_t x = mix((uint64_t{call} << 17) | (uint64_t{direction} << 16) | seq);
    for (std::size_t k = 0; k < kPayload / 8; ++k) {
        const uint64_t w = x + k * 0x9e3779b97f4a7c15u;
        std::memcpy(payload + 8 * k, &w, 8);
    }
}

// One UDP socket of the tool. Owned by SocketLoad; the main thread only.
struct SocketLoad::Socket {
    int fd = -1;
    ino_t inode = 0;     // to find its drops in /proc/net/udp
    uint32_t users = 0;  // call sides bound to it
    bool connected = false;
    // Unconnected (shared) sockets: datagrams waiting for sendmmsg().
    struct Pending {
        uint32_t stream = 0;
        uint64_t n = 0;
        bool measured = false;
    };
    std::vector<mmsghdr> msgs;
    std::vector<iovec> iov;
    std::vector<uint8_t> buf;
    std::vector<Pending> pending;
    unsigned count = 0;
};

// One side of one call.
struct SocketLoad::Side {
    uint32_t socket = 0;
    sockaddr_in remote{};
    // What this side sends is protected by one of tx/tx_stream, what
    // arrives unprotected by one of rx/rx_stream (libsrtp2 with
    // LoadOptions::libsrtp2, else srtp_stream.hpp); none: plain RTP.
    srtp_t tx = nullptr;
    srtp_t rx = nullptr;
    std::unique_ptr<SrtpStream> tx_stream;
    std::unique_ptr<SrtpStream> rx_stream;
};

// The receiver's view of one stream.
struct SocketLoad::RxStream {
    uint64_t highest = 0;  // highest extended sequence number received
    bool started = false;
};

struct SocketLoad::Scratch {
    std::array<mmsghdr, kRxBurst> msgs{};
    std::array<iovec, kRxBurst> iov{};
    std::vector<uint8_t> buf = std::vector<uint8_t>(std::size_t{kRxBurst} * kRxSlot);
    // SCM_TIMESTAMPNS: when the kernel queued the datagram (CLOCK_REALTIME).
    struct alignas(cmsghdr) Control {
        std::array<uint8_t, CMSG_SPACE(sizeof(timespec))> octets;
    };
    std::array<Control, kRxBurst> control{};
    std::array<uint8_t, kPayload> expected{};
    alignas(16) std::array<uint8_t, kTxSlot> tx{};  // connected sockets' one datagram
};

SocketLoad::SocketLoad(std::span<const CallPlan> calls, const LoadOptions& options)
    : options_(options),
      calls_(static_cast<uint32_t>(calls.size())),
      stats_(static_cast<uint32_t>(calls.size()) * 2),
      scratch_(std::make_unique<Scratch>()) {
    if (calls.empty()) throw std::runtime_error("no calls");
    try {
        open(calls);
    } catch (...) {
        release();  // no destructor runs for a constructor that throws
        throw;
    }
    result_.calls = calls_;
    result_.sockets = static_cast<uint32_t>(sockets_.size());
}

void SocketLoad::open(std::span<const CallPlan> calls) {
    for (unsigned i = 0; i < kRxBurst; ++i) {
        scratch_->iov[i] = {scratch_->buf.data() + std::size_t{i} * kRxSlot, kRxSlot};
        scratch_->msgs[i].msg_hdr.msg_iov = &scratch_->iov[i];
        scratch_->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + strerror(errno));
    sides_.resize(std::size_t{calls_} * 2);
    streams_.resize(std::size_t{calls_} * 2);

    // One socket per distinct local address:port.
    std::map<uint64_t, uint32_t> by_local;
    for (uint32_t c = 0; c < calls_; ++c) {
        for (uint32_t side = 0; side < 2; ++side) {
            const CallSide& cs = side == 0 ? calls[c].a : calls[c].b;
            const uint64_t key =
                (uint64_t{ntohl(cs.local.sin_addr.s_addr)} << 16) | ntohs(cs.local.sin_port);
            const auto [it, fresh] = by_local.emplace(key, static_cast<uint32_t>(sockets_.size()));
            if (fresh) sockets_.emplace_back();
            Side& sd = sides_[std::size_t{c} * 2 + side];
            sd.socket = it->second;
            sd.remote = cs.remote;
            ++sockets_[sd.socket].users;
        }
    }
    std::vector<bool> opened(sockets_.size(), false);
    for (uint32_t c = 0; c < calls_; ++c) {
        for (uint32_t side = 0; side < 2; ++side) {
            const CallSide& cs = side == 0 ? calls[c].a : calls[c].b;
            Side& sd = sides_[std::size_t{c} * 2 + side];
            const std::string what = "call " + std::to_string(c) + " side " + (side ? "B" : "A") +
                                     " (" + endpoint_text(cs.local) + " -> " +
                                     endpoint_text(cs.remote) + ")";
            if (options_.libsrtp2) {
                if (cs.send_key) sd.tx = make_libsrtp2_session(*cs.send_key, true);
                if (cs.recv_key) sd.rx = make_libsrtp2_session(*cs.recv_key, false);
            } else {
                if (cs.send_key)
                    sd.tx_stream =
                        std::make_unique<SrtpStream>(*cs.send_key, SrtpStream::Role::protect);
                if (cs.recv_key)
                    sd.rx_stream =
                        std::make_unique<SrtpStream>(*cs.recv_key, SrtpStream::Role::unprotect);
            }
            if (opened[sd.socket]) continue;
            opened[sd.socket] = true;
            Socket& sock = sockets_[sd.socket];
            sock.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (sock.fd < 0)
                throw std::runtime_error(what + ": socket: " + strerror(errno) +
                                         " (raise the open-files limit: ulimit -n)");
            if (bind(sock.fd, reinterpret_cast<const sockaddr*>(&cs.local), sizeof cs.local) != 0)
                throw std::runtime_error(what + ": bind: " + strerror(errno));
            sock.connected = sock.users == 1;
            if (sock.connected) {
                if (connect(sock.fd, reinterpret_cast<const sockaddr*>(&cs.remote),
                            sizeof cs.remote) != 0)
                    throw std::runtime_error(what + ": connect: " + strerror(errno));
            } else {
                // Every call's packets queue here: room for a stall of some ms.
                const int bytes = kSharedSocketBuffer;
                if (setsockopt(sock.fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
                    setsockopt(sock.fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
                sock.msgs.resize(kTxBatch);
                sock.iov.resize(kTxBatch);
                sock.buf.resize(std::size_t{kTxBatch} * kTxSlot);
                sock.pending.resize(kTxBatch);
                for (unsigned i = 0; i < kTxBatch; ++i) {
                    sock.iov[i] = {sock.buf.data() + std::size_t{i} * kTxSlot, 0};
                    sock.msgs[i].msg_hdr.msg_iov = &sock.iov[i];
                    sock.msgs[i].msg_hdr.msg_iovlen = 1;
                    sock.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
                }
                shared_.push_back(sd.socket);
            }
            const int on = 1;
            setsockopt(sock.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u32 = sd.socket;
            if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, sock.fd, &ev) != 0)
                throw std::runtime_error(what + ": epoll_ctl: " + strerror(errno));
            struct stat st {};
            if (fstat(sock.fd, &st) == 0) sock.inode = st.st_ino;
        }
    }
}

SocketLoad::~SocketLoad() {
    release();
}

void SocketLoad::release() {
    for (Socket& sock : sockets_) {
        if (sock.fd >= 0) close(sock.fd);
        sock.fd = -1;
    }
    // Newest first: libsrtp2 on NSS shuts down one NSS context per cipher,
    // found in a list that is cheap to take from the front only (first
    // created, first freed took minutes for 20,000 sessions).
    for (auto sd = sides_.rbegin(); sd != sides_.rend(); ++sd) {
        if (sd->rx != nullptr) srtp_dealloc(sd->rx);
        if (sd->tx != nullptr) srtp_dealloc(sd->tx);
        sd->tx = sd->rx = nullptr;
        sd->rx_stream.reset();
        sd->tx_stream.reset();
    }
    if (epoll_fd_ >= 0) close(epoll_fd_);
    epoll_fd_ = -1;
}

void SocketLoad::send_one(uint32_t call, uint32_t direction, uint64_t n, bool measured) {
    Side& sd = sides_[std::size_t{call} * 2 + direction];  // A sends direction 0, B 1
    Socket& sock = sockets_[sd.socket];
    const uint32_t stream = call * 2 + direction;
    uint8_t* buf = sock.connected ? scratch_->tx.data() : sock.buf.data() + sock.count * kTxSlot;
    const auto seq = static_cast<uint16_t>(n);
    buf[0] = 0x80;  // V=2, no padding, extension or CSRC
    buf[1] = 0;     // M=0, PT 0 (PCMU)
    put16(buf + 2, seq);
    put32(buf + 4, static_cast<uint32_t>(n * kPayload));  // 8 kHz: 160 per 20 ms
    put32(buf + 8, kSsrcBase + stream);
    fill_payload(buf + kRtpHeader, call, direction, seq);
    int len = static_cast<int>(kRtpPacket);
    if (sd.tx_stream) len = static_cast<int>(sd.tx_stream->protect(buf, kRtpPacket, n));
    if (sd.tx != nullptr && srtp_protect(sd.tx, buf, &len) != srtp_err_status_ok) len = 0;
    if (len == 0) {
        ++result_.srtp_errors;
        return;
    }
    if (!sock.connected) {
        sock.iov[sock.count].iov_len = static_cast<std::size_t>(len);
        sock.msgs[sock.count].msg_hdr.msg_name = &sd.remote;
        sock.pending[sock.count] = {stream, n, measured};
        if (++sock.count == kTxBatch) flush(sock);
        return;
    }
    const uint64_t t = now_ns();
    if (send(sock.fd, buf, static_cast<std::size_t>(len), MSG_DONTWAIT) != len) {
        ++result_.send_errors;
        return;
    }
    if (measured)
        stats_.on_send(stream, n, t);
    else
        ++result_.warmup_sent;
}

void SocketLoad::flush(Socket& sock) {
    if (sock.count == 0) return;
    const uint64_t t = now_ns();
    unsigned done = 0;
    while (done < sock.count) {  // sendmmsg may stop short; a failure ends the batch
        const int sent =
            sendmmsg(sock.fd, sock.msgs.data() + done, sock.count - done, MSG_DONTWAIT);
        if (sent <= 0) break;
        done += static_cast<unsigned>(sent);
    }
    for (unsigned i = 0; i < done; ++i) {
        const Socket::Pending& p = sock.pending[i];
        if (p.measured)
            stats_.on_send(p.stream, p.n, t);
        else
            ++result_.warmup_sent;
    }
    result_.send_errors += sock.count - done;
    sock.count = 0;
}

void SocketLoad::flush_all() {
    for (const uint32_t s : shared_)
        flush(sockets_[s]);
}

void SocketLoad::send_pair(uint32_t call, uint64_t n, bool measured, uint64_t scheduled_ns) {
    if (measured) {
        const uint64_t now = now_ns();
        result_.lag.add(now > scheduled_ns ? now - scheduled_ns : 0);
    }
    send_one(call, 0, n, measured);  // A to B
    send_one(call, 1, n, measured);  // B to A
}

void SocketLoad::check(uint32_t socket, uint8_t* p, int len, uint64_t t) {
    auto bad = [&](uint64_t& counter) {
        ++counter;
        stats_.on_bad();
    };
    // The SSRC (in the clear under SRTP too) names the stream, and so the
    // call side whose socket this must be and whose keys apply.
    const uint32_t ssrc = get32(p + 8);
    const uint32_t stream = ssrc - kSsrcBase;
    if (ssrc < kSsrcBase || stream >= calls_ * 2) return bad(result_.bad_rtp);
    const uint32_t call = stream >> 1, direction = stream & 1;
    const Side& sd = sides_[std::size_t{call} * 2 + (direction == 0 ? 1 : 0)];  // B gets A's
    if (sd.socket != socket || p[0] != 0x80) return bad(result_.bad_rtp);  // no CSRC, no extension
    // RFC 3550 A.1 / RFC 3711 3.3.1: the extended number (the SRTP index)
    // closest to the highest so far.
    const uint16_t seq = get16(p + 2);
    RxStream& rs = streams_[stream];
    int64_t ext = seq;
    if (rs.started) {
        const auto delta = static_cast<int16_t>(static_cast<uint16_t>(seq - rs.highest));
        ext = static_cast<int64_t>(rs.highest) + delta;
        if (ext < 0) return bad(result_.bad_rtp);
    }
    const auto n = static_cast<uint64_t>(ext);
    if (sd.rx_stream)
        len = static_cast<int>(sd.rx_stream->unprotect(p, static_cast<std::size_t>(len), n));
    if (sd.rx != nullptr && srtp_unprotect(sd.rx, p, &len) != srtp_err_status_ok) len = 0;
    if (len == 0) return bad(result_.bad_srtp);
    if (len != static_cast<int>(kRtpPacket) || (p[1] & 0x7f) != 0) return bad(result_.bad_rtp);
    fill_payload(scratch_->expected.data(), call, direction, seq);
    if (std::memcmp(p + kRtpHeader, scratch_->expected.data(), kPayload) != 0)
        return bad(result_.bad_rtp);
    if (!rs.started || n > rs.highest) rs.highest = n;
    rs.started = true;
    if (n < warmup_packets_) {
        ++result_.warmup_received;
        return;
    }
    stats_.on_receive(stream, n, t);
}

void SocketLoad::receive(uint32_t socket) {
    for (unsigned i = 0; i < kRxBurst; ++i) {
        msghdr& h = scratch_->msgs[i].msg_hdr;
        h.msg_flags = 0;
        h.msg_control = scratch_->control[i].octets.data();
        h.msg_controllen = scratch_->control[i].octets.size();
        scratch_->msgs[i].msg_len = 0;
    }
    const int got =
        recvmmsg(sockets_[socket].fd, scratch_->msgs.data(), kRxBurst, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;  // EAGAIN, or an ICMP error queued on a connected socket
    const uint64_t t_user = now_ns();
    for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
        msghdr& h = scratch_->msgs[i].msg_hdr;
        uint8_t* p = scratch_->buf.data() + i * kRxSlot;
        const auto len = static_cast<int>(scratch_->msgs[i].msg_len);
        if ((h.msg_flags & MSG_TRUNC) != 0 || len < static_cast<int>(kRtpHeader)) {
            ++result_.bad_rtp;
            stats_.on_bad();
            continue;
        }
        // Arrival: the kernel's timestamp (taken as the datagram was queued
        // toward this socket), so the tool's own backlog in reading its
        // sockets is not counted as the gateway's latency; else now.
        uint64_t t = t_user;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
            timespec ts{};
            std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
            const int64_t real = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
            t = static_cast<uint64_t>(real - realtime_offset_ns_);
            ++result_.kernel_timestamps;
        }
        check(socket, p, len, t);
    }
}

void SocketLoad::read_socket_drops(LoadResult& r) const {
    std::vector<ino_t> mine;
    mine.reserve(sockets_.size());
    for (const Socket& sock : sockets_)
        mine.push_back(sock.inode);
    std::sort(mine.begin(), mine.end());
    std::ifstream f("/proc/net/udp");
    std::string line;
    std::getline(f, line);  // the header
    while (std::getline(f, line)) {
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
        std::istringstream in(line);
        std::string field;
        uint64_t inode = 0, drops = 0;
        for (int i = 0; i < 13 && in >> field; ++i) {
            if (i == 9) inode = std::stoull(field);
            if (i == 12) drops = std::stoull(field);
        }
        if (std::binary_search(mine.begin(), mine.end(), static_cast<ino_t>(inode)))
            r.tool_socket_drops += drops;
        else
            r.other_socket_drops += drops;
    }
}

LoadResult SocketLoad::run() {
    const uint64_t period = 1'000'000'000u / options_.packets_per_second;
    const auto pps = static_cast<double>(options_.packets_per_second);
    warmup_packets_ = static_cast<uint64_t>(std::llround(options_.warmup * pps));
    const uint64_t cycles =
        warmup_packets_ + static_cast<uint64_t>(std::llround(options_.seconds * pps));
    const uint64_t measure_k = warmup_packets_ * calls_;
    const uint64_t total_k = cycles * calls_;
    {
        // CLOCK_REALTIME (kernel receive timestamps) less CLOCK_MONOTONIC.
        timespec real{}, mono{};
        clock_gettime(CLOCK_REALTIME, &real);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        realtime_offset_ns_ = (static_cast<int64_t>(real.tv_sec) - mono.tv_sec) * 1'000'000'000 +
                              (real.tv_nsec - mono.tv_nsec);
    }
    const uint64_t t0 = now_ns() + 10'000'000;  // 10 ms from now
    auto scheduled = [&](uint64_t k) {
        return t0 + (k / calls_) * period + (k % calls_) * period / calls_;
    };

    struct Snapshot {
        uint64_t t = 0;
        double tool = 0, machine = 0;
        std::optional<double> gateway;
    };
    auto snapshot = [&] {
        Snapshot s;
        if (options_.gateway_pid > 0) s.gateway = process_cpu_seconds(options_.gateway_pid);
        s.machine = machine_busy_seconds();
        s.tool = rusage_cpu_s();
        s.t = now_ns();
        return s;
    };
    Snapshot start, send_end;
    bool sent_all = false;
    uint64_t drain_end = 0;
    std::array<epoll_event, kEvents> events;
    uint64_t k = 0;
    for (;;) {
        uint64_t now = now_ns();
        for (unsigned burst = 0; k < total_k && burst < kMaxSendBurst; ++burst) {
            const uint64_t due = scheduled(k);
            if (due > now) break;
            if (k == measure_k) {
                flush_all();  // the warm-up's last datagrams go before the window opens
                start = snapshot();
            }
            const uint64_t n = k / calls_;
            send_pair(static_cast<uint32_t>(k % calls_), n, n >= warmup_packets_, due);
            ++k;
            now = now_ns();
        }
        flush_all();
        if (k == total_k && !sent_all) {
            if (measure_k == total_k) start = snapshot();  // --seconds 0
            send_end = snapshot();
            sent_all = true;
            drain_end = now + static_cast<uint64_t>(options_.drain * 1e9);
        }
        if (sent_all && now >= drain_end) break;
        const uint64_t wake = k < total_k ? scheduled(k) : drain_end;
        timespec timeout{};
        if (wake > now) {
            timeout.tv_sec = static_cast<time_t>((wake - now) / 1'000'000'000u);
            timeout.tv_nsec = static_cast<long>((wake - now) % 1'000'000'000u);
        }
        const int ready = epoll_pwait2(epoll_fd_, events.data(), kEvents, &timeout, nullptr);
        if (ready < 0 && errno != EINTR)
            throw std::runtime_error(std::string("epoll_pwait2: ") + strerror(errno));
        for (int i = 0; i < ready; ++i)
            receive(events[static_cast<std::size_t>(i)].data.u32);
    }
    const Snapshot end = snapshot();

    LoadResult r = std::move(result_);
    r.totals = stats_.totals();
    r.latency = stats_.latency();
    r.window_s = static_cast<double>(send_end.t - start.t) / 1e9;
    r.tool_cpu_s = end.tool - start.tool;
    r.tool_send_cpu_s = send_end.tool - start.tool;
    r.machine_busy_s = end.machine - start.machine;
    if (start.gateway && send_end.gateway && end.gateway) {
        r.gateway_cpu_s = *end.gateway - *start.gateway;
        r.gateway_send_cpu_s = *send_end.gateway - *start.gateway;
    }
    read_socket_drops(r);
    return r;
}

}  // namespace isthmus::bench::capacity
