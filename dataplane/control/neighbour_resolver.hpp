// Next-hop resolution for session legs, on the main lcore, sans I/O.
//
// The relay needs the Ethernet address toward each leg's remote. A leg
// learns it from its own first accepted packet, but a peer that only
// receives (or has not sent yet) must be resolved: this resolver keeps the
// bindings the workers saw in ARP/ND frames on their way to the kernel
// (pkt::snoop_neighbour), answers at once when a binding is known, and
// otherwise asks for an ARP request / Neighbour Solicitation to go out of
// that side's port, repeated every second up to kMaxTries, and hands out the
// binding to every waiting leg when it arrives.
//
// Bindings are kept per side (port): what is seen on the access port never
// serves a core leg, so an access-side host cannot claim an IMS address
// (and overlapping address plans stay apart). Bindings not seen again for
// kMaxAgeNs are forgotten (a leg that has its MAC keeps it).
//
// Routes (PortRoute): a remote inside the port's on-link networks is
// resolved itself, any other through the port's gateway for its family
// (`[[dataplane.port]] networks / gateway / gateway6`); with no networks
// configured every remote is taken as on-link.
//
// Thread-safety: main lcore only; it allocates (pending lists).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "isthmus/dpif/messages.hpp"
#include "pkt/neighbour.hpp"
#include "pkt/neighbour_table.hpp"

namespace isthmus::dataplane {

struct NextHopUpdate {
    uint64_t session_id;
    uint16_t worker;
    uint8_t side;  // session::Side
    uint8_t mac[6];
    uint8_t family;    // the remote it is for: the worker applies it only while
    uint8_t addr[16];  // the leg still sends there (an id may be reused)
};

struct ResolveRequest {
    uint8_t side;  // which port to send it from
    uint8_t family;
    uint8_t source[16];  // the gateway's address on that leg
    uint8_t target[16];
};

// One port's next-hop rule, from its configuration. Pure.
class PortRoute {
  public:
    // Throws std::invalid_argument on a malformed CIDR or address (the
    // configuration loader has checked them already).
    PortRoute(const std::vector<std::string>& networks, const std::string& gateway,
              const std::string& gateway6);
    PortRoute() = default;

    // The address whose MAC carries packets to `remote` (family 4 or 6):
    // the remote itself when on-link (or when no gateway of its family is
    // configured), else the gateway.
    dpif::IpEndpoint next_hop(const dpif::IpEndpoint& remote) const;
    bool on_link(const dpif::IpEndpoint& remote) const;

  private:
    struct Prefix {
        uint8_t family;
        uint8_t bits;
        uint8_t addr[16];
    };
    std::vector<Prefix> networks_;
    dpif::IpEndpoint gateway_[2]{};  // [0] IPv4, [1] IPv6; family 0: none
};

class NeighbourResolver {
  public:
    static constexpr int kMaxTries = 5;
    static constexpr uint64_t kRetryNs = 1000000000ULL;
    static constexpr uint64_t kMaxAgeNs = 300ULL * 1000000000ULL;

    explicit NeighbourResolver(uint32_t max_entries)
        : table_{pkt::NeighbourTable(max_entries), pkt::NeighbourTable(max_entries)} {}

    // A leg (`side` of session `id`, owned by `worker`) sends from `local`
    // to `remote` through `next_hop` (the remote itself when on-link, else
    // the port's gateway: PortRoute). Returns the next hop's MAC when the
    // binding is known; otherwise remembers the leg and, unless a request
    // for `next_hop` is already out, appends one to `requests`. The update
    // that answers it names `remote` (the worker checks the leg still
    // sends there).
    const uint8_t* need(uint64_t id, uint16_t worker, uint8_t side, const dpif::IpEndpoint& local,
                        const dpif::IpEndpoint& remote, const dpif::IpEndpoint& next_hop,
                        uint64_t now_ns, std::vector<ResolveRequest>& requests);

    // A binding seen on the port of `side`: learned, and every leg of that
    // side waiting for it gets an update. When the address's MAC changed (a
    // host replaced, a gratuitous ARP after a failover), every leg that
    // sends through it gets the new one too.
    void learned(uint8_t side, const pkt::NeighbourObservation& o, uint64_t now_ns,
                 std::vector<NextHopUpdate>& updates);

    // The session is gone (deleted, released): its legs get no more updates.
    void forget(uint64_t id);

    // Repeats requests not answered within kRetryNs; gives up on an address
    // after kMaxTries (its legs stay without a next hop; the relay counts
    // their packets as no_neighbour); forgets bindings older than
    // kMaxAgeNs. Returns the addresses given up.
    std::size_t tick(uint64_t now_ns, std::vector<ResolveRequest>& requests);

    std::size_t bindings() const { return table_[0].size() + table_[1].size(); }
    std::size_t pending() const { return pending_.size(); }
    std::size_t users() const { return session_keys_.size(); }

  private:
    struct Waiter {
        uint64_t id;
        uint16_t worker;
        uint8_t side;
        dpif::IpEndpoint remote;
    };
    struct Pending {
        ResolveRequest request;
        uint64_t last_ns;
        int tries;
        std::vector<Waiter> waiters;
    };
    using Key = std::array<uint8_t, 18>;  // side, family, the address octets (zero padded)
    static Key key(uint8_t side, uint8_t family, const uint8_t addr[16]);

    void add_user(const Key& k, const Waiter& w);

    pkt::NeighbourTable table_[2];  // by side
    std::map<Key, Pending> pending_;
    // Which legs send through which next hop (to push a changed MAC), and
    // the next hops of each session (to forget it).
    std::map<Key, std::vector<Waiter>> users_;
    std::unordered_map<uint64_t, std::vector<std::pair<uint8_t, Key>>> session_keys_;
};

}  // namespace isthmus::dataplane
