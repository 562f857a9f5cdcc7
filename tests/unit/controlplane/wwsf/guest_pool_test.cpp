// The guest identity pool (controlplane/wwsf/guest_pool.hpp): lease order,
// release, expiry, the per-address count; the range form.
#include "wwsf/guest_pool.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace isthmus::wwsf {
namespace {

const std::vector<std::string> kThree = {"sip:g1@ims.example.net", "sip:g2@ims.example.net",
                                         "sip:g3@ims.example.net"};

TEST(GuestPool, LeasesTheIdentityFreeLongest) {
    GuestPool pool(kThree);
    EXPECT_EQ(pool.size(), 3u);
    const GuestLease* a = pool.lease(100, "jti-a", "198.18.0.1");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->identity, "sip:g1@ims.example.net");
    EXPECT_EQ(a->expires, 100);
    EXPECT_EQ(a->owner, "jti-a");
    EXPECT_EQ(pool.lease(100, "jti-b", "198.18.0.1")->identity, "sip:g2@ims.example.net");
    EXPECT_EQ(pool.free(), 1u);
    EXPECT_EQ(pool.leased(), 2u);
    EXPECT_EQ(pool.leased_by("198.18.0.1"), 2u);
    EXPECT_EQ(pool.leased_by("198.18.0.2"), 0u);
    // Given back, g1 goes behind g3.
    EXPECT_TRUE(pool.release("sip:g1@ims.example.net"));
    EXPECT_FALSE(pool.release("sip:g1@ims.example.net"));
    EXPECT_FALSE(pool.release("sip:nobody@ims.example.net"));
    EXPECT_EQ(pool.find("sip:g1@ims.example.net"), nullptr);
    EXPECT_EQ(pool.leased_by("198.18.0.1"), 1u);
    EXPECT_EQ(pool.lease(200, "c", "198.18.0.2")->identity, "sip:g3@ims.example.net");
    EXPECT_EQ(pool.lease(200, "d", "198.18.0.2")->identity, "sip:g1@ims.example.net");
    EXPECT_EQ(pool.lease(200, "e", "198.18.0.2"), nullptr);  // empty
    ASSERT_NE(pool.find("sip:g2@ims.example.net"), nullptr);
    EXPECT_EQ(pool.find("sip:g2@ims.example.net")->owner, "jti-b");
}

TEST(GuestPool, LeasesEndAtTheirExpiry) {
    GuestPool pool(kThree);
    pool.lease(100, "a", "p");
    pool.lease(50, "b", "p");
    pool.lease(100, "c", "q");
    EXPECT_TRUE(pool.expire(49).empty());
    EXPECT_EQ(pool.expire(50), std::vector<std::string>{"sip:g2@ims.example.net"});
    EXPECT_EQ(pool.free(), 1u);
    const auto ended = pool.expire(1000);
    EXPECT_EQ(ended.size(), 2u);
    EXPECT_EQ(pool.free(), 3u);
    EXPECT_EQ(pool.leased_by("p"), 0u);
    EXPECT_EQ(pool.leased_by("q"), 0u);
    // A released lease does not expire later.
    const std::string id = pool.lease(10, "x", "p")->identity;
    EXPECT_TRUE(pool.release(id));
    EXPECT_TRUE(pool.expire(10).empty());
}

TEST(GuestPool, EmptyAndDuplicates) {
    GuestPool empty;
    EXPECT_EQ(empty.lease(1, "a", "p"), nullptr);
    EXPECT_EQ(empty.size(), 0u);
    EXPECT_THROW(GuestPool({"sip:a@x", "sip:b@x", "sip:a@x"}), std::invalid_argument);
}

TEST(GuestPool, ExpandsARange) {
    EXPECT_EQ(
        expand_identity_range("sip:guest{0001..0003}@ims.example.net"),
        (std::vector<std::string>{"sip:guest0001@ims.example.net", "sip:guest0002@ims.example.net",
                                  "sip:guest0003@ims.example.net"}));
    EXPECT_EQ(expand_identity_range("sip:g{9..11}@x"),
              (std::vector<std::string>{"sip:g9@x", "sip:g10@x", "sip:g11@x"}));
    EXPECT_EQ(expand_identity_range("sip:g{08..10}@x"),
              (std::vector<std::string>{"sip:g08@x", "sip:g09@x", "sip:g10@x"}));
    EXPECT_EQ(expand_identity_range("sip:+49301{5..5}@x"),
              (std::vector<std::string>{"sip:+493015@x"}));
    EXPECT_EQ(expand_identity_range("sip:g{1..100000}@x").size(), 100000u);
    for (const char* bad :
         {"sip:g@x", "sip:g{1..2@x", "sip:g1..2}@x", "sip:g{1..2}{3..4}@x", "sip:g}1..2{@x",
          "sip:g{1-2}@x", "sip:g{2..1}@x", "sip:g{a..b}@x", "sip:g{..2}@x", "sip:g{1..}@x",
          "sip:g{-1..2}@x", "sip:g{1..100001}@x", "sip:g{1..1234567890}@x"}) {
        EXPECT_THROW(expand_identity_range(bad), std::invalid_argument) << bad;
    }
}

}  // namespace
}  // namespace isthmus::wwsf
