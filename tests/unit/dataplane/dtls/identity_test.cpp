// The dataplane's DTLS identity: generated P-256 certificates, fingerprints
// in RFC 8122 form, loading from PEM files with clear refusals.
#include "dtls/identity.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace isthmus::dtls {
namespace {

TEST(Fingerprint, TextRoundTrip) {
    Fingerprint fp{};
    for (std::size_t i = 0; i < fp.size(); ++i)
        fp[i] = static_cast<uint8_t>(i * 9 + 0xa0);
    const std::string t = fingerprint_text(fp);
    EXPECT_EQ(t.size(), 95U);
    EXPECT_EQ(t.substr(0, 9), "A0:A9:B2:");
    Fingerprint back{};
    ASSERT_TRUE(parse_fingerprint(t, back));
    EXPECT_EQ(back, fp);
    std::string lower = t;
    for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_TRUE(parse_fingerprint(lower, back));
    EXPECT_EQ(back, fp);
}

TEST(Fingerprint, RefusesMalformedText) {
    Fingerprint fp{};
    const std::string good = fingerprint_text(fp);
    EXPECT_FALSE(parse_fingerprint("", fp));
    EXPECT_FALSE(parse_fingerprint(good.substr(0, 94), fp));
    EXPECT_FALSE(parse_fingerprint(good + ":00", fp));
    std::string bad = good;
    bad[2] = '-';
    EXPECT_FALSE(parse_fingerprint(bad, fp));
    bad = good;
    bad[0] = 'G';
    EXPECT_FALSE(parse_fingerprint(bad, fp));
}

TEST(Identity, GeneratedIsP256SelfSignedWithItsFingerprint) {
    const Identity id = Identity::generate("unit");
    ASSERT_NE(id.certificate(), nullptr);
    EXPECT_EQ(EVP_PKEY_get_base_id(id.key()), EVP_PKEY_EC);
    EXPECT_EQ(EVP_PKEY_get_bits(id.key()), 256);
    EXPECT_EQ(X509_verify(id.certificate(), id.key()), 1) << "self-signed with its own key";
    EXPECT_EQ(id.fingerprint(), fingerprint_of(id.certificate()));
    const Identity other = Identity::generate("unit");
    EXPECT_NE(id.fingerprint(), other.fingerprint()) << "a new key and serial each time";
}

class IdentityFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ =
            std::filesystem::temp_directory_path() / ("isthmus-dtls-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write_cert(const Identity& id, const char* name) {
        const std::string p = (dir_ / name).string();
        FILE* f = std::fopen(p.c_str(), "w");
        PEM_write_X509(f, id.certificate());
        std::fclose(f);
        return p;
    }
    std::string write_key(EVP_PKEY* k, const char* name) {
        const std::string p = (dir_ / name).string();
        FILE* f = std::fopen(p.c_str(), "w");
        PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(f);
        return p;
    }
    std::filesystem::path dir_;
};

TEST_F(IdentityFiles, LoadsWhatWasWritten) {
    const Identity id = Identity::generate("file");
    const Identity loaded =
        Identity::load(write_cert(id, "cert.pem"), write_key(id.key(), "key.pem"));
    EXPECT_EQ(loaded.fingerprint(), id.fingerprint());
}

TEST_F(IdentityFiles, RefusesMissingMismatchedAndNonP256) {
    const Identity a = Identity::generate("a");
    const Identity b = Identity::generate("b");
    const std::string cert = write_cert(a, "a.pem");
    const std::string other_key = write_key(b.key(), "b.key");
    EXPECT_THROW(Identity::load((dir_ / "none.pem").string(), other_key), std::runtime_error);
    EXPECT_THROW(Identity::load(cert, (dir_ / "none.key").string()), std::runtime_error);
    EXPECT_THROW(Identity::load(other_key, other_key), std::runtime_error);  // not a cert
    try {
        Identity::load(cert, other_key);
        FAIL() << "a key of another certificate must be refused";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
    }
    EVP_PKEY* p384 = EVP_EC_gen("P-384");
    const std::string k384 = write_key(p384, "p384.key");
    EVP_PKEY_free(p384);
    try {
        Identity::load(cert, k384);
        FAIL() << "a P-384 key must be refused";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("P-256"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace isthmus::dtls
