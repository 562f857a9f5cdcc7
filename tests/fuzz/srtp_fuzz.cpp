// libFuzzer target for the SRTP / SRTCP transforms the relay runs on every
// received media payload: unprotect of arbitrary octets (a burst of two
// copies, a fresh key context, every suite, two IPsec-MB managers), and
// protect -> mutate -> unprotect of arbitrary plain packets
// (srtp_fuzz_check.hpp says what the first octet selects). A broken
// property aborts with its description, so libFuzzer saves the input.
//
// Built and run by tests/fuzz/run_fuzz.sh srtp (clang, -fsanitize=fuzzer,
// address,undefined; IPsec-MB itself is not instrumented); CI replays the
// corpus and the saved crashes through the same check in the
// srtp-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "srtp_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string err = isthmus::srtp::fuzz::check_input(std::span(data, size));
    if (!err.empty()) {
        std::fprintf(stderr, "srtp fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
