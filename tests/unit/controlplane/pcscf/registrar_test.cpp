// The Registrar alone: live flows, registrations stored / refreshed /
// removed / refused, the limits, identity selection (TS 24.229 5.2.6.3.1),
// expiry and flow closure.
#include "pcscf/registrar.hpp"

#include <gtest/gtest.h>

namespace isthmus::pcscf {
namespace {

TimePoint at_s(int64_t s) {
    return TimePoint{} + std::chrono::seconds(s);
}

Peer flow_peer(uint64_t flow) {
    Peer p;
    p.transport = Transport::Wss;
    p.flow = flow;
    return p;
}

sip::NameAddr identity(std::string_view text) {
    return *sip::parse_name_addr(text);
}

RegistrationUpdate update(std::string_view aor, int64_t expires_s,
                          std::vector<std::string> routes = {"<sip:orig@scscf.example.net;lr>"}) {
    RegistrationUpdate u;
    u.aor = std::string(aor);
    u.bindings.push_back(
        Binding{*sip::parse_uri("sip:ue@x.invalid;transport=ws"), at_s(expires_s)});
    u.service_route = std::move(routes);
    u.identities = {identity("<" + std::string(aor) + ">"), identity("<tel:+15551234567>")};
    return u;
}

TEST(RegistrarTest, FlowsAreAdmittedUpToTheLimitAndClosed) {
    RegistrarLimits limits;
    limits.max_flows = 2;
    Registrar r(limits);
    EXPECT_TRUE(r.admit_flow(flow_peer(1)));
    EXPECT_TRUE(r.admit_flow(flow_peer(1)));  // already live
    EXPECT_TRUE(r.admit_flow(flow_peer(2)));
    EXPECT_FALSE(r.admit_flow(flow_peer(3)));
    EXPECT_EQ(r.stats().flows_refused, 1u);
    EXPECT_TRUE(r.alive(2));
    EXPECT_FALSE(r.alive(3));
    EXPECT_EQ(r.close_flow(2), 0u);
    EXPECT_FALSE(r.alive(2));
    EXPECT_TRUE(r.admit_flow(flow_peer(3)));
    EXPECT_EQ(r.flows(), 2u);
}

TEST(RegistrarTest, StoreRefreshRemove) {
    Registrar r;
    EXPECT_EQ(r.apply(1, update("sip:a@example.net", 100), at_s(0)), Registrar::Applied::NoFlow);
    r.admit_flow(flow_peer(1));
    EXPECT_EQ(r.apply(1, update("sip:a@example.net", 100), at_s(0)), Registrar::Applied::Stored);
    EXPECT_TRUE(r.registered(1, at_s(99)));
    EXPECT_FALSE(r.registered(1, at_s(100)));
    EXPECT_EQ(r.apply(1, update("sip:a@example.net", 200), at_s(50)),
              Registrar::Applied::Refreshed);
    EXPECT_EQ(r.registrations(), 1u);
    EXPECT_EQ(r.find(1, "sip:a@example.net")->expires, at_s(200));
    EXPECT_EQ(r.next_expiry(), at_s(200));
    RegistrationUpdate none;
    none.aor = "sip:a@example.net";
    EXPECT_EQ(r.apply(1, none, at_s(60)), Registrar::Applied::Removed);
    EXPECT_EQ(r.apply(1, none, at_s(60)), Registrar::Applied::Unchanged);
    EXPECT_EQ(r.registrations(), 0u);
    EXPECT_FALSE(r.next_expiry());
    EXPECT_EQ(r.stats().stored, 1u);
    EXPECT_EQ(r.stats().refreshed, 1u);
    EXPECT_EQ(r.stats().removed, 1u);
}

TEST(RegistrarTest, BindingsAlreadyExpiredCountAsNone) {
    Registrar r;
    r.admit_flow(flow_peer(1));
    EXPECT_EQ(r.apply(1, update("sip:a@example.net", 10), at_s(10)), Registrar::Applied::Unchanged);
}

TEST(RegistrarTest, LimitsInAllAndPerFlow) {
    RegistrarLimits limits;
    limits.max_registrations = 2;
    limits.max_registrations_per_flow = 1;
    Registrar r(limits);
    r.admit_flow(flow_peer(1));
    r.admit_flow(flow_peer(2));
    r.admit_flow(flow_peer(3));
    EXPECT_TRUE(r.has_room(1, 0));
    EXPECT_FALSE(r.has_room(1, 2));  // two promised to REGISTERs in flight
    EXPECT_EQ(r.apply(1, update("sip:a@example.net", 100), at_s(0)), Registrar::Applied::Stored);
    EXPECT_FALSE(r.has_room(1, 0));  // per flow
    EXPECT_EQ(r.apply(1, update("sip:b@example.net", 100), at_s(0)), Registrar::Applied::NoRoom);
    EXPECT_EQ(r.apply(2, update("sip:b@example.net", 100), at_s(0)), Registrar::Applied::Stored);
    EXPECT_FALSE(r.has_room(3, 0));  // in all
    EXPECT_EQ(r.apply(3, update("sip:c@example.net", 100), at_s(0)), Registrar::Applied::NoRoom);
    EXPECT_EQ(r.stats().refused, 2u);
    // A refresh needs no room.
    EXPECT_EQ(r.apply(1, update("sip:a@example.net", 300), at_s(1)), Registrar::Applied::Refreshed);
}

TEST(RegistrarTest, EntriesBeyondTheLimitsAreDropped) {
    RegistrarLimits limits;
    limits.max_service_routes = 2;
    limits.max_identities = 1;
    Registrar r(limits);
    r.admit_flow(flow_peer(1));
    r.apply(1, update("sip:a@example.net", 100, {"<sip:a;lr>", "<sip:b;lr>", "<sip:c;lr>"}),
            at_s(0));
    const Registration* reg = r.find(1, "sip:a@example.net");
    ASSERT_NE(reg, nullptr);
    EXPECT_EQ(reg->service_route.size(), 2u);
    EXPECT_EQ(reg->identities.size(), 1u);
    EXPECT_EQ(r.stats().truncated, 2u);
}

TEST(RegistrarTest, AssertedIdentityHonoursAPreferredOneInTheSet) {
    Registrar r;
    r.admit_flow(flow_peer(1));
    r.apply(1, update("sip:a@example.net", 100), at_s(0));
    r.apply(1, update("sip:b@example.net", 100, {"<sip:b-route;lr>"}), at_s(0));
    const auto def = r.assert_identity(1, {}, at_s(1));
    ASSERT_TRUE(def);
    EXPECT_EQ(sip::to_string(def->identity->uri), "sip:a@example.net");
    const auto b = r.assert_identity(1, {*sip::parse_uri("sip:b@example.net")}, at_s(1));
    ASSERT_TRUE(b);
    EXPECT_EQ(sip::to_string(b->identity->uri), "sip:b@example.net");
    EXPECT_EQ(b->registration->service_route, std::vector<std::string>{"<sip:b-route;lr>"});
    // RFC 3261 19.1.4 comparison: the host's case does not matter.
    const auto b2 = r.assert_identity(1, {*sip::parse_uri("sip:b@EXAMPLE.net")}, at_s(1));
    EXPECT_EQ(b2->registration, b->registration);
    const auto other = r.assert_identity(1, {*sip::parse_uri("sip:z@example.net")}, at_s(1));
    EXPECT_EQ(sip::to_string(other->identity->uri), "sip:a@example.net");
    EXPECT_FALSE(r.assert_identity(2, {}, at_s(1)));
    EXPECT_FALSE(r.assert_identity(1, {}, at_s(100)));  // expired
}

TEST(RegistrarTest, ExpiryRemovesInDeadlineOrder) {
    Registrar r;
    r.admit_flow(flow_peer(1));
    r.admit_flow(flow_peer(2));
    r.apply(1, update("sip:a@example.net", 100), at_s(0));
    r.apply(2, update("sip:b@example.net", 50), at_s(0));
    EXPECT_EQ(r.next_expiry(), at_s(50));
    r.expire(at_s(49));
    EXPECT_EQ(r.registrations(), 2u);
    r.expire(at_s(50));
    EXPECT_EQ(r.registrations(), 1u);
    EXPECT_EQ(r.find(2, "sip:b@example.net"), nullptr);
    EXPECT_TRUE(r.alive(2));  // the flow stays until it closes
    r.expire(at_s(1000));
    EXPECT_EQ(r.registrations(), 0u);
    EXPECT_EQ(r.stats().expired, 2u);
}

TEST(RegistrarTest, ClosingAFlowReleasesItsRegistrations) {
    Registrar r;
    r.admit_flow(flow_peer(1));
    r.apply(1, update("sip:a@example.net", 100), at_s(0));
    r.apply(1, update("sip:b@example.net", 100), at_s(0));
    EXPECT_EQ(r.close_flow(1), 2u);
    EXPECT_EQ(r.registrations(), 0u);
    EXPECT_FALSE(r.next_expiry());
    EXPECT_FALSE(r.registered(1, at_s(1)));
    EXPECT_EQ(r.stats().released, 2u);
    r.expire(at_s(1000));  // nothing left to expire
    EXPECT_EQ(r.stats().expired, 0u);
}

}  // namespace
}  // namespace isthmus::pcscf
