// Guest identities given back to the WWSF (TS 24.371 A.3.3, issue 8). A
// guest registers with a token for an identity the WWSF leased from its
// pool; when that registration ends (its WebSocket closed, it de-registered
// or expired: PcscfCore::poll_lease_end), the eP-CSCF tells the WWSF at
// once, so the identity goes back to the pool instead of staying taken
// until the lease's end:
//
//   POST /api/guest/release HTTP/1.1            (docs/wwsf.md)
//   Content-Type: application/json
//   {"identity":"sip:guest0001@ims.example.net","token":"<the guest's token>"}
//
// The token proves which lease it is (the WWSF signed it; it may have
// expired meanwhile). Over https the WWSF's certificate is verified against
// `ca_file` (or the system's CAs) and the URL's host (name or IP address);
// TLS 1.2 and later. One request at a time, in order, a new connection
// each (leases end at the rate people close pages, not per message):
//   2xx                 released
//   4xx                 refused: the WWSF has no such lease any more (it
//                       ended, the guest logged out): nothing to retry
//   5xx, no connection, a timeout
//                       tried again after 1, 2, 4 ... s, up to max_attempts
//                       in all, then given up (the lease ends at its own
//                       time at the WWSF)
// At most max_pending wait; beyond, a lease is dropped (counted, logged).
// Tokens are never logged.
//
// Threads: every call and every handler runs on the executor given (the
// core's strand), so nothing here is locked.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pcscf/registrar.hpp"

namespace isthmus::pcscf {

struct LeaseReleaseConfig {
    // "https://HOST[:PORT]/PATH" or "http://HOST[:PORT]/PATH"; empty: leases
    // are not given back early (only logged).
    std::string url;
    std::string ca_file;  // PEM CAs for the WWSF's certificate; "" = the system's
    std::chrono::milliseconds timeout{5000};  // each attempt, connect to response
    std::size_t max_pending = 10000;
    int max_attempts = 4;
};

// The parts of a release URL. IPv6 literals in brackets ("[2001:db8::1]").
struct ReleaseUrl {
    bool tls = true;
    std::string host;  // without brackets
    std::string port;  // "443" / "80" when the URL has none
    std::string target;
};
// Parses `url`; nullopt with `error` saying what is wrong (no userinfo,
// query or fragment; a path is required).
std::optional<ReleaseUrl> parse_release_url(std::string_view url, std::string& error);

// X(name, "what it counts")
#define ISTHMUS_PCSCF_LEASE_COUNTER(X)                                     \
    X(released, "leases the WWSF took back (2xx)")                         \
    X(refused, "answered 4xx: the WWSF had no such lease any more")        \
    X(retried, "attempts that failed and were tried again")                \
    X(failed, "given up after max_attempts (5xx, no connection, timeout)") \
    X(dropped, "not sent: max_pending were waiting")

struct LeaseReleaseStats {
#define ISTHMUS_X(name, doc) uint64_t name = 0;
    ISTHMUS_PCSCF_LEASE_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
};

class LeaseReleaser {
  public:
    using Log = std::function<void(const std::string&)>;
    // Throws std::invalid_argument for a URL that does not parse or a CA
    // file that does not load.
    LeaseReleaser(boost::asio::any_io_executor ex, LeaseReleaseConfig cfg, Log log);
    ~LeaseReleaser();
    LeaseReleaser(const LeaseReleaser&) = delete;
    LeaseReleaser& operator=(const LeaseReleaser&) = delete;

    // Queues `lease` for the WWSF. On the executor.
    void release(GuestLeaseRef lease);
    // Stops: the request in flight is abandoned, nothing more is sent; what
    // waited is logged as not given back. On the executor.
    void stop();
    // The daemon is stopping (its WebSockets closing end their guests'
    // registrations): what waits and what comes is still sent, without
    // retries, for at most `grace`; then stop(). Nothing keeps the
    // io_context running once the queue is empty. On the executor.
    void wind_down(std::chrono::milliseconds grace);

    const LeaseReleaseStats& stats() const { return stats_; }
    std::size_t pending() const { return queue_.size(); }

  private:
    struct Exchange;
    void next();
    void done(int status, const std::string& error);
    void arm_grace();

    boost::asio::any_io_executor ex_;
    LeaseReleaseConfig cfg_;
    ReleaseUrl url_;
    Log log_;
    std::optional<boost::asio::ssl::context> tls_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer grace_timer_;  // wind_down()
    std::deque<GuestLeaseRef> queue_;
    std::shared_ptr<Exchange> current_;  // the request in flight (queue_.front())
    int attempt_ = 0;                    // attempts made for queue_.front()
    bool waiting_ = false;               // retry_timer_ armed
    bool stopped_ = false;
    bool winding_down_ = false;
    std::chrono::milliseconds grace_{2000};
    LeaseReleaseStats stats_;
};

}  // namespace isthmus::pcscf
