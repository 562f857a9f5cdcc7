// NeighbourResolver: known bindings answered at once, unknown ones asked for
// once (not once per leg), retried, given up, and handed to every waiting leg.
#include "control/neighbour_resolver.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace isthmus::dataplane {
namespace {

dpif::IpEndpoint ep(const char* ip, uint16_t port) {
    dpif::IpEndpoint e{};
    e.port = port;
    if (inet_pton(AF_INET, ip, e.addr) == 1) {
        e.family = 4;
    } else {
        EXPECT_EQ(inet_pton(AF_INET6, ip, e.addr), 1) << ip;
        e.family = 6;
    }
    return e;
}

pkt::NeighbourObservation seen(const char* ip, uint8_t last) {
    const dpif::IpEndpoint e = ep(ip, 0);
    pkt::NeighbourObservation o{};
    o.family = e.family;
    std::memcpy(o.addr, e.addr, 16);
    const uint8_t mac[6] = {2, 0, 0, 0, 0, last};
    std::memcpy(o.mac, mac, 6);
    return o;
}

constexpr uint64_t kSec = 1000000000ULL;

TEST(NeighbourResolver, UnknownRemotesAreAskedForOnceAndEveryWaitingLegIsTold) {
    NeighbourResolver r(64);
    std::vector<ResolveRequest> req;
    const auto local = ep("198.18.1.2", 50000);
    EXPECT_EQ(r.need(1, 0, 1, local, ep("198.18.1.20", 6000), ep("198.18.1.20", 0), 0, req),
              nullptr);
    EXPECT_EQ(r.need(2, 0, 1, local, ep("198.18.1.20", 6002), ep("198.18.1.20", 0), 0, req),
              nullptr);
    ASSERT_EQ(req.size(), 1U);  // one ARP request for two legs
    EXPECT_EQ(req[0].family, 4);
    EXPECT_EQ(req[0].side, 1);
    EXPECT_EQ(0, std::memcmp(req[0].source, local.addr, 4));
    EXPECT_EQ(0, std::memcmp(req[0].target, ep("198.18.1.20", 0).addr, 4));
    EXPECT_EQ(r.pending(), 1U);

    std::vector<NextHopUpdate> up;
    r.learned(1, seen("198.18.1.99", 9), 1, up);  // someone else: nobody waits
    EXPECT_TRUE(up.empty());
    r.learned(0, seen("198.18.1.20", 7), 2, up);  // seen on the access port: not for core legs
    EXPECT_TRUE(up.empty());
    r.learned(1, seen("198.18.1.20", 7), 2, up);
    ASSERT_EQ(up.size(), 2U);
    EXPECT_EQ(up[0].session_id, 1U);
    EXPECT_EQ(up[1].session_id, 2U);
    EXPECT_EQ(up[1].mac[5], 7);
    EXPECT_EQ(r.pending(), 0U);
    // Now known: answered at once, nothing asked.
    req.clear();
    const uint8_t* mac =
        r.need(3, 0, 1, local, ep("198.18.1.20", 6004), ep("198.18.1.20", 0), 3, req);
    ASSERT_NE(mac, nullptr);
    EXPECT_EQ(mac[5], 7);
    EXPECT_TRUE(req.empty());
}

TEST(NeighbourResolver, RequestsAreRetriedEverySecondThenGivenUp) {
    NeighbourResolver r(64);
    std::vector<ResolveRequest> req;
    EXPECT_EQ(r.need(1, 0, 0, ep("2001:2::2", 40000), ep("2001:2::10", 5000), ep("2001:2::10", 0),
                     0, req),
              nullptr);
    ASSERT_EQ(req.size(), 1U);
    EXPECT_EQ(req[0].family, 6);
    req.clear();
    EXPECT_EQ(r.tick(kSec / 2, req), 0U);
    EXPECT_TRUE(req.empty());  // not yet
    uint64_t t = 0;
    for (int i = 1; i < NeighbourResolver::kMaxTries; ++i) {
        t += kSec;
        EXPECT_EQ(r.tick(t, req), 0U);
        EXPECT_EQ(req.size(), static_cast<std::size_t>(i));
    }
    t += kSec;
    EXPECT_EQ(r.tick(t, req), 1U);  // given up
    EXPECT_EQ(r.pending(), 0U);
}

TEST(NeighbourResolver, LegsWithoutARemoteNeedNothing) {
    NeighbourResolver r(64);
    std::vector<ResolveRequest> req;
    EXPECT_EQ(
        r.need(1, 0, 0, ep("198.18.0.2", 40000), dpif::IpEndpoint{}, dpif::IpEndpoint{}, 0, req),
        nullptr);
    EXPECT_TRUE(req.empty());
    EXPECT_EQ(r.pending(), 0U);
}

TEST(NeighbourResolver, AChangedMacReachesEveryLegSendingThroughItUntilForgotten) {
    NeighbourResolver r(64);
    std::vector<ResolveRequest> req;
    std::vector<NextHopUpdate> up;
    const auto local = ep("198.18.1.2", 50000);
    const auto ims = ep("198.18.1.20", 0);
    r.learned(1, seen("198.18.1.20", 7), 0, up);
    ASSERT_NE(r.need(1, 0, 1, local, ep("198.18.1.20", 6000), ims, 0, req), nullptr);
    ASSERT_NE(r.need(2, 1, 1, local, ep("198.18.1.20", 6002), ims, 0, req), nullptr);
    EXPECT_EQ(r.need(3, 0, 1, local, ep("198.18.1.21", 6000), ep("198.18.1.21", 0), 0, req),
              nullptr);  // unknown: asked for
    EXPECT_TRUE(up.empty());
    r.learned(1, seen("198.18.1.20", 7), 1, up);  // the same MAC again: nothing to tell
    EXPECT_TRUE(up.empty());
    r.learned(1, seen("198.18.1.20", 8), 2, up);  // the IMS host moved to another MAC
    ASSERT_EQ(up.size(), 2U);
    EXPECT_EQ(up[0].session_id, 1U);
    EXPECT_EQ(up[1].session_id, 2U);
    EXPECT_EQ(up[1].worker, 1);
    EXPECT_EQ(up[0].mac[5], 8);
    EXPECT_EQ(up[0].addr[3], 20);
    up.clear();
    // Session 2 is gone; session 1 now sends elsewhere (an update).
    r.forget(2);
    ASSERT_NE(r.need(1, 0, 1, local, ep("198.18.1.30", 6000), ep("198.18.1.20", 0), 3, req),
              nullptr);  // through .20 still (a gateway): one user
    r.learned(1, seen("198.18.1.20", 9), 4, up);
    ASSERT_EQ(up.size(), 1U);
    EXPECT_EQ(up[0].session_id, 1U);
    EXPECT_EQ(up[0].addr[3], 30) << "the update names the leg's remote";
    up.clear();
    r.forget(1);
    r.forget(3);
    r.learned(1, seen("198.18.1.20", 10), 5, up);
    EXPECT_TRUE(up.empty());
    EXPECT_EQ(r.users(), 0U);
}

TEST(PortRoute, OnLinkRemotesThemselvesTheRestThroughTheGateway) {
    const PortRoute none;  // nothing configured: everything on-link
    EXPECT_TRUE(none.on_link(ep("203.0.113.9", 1)));
    const PortRoute r({"198.18.1.0/24", "2001:2:1::/48"}, "198.18.1.254", "");
    EXPECT_TRUE(r.on_link(ep("198.18.1.20", 1)));
    EXPECT_FALSE(r.on_link(ep("198.18.2.20", 1)));
    EXPECT_TRUE(r.on_link(ep("2001:2:1:ffff::9", 1)));
    EXPECT_FALSE(r.on_link(ep("2001:2:2::9", 1)));
    const auto hop = r.next_hop(ep("198.19.0.7", 6000));
    EXPECT_EQ(hop.family, 4);
    EXPECT_EQ(0, std::memcmp(hop.addr, ep("198.18.1.254", 0).addr, 4));
    EXPECT_EQ(0, std::memcmp(r.next_hop(ep("198.18.1.20", 1)).addr, ep("198.18.1.20", 0).addr, 4));
    // No IPv6 gateway: an off-link IPv6 remote is resolved itself.
    EXPECT_EQ(0, std::memcmp(r.next_hop(ep("2001:2:9::1", 1)).addr, ep("2001:2:9::1", 0).addr, 16));
    // Prefix bits that do not end on an octet.
    const PortRoute odd({"198.18.0.0/15"}, "198.18.0.1", "");
    EXPECT_TRUE(odd.on_link(ep("198.19.255.1", 1)));
    EXPECT_FALSE(odd.on_link(ep("198.20.0.1", 1)));
}

TEST(NeighbourResolver, RoutedRemotesWaitForTheGatewayAndAreToldTheirOwnAddress) {
    NeighbourResolver r(64);
    const PortRoute route({"198.18.1.0/24"}, "198.18.1.254", "");
    std::vector<ResolveRequest> req;
    const auto local = ep("198.18.1.2", 50000);
    const auto far1 = ep("203.0.113.5", 6000), far2 = ep("203.0.113.6", 6000);
    EXPECT_EQ(r.need(1, 0, 1, local, far1, route.next_hop(far1), 0, req), nullptr);
    EXPECT_EQ(r.need(2, 0, 1, local, far2, route.next_hop(far2), 0, req), nullptr);
    ASSERT_EQ(req.size(), 1U);  // one ARP request, for the gateway
    EXPECT_EQ(0, std::memcmp(req[0].target, ep("198.18.1.254", 0).addr, 4));
    std::vector<NextHopUpdate> up;
    r.learned(1, seen("198.18.1.254", 0x54), 1, up);
    ASSERT_EQ(up.size(), 2U);
    EXPECT_EQ(up[0].mac[5], 0x54);
    EXPECT_EQ(0, std::memcmp(up[0].addr, far1.addr, 4));  // the leg's remote, for the id check
    EXPECT_EQ(0, std::memcmp(up[1].addr, far2.addr, 4));
}

}  // namespace
}  // namespace isthmus::dataplane
