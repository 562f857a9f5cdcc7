// Shared pieces of the SRTP benches (srtp_bench.cpp, srtp_floor.cpp): packet
// buffers, plain RTP/RTCP packets, the key material and the per-packet
// counters every bench reports. Bench code only; setup may allocate.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string_view>

#include "srtp/suite.hpp"

namespace isthmus::bench {

// The four transforms every implementation is measured on.
enum class BenchOp : uint8_t { ProtectRtp, UnprotectRtp, ProtectRtcp, UnprotectRtcp };

constexpr std::string_view bench_op_name(BenchOp op) {
    switch (op) {
        case BenchOp::ProtectRtp:
            return "protect_rtp";
        case BenchOp::UnprotectRtp:
            return "unprotect_rtp";
        case BenchOp::ProtectRtcp:
            return "protect_rtcp";
        case BenchOp::UnprotectRtcp:
            return "unprotect_rtcp";
    }
    return "?";
}
constexpr bool is_rtcp(BenchOp op) {
    return op == BenchOp::ProtectRtcp || op == BenchOp::UnprotectRtcp;
}
constexpr bool is_protect(BenchOp op) {
    return op == BenchOp::ProtectRtp || op == BenchOp::ProtectRtcp;
}

inline constexpr std::size_t kBurst = 32;        // packets per call of the burst API
inline constexpr std::size_t kRing = 4096;       // pre-protected packets for unprotect
inline constexpr uint32_t kRtpHeaderLen = 12;    // RFC 3550 5.1, no CSRC, no extension
inline constexpr uint32_t kRtcpHeaderLen = 8;    // RFC 3711 3.4: first 8 octets stay clear
inline constexpr uint32_t kSrtcpIndexLen = 4;    // E flag + 31-bit SRTCP index
inline constexpr uint32_t kMaxTrailer = 4 + 20;  // SRTCP index + largest tag (or HMAC output)
inline constexpr uint32_t kSsrc = 0x5eed1234;

// Octets an implementation appends on protect (SRTCP: index + tag).
constexpr uint32_t trailer_len(srtp::Suite suite, BenchOp op) {
    const srtp::SuiteInfo info = srtp::suite_info(suite);
    return is_rtcp(op) ? kSrtcpIndexLen + info.rtcp_tag_len : info.rtp_tag_len;
}

// One master key and salt for every suite (leading octets used per suite).
inline constexpr std::array<uint8_t, 32> kMasterKey = {
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6, 0xc1, 0x73};
inline constexpr std::array<uint8_t, 14> kMasterSalt = {0xc3, 0x17, 0xf2, 0xda, 0xbe, 0x35, 0x77,
                                                        0x93, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};

// n packet buffers of `stride` octets each, 64-octet aligned, in one block
// (DPDK-like: each packet starts on a cache line). Mapped with mmap and
// unmapped when done, so the thousand benches of a run do not leave a
// fragmented heap behind them (malloc's growing mmap threshold did: 1.7 GB RSS).
class Slab {
  public:
    Slab(std::size_t n, uint32_t packet_room)
        : n_(n), stride_((packet_room + kMaxTrailer + 63U) & ~63U), bytes_(n_ * stride_) {
        void* p =
            ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        base_ = static_cast<uint8_t*>(p);
        std::fill_n(base_, bytes_, uint8_t{0});  // fault the pages in before timing
    }
    ~Slab() { ::munmap(base_, bytes_); }
    Slab(const Slab&) = delete;
    Slab& operator=(const Slab&) = delete;
    uint8_t* operator[](std::size_t i) const { return base_ + i * stride_; }
    std::size_t size() const { return n_; }
    uint32_t stride() const { return stride_; }

  private:
    std::size_t n_;
    uint32_t stride_;
    std::size_t bytes_;
    uint8_t* base_ = nullptr;
};

inline void put_be16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
inline void put_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// RFC 3550 5.1: V=2, PT 111, no CSRC/extension/padding; `size` octets in all.
inline void write_rtp(uint8_t* p, uint32_t size, uint16_t seq) {
    p[0] = 0x80;
    p[1] = 111;
    put_be16(p + 2, seq);
    put_be32(p + 4, 160U * seq);
    put_be32(p + 8, kSsrc);
    for (uint32_t i = kRtpHeaderLen; i < size; ++i)
        p[i] = static_cast<uint8_t>(i * 7U);
}
inline void set_rtp_seq(uint8_t* p, uint16_t seq) {
    put_be16(p + 2, seq);
}

// RFC 3550 6.4.1: a sender report of `size` octets (a multiple of 4).
inline void write_rtcp(uint8_t* p, uint32_t size) {
    p[0] = 0x80;
    p[1] = 200;
    put_be16(p + 2, static_cast<uint16_t>(size / 4 - 1));
    put_be32(p + 4, kSsrc);
    for (uint32_t i = kRtcpHeaderLen; i < size; ++i)
        p[i] = static_cast<uint8_t>(i * 11U);
}

inline void write_plain(uint8_t* p, BenchOp op, uint32_t size, uint16_t seq) {
    if (is_rtcp(op)) {
        write_rtcp(p, size);
    } else {
        write_rtp(p, size, seq);
    }
}

// The counters every bench reports: items_per_second (packets/s), plus
// ns_per_pkt and Mpps so the console output reads directly.
inline void report_packets(benchmark::State& state, std::size_t per_iteration, uint32_t size) {
    const double packets =
        static_cast<double>(state.iterations()) * static_cast<double>(per_iteration);
    state.SetItemsProcessed(static_cast<int64_t>(packets));
    state.SetBytesProcessed(static_cast<int64_t>(packets) * size);
    state.counters["ns_per_pkt"] = benchmark::Counter(
        packets / 1e9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["Mpps"] = benchmark::Counter(packets / 1e6, benchmark::Counter::kIsRate);
    state.counters["burst"] = static_cast<double>(per_iteration);
}

}  // namespace isthmus::bench
