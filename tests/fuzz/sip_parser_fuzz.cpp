// libFuzzer target for the SIP message parser: every input is parsed as a
// datagram and as a stream, and every accepted message must survive
// parse -> serialize -> parse (sip_fuzz_check.hpp). A broken property
// aborts with its description, so libFuzzer saves the input.
//
// Built and run by tests/fuzz/run_sip_fuzz.sh (clang, -fsanitize=fuzzer,
// address,undefined); CI replays the corpus and the saved crashes through
// the same check in the sip-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sip_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string err = isthmus::sip::fuzz::check_input(input);
    if (!err.empty()) {
        std::fprintf(stderr, "sip fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
