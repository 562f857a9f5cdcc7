// libFuzzer target for what the relay runs on every received frame before
// any crypto: the Ethernet / IPv4 / IPv6 / UDP parser (with and without the
// NIC's checksum flags), the RFC 7983 demux, the RTP / RTCP header readers
// of the SRTP transforms, and the reply headers written for the way back
// (pkt_fuzz_check.hpp). A broken property aborts with its description, so
// libFuzzer saves the input.
//
// Built and run by tests/fuzz/run_fuzz.sh pkt (clang, -fsanitize=fuzzer,
// address,undefined); CI replays the corpus and the saved crashes through
// the same check in the pkt-fuzz-regress gtest, without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "pkt_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string err = isthmus::pkt::fuzz::check_input(std::span(data, size));
    if (!err.empty()) {
        std::fprintf(stderr, "pkt fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
