#include "control/neighbour_resolver.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

namespace isthmus::dataplane {

PortRoute::PortRoute(const std::vector<std::string>& networks, const std::string& gateway,
                     const std::string& gateway6) {
    for (const std::string& n : networks) {
        const auto slash = n.find('/');
        if (slash == std::string::npos) throw std::invalid_argument("network " + n);
        const std::string addr = n.substr(0, slash);
        Prefix p{};
        p.bits = static_cast<uint8_t>(std::stoi(n.substr(slash + 1)));
        if (inet_pton(AF_INET, addr.c_str(), p.addr) == 1) {
            p.family = 4;
        } else if (inet_pton(AF_INET6, addr.c_str(), p.addr) == 1) {
            p.family = 6;
        } else {
            throw std::invalid_argument("network " + n);
        }
        if (p.bits > (p.family == 4 ? 32 : 128)) throw std::invalid_argument("network " + n);
        networks_.push_back(p);
    }
    if (!gateway.empty()) {
        if (inet_pton(AF_INET, gateway.c_str(), gateway_[0].addr) != 1)
            throw std::invalid_argument("gateway " + gateway);
        gateway_[0].family = 4;
    }
    if (!gateway6.empty()) {
        if (inet_pton(AF_INET6, gateway6.c_str(), gateway_[1].addr) != 1)
            throw std::invalid_argument("gateway6 " + gateway6);
        gateway_[1].family = 6;
    }
}

bool PortRoute::on_link(const dpif::IpEndpoint& remote) const {
    if (networks_.empty()) return true;
    for (const Prefix& p : networks_) {
        if (p.family != remote.family) continue;
        const unsigned full = p.bits / 8U, rest = p.bits % 8U;
        if (std::memcmp(p.addr, remote.addr, full) != 0) continue;
        if (rest != 0) {
            const auto mask = static_cast<uint8_t>(0xffU << (8U - rest));
            if ((p.addr[full] & mask) != (remote.addr[full] & mask)) continue;
        }
        return true;
    }
    return false;
}

dpif::IpEndpoint PortRoute::next_hop(const dpif::IpEndpoint& remote) const {
    const dpif::IpEndpoint& gw = gateway_[remote.family == 6 ? 1 : 0];
    if (on_link(remote) || gw.family == 0) return remote;
    return gw;
}

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
                                       const dpif::IpEndpoint& remote,
                                       const dpif::IpEndpoint& next_hop, uint64_t now_ns,
                                       std::vector<ResolveRequest>& requests) {
    if (remote.family != 4 && remote.family != 6) return nullptr;
    if (next_hop.family != remote.family) return nullptr;
    side &= 1U;
    const Key k = key(side, next_hop.family, next_hop.addr);
    add_user(k, {id, worker, side, remote});
    if (const uint8_t* mac = table_[side].find(next_hop.family, next_hop.addr)) return mac;
    auto [it, fresh] = pending_.try_emplace(k);
    Pending& p = it->second;
    p.waiters.push_back({id, worker, side, remote});
    if (fresh) {
        p.request.side = side;
        p.request.family = next_hop.family;
        std::memcpy(p.request.source, local.addr, 16);
        std::memcpy(p.request.target, next_hop.addr, 16);
        p.last_ns = now_ns;
        p.tries = 1;
        requests.push_back(p.request);
    }
    return nullptr;
}

void NeighbourResolver::add_user(const Key& k, const Waiter& w) {
    // A leg has one next hop: an update of the session replaces it.
    auto& mine = session_keys_[w.id];
    for (auto it = mine.begin(); it != mine.end();) {
        if (it->first != w.side) {
            ++it;
            continue;
        }
        auto u = users_.find(it->second);
        if (u != users_.end()) {
            std::erase_if(u->second,
                          [&](const Waiter& x) { return x.id == w.id && x.side == w.side; });
            if (u->second.empty()) users_.erase(u);
        }
        it = mine.erase(it);
    }
    mine.emplace_back(w.side, k);
    users_[k].push_back(w);
}

void NeighbourResolver::forget(uint64_t id) {
    const auto s = session_keys_.find(id);
    if (s == session_keys_.end()) return;
    for (const auto& [leg_side, k] : s->second) {
        auto u = users_.find(k);
        if (u == users_.end()) continue;
        std::erase_if(u->second, [&](const Waiter& x) { return x.id == id; });
        if (u->second.empty()) users_.erase(u);
    }
    session_keys_.erase(s);
}

void NeighbourResolver::learned(uint8_t side, const pkt::NeighbourObservation& o, uint64_t now_ns,
                                std::vector<NextHopUpdate>& updates) {
    side &= 1U;
    const uint8_t* before = table_[side].find(o.family, o.addr);
    const bool changed = before != nullptr && std::memcmp(before, o.mac, 6) != 0;
    table_[side].learn(o, now_ns);
    const Key k = key(side, o.family, o.addr);
    if (changed) {
        if (const auto u = users_.find(k); u != users_.end()) {
            for (const Waiter& w : u->second) {
                NextHopUpdate up{w.id, w.worker, w.side, {}, w.remote.family, {}};
                std::memcpy(up.mac, o.mac, 6);
                std::memcpy(up.addr, w.remote.addr, 16);
                updates.push_back(up);
            }
        }
    }
    const auto it = pending_.find(k);
    if (it == pending_.end()) return;
    for (const Waiter& w : it->second.waiters) {
        NextHopUpdate u{w.id, w.worker, w.side, {}, w.remote.family, {}};
        std::memcpy(u.mac, o.mac, 6);
        std::memcpy(u.addr, w.remote.addr, 16);
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
