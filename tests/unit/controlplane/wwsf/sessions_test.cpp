// Web sessions (controlplane/wwsf/sessions.hpp): cookies, expiry, closing,
// the bounds.
#include "wwsf/sessions.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace isthmus::wwsf {
namespace {

Session user(const std::string& name, int64_t expires) {
    return {name, "sip:" + name + "@ims.example.net", false, expires};
}

TEST(Sessions, OpenFindExpire) {
    SessionTable t(10, 4);
    const auto c = t.open(user("alice", 100), 0);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->size(), 43u);  // 32 octets, base64url
    EXPECT_EQ(
        c->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    const Session* s = t.find(*c, 99);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->user, "alice");
    EXPECT_EQ(s->identity, "sip:alice@ims.example.net");
    // Another cookie (its first character changed; "x" + the rest would be
    // the cookie itself when it starts with 'x', 1 run in 64).
    EXPECT_EQ(t.find(std::string(1, (*c)[0] == 'x' ? 'y' : 'x') + c->substr(1), 0), nullptr);
    EXPECT_EQ(t.find("", 0), nullptr);
    EXPECT_EQ(t.find(*c, 100), nullptr);  // expired: gone
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(session_key(*c).size(), 32u);
}

TEST(Sessions, CloseAndCloseUser) {
    SessionTable t(10, 4);
    const auto a1 = t.open(user("alice", 100), 0);
    const auto a2 = t.open(user("alice", 100), 0);
    const auto b = t.open(user("bob", 100), 0);
    EXPECT_NE(*a1, *a2);
    EXPECT_TRUE(t.close(*a1));
    EXPECT_FALSE(t.close(*a1));
    EXPECT_EQ(t.find(*a1, 1), nullptr);
    EXPECT_NE(t.find(*a2, 1), nullptr);
    EXPECT_EQ(t.close_user("alice"), 1u);
    EXPECT_EQ(t.find(*a2, 1), nullptr);
    EXPECT_NE(t.find(*b, 1), nullptr);
    EXPECT_EQ(t.close_user("nobody"), 0u);
    EXPECT_EQ(t.expire(100), 1u);
    EXPECT_EQ(t.size(), 0u);
}

TEST(Sessions, Bounds) {
    SessionTable t(3, 2);
    const auto a1 = t.open(user("alice", 50), 0);
    const auto a2 = t.open(user("alice", 60), 0);
    // A third for alice closes her oldest.
    const auto a3 = t.open(user("alice", 70), 0);
    ASSERT_TRUE(a3);
    EXPECT_EQ(t.find(*a1, 1), nullptr);
    EXPECT_NE(t.find(*a2, 1), nullptr);
    EXPECT_EQ(t.size(), 2u);
    ASSERT_TRUE(t.open(user("bob", 80), 0));
    // Full: no room for carol.
    EXPECT_FALSE(t.open(user("carol", 80), 0));
    // Once alice's sessions expired, there is.
    EXPECT_TRUE(t.open(user("carol", 200), 70));
    std::set<std::string> cookies;
    SessionTable many(1000, 1000);
    for (int i = 0; i < 1000; ++i)
        cookies.insert(*many.open(user("u", 10), 0));
    EXPECT_EQ(cookies.size(), 1000u);
}

}  // namespace
}  // namespace isthmus::wwsf
