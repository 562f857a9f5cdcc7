// libFuzzer target for the STUN parser and the ICE-lite binding responder
// the worker runs on every STUN payload: every input is parsed, decoded,
// verified and answered (into another buffer, in place, and with too
// little room), as received and re-signed with the RFC 5769 password
// (stun_fuzz_check.hpp). A broken property aborts with its description, so
// libFuzzer saves the input.
//
// Built and run by tests/fuzz/run_fuzz.sh stun (clang, -fsanitize=fuzzer,
// address,undefined); CI replays the corpus and the saved crashes through
// the same check in the stun-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "stun_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string err = isthmus::ice::fuzz::check_input(std::span(data, size));
    if (!err.empty()) {
        std::fprintf(stderr, "stun fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
