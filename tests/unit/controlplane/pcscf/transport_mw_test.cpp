// Mw transports: UDP and TCP (RFC 3261 18) against raw loopback sockets, in
// process, ephemeral ports. Reads on the test's sockets time out after 5 s
// (SO_RCVTIMEO) so that a failure never hangs.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pcscf/transport_set.hpp"
#include "transport_testing.hpp"

namespace isthmus::pcscf {
namespace {

using tcp = net::ip::tcp;
using udp = net::ip::udp;
using namespace std::chrono_literals;

using test::Event;
using test::Mailbox;

// Transports run by `threads` threads, the core's callbacks feeding a
// Mailbox (and checking that they run on the core's strand).
class Server {
  public:
    explicit Server(const TransportsConfig& config, int threads = 1)
        : transports_(config, TransportHandlers{
                                  .on_message =
                                      [this](std::string bytes, Peer from) {
                                          check_strand();
                                          events_.push({false, std::move(bytes), from, from.flow});
                                      },
                                  .on_flow_closed =
                                      [this](uint64_t flow) {
                                          check_strand();
                                          events_.push({true, {}, {}, flow});
                                      },
                                  .on_unreachable =
                                      [this](Peer to) {
                                          check_strand();
                                          events_.push({false, {}, to, 0, true});
                                      },
                              }) {
        transports_.start();
        for (int i = 0; i < threads; ++i) {
            threads_.emplace_back([this] { transports_.context().run(); });
        }
    }
    ~Server() { stop(); }
    void stop() {
        if (threads_.empty()) return;
        transports_.shutdown();
        for (auto& t : threads_)
            t.join();
        threads_.clear();
    }
    Transports& t() { return transports_; }
    Mailbox& events() { return events_; }
    int off_strand() const { return off_strand_; }
    int overlapping() const { return overlapping_; }

  private:
    // On the core's strand, and never two callbacks at once.
    void check_strand() {
        if (!transports_.core_executor().running_in_this_thread()) ++off_strand_;
        if (inside_.exchange(true)) ++overlapping_;
        std::this_thread::yield();
        inside_ = false;
    }
    Mailbox events_;
    std::atomic<int> off_strand_{0};
    std::atomic<int> overlapping_{0};
    std::atomic<bool> inside_{false};
    Transports transports_;
    std::vector<std::thread> threads_;
};

const std::string kOptions =
    "OPTIONS sip:scscf.ims.example SIP/2.0\r\n"
    "Via: SIP/2.0/TCP pcscf.example;branch=z9hG4bK1\r\n"
    "Content-Length: 0\r\n\r\n";
const std::string kMessage =
    "MESSAGE sip:ue@ims.example SIP/2.0\r\n"
    "Via: SIP/2.0/TCP scscf.ims.example;branch=z9hG4bK2\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 5\r\n\r\n"
    "hello";
const std::string kOk = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

const net::ip::address kLoopback = net::ip::make_address("127.0.0.1");

TransportsConfig mw_config(TcpConfig tcp_config = {}, UdpConfig udp_config = {}) {
    TransportsConfig c;
    udp_config.address = "127.0.0.1";
    udp_config.port = 0;
    tcp_config.address = "127.0.0.1";
    tcp_config.port = 0;
    c.udp = udp_config;
    c.tcp = tcp_config;
    return c;
}

template <class Socket>
void set_receive_timeout(Socket& s) {
    timeval tv{5, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Reads exactly n bytes (fewer on EOF or the 5 s timeout).
std::string read_n(tcp::socket& s, std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::recv(s.native_handle(), out.data() + got, n - got, 0);
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    out.resize(got);
    return out;
}

// Whether the server closed the connection (FIN, or RST when it closed
// with our bytes unread) within 5 s, after any bytes it sent.
bool wait_for_close(tcp::socket& s) {
    char buf[256];
    ssize_t r = 0;
    while ((r = ::recv(s.native_handle(), buf, sizeof buf, 0)) > 0) {
    }
    return r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

Peer to_peer(Transport transport, const net::ip::address& a, uint16_t port, uint64_t flow = 0) {
    Peer p;
    p.transport = transport;
    p.flow = flow;
    p.address = peer_address(a);
    p.port = port;
    return p;
}

class MwTest : public ::testing::Test {
  protected:
    net::io_context ioc_;  // the test's own sockets (blocking use only)

    tcp::socket connect_tcp(Server& server) {
        tcp::socket s(ioc_);
        s.connect(tcp::endpoint(kLoopback, server.t().tcp()->local_endpoint().port()));
        s.set_option(tcp::no_delay(true));
        set_receive_timeout(s);
        return s;
    }
};

TEST_F(MwTest, UdpDatagramsBothWays) {
    Server server(mw_config());
    udp::socket client(ioc_, udp::endpoint(kLoopback, 0));
    set_receive_timeout(client);
    udp::endpoint to(kLoopback, server.t().udp()->local_endpoint().port());
    client.send_to(net::buffer(kOptions), to);
    auto e = server.events().pop();
    ASSERT_TRUE(e && !e->closed);
    EXPECT_EQ(e->bytes, kOptions);
    EXPECT_EQ(e->peer, to_peer(Transport::Udp, kLoopback, client.local_endpoint().port()));

    ASSERT_TRUE(server.t().send(e->peer, kOk));
    char buf[2048];
    ssize_t n = ::recv(client.native_handle(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), kOk);

    // An IPv6 peer cannot be reached from an IPv4 socket.
    EXPECT_FALSE(server.t().send(to_peer(Transport::Udp, net::ip::make_address("::1"), 5060), kOk));
    server.stop();
    EXPECT_EQ(server.t().udp()->counters().messages_out.load(), 1u);
    EXPECT_EQ(server.t().udp()->counters().send_dropped.load(), 1u);
}

TEST_F(MwTest, UdpOversizeAndEmptyDatagramsAreDropped) {
    UdpConfig udp_config;
    udp_config.max_datagram = 512;
    Server server(mw_config({}, udp_config));
    udp::socket client(ioc_, udp::endpoint(kLoopback, 0));
    udp::endpoint to(kLoopback, server.t().udp()->local_endpoint().port());
    client.send_to(net::buffer(std::string(513, 'x')), to);
    client.send_to(net::buffer(std::string()), to);
    std::string largest = kOptions + std::string(512 - kOptions.size(), ' ');
    client.send_to(net::buffer(largest), to);
    // Loopback keeps one socket's datagrams in order: the drops came first.
    auto e = server.events().pop();
    ASSERT_TRUE(e && !e->closed);
    EXPECT_EQ(e->bytes, largest);
    const auto& c = server.t().udp()->counters();
    EXPECT_EQ(c.dropped_oversize.load(), 1u);
    EXPECT_EQ(c.dropped_empty.load(), 1u);
    EXPECT_EQ(c.messages_in.load(), 1u);
}

TEST_F(MwTest, TcpTwoMessagesInOneSegment) {
    Server server(mw_config());
    tcp::socket client = connect_tcp(server);
    net::write(client, net::buffer(kOptions + kMessage));
    auto a = server.events().pop();
    auto b = server.events().pop();
    ASSERT_TRUE(a && b && !a->closed && !b->closed);
    EXPECT_EQ(a->bytes, kOptions);
    EXPECT_EQ(b->bytes, kMessage);
    EXPECT_NE(a->peer.flow, 0u);
    EXPECT_EQ(a->peer, b->peer);
    EXPECT_EQ(a->peer,
              to_peer(Transport::Tcp, kLoopback, client.local_endpoint().port(), a->peer.flow));

    ASSERT_TRUE(server.t().send(a->peer, kOk));
    EXPECT_EQ(read_n(client, kOk.size()), kOk);
}

TEST_F(MwTest, TcpOneMessageOverThreeWrites) {
    Server server(mw_config());
    tcp::socket client = connect_tcp(server);
    // Inside the start line, inside the body, the rest.
    const std::size_t cut1 = 10;
    const std::size_t cut2 = kMessage.size() - 3;
    net::write(client, net::buffer(kMessage.substr(0, cut1)));
    EXPECT_FALSE(server.events().pop(50ms));  // Incomplete: waits
    net::write(client, net::buffer(kMessage.substr(cut1, cut2 - cut1)));
    EXPECT_FALSE(server.events().pop(50ms));  // the body is not all there
    net::write(client, net::buffer(kMessage.substr(cut2)));
    auto e = server.events().pop();
    ASSERT_TRUE(e && !e->closed);
    EXPECT_EQ(e->bytes, kMessage);
    EXPECT_FALSE(server.events().pop(0ms));
}

TEST_F(MwTest, TcpGarbageAndUnframedStreamsAreClosed) {
    Server server(mw_config());
    // Not SIP at all.
    tcp::socket garbage = connect_tcp(server);
    net::write(garbage, net::buffer(std::string("\x16\x03\x01 hello, not SIP\r\n\r\n")));
    EXPECT_TRUE(wait_for_close(garbage));
    auto e = server.events().pop();
    ASSERT_TRUE(e && e->closed);  // the flow opened (accepted), so it is reported closed

    // SIP without Content-Length cannot be framed on a stream (18.3).
    tcp::socket unframed = connect_tcp(server);
    net::write(unframed, net::buffer(std::string("OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n")));
    EXPECT_TRUE(wait_for_close(unframed));
    e = server.events().pop();
    ASSERT_TRUE(e && e->closed);

    // Headers that never end: bounded by max_message_bytes.
    tcp::socket endless = connect_tcp(server);
    std::string lines = "OPTIONS sip:a SIP/2.0\r\n";
    while (lines.size() < 70000)
        lines += "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    boost::system::error_code ignored;
    net::write(endless, net::buffer(lines), ignored);  // may be cut short by the close
    EXPECT_TRUE(wait_for_close(endless));
    e = server.events().pop();
    ASSERT_TRUE(e && e->closed);

    server.stop();
    const auto& c = server.t().tcp()->counters();
    EXPECT_EQ(c.messages_in.load(), 0u);
    EXPECT_EQ(c.closes_of(CloseReason::ParseError) + c.closes_of(CloseReason::BufferFull), 3u);
    auto parse = [&](sip::ParseError pe) {
        return c.parse_errors[static_cast<std::size_t>(pe)].load();
    };
    EXPECT_EQ(parse(sip::ParseError::BadStartLine), 1u);
    EXPECT_EQ(parse(sip::ParseError::MissingContentLength), 1u);
}

TEST_F(MwTest, TcpKeepaliveIsAnswered) {
    Server server(mw_config());
    tcp::socket client = connect_tcp(server);
    net::write(client, net::buffer(std::string("\r\n\r\n")));  // RFC 5626 4.4.1 ping
    EXPECT_EQ(read_n(client, 2), "\r\n");
    net::write(client, net::buffer(kOptions));  // and the stream goes on
    auto e = server.events().pop();
    ASSERT_TRUE(e && !e->closed);
    EXPECT_EQ(e->bytes, kOptions);
    EXPECT_EQ(server.t().tcp()->counters().keepalives.load(), 1u);
}

TEST_F(MwTest, TcpConnectOnDemandAndReuse) {
    Server server(mw_config());
    tcp::acceptor ims(ioc_, tcp::endpoint(kLoopback, 0));
    Peer next_hop = to_peer(Transport::Tcp, kLoopback, ims.local_endpoint().port());

    ASSERT_TRUE(server.t().send(next_hop, kOptions));
    tcp::socket conn = ims.accept();
    set_receive_timeout(conn);
    EXPECT_EQ(read_n(conn, kOptions.size()), kOptions);
    net::write(conn, net::buffer(kOk));
    auto e = server.events().pop();
    ASSERT_TRUE(e && !e->closed);
    EXPECT_EQ(e->bytes, kOk);
    EXPECT_NE(e->peer.flow, 0u);
    EXPECT_EQ(e->peer.port, next_hop.port);

    // Flow 0 to the same endpoint, and the flow itself: the same connection.
    ASSERT_TRUE(server.t().send(next_hop, kMessage));
    ASSERT_TRUE(server.t().send(e->peer, kOk));
    EXPECT_EQ(read_n(conn, kMessage.size() + kOk.size()), kMessage + kOk);
    ims.non_blocking(true);
    boost::system::error_code ec;
    tcp::socket none = ims.accept(ec);
    EXPECT_EQ(ec, net::error::would_block);
    EXPECT_EQ(server.t().tcp()->counters().connections_total.load(), 1u);

    conn.close();
    auto closed = server.events().pop();
    ASSERT_TRUE(closed && closed->closed);
    EXPECT_EQ(closed->flow, e->peer.flow);
    EXPECT_FALSE(server.t().send(e->peer, kOk));  // gone
}

// A connection made on demand that fails (nobody listens): what was queued
// is dropped, counted, and the core hears the peer was unreachable — with
// flow 0, the way it addressed it — but no flow closed, since none opened.
TEST_F(MwTest, TcpConnectFailureReportsThePeerUnreachable) {
    Server server(mw_config());
    tcp::acceptor gone(ioc_, tcp::endpoint(kLoopback, 0));
    const uint16_t port = gone.local_endpoint().port();
    gone.close();  // refused from now on
    const Peer next_hop = to_peer(Transport::Tcp, kLoopback, port);
    ASSERT_TRUE(server.t().send(next_hop, kOptions));  // queued until it connects
    const auto e = server.events().pop();
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->unreachable);
    EXPECT_FALSE(e->closed);
    EXPECT_EQ(e->peer, next_hop);
    EXPECT_EQ(server.t().tcp()->counters().closes_of(CloseReason::ConnectFailed), 1u);
    EXPECT_FALSE(server.events().pop(200ms));  // no on_flow_closed
}

TEST_F(MwTest, TcpCloseFlowAfterQueue) {
    Server server(mw_config());
    tcp::socket client = connect_tcp(server);
    net::write(client, net::buffer(kOptions));
    auto e = server.events().pop();
    ASSERT_TRUE(e && !e->closed);
    ASSERT_TRUE(server.t().send(e->peer, kOk));
    server.t().close_flow(e->peer);
    EXPECT_EQ(read_n(client, kOk.size()), kOk);
    EXPECT_TRUE(wait_for_close(client));
    auto closed = server.events().pop();
    ASSERT_TRUE(closed && closed->closed);
    EXPECT_EQ(closed->flow, e->peer.flow);
    EXPECT_EQ(server.t().tcp()->counters().closes_of(CloseReason::LocalClose), 1u);
}

// Three threads run the io_context; eight TCP flows send 100 messages each,
// interleaved: every callback runs on the core's strand, one at a time, and
// each flow's messages arrive in order.
TEST_F(MwTest, CallbacksOnTheCoreStrandWithThreeThreads) {
    Server server(mw_config(), 3);
    constexpr int kFlows = 8;
    constexpr int kMessages = 100;
    std::vector<tcp::socket> clients;
    for (int i = 0; i < kFlows; ++i)
        clients.push_back(connect_tcp(server));
    auto message = [](int flow, int n) {
        std::string body = std::to_string(flow) + ":" + std::to_string(n);
        return "MESSAGE sip:ue@ims.example SIP/2.0\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    for (int n = 0; n < kMessages; ++n) {
        for (int f = 0; f < kFlows; ++f)
            net::write(clients[static_cast<std::size_t>(f)], net::buffer(message(f, n)));
    }
    std::map<uint16_t, int> next;  // by client port: the next n expected
    std::map<uint16_t, int> flow_of_port;
    for (int f = 0; f < kFlows; ++f) {
        flow_of_port[clients[static_cast<std::size_t>(f)].local_endpoint().port()] = f;
    }
    for (int i = 0; i < kFlows * kMessages; ++i) {
        auto e = server.events().pop();
        ASSERT_TRUE(e && !e->closed);
        int f = flow_of_port.at(e->peer.port);
        int& n = next[e->peer.port];
        EXPECT_EQ(e->bytes, message(f, n)) << "flow " << f;
        ++n;
    }
    server.stop();
    EXPECT_EQ(server.off_strand(), 0);
    EXPECT_EQ(server.overlapping(), 0);
}

}  // namespace
}  // namespace isthmus::pcscf
