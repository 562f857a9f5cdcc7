#include "ctl/pcapng.hpp"

namespace isthmus::ctl {

namespace {

constexpr uint32_t kShb = 0x0A0D0D0A;
constexpr uint32_t kIdb = 0x00000001;
constexpr uint32_t kEpb = 0x00000006;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint16_t kLinktypeEthernet = 1;
constexpr uint16_t kOptEnd = 0;
constexpr uint16_t kOptComment = 1;
constexpr uint16_t kShbUserAppl = 4;
constexpr uint16_t kIfName = 2;
constexpr uint16_t kIfTsresol = 9;
constexpr uint16_t kEpbFlags = 2;

void u16(std::string& out, uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
}
void u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void pad4(std::string& out, std::size_t len) {
    out.append((4 - len % 4) % 4, '\0');
}
void option(std::string& out, uint16_t code, std::string_view value) {
    u16(out, code);
    u16(out, static_cast<uint16_t>(value.size()));
    out.append(value);
    pad4(out, value.size());
}
// A block is type, total length, body, total length again.
std::size_t begin_block(std::string& out, uint32_t type) {
    const std::size_t start = out.size();
    u32(out, type);
    u32(out, 0);  // patched by end_block
    return start;
}
void end_block(std::string& out, std::size_t start) {
    u16(out, kOptEnd);
    u16(out, 0);
    const auto total = static_cast<uint32_t>(out.size() - start + 4);
    u32(out, total);
    for (int i = 0; i < 4; ++i)
        out[start + 4 + static_cast<std::size_t>(i)] = static_cast<char>((total >> (8 * i)) & 0xFF);
}

}  // namespace

void pcapng_section_header(std::string& out, std::string_view application) {
    const std::size_t start = begin_block(out, kShb);
    u32(out, kByteOrderMagic);
    u16(out, 1);           // major
    u16(out, 0);           // minor
    u32(out, 0xFFFFFFFF);  // section length: not given
    u32(out, 0xFFFFFFFF);
    option(out, kShbUserAppl, application);
    end_block(out, start);
}

void pcapng_interface(std::string& out, std::string_view name, uint32_t snaplen) {
    const std::size_t start = begin_block(out, kIdb);
    u16(out, kLinktypeEthernet);
    u16(out, 0);
    u32(out, snaplen);
    option(out, kIfName, name);
    const char resolution = 9;  // 10^-9 s
    option(out, kIfTsresol, std::string_view(&resolution, 1));
    end_block(out, start);
}

void pcapng_packet(std::string& out, uint32_t interface, uint64_t ts_ns,
                   std::span<const uint8_t> data, uint32_t orig_len, bool inbound,
                   std::string_view comment) {
    const std::size_t start = begin_block(out, kEpb);
    u32(out, interface);
    u32(out, static_cast<uint32_t>(ts_ns >> 32));
    u32(out, static_cast<uint32_t>(ts_ns & 0xFFFFFFFF));
    u32(out, static_cast<uint32_t>(data.size()));
    u32(out, orig_len);
    out.append(reinterpret_cast<const char*>(data.data()), data.size());
    pad4(out, data.size());
    std::string flags;
    u32(flags, inbound ? 1U : 2U);  // direction: 01 inbound, 10 outbound
    option(out, kEpbFlags, flags);
    if (!comment.empty()) option(out, kOptComment, comment);
    end_block(out, start);
}

}  // namespace isthmus::ctl
