// Public user identities leased to guests (TS 24.371 A.3.3, "identity from
// a pool": click-to-call without an account). Each identity is free or
// leased until a time; a lease ends when it expires or is released early,
// and its identity goes to the back of the free queue (the identity free
// longest is leased first, so that one just given back is not handed out
// again at once).
//
// Not thread-safe: one thread (the WWSF core's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isthmus::wwsf {

struct GuestLease {
    std::string identity;
    int64_t expires = 0;  // unix seconds
    std::string owner;    // the lease's id: its tokens' jti start with it
    std::string peer;     // the address that leased it (the per-address bound)
};

class GuestPool {
  public:
    GuestPool() = default;
    // Every identity free. Throws std::invalid_argument naming one listed twice.
    explicit GuestPool(const std::vector<std::string>& identities);

    // Leases the identity free longest until `expires`; nullptr when none is
    // free. The pointer is valid until the pool is next changed.
    const GuestLease* lease(int64_t expires, std::string owner, std::string peer);
    // The live lease of `identity`, or nullptr.
    const GuestLease* find(std::string_view identity) const;
    // Ends the lease of `identity` now; false when it was not leased.
    bool release(std::string_view identity);
    // Ends every lease whose expiry is not after `now`; their identities.
    std::vector<std::string> expire(int64_t now);

    std::size_t size() const { return free_.size() + leased_.size(); }
    std::size_t free() const { return free_.size(); }
    std::size_t leased() const { return leased_.size(); }
    // Live leases made from `peer`.
    std::size_t leased_by(std::string_view peer) const;

  private:
    std::deque<std::string> free_;
    std::map<std::string, GuestLease, std::less<>> leased_;
    std::set<std::pair<int64_t, std::string>> by_expiry_;
    std::map<std::string, std::size_t, std::less<>> per_peer_;
};

// Expands a range form "sip:guest{0001..0100}@ims.example.net" into
// sip:guest0001@ims.example.net ... sip:guest0100@ims.example.net: exactly
// one {FIRST..LAST} of decimals, FIRST <= LAST, at most 100000 identities,
// each number zero-padded to FIRST's width when FIRST has a leading zero.
// Throws std::invalid_argument saying what is wrong.
std::vector<std::string> expand_identity_range(std::string_view pattern);

}  // namespace isthmus::wwsf
