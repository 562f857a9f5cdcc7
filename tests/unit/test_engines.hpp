// The IPsec-MB managers tests run on: each one this CPU supports. A manager
// the CPU lacks is skipped with its reason (GTEST_SKIP), never passed.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "srtp/engine.hpp"

namespace isthmus::test {

inline constexpr srtp::ImbArch kTestArchs[] = {srtp::ImbArch::Sse, srtp::ImbArch::Avx,
                                               srtp::ImbArch::Avx2, srtp::ImbArch::Avx512};

inline std::string arch_param_name(const ::testing::TestParamInfo<srtp::ImbArch>& info) {
    return std::string(srtp::arch_name(info.param));
}

// Whether the CPU has the instructions IPsec-MB's manager needs.
inline bool cpu_supports(srtp::ImbArch arch) {
    __builtin_cpu_init();
    const bool aes = __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
    switch (arch) {
        case srtp::ImbArch::Sse:
            return aes && __builtin_cpu_supports("sse4.2");
        case srtp::ImbArch::Avx:
            return aes && __builtin_cpu_supports("avx");
        case srtp::ImbArch::Avx2:
            return aes && __builtin_cpu_supports("avx2");
        case srtp::ImbArch::Avx512:
            return aes && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512cd");
        case srtp::ImbArch::Auto:
            return true;
    }
    return false;
}

// Use in SetUp(): returns the engine; marks the test skipped when the CPU
// lacks the manager's instructions, failed when it has them but the manager
// does not start.
inline std::unique_ptr<srtp::Engine> make_engine_or_skip(srtp::ImbArch arch) {
    if (!cpu_supports(arch)) {
        [&] {
            GTEST_SKIP() << "CPU lacks the instructions of the " << srtp::arch_name(arch)
                         << " manager";
        }();
        return nullptr;
    }
    try {
        return std::make_unique<srtp::Engine>(arch);
    } catch (const std::runtime_error& e) {
        // A fatal failure in SetUp keeps the test body from running.
        [&] {
            FAIL() << "the " << srtp::arch_name(arch) << " manager did not start: " << e.what();
        }();
        return nullptr;
    }
}

}  // namespace isthmus::test
