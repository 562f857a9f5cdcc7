// libFuzzer target for what the dataplane does with the dpif Commands it
// pops from the command ring: the main lcore's CommandService, the owning
// worker's SessionTable create / update / delete, the Results back through
// the service and their log lines (dpif_fuzz_check.hpp). The input is one
// or more 1088-octet Commands (the last padded with zeros), every field the
// input's. A broken property aborts with its description, so libFuzzer
// saves the input.
//
// Built and run by tests/fuzz/run_fuzz.sh dpif (clang, -fsanitize=fuzzer,
// address,undefined); CI replays the corpus and the saved crashes through
// the same check in the dpif-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "dpif_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string err = isthmus::dataplane::fuzz::check_input(std::span(data, size));
    if (!err.empty()) {
        std::fprintf(stderr, "dpif fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
