// libFuzzer target for DCEP (RFC 8832), what the slow path reads from every
// data channel message of PPID 50 a browser sends: parse_dcep, and
// write_open / write_ack on what it reads and on OpenMessages made of the
// input (dcep_fuzz_check.hpp). A broken property aborts with its
// description, so libFuzzer saves the input.
//
// Built and run by tests/fuzz/run_fuzz.sh dcep (clang, -fsanitize=fuzzer,
// address,undefined); CI replays the corpus and the saved crashes through
// the same check in the dcep-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "dcep_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string err = isthmus::datachannel::fuzz::check_input(std::span(data, size));
    if (!err.empty()) {
        std::fprintf(stderr, "dcep fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
