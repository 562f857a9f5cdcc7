// Loading configs/isthmus.toml (toml++). Setup path only: every function
// throws ConfigError whose message names the file, the key and what is wrong;
// the daemons print it and refuse to start.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace isthmus::config {

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// [dataplane]
struct DataplaneConfig {
    std::string region = "/isthmus-dpif";  // dpif shared-memory region name
    std::vector<std::string> eal;          // DPDK EAL arguments (after argv[0])
    uint32_t heartbeat_ms = 100;           // how often the region's heartbeat is refreshed
};

// Reads the [dataplane] section of `path`. Keys not listed above are
// refused (a typo must not be silently ignored).
DataplaneConfig load_dataplane(const std::string& path);

}  // namespace isthmus::config
