// What the WWSF's HTTP server (server.hpp) is configured with: endpoints,
// TLS files, limits. Plain values without Boost, so that the configuration
// loader (config.hpp) needs none; any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace isthmus::wwsf {

struct Endpoint {
    std::string address;  // IP literal
    uint16_t port = 0;    // 0: ephemeral (tests)
};

struct ServerConfig {
    std::optional<Endpoint> https;
    std::optional<Endpoint> http;        // plain HTTP: tests only
    std::string certificate_chain_file;  // PEM, leaf first (https)
    std::string private_key_file;        // PEM, unencrypted (https)
    std::size_t max_connections = 1000;
    std::size_t max_header_bytes = 8192;
    std::size_t max_body_bytes = 16384;
    // Each read of a request (including the wait for the next one on a
    // kept-alive connection) and each write.
    std::chrono::seconds request_timeout{30};
    std::chrono::milliseconds handshake_timeout{10000};
};

}  // namespace isthmus::wwsf
