// libFuzzer target for the SDP parser: every input is parsed, and every
// accepted description must survive parse -> serialize -> parse, its typed
// values to_string -> parse, and the IMS-ALG's edits (sdp_fuzz_check.hpp).
// A broken property aborts with its description, so libFuzzer saves the
// input.
//
// Built and run by tests/fuzz/run_sdp_fuzz.sh (clang, -fsanitize=fuzzer,
// address,undefined); CI replays the corpus and the saved crashes through
// the same check in the sdp-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sdp_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string err = isthmus::sdp::fuzz::check_input(input);
    if (!err.empty()) {
        std::fprintf(stderr, "sdp fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
