// One SRTP crypto engine per worker lcore: an Intel IPsec-MB manager, the
// scratch space of one burst, and the per-status counters.
//
// Thread-safety: an Engine belongs to one thread. Contexts whose keys were
// set up with an Engine must be used with that Engine only (IPsec-MB lays
// out precomputed GCM keys differently per architecture).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "srtp/status.hpp"

struct IMB_MGR;

namespace isthmus::srtp {

// Which IPsec-MB manager to run. The multi-buffer managers (AVX2, AVX-512)
// hash many packets at once and shine with full bursts; the SSE manager uses
// SHA-NI one packet at a time and wins for lone packets (see
// docs/performance.md for the figures on this machine).
enum class ImbArch : uint8_t { Auto, Sse, Avx, Avx2, Avx512 };

std::string_view arch_name(ImbArch arch);

// Largest number of packets the transforms hand to IPsec-MB at once; larger
// spans are processed in chunks of this size.
inline constexpr std::size_t kMaxBurst = 64;

// Chunks of fewer packets than this send AES-CM jobs to the SSE manager (see
// Engine::cm_mgr); measured crossover in docs/performance.md.
inline constexpr std::size_t kDefaultSmallBurst = 16;

namespace detail {
struct BurstScratch;
}

class Engine {
  public:
    // Allocates and initialises the manager. Throws std::runtime_error naming
    // the cause when the CPU lacks the instructions the architecture needs or
    // IPsec-MB cannot be initialised (setup path, never the fast path).
    explicit Engine(ImbArch arch = ImbArch::Auto);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // The architecture actually initialised (never Auto).
    ImbArch arch() const { return arch_; }
    IMB_MGR* mgr() const { return mgr_; }

    // The manager for AES-CM + HMAC-SHA1 jobs of a chunk of `n` packets.
    // A multi-buffer manager hashes 8 or 16 packets at once and is 3x slower
    // than the SSE manager (SHA-NI) when it must flush a nearly empty batch,
    // so small chunks go to a second, SSE manager (docs/performance.md).
    // AES and HMAC key schedules are the same for every manager; GCM keys
    // are not, so GCM jobs always use mgr().
    IMB_MGR* cm_mgr(std::size_t n) const {
        return (lone_mgr_ != nullptr && n < small_burst_) ? lone_mgr_ : mgr_;
    }
    // Chunks below this many packets use the SSE manager for AES-CM (0: never).
    void set_small_burst(std::size_t n) { small_burst_ = n; }
    std::size_t small_burst() const { return small_burst_; }
    // The SSE manager of small chunks, or nullptr when mgr() is SSE already.
    IMB_MGR* lone_mgr() const { return lone_mgr_; }

    Counters& counters() { return counters_; }
    const Counters& counters() const { return counters_; }

    // Whether jobs are validated by IPsec-MB before running (default true).
    // Off saves a few ns per packet; the transforms already build only
    // valid jobs, and the tests run with checks on.
    void set_job_checks(bool on) { job_checks_ = on; }
    bool job_checks() const { return job_checks_; }

    detail::BurstScratch& scratch() { return *scratch_; }

  private:
    IMB_MGR* mgr_ = nullptr;
    IMB_MGR* lone_mgr_ = nullptr;
    std::size_t small_burst_ = kDefaultSmallBurst;
    ImbArch arch_ = ImbArch::Auto;
    bool job_checks_ = true;
    Counters counters_;
    std::unique_ptr<detail::BurstScratch> scratch_;
};

}  // namespace isthmus::srtp
