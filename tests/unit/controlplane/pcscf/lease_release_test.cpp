// Guest leases given back to the WWSF (controlplane/pcscf/lease_release.hpp,
// TS 24.371 A.3.3): the release URL's forms; the POST it makes, against a
// small HTTP(S) server on loopback run by the test; over https only a
// certificate that chains to ca_file and names the URL's host is spoken to
// (another CA, another name: no request sent, failed); 2xx released, 4xx
// refused without a retry, 5xx and an unreachable WWSF retried and then
// given up; the pending bound; stop() and wind_down().
#include "pcscf/lease_release.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <istream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace isthmus::pcscf {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

TEST(ReleaseUrl, Forms) {
    std::string error;
    auto u = parse_release_url("https://198.18.25.1:8443/api/guest/release", error);
    ASSERT_TRUE(u) << error;
    EXPECT_TRUE(u->tls);
    EXPECT_EQ(u->host, "198.18.25.1");
    EXPECT_EQ(u->port, "8443");
    EXPECT_EQ(u->target, "/api/guest/release");
    u = parse_release_url("http://wwsf.example.net/api/guest/release", error);
    ASSERT_TRUE(u) << error;
    EXPECT_FALSE(u->tls);
    EXPECT_EQ(u->host, "wwsf.example.net");
    EXPECT_EQ(u->port, "80");
    u = parse_release_url("https://[2001:db8::1]/r", error);
    ASSERT_TRUE(u) << error;
    EXPECT_EQ(u->host, "2001:db8::1");
    EXPECT_EQ(u->port, "443");
    u = parse_release_url("https://[2001:db8::1]:9443/r", error);
    ASSERT_TRUE(u) << error;
    EXPECT_EQ(u->port, "9443");
}

TEST(ReleaseUrl, Refusals) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"ftp://x/y", "https:// or http://"},
        {"https://x", "a path is needed"},
        {"https://x/y?a=b", "no query or fragment"},
        {"https://x/y#f", "no query or fragment"},
        {"https://user@x/y", "no user information"},
        {"https://:80/y", "no host"},
        {"https://x:0/y", "1..65535"},
        {"https://x:65536/y", "1..65535"},
        {"https://x:8a/y", "1..65535"},
        {"https://[2001:db8::1/y", "unclosed ["},
        {"https://[zz]/y", "not an IPv6 address"},
        {"https://[2001:db8::1]x/y", "junk after"},
    };
    for (const auto& [url, why] : bad) {
        std::string error;
        EXPECT_FALSE(parse_release_url(url, error)) << url;
        EXPECT_NE(error.find(why), std::string::npos) << url << ": " << error;
    }
}

// A one-thread HTTP/1.1 server on 127.0.0.1: answers each request with the
// next status of `statuses` (the last one again when they run out) and
// keeps what it received. With `tls`, HTTPS: a connection whose handshake
// fails is counted and closed.
class TinyServer {
  public:
    explicit TinyServer(std::vector<int> statuses, net::ssl::context* tls = nullptr)
        : statuses_(std::move(statuses)),
          tls_(tls),
          acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] { serve(); });
    }
    ~TinyServer() {
        boost::system::error_code ignored;
        stop_ = true;
        // Wake the blocking accept with a connection of our own.
        tcp::socket s(ioc_);
        s.connect(acceptor_.local_endpoint(), ignored);
        thread_.join();
    }
    uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::vector<std::string> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    int handshake_failures() const { return handshake_failures_; }

  private:
    // The head and the Content-Length body of one request.
    template <class Stream>
    static bool read_request(Stream& s, std::string& text) {
        boost::system::error_code ec;
        const std::size_t head = net::read_until(s, net::dynamic_buffer(text), "\r\n\r\n", ec);
        if (ec) return false;
        const auto cl = text.find("Content-Length: ");
        const std::size_t body = cl == std::string::npos ? 0 : std::stoul(text.substr(cl + 16));
        if (text.size() < head + body) {
            net::read(s, net::dynamic_buffer(text),
                      net::transfer_exactly(head + body - text.size()), ec);
        }
        return !ec;
    }
    template <class Stream>
    void answer(Stream& s, std::size_t n) {
        std::string text;
        if (!read_request(s, text)) return;
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(text);
        }
        const int status = statuses_[std::min(n, statuses_.size() - 1)];
        const std::string reply = "HTTP/1.1 " + std::to_string(status) +
                                  " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        boost::system::error_code ec;
        net::write(s, net::buffer(reply), ec);
    }

    void serve() {
        for (std::size_t n = 0;; ++n) {
            tcp::socket s(ioc_);
            boost::system::error_code ec;
            acceptor_.accept(s, ec);
            if (ec || stop_) return;
            if (tls_ == nullptr) {
                answer(s, n);
                continue;
            }
            net::ssl::stream<tcp::socket&> tls(s, *tls_);
            tls.handshake(net::ssl::stream_base::server, ec);
            if (ec) {
                ++handshake_failures_;
                continue;
            }
            answer(tls, n);
            tls.shutdown(ec);
        }
    }

    std::vector<int> statuses_;
    net::ssl::context* tls_;
    net::io_context ioc_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> requests_;
    std::atomic<bool> stop_{false};
    std::atomic<int> handshake_failures_{0};
};

struct Rig {
    net::io_context ioc;
    std::vector<std::string> logs;
    LeaseReleaseConfig config(uint16_t port) const {
        LeaseReleaseConfig c;
        c.url = "http://127.0.0.1:" + std::to_string(port) + "/api/guest/release";
        c.timeout = std::chrono::milliseconds(2000);
        c.max_attempts = 2;
        return c;
    }
    LeaseReleaser::Log log() {
        return [this](const std::string& l) { logs.push_back(l); };
    }
    bool logged(std::string_view what) const {
        for (const std::string& l : logs)
            if (l.find(what) != std::string::npos) return true;
        return false;
    }
};

const GuestLeaseRef kLease{"sip:guest01@ims.example.net", "eyJ.tok\"en"};

TEST(LeaseReleaser, PostsTheIdentityAndTokenAndCountsA200) {
    TinyServer server({200});
    Rig run;
    LeaseReleaser r(run.ioc.get_executor(), run.config(server.port()), run.log());
    r.release(kLease);
    r.release({"sip:guest02@ims.example.net", "t2"});
    EXPECT_EQ(r.pending(), 2u);
    run.ioc.run_for(std::chrono::seconds(5));
    EXPECT_EQ(r.stats().released, 2u);
    EXPECT_EQ(r.pending(), 0u);
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].rfind("POST /api/guest/release HTTP/1.1\r\n", 0), 0u) << reqs[0];
    EXPECT_NE(reqs[0].find("Content-Type: application/json\r\n"), std::string::npos);
    EXPECT_NE(reqs[0].find("Host: 127.0.0.1:"), std::string::npos);
    // The token's quote escaped: the body is JSON.
    EXPECT_NE(reqs[0].find(R"({"identity":"sip:guest01@ims.example.net","token":"eyJ.tok\"en"})"),
              std::string::npos)
        << reqs[0];
    EXPECT_NE(reqs[1].find(R"("identity":"sip:guest02@ims.example.net")"), std::string::npos);
    EXPECT_TRUE(run.logged("event=guest_lease_released identity=sip:guest01@ims.example.net"));
    for (const std::string& l : run.logs)
        EXPECT_EQ(l.find("tok"), std::string::npos) << "a token logged: " << l;
}

TEST(LeaseReleaser, A403IsNotRetried) {
    TinyServer server({403});
    Rig run;
    LeaseReleaser r(run.ioc.get_executor(), run.config(server.port()), run.log());
    r.release(kLease);
    run.ioc.run_for(std::chrono::seconds(5));
    EXPECT_EQ(r.stats().refused, 1u);
    EXPECT_EQ(r.stats().retried, 0u);
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(LeaseReleaser, A503IsRetriedOnce) {
    TinyServer server({503, 200});
    Rig run;
    LeaseReleaser r(run.ioc.get_executor(), run.config(server.port()), run.log());
    r.release(kLease);
    run.ioc.run_for(std::chrono::seconds(5));
    EXPECT_EQ(r.stats().retried, 1u);
    EXPECT_EQ(r.stats().released, 1u);
    EXPECT_EQ(server.requests().size(), 2u);
    EXPECT_TRUE(
        run.logged("event=guest_lease_release_retry identity=sip:guest01@ims.example.net "
                   "attempt=1 status=503 in_s=1"));
}

TEST(LeaseReleaser, AnUnreachableWwsfIsGivenUpAfterMaxAttempts) {
    uint16_t port = 0;
    {  // a port nothing listens on any more
        net::io_context ioc;
        tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }
    Rig run;
    LeaseReleaser r(run.ioc.get_executor(), run.config(port), run.log());
    r.release(kLease);
    run.ioc.run_for(std::chrono::seconds(5));
    EXPECT_EQ(r.stats().retried, 1u);
    EXPECT_EQ(r.stats().failed, 1u);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_TRUE(
        run.logged("event=guest_lease_release_failed identity=sip:guest01@ims.example.net "
                   "attempts=2 error=\"connect:"));
}

TEST(LeaseReleaser, PendingIsBoundedAndStopLogsWhatWaited) {
    Rig run;
    LeaseReleaseConfig c = run.config(1);
    c.max_pending = 2;
    LeaseReleaser r(run.ioc.get_executor(), c, run.log());
    for (int i = 0; i < 3; ++i)
        r.release({"sip:g" + std::to_string(i) + "@ims.example.net", "t"});
    EXPECT_EQ(r.pending(), 2u);
    EXPECT_EQ(r.stats().dropped, 1u);
    EXPECT_TRUE(
        run.logged("event=guest_lease_not_released identity=sip:g2@ims.example.net "
                   "reason=queue_full"));
    r.stop();
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_TRUE(run.logged("identity=sip:g0@ims.example.net reason=shutdown"));
    r.release(kLease);  // after stop(): nothing
    EXPECT_EQ(r.pending(), 0u);
    run.ioc.run_for(std::chrono::milliseconds(100));
}

TEST(LeaseReleaser, WindDownSendsWithoutRetriesAndLetsTheLoopEnd) {
    TinyServer server({503});
    Rig run;
    LeaseReleaser r(run.ioc.get_executor(), run.config(server.port()), run.log());
    r.wind_down(std::chrono::seconds(3));
    r.release(kLease);
    const auto t0 = std::chrono::steady_clock::now();
    run.ioc.run();  // returns once nothing is left to do
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(r.stats().failed, 1u);
    EXPECT_EQ(r.stats().retried, 0u);
}

// Two self-signed certificates made by openssl in a directory of their
// own: "wwsf" names IP 127.0.0.1 only (no DNS name), "stranger" 127.0.0.1 too.
class TwoCerts {
  public:
    TwoCerts() {
        char dir[] = "/tmp/isthmus-lease-XXXXXX";
        if (!mkdtemp(dir)) return;
        dir_ = dir;
        ok_ = make("wwsf") && make("stranger");
    }
    ~TwoCerts() {
        std::error_code ignored;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
    }
    bool ok() const { return ok_; }
    std::string cert(const std::string& name) const { return (dir_ / (name + ".crt")).string(); }
    std::string key(const std::string& name) const { return (dir_ / (name + ".key")).string(); }
    // A TLS server context presenting `name`'s certificate.
    void serve_as(net::ssl::context& ctx, const std::string& name) const {
        ctx.use_certificate_chain_file(cert(name));
        ctx.use_private_key_file(key(name), net::ssl::context::pem);
    }

  private:
    bool make(const std::string& name) {
        const std::string cmd =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
            "-subj /CN=" +
            name + " -addext subjectAltName=IP:127.0.0.1 -keyout " + key(name) + " -out " +
            cert(name) + " 2>/dev/null";
        return std::system(cmd.c_str()) == 0;
    }
    std::filesystem::path dir_;
    bool ok_ = false;
};

TEST(LeaseReleaser, OverHttpsTheWwsfsCertificateIsVerified) {
    TwoCerts certs;
    ASSERT_TRUE(certs.ok()) << "openssl req failed";
    net::ssl::context server_ctx(net::ssl::context::tls_server);
    certs.serve_as(server_ctx, "wwsf");
    TinyServer server({200}, &server_ctx);
    const std::string port = std::to_string(server.port());
    struct Case {
        const char* what;
        std::string url, ca_file;
        bool released;
    };
    const Case cases[] = {
        {"the right CA and the certificate's IP",
         "https://127.0.0.1:" + port + "/api/guest/release", certs.cert("wwsf"), true},
        {"another CA", "https://127.0.0.1:" + port + "/api/guest/release", certs.cert("stranger"),
         false},
        {"the system's CAs", "https://127.0.0.1:" + port + "/api/guest/release", "", false},
        {"a name the certificate does not carry",
         "https://localhost:" + port + "/api/guest/release", certs.cert("wwsf"), false},
    };
    std::size_t served = 0;
    int failed_handshakes = 0;
    for (const Case& c : cases) {
        Rig run;
        LeaseReleaseConfig config = run.config(server.port());
        config.url = c.url;
        config.ca_file = c.ca_file;
        config.max_attempts = 1;
        LeaseReleaser r(run.ioc.get_executor(), config, run.log());
        r.release(kLease);
        run.ioc.run_for(std::chrono::seconds(3));
        EXPECT_EQ(r.stats().released, c.released ? 1u : 0u) << c.what;
        EXPECT_EQ(r.stats().failed, c.released ? 0u : 1u) << c.what;
        if (c.released) {
            ++served;
        } else {
            ++failed_handshakes;
            EXPECT_TRUE(run.logged("event=guest_lease_release_failed identity=sip:guest01@"))
                << c.what;
            EXPECT_TRUE(run.logged("certificate verify failed")) << c.what;
        }
        // Nothing was sent to a server that was not verified: the token
        // only ever reached the one that was.
        EXPECT_EQ(server.requests().size(), served) << c.what;
        for (int i = 0; i < 50 && server.handshake_failures() < failed_handshakes; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        EXPECT_EQ(server.handshake_failures(), failed_handshakes) << c.what;
        for (const std::string& l : run.logs)
            EXPECT_EQ(l.find("tok"), std::string::npos) << "a token logged: " << l;
    }
}

TEST(LeaseReleaser, RefusesABadUrlOrCaFile) {
    net::io_context ioc;
    LeaseReleaseConfig c;
    c.url = "nope";
    EXPECT_THROW(LeaseReleaser(ioc.get_executor(), c, {}), std::invalid_argument);
    c.url = "https://127.0.0.1/x";
    c.ca_file = "/nonexistent/ca.pem";
    EXPECT_THROW(LeaseReleaser(ioc.get_executor(), c, {}), std::invalid_argument);
}

}  // namespace
}  // namespace isthmus::pcscf
