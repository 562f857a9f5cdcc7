// CRC-32 (ISO-HDLC / IEEE 802.3: reflected polynomial 0xEDB88320, initial and
// final XOR 0xFFFFFFFF, as zlib's crc32) and the STUN FINGERPRINT built on it
// (RFC 8489 14.7). Our own slice-by-8 tables (8 KiB, built at compile time):
// no zlib, no allocation, no state; any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace isthmus::ice {

// CRC-32 of p[0, n) continuing from `crc` (0 to start; pass a previous
// result to continue over more octets). crc32("123456789") == 0xCBF43926.
uint32_t crc32(const uint8_t* p, std::size_t n, uint32_t crc = 0);

// The FINGERPRINT value of a message whose first `n` octets (everything
// before the FINGERPRINT attribute, with the header length already counting
// it) are msg[0, n): CRC-32 XOR 0x5354554e.
uint32_t stun_fingerprint(const uint8_t* msg, std::size_t n);

}  // namespace isthmus::ice
