// Loading configs/isthmus.toml (toml++). Setup path only: every function
// throws ConfigError whose message names the file, the key and what is wrong;
// the daemons print it and refuse to start.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "isthmus/log/level.hpp"

namespace isthmus::config {

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// [[dataplane.port]]: a DPDK port and the kernel TAP that gets what no
// flow owns (ARP, ICMP, ND, ...), so the gateway's address behaves like a host's.
struct PortConfig {
    std::string name;       // "access" (W3, browsers) or "core" (Mb, the IMS): the port's role
    std::string device;     // DPDK device name as created by the EAL (--vdev / PCI)
    std::string exception;  // DPDK device name of the exception port (net_tap)
    // Next hops (optional). A remote inside one of `networks` (CIDR, IPv4
    // or IPv6) is on the link and resolved itself; any other remote is
    // reached through `gateway` (IPv4) or `gateway6` (IPv6), whose MAC is
    // resolved instead. With no networks every remote is taken as on-link.
    std::vector<std::string> networks;
    std::string gateway;
    std::string gateway6;
    // Checksums of what the relay sends on this port: "auto" (the NIC's TX
    // checksum offload where it has IPv4 + UDP offload, else software),
    // "software", or "no-ipv4-udp" (IPv4 UDP checksum 0, allowed by RFC 768;
    // IPv6 always carries one).
    std::string checksums = "auto";
};

// [dataplane]
struct DataplaneConfig {
    std::string region = "/isthmus-dpif";   // dpif shared-memory region name
    std::vector<std::string> eal;           // DPDK EAL arguments (after argv[0])
    uint32_t heartbeat_ms = 100;            // how often the region's heartbeat is refreshed
    std::vector<PortConfig> ports;          // [[dataplane.port]]: at most one access, one core
    uint32_t workers = 1;                   // worker lcores (1..16); EAL -l needs workers + 1
                                            // lcores, or exactly 1 (one worker inline on main)
    uint32_t sessions_per_worker = 4096;    // session slots of each worker (table sizes)
    uint32_t srtp_contexts_per_worker = 0;  // SRTP contexts of each worker; 0: 2 per session
    // DTLS-SRTP (issue 5): the dataplane's certificate and key (PEM, EC
    // P-256); both empty: a new one is generated at every start.
    std::string dtls_certificate;
    std::string dtls_private_key;
    uint32_t dtls_max_handshakes = 4096;  // handshakes running at once on the slow path
    // A handshake not complete this long after its first datagram fails
    // (dpif DtlsFailed "handshake timeout"): a peer that stalls mid-way.
    uint32_t dtls_handshake_timeout_s = 30;
    // A session that relays nothing either way (RTP or RTCP) for this long
    // is reported idle (dpif SessionIdle; the control plane ends its call
    // once all its sessions are idle); 0: never.
    uint32_t media_timeout_s = 60;
    // A policed leg's burst allowance (dpif Command::police_kbps): this
    // long at its rate, at least one 1,500-octet packet; 1..4000.
    uint32_t police_burst_ms = 500;
    // Logs (docs/operations.md, "Logs"): the level at start, and the POSIX
    // shared-memory name of the log control `isthmus-ctl log-level
    // dataplane` changes it through while the dataplane runs.
    log::Level log_level = log::Level::Info;
    std::string log_control = "/isthmus-dataplane-log";
};

// Reads the [dataplane] section of `path`. Keys not listed above are
// refused (a typo must not be silently ignored).
DataplaneConfig load_dataplane(const std::string& path);

}  // namespace isthmus::config
