#include "srtp/engine.hpp"

#include <stdexcept>
#include <string>

#include "srtp/burst_scratch.hpp"
#include "srtp/imb.hpp"

namespace isthmus::srtp {

std::string_view arch_name(ImbArch arch) {
    switch (arch) {
        case ImbArch::Auto:
            return "auto";
        case ImbArch::Sse:
            return "sse";
        case ImbArch::Avx:
            return "avx";
        case ImbArch::Avx2:
            return "avx2";
        case ImbArch::Avx512:
            return "avx512";
    }
    return "?";
}

Engine::Engine(ImbArch arch) : scratch_(std::make_unique<detail::BurstScratch>()) {
    mgr_ = alloc_mb_mgr(0);
    if (mgr_ == nullptr) throw std::runtime_error("IPsec-MB: alloc_mb_mgr failed (out of memory)");
    switch (arch) {
        case ImbArch::Auto: {
            IMB_ARCH chosen = IMB_ARCH_NONE;
            init_mb_mgr_auto(mgr_, &chosen);
            switch (chosen) {
                case IMB_ARCH_AVX512:
                    arch_ = ImbArch::Avx512;
                    break;
                case IMB_ARCH_AVX2:
                    arch_ = ImbArch::Avx2;
                    break;
                case IMB_ARCH_AVX:
                    arch_ = ImbArch::Avx;
                    break;
                case IMB_ARCH_SSE:
                    arch_ = ImbArch::Sse;
                    break;
                default:
                    free_mb_mgr(mgr_);
                    mgr_ = nullptr;
                    throw std::runtime_error(
                        "IPsec-MB: this CPU has no SSE4.2/AES-NI manager (arch " +
                        std::to_string(static_cast<int>(chosen)) + ")");
            }
            break;
        }
        case ImbArch::Avx:
            init_mb_mgr_avx(mgr_);
            arch_ = arch;
            break;
        case ImbArch::Sse:
            init_mb_mgr_sse(mgr_);
            arch_ = arch;
            break;
        case ImbArch::Avx2:
            init_mb_mgr_avx2(mgr_);
            arch_ = arch;
            break;
        case ImbArch::Avx512:
            init_mb_mgr_avx512(mgr_);
            arch_ = arch;
            break;
    }
    if (const int err = imb_get_errno(mgr_); err != 0) {
        free_mb_mgr(mgr_);
        mgr_ = nullptr;
        throw std::runtime_error(std::string("IPsec-MB: cannot initialise the ") +
                                 std::string(arch_name(arch)) +
                                 " manager: " + imb_get_strerror(err));
    }

    // A multi-buffer manager gets an SSE companion for small chunks of
    // AES-CM packets (Engine::cm_mgr).
    if (arch_ != ImbArch::Sse) {
        lone_mgr_ = alloc_mb_mgr(0);
        if (lone_mgr_ != nullptr) {
            init_mb_mgr_sse(lone_mgr_);
            if (imb_get_errno(lone_mgr_) != 0) {
                free_mb_mgr(lone_mgr_);
                lone_mgr_ = nullptr;  // not fatal: the main manager does everything
            }
        }
    }
}

Engine::~Engine() {
    if (lone_mgr_ != nullptr) free_mb_mgr(lone_mgr_);
    if (mgr_ != nullptr) free_mb_mgr(mgr_);
}

}  // namespace isthmus::srtp
