// libFuzzer target for the eP-CSCF's [pcscf] configuration loader (load_pcscf_text): any
// TOML text loads or throws the documented error naming its origin, the
// same way twice; the files it names are the test files of tests/fuzz/files
// (config_fuzz_check.hpp). A broken property aborts with its description,
// so libFuzzer saves the input.
//
// Built and run by tests/fuzz/run_fuzz.sh pcscf_config (clang,
// -fsanitize=fuzzer,address,undefined); CI replays the corpus and the saved
// crashes through the same check in the config-fuzz-regress gtest, without
// clang. $ISTHMUS_FUZZ_FILES overrides where the test files are.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config_fuzz_check.hpp"
#include "pcscf/daemon_config.hpp"

#ifndef ISTHMUS_FUZZ_DIR
#define ISTHMUS_FUZZ_DIR "tests/fuzz"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string files = [] {
        const char* env = std::getenv("ISTHMUS_FUZZ_FILES");
        return env != nullptr ? std::string(env)
                              : isthmus::config_fuzz::files_dir(ISTHMUS_FUZZ_DIR);
    }();
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string err = isthmus::config_fuzz::check_input<isthmus::pcscf::PcscfConfigError>(
        input, files, [](const std::string& text, const std::string& origin) {
            return isthmus::pcscf::load_pcscf_text(text, origin);
        });
    if (!err.empty()) {
        std::fprintf(stderr, "pcscf_config fuzz property broken: %s\n", err.c_str());
        std::abort();
    }
    return 0;
}
