// The gateway's UDP ports for media (issue 7), handed out by the IMS-ALG:
// one port per access (W3) leg and an RTP/RTCP pair per core (Mb) leg.
//
// The dataplane gives a session to the worker its access port names,
// worker = (port / 2) mod N (docs/dataplane.md "Ownership"), and refuses a
// core leg whose ports name another worker; so both pools are kept per
// worker and a call's m= line takes its access port and its core pair from
// the same worker's lists.
//
//   MediaPorts ports({.min = 20000, .max = 29999}, {.min = 30000, .max = 39999}, 2);
//   auto legs = ports.allocate();   // nullopt: a pool is empty
//   ... legs->access, legs->core (even), legs->worker
//   ports.release(*legs);
//
// Workers are taken in turn, skipping one whose lists are empty, so calls
// spread evenly over the dataplane's workers. Released ports go to the back
// of their list: a port just freed is the last one reused (a late packet of
// the old call is then unlikely to reach a new one).
//
// Plain values, no I/O; one thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace isthmus::pcscf {

struct PortRange {
    uint16_t min = 0;
    uint16_t max = 0;  // inclusive
};

// The ports of one m= line's dataplane session.
struct MediaLegs {
    uint16_t access = 0;  // the access leg's one port (RTP and RTCP muxed)
    uint16_t core = 0;    // the core leg's RTP port, even; RTCP is core + 1
    uint32_t worker = 0;
};

class MediaPorts {
  public:
    // Throws std::invalid_argument when a range is empty, min > max, they
    // overlap, port 0 is in one, or a worker would get no access port or no
    // core pair (ranges too small for `workers`).
    MediaPorts(PortRange access, PortRange core, uint32_t workers) : workers_(workers) {
        if (workers == 0) throw std::invalid_argument("workers must be at least 1");
        check(access, "access");
        check(core, "core");
        if (access.min <= core.max && core.min <= access.max)
            throw std::invalid_argument("the access and core port ranges overlap");
        access_.resize(workers);
        core_.resize(workers);
        for (uint32_t p = access.min; p <= access.max; ++p)
            access_[worker_of(static_cast<uint16_t>(p))].push_back(static_cast<uint16_t>(p));
        const uint32_t first_even = (core.min + 1u) & ~1u;
        for (uint32_t p = first_even; p + 1 <= core.max; p += 2)
            core_[worker_of(static_cast<uint16_t>(p))].push_back(static_cast<uint16_t>(p));
        for (uint32_t w = 0; w < workers; ++w) {
            if (access_[w].empty() || core_[w].empty())
                throw std::invalid_argument("the port ranges leave worker " + std::to_string(w) +
                                            " without an access port or a core port pair");
        }
    }

    // An access port and a core pair of one worker; nullopt when every
    // worker has run out of one of them.
    std::optional<MediaLegs> allocate() {
        for (uint32_t i = 0; i < workers_; ++i) {
            const uint32_t w = next_;
            next_ = (next_ + 1) % workers_;
            if (access_[w].empty() || core_[w].empty()) continue;
            MediaLegs legs{access_[w].front(), core_[w].front(), w};
            access_[w].pop_front();
            core_[w].pop_front();
            ++in_use_;
            return legs;
        }
        return std::nullopt;
    }

    // An access port and a core pair of worker `w` (the other m= lines of
    // a call are on it: a BUNDLE's sessions must share their worker);
    // nullopt when it has run out of either.
    std::optional<MediaLegs> allocate_on(uint32_t w) {
        if (w >= workers_ || access_[w].empty() || core_[w].empty()) return std::nullopt;
        MediaLegs legs{access_[w].front(), core_[w].front(), w};
        access_[w].pop_front();
        core_[w].pop_front();
        ++in_use_;
        return legs;
    }
    void release(const MediaLegs& legs) {
        access_[legs.worker].push_back(legs.access);
        core_[legs.worker].push_back(legs.core);
        --in_use_;
    }

    // m= lines holding ports now.
    std::size_t in_use() const { return in_use_; }
    // How many more allocate() calls would succeed.
    std::size_t available() const {
        std::size_t n = 0;
        for (uint32_t w = 0; w < workers_; ++w)
            n += std::min(access_[w].size(), core_[w].size());
        return n;
    }
    uint32_t workers() const { return workers_; }
    uint32_t worker_of(uint16_t port) const { return (port / 2u) % workers_; }

  private:
    static void check(PortRange r, const char* which) {
        if (r.min == 0 || r.min > r.max)
            throw std::invalid_argument(std::string(which) +
                                        " port range must be min..max with 0 < min <= max");
    }

    uint32_t workers_;
    uint32_t next_ = 0;
    std::size_t in_use_ = 0;
    std::vector<std::deque<uint16_t>> access_;  // per worker
    std::vector<std::deque<uint16_t>> core_;    // per worker: even ports
};

}  // namespace isthmus::pcscf
