// The [dataplane] loader (include/isthmus/config/config_impl.hpp): the log
// keys (log_level, log_control), dtls_handshake_timeout_s and
// police_burst_ms, their defaults and their refusals by name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "isthmus/config/config_impl.hpp"

namespace isthmus::config {
namespace {

// load_dataplane of a file holding `dataplane` in [dataplane].
DataplaneConfig load(const std::string& dataplane) {
    const std::string path = (std::filesystem::path(::testing::TempDir()) /
                              ("dataplane_config_" + std::to_string(::getpid()) + ".toml"))
                                 .string();
    std::ofstream(path) << "[dataplane]\n" << dataplane << "\n";
    struct Remove {
        std::string path;
        ~Remove() { std::filesystem::remove(path); }
    } remove{path};
    return load_dataplane(path);
}

// The ConfigError's message after the file's name ("dataplane.KEY: ...").
std::string error_of(const std::string& dataplane) {
    try {
        load(dataplane);
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        const auto colon = what.find(": ");
        return colon == std::string::npos ? what : what.substr(colon + 2);
    }
    return "";
}

TEST(DataplaneConfig, LogDefaults) {
    const DataplaneConfig cfg = load("");
    EXPECT_EQ(cfg.log_level, log::Level::Info);
    EXPECT_EQ(cfg.log_control, "/isthmus-dataplane-log");
}

TEST(DataplaneConfig, LogKeysAreRead) {
    for (const char* word : {"error", "warning", "notice", "info", "debug"}) {
        EXPECT_EQ(load(std::string("log_level = \"") + word + "\"").log_level,
                  *log::parse_level(word));
    }
    EXPECT_EQ(load("log_control = \"/dp-log-2\"").log_control, "/dp-log-2");
}

TEST(DataplaneConfig, LogKeysRefusedByName) {
    for (const char* bad : {"\"verbose\"", "\"INFO\"", "\"\"", "3", "true"}) {
        const std::string e = error_of(std::string("log_level = ") + bad);
        EXPECT_EQ(e.rfind("dataplane.log_level: must be \"error\", \"warning\", \"notice\", "
                          "\"info\" or \"debug\"",
                          0),
                  0u)
            << bad << ": " << e;
    }
    for (const char* bad : {"\"isthmus-log\"", "\"/a/b\"", "\"/\"", "\"\"", "5"}) {
        const std::string e = error_of(std::string("log_control = ") + bad);
        EXPECT_EQ(e.rfind("dataplane.log_control: must be a string like", 0), 0u)
            << bad << ": " << e;
    }
    EXPECT_EQ(error_of("log_levl = \"info\""), "dataplane.log_levl: unknown key");
}

TEST(DataplaneConfig, DtlsHandshakeTimeout) {
    EXPECT_EQ(load("").dtls_handshake_timeout_s, 30u);
    EXPECT_EQ(load("dtls_handshake_timeout_s = 5").dtls_handshake_timeout_s, 5u);
    EXPECT_EQ(load("dtls_handshake_timeout_s = 1").dtls_handshake_timeout_s, 1u);
    EXPECT_EQ(load("dtls_handshake_timeout_s = 300").dtls_handshake_timeout_s, 300u);
    for (const char* bad : {"0", "301", "-1", "5.0", "\"5\"", "true"}) {
        EXPECT_EQ(error_of(std::string("dtls_handshake_timeout_s = ") + bad),
                  "dataplane.dtls_handshake_timeout_s: must be an integer 1..300")
            << bad;
    }
}

TEST(DataplaneConfig, PoliceBurst) {
    EXPECT_EQ(load("").police_burst_ms, 500u);
    EXPECT_EQ(load("police_burst_ms = 1").police_burst_ms, 1u);
    EXPECT_EQ(load("police_burst_ms = 4000").police_burst_ms, 4000u);
    for (const char* bad : {"0", "4001", "-5", "0.5", "\"500\""}) {
        EXPECT_EQ(error_of(std::string("police_burst_ms = ") + bad),
                  "dataplane.police_burst_ms: must be an integer 1..4000")
            << bad;
    }
}

}  // namespace
}  // namespace isthmus::config
