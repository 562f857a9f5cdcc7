#include "datachannel/msrp_chats.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "msrp/message.hpp"
#include "msrp/uri.hpp"

namespace isthmus::datachannel {

namespace {

constexpr int kMaxEvents = 64;
constexpr int kBacklog = 128;
constexpr int kAcceptsPerPoll = 32;
constexpr uint64_t kTimerPeriodNs = 100'000'000;

// sockaddr of an endpoint; its length (0 when the family is neither 4 nor 6).
socklen_t to_sockaddr(const dpif::IpEndpoint& ep, sockaddr_storage& out, bool with_port = true) {
    std::memset(&out, 0, sizeof out);
    if (ep.family == 4) {
        auto* a = reinterpret_cast<sockaddr_in*>(&out);
        a->sin_family = AF_INET;
        a->sin_port = htons(with_port ? ep.port : 0);
        std::memcpy(&a->sin_addr, ep.addr, 4);
        return sizeof(sockaddr_in);
    }
    if (ep.family == 6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&out);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(with_port ? ep.port : 0);
        std::memcpy(&a->sin6_addr, ep.addr, 16);
        return sizeof(sockaddr_in6);
    }
    return 0;
}

std::string endpoint_key(const dpif::IpEndpoint& ep) {
    char addr[INET6_ADDRSTRLEN] = {};
    inet_ntop(ep.family == 6 ? AF_INET6 : AF_INET, ep.addr, addr, sizeof addr);
    return std::string(addr) + " " + std::to_string(ep.port);
}

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

struct MsrpChats::Chat {
    Chat(uint64_t k, msrp::Bridge b, ChatChannel ch)
        : key(k), bridge(std::move(b)), channel(std::move(ch)) {}
    uint64_t key;
    msrp::Bridge bridge;
    ChatChannel channel;
    msrp::Uri tcp_self;    // our TCP URI: what a passive connection's first request names
    std::string listener;  // passive: its listener's key
    int fd = -1;
    bool connecting = false;  // active: connect() in progress
    bool up = false;          // the TCP connection belongs to this chat
    bool want_out = false;    // TCP has a backlog: EPOLLOUT armed
    bool paused = false;      // the channel is blocked: no EPOLLIN
    uint64_t deadline_ns = 0;
    std::optional<std::vector<uint8_t>> held;  // a channel message not taken yet
    bool ended = false;
};

// Public entry points count their depth: a chat ended inside one (perhaps
// through a callback that re-enters) is freed only when the outermost
// returns, so no Chat& held up the stack dangles.
struct MsrpChats::Depth {
    explicit Depth(MsrpChats& c) : chats(c) { ++chats.depth_; }
    ~Depth() {
        if (--chats.depth_ == 0) chats.reap();
    }
    MsrpChats& chats;
};

MsrpChats::MsrpChats(ChatOptions options, msrp::TransactionIdSource ids)
    : options_(options), ids_(std::move(ids)) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::runtime_error(errno_text("msrp chats: epoll_create1"));
}

MsrpChats::~MsrpChats() {
    for (auto& [key, c] : chats_)
        if (c->fd >= 0) ::close(c->fd);
    for (auto& [fd, p] : pending_)
        ::close(fd);
    for (auto& [key, l] : listeners_)
        ::close(l.fd);
    ::close(epoll_fd_);
}

void MsrpChats::watch(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void MsrpChats::unwatch(int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

bool MsrpChats::listen_on(const dpif::IpEndpoint& ep, std::string& key, std::string* why) {
    key = endpoint_key(ep);
    if (auto it = listeners_.find(key); it != listeners_.end()) {
        ++it->second.users;
        return true;
    }
    sockaddr_storage sa{};
    const socklen_t len = to_sockaddr(ep, sa);
    const int fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (why) *why = errno_text("socket");
        return false;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ep.family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd, kBacklog) != 0) {
        if (why) *why = errno_text(("listen on " + key).c_str());
        ::close(fd);
        return false;
    }
    listeners_[key] = Listener{fd, 1};
    listener_of_fd_[fd] = key;
    watch(fd, EPOLLIN);
    return true;
}

void MsrpChats::release_listener(const std::string& key) {
    const auto it = listeners_.find(key);
    if (it == listeners_.end() || --it->second.users != 0) return;
    // Connections accepted on it and not matched yet have no chat left to find.
    for (auto p = pending_.begin(); p != pending_.end();) {
        if (p->second.listener == key) {
            ++counters_.pending_dropped;
            unwatch(p->first);
            ::close(p->first);
            p = pending_.erase(p);
        } else {
            ++p;
        }
    }
    unwatch(it->second.fd);
    ::close(it->second.fd);
    listener_of_fd_.erase(it->second.fd);
    listeners_.erase(it);
}

bool MsrpChats::connect_to(Chat& c, const dpif::MsrpSpec& spec, std::string* why) {
    sockaddr_storage local{}, remote{};
    const socklen_t llen = to_sockaddr(spec.tcp_local, local, false);  // any port
    const socklen_t rlen = to_sockaddr(spec.tcp_remote, remote);
    const int fd = ::socket(local.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (why) *why = errno_text("socket");
        return false;
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), llen) != 0) {
        if (why) *why = errno_text(("bind to " + endpoint_key(spec.tcp_local)).c_str());
        ::close(fd);
        return false;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&remote), rlen) != 0 && errno != EINPROGRESS) {
        if (why) *why = errno_text(("connect to " + endpoint_key(spec.tcp_remote)).c_str());
        ::close(fd);
        return false;
    }
    c.fd = fd;
    c.connecting = true;
    chat_of_fd_[fd] = c.key;
    watch(fd, EPOLLOUT);
    return true;
}

bool MsrpChats::start(uint64_t key, const msrp::ChatLegs& legs, const dpif::MsrpSpec& spec,
                      ChatChannel channel, uint64_t now_ns, std::string* why) {
    Depth d(*this);
    if (auto it = chats_.find(key); it != chats_.end()) end(*it->second, Why::Stopped);
    reap_now(key);
    auto c = std::make_unique<Chat>(
        key, msrp::Bridge(legs.channel, legs.tcp, options_.bridge, ids_), std::move(channel));
    c->tcp_self = legs.tcp.self;
    c->deadline_ns = now_ns + options_.connect_timeout_ns;
    bool ok = false;
    if (spec.setup == dpif::kMsrpPassive) {
        ok = listen_on(spec.tcp_local, c->listener, why);
        if (!ok) c->listener.clear();
    } else {
        ok = connect_to(*c, spec, why);
    }
    if (!ok) {
        ++counters_.start_failed;
        return false;
    }
    ++counters_.started;
    chats_[key] = std::move(c);
    return true;
}

void MsrpChats::reap_now(uint64_t key) {
    // A chat of `key` ended by start() is replaced in the map at once (its
    // socket is already closed; the object waits in ended_).
    const auto it = chats_.find(key);
    if (it != chats_.end() && it->second->ended) {
        ended_.push_back(std::move(it->second));
        chats_.erase(it);
    }
}

void MsrpChats::from_channel(uint64_t key, std::span<const uint8_t> message) {
    Depth d(*this);
    const auto it = chats_.find(key);
    if (it == chats_.end() || it->second->ended) return;
    it->second->bridge.from_channel(message);
    after_input(*it->second, Why::ChannelClosed);
}

void MsrpChats::channel_writable(uint64_t key) {
    Depth d(*this);
    const auto it = chats_.find(key);
    if (it == chats_.end() || it->second->ended) return;
    flush_channel(*it->second);
}

void MsrpChats::channel_closed(uint64_t key) {
    Depth d(*this);
    const auto it = chats_.find(key);
    if (it == chats_.end() || it->second->ended) return;
    Chat& c = *it->second;
    c.bridge.channel_closed();
    flush_tcp(c);  // what the browser sent before closing still reaches the UE
    end(c, Why::ChannelClosed);
}

void MsrpChats::stop(uint64_t key) {
    Depth d(*this);
    const auto it = chats_.find(key);
    if (it == chats_.end() || it->second->ended) return;
    end(*it->second, Why::Stopped);
}

bool MsrpChats::tcp_up(uint64_t key) const {
    const auto it = chats_.find(key);
    return it != chats_.end() && !it->second->ended && it->second->up;
}

const msrp::Bridge* MsrpChats::bridge(uint64_t key) const {
    const auto it = chats_.find(key);
    return it == chats_.end() ? nullptr : &it->second->bridge;
}

msrp::BridgeStats MsrpChats::bridge_stats() const {
    msrp::BridgeStats s = ended_stats_;
    for (const auto& [key, c] : chats_) {
        if (c->ended) continue;
        const msrp::BridgeStats& b = c->bridge.stats();
        for (std::size_t i = 0; i < s.counters.size(); ++i)
            s.counters[i] += b.counters[i];
        for (std::size_t i = 0; i < s.failures.size(); ++i)
            s.failures[i] += b.failures[i];
    }
    return s;
}

// --- the chat ------------------------------------------------------------------

void MsrpChats::after_input(Chat& c, Why closed_by) {
    flush_channel(c);
    flush_tcp(c);
    if (c.ended) return;
    switch (c.bridge.state()) {
        case msrp::BridgeState::Ok:
            return;
        case msrp::BridgeState::Failed:
            end(c, Why::BridgeFailed);
            return;
        case msrp::BridgeState::Closed:
            end(c, closed_by);
            return;
    }
}

void MsrpChats::rewatch(Chat& c) {
    if (c.ended || c.fd < 0 || c.connecting) return;
    watch(c.fd, (c.paused ? 0U : static_cast<uint32_t>(EPOLLIN)) |
                    (c.want_out ? static_cast<uint32_t>(EPOLLOUT) : 0U));
}

void MsrpChats::flush_channel(Chat& c) {
    if (c.ended || !c.channel.send) return;
    for (;;) {
        if (!c.held) {
            auto next = c.bridge.next_channel_message();
            if (!next) break;
            c.held = std::move(next);
        }
        if (!c.channel.send(*c.held)) {
            ++counters_.channel_blocked;
            if (!c.paused) {
                c.paused = true;  // the UE waits in TCP's flow control
                rewatch(c);
            }
            return;
        }
        c.held.reset();
    }
    if (c.paused) {
        c.paused = false;
        rewatch(c);
    }
}

void MsrpChats::flush_tcp(Chat& c) {
    if (c.ended || !c.up) return;
    for (;;) {
        const std::span<const uint8_t> out = c.bridge.tcp_pending();
        if (out.empty()) break;
        const ssize_t n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.bridge.tcp_consumed(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c.want_out) {
                c.want_out = true;
                rewatch(c);
            }
            return;
        }
        // The connection broke under the write: as if the UE closed it.
        c.bridge.tcp_closed();
        flush_channel(c);
        end(c, Why::TcpClosed);
        return;
    }
    if (c.want_out) {
        c.want_out = false;
        rewatch(c);
    }
}

void MsrpChats::end(Chat& c, Why why) {
    if (c.ended) return;
    c.ended = true;
    if (c.fd >= 0) {
        unwatch(c.fd);
        chat_of_fd_.erase(c.fd);
        ::close(c.fd);
        c.fd = -1;
    }
    if (!c.listener.empty()) {
        release_listener(c.listener);
        c.listener.clear();
    }
    const msrp::BridgeStats& b = c.bridge.stats();
    for (std::size_t i = 0; i < ended_stats_.counters.size(); ++i)
        ended_stats_.counters[i] += b.counters[i];
    for (std::size_t i = 0; i < ended_stats_.failures.size(); ++i)
        ended_stats_.failures[i] += b.failures[i];
    ++counters_.ended;
    switch (why) {
        case Why::TcpClosed:
            ++counters_.tcp_closed;
            break;
        case Why::ChannelClosed:
            ++counters_.channel_closed;
            break;
        case Why::BridgeFailed:
            ++counters_.bridge_failed;
            break;
        case Why::ConnectFailed:
            ++counters_.connect_failed;
            break;
        case Why::Timeout:
            ++counters_.connect_timeout;
            break;
        case Why::Stopped:
            break;
    }
    c.held.reset();
    // Last: the callback may re-enter (channel_closed of this chat: ignored).
    if (why != Why::ChannelClosed && c.channel.close) c.channel.close();
}

void MsrpChats::reap() {
    for (auto it = chats_.begin(); it != chats_.end();) {
        if (it->second->ended)
            it = chats_.erase(it);
        else
            ++it;
    }
    ended_.clear();
}

// --- sockets -------------------------------------------------------------------

void MsrpChats::on_listener(const std::string& key, uint64_t now_ns) {
    const auto it = listeners_.find(key);
    if (it == listeners_.end()) return;
    for (int i = 0; i < kAcceptsPerPoll; ++i) {
        const int fd = ::accept4(it->second.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or an error of that one connection
        if (pending_.size() >= options_.max_pending) {
            // The oldest waits longest for its first request: it goes.
            auto oldest = pending_.begin();
            for (auto p = pending_.begin(); p != pending_.end(); ++p)
                if (p->second.deadline_ns < oldest->second.deadline_ns) oldest = p;
            ++counters_.pending_dropped;
            close_pending(oldest->first);
        }
        Pending p;
        p.fd = fd;
        p.listener = key;
        p.deadline_ns = now_ns + options_.pending_timeout_ns;
        p.framer = std::make_unique<msrp::StreamFramer>(options_.bridge.parse);
        pending_.emplace(fd, std::move(p));
        watch(fd, EPOLLIN);
    }
}

void MsrpChats::close_pending(int fd) {
    unwatch(fd);
    ::close(fd);
    pending_.erase(fd);
}

std::size_t MsrpChats::on_pending(int fd) {
    const auto it = pending_.find(fd);
    if (it == pending_.end()) return 0;
    Pending& p = it->second;
    uint8_t buf[16384];
    std::vector<msrp::Message> framed;
    std::size_t budget = options_.read_budget;
    while (framed.empty() && budget > 0) {
        const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, budget), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return options_.read_budget - budget;
        if (n <= 0) {  // closed or broken before it named a chat
            ++counters_.pending_dropped;
            close_pending(fd);
            return options_.read_budget - budget;
        }
        budget -= static_cast<std::size_t>(n);
        p.bytes.insert(p.bytes.end(), buf, buf + n);
        if (p.framer->feed({reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n)},
                           framed) != msrp::ParseError::None &&
            framed.empty()) {
            ++counters_.pending_dropped;
            close_pending(fd);
            return options_.read_budget - budget;
        }
    }
    const std::size_t read = options_.read_budget - budget;
    if (framed.empty()) return read;
    // The first request's first To-Path URI names the chat (our TCP URI).
    const msrp::Message& first = framed.front();
    Chat* match = nullptr;
    if (first.is_request() && !first.to_path.empty()) {
        for (auto& [key, c] : chats_) {
            if (!c->ended && !c->up && c->listener == p.listener &&
                msrp::uri_equal(c->tcp_self, first.to_path.front())) {
                match = c.get();
                break;
            }
        }
    }
    if (match == nullptr) {
        ++counters_.unmatched;
        close_pending(fd);
        return read;
    }
    std::vector<uint8_t> bytes = std::move(p.bytes);
    pending_.erase(it);
    Chat& c = *match;
    c.fd = fd;
    c.up = true;
    chat_of_fd_[fd] = c.key;
    ++counters_.tcp_up;
    c.bridge.tcp_connected(msrp::TcpRole::Passive);
    c.bridge.from_tcp(bytes);
    after_input(c, Why::TcpClosed);
    return read;
}

std::size_t MsrpChats::on_chat_fd(Chat& c, uint32_t events) {
    if (c.connecting) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return 0;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0) {
            end(c, Why::ConnectFailed);
            return 0;
        }
        c.connecting = false;
        c.up = true;
        ++counters_.tcp_up;
        rewatch(c);
        c.bridge.tcp_connected(msrp::TcpRole::Active);
        after_input(c, Why::TcpClosed);
        return 0;
    }
    if ((events & EPOLLOUT) != 0) flush_tcp(c);
    if (c.ended || c.paused || (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) == 0)
        return 0;
    uint8_t buf[16384];
    std::size_t budget = options_.read_budget;
    while (budget > 0 && !c.ended && !c.paused) {
        const ssize_t n = ::recv(c.fd, buf, std::min(sizeof buf, budget), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            c.bridge.tcp_closed();
            after_input(c, Why::TcpClosed);
            break;
        }
        budget -= static_cast<std::size_t>(n);
        c.bridge.from_tcp({buf, static_cast<std::size_t>(n)});
        after_input(c, Why::TcpClosed);
    }
    return options_.read_budget - budget;
}

unsigned MsrpChats::poll(uint64_t now_ns) {
    Depth d(*this);
    unsigned work = 0;
    epoll_event evs[kMaxEvents];
    const int n = epoll_wait(epoll_fd_, evs, kMaxEvents, 0);
    std::size_t read = 0;
    // Level-triggered: sockets left unread once the poll's budget is spent
    // are reported again by the next poll().
    for (int i = 0; i < n && read < options_.poll_budget; ++i) {
        const int fd = evs[i].data.fd;
        if (const auto l = listener_of_fd_.find(fd); l != listener_of_fd_.end()) {
            const std::string key = l->second;
            on_listener(key, now_ns);
        } else if (pending_.count(fd) != 0) {
            read += on_pending(fd);
        } else if (const auto c = chat_of_fd_.find(fd); c != chat_of_fd_.end()) {
            const auto it = chats_.find(c->second);
            if (it != chats_.end() && !it->second->ended)
                read += on_chat_fd(*it->second, evs[i].events);
        }
        ++work;
    }
    if (now_ns >= next_timer_ns_) {
        next_timer_ns_ = now_ns + kTimerPeriodNs;
        for (auto& [key, c] : chats_) {
            if (!c->ended && !c->up && now_ns >= c->deadline_ns) end(*c, Why::Timeout);
        }
        for (auto p = pending_.begin(); p != pending_.end();) {
            const auto next = std::next(p);
            if (now_ns >= p->second.deadline_ns) {
                ++counters_.pending_dropped;
                close_pending(p->first);
            }
            p = next;
        }
    }
    return work;
}

}  // namespace isthmus::datachannel
