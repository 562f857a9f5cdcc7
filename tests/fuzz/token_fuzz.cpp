// libFuzzer target for the registration token verifier the eP-CSCF runs on
// every REGISTER with a Bearer token: every input is verified as a token,
// signed with the test key as a payload and verified (and once more with a
// character changed), and run through the payload and base64url codecs
// (token_fuzz_check.hpp). A broken property aborts with its description,
// so libFuzzer saves the input.
//
// Built and run by tests/fuzz/run_fuzz.sh token (clang, -fsanitize=fuzzer,
// address,undefined); CI replays the corpus and the saved crashes through
// the same check in the token-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "token_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string err = isthmus::token::fuzz::check_input(input);
    if (!err.empty()) {
        std::fprintf(stderr, "token fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
