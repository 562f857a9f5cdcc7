// The [wwsf] configuration loader (controlplane/wwsf/config.hpp): the
// shipped configs/isthmus.toml loads; every key lands where it should; every
// refusal names the file and the full key; the files it names are read.
#include "wwsf/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../../tls_test_files.hpp"
#include "temp_dir.hpp"
#include "token/token.hpp"

namespace isthmus::wwsf {
namespace {

class WwsfConfig : public ::testing::Test {
  protected:
    WwsfConfig() {
        key_ = dir_.write("token.pem", token::TokenSigner::generate().private_pem());
        const tls_test::TlsPem pem = tls_test::make_self_signed();
        cert_ = dir_.write("cert.pem", pem.certificate);
        private_key_ = dir_.write("key.pem", pem.private_key);
        users_ = dir_.write(
            "users", "alice sip:alice@ims.example.net " +
                         format_password_hash(hash_password("pw", {.n = 1024, .r = 8, .p = 1})) +
                         "\n");
        web_ = (dir_.path() / "web").string();
        dir_.write("web/index.html", "x");
    }

    // A small valid configuration plus `extra` lines in [wwsf] and `tail`
    // after it.
    std::string text(const std::string& extra = {}, const std::string& tail = {}) const {
        return "[pcscf]\nthreads = 1\n\n[wwsf]\n" + extra +
               "https = \"127.0.0.1:8443\"\n"
               "certificate = \"" +
               cert_ +
               "\"\n"
               "private_key = \"" +
               private_key_ +
               "\"\n"
               "web_root = \"" +
               web_ +
               "\"\n"
               "token_key_file = \"" +
               key_ +
               "\"\n"
               "token_audience = \"pcscf.example.net\"\n"
               "ws_uri = \"wss://pcscf.example.net:7443\"\n"
               "domain = \"ims.example.net\"\n" +
               tail;
    }
    // `text` with the line starting with `key =` removed (a key left out).
    std::string without(const std::string& key) const {
        std::istringstream in(text());
        std::string out;
        for (std::string line; std::getline(in, line);) {
            if (line.rfind(key + " =", 0) != 0) out += line + "\n";
        }
        return out;
    }
    static std::string error_of(const std::string& toml) {
        try {
            load_wwsf_text(toml, "test.toml");
        } catch (const WwsfConfigError& e) {
            return e.what();
        }
        ADD_FAILURE() << "accepted:\n" << toml;
        return {};
    }

    test::TempDir dir_;
    std::string key_;
    std::string cert_;
    std::string private_key_;
    std::string users_;
    std::string web_;
};

TEST_F(WwsfConfig, TheShippedFileLoads) {
    const char* path = std::getenv("ISTHMUS_WWSF_CONFIG");
    ASSERT_NE(path, nullptr) << "ISTHMUS_WWSF_CONFIG (set by meson)";
    // Its relative paths (web_root) are the source tree's: run from there.
    const std::filesystem::path here = std::filesystem::current_path();
    std::filesystem::current_path(std::filesystem::path(path).parent_path().parent_path());
    WwsfDaemonConfig cfg;
    EXPECT_NO_THROW(cfg = load_wwsf_file(path));
    std::filesystem::current_path(here);
    EXPECT_TRUE(cfg.server.https || cfg.server.http);
    EXPECT_FALSE(cfg.core.ws_uri.empty());
    EXPECT_FALSE(cfg.core.token_audience.empty());
}

TEST_F(WwsfConfig, DefaultsOfASmallFile) {
    const WwsfDaemonConfig cfg = load_wwsf_text(text(), "test.toml");
    ASSERT_TRUE(cfg.server.https);
    EXPECT_EQ(cfg.server.https->address, "127.0.0.1");
    EXPECT_EQ(cfg.server.https->port, 8443);
    EXPECT_FALSE(cfg.server.http);
    EXPECT_EQ(cfg.server.certificate_chain_file, cert_);
    EXPECT_EQ(cfg.server.private_key_file, private_key_);
    EXPECT_EQ(cfg.web_root, web_);
    EXPECT_EQ(cfg.token_key_file, key_);
    EXPECT_NO_THROW(token::TokenSigner::from_private_pem(cfg.token_key_pem));
    EXPECT_EQ(cfg.users_file, "");
    EXPECT_EQ(cfg.users.size(), 0u);
    EXPECT_TRUE(cfg.guest_pool.empty());
    const CoreConfig& c = cfg.core;
    EXPECT_EQ(c.token_audience, "pcscf.example.net");
    EXPECT_EQ(c.ws_uri, "wss://pcscf.example.net:7443");
    EXPECT_EQ(c.domain, "ims.example.net");
    EXPECT_EQ(c.token_lifetime_s, 120);
    EXPECT_EQ(c.session_lifetime_s, 3600);
    EXPECT_EQ(c.guest_lease_s, 600);
    EXPECT_EQ(c.max_sessions, 10000u);
    EXPECT_EQ(c.max_sessions_per_user, 16u);
    EXPECT_EQ(c.max_guest_leases_per_address, 4u);
    EXPECT_EQ(c.max_logins_in_flight, 16u);
    EXPECT_EQ(c.hsts_max_age_s, 31536000);
    EXPECT_EQ(cfg.server.max_connections, 1000u);
    EXPECT_EQ(cfg.server.max_header_bytes, 8192u);
    EXPECT_EQ(cfg.server.max_body_bytes, 16384u);
    EXPECT_EQ(cfg.server.request_timeout, std::chrono::seconds(30));
    EXPECT_EQ(cfg.server.handshake_timeout, std::chrono::milliseconds(10000));
    EXPECT_EQ(cfg.kdf_threads, 2);
    EXPECT_FALSE(cfg.metrics);
}

TEST_F(WwsfConfig, EveryKey) {
    const WwsfDaemonConfig cfg = load_wwsf_text(
        text("http = \"[::1]:0\"\n"
             "users_file = \"" +
                 users_ +
                 "\"\n"
                 "token_lifetime_s = 60\n"
                 "session_lifetime_s = 7200\n"
                 "max_sessions = 50\n"
                 "max_sessions_per_user = 3\n"
                 "guest_pool = [\"sip:guest@ims.example.net\", \"sips:kiosk@ims.example.net\"]\n"
                 "guest_pool_range = [\"sip:g{1..3}@ims.example.net\", \"sip:h{08..09}@x.net\"]\n"
                 "guest_lease_s = 900\n"
                 "max_guest_leases_per_address = 0\n"
                 "hsts_max_age_s = 0\n"
                 "metrics = \"127.0.0.1:9102\"\n",
             "\n[wwsf.limits]\n"
             "max_connections = 20\n"
             "max_header_bytes = 4096\n"
             "max_body_bytes = 1024\n"
             "request_timeout_s = 5\n"
             "handshake_timeout_ms = 2500\n"
             "max_logins_in_flight = 3\n"
             "kdf_threads = 4\n"),
        "test.toml");
    ASSERT_TRUE(cfg.server.http);
    EXPECT_EQ(cfg.server.http->address, "::1");
    EXPECT_EQ(cfg.server.http->port, 0);
    EXPECT_EQ(cfg.users_file, users_);
    ASSERT_EQ(cfg.users.size(), 1u);
    EXPECT_EQ(cfg.users.find("alice")->identity, "sip:alice@ims.example.net");
    const CoreConfig& c = cfg.core;
    EXPECT_EQ(c.token_lifetime_s, 60);
    EXPECT_EQ(c.session_lifetime_s, 7200);
    EXPECT_EQ(c.max_sessions, 50u);
    EXPECT_EQ(c.max_sessions_per_user, 3u);
    EXPECT_EQ(cfg.guest_pool, (std::vector<std::string>{
                                  "sip:guest@ims.example.net", "sips:kiosk@ims.example.net",
                                  "sip:g1@ims.example.net", "sip:g2@ims.example.net",
                                  "sip:g3@ims.example.net", "sip:h08@x.net", "sip:h09@x.net"}));
    EXPECT_EQ(c.guest_lease_s, 900);
    EXPECT_EQ(c.max_guest_leases_per_address, 0u);
    EXPECT_EQ(c.hsts_max_age_s, 0);
    EXPECT_EQ(cfg.server.max_connections, 20u);
    EXPECT_EQ(cfg.server.max_header_bytes, 4096u);
    EXPECT_EQ(cfg.server.max_body_bytes, 1024u);
    EXPECT_EQ(cfg.server.request_timeout, std::chrono::seconds(5));
    EXPECT_EQ(cfg.server.handshake_timeout, std::chrono::milliseconds(2500));
    EXPECT_EQ(c.max_logins_in_flight, 3u);
    EXPECT_EQ(cfg.kdf_threads, 4);
    ASSERT_TRUE(cfg.metrics);
    EXPECT_EQ(cfg.metrics->address, "127.0.0.1");
    EXPECT_EQ(cfg.metrics->port, 9102);
    // An empty metrics: no exporter, as without the key.
    EXPECT_FALSE(load_wwsf_text(text("metrics = \"\"\n"), "t").metrics);
    // Port 0: ephemeral (tests); any IPv4 address.
    EXPECT_EQ(load_wwsf_text(text("metrics = \"0.0.0.0:0\"\n"), "t").metrics->port, 0);
    // A single range as a string.
    EXPECT_EQ(
        load_wwsf_text(text("guest_pool_range = \"sip:g{1..2}@x.net\"\n"), "t").guest_pool.size(),
        2u);
}

TEST_F(WwsfConfig, UnknownKeysAreRefusedByName) {
    EXPECT_EQ(error_of(text("http_port = 80\n")), "test.toml: wwsf.http_port: unknown key");
    EXPECT_EQ(error_of(text({}, "[wwsf.limits]\nmax_conections = 5\n")),
              "test.toml: wwsf.limits.max_conections: unknown key");
    EXPECT_EQ(error_of(text({}, "[wwsf.tls]\n")), "test.toml: wwsf.tls: unknown key");
    EXPECT_EQ(error_of(text("limits = 5\n")),
              "test.toml: wwsf.limits: must be a table ([wwsf.limits])");
    // inet_pton would stop at a NUL.
    EXPECT_NE(error_of(text("http = \"127.0.0.1\\u0000x:80\"\n")).find("NUL"), std::string::npos);
    // A misspelled section would be ignored whole.
    EXPECT_EQ(error_of(text({}, "[wsf]\nhttps = \"127.0.0.1:1\"\n")),
              "test.toml: wsf: unknown section (dataplane, pcscf and wwsf are known)");
}

TEST_F(WwsfConfig, TypesAndRanges) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"token_lifetime_s = 0\n", "wwsf.token_lifetime_s: must be an integer 1..3600"},
        {"token_lifetime_s = 3601\n", "wwsf.token_lifetime_s: must be an integer 1..3600"},
        {"token_lifetime_s = \"120\"\n", "wwsf.token_lifetime_s: must be an integer 1..3600"},
        {"token_lifetime_s = 120.0\n", "wwsf.token_lifetime_s: must be an integer 1..3600"},
        {"session_lifetime_s = 59\n", "wwsf.session_lifetime_s: must be an integer 60..2592000"},
        {"max_sessions = 0\n", "wwsf.max_sessions: must be an integer 1..10000000"},
        {"max_sessions_per_user = 1001\n",
         "wwsf.max_sessions_per_user: must be an integer 1..1000"},
        {"guest_lease_s = 9\n", "wwsf.guest_lease_s: must be an integer 10..604800"},
        {"max_guest_leases_per_address = -1\n",
         "wwsf.max_guest_leases_per_address: must be an integer 0..1000000"},
        {"hsts_max_age_s = true\n", "wwsf.hsts_max_age_s: must be an integer 0..63072000"},
        {"users_file = \"\"\n", "wwsf.users_file: must be a non-empty string"},
        {"users_file = 5\n", "wwsf.users_file: must be a non-empty string"},
        {"http = \"localhost:80\"\n", "wwsf.http: \"localhost\" is not an IP address"},
        {"http = \"127.0.0.1\"\n",
         "wwsf.http: expected \"address:port\" (IPv6 as \"[addr]:port\")"},
        {"http = \"127.0.0.1:65536\"\n", "wwsf.http: port must be 0..65535"},
        {"http = \"[::1:80\"\n", "wwsf.http: expected \"[IPv6]:port\""},
        {"metrics = 9102\n", "wwsf.metrics: must be a string (\"address:port\", \"\" for none)"},
        {"metrics = \"localhost:9102\"\n", "wwsf.metrics: \"localhost\" is not an IP address"},
        {"metrics = \"9102\"\n",
         "wwsf.metrics: expected \"address:port\" (IPv6 as \"[addr]:port\")"},
        {"metrics = \"127.0.0.1:70000\"\n", "wwsf.metrics: port must be 0..65535"},
        {"metrics = \"[::1]:9102\"\n",
         "wwsf.metrics: must be an IPv4 address (the exporter has no IPv6)"},
        {"guest_pool = \"sip:a@x\"\n", ""},  // a single string is taken too (below)
        {"guest_pool = [1]\n", "wwsf.guest_pool: must be a string or an array of strings"},
        {"guest_pool = [\"tel:+123\"]\n",
         "wwsf.guest_pool: \"tel:+123\" is not a public user identity (sip:user@host)"},
        {"guest_pool = [\"sip:a@x\", \"sip:a@x\"]\n",
         "wwsf.guest_pool: \"sip:a@x\" is in the pool twice"},
        {"guest_pool = [\"sip:g1@x\"]\nguest_pool_range = \"sip:g{1..2}@x\"\n",
         "wwsf.guest_pool_range: \"sip:g1@x\" is in the pool twice"},
        {"guest_pool_range = \"sip:g@x\"\n",
         "wwsf.guest_pool_range: \"sip:g@x\": expected exactly one {FIRST..LAST}"},
        {"guest_pool_range = \"g{1..2}\"\n",
         "wwsf.guest_pool_range: \"g1\" is not a public user identity (sip:user@host)"},
        {"guest_pool_range = [\"sip:a{1..60000}@x\", \"sip:b{1..60000}@x\"]\n",
         "wwsf.guest_pool_range: more than 100000 guest identities in all"},
    };
    for (const auto& [extra, expect] : cases) {
        if (expect.empty()) {
            EXPECT_NO_THROW(load_wwsf_text(text(extra), "test.toml")) << extra;
            continue;
        }
        const std::string e = error_of(text(extra));
        EXPECT_EQ(e.rfind("test.toml: " + expect, 0), 0u) << extra << " -> " << e;
    }
    const std::vector<std::pair<std::string, std::string>> limits = {
        {"max_connections = 0", "wwsf.limits.max_connections: must be an integer 1..1000000"},
        {"max_header_bytes = 1023", "wwsf.limits.max_header_bytes: must be an integer 1024..65536"},
        {"max_body_bytes = 255", "wwsf.limits.max_body_bytes: must be an integer 256..1048576"},
        {"request_timeout_s = 0", "wwsf.limits.request_timeout_s: must be an integer 1..3600"},
        {"handshake_timeout_ms = 99",
         "wwsf.limits.handshake_timeout_ms: must be an integer 100..600000"},
        {"max_logins_in_flight = 0",
         "wwsf.limits.max_logins_in_flight: must be an integer 1..1024"},
        {"kdf_threads = 65", "wwsf.limits.kdf_threads: must be an integer 1..64"},
    };
    for (const auto& [line, expect] : limits) {
        EXPECT_EQ(error_of(text({}, "[wwsf.limits]\n" + line + "\n")), "test.toml: " + expect);
    }
}

TEST_F(WwsfConfig, RequiredKeys) {
    EXPECT_EQ(error_of("[pcscf]\n"), "test.toml: no [wwsf] section");
    EXPECT_EQ(error_of("wwsf = 5\n"), "test.toml: no [wwsf] section");
    EXPECT_EQ(error_of(without("https")),
              "test.toml: wwsf.https: missing: the address:port to serve the WIC on");
    EXPECT_EQ(error_of(without("certificate")),
              "test.toml: wwsf.certificate: https needs certificate and private_key (PEM files)");
    EXPECT_EQ(error_of(without("private_key")),
              "test.toml: wwsf.private_key: https needs certificate and private_key (PEM files)");
    EXPECT_EQ(error_of(without("token_audience")),
              "test.toml: wwsf.token_audience: missing: the eP-CSCF the tokens are for (its host "
              "name)");
    EXPECT_EQ(error_of(without("ws_uri")),
              "test.toml: wwsf.ws_uri: missing: the eP-CSCF's wss:// URI");
    EXPECT_EQ(error_of(without("domain")),
              "test.toml: wwsf.domain: missing: the home network domain");
    // Certificates without https: refused (a plain listener does not use them).
    std::string plain = without("https");
    plain += "http = \"127.0.0.1:8080\"\n";
    EXPECT_EQ(error_of(plain), "test.toml: wwsf.certificate: set without https");
    // No token key file: a new key at every start (the daemon warns).
    const WwsfDaemonConfig cfg = load_wwsf_text(without("token_key_file"), "test.toml");
    EXPECT_EQ(cfg.token_key_pem, "");
    EXPECT_EQ(error_of("[wwsf\n").rfind("test.toml:1:", 0), 0u);
}

TEST_F(WwsfConfig, ValuesAndFiles) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"token_audience = \"pcscf example\"\n", "wwsf.token_audience: must not hold white space"},
        {"domain = \"ims example.net\"\n", "wwsf.domain: \"ims example.net\" is not a host name"},
        {"web_root = \"/nonexistent/web\"\n", "wwsf.web_root: /nonexistent/web is not a directory"},
        {"users_file = \"/nonexistent/users\"\n",
         "wwsf.users_file: cannot read /nonexistent/users"},
        {"token_key_file = \"/nonexistent/key\"\n",
         "wwsf.token_key_file: cannot read /nonexistent/key"},
        {"certificate = \"/nonexistent/cert\"\n",
         "wwsf.certificate: cannot read /nonexistent/cert"},
        {"private_key = \"/nonexistent/pk\"\n", "wwsf.private_key: cannot read /nonexistent/pk"},
    };
    for (const auto& [line, expect] : cases) {
        // `line` replaces the key of the same name.
        const std::string key = line.substr(0, line.find(' '));
        EXPECT_EQ(error_of(without(key) + line), "test.toml: " + expect) << line;
    }
    for (const char* uri : {"https://pcscf.example.net", "wss://", "wss://a;b", "pcscf:7443"}) {
        EXPECT_EQ(
            error_of(without("ws_uri") + "ws_uri = \"" + uri + "\"\n"),
            std::string("test.toml: wwsf.ws_uri: \"") + uri + "\" is not a ws:// or wss:// URI");
    }
    // A token key that is not an Ed25519 private key.
    const std::string not_a_key = dir_.write("bad.pem", "hello");
    const std::string e =
        error_of(without("token_key_file") + "token_key_file = \"" + not_a_key + "\"\n");
    EXPECT_EQ(e.rfind("test.toml: wwsf.token_key_file: " + not_a_key + ": ", 0), 0u) << e;
    // A users file with a bad line: its name and line inside the key's error.
    const std::string bad_users = dir_.write("bad-users", "# ok\nalice sip:alice@x\n");
    EXPECT_EQ(error_of(text("users_file = \"" + bad_users + "\"\n")),
              "test.toml: wwsf.users_file: " + bad_users + ":2: expected NAME IDENTITY HASH");
}

// The log level at start and the log control object's name (issue 10).
TEST_F(WwsfConfig, LogLevelAndControl) {
    const WwsfDaemonConfig d = load_wwsf_text(text(), "test.toml");
    EXPECT_EQ(d.log_level, log::Level::Info);
    EXPECT_EQ(d.log_control, "/isthmus-wwsf-log");
    for (const char* word : {"error", "warning", "notice", "info", "debug"}) {
        EXPECT_EQ(load_wwsf_text(text("log_level = \"" + std::string(word) + "\"\n"), "test.toml")
                      .log_level,
                  *log::parse_level(word));
    }
    EXPECT_EQ(load_wwsf_text(text("log_control = \"/wwsf-2-log\"\n"), "test.toml").log_control,
              "/wwsf-2-log");
    const auto refused = [&](const std::string& line, const std::string& what) {
        const std::string e = error_of(text(line + "\n"));
        EXPECT_EQ(e.rfind("test.toml: wwsf." + line.substr(0, line.find(' ')) + ": ", 0), 0u) << e;
        EXPECT_NE(e.find(what), std::string::npos) << e;
    };
    refused("log_level = \"verbose\"",
            "must be \"error\", \"warning\", \"notice\", \"info\" or \"debug\"");
    refused("log_level = \"DEBUG\"", "\"debug\"");
    refused("log_level = 4", "non-empty string");
    refused("log_control = \"isthmus-wwsf-log\"", "no other '/'");
    refused("log_control = \"/a/b\"", "no other '/'");
    refused("log_control = \"\"", "non-empty string");
}

TEST_F(WwsfConfig, LoadsAFile) {
    const std::string path = dir_.write("isthmus.toml", text());
    EXPECT_EQ(load_wwsf_file(path).core.domain, "ims.example.net");
    try {
        load_wwsf_file((dir_.path() / "missing.toml").string());
        FAIL();
    } catch (const WwsfConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  (dir_.path() / "missing.toml").string() + ": cannot read the configuration file");
    }
}

}  // namespace
}  // namespace isthmus::wwsf
