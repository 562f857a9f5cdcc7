// The WWSF's sans-I/O core (TS 24.371 4.2, the WebRTC Web Server Function):
// maps one parsed HTTP request and the current unix time to a response. It
// never opens a socket or reads a clock; the Beast server (server.hpp) and
// the daemon (main.cpp) do that. It reads the WIC's files (StaticFiles).
//
// Endpoints (docs/wwsf.md has the bodies and examples):
//   GET  /, /<file>          the WIC (web_root), with the security headers
//   POST /api/login          {"user","password"} -> session cookie, identity
//   POST /api/logout         closes the session (a guest's lease is given back)
//   GET  /api/config         where the eP-CSCF's WebSocket is
//   POST /api/token          a registration token for the session's identity (A.3.2)
//   POST /api/guest          an identity leased from the pool, its token, a session (A.3.3)
//   POST /api/guest/release  {"identity","token"} gives a lease back early
// Errors are {"error":"..."} with the status that says why.
//
// Passwords are checked with scrypt, tens of milliseconds each; the core
// does not do that itself. A login answers with a PasswordCheck instead of
// a response: the caller runs it (off the I/O thread: check_password) and
// hands the result to finish_login(). At most max_logins_in_flight checks
// are outstanding; beyond, 503. A check for an unknown user runs against a
// dummy hash of the same cost, so the time taken does not tell which users
// exist.
//
// Logs: one line per event ("level=info event=login user=alice ..."),
// through the sink given to set_log; never a password, token or cookie.
//
// Thread-safety: not thread-safe; one thread (the daemon's io_context).
// check_password() is a pure function that may run on any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "token/token.hpp"
#include "wwsf/guest_pool.hpp"
#include "wwsf/http_message.hpp"
#include "wwsf/json.hpp"
#include "wwsf/password.hpp"
#include "wwsf/sessions.hpp"
#include "wwsf/static_files.hpp"
#include "wwsf/users.hpp"

namespace isthmus::wwsf {

struct CoreConfig {
    std::string ws_uri;          // the eP-CSCF's WebSocket, "wss://pcscf.example.net:7443"
    std::string domain;          // the home network domain, "ims.example.net"
    std::string token_audience;  // the tokens' aud: the eP-CSCF they are for
    int64_t token_lifetime_s = 120;
    int64_t session_lifetime_s = 3600;
    int64_t guest_lease_s = 600;
    std::size_t max_sessions = 10000;
    std::size_t max_sessions_per_user = 16;
    std::size_t max_logins_in_flight = 16;
    std::size_t max_guest_leases_per_address = 4;  // 0: no bound
    int64_t hsts_max_age_s = 31536000;             // Strict-Transport-Security (https only)
};

// The session cookie's name: __Host- (RFC 6265bis 4.1.3.2) makes browsers
// take it only when Secure, from a secure origin, with Path=/ and no Domain.
inline constexpr std::string_view kSessionCookie = "__Host-isthmus-session";

// X(Enumerator, "label", "meaning")
#define ISTHMUS_WWSF_COUNTER(X)                                                               \
    X(LoginOk, "login_ok", "logins that opened a session")                                    \
    X(LoginFailed, "login_failed", "401: unknown user or wrong password")                     \
    X(LoginBusy, "login_busy", "503: max_logins_in_flight password checks already running")   \
    X(SessionsFull, "sessions_full", "503: max_sessions live sessions")                       \
    X(TokenIssued, "token_issued", "tokens issued (POST /api/token and /api/guest)")          \
    X(NoSession, "no_session", "401: POST /api/token without a live session")                 \
    X(GuestLeased, "guest_leased", "identities leased from the pool")                         \
    X(GuestPoolEmpty, "guest_pool_empty", "503: no guest identity free")                      \
    X(GuestPerAddress, "guest_per_address", "429: max_guest_leases_per_address reached")      \
    X(GuestReleased, "guest_released", "leases given back early (release, logout, re-lease)") \
    X(GuestExpired, "guest_expired", "leases ended at their expiry")                          \
    X(ReleaseRefused, "release_refused", "403: release without the lease's token or session") \
    X(BadRequest, "bad_request", "400, 405, 415: API requests we cannot take")                \
    X(NotFound, "not_found", "404")                                                           \
    X(StaticServed, "static_served", "files of the WIC served")

enum class Counter : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_WWSF_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
};
inline constexpr std::size_t kCounterCount = 0
#define ISTHMUS_X(name, label, doc) +1
    ISTHMUS_WWSF_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    ;
constexpr std::string_view counter_label(Counter c) {
    constexpr std::array<std::string_view, kCounterCount> names = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_WWSF_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(c)];
}

struct CoreStats {
    std::array<uint64_t, kCounterCount> counters{};
    uint64_t of(Counter c) const { return counters[static_cast<std::size_t>(c)]; }
};

// A login waiting for its password check. Move-only in spirit: it holds
// the password until finish_login().
struct PasswordCheck {
    std::string user;      // as sent
    std::string identity;  // the user's public identity; "" when the user is unknown
    std::string password;
    PasswordHash hash;  // the user's, or the dummy
    bool secure = false;
    std::string peer;
};

// Whether the check's password matches (false for an unknown user, after
// the same work). Pure: any thread.
bool check_password(const PasswordCheck& check);

using Reply = std::variant<HttpResponse, PasswordCheck>;

class WwsfCore {
  public:
    // Throws std::invalid_argument when ws_uri is not a ws:// or wss:// URI.
    WwsfCore(CoreConfig config, token::TokenSigner signer, UserDb users, GuestPool pool,
             StaticFiles files);

    // One request at `now` (unix seconds). Leases and sessions that expired
    // by `now` end first (advance).
    Reply handle(const HttpRequest& request, int64_t now);
    // The end of a login: `matched` is check_password(check).
    HttpResponse finish_login(PasswordCheck check, bool matched, int64_t now);
    // Ends the leases and sessions that expired by `now` (the daemon calls
    // it every second so that leases go back to the pool on time).
    void advance(int64_t now);
    // A new users file (SIGHUP). Live sessions stay.
    void replace_users(UserDb users);

    void set_log(std::function<void(const std::string&)> log) { log_ = std::move(log); }
    const CoreStats& stats() const { return stats_; }
    const SessionTable& sessions() const { return sessions_; }
    const GuestPool& pool() const { return pool_; }
    std::size_t logins_in_flight() const { return logins_in_flight_; }
    const token::TokenVerifier& verifier() const { return verifier_; }
    // The Content-Security-Policy every response carries.
    const std::string& content_security_policy() const { return csp_; }

  private:
    HttpResponse api(const HttpRequest& req, std::string_view path, int64_t now);
    Reply login(const HttpRequest& req);
    HttpResponse method_not_allowed(const HttpRequest& req, std::string_view allow);
    HttpResponse logout(const HttpRequest& req, int64_t now);
    HttpResponse config(const HttpRequest& req);
    HttpResponse issue_token(const HttpRequest& req, int64_t now);
    HttpResponse guest(const HttpRequest& req, int64_t now);
    HttpResponse release(const HttpRequest& req, int64_t now);
    HttpResponse static_file(const HttpRequest& req);

    // A response with the security headers every answer carries.
    HttpResponse respond(bool secure, unsigned status, std::string body,
                         std::string_view content_type) const;
    HttpResponse json(bool secure, unsigned status, std::string body) const;
    HttpResponse error(const HttpRequest& req, unsigned status, std::string_view message,
                       Counter counter);
    // The request's JSON body as an object with only `allowed` members
    // (an empty body is an empty object); nullopt after writing the 4xx
    // into `refusal`.
    std::optional<JsonObject> body(const HttpRequest& req,
                                   std::initializer_list<std::string_view> allowed,
                                   HttpResponse& refusal);
    // The live session of the request's cookie, if any; its cookie value.
    const Session* session_of(const HttpRequest& req, int64_t now, std::string* cookie = nullptr);
    void make_dummy();
    void end_guest(const std::string& identity, Counter why, const std::string& peer);
    std::string sign(const std::string& identity, bool guest, int64_t expires, std::string id);
    void log(const std::string& line) const {
        if (log_) log_(line);
    }
    void bump(Counter c) { ++stats_.counters[static_cast<std::size_t>(c)]; }

    CoreConfig config_;
    token::TokenSigner signer_;
    token::TokenVerifier verifier_;  // our own tokens (release)
    UserDb users_;
    PasswordHash dummy_;  // unknown users are checked against it
    GuestPool pool_;
    SessionTable sessions_;
    StaticFiles files_;
    std::string csp_;
    std::size_t logins_in_flight_ = 0;
    CoreStats stats_;
    std::function<void(const std::string&)> log_;
};

// The origin ("wss://host:port") of a ws:// or wss:// URI, for the
// Content-Security-Policy's connect-src; nullopt when `uri` is not one
// (or holds characters a policy cannot carry: space, ';', ',', quotes).
std::optional<std::string> websocket_origin(std::string_view uri);

}  // namespace isthmus::wwsf
