// The users file (controlplane/wwsf/users.hpp): its form, each refusal with
// its line, the identity and name rules.
#include "wwsf/users.hpp"

#include <gtest/gtest.h>

#include <string>

#include "temp_dir.hpp"

namespace isthmus::wwsf {
namespace {

constexpr ScryptParams kFast{.n = 1024, .r = 8, .p = 1};

std::string hash_of(std::string_view pw, ScryptParams p = kFast) {
    return format_password_hash(hash_password(pw, p));
}

std::string error_of(const std::string& text) {
    try {
        UserDb::parse(text, "users.txt");
    } catch (const UsersError& e) {
        return e.what();
    }
    ADD_FAILURE() << "accepted: " << text;
    return {};
}

TEST(Users, ReadsTheFile) {
    const std::string a = hash_of("a-pass");
    const std::string b = hash_of("b-pass", {.n = 2048, .r = 8, .p = 1});
    const std::string c = hash_of("c-pass");
    const UserDb db =
        UserDb::parse("# web users\n\nalice sip:alice@ims.example.net " + a +
                          "\r\n  bob.b@x\tsips:+4930123@ims.example.net\t" + b +
                          "  \n   # indented comment\ncarol sip:carol@ims.example.net " + c,
                      "users.txt");
    ASSERT_EQ(db.size(), 3u);
    const User* alice = db.find("alice");
    ASSERT_NE(alice, nullptr);
    EXPECT_EQ(alice->identity, "sip:alice@ims.example.net");
    EXPECT_TRUE(verify_password("a-pass", alice->hash));
    ASSERT_NE(db.find("bob.b@x"), nullptr);
    EXPECT_EQ(db.find("bob.b@x")->identity, "sips:+4930123@ims.example.net");
    EXPECT_EQ(db.find("Alice"), nullptr);
    EXPECT_EQ(db.find(""), nullptr);
    // Two of three hashes have N = 1024: what an unknown user's check costs.
    EXPECT_EQ(db.common_params(), kFast);
    EXPECT_EQ(UserDb().common_params(), ScryptParams{});
    EXPECT_EQ(UserDb::parse("", "users.txt").size(), 0u);
}

TEST(Users, RefusalsNameTheLine) {
    const std::string h = hash_of("pw");
    EXPECT_EQ(error_of("\nalice sip:alice@ims.example.net\n"),
              "users.txt:2: expected NAME IDENTITY HASH");
    EXPECT_EQ(error_of("alice sip:alice@ims.example.net " + h + " extra"),
              "users.txt:1: expected NAME IDENTITY HASH");
    EXPECT_EQ(error_of("al:ice sip:alice@ims.example.net " + h),
              "users.txt:1: user name must be 1..64 of [A-Za-z0-9._@+-]");
    EXPECT_EQ(error_of(std::string(65, 'a') + " sip:alice@ims.example.net " + h),
              "users.txt:1: user name must be 1..64 of [A-Za-z0-9._@+-]");
    for (const char* id :
         {"alice@ims.example.net", "tel:+4930123", "sip:ims.example.net",
          "sip:alice:pw@ims.example.net", "sip:alice@ims.example.net?x=y", "http://alice"}) {
        EXPECT_NE(
            error_of(std::string("alice ") + id + " " + h)
                .find("users.txt:1: \"" + std::string(id) + "\" is not a public user identity"),
            std::string::npos)
            << id;
    }
    const std::string bad_hash = error_of("alice sip:alice@ims.example.net scrypt$1000$8$1$x$y");
    EXPECT_EQ(bad_hash, "users.txt:1: password hash of alice: N must be a power of two 2..1048576");
    EXPECT_EQ(error_of("alice sip:a@ims.example.net " + h + "\nalice sip:b@ims.example.net " + h),
              "users.txt:2: user alice listed twice");
}

TEST(Users, NamesAndIdentities) {
    EXPECT_TRUE(is_user_name("alice"));
    EXPECT_TRUE(is_user_name("a.b_c-d+e@f"));
    EXPECT_FALSE(is_user_name(""));
    EXPECT_FALSE(is_user_name("a b"));
    EXPECT_FALSE(is_user_name("guest:sip"));
    EXPECT_FALSE(is_user_name("caf\xc3\xa9"));
    EXPECT_TRUE(is_public_identity("sip:alice@ims.example.net"));
    EXPECT_TRUE(is_public_identity("sip:alice@[2001:db8::1]"));
    EXPECT_FALSE(is_public_identity("sip:alice@ims.example.net foo"));
    EXPECT_FALSE(is_public_identity("<sip:alice@ims.example.net>"));
    EXPECT_FALSE(is_public_identity(""));
}

TEST(Users, LoadsAFile) {
    test::TempDir dir;
    const std::string path =
        dir.write("users", "bob sip:bob@ims.example.net " + hash_of("x") + "\n");
    EXPECT_EQ(UserDb::load(path).size(), 1u);
    EXPECT_THROW(UserDb::load((dir.path() / "missing").string()), UsersError);
    EXPECT_THROW(UserDb::load(dir.path().string()), UsersError);
    try {
        UserDb::load(dir.write("bad", "bob\n"));
        FAIL();
    } catch (const UsersError& e) {
        EXPECT_EQ(std::string(e.what()),
                  (dir.path() / "bad").string() + ":1: expected NAME IDENTITY HASH");
    }
}

}  // namespace
}  // namespace isthmus::wwsf
