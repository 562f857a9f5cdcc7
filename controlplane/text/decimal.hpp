// Decimal numbers as the SIP and SDP grammars write them (1*DIGIT), shared
// by both parsers. Pure function; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace isthmus::text {

// The value of `digits` (ASCII 0-9 only, at least one), or nullopt when it is
// empty, holds anything else, or exceeds `max` (checked without overflow).
inline std::optional<uint64_t> parse_uint(std::string_view digits, uint64_t max) {
    if (digits.empty()) return std::nullopt;
    uint64_t v = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<uint64_t>(c - '0');
        if (d > max || v > (max - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

}  // namespace isthmus::text
