// Password hashes (controlplane/wwsf/password.hpp): scrypt against RFC 7914's
// vector, hash/verify, the text form parsed strictly.
#include "wwsf/password.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "token/token.hpp"

namespace isthmus::wwsf {
namespace {

// Cheap parameters for the tests (the text form carries them).
constexpr ScryptParams kFast{.n = 1024, .r = 8, .p = 1};

std::string unhex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

TEST(Password, IsScryptAsRfc7914Says) {
    // RFC 7914 12: scrypt(P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64)
    PasswordHash h;
    h.params = {.n = 1024, .r = 8, .p = 16};
    h.salt = "NaCl";
    h.hash = unhex(
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff10927"
        "9d9830dac727afb94a83ee6d8360cbdfa2cc0640");
    EXPECT_TRUE(verify_password("password", h));
    EXPECT_FALSE(verify_password("Password", h));
}

TEST(Password, HashesAndVerifies) {
    const PasswordHash h = hash_password("correct horse", kFast);
    EXPECT_EQ(h.params, kFast);
    EXPECT_EQ(h.salt.size(), 16u);
    EXPECT_EQ(h.hash.size(), 32u);
    EXPECT_TRUE(verify_password("correct horse", h));
    EXPECT_FALSE(verify_password("correct horsE", h));
    EXPECT_FALSE(verify_password("", h));
    // A new salt every time.
    EXPECT_NE(hash_password("correct horse", kFast).salt, h.salt);
    // No key: nothing matches.
    PasswordHash empty = h;
    empty.hash.clear();
    EXPECT_FALSE(verify_password("correct horse", empty));
}

TEST(Password, TextFormRoundTrips) {
    const PasswordHash h = hash_password("pw", kFast);
    const std::string text = format_password_hash(h);
    EXPECT_EQ(text.rfind("scrypt$1024$8$1$", 0), 0u) << text;
    EXPECT_EQ(text.find_first_of("=+/ "), std::string::npos);
    std::string why;
    const auto back = parse_password_hash(text, why);
    ASSERT_TRUE(back) << why;
    EXPECT_EQ(*back, h);
    EXPECT_TRUE(verify_password("pw", *back));
    // The default parameters: 2^15, 8, 1.
    EXPECT_EQ(ScryptParams{}.n, 32768u);
    EXPECT_EQ(ScryptParams{}.r, 8u);
    EXPECT_EQ(ScryptParams{}.p, 1u);
}

TEST(Password, TextFormIsParsedStrictly) {
    const std::string salt = token::base64url_encode(std::string(16, 's'));
    const std::string key = token::base64url_encode(std::string(32, 'k'));
    const auto form = [&](std::string n, std::string r, std::string p, std::string s,
                          std::string k) {
        return "scrypt$" + n + "$" + r + "$" + p + "$" + s + "$" + k;
    };
    std::string why;
    ASSERT_TRUE(parse_password_hash(form("1024", "8", "1", salt, key), why)) << why;
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"", "6 fields"},
        {"scrypt$1024$8$1$" + salt, "6 fields"},
        {form("1024", "8", "1", salt, key) + "$", "6 fields"},
        {"bcrypt$1024$8$1$" + salt + "$" + key, "unknown scheme"},
        {"SCRYPT$1024$8$1$" + salt + "$" + key, "unknown scheme"},
        {form("1000", "8", "1", salt, key), "power of two"},
        {form("1", "8", "1", salt, key), "power of two"},
        {form("01024", "8", "1", salt, key), "power of two"},
        {form("+1024", "8", "1", salt, key), "power of two"},
        {form("2097152", "8", "1", salt, key), "power of two"},
        {form("", "8", "1", salt, key), "power of two"},
        {form("1024", "0", "1", salt, key), "r must be"},
        {form("1024", "33", "1", salt, key), "r must be"},
        {form("1024", "8 ", "1", salt, key), "r must be"},
        {form("1024", "8", "0", salt, key), "p must be"},
        {form("1024", "8", "17", salt, key), "p must be"},
        {form("1048576", "8", "1", salt, key), "256 MiB"},
        {form("1024", "8", "1", salt + "=", key), "salt"},
        {form("1024", "8", "1", "c2FsdA+/", key), "salt"},
        {form("1024", "8", "1", token::base64url_encode("short"), key), "salt"},
        {form("1024", "8", "1", "", key), "salt"},
        {form("1024", "8", "1", salt, token::base64url_encode(std::string(15, 'k'))), "hash"},
        {form("1024", "8", "1", salt, token::base64url_encode(std::string(65, 'k'))), "hash"},
        {form("1024", "8", "1", salt, key + "!"), "hash"},
    };
    for (const auto& [text, expect] : bad) {
        why.clear();
        EXPECT_FALSE(parse_password_hash(text, why)) << text;
        EXPECT_NE(why.find(expect), std::string::npos) << text << ": " << why;
    }
}

}  // namespace
}  // namespace isthmus::wwsf
