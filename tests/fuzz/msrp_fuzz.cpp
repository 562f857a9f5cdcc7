// libFuzzer target for the MSRP message layer the chat relay runs on every
// octet a peer sends (RFC 4975): parse_message, the StreamFramer fed the
// same octets whole, in pieces the input sizes and octet by octet, the
// serializer, URIs and paths, and the responses, REPORTs and relayed
// requests made from what was accepted (msrp_fuzz_check.hpp). A broken
// property aborts with its description, so libFuzzer saves the input.
//
// Built and run by tests/fuzz/run_fuzz.sh msrp (clang, -fsanitize=fuzzer,
// address,undefined); CI replays the corpus and the saved crashes through
// the same check in the msrp-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "msrp_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string err = isthmus::msrp::fuzz::check_input(std::span(data, size));
    if (!err.empty()) {
        std::fprintf(stderr, "msrp fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
