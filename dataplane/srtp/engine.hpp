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
enum class ImbArch : uint8_t { Auto, Sse, Avx2, Avx512 };

std::string_view arch_name(ImbArch arch);

// Largest number of packets the transforms hand to IPsec-MB at once; larger
// spans are processed in chunks of this size.
inline constexpr std::size_t kMaxBurst = 64;

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
    ImbArch arch_ = ImbArch::Auto;
    bool job_checks_ = true;
    Counters counters_;
    std::unique_ptr<detail::BurstScratch> scratch_;
};

}  // namespace isthmus::srtp
