// pcapng blocks (draft-ietf-opsawg-pcapng) for `isthmus-ctl capture`: pure
// functions that append one block to a byte string, little-endian (the
// section header's byte-order magic tells readers which). One interface per
// dataplane port ("access", "core"), timestamps in nanoseconds, the
// direction of each frame in its epb_flags.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace isthmus::ctl {

// Section Header Block with shb_userappl = `application`.
void pcapng_section_header(std::string& out, std::string_view application);

// Interface Description Block: LINKTYPE_ETHERNET, if_name = `name`,
// if_tsresol = 9 (nanoseconds).
void pcapng_interface(std::string& out, std::string_view name, uint32_t snaplen);

// Enhanced Packet Block: `data` (the captured bytes of a frame `orig_len`
// long) on interface `interface` at `ts_ns` (ns since the epoch), inbound or
// outbound (epb_flags bits 0-1), with an opt_comment when `comment` is not
// empty.
void pcapng_packet(std::string& out, uint32_t interface, uint64_t ts_ns,
                   std::span<const uint8_t> data, uint32_t orig_len, bool inbound,
                   std::string_view comment);

}  // namespace isthmus::ctl
