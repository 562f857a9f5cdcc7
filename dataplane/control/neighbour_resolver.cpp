#include "control/neighbour_resolver.hpp"

#include <cstring>

namespace isthmus::dataplane {

NeighbourResolver::Key NeighbourResolver::key(uint8_t side, uint8_t family,
                                              const uint8_t addr[16]) {
    Key k{};
    k[0] = side;
    k[1] = family;
    std::memcpy(k.data() + 2, addr, family == 6 ? 16 : 4);
    return k;
}

const uint8_t* NeighbourResolver::need(uint64_t id, uint16_t worker, uint8_t side,
                                       const dpif::IpEndpoint& local,
                                       const dpif::IpEndpoint& remote, uint64_t now_ns,
                                       std::vector<ResolveRequest>& requests) {
    if (remote.family != 4 && remote.family != 6) return nullptr;
    side &= 1U;
    if (const uint8_t* mac = table_[side].find(remote.family, remote.addr)) return mac;
    auto [it, fresh] = pending_.try_emplace(key(side, remote.family, remote.addr));
    Pending& p = it->second;
    p.waiters.push_back({id, worker, side});
    if (fresh) {
        p.request.side = side;
        p.request.family = remote.family;
        std::memcpy(p.request.source, local.addr, 16);
        std::memcpy(p.request.target, remote.addr, 16);
        p.last_ns = now_ns;
        p.tries = 1;
        requests.push_back(p.request);
    }
    return nullptr;
}

void NeighbourResolver::learned(uint8_t side, const pkt::NeighbourObservation& o, uint64_t now_ns,
                                std::vector<NextHopUpdate>& updates) {
    side &= 1U;
    table_[side].learn(o, now_ns);
    const auto it = pending_.find(key(side, o.family, o.addr));
    if (it == pending_.end()) return;
    for (const Waiter& w : it->second.waiters) {
        NextHopUpdate u{w.id, w.worker, w.side, {}, o.family, {}};
        std::memcpy(u.mac, o.mac, 6);
        std::memcpy(u.addr, o.addr, 16);
        updates.push_back(u);
    }
    pending_.erase(it);
}

std::size_t NeighbourResolver::tick(uint64_t now_ns, std::vector<ResolveRequest>& requests) {
    for (auto& t : table_)
        t.expire(now_ns, kMaxAgeNs);
    std::size_t given_up = 0;
    for (auto it = pending_.begin(); it != pending_.end();) {
        Pending& p = it->second;
        if (now_ns - p.last_ns < kRetryNs) {
            ++it;
            continue;
        }
        if (p.tries >= kMaxTries) {
            it = pending_.erase(it);
            ++given_up;
            continue;
        }
        ++p.tries;
        p.last_ns = now_ns;
        requests.push_back(p.request);
        ++it;
    }
    return given_up;
}

}  // namespace isthmus::dataplane
