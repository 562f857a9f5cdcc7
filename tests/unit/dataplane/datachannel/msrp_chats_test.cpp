// The slow path's chats (dataplane/datachannel/msrp_chats.hpp) with real
// TCP sockets on the loopback: the test plays the IMS UE (a TCP peer
// speaking MSRP) and the browser's data channel (a fake channel that
// records what the chat sends and can refuse to take it).
#include "datachannel/msrp_chats.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "msrp/fields.hpp"
#include "msrp/parser.hpp"
#include "msrp/reply.hpp"
#include "msrp/serializer.hpp"
#include "msrp/spec.hpp"

namespace isthmus::datachannel {
namespace {

constexpr uint64_t kSecond = 1'000'000'000ULL;
const char* const kBrowserPath = "msrp://abcd.invalid:9/browser1;dc";

dpif::IpEndpoint loopback(uint16_t port) {
    dpif::IpEndpoint e{};
    e.family = 4;
    e.port = port;
    const uint8_t a[4] = {127, 0, 0, 1};
    std::memcpy(e.addr, a, 4);
    return e;
}

// A TCP port nothing listens on right now.
uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// A socket listening on 127.0.0.1 on a port of the kernel's choosing.
struct Listening {
    int fd = -1;
    uint16_t port = 0;
    Listening() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(::listen(fd, 4), 0);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~Listening() {
        if (fd >= 0) ::close(fd);
    }
};

std::string ue_uri(uint16_t port, const std::string& sid) {
    return "msrp://127.0.0.1:" + std::to_string(port) + "/" + sid + ";tcp";
}

dpif::MsrpSpec make_spec(uint8_t setup, uint16_t local_port, uint16_t ue_port,
                         const std::string& sid = "gwsession1") {
    dpif::MsrpSpec s{};
    s.setup = setup;
    s.tcp_local = loopback(local_port);
    if (setup == dpif::kMsrpActive) s.tcp_remote = loopback(ue_port);
    s.channel_id = dpif::kMsrpAnyChannel;
    msrp::set_spec_text(s.session_id, sizeof s.session_id, sid);
    msrp::set_spec_text(s.browser_path, sizeof s.browser_path, kBrowserPath);
    msrp::set_spec_text(s.ue_path, sizeof s.ue_path, ue_uri(ue_port, "ue1"));
    return s;
}

msrp::ChatLegs legs_of(const dpif::MsrpSpec& s) {
    std::string why;
    auto legs = msrp::chat_legs(s, loopback(40000), &why);
    EXPECT_TRUE(legs.has_value()) << why;
    return *legs;
}

// A SEND as the test writes it (UE or browser).
std::string send_text(const std::string& tid, const std::string& to, const std::string& from,
                      const std::string& body) {
    return "MSRP " + tid + " SEND\r\nTo-Path: " + to + "\r\nFrom-Path: " + from +
           "\r\nMessage-ID: m" + tid + "\r\nByte-Range: 1-" + std::to_string(body.size()) + "/" +
           std::to_string(body.size()) + "\r\nContent-Type: text/plain\r\n\r\n" + body +
           "\r\n-------" + tid + "$\r\n";
}

struct FakeChannel {
    std::vector<std::string> got;
    bool blocked = false;
    int closes = 0;
    ChatChannel channel() {
        ChatChannel c;
        c.send = [this](std::span<const uint8_t> m) {
            if (blocked) return false;
            got.emplace_back(reinterpret_cast<const char*>(m.data()), m.size());
            return true;
        };
        c.close = [this] { ++closes; };
        return c;
    }
};

// The UE's end of a TCP connection: blocking reads with a deadline, framed.
struct UePeer {
    int fd = -1;
    msrp::StreamFramer framer;
    std::vector<msrp::Message> in;
    ~UePeer() {
        if (fd >= 0) ::close(fd);
    }
    bool connect_to(uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    void write(const std::string& s) const {
        ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
    }
    // Reads what is there (without waiting); false on EOF.
    bool read_some() {
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0) return false;
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
            framer.feed({buf, static_cast<std::size_t>(n)}, in);
        }
    }
};

class MsrpChatsTest : public ::testing::Test {
  protected:
    MsrpChatsTest() : chats(options(), [this] { return "tid" + std::to_string(++ids); }) {}
    static ChatOptions options() {
        ChatOptions o;
        o.bridge.max_queued_bytes = 64 * 1024;
        return o;
    }
    // Polls the chats (clock `now`) until `done` or 3 s of real time pass.
    template <typename F>
    bool pump(F done, uint64_t now = kSecond) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (std::chrono::steady_clock::now() < until) {
            chats.poll(now);
            if (done()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return done();
    }
    int ids = 0;
    MsrpChats chats;
};

TEST_F(MsrpChatsTest, PassiveChatRelaysBothWays) {
    const uint16_t port = free_port();
    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpPassive, port, 2855);
    const msrp::ChatLegs legs = legs_of(spec);
    FakeChannel ch;
    std::string why;
    ASSERT_TRUE(chats.start(7, legs, spec, ch.channel(), kSecond, &why)) << why;
    EXPECT_EQ(chats.listeners(), 1U);
    EXPECT_FALSE(chats.tcp_up(7));

    // The UE connects and sends to our TCP URI: the browser gets it, with
    // its own path and ours, and the UE its 200.
    UePeer ue;
    ASSERT_TRUE(ue.connect_to(port));
    const std::string our_tcp = msrp::to_string(legs.tcp.self);
    EXPECT_EQ(our_tcp, "msrp://127.0.0.1:" + std::to_string(port) + "/gwsession1;tcp");
    ue.write(send_text("ue1tx1", our_tcp, ue_uri(2855, "ue1"), "hello browser"));
    ASSERT_TRUE(pump([&] { return ch.got.size() == 1; }));
    EXPECT_TRUE(chats.tcp_up(7));
    msrp::ParseResult r = msrp::parse_message(ch.got[0]);
    ASSERT_TRUE(r.ok()) << r.reason;
    EXPECT_EQ(r.message.body, "hello browser");
    EXPECT_EQ(msrp::to_string(r.message.to_path), kBrowserPath);
    EXPECT_EQ(msrp::to_string(r.message.from_path), "msrp://127.0.0.1:40000/gwsession1;dc");
    ASSERT_TRUE(pump([&] { return ue.read_some() && ue.in.size() == 1; }));
    EXPECT_TRUE(ue.in[0].is_response());
    EXPECT_EQ(ue.in[0].status_code, 200);
    EXPECT_EQ(ue.in[0].transaction_id, "ue1tx1");

    // The browser answers on the channel and writes back: the UE gets the
    // SEND on TCP with its path, the browser its 200.
    const std::string ok = msrp::serialize(msrp::make_response(r.message, 200));
    chats.from_channel(7, std::span(reinterpret_cast<const uint8_t*>(ok.data()), ok.size()));
    EXPECT_EQ(chats.bridge(7)->stats()[msrp::BridgeCounter::ResponsesConsumed], 1U);
    const std::string b2u =
        send_text("br1tx1", msrp::to_string(legs.channel.self), kBrowserPath, "hello UE");
    chats.from_channel(7, std::span(reinterpret_cast<const uint8_t*>(b2u.data()), b2u.size()));
    ASSERT_EQ(ch.got.size(), 2U);  // the 200 for br1tx1, at once
    EXPECT_TRUE(msrp::parse_message(ch.got[1]).message.is_response());
    ASSERT_TRUE(pump([&] { return ue.read_some() && ue.in.size() == 2; }));
    EXPECT_TRUE(ue.in[1].is_send());
    EXPECT_EQ(ue.in[1].body, "hello UE");
    EXPECT_EQ(msrp::to_string(ue.in[1].to_path), ue_uri(2855, "ue1"));
    EXPECT_EQ(msrp::to_string(ue.in[1].from_path), our_tcp);
    EXPECT_EQ(chats.bridge_stats()[msrp::BridgeCounter::RelayedToTcp], 1U);
    EXPECT_EQ(chats.bridge_stats()[msrp::BridgeCounter::RelayedToChannel], 1U);

    // The UE closes: the chat ends, the channel is closed, the listener goes.
    ::close(ue.fd);
    ue.fd = -1;
    ASSERT_TRUE(pump([&] { return !chats.has(7); }));
    EXPECT_EQ(ch.closes, 1);
    EXPECT_EQ(chats.counters().tcp_closed, 1U);
    EXPECT_EQ(chats.counters().ended, 1U);
    EXPECT_EQ(chats.listeners(), 0U);
    EXPECT_EQ(chats.bridge_stats()[msrp::BridgeCounter::RelayedToTcp], 1U);  // kept after the end
}

TEST_F(MsrpChatsTest, OneListenerServesChatsBySessionId) {
    const uint16_t port = free_port();
    const dpif::MsrpSpec a = make_spec(dpif::kMsrpPassive, port, 2855, "sessionA");
    const dpif::MsrpSpec b = make_spec(dpif::kMsrpPassive, port, 2856, "sessionB");
    FakeChannel cha, chb;
    ASSERT_TRUE(chats.start(1, legs_of(a), a, cha.channel(), kSecond));
    ASSERT_TRUE(chats.start(2, legs_of(b), b, chb.channel(), kSecond));
    EXPECT_EQ(chats.listeners(), 1U);
    UePeer ub, ua;
    ASSERT_TRUE(ub.connect_to(port));
    ASSERT_TRUE(ua.connect_to(port));
    ub.write(send_text("tb1x", msrp::to_string(legs_of(b).tcp.self), ue_uri(2856, "ue1"), "to B"));
    ua.write(send_text("ta1x", msrp::to_string(legs_of(a).tcp.self), ue_uri(2855, "ue1"), "to A"));
    ASSERT_TRUE(pump([&] { return cha.got.size() == 1 && chb.got.size() == 1; }));
    EXPECT_EQ(msrp::parse_message(cha.got[0]).message.body, "to A");
    EXPECT_EQ(msrp::parse_message(chb.got[0]).message.body, "to B");
    // One chat stops: the listener stays for the other.
    chats.stop(1);
    EXPECT_EQ(cha.closes, 1);
    EXPECT_EQ(chats.listeners(), 1U);
    EXPECT_TRUE(pump([&] { return !ua.read_some(); }));  // its connection closed
    chats.channel_closed(2);
    EXPECT_EQ(chb.closes, 0);  // the channel went by itself: not closed again
    EXPECT_EQ(chats.listeners(), 0U);
    EXPECT_EQ(chats.counters().channel_closed, 1U);
}

TEST_F(MsrpChatsTest, ConnectionNamingNoChatIsClosed) {
    const uint16_t port = free_port();
    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpPassive, port, 2855);
    FakeChannel ch;
    ASSERT_TRUE(chats.start(7, legs_of(spec), spec, ch.channel(), kSecond));
    UePeer stranger;
    ASSERT_TRUE(stranger.connect_to(port));
    stranger.write(send_text("s1xx", ue_uri(port, "someoneelse"), ue_uri(2855, "ue1"), "hi"));
    ASSERT_TRUE(pump([&] { return chats.counters().unmatched == 1; }));
    EXPECT_TRUE(pump([&] { return !stranger.read_some(); }));
    EXPECT_FALSE(chats.tcp_up(7));
    EXPECT_TRUE(ch.got.empty());
    // Garbage instead of MSRP: closed at its first wrong octet.
    UePeer garbage;
    ASSERT_TRUE(garbage.connect_to(port));
    garbage.write("GET / HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(pump([&] { return chats.counters().pending_dropped == 1; }));
    EXPECT_EQ(chats.pending_connections(), 0U);
    // A connection that never speaks goes after pending_timeout.
    UePeer silent;
    ASSERT_TRUE(silent.connect_to(port));
    ASSERT_TRUE(pump([&] { return chats.pending_connections() == 1; }));
    ASSERT_TRUE(pump([&] { return chats.pending_connections() == 0; }, 20 * kSecond));
    EXPECT_EQ(chats.counters().pending_dropped, 2U);
    EXPECT_TRUE(chats.has(7));  // the chat waits on (its own timeout is 30 s)
}

TEST_F(MsrpChatsTest, PassiveChatTimesOutWithoutConnection) {
    const uint16_t port = free_port();
    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpPassive, port, 2855);
    FakeChannel ch;
    ASSERT_TRUE(chats.start(7, legs_of(spec), spec, ch.channel(), kSecond));
    chats.poll(30 * kSecond);  // just under 30 s after the start
    EXPECT_TRUE(chats.has(7));
    chats.poll(31 * kSecond + 1);
    EXPECT_FALSE(chats.has(7));
    EXPECT_EQ(chats.counters().connect_timeout, 1U);
    EXPECT_EQ(ch.closes, 1);
    EXPECT_EQ(chats.listeners(), 0U);
}

TEST_F(MsrpChatsTest, ActiveChatConnectsAndBindsTheConnection) {
    // The UE listens; the chat connects and sends a bodiless SEND to bind.
    Listening ue_listener;
    const int lfd = ue_listener.fd;
    const uint16_t ue_port = ue_listener.port;

    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpActive, 9, ue_port);
    const msrp::ChatLegs legs = legs_of(spec);
    FakeChannel ch;
    std::string why;
    ASSERT_TRUE(chats.start(9, legs, spec, ch.channel(), kSecond, &why)) << why;
    EXPECT_EQ(chats.listeners(), 0U);
    UePeer ue;
    pollfd p{lfd, POLLIN, 0};
    ASSERT_TRUE(pump([&] { return ::poll(&p, 1, 0) == 1; }));
    ue.fd = ::accept(lfd, nullptr, nullptr);
    ASSERT_GE(ue.fd, 0);
    ASSERT_TRUE(pump([&] { return ue.read_some() && ue.in.size() == 1; }));
    EXPECT_TRUE(chats.tcp_up(9));
    const msrp::Message& bind = ue.in[0];
    EXPECT_TRUE(bind.is_send());
    EXPECT_TRUE(bind.body.empty());
    EXPECT_EQ(msrp::to_string(bind.to_path), ue_uri(ue_port, "ue1"));
    EXPECT_EQ(msrp::to_string(bind.from_path), "msrp://127.0.0.1:9/gwsession1;tcp");
    ue.write(msrp::serialize(msrp::make_response(bind, 200)));
    ue.write(send_text("ue2tx", msrp::to_string(legs.tcp.self), ue_uri(ue_port, "ue1"), "hi"));
    ASSERT_TRUE(pump([&] { return ch.got.size() == 1; }));
    EXPECT_EQ(msrp::parse_message(ch.got[0]).message.body, "hi");
    // The browser's channel goes: the UE's connection closes.
    chats.channel_closed(9);
    EXPECT_TRUE(pump([&] { return !ue.read_some(); }));
    EXPECT_EQ(ch.closes, 0);
}

TEST_F(MsrpChatsTest, RefusedConnectionEndsTheChat) {
    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpActive, 9, free_port());
    FakeChannel ch;
    ASSERT_TRUE(chats.start(9, legs_of(spec), spec, ch.channel(), kSecond));
    ASSERT_TRUE(pump([&] { return !chats.has(9); }));
    EXPECT_EQ(chats.counters().connect_failed, 1U);
    EXPECT_EQ(ch.closes, 1);
}

TEST_F(MsrpChatsTest, ListenFailureIsReported) {
    // The port is taken by a socket of someone else.
    Listening other;
    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpPassive, other.port, 2855);
    FakeChannel ch;
    std::string why;
    EXPECT_FALSE(chats.start(7, legs_of(spec), spec, ch.channel(), kSecond, &why));
    EXPECT_NE(why.find("listen on 127.0.0.1"), std::string::npos) << why;
    EXPECT_EQ(chats.counters().start_failed, 1U);
    EXPECT_FALSE(chats.has(7));
}

TEST_F(MsrpChatsTest, BlockedChannelHoldsMessagesUntilWritable) {
    const uint16_t port = free_port();
    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpPassive, port, 2855);
    const msrp::ChatLegs legs = legs_of(spec);
    FakeChannel ch;
    ch.blocked = true;
    ASSERT_TRUE(chats.start(7, legs, spec, ch.channel(), kSecond));
    UePeer ue;
    ASSERT_TRUE(ue.connect_to(port));
    const std::string our = msrp::to_string(legs.tcp.self);
    ue.write(send_text("u1xx", our, ue_uri(2855, "ue1"), "one"));
    ue.write(send_text("u2xx", our, ue_uri(2855, "ue1"), "two"));
    ASSERT_TRUE(
        pump([&] { return chats.bridge(7) != nullptr && chats.bridge(7)->channel_pending(); }));
    EXPECT_TRUE(ch.got.empty());
    EXPECT_GE(chats.counters().channel_blocked, 1U);
    ch.blocked = false;
    chats.channel_writable(7);
    ASSERT_EQ(ch.got.size(), 2U);
    EXPECT_EQ(msrp::parse_message(ch.got[0]).message.body, "one");
    EXPECT_EQ(msrp::parse_message(ch.got[1]).message.body, "two");
}

// A browser slower than the UE is not a failure: while the channel refuses,
// the chat stops reading TCP, so the UE's sends wait in TCP's own flow
// control, and everything arrives once the channel takes messages again.
TEST_F(MsrpChatsTest, BlockedChannelPushesBackOnTheUeThroughTcp) {
    const uint16_t port = free_port();
    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpPassive, port, 2855);
    const msrp::ChatLegs legs = legs_of(spec);
    FakeChannel ch;
    ASSERT_TRUE(chats.start(7, legs, spec, ch.channel(), kSecond));
    UePeer ue;
    ASSERT_TRUE(ue.connect_to(port));
    const std::string our = msrp::to_string(legs.tcp.self);
    ue.write(send_text("u0xx", our, ue_uri(2855, "ue1"), "first"));
    ASSERT_TRUE(pump([&] { return ch.got.size() == 1; }));
    ch.blocked = true;
    // The UE writes without blocking until TCP stops it; the gateway never
    // holds more than its bound meanwhile.
    const std::string body(8000, 'y');
    int written = 0;
    std::string rest;  // the part of a message TCP did not take
    for (int round = 0; round < 2000 && rest.empty(); ++round) {
        const std::string m =
            send_text("u" + std::to_string(round + 1) + "xx", our, ue_uri(2855, "ue1"), body);
        const ssize_t n = ::send(ue.fd, m.data(), m.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) break;  // TCP's window is full: the UE waits
        ++written;
        if (n < static_cast<ssize_t>(m.size())) rest = m.substr(static_cast<std::size_t>(n));
        chats.poll(kSecond);
        ASSERT_TRUE(chats.has(7)) << "after " << written << " messages";
        ASSERT_LE(chats.bridge(7)->channel_queued_bytes(), 64U * 1024 + m.size());
    }
    ASSERT_LT(written, 2000) << "TCP never pushed back";
    EXPECT_GE(chats.counters().channel_blocked, 1U);
    // The channel takes messages again: everything written arrives, in order.
    ch.blocked = false;
    chats.channel_writable(7);
    if (!rest.empty()) {
        std::thread finish([&] { ue.write(rest); });
        ASSERT_TRUE(pump([&] {
            chats.channel_writable(7);
            return ch.got.size() >= static_cast<std::size_t>(written);
        }));
        finish.join();
    }
    ASSERT_TRUE(pump([&] {
        chats.channel_writable(7);
        ue.read_some();
        return ch.got.size() == static_cast<std::size_t>(written) + 1;
    }));
    EXPECT_EQ(msrp::parse_message(ch.got.back()).message.body, body);
    EXPECT_EQ(chats.counters().bridge_failed, 0U);
    EXPECT_TRUE(chats.has(7));
}

TEST(MsrpChatsBudget, OnePollReadsAtMostItsBudget) {
    ChatOptions o;
    o.poll_budget = 32 * 1024;
    o.read_budget = 16 * 1024;
    int ids = 0;
    MsrpChats chats(o, [&] { return "tid" + std::to_string(++ids); });
    const uint16_t port = free_port();
    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpPassive, port, 2855);
    const msrp::ChatLegs legs = legs_of(spec);
    FakeChannel ch;
    ASSERT_TRUE(chats.start(7, legs, spec, ch.channel(), kSecond));
    UePeer ue;
    ASSERT_TRUE(ue.connect_to(port));
    const std::string our = msrp::to_string(legs.tcp.self);
    ue.write(send_text("u0xx", our, ue_uri(2855, "ue1"), "bind"));
    for (int i = 0; i < 200 && !chats.tcp_up(7); ++i) {
        chats.poll(kSecond);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(chats.tcp_up(7));
    std::string lots;
    for (int i = 1; i <= 40; ++i)
        lots += send_text("u" + std::to_string(i) + "xx", our, ue_uri(2855, "ue1"),
                          std::string(4000, 'z'));
    ue.write(lots);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // all of it in our socket
    const uint64_t before = chats.bridge(7)->stats()[msrp::BridgeCounter::TcpInBytes];
    chats.poll(kSecond);
    const uint64_t one = chats.bridge(7)->stats()[msrp::BridgeCounter::TcpInBytes] - before;
    EXPECT_GT(one, 0U);
    EXPECT_LE(one, o.read_budget) << "one socket: at most read_budget per poll";
    // The rest comes with the next polls.
    for (int i = 0; i < 100 && ch.got.size() < 41; ++i)
        chats.poll(kSecond);
    EXPECT_EQ(ch.got.size(), 41U);
}

TEST_F(MsrpChatsTest, StalledUeFailsTheChatWithinItsBound) {
    const uint16_t port = free_port();
    const dpif::MsrpSpec spec = make_spec(dpif::kMsrpPassive, port, 2855);
    const msrp::ChatLegs legs = legs_of(spec);
    FakeChannel ch;
    ASSERT_TRUE(chats.start(7, legs, spec, ch.channel(), kSecond));
    UePeer ue;
    const int small = 4096;
    ue.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ue.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(ue.fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ue.write(send_text("u1xx", msrp::to_string(legs.tcp.self), ue_uri(2855, "ue1"), "bind"));
    ASSERT_TRUE(pump([&] { return chats.tcp_up(7); }));
    // The browser sends and sends; the UE never reads. The kernel's buffers
    // fill, then the bridge's bound (64 KiB here): the chat fails, its
    // channel is closed. Never more than the bound waits in the gateway.
    const std::string body(8000, 'x');
    int sent = 0;
    for (; sent < 5000 && chats.has(7); ++sent) {
        const std::string m = send_text("b" + std::to_string(sent) + "xx",
                                        msrp::to_string(legs.channel.self), kBrowserPath, body);
        chats.from_channel(7, std::span(reinterpret_cast<const uint8_t*>(m.data()), m.size()));
        if (chats.bridge(7) != nullptr) {
            EXPECT_LE(chats.bridge(7)->tcp_queued_bytes(), 64U * 1024 + m.size());
        }
        chats.poll(kSecond);
    }
    EXPECT_FALSE(chats.has(7)) << "after " << sent << " messages";
    EXPECT_EQ(chats.counters().bridge_failed, 1U);
    EXPECT_EQ(chats.bridge_stats().failed(msrp::BridgeFailure::BacklogTcp), 1U);
    EXPECT_EQ(ch.closes, 1);
}

TEST(MsrpSpec, ChatLegsRefuseWhatCannotMakeAChat) {
    const auto refused = [](dpif::MsrpSpec s, const std::string& field) {
        std::string why;
        EXPECT_FALSE(msrp::chat_legs(s, loopback(40000), &why).has_value()) << field;
        EXPECT_NE(why.find(field), std::string::npos) << why;
    };
    dpif::MsrpSpec s = make_spec(dpif::kMsrpPassive, 2855, 2855);
    EXPECT_TRUE(msrp::chat_legs(s, loopback(40000)).has_value());
    dpif::MsrpSpec bad = s;
    bad.setup = 3;
    refused(bad, "msrp.setup");
    bad = s;
    std::memset(bad.session_id, 0, sizeof bad.session_id);
    refused(bad, "msrp.session_id");
    bad = s;
    msrp::set_spec_text(bad.session_id, sizeof bad.session_id, "has space");
    refused(bad, "msrp.session_id");
    bad = s;
    bad.tcp_local.port = 0;
    refused(bad, "msrp.tcp_local");
    bad = s;
    bad.tcp_local.family = 0;
    refused(bad, "msrp.tcp_local");
    bad = s;
    bad.setup = dpif::kMsrpActive;  // no tcp_remote
    refused(bad, "msrp.tcp_remote");
    bad = s;
    msrp::set_spec_text(bad.browser_path, sizeof bad.browser_path, "http://x/y");
    refused(bad, "msrp.browser_path");
    bad = s;
    msrp::set_spec_text(bad.ue_path, sizeof bad.ue_path, "msrp://relay.example.com:2855;tcp");
    refused(bad, "msrp.ue_path");  // its last URI has no session-id
    // A full 100-octet path field (no NUL) is read whole.
    bad = s;
    std::string long_path = "msrp://127.0.0.1:2855/" + std::string(100 - 26, 'a') + ";tcp";
    ASSERT_EQ(long_path.size(), 100U);
    ASSERT_TRUE(msrp::set_spec_text(bad.ue_path, sizeof bad.ue_path, long_path));
    auto legs = msrp::chat_legs(bad, loopback(40000));
    ASSERT_TRUE(legs.has_value());
    EXPECT_EQ(msrp::to_string(legs->tcp.peer_path), long_path);
    EXPECT_FALSE(msrp::set_spec_text(bad.ue_path, sizeof bad.ue_path, long_path + "x"));
}

TEST(MsrpSpec, LocalUrisOfBothFamilies) {
    dpif::IpEndpoint v6{};
    v6.family = 6;
    v6.port = 2855;
    v6.addr[0] = 0x20;
    v6.addr[1] = 0x01;
    v6.addr[2] = 0x0d;
    v6.addr[3] = 0xb8;
    v6.addr[15] = 1;
    EXPECT_EQ(msrp::local_uri(v6, "s1", "tcp"), "msrp://[2001:db8::1]:2855/s1;tcp");
    EXPECT_EQ(msrp::local_uri(loopback(9), "s1", "dc"), "msrp://127.0.0.1:9/s1;dc");
    EXPECT_EQ(msrp::local_uri(dpif::IpEndpoint{}, "s1", "dc"), "");
}

}  // namespace
}  // namespace isthmus::datachannel
