// The replay list of RFC 3711 3.3.2 as a sliding bitmap, and the SRTP index
// estimate of RFC 3711 3.3.1 / Appendix A. Pure, header-only, no allocation.
//
// The same window serves the 48-bit SRTP index and the 31-bit SRTCP index.
// Behaviour at the edges deliberately matches libsrtp2 (srtp_rdbx_* and
// srtp_rdb_*) so that the two accept and refuse the same packets: the window
// holds the highest index seen and the 127 before it.
#pragma once

#include <cstdint>

#include "srtp/status.hpp"

namespace isthmus::srtp {

class ReplayWindow {
  public:
    static constexpr int64_t kSize = 128;  // RFC 3711 3.3.2: at least 64; libsrtp2 uses 128

    // Highest index accepted so far (0 before the first packet).
    uint64_t highest() const { return highest_; }

    // Ok when `index` (highest() + delta) may be accepted, Replay when it
    // was seen, ReplayOld when it is older than the window.
    Status check(int64_t delta) const {
        if (delta > 0) return Status::Ok;
        if (delta <= -kSize) return Status::ReplayOld;
        return bit(static_cast<unsigned>(-delta)) ? Status::Replay : Status::Ok;
    }

    // Marks highest() + delta as seen; call only after check() said Ok and
    // the packet authenticated.
    void accept(int64_t delta) {
        if (delta > 0) {
            shift(static_cast<uint64_t>(delta));
            highest_ += static_cast<uint64_t>(delta);
            set_bit(0);
        } else {
            set_bit(static_cast<unsigned>(-delta));
        }
    }

    // Forget everything and start below `highest` (used when a stream's ROC
    // is set out of band, RFC 3711 3.3.1).
    void reset(uint64_t highest) {
        highest_ = highest;
        bits_[0] = bits_[1] = 0;
    }

  private:
    // bit k set <=> index highest_ - k was accepted
    bool bit(unsigned k) const { return (bits_[k >> 6] >> (k & 63)) & 1U; }
    void set_bit(unsigned k) { bits_[k >> 6] |= uint64_t{1} << (k & 63); }
    void shift(uint64_t n) {
        if (n >= 128) {
            bits_[0] = bits_[1] = 0;
        } else if (n >= 64) {
            bits_[1] = bits_[0] << (n - 64);
            bits_[0] = 0;
        } else if (n > 0) {
            bits_[1] = (bits_[1] << n) | (bits_[0] >> (64 - n));
            bits_[0] <<= n;
        }
    }

    uint64_t highest_ = 0;
    uint64_t bits_[2] = {0, 0};
};

// RFC 3711 3.3.1: the index (ROC || SEQ) a received sequence number most
// likely belongs to, given the highest index so far; returned as the signed
// distance from `highest`. As in libsrtp2, while highest <= 2^15 the ROC is
// taken as 0 (so a stream's first packets never guess ROC = -1).
inline int64_t estimate_index_delta(uint64_t highest, uint16_t seq) {
    constexpr int64_t kMedian = 1 << 15;
    constexpr int64_t kSeqMod = 1 << 16;
    const auto s = static_cast<int64_t>(seq);
    if (highest <= static_cast<uint64_t>(kMedian)) return s - static_cast<int64_t>(highest);
    const auto local_seq = static_cast<int64_t>(highest & 0xffff);
    if (local_seq < kMedian) {
        if (s - local_seq > kMedian) return s - local_seq - kSeqMod;
        return s - local_seq;
    }
    if (local_seq - kMedian > s) return s - local_seq + kSeqMod;
    return s - local_seq;
}

}  // namespace isthmus::srtp
