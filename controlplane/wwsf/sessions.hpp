// Web sessions: what a session cookie stands for. A session is opened by a
// login (a web user, A.3.2) or a guest lease (A.3.3) and lets its holder
// ask for registration tokens until it expires or is closed.
//
// The cookie value is 32 random octets in base64url; the table keeps only
// its SHA-256, so lookups compare digests (no timing oracle on the secret)
// and a dump of the table gives nothing to replay. Bounded: at most
// `max_sessions` in all (opening another fails) and `max_per_user` per
// user (opening another closes that user's oldest).
//
// Not thread-safe: one thread (the WWSF core's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace isthmus::wwsf {

struct Session {
    std::string user;      // the login name; "guest:<identity>" for a guest
    std::string identity;  // the public user identity tokens are issued for
    bool guest = false;    // tokens of kind "guest" (the identity is leased)
    int64_t expires = 0;   // unix seconds
};

class SessionTable {
  public:
    SessionTable(std::size_t max_sessions, std::size_t max_per_user)
        : max_(max_sessions), max_per_user_(max_per_user) {}

    // Opens `s` (expired sessions are dropped first); its cookie value, or
    // nullopt when the table is full. Throws std::runtime_error when no
    // random octets can be had.
    std::optional<std::string> open(Session s, int64_t now);
    // The live session of a cookie value, or nullptr (an expired one is
    // dropped). Valid until the table is next changed.
    const Session* find(std::string_view cookie, int64_t now);
    // Closes the session of a cookie value; false when there was none.
    bool close(std::string_view cookie);
    // Closes every session of `user`; how many.
    std::size_t close_user(std::string_view user);
    // Drops the sessions whose expiry is not after `now`; how many.
    std::size_t expire(int64_t now);

    std::size_t size() const { return by_key_.size(); }

  private:
    void erase(const std::string& key);

    std::size_t max_;
    std::size_t max_per_user_;
    std::map<std::string, Session, std::less<>> by_key_;  // SHA-256(cookie) -> session
    std::set<std::pair<int64_t, std::string>> by_expiry_;
    std::multimap<std::string, std::string, std::less<>> by_user_;  // user -> key
};

// The SHA-256 of a cookie value (the table's key).
std::string session_key(std::string_view cookie);

}  // namespace isthmus::wwsf
