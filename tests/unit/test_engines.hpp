// The IPsec-MB managers tests run on: each one this CPU supports. A manager
// the CPU lacks is skipped with its reason (GTEST_SKIP), never passed.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "srtp/engine.hpp"

namespace isthmus::test {

inline constexpr srtp::ImbArch kTestArchs[] = {srtp::ImbArch::Sse, srtp::ImbArch::Avx2,
                                               srtp::ImbArch::Avx512};

inline std::string arch_param_name(const ::testing::TestParamInfo<srtp::ImbArch>& info) {
    return std::string(srtp::arch_name(info.param));
}

// Use in SetUp(): returns the engine, or marks the test skipped when the CPU
// cannot run this manager (the exception's message says why).
inline std::unique_ptr<srtp::Engine> make_engine_or_skip(srtp::ImbArch arch) {
    try {
        return std::make_unique<srtp::Engine>(arch);
    } catch (const std::runtime_error& e) {
        [&] { GTEST_SKIP() << e.what(); }();
        return nullptr;
    }
}

}  // namespace isthmus::test
