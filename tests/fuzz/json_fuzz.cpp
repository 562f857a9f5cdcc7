// libFuzzer target for the WWSF's JSON reader, which takes every request
// body the WWSF gets: every input is parsed, an accepted object written back
// and parsed again, and the input itself quoted as a string value
// (json_fuzz_check.hpp). A broken property aborts with its description, so
// libFuzzer saves the input.
//
// Built and run by tests/fuzz/run_fuzz.sh json (clang, -fsanitize=fuzzer,
// address,undefined); CI replays the corpus and the saved crashes through
// the same check in the json-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "json_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string err = isthmus::wwsf::fuzz::check_input(input);
    if (!err.empty()) {
        std::fprintf(stderr, "json fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
