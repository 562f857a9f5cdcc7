// The floor: a raw Intel IPsec-MB loop that runs only the cipher and
// authentication jobs an SRTP/SRTCP transform needs for the same packets and
// burst size (AES-CTR + HMAC-SHA1 with 20-octet output, or AES-GCM), with no
// header parsing, key lookup, replay check, tag compare or trailer layout.
// Whatever the engine does beyond this is its overhead.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "srtp/engine.hpp"
#include "srtp/suite.hpp"
#include "srtp_harness.hpp"

namespace isthmus::bench {

// Runs `burst` jobs per iteration on a manager of `arch` (Auto: IPsec-MB's
// own choice), submitted with IMB_SUBMIT_JOB (job_checks, the engine's
// default) or IMB_SUBMIT_JOB_NOCHECK. Unprotect variants copy the packets from
// a ring into the working buffers first, exactly as the engine's unprotect
// benches do.
void bench_floor(benchmark::State& state, BenchOp op, srtp::Suite suite, uint32_t size,
                 srtp::ImbArch arch, std::size_t burst, bool job_checks);

// The manager init_mb_mgr_auto() picks on this CPU ("avx512", "sse", ...).
std::string floor_auto_arch();

}  // namespace isthmus::bench
