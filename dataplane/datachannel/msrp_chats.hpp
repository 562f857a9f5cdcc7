// The chats of the slow path (issue 9): for each data channel that carries
// MSRP (RFC 8873), an msrp::Bridge between that channel and a TCP
// connection to the IMS UE (RFC 4975), with the TCP side's sockets.
//
// The TCP side is a kernel socket of the dataplane process bound to the
// gateway's core address: that address belongs to the core port's exception
// TAP (docs/datachannel.md), so the connection leaves through the DPDK port
// like the kernel's other traffic. Sockets are non-blocking and watched by
// one epoll instance; poll() never blocks (epoll_wait with a zero timeout).
//
//  - Passive (the UE connects, a=setup:passive on our side): one listening
//    socket per tcp_local address and port, shared by every chat on it
//    (RFC 4975 allows one connection per pair of endpoints; the port is the
//    same for all, the session-id tells them apart). An accepted connection
//    is matched to its chat by the first MSRP request's first To-Path URI
//    (our TCP URI, session-id included); until then it is pending, bounded
//    in number, time and octets, and closed (counted) when nothing matches.
//  - Active (we connect, a=setup:active): a socket bound to tcp_local's
//    address (any port), connected to tcp_remote without blocking; once up,
//    the bridge sends a bodiless SEND to bind it (RFC 4975 5.4).
//
// The channel side is the caller's: ChatChannel::send hands one data
// channel message to the endpoint (false: the channel cannot take it now;
// the chat holds it, stops taking the bridge's output and stops reading its
// TCP socket — the UE's sends then wait in TCP's own flow control — until
// channel_writable()), ChatChannel::close closes the channel when the chat
// ends by itself.
//
// A chat ends when its bridge fails or closes (a side closed, a backlog over
// its bound: a stalled TCP peer or browser never grows memory without bound,
// a TCP stream that breaks framing), the TCP connection cannot be made or
// does not come within connect_timeout, or the caller stops it; its socket
// is closed at once and every resource freed. The reason is counted.
//
// Threads: one (the slow-path lcore). Not for the fast path: it allocates
// and makes system calls.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "isthmus/dpif/messages.hpp"
#include "msrp/bridge.hpp"
#include "msrp/spec.hpp"

namespace isthmus::datachannel {

struct ChatOptions {
    msrp::BridgeLimits bridge;
    // Passive: the UE must connect and be matched within it; active: the
    // connection must be up within it.
    uint64_t connect_timeout_ns = 30'000'000'000ULL;
    // Accepted connections not matched to a chat yet: at most this many (the
    // oldest is closed for a new one), each for at most pending_timeout_ns.
    std::size_t max_pending = 64;
    uint64_t pending_timeout_ns = 10'000'000'000ULL;
    // Octets read from one socket per poll() (fairness between chats), and
    // from all of them (the slow path's other work waits for a poll() to
    // end; sockets not read keep their data for the next one).
    std::size_t read_budget = 64 * 1024;
    std::size_t poll_budget = 256 * 1024;
};

struct ChatChannel {
    // One data channel message (one whole MSRP chunk). false: not taken now
    // (the channel's buffer is full); offered again after channel_writable().
    std::function<bool(std::span<const uint8_t> message)> send;
    // The chat ended by itself: close the data channel.
    std::function<void()> close;
};

// X(name) of the chats' counters (published as "msrp_<name>").
#define ISTHMUS_MSRP_CHAT_COUNTERS(X)                                                        \
    X(started)         /* chats started (a bridge and its TCP side) */                       \
    X(start_failed)    /* chats that could not start (listen, socket, connect) */            \
    X(tcp_up)          /* TCP connections matched or connected to their chat */              \
    X(connect_failed)  /* active connections refused or failed */                            \
    X(connect_timeout) /* chats whose TCP connection did not come in time */                 \
    X(tcp_closed)      /* chats ended because the UE closed or reset the connection */       \
    X(channel_closed)  /* chats ended because the channel, leg or session went */            \
    X(bridge_failed)   /* chats ended by their bridge's failure (backlog, framing, ids) */   \
    X(unmatched)       /* accepted connections whose first request named no chat: closed */  \
    X(pending_dropped) /* accepted connections closed unmatched: limit, time, bad framing */ \
    X(channel_blocked) /* times the channel could not take a message: TCP reads paused */    \
    X(ended)           /* chats ended, for any reason */

struct ChatCounters {
#define ISTHMUS_X(name) uint64_t name = 0;
    ISTHMUS_MSRP_CHAT_COUNTERS(ISTHMUS_X)
#undef ISTHMUS_X
};

class MsrpChats {
  public:
    // Throws std::runtime_error when the epoll instance cannot be made.
    MsrpChats(ChatOptions options, msrp::TransactionIdSource ids);
    ~MsrpChats();  // closes every socket
    MsrpChats(const MsrpChats&) = delete;
    MsrpChats& operator=(const MsrpChats&) = delete;

    // Starts chat `key` on an open data channel: the bridge of `legs`, and
    // the TCP side as `spec` says (listen or connect). false, with `why`,
    // when it cannot (the caller closes the channel); a live `key` is
    // stopped first.
    bool start(uint64_t key, const msrp::ChatLegs& legs, const dpif::MsrpSpec& spec,
               ChatChannel channel, uint64_t now_ns, std::string* why = nullptr);
    // One data channel message of the chat's channel.
    void from_channel(uint64_t key, std::span<const uint8_t> message);
    // The channel can take messages again.
    void channel_writable(uint64_t key);
    // The channel (or its leg, or its session) is gone: the chat ends, its
    // TCP connection closes; the channel is not closed again.
    void channel_closed(uint64_t key);
    // The owner ends the chat (its spec went): TCP closed, channel closed.
    void stop(uint64_t key);

    // Sockets and timers; never blocks. Returns the events handled.
    unsigned poll(uint64_t now_ns);

    bool has(uint64_t key) const { return chats_.count(key) != 0; }
    std::size_t chats() const { return chats_.size(); }
    std::size_t pending_connections() const { return pending_.size(); }
    std::size_t listeners() const { return listeners_.size(); }
    // Whether chat `key` has its TCP connection.
    bool tcp_up(uint64_t key) const;
    const ChatCounters& counters() const { return counters_; }
    // The bridges' counters: the ended chats' and the live ones' summed.
    msrp::BridgeStats bridge_stats() const;
    // The bridge of a live chat, for tests (nullptr: none).
    const msrp::Bridge* bridge(uint64_t key) const;

  private:
    struct Chat;
    struct Depth;
    struct Listener {
        int fd = -1;
        unsigned users = 0;
    };
    struct Pending {
        int fd = -1;
        std::string listener;  // its key in listeners_
        uint64_t deadline_ns = 0;
        std::vector<uint8_t> bytes;  // everything read, for the chat's bridge
        std::unique_ptr<msrp::StreamFramer> framer;
    };
    enum class Why : uint8_t {
        TcpClosed,
        ChannelClosed,
        BridgeFailed,
        ConnectFailed,
        Timeout,
        Stopped
    };

    // --- sockets
    bool listen_on(const dpif::IpEndpoint& ep, std::string& key, std::string* why);
    void release_listener(const std::string& key);
    bool connect_to(Chat& c, const dpif::MsrpSpec& spec, std::string* why);
    void watch(int fd, uint32_t events);
    void unwatch(int fd);
    void on_listener(const std::string& key, uint64_t now_ns);
    // Each returns the octets it read.
    std::size_t on_pending(int fd);
    void close_pending(int fd);
    std::size_t on_chat_fd(Chat& c, uint32_t events);
    // The chat's socket watched for what it needs now: input unless the
    // channel is blocked, output while TCP has a backlog.
    void rewatch(Chat& c);

    // --- the chat
    // Moves the bridge's output and acts on its state (`closed_by`: what a
    // Closed bridge means after this input).
    void after_input(Chat& c, Why closed_by);
    void flush_tcp(Chat& c);
    void flush_channel(Chat& c);
    void end(Chat& c, Why why);
    void reap();  // chats ended during the outermost call are freed
    void reap_now(uint64_t key);

    ChatOptions options_;
    msrp::TransactionIdSource ids_;
    int epoll_fd_ = -1;
    std::unordered_map<uint64_t, std::unique_ptr<Chat>> chats_;
    std::unordered_map<int, uint64_t> chat_of_fd_;
    std::map<std::string, Listener> listeners_;  // "address port" -> socket
    std::unordered_map<int, std::string> listener_of_fd_;
    std::map<int, Pending> pending_;
    std::vector<std::unique_ptr<Chat>> ended_;
    ChatCounters counters_;
    msrp::BridgeStats ended_stats_;
    unsigned depth_ = 0;
    uint64_t next_timer_ns_ = 0;
};

}  // namespace isthmus::datachannel
