// One lcore's side of a packet capture (include/isthmus/dpif/capture.hpp):
// follows the capture's seq, keeps the filter it adopted and writes records
// into the lcore's own ring. A worker and the slow path each have one.
//
// Thread-safety: one lcore only (it is the producer of its ring). Fast path:
// poll() is one atomic load; the rest runs only while a capture is on. No
// locks, allocation or system calls.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "dpdk.hpp"
#include "isthmus/dpif/capture.hpp"
#include "pkt/parse.hpp"

namespace isthmus::dataplane {

class CaptureTap {
  public:
    void attach(dpif::CaptureArea* area, unsigned ring) {
        area_ = area;
        ring_ = ring;
    }

    // Once per poll: adopts a new seq (and acknowledges it). True when the
    // filter changed (the caller finds the session's ports again).
    bool poll() {
        if (area_ == nullptr) return false;
        const uint32_t seq = area_->control.seq.load(std::memory_order_acquire);
        if (seq == seq_) [[likely]]
            return false;
        adopt(seq);
        return true;
    }

    bool on() const { return on_; }
    bool side_on(std::size_t side) const { return on_ && (sides_ & (1U << side)) != 0; }
    uint64_t session() const { return session_; }
    // The filtered session's local RTP and RTCP ports by side (0: none).
    void set_ports(std::size_t side, uint16_t rtp, uint16_t rtcp) {
        ports_[side][0] = rtp;
        ports_[side][1] = rtcp;
    }

    // On the way in the session is not looked up yet: a session's frames are
    // those sent to its local ports.
    bool wants_in(const uint8_t* data, std::size_t len, std::size_t side) const {
        if (!side_on(side)) return false;
        if (session_ == 0) return true;
        const int dst = pkt::peek_udp_dst_port(data, len);
        return dst > 0 && (dst == ports_[side][0] || dst == ports_[side][1]);
    }

    // `len`: the frame's whole length; the first min(len, snaplen, seg_len)
    // octets at data are kept (a frame's first segment only).
    void write(const uint8_t* data, std::size_t len, std::size_t seg_len, std::size_t side,
               dpif::CaptureDir dir, uint64_t session_id) {
        dpif::CaptureControl& cc = area_->control;
        dpif::CaptureRecord* rec = area_->ring[ring_].reserve();
        if (rec == nullptr) [[unlikely]] {
            bump(cc.ring[ring_].dropped);
            return;
        }
        const std::size_t keep = std::min<std::size_t>({len, seg_len, snaplen_});
        rec->tsc = rte_get_tsc_cycles();
        rec->session_id = session_id;
        rec->orig_len = static_cast<uint32_t>(len);
        rec->cap_len = static_cast<uint16_t>(keep);
        rec->side = static_cast<uint8_t>(side);
        rec->dir = static_cast<uint8_t>(dir);
        std::memcpy(rec->data, data, keep);
        area_->ring[ring_].commit();
        bump(cc.ring[ring_].taken);
    }

  private:
    // Only the owner writes the filter, and only while seq is even; it is
    // read here once the odd seq is seen (acquire).
    void adopt(uint32_t seq) {
        dpif::CaptureControl& cc = area_->control;
        seq_ = seq;
        on_ = (seq & 1U) != 0;
        std::memset(ports_, 0, sizeof ports_);
        if (on_) {
            sides_ = cc.sides.load(std::memory_order_relaxed);
            snaplen_ = std::clamp<uint32_t>(cc.snaplen.load(std::memory_order_relaxed), 1,
                                            dpif::kCaptureData);
            session_ = cc.session_id.load(std::memory_order_relaxed);
        }
        cc.ring[ring_].ack.store(seq, std::memory_order_release);
    }
    static void bump(std::atomic<uint64_t>& c) {
        c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    dpif::CaptureArea* area_ = nullptr;
    unsigned ring_ = 0;
    uint32_t seq_ = 0;
    bool on_ = false;
    uint32_t sides_ = 0;
    uint32_t snaplen_ = 0;
    uint64_t session_ = 0;
    uint16_t ports_[2][2] = {};
};

}  // namespace isthmus::dataplane
