// Why the dataplane's parser refuses a frame. One X-macro makes the enum and
// the metric labels (isthmus_dataplane_drops_total{reason=...}).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace isthmus::pkt {

// X(Enumerator, "label")
#define ISTHMUS_PKT_DROP(X)                                                          \
    X(None, "none")                       /* not dropped */                          \
    X(TooShort, "too_short")              /* frame shorter than its headers */       \
    X(BadIpHeader, "bad_ip_header")       /* version, IHL or lengths inconsistent */ \
    X(BadIpChecksum, "bad_ip_checksum")   /* IPv4 header checksum */                 \
    X(IpFragment, "ip_fragment")          /* fragments are not reassembled */        \
    X(BadUdpLength, "bad_udp_length")     /* UDP length vs IP payload */             \
    X(BadUdpChecksum, "bad_udp_checksum") /* UDP checksum (mandatory on IPv6) */     \
    X(BadAddress, "bad_address")          /* broadcast/multicast/zero source */

enum class Drop : uint8_t {
#define ISTHMUS_X(name, label) name,
    ISTHMUS_PKT_DROP(ISTHMUS_X)
#undef ISTHMUS_X
};

inline constexpr std::size_t kDropCount = 0
#define ISTHMUS_X(name, label) +1
    ISTHMUS_PKT_DROP(ISTHMUS_X)
#undef ISTHMUS_X
    ;

constexpr std::string_view drop_name(Drop d) {
    constexpr std::array<std::string_view, kDropCount> names = {
#define ISTHMUS_X(name, label) label,
        ISTHMUS_PKT_DROP(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return names[static_cast<std::size_t>(d)];
}

}  // namespace isthmus::pkt
